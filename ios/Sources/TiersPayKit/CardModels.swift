import Foundation

// The card area's models: the virtual card's public facts, its wallet tokens, the one-time
// reveal and Apple Pay's in-app provisioning. The shell's own types, like Models.swift;
// Conversions.swift maps the core's onto them. No model holds the full card number except
// `CardDetails`, which is never stored and whose description is redacted.

/// The virtual card as last synced (works offline). Public facts only.
public struct CardInfo: Equatable, Hashable, Sendable, Identifiable {
    public enum Status: Equatable, Hashable, Sendable {
        case active
        /// Frozen (or not yet usable): payments are refused.
        case inactive
        case canceled
        /// A value this version of the app does not know yet.
        case other
    }

    /// The issuer's card id.
    public var id: String
    public var last4: String
    /// `MM/YY`.
    public var expiry: String
    /// `visa`, …
    public var brand: String
    public var status: Status
    /// Frozen by the member.
    public var frozen: Bool
    public var applePayEligible: Bool
    public var googlePayEligible: Bool
    /// The card's controls in words ("Only at doctors, pharmacies…").
    public var controls: [Explanation]
    public var tokens: [CardToken]

    public init(
        id: String, last4: String, expiry: String, brand: String, status: Status, frozen: Bool,
        applePayEligible: Bool, googlePayEligible: Bool, controls: [Explanation], tokens: [CardToken]
    ) {
        self.id = id
        self.last4 = last4
        self.expiry = expiry
        self.brand = brand
        self.status = status
        self.frozen = frozen
        self.applePayEligible = applePayEligible
        self.googlePayEligible = googlePayEligible
        self.controls = controls
        self.tokens = tokens
    }

    /// `•••• 4242`.
    public var maskedNumber: String { "•••• \(last4)" }

    /// Wallet tokens of one wallet.
    public func tokens(in wallet: CardToken.Wallet) -> [CardToken] { tokens.filter { $0.wallet == wallet } }

    /// Whether Apple Pay already holds this card on some device (requested, active or suspended).
    public var inApplePay: Bool { tokens(in: .applePay).contains { $0.status != .deleted } }
}

/// The card in a wallet on one device (a device number of its own).
public struct CardToken: Equatable, Hashable, Sendable, Identifiable {
    public enum Wallet: Equatable, Hashable, Sendable {
        case applePay, googlePay
        case other
    }

    public enum Status: Equatable, Hashable, Sendable {
        /// Added to the wallet, waiting for the issuer's activation.
        case requested
        case active
        /// Paused (the card is frozen); resumed when it is unfrozen.
        case suspended
        case deleted
        case other
    }

    /// The issuer's token id.
    public var id: String
    public var wallet: Wallet
    /// The device, when known.
    public var deviceId: String?
    /// Last four digits of the device number (not the card's).
    public var last4: String
    public var status: Status

    public init(id: String, wallet: Wallet, deviceId: String?, last4: String, status: Status) {
        self.id = id
        self.wallet = wallet
        self.deviceId = deviceId
        self.last4 = last4
        self.status = status
    }
}

/// The full number, expiry and security code, fetched on demand for manual entry. Keep it only
/// while it is on screen: never store, log or cache it. Its description and mirror are
/// redacted, so `print`, string interpolation and `dump` show no digits.
public struct CardDetails: Equatable, Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let number: String
    /// `MM/YY`.
    public let expiry: String
    public let cvc: String

    public init(number: String, expiry: String, cvc: String) {
        self.number = number
        self.expiry = expiry
        self.cvc = cvc
    }

    /// The number in groups of four, for display (`4242 4242 4242 4242`).
    public var groupedNumber: String {
        var out = ""
        for (i, c) in number.enumerated() {
            if i > 0, i % 4 == 0 { out.append(" ") }
            out.append(c)
        }
        return out
    }

    public var description: String { "CardDetails(redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// What `PKAddPaymentPassRequest` needs: the issuer's answer to PassKit's certificates, nonce and
/// nonce signature. Encrypted for the wallet; no card number in clear.
public struct PaymentPassRequestData: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var encryptedPassData: Data
    public var activationData: Data
    /// 65 bytes (an uncompressed P-256 point).
    public var ephemeralPublicKey: Data

    public init(encryptedPassData: Data, activationData: Data, ephemeralPublicKey: Data) {
        self.encryptedPassData = encryptedPassData
        self.activationData = activationData
        self.ephemeralPublicKey = ephemeralPublicKey
    }

    public var description: String {
        "PaymentPassRequestData(\(encryptedPassData.count) B encrypted, \(activationData.count) B activation, \(ephemeralPublicKey.count) B key)"
    }
}
