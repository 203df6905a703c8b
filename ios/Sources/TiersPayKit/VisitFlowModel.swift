import Foundation
internal import TiersPayCore

/// The visit screen's state as the core's `VisitFlow` sends it. The state machine (steps, back,
/// new visit, change act, filters, stale answers, which field an error belongs to) lives in the
/// core, in `core/src/app/flows/visit.rs`; this is its state in the shell's models.
public struct VisitFlowSnapshot: Equatable, Sendable {
    public typealias FailureKind = FlowFailureKind

    /// The step shown: the first thing still missing (the core decides).
    public enum Step: Equatable, Sendable {
        /// Reading the contract data on the phone (or downloading it the very first time).
        case loading
        case beneficiary
        case provider
        case act
        case amount
        /// The three amounts, deductions and explanations; the server's check below them.
        case result
        /// The card is armed for this visit: `payment.visit` with its countdown and cancel.
        case armed
        /// The visit ended: paid, canceled, expired or reversed.
        case finished
    }

    /// Where an error is shown.
    public enum Field: Equatable, Hashable, Sendable {
        case beneficiary, search, provider, scan, act, price, date, paymentMethod
        /// Not tied to one field: a banner above the form.
        case form
    }

    public struct FieldError: Equatable, Sendable {
        public var field: Field
        public var message: String
        public var kind: FailureKind
    }

    /// The server's word on the figures shown.
    public enum Check: Equatable, Sendable {
        case checking
        case confirmed(serverPreviewId: String)
        case changed(PreviewCheck)
        case unavailable(message: String, kind: FailureKind)
    }

    /// Grows with every change; the model keeps the newest.
    public var revision: UInt64
    public var step: Step
    public var isBusy: Bool
    public var canPrice: Bool
    public var isLoading: Bool
    public var needsSync: Bool
    public var isSyncing: Bool
    public var beneficiaries: [CoveredBeneficiary]
    public var acts: [Act]
    public var beneficiary: CoveredBeneficiary?
    public var query: String
    public var specialty: String?
    public var city: String?
    public var results: [Provider]
    public var resultsOffline: Bool
    public var isSearching: Bool
    public var isSelectingProvider: Bool
    public var provider: Provider?
    public var act: Act?
    public var price: String
    public var date: String?
    public var isPricing: Bool
    public var preview: CoveragePreview?
    /// Why the figures come out so, in the flow's language (empty without a preview).
    public var explanations: [String]
    public var check: Check?
    public var error: FieldError?
    /// Paying with the card once the figures are shown: the armed visit, stale figures, receipt.
    public var payment: VisitPayment

    /// The message to show under `field`, if the core placed one there.
    public func message(for field: Field) -> String? {
        error?.field == field ? error?.message : nil
    }
}

/// What kind of failure a flow reports, as a screen acts on it.
public enum FlowFailureKind: Equatable, Hashable, Sendable {
    case invalidInput, rejected, notSynced, network, other
}

extension FlowFailureKind {
    init(_ k: TiersPayCore.FailureKind) {
        switch k {
        case .invalidInput: self = .invalidInput
        case .rejected: self = .rejected
        case .notSynced: self = .notSynced
        case .network: self = .network
        case .other: self = .other
        }
    }
}

extension VisitFlowSnapshot {
    init(_ s: TiersPayCore.VisitFlowState) {
        let step: Step
        switch s.step {
        case .loading: step = .loading
        case .beneficiary: step = .beneficiary
        case .provider: step = .provider
        case .act: step = .act
        case .amount: step = .amount
        case .result: step = .result
        case .armed: step = .armed
        case .finished: step = .finished
        }
        var check: Check?
        switch s.check {
        case nil: check = nil
        case .checking: check = .checking
        case let .confirmed(id): check = .confirmed(serverPreviewId: id)
        case let .changed(answer): check = (try? PreviewCheck(answer)).map(Check.changed)
        case let .unavailable(message, kind): check = .unavailable(message: message, kind: FailureKind(kind))
        }
        var error: FieldError?
        if let e = s.error {
            let field: Field
            switch e.field {
            case .beneficiary: field = .beneficiary
            case .search: field = .search
            case .provider: field = .provider
            case .scan: field = .scan
            case .act: field = .act
            case .price: field = .price
            case .date: field = .date
            case .paymentMethod: field = .paymentMethod
            case .form: field = .form
            }
            error = FieldError(field: field, message: e.message, kind: FailureKind(e.kind))
        }
        self.init(
            revision: s.revision, step: step, isBusy: s.busy, canPrice: s.canPrice, isLoading: s.loading,
            needsSync: s.needsSync, isSyncing: s.syncing,
            beneficiaries: s.beneficiaries.map(CoveredBeneficiary.init), acts: s.acts.compactMap { try? Act($0) },
            beneficiary: s.beneficiary.map(CoveredBeneficiary.init), query: s.query, specialty: s.specialty, city: s.city,
            results: s.results.map(Provider.init), resultsOffline: s.resultsOffline, isSearching: s.searching,
            isSelectingProvider: s.selectingProvider, provider: s.provider.map(Provider.init),
            act: s.act.flatMap { try? Act($0) }, price: s.price, date: s.date, isPricing: s.pricing,
            preview: s.preview.flatMap { try? CoveragePreview($0) }, explanations: s.explanations, check: check, error: error,
            payment: VisitPayment(s.payment)
        )
    }
}

