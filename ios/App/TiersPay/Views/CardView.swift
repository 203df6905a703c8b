import SwiftUI
import TiersPayKit

/// The virtual card: its public facts (offline), freeze, a one-time reveal for manual entry,
/// and "Add to Apple Wallet". The card, freeze and the wallet are the core's flow
/// (`AddToWalletModel`, `core/src/app/flows/wallet.rs`): whether the button shows (not for a
/// frozen card), the steps, the card read again after the sheet. The full number only lives in
/// `revealed`, dropped when the screen goes away or after 60 s.
struct CardScreen: View {
    let service: any CardService
    let events: () -> AsyncStream<SessionEvent>
    @StateObject private var wallet: ScreenFlow<AddToWalletModel>
    @State private var revealed: CardDetails?
    @State private var revealing = false
    @State private var error: TiersPayError?
    private let language = Language.preferred()

    init(service: any CardService, wallet: @escaping () -> AddToWalletModel, events: @escaping () -> AsyncStream<SessionEvent>) {
        self.service = service
        self.events = events
        _wallet = StateObject(wrappedValue: ScreenFlow(wallet()))
    }

    var body: some View {
        List {
            if let state = wallet.state, let card = state.card {
                Section {
                    LabeledContent("Card", value: "\(card.brand.uppercased()) \(card.maskedNumber)")
                    LabeledContent("Expires", value: card.expiry)
                    LabeledContent("Status", value: card.frozen ? "Frozen" : Self.label(card.status))
                    Toggle("Frozen", isOn: Binding(get: { card.frozen }, set: { freeze in setFrozen(freeze) }))
                        .disabled(state.isFreezing || revealing)
                }
                Section("Details") {
                    if let revealed {
                        LabeledContent("Number", value: revealed.groupedNumber).textSelection(.enabled)
                        LabeledContent("Expires", value: revealed.expiry)
                        LabeledContent("Security code", value: revealed.cvc)
                        Button("Hide") { self.revealed = nil }
                    } else {
                        Button("Show number") { Task { await reveal() } }.disabled(revealing)
                    }
                }
                Section("Apple Pay") { walletRow(state) }
                if !card.controls.isEmpty {
                    Section("Where it works") {
                        ForEach(card.controls, id: \.self) { Text($0.text(in: language)) }
                    }
                }
            } else if wallet.state?.isLoading ?? true {
                ProgressView()
            } else {
                Text("Your card will appear here once it is issued.")
            }
            if let message = error?.message ?? wallet.state?.error?.message {
                Text(message).foregroundStyle(.red)
            }
        }
        .navigationTitle("Card")
        .privacySensitive()
        .onDisappear {
            revealed = nil
            wallet.flow.cancel()
        }
        .refreshable { wallet.flow.refresh() }
        .task {
            wallet.flow.start()
            await wallet.follow()
        }
        .task {
            // Refreshes from elsewhere (a token activated, the card frozen) redraw the screen.
            await wallet.flow.observe(events())
        }
        .task(id: revealed) {
            guard revealed != nil else { return }
            try? await Task.sleep(nanoseconds: 60_000_000_000)
            revealed = nil
        }
    }

    /// What the core says of the wallet: the button when it shows, else why not.
    @ViewBuilder private func walletRow(_ state: WalletFlowSnapshot) -> some View {
        if state.showsAdd {
            if state.isBusy {
                ProgressView()
            } else if PassKitWallet.isAvailable {
                AddToAppleWalletButton { wallet.flow.add() }.frame(height: 48).disabled(!state.canAdd)
            } else {
                Text("This iPhone cannot add cards to Apple Wallet.")
            }
        } else {
            switch state.availability {
            case .noCard, .notEligible, .ready:
                Text("This card cannot be added to Apple Wallet.")
            case .inactive:
                Text("Unfreeze the card to add it to Apple Wallet.")
            case let .inWallet(status):
                LabeledContent("In Apple Wallet", value: Self.label(status))
            }
        }
    }

    private func setFrozen(_ freeze: Bool) {
        if freeze { revealed = nil }
        error = nil
        wallet.flow.setFrozen(freeze)
    }

    private func reveal() async {
        revealing = true
        defer { revealing = false }
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
