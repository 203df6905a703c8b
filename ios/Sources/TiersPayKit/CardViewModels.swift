import Foundation
#if canImport(Combine)
import Combine
#endif

/// PassKit's add-payment-pass sheet, as the shell sees it (`PKAddPaymentPassViewController` on
/// iOS, a simulated wallet in tests): it asks `provisioning` once with its certificates, nonce
/// and nonce signature, and adds the pass it gets back. Errors of the exchange come back as
/// they are.
public protocol PaymentPassAdding: Sendable {
    func addPaymentPass(card: CardInfo, cardholderName: String, provisioning: any PaymentPassProvisioning) async throws(TiersPayError) -> PaymentPassAddOutcome
}

public enum PaymentPassAddOutcome: Equatable, Sendable {
    case added
    /// The member closed the sheet; nothing changed.
    case cancelled
}

/// What the "Add to Apple Wallet" area shows. Pure: the phase is derived from the card and from
/// what is under way.
public struct AddToWalletViewState: Equatable, Sendable {
    public enum Phase: Equatable, Sendable {
        /// No card synced yet.
        case noCard
        /// The issuer does not allow Apple Pay for this card.
        case notEligible
        /// Frozen: unfreeze it first (the issuer refuses with `card_inactive`).
        case frozen
        /// Show the "Add to Apple Wallet" button.
        case ready
        /// The wallet's sheet is up and the exchange under way.
        case adding
        /// In Apple Pay on some device, with its token's status (requested until the issuer
        /// activates it, suspended while the card is frozen).
        case inWallet(CardToken.Status)
        /// The last attempt failed; the button shows again with the message.
        case failed(TiersPayError)
    }

    public private(set) var card: CardInfo?
    public private(set) var isAdding = false
    public private(set) var error: TiersPayError?

    public init(card: CardInfo? = nil) { self.card = card }

    public var phase: Phase {
        if isAdding { return .adding }
        guard let card else { return error.map(Phase.failed) ?? .noCard }
        if let token = card.tokens(in: .applePay).first(where: { $0.status != .deleted }) { return .inWallet(token.status) }
        if let error { return .failed(error) }
        if !card.applePayEligible { return .notEligible }
        if card.frozen || card.status != .active { return .frozen }
        return .ready
    }

    /// The button shows (ready, or again after a failure).
    public var canAdd: Bool {
        switch phase {
        case .ready: return true
        case .failed: return card.map { $0.applePayEligible && !$0.frozen && $0.status == .active && !$0.inApplePay } ?? false
        default: return false
        }
    }

    mutating func loaded(_ card: CardInfo?) { self.card = card }
    mutating func started() { isAdding = true; error = nil }
    mutating func finished(_ card: CardInfo?) { isAdding = false; if let card { self.card = card } }
    mutating func failed(_ error: TiersPayError) { isAdding = false; self.error = error }
}

/// Drives "Add to Apple Wallet": the card's state, the wallet's sheet, the card read again after.
@MainActor
public final class AddToWalletModel {
    public private(set) var state = AddToWalletViewState() {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    private let service: any CardService
    private let wallet: any PaymentPassAdding
    private let cardholderName: String

    public init(service: any CardService, wallet: any PaymentPassAdding, cardholderName: String) {
        self.service = service
        self.wallet = wallet
        self.cardholderName = cardholderName
    }

    /// Reads the card as last synced (offline).
    public func load() {
        do { state.loaded(try service.card()) } catch { state.failed(error) }
    }

    /// Fetches the card again (a `cardUpdated` event or pull to refresh).
    public func refresh() async {
        do { state.loaded(try await service.refreshCard()) } catch { state.failed(error) }
    }

    /// Opens the wallet's sheet; on success the card is read again, with its new token.
    public func add() async {
        guard state.canAdd, let card = state.card else { return }
        state.started()
        do {
            switch try await wallet.addPaymentPass(card: card, cardholderName: cardholderName, provisioning: service) {
            case .added:
                // The new token is there whatever the network does next: fall back on the local copy.
                let fresh: CardInfo?
                do { fresh = try await service.refreshCard() } catch { fresh = try? service.card() }
                state.finished(fresh)
            case .cancelled:
                state.finished(nil)
            }
        } catch {
            state.failed(error)
        }
    }

    /// Follows `cardUpdated` until the stream ends (run it in a `.task`).
    public func observe(_ events: AsyncStream<SessionEvent>) async {
        for await event in events where event == .cardUpdated {
            load()
        }
    }
}

#if canImport(Combine)
extension AddToWalletModel: ObservableObject {}
#endif
