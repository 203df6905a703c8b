import Foundation
internal import TiersPayCore
import TiersPayKit

/// Apple's wallet for tests, over the core's `PassKitSimulator` (a root, a sub-CA and a leaf
/// key of its own): it plays PassKit's side of in-app provisioning. `addPaymentPass` hands the
/// simulator's certificates, nonce and nonce signature to the adapter (as PassKit's delegate
/// would), opens the encrypted pass with the leaf key (checking the nonce), then has the issuer
/// activate the requested Apple Pay token with the pass's activation data, as the wallet's
/// activation would. `registerRoot()` first makes the mock's issuer trust this simulator.
public final class FakePassKit: PaymentPassAdding, @unchecked Sendable {
    // @unchecked: the simulator is a thread-safe core object; `opened` is behind a lock.

    /// What the wallet found inside a pass (the number itself never leaves the simulator).
    public struct OpenedPass: Equatable, Sendable {
        public var panLast4: String
        /// The number inside passes the Luhn check.
        public var panValid: Bool
        /// `MM/YY`.
        public var expiration: String
        public var name: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case noRequestedToken([TiersPayKit.CardToken])
        case passRefused(String)

        public var description: String {
            switch self {
            case let .noRequestedToken(tokens): return "no requested Apple Pay token after provisioning: \(tokens)"
            case let .passRefused(detail): return "the wallet could not open the pass: \(detail)"
            }
        }
    }

    private let simulator: PassKitSimulator
    private let server: MockServer
    private let issuer: any CardService
    /// Activate the requested token after opening the pass (the wallet's activation step).
    public var activates = true
    /// The member closes the sheet once the exchange is done, before the pass is added.
    public var cancels = false
    private let lock = NSLock()
    private var _opened: [OpenedPass] = []

    /// `issuer` is how the wallet finds the requested token's id (the issuer's side of the
    /// activation); in tests the client itself.
    public init(server: MockServer, issuer: any CardService) throws {
        simulator = try PassKitSimulator()
        self.server = server
        self.issuer = issuer
    }

    /// Passes opened so far.
    public var opened: [OpenedPass] {
        lock.lock(); defer { lock.unlock() }
        return _opened
    }

    private func record(_ pass: OpenedPass) {
        lock.lock(); defer { lock.unlock() }
        _opened.append(pass)
    }

    /// What PassKit hands the delegate.
    public var certificates: [Data] { simulator.certificates() }
    public var nonce: Data { simulator.nonce() }
    public var nonceSignature: Data { simulator.nonceSignature() }

    /// Makes the mock's issuer trust this simulator's root (do it before provisioning).
    public func registerRoot() async throws {
        try await server.setAppleRoot(simulator.rootCertificate())
    }

    /// Opens a pass as the wallet would: decrypts it with the leaf key and checks the nonce.
    public func open(_ data: PaymentPassRequestData) throws -> OpenedPass {
        let pass = try simulator.openPass(
            pass: TiersPayCore.ApplePayPassData(
                encryptedPassData: data.encryptedPassData, activationData: data.activationData, ephemeralPublicKey: data.ephemeralPublicKey
            ))
        return OpenedPass(panLast4: pass.panLast4, panValid: pass.panValid, expiration: pass.expiration, name: pass.name)
    }

    public func addPaymentPass(card: TiersPayKit.CardInfo, cardholderName: String, provisioning: any PaymentPassProvisioning) async throws(TiersPayError)
        -> PaymentPassAddOutcome
    {
        // PassKit -> delegate -> the adapter -> the issuer; errors of the exchange as they are.
        let data = try await provisioning.applePayPassData(certificates: certificates, nonce: nonce, nonceSignature: nonceSignature)
        if cancels { return .cancelled }
        do {
            let pass = try open(data)
            record(pass)
            guard activates else { return .added }
            let tokens = try issuer.card()?.tokens ?? []
            guard let token = tokens.first(where: { $0.wallet == .applePay && $0.status == .requested }) else {
                throw Failure.noRequestedToken(tokens)
            }
            try await server.activateToken(token.id, activationData: data.activationData)
            return .added
        } catch let error as TiersPayError {
            throw error
        } catch {
            throw TiersPayError(kind: .internal, message: "FakePassKit: \(error)")
        }
    }
}
