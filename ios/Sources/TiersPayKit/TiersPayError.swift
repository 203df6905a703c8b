import Foundation

/// The one error the UI handles: what kind of failure (to decide what to show or do) and a
/// message that carries no personal data and can be shown as it is.
public struct TiersPayError: Error, Equatable, Hashable, Sendable, LocalizedError, CustomStringConvertible {
    public enum Kind: Equatable, Hashable, Sendable {
        /// The member typed something invalid in `field` (`contract_number`, `birth_date`, `code`, …).
        case invalidInput(field: String)
        /// The server refused; `code` is the core's `ErrorCode` as the server writes it
        /// (`enrollment_not_matched`, `code_incorrect`, `card_inactive`, …).
        case rejected(code: String)
        /// Too many attempts: wait before trying again.
        case rateLimited(retryAfterSeconds: UInt64)
        /// The server could not be reached; nothing was lost, try again later.
        case network
        /// This needs an enrolled device.
        case notEnrolled
        /// The contract's guarantees are not on this phone yet: sync once online.
        case notSynced
        /// The server ended this device's session; local data was wiped, enroll again.
        case sessionEnded
        /// Secure storage or the device key failed.
        case platform
        /// A bug, or an answer that cannot be trusted.
        case `internal`
    }

    public let kind: Kind
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The field at fault, for `invalidInput`.
    public var field: String? {
        if case let .invalidInput(field) = kind { return field }
        return nil
    }

    public var errorDescription: String? { message }
    public var description: String { "TiersPayError(\(kind): \(message))" }
}