/// The doctor's-desk screen over the core's `VisitFlow`: its states as an `AsyncStream` (and the
/// latest in `state`), the member's intents forwarded. Decides nothing.
public final class VisitFlowModel: @unchecked Sendable {
    private let flow: TiersPayCore.VisitFlow
    private let listener: FlowListener
    private let providerCode: String?

    /// Every state the core sends, in revision order.
    public let states: AsyncStream<VisitFlowSnapshot>

    init(core: TiersPayCore.TiersPay, providerCode: String?, language: Language) {
        let (stream, continuation) = AsyncStream.makeStream(of: VisitFlowSnapshot.self, bufferingPolicy: .bufferingNewest(64))
        states = stream
        listener = FlowListener(continuation)
        flow = core.visitFlow(listener: listener)
        self.providerCode = providerCode
        flow.setLanguage(language: language.core)
    }

    deinit { listener.finish() }

    /// The newest state; nil before `start()`.
    public var state: VisitFlowSnapshot? { listener.latest }

    public func start() { flow.start(providerCode: providerCode) }
    public func choose(beneficiaryId: String) { flow.chooseBeneficiary(beneficiaryId: beneficiaryId) }
    public func edit(query: String) { flow.editQuery(query: query) }
    public func filter(specialty: String?, city: String?) { flow.filter(specialty: specialty, city: city) }
    public func select(providerId: String) { flow.selectProvider(idOrCode: providerId) }
    public func open(providerCode code: String) { flow.selectProvider(idOrCode: code) }
    public func scanned(_ text: String) { flow.scanned(text: text) }
    public func choose(actCode: String) { flow.chooseAct(code: actCode) }
    public func edit(price: String) { flow.editPrice(price: price) }
    /// `YYYY-MM-DD`, nil for today in France.
    public func edit(date: String?) { flow.editDate(date: date) }
    public func changeBeneficiary() { flow.changeBeneficiary() }
    public func changeProvider() { flow.changeProvider() }
    public func changeAct() { flow.changeAct() }
    public func changeAmount() { flow.changeAmount() }
    public func back() { flow.back() }
    public func newVisit() { flow.newVisit() }
    public func price() { flow.price() }
    public func recheck() { flow.recheck() }
    public func sync() { flow.sync() }
    public func dismissError() { flow.dismissError() }
    /// "Pay with my card": arms the virtual card for the figures shown (or the server's after a stale answer).
    public func authorize() { flow.authorize() }
    /// Cancels the armed visit, before the tap.
    public func cancel() { flow.cancel() }
    /// Reads the visit again: the countdown ended, a push said it changed, the screen came back.
    public func refresh() { flow.refresh() }
    /// The reader's language: the core draws the figures' text and the explanations in it.
    public func setLanguage(_ language: Language) { flow.setLanguage(language: language.core) }
}

/// Called on a core thread (or the caller's); keeps the newest revision and feeds the stream.
private final class FlowListener: VisitListener, @unchecked Sendable {
    private let lock = NSLock()
    private var newest: VisitFlowSnapshot?
    private let continuation: AsyncStream<VisitFlowSnapshot>.Continuation

    init(_ continuation: AsyncStream<VisitFlowSnapshot>.Continuation) { self.continuation = continuation }

    var latest: VisitFlowSnapshot? { lock.withLock { newest } }

    func finish() { continuation.finish() }

    func onState(state: TiersPayCore.VisitFlowState) {
        let snapshot = VisitFlowSnapshot(state)
        let fresh: Bool = lock.withLock {
            guard newest.map({ snapshot.revision > $0.revision }) ?? true else { return false }
            newest = snapshot
            return true
        }
        if fresh { continuation.yield(snapshot) }
    }
}
