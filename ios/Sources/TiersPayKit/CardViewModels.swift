import Foundation
internal import TiersPayCore

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

/// The card screen's wallet area as the core's `WalletFlow` sends it. Every decision (whether
/// "Add to Apple Wallet" shows and is enabled, the steps of an attempt, the card read again
/// after every result, retry, stale answers) is the core's, in `core/src/app/flows/wallet.rs`;
/// this is its state in the shell's models.
public struct WalletFlowSnapshot: Equatable, Sendable {
    public typealias FailureKind = FlowFailureKind

    /// Whether the wallet may add the card, and why not.
    public enum Availability: Equatable, Sendable {
        /// No card synced yet.
        case noCard
        /// The issuer does not allow Apple Pay for this card.
        case notEligible
        /// Frozen or canceled: unfreeze it first.
        case inactive
        /// In Apple Pay on some device, with its token's status (requested until the issuer
        /// activates it, suspended while the card is frozen).
        case inWallet(CardToken.Status)
        /// The add button shows.
        case ready
    }

    /// Where an attempt stands.
    public enum Step: Equatable, Sendable {
        case idle
        /// PassKit's sheet is up, waiting for its certificates and nonce.
        case presentingSheet
        /// Google Pay only.
        case readingWallet
        /// The issuer is asked for the pass.
        case callingIssuer
        /// PassKit has the pass and shows its own screens.
        case handingToWallet
        /// The wallet finished: the card is read again.
        case refreshing
    }

    /// How the last attempt ended.
    public enum Outcome: Equatable, Sendable {
        case added, alreadyAdded, inProgress, suspended
        /// The member backed out of the wallet's sheet.
        case canceled
    }

    /// The error shown above the button.
    public struct Failure: Equatable, Sendable {
        public var message: String
        public var kind: FailureKind
        /// The server's code for a refusal (`card_inactive`, `certificate_chain_invalid`, …).
        public var code: String?
        /// PassKit failed, not the core.
        public var isPlatform: Bool
    }

    /// Grows with every change; the model keeps the newest.
    public var revision: UInt64
    public var isLoading: Bool
    /// Nil before a card was issued (or read).
    public var card: CardInfo?
    public var isRefreshing: Bool
    public var isFreezing: Bool
    public var availability: Availability
    /// The add button shows (the core hides it for a frozen, ineligible or added card).
    public var showsAdd: Bool
    /// The add button is enabled.
    public var canAdd: Bool
    /// An attempt is under way (the wallet's sheet may be up).
    public var isBusy: Bool
    public var step: Step
    public var outcome: Outcome?
    public var error: Failure?
}

extension WalletFlowSnapshot {
    init(_ s: TiersPayCore.WalletFlowState) {
        let availability: Availability
        switch s.availability {
        case .noCard: availability = .noCard
        case .notEligible: availability = .notEligible
        case .inactive: availability = .inactive
        case let .inWallet(status):
            switch status {
            case .requested: availability = .inWallet(.requested)
            case .active: availability = .inWallet(.active)
            case .suspended: availability = .inWallet(.suspended)
            case .unknown: availability = .inWallet(.other)
            }
        case .ready: availability = .ready
        }
        let step: Step
        switch s.step {
        case .idle: step = .idle
        case .presentingSheet: step = .presentingSheet
        case .readingWallet: step = .readingWallet
        case .callingIssuer: step = .callingIssuer
        case .handingToWallet: step = .handingToWallet
        case .refreshing: step = .refreshing
        }
        let outcome: Outcome?
        switch s.outcome {
        case nil: outcome = nil
        case .added: outcome = .added
        case .alreadyAdded: outcome = .alreadyAdded
        case .inProgress: outcome = .inProgress
        case .suspended: outcome = .suspended
        case .canceled: outcome = .canceled
        }
        self.init(
            revision: s.revision, isLoading: s.loading, card: s.card.map(CardInfo.init), isRefreshing: s.refreshing, isFreezing: s.freezing,
            availability: availability, showsAdd: s.showsAdd, canAdd: s.canAdd, isBusy: s.busy, step: step, outcome: outcome,
            error: s.error.map {
                Failure(message: $0.message, kind: FailureKind($0.kind), code: $0.code.map { errorCodeText(code: $0) }, isPlatform: $0.platform)
            }
        )
    }
}

