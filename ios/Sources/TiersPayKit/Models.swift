import Foundation

// The shell's own models. The UI and its tests see only these; Conversions.swift maps the
// generated records onto them.

/// The member holding the contract.
public struct Member: Equatable, Hashable, Sendable, Identifiable {
    public var id: String
    public var firstName: String
    public var lastName: String
    /// The phone on file, masked by the server (`+33 6 •• •• •• 42`).
    public var phoneMasked: String
    public var emailMasked: String

    public init(id: String, firstName: String, lastName: String, phoneMasked: String, emailMasked: String) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.phoneMasked = phoneMasked
        self.emailMasked = emailMasked
    }

    public var displayName: String { "\(firstName) \(lastName)" }
}

/// The health-insurance contract.
public struct Contract: Equatable, Hashable, Sendable, Identifiable {
    public var id: String
    public var number: String
    public var insurerName: String
    public var productName: String
    /// `YYYY-MM-DD`.
    public var startDate: String
    /// Whether cover is in force, as the core read it.
    public enum Status: Equatable, Hashable, Sendable {
        case active, suspended, terminated
        /// A value this version of the app does not know yet.
        case other
    }

    public var status: Status

    public init(id: String, number: String, insurerName: String, productName: String, startDate: String, status: Status) {
        self.id = id
        self.number = number
        self.insurerName = insurerName
        self.productName = productName
        self.startDate = startDate
        self.status = status
    }
}

/// A person covered by the contract, the holder included.
public struct Beneficiary: Equatable, Hashable, Sendable, Identifiable {
    public enum Relationship: Equatable, Hashable, Sendable {
        case holder, spouse, child
        /// A value this version of the app does not know yet.
        case other
    }

    public var id: String
    public var firstName: String
    public var lastName: String
    /// `YYYY-MM-DD`.
    public var birthDate: String
    public var relationship: Relationship

    public init(id: String, firstName: String, lastName: String, birthDate: String, relationship: Relationship) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.birthDate = birthDate
        self.relationship = relationship
    }
}

/// What an enrolled device knows about its member.
public struct Profile: Equatable, Hashable, Sendable {
    public var deviceId: String
    public var enrolledAt: Date
    public var member: Member
    public var contract: Contract
    public var beneficiaries: [Beneficiary]

    public init(deviceId: String, enrolledAt: Date, member: Member, contract: Contract, beneficiaries: [Beneficiary]) {
        self.deviceId = deviceId
        self.enrolledAt = enrolledAt
        self.member = member
        self.contract = contract
        self.beneficiaries = beneficiaries
    }
}

/// The code was sent; the member types it next.
public struct EnrollmentChallenge: Equatable, Hashable, Sendable {
    public var enrollmentId: String
    /// Where the code went, masked.
    public var phoneMasked: String
    public var codeLength: Int
    public var expiresAt: Date

    public init(enrollmentId: String, phoneMasked: String, codeLength: Int, expiresAt: Date) {
        self.enrollmentId = enrollmentId
        self.phoneMasked = phoneMasked
        self.codeLength = codeLength
        self.expiresAt = expiresAt
    }
}

/// Whether this device is enrolled, read locally (works offline).
public enum SessionState: Equatable, Sendable {
    case notEnrolled
    case enrolled(Profile)

    public var profile: Profile? {
        if case let .enrolled(profile) = self { return profile }
        return nil
    }
}

/// What happened to the session, as the core reports it.
public enum SessionEvent: Equatable, Hashable, Sendable {
    case enrolled
    case profileUpdated
    case signedOut
    /// The server ended this device's session; local data is gone, enroll again.
    case ended
    /// The card's status or wallet tokens changed: read `card()` again.
    case cardUpdated
}

/// A screen to open for a link or a push message.
public enum AppRoute: Equatable, Hashable, Sendable {
    case home
    /// Enrollment, with the contract number pre-filled when the link had one.
    case enroll(contractNumber: String?)
    /// A provider's page, from the QR code on their desk or a link (`/p/{code}`).
    case provider(code: String)
    /// The card's screen (`tierspay://card`: pushes say the card was frozen or is active again).
    case card
    /// A payment link (`/l/…`, `/s/…`), not trusted yet: `ArrearsFlowModel.open(link:)` has the core verify it.
    case paymentLink(url: String)
    /// An invoice's message thread (a push saying support answered): `threadFlow(invoiceId:)`.
    case invoiceThread(invoiceId: String)
}

/// Which push service gave the app its token.
public enum PushService: Equatable, Hashable, Sendable {
    /// Apple Push Notification service (this app's).
    case apns
    /// Firebase Cloud Messaging (Android's).
    case fcm
}

/// A push token as the core takes it.
public struct PushToken: Equatable, Hashable, Sendable {
    public let service: PushService
    public let value: String

    public init(service: PushService, value: String) {
        self.service = service
        self.value = value
    }

    /// `didRegisterForRemoteNotificationsWithDeviceToken`'s bytes, written as the platform
    /// sends to APNs: two lower-case hex digits per byte, nothing else. (The token's
    /// `description` is not its hex, and its length may change: never parse or truncate it.)
    public static func apns(deviceToken: Data) -> PushToken {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(deviceToken.count * 2)
        for byte in deviceToken {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return PushToken(service: .apns, value: String(decoding: hex, as: UTF8.self))
    }
}
