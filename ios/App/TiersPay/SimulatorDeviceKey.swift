import CryptoKit
import Foundation
import TiersPayKit

/// The simulator has no Secure Enclave: there the app signs with a P-256 key in software
/// (CryptoKit), its private half kept in the Keychain through `store`. Services picks the Secure
/// Enclave wherever there is one; the core's library ships no software key of its own.
final class SimulatorDeviceKey: DeviceSigningKey, @unchecked Sendable {
    // @unchecked: the store is thread-safe and `cached` is behind a lock.
    private let store: any SecureStore
    private let storageKey: String
    private let lock = NSLock()
    private var cached: P256.Signing.PrivateKey?

    init(store: any SecureStore, storageKey: String = "tierspay.simulator_device_key") {
        self.store = store
        self.storageKey = storageKey
    }

    /// 65-byte uncompressed SEC1 (X9.63) point, as the core expects.
    func publicKey() throws -> Data { try key().publicKey.x963Representation }

    /// ES256 (SHA-256, then ECDSA P-256), raw r||s.
    func sign(_ message: Data) throws -> Data { try key().signature(for: message).rawRepresentation }

    func delete() throws {
        lock.lock(); defer { lock.unlock() }
        cached = nil
        try store.remove(storageKey)
    }

    private func key() throws -> P256.Signing.PrivateKey {
        lock.lock(); defer { lock.unlock() }
        if let cached { return cached }
        let key: P256.Signing.PrivateKey
        if let raw = try store.read(storageKey) {
            guard let stored = try? P256.Signing.PrivateKey(rawRepresentation: raw) else {
                throw PlatformServiceError("stored simulator device key is corrupt")
            }
            key = stored
        } else {
            key = P256.Signing.PrivateKey()
            try store.write(storageKey, key.rawRepresentation)
        }
        cached = key
        return key
    }
}