/// "Add to Apple Wallet" over the core's `WalletFlow`: its states as an `AsyncStream` (and the
/// newest in `state`), the member's intents forwarded, and the flow's PassKit requests answered
/// with the platform's sheet (`PaymentPassAdding`): the sheet's certificates and nonce go to the
/// core, the core's pass (or its refusal) back to the sheet, the sheet's end to the core.
/// Decides nothing.
public final class AddToWalletModel: @unchecked Sendable {
    // @unchecked: the flow is a thread-safe core object; the listener locks what it keeps.
    private let flow: TiersPayCore.WalletFlow
    private let listener: WalletFlowListener

    /// Every state the core sends, in revision order.
    public let states: AsyncStream<WalletFlowSnapshot>

    init(core: TiersPayCore.TiersPay, wallet: any PaymentPassAdding, cardholderName: String) {
        let (stream, continuation) = AsyncStream.makeStream(of: WalletFlowSnapshot.self, bufferingPolicy: .bufferingNewest(64))
        states = stream
        listener = WalletFlowListener(continuation, wallet: wallet, cardholderName: cardholderName)
        flow = core.walletFlow(wallet: .applePay, listener: listener)
        listener.flow = flow
        if let first = flow.state() { listener.onState(state: first) }
    }

    deinit { listener.finish() }

    /// The newest state.
    public var state: WalletFlowSnapshot? { listener.latest }

    /// Reads the card (offline), then fetches it.
    public func start() { flow.start() }
    /// Fetches the card again (pull to refresh); the cached card stays meanwhile.
    public func refresh() { flow.refresh() }
    /// The card changed on the phone (`cardUpdated`): read it again, offline.
    public func reload() { flow.reload() }
    /// The frozen switch.
    public func setFrozen(_ frozen: Bool) { flow.setFrozen(frozen: frozen) }
    /// "Add to Apple Wallet".
    public func add() { flow.add() }
    public func dismissError() { flow.dismissError() }
    /// The screen goes away: the attempt under way is forgotten (a sheet still waiting for the
    /// pass is answered empty, so it closes).
    public func cancel() {
        flow.cancel()
        listener.dropPending()
    }

    /// Forwards `cardUpdated` until the stream ends (run it in a `.task`).
    public func observe(_ events: AsyncStream<SessionEvent>) async {
        for await event in events where event == .cardUpdated { flow.reload() }
    }
}

extension AddToWalletModel: FlowModel {}

/// Called on a core thread (or the caller's): keeps the newest revision, feeds the stream, and
/// makes the PassKit calls the flow asks for.
private final class WalletFlowListener: WalletListener, @unchecked Sendable {
    private let lock = NSLock()
    private var newest: WalletFlowSnapshot?
    /// PassKit's delegate waiting for the core's pass, by request.
    private var pending: [UInt64: CheckedContinuation<Result<PaymentPassRequestData, TiersPayError>, Never>] = [:]
    private let continuation: AsyncStream<WalletFlowSnapshot>.Continuation
    private let wallet: any PaymentPassAdding
    private let cardholderName: String
    /// Set right after the flow is made (the flow holds this listener, not the reverse).
    weak var flow: TiersPayCore.WalletFlow?

    init(_ continuation: AsyncStream<WalletFlowSnapshot>.Continuation, wallet: any PaymentPassAdding, cardholderName: String) {
        self.continuation = continuation
        self.wallet = wallet
        self.cardholderName = cardholderName
    }

