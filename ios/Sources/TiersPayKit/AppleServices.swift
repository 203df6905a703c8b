#if canImport(Security)
import Foundation
import Security

// The platform services on Apple platforms. Compiled on a Mac and in the app; not on Linux.

/// Secure storage in the Keychain: generic passwords of one service, readable after the
/// first unlock, never migrated to another device or backed up to another one.
public final class KeychainSecureStore: SecureStore, @unchecked Sendable {
    // @unchecked: immutable; the Keychain is thread-safe.
    private let service: String
    private let accessGroup: String?

    public init(service: String = "fr.tierspay.core", accessGroup: String? = nil) {
        self.service = service
        self.accessGroup = accessGroup
    }

    private func query(_ key: String) -> [String: Any] {
        var q: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: service,
            kSecAttrAccount as String: key,
            kSecUseDataProtectionKeychain as String: true,
        ]
        if let accessGroup { q[kSecAttrAccessGroup as String] = accessGroup }
        return q
    }

    public func read(_ key: String) throws -> Data? {
        var q = query(key)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        switch status {
        case errSecSuccess: return item as? Data
        case errSecItemNotFound: return nil
        default: throw Self.error("read", status)
        }
    }

    public func write(_ key: String, _ value: Data) throws {
        let attributes: [String: Any] = [
            kSecValueData as String: value,
            kSecAttrAccessible as String: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly,
        ]
        var status = SecItemUpdate(query(key) as CFDictionary, attributes as CFDictionary)
        if status == errSecItemNotFound {
            let add = query(key).merging(attributes) { _, new in new }
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else { throw Self.error("write", status) }
    }

    public func remove(_ key: String) throws {
        let status = SecItemDelete(query(key) as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else { throw Self.error("delete", status) }
    }

    static func error(_ operation: String, _ status: OSStatus) -> PlatformServiceError {
        PlatformServiceError("keychain \(operation) failed (OSStatus \(status))")
    }
}

/// The device key in the Secure Enclave: a P-256 private key that never leaves the chip,
/// created on first use, usable after the first unlock, bound to this device.
public final class SecureEnclaveDeviceKey: DeviceSigningKey, @unchecked Sendable {
    // @unchecked: immutable, plus a lock around create-or-load.
    private let tag: Data
    private let lock = NSLock()

    public init(tag: String = "fr.tierspay.device-key") {
        self.tag = Data(tag.utf8)
    }

    /// False in the simulator and on Macs without a Secure Enclave (the app then uses a software key).
    public static var isAvailable: Bool {
        #if targetEnvironment(simulator)
        return false
        #else
        return EnclaveProbe.isAvailable()
        #endif
    }

    public func publicKey() throws -> Data {
        let key = try privateKey()
        guard let pub = SecKeyCopyPublicKey(key) else { throw PlatformServiceError("secure enclave: no public key") }
        var error: Unmanaged<CFError>?
        // X9.63 uncompressed: 0x04 || X || Y, 65 bytes, what the core expects.
        guard let data = SecKeyCopyExternalRepresentation(pub, &error) as Data? else {
            throw Self.failure("export", error)
        }
        return data
    }

    public func sign(_ message: Data) throws -> Data {
        let key = try privateKey()
        var error: Unmanaged<CFError>?
        // ES256: SHA-256 then ECDSA P-256; DER-encoded, which the core accepts.
        guard let signature = SecKeyCreateSignature(key, .ecdsaSignatureMessageX962SHA256, message as CFData, &error) as Data? else {
            throw Self.failure("sign", error)
        }
        return signature
    }

    public func delete() throws {
        lock.lock(); defer { lock.unlock() }
        let status = SecItemDelete(lookup() as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw PlatformServiceError("secure enclave: delete failed (OSStatus \(status))")
        }
    }

    private func lookup() -> [String: Any] {
        [
            kSecClass as String: kSecClassKey,
            kSecAttrKeyClass as String: kSecAttrKeyClassPrivate,
            kSecAttrApplicationTag as String: tag,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
        ]
    }

    private func privateKey() throws -> SecKey {
        lock.lock(); defer { lock.unlock() }
        var q = lookup()
        q[kSecReturnRef as String] = true
        var item: CFTypeRef?
        let status = SecItemCopyMatching(q as CFDictionary, &item)
        if status == errSecSuccess, let item {
            return item as! SecKey  // swiftlint:disable:this force_cast
        }
        guard status == errSecItemNotFound else {
            throw PlatformServiceError("secure enclave: lookup failed (OSStatus \(status))")
        }
        var error: Unmanaged<CFError>?
        guard
            let access = SecAccessControlCreateWithFlags(
                nil, kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, .privateKeyUsage, &error
            )
        else { throw Self.failure("access control", error) }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: tag,
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw Self.failure("create", error)
        }
        return key
    }

    private static func failure(_ operation: String, _ error: Unmanaged<CFError>?) -> PlatformServiceError {
        let code = error.map { CFErrorGetCode($0.takeRetainedValue()) } ?? 0
        return PlatformServiceError("secure enclave: \(operation) failed (code \(code))")
    }
}

#if canImport(CryptoKit)
import CryptoKit
private enum EnclaveProbe {
    static func isAvailable() -> Bool { SecureEnclave.isAvailable }
}
#else
private enum EnclaveProbe {
    static func isAvailable() -> Bool { false }
}
#endif

#endif
