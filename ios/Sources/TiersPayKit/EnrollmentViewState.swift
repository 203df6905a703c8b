import Foundation

/// What the enrollment screens show: enter the contract and birth date, then the code sent to
/// a masked phone, then done. Pure value with pure transitions; EnrollmentModel drives it.
public struct EnrollmentViewState: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        /// Contract number and holder's birth date.
        case contract
        /// The code sent by SMS to `phoneMasked`.
        case code(enrollmentId: String, phoneMasked: String, codeLength: Int)
        /// This device is enrolled.
        case enrolled(Profile)
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
        /// The error as the adapter reported it.
        public var kind: TiersPayError.Kind

        public init(field: Field, message: String, kind: TiersPayError.Kind) {
            self.field = field
            self.message = message
            self.kind = kind
        }
    }

    public var step: Step
    public var contractNumber: String
    /// `YYYY-MM-DD`, as the date picker formats it.
    public var birthDate: String
    public var code: String
    /// A request is under way: the form is disabled and shows progress.
    public var isSubmitting: Bool
    public var error: FieldError?

    public init(contractNumber: String? = nil) {
        step = .contract
        self.contractNumber = contractNumber ?? ""
        birthDate = ""
        code = ""
        isSubmitting = false
        error = nil
    }

    // MARK: What the screen reads

    /// The message to show under `field`, if any.
    public func message(for field: Field) -> String? {
        error?.field == field ? error?.message : nil
    }

    /// Whether the primary button is enabled. Only presence is checked here; the core
    /// validates the contents and its errors come back under the right field.
    public var canSubmit: Bool {
        guard !isSubmitting else { return false }
        switch step {
        case .contract:
            return !contractNumber.trimmingCharacters(in: .whitespaces).isEmpty && !birthDate.isEmpty
        case let .code(_, _, length):
            return code.count == length
        case .enrolled:
            return false
        }
    }

    public var isEnrolled: Bool {
        if case .enrolled = step { return true }
        return false
    }

    // MARK: Transitions

    public mutating func edit(contractNumber value: String) {
        contractNumber = value
        clearError(on: .contractNumber)
    }

    public mutating func edit(birthDate value: String) {
        birthDate = value
        clearError(on: .birthDate)
    }

    /// Keeps digits only, up to the code's length.
    public mutating func edit(code value: String) {
        var digits = value.filter(\.isASCIIDigit)
        if case let .code(_, _, length) = step { digits = String(digits.prefix(length)) }
        code = digits
        clearError(on: .code)
    }

    /// The request for the current step left.
    public mutating func submitted() {
        isSubmitting = true
        error = nil
    }

    /// The code was sent.
    public mutating func challengeReceived(_ challenge: EnrollmentChallenge) {
        isSubmitting = false
        error = nil
        code = ""
        step = .code(enrollmentId: challenge.enrollmentId, phoneMasked: challenge.phoneMasked, codeLength: challenge.codeLength)
    }

    /// The code was right: enrolled.
    public mutating func enrolled(_ profile: Profile) {
        isSubmitting = false
        error = nil
        code = ""
        step = .enrolled(profile)
    }

    /// Back to the contract form (a new code is needed, or the member wants to change it).
    public mutating func restart() {
        isSubmitting = false
        code = ""
        step = .contract
        error = nil
    }

    /// A request failed: show why, under the field at fault when there is one.
    public mutating func failed(_ failure: TiersPayError) {
        isSubmitting = false
        let onCodeStep: Bool
        if case .code = step { onCodeStep = true } else { onCodeStep = false }
        switch failure.kind {
        case let .invalidInput(field):
            error = FieldError(field: Self.field(named: field), message: failure.message, kind: failure.kind)
        case .rejected("code_incorrect"):
            error = FieldError(field: .code, message: failure.message, kind: failure.kind)
            code = ""
        case .rejected where onCodeStep:
            // Expired, superseded, locked or already used: only a new code helps.
            restart()
            error = FieldError(field: .form, message: failure.message, kind: failure.kind)
        default:
            error = FieldError(field: .form, message: failure.message, kind: failure.kind)
        }
    }

    static func field(named name: String) -> Field {
        switch name {
        case "contract_number": return .contractNumber
        case "birth_date": return .birthDate
        case "code": return .code
        default: return .form
        }
    }

    private mutating func clearError(on field: Field) {
        if error?.field == field { error = nil }
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