    var latest: WalletFlowSnapshot? { lock.withLock { newest } }

    func finish() {
        dropPending()
        continuation.finish()
    }

    func onState(state: TiersPayCore.WalletFlowState) {
        let snapshot = WalletFlowSnapshot(state)
        let fresh: Bool = lock.withLock {
            guard newest.map({ snapshot.revision > $0.revision }) ?? true else { return false }
            newest = snapshot
            return true
        }
        if fresh { continuation.yield(snapshot) }
    }

    func onRequest(request: TiersPayCore.WalletRequest) {
        switch request {
        case let .presentPassSheet(request, card):
            let (wallet, name, shown) = (wallet, cardholderName, CardInfo(card))
            Task { [weak self] in
                let provisioning = SheetExchange(request: request, listener: self)
                let result: Result<PaymentPassAddOutcome, TiersPayError>
                do throws(TiersPayError) {
                    result = .success(try await wallet.addPaymentPass(card: shown, cardholderName: name, provisioning: provisioning))
                } catch {
                    result = .failure(error)
                }
                guard let flow = self?.flow else { return }
                switch result {
                case .success(.added): flow.walletFinished(request: request, result: .added)
                case .success(.cancelled): flow.walletFinished(request: request, result: .canceled)
                // After the core's own refusal this is dropped: the core already shows it.
                case let .failure(error): flow.walletFailed(request: request, message: error.message)
                }
            }
        case let .handPassToWallet(request, data):
            resume(request, with: .success(PaymentPassRequestData(data)))
        case let .closeWallet(request):
            // The core refused (its error is in the state): PassKit's request is completed empty.
            let refusal = latest?.error
            let kind: TiersPayError.Kind = refusal?.code.map { .rejected(code: $0) } ?? .platform
            resume(request, with: .failure(TiersPayError(kind: kind, message: refusal?.message ?? "The card could not be added.")))
        case let .readGoogleWallet(request), let .pushTokenize(request, _), let .resumeToken(request, _), let .awaitRestored(request):
            // Never asked of an Apple Pay flow.
            flow?.walletFailed(request: request, message: "Google Pay is not on this phone.")
        }
    }

    /// PassKit's delegate asks for the pass: to the core, then wait for its answer.
    func passRequested(_ request: UInt64, certificates: [Data], nonce: Data, nonceSignature: Data) async -> Result<PaymentPassRequestData, TiersPayError> {
        guard let flow else { return .failure(Self.gone) }
        return await withCheckedContinuation { continuation in
            lock.withLock { pending[request] = continuation }
            flow.passRequested(request: request, certificates: certificates, nonce: nonce, nonceSignature: nonceSignature)
        }
    }

    private func resume(_ request: UInt64, with result: Result<PaymentPassRequestData, TiersPayError>) {
        let waiting = lock.withLock { pending.removeValue(forKey: request) }
        waiting?.resume(returning: result)
    }

    /// The attempt was forgotten: sheets still waiting for a pass are answered empty.
    func dropPending() {
        let waiting = lock.withLock {
            let all = pending
            pending = [:]
            return all
        }
        for continuation in waiting.values { continuation.resume(returning: .failure(Self.gone)) }
    }

    private static let gone = TiersPayError(kind: .platform, message: "The card screen went away.")
}

/// What the sheet's delegate calls (`PaymentPassProvisioning`), for one request of the flow.
private struct SheetExchange: PaymentPassProvisioning, @unchecked Sendable {
    let request: UInt64
    weak var listener: WalletFlowListener?

    func applePayPassData(certificates: [Data], nonce: Data, nonceSignature: Data) async throws(TiersPayError) -> PaymentPassRequestData {
        guard let listener else { throw TiersPayError(kind: .platform, message: "The card screen went away.") }
        return try await listener.passRequested(request, certificates: certificates, nonce: nonce, nonceSignature: nonceSignature).get()
    }
}
