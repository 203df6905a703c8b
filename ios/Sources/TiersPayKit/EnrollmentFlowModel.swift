import Foundation
internal import TiersPayCore

/// The enrollment screens' state as the core's `EnrollmentFlow` sends it (the machine is
/// `core/src/app/flows/enrollment.rs`), in the shell's models.
public struct EnrollmentFlowSnapshot: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        case details, code, enrolled
    }

    /// Where an error is shown.
    public enum Field: Equatable, Hashable, Sendable {
        case contractNumber, birthDate, code
        /// Not tied to one field: a banner above the form.
        case form
    }

    public struct FieldError: Equatable, Sendable {
        public var field: Field
        public var message: String
        public var kind: FlowFailureKind
        /// The server's code for a refusal (`code_incorrect`, …).
        public var code: String?
    }

    public var revision: UInt64
    public var step: Step
    public var canSubmit: Bool
    public var isBusy: Bool
    public var contractNumber: String
    public var birthDate: String
    public var code: String
    public var challenge: EnrollmentChallenge?
    public var profile: Profile?
    public var error: FieldError?

    /// The message to show under `field`, if the core placed one there.
    public func message(for field: Field) -> String? {
        error?.field == field ? error?.message : nil
    }
}

extension EnrollmentFlowSnapshot {
    init(_ s: TiersPayCore.EnrollmentFlowState) {
        let step: Step
        switch s.step {
        case .details: step = .details
        case .code: step = .code
        case .enrolled: step = .enrolled
        }
        var error: FieldError?
        if let e = s.error {
            let field: Field
            switch e.field {
            case .contractNumber: field = .contractNumber
            case .birthDate: field = .birthDate
            case .code: field = .code
            case .form: field = .form
            }
            error = FieldError(field: field, message: e.message, kind: FlowFailureKind(e.kind), code: e.code.map { errorCodeText(code: $0) })
        }
        self.init(
            revision: s.revision, step: step, canSubmit: s.canSubmit, isBusy: s.busy, contractNumber: s.contractNumber,
            birthDate: s.birthDate, code: s.code, challenge: s.challenge.map(EnrollmentChallenge.init),
            profile: s.profile.map(Profile.init), error: error
        )
    }
}

/// The enrollment screens over the core's `EnrollmentFlow`: its states as an `AsyncStream` (and
/// the latest in `state`), the member's intents forwarded. Decides nothing.
public final class EnrollmentFlowModel: @unchecked Sendable {
    private let flow: TiersPayCore.EnrollmentFlow
    private let listener: EnrollmentStreamListener

    /// Every state the core sends, in revision order.
    public let states: AsyncStream<EnrollmentFlowSnapshot>

    init(core: TiersPayCore.TiersPay, contractNumber: String?) {
        let (stream, continuation) = AsyncStream.makeStream(of: EnrollmentFlowSnapshot.self, bufferingPolicy: .bufferingNewest(64))
        states = stream
        listener = EnrollmentStreamListener(continuation)
        flow = core.enrollmentFlow(contractNumber: contractNumber, listener: listener)
        if let first = flow.state() { listener.onState(state: first) }
    }

    deinit { listener.finish() }

    /// The newest state.
    public var state: EnrollmentFlowSnapshot? { listener.latest }

    public func edit(contractNumber: String) { flow.editContractNumber(value: contractNumber) }
    /// `YYYY-MM-DD`.
    public func edit(birthDate: String) { flow.editBirthDate(value: birthDate) }
    public func edit(code: String) { flow.editCode(value: code) }
    /// Sends the code, or confirms it.
    public func submit() { flow.submit() }
    public func resendCode() { flow.resend() }
    public func back() { flow.back() }
    public func prefill(contractNumber: String) { flow.prefill(contractNumber: contractNumber) }
    public func reset(contractNumber: String? = nil) { flow.reset(contractNumber: contractNumber) }
}

private final class EnrollmentStreamListener: EnrollmentListener, @unchecked Sendable {
    private let lock = NSLock()
    private var newest: EnrollmentFlowSnapshot?
    private let continuation: AsyncStream<EnrollmentFlowSnapshot>.Continuation

    init(_ continuation: AsyncStream<EnrollmentFlowSnapshot>.Continuation) { self.continuation = continuation }

    var latest: EnrollmentFlowSnapshot? { lock.withLock { newest } }

    func finish() { continuation.finish() }

    func onState(state: TiersPayCore.EnrollmentFlowState) {
        let snapshot = EnrollmentFlowSnapshot(state)
        let fresh: Bool = lock.withLock {
            guard newest.map({ snapshot.revision > $0.revision }) ?? true else { return false }
            newest = snapshot
            return true
        }
        if fresh { continuation.yield(snapshot) }
    }
}
