import SwiftUI
import TiersPayKit

/// The virtual card: its public facts (offline), freeze, a one-time reveal for manual entry,
/// and "Add to Apple Wallet". The full number only lives in `revealed`, dropped when the
/// screen goes away or after 60 s.
struct CardScreen: View {
    let service: any CardService
    let events: () -> AsyncStream<SessionEvent>
    @StateObject private var wallet: AddToWalletModel
    @State private var card: CardInfo?
    @State private var revealed: CardDetails?
    @State private var busy = false
    @State private var error: TiersPayError?
    private let language = Language.preferred()

    init(service: any CardService, cardholderName: String, events: @escaping () -> AsyncStream<SessionEvent>) {
        self.service = service
        self.events = events
        _wallet = StateObject(wrappedValue: AddToWalletModel(service: service, wallet: PassKitWallet(), cardholderName: cardholderName))
    }

    var body: some View {
        List {
            if let card {
                Section {
                    LabeledContent("Card", value: "\(card.brand.uppercased()) \(card.maskedNumber)")
                    LabeledContent("Expires", value: card.expiry)
                    LabeledContent("Status", value: card.frozen ? "Frozen" : Self.label(card.status))
                    Toggle("Frozen", isOn: Binding(get: { card.frozen }, set: { freeze in Task { await setFrozen(freeze) } }))
                        .disabled(busy)
                }
                Section("Details") {
                    if let revealed {
                        LabeledContent("Number", value: revealed.groupedNumber).textSelection(.enabled)
                        LabeledContent("Expires", value: revealed.expiry)
                        LabeledContent("Security code", value: revealed.cvc)
                        Button("Hide") { self.revealed = nil }
                    } else {
                        Button("Show number") { Task { await reveal() } }.disabled(busy)
                    }
                }
                Section("Apple Pay") { walletRow }
                if !card.controls.isEmpty {
                    Section("Where it works") {
                        ForEach(card.controls, id: \.self) { Text($0.text(in: language)) }
                    }
                }
            } else {
                Text("Your card will appear here once it is issued.")
            }
            if let error {
                Text(error.message).foregroundStyle(.red)
            }
        }
        .navigationTitle("Card")
        .privacySensitive()
        .onAppear { load() }
        .onDisappear { revealed = nil }
        .refreshable { await refresh() }
        .task {
            // Refreshes from elsewhere (a token activated, the card frozen) redraw the screen.
            for await event in events() where event == .cardUpdated { load() }
        }
        .task(id: revealed) {
            guard revealed != nil else { return }
            try? await Task.sleep(nanoseconds: 60_000_000_000)
            revealed = nil
        }
    }

    @ViewBuilder private var walletRow: some View {
        switch wallet.state.phase {
        case .noCard, .notEligible:
            Text("This card cannot be added to Apple Wallet.")
        case .frozen:
            Text("Unfreeze the card to add it to Apple Wallet.")
        case .ready, .failed:
            if PassKitWallet.isAvailable {
                AddToAppleWalletButton { Task { await wallet.add() } }.frame(height: 48)
            } else {
                Text("This iPhone cannot add cards to Apple Wallet.")
            }
            if case let .failed(error) = wallet.state.phase { Text(error.message).foregroundStyle(.red) }
        case .adding:
            ProgressView()
        case let .inWallet(status):
            LabeledContent("In Apple Wallet", value: Self.label(status))
        }
    }

    private func load() {
        do { card = try service.card() } catch { self.error = error }
        wallet.load()
    }

    private func refresh() async {
        do { card = try await service.refreshCard(); error = nil } catch { self.error = error }
        wallet.load()
    }

    private func setFrozen(_ freeze: Bool) async {
        busy = true
        defer { busy = false }
        do {
            if freeze {
                card = try await service.freezeCard()
                revealed = nil
            } else {
                card = try await service.unfreezeCard()
            }
            error = nil
        } catch {
            self.error = error
        }
        wallet.load()
    }

    private func reveal() async {
        busy = true
        defer { busy = false }
        do { revealed = try await service.revealCard(); error = nil } catch { self.error = error }
    }

    static func label(_ status: CardInfo.Status) -> String {
        switch status {
        case .active: return "Active"
        case .inactive: return "Inactive"
        case .canceled: return "Canceled"
        case .other: return "Other"
        }
    }

    static func label(_ status: CardToken.Status) -> String {
        switch status {
        case .requested: return "Activating…"
        case .active: return "Active"
        case .suspended: return "Paused while the card is frozen"
        case .deleted: return "Removed"
        case .other: return "Other"
        }
    }
}
