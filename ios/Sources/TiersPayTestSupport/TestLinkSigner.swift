import Foundation
internal import TiersPayCore
import TiersPayKit

/// The platform's side of a payment link for tests: a link key of the test's own (pin its
/// `publicKeyHex` in `TiersPayConfiguration.linkPublicKey`) and tokens signed with it by the
/// core's `PaymentLinkSigner` (built with the `testing` feature only).
public final class TestLinkSigner: @unchecked Sendable {
    private let signer: TiersPayCore.PaymentLinkSigner
    public let keyId: UInt8

    public init(keyId: UInt8) {
        self.keyId = keyId
        signer = TiersPayCore.PaymentLinkSigner(keyId: keyId)
    }

    /// The key to pin: hex of the uncompressed P-256 point.
    public var publicKeyHex: String { signer.publicKeyHex() }

    /// A token for `memberId` (the enrolled member's `mbr_…`), in euro cents.
    public func token(
        invoiceNumber: UInt32, memberId: String, amountMinor: UInt32, expiresAt: Date,
        channel: VerifiedPaymentLink.Channel
    ) -> String {
        let c: TiersPayCore.LinkChannel
        switch channel {
        case .push: c = .push
        case .email: c = .email
        case .sms: c = .sms
        case .app: c = .app
        }
        return signer.sign(
            invoiceNumber: invoiceNumber, memberId: memberId, amountMinor: amountMinor,
            expiresAt: UInt32(expiresAt.timeIntervalSince1970), channel: c
        )
    }
}
