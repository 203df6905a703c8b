import Foundation
internal import TiersPayCore

// The platform services the core needs, as the shell sees them. The app passes the Keychain
// and the Secure Enclave (KeychainSecureStore, SecureEnclaveDeviceKey); tests pass
// InMemorySecureStore and TiersPayTestSupport's SoftwareDeviceKey. Bridges below hand them to
// the core.

/// A platform service failed; `detail` says what, without personal data.
public struct PlatformServiceError: Error, Equatable, Sendable, CustomStringConvertible {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}

/// Where the core keeps its secrets (refresh token, …): the Keychain on iOS.
public protocol SecureStore: AnyObject, Sendable {
    func read(_ key: String) throws -> Data?
    func write(_ key: String, _ value: Data) throws
    func remove(_ key: String) throws
}

/// The P-256 key that signs this device's requests: the Secure Enclave on iOS.
public protocol DeviceSigningKey: AnyObject, Sendable {
    /// The public key, 65-byte uncompressed SEC1 (X9.63) point; creates the key when missing.
    func publicKey() throws -> Data
    /// ES256 over SHA-256(message); DER or raw r||s.
    func sign(_ message: Data) throws -> Data
    /// Forgets the key (sign-out); the next use creates a new one.
    func delete() throws
}

/// Secure storage in memory, for tests and previews. Thread-safe.
public final class InMemorySecureStore: SecureStore, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Data] = [:]

    public init() {}

    public func read(_ key: String) throws -> Data? {
        lock.lock(); defer { lock.unlock() }
        return values[key]
    }

    public func write(_ key: String, _ value: Data) throws {
        lock.lock(); defer { lock.unlock() }
        values[key] = value
    }

    public func remove(_ key: String) throws {
        lock.lock(); defer { lock.unlock() }
        values[key] = nil
    }

    /// The keys held, for tests.
    public var keys: Set<String> {
        lock.lock(); defer { lock.unlock() }
        return Set(values.keys)
    }
}

// MARK: - Bridges to the core's foreign traits

/// Any error a platform service throws, as the core's PlatformError.
private func platformError(_ error: any Error) -> PlatformError {
    switch error {
    case let e as PlatformError: return e
    case let e as PlatformServiceError: return .Failed(detail: e.detail)
    default: return .Failed(detail: String(describing: error))
    }
}

final class SecureStoreBridge: TiersPayCore.SecureStorage {
    let store: any SecureStore
    init(_ store: any SecureStore) { self.store = store }

    func get(key: String) throws -> Data? {
        do { return try store.read(key) } catch { throw platformError(error) }
    }

    func set(key: String, value: Data) throws {
        do { try store.write(key, value) } catch { throw platformError(error) }
    }

    func delete(key: String) throws {
        do { try store.remove(key) } catch { throw platformError(error) }
    }
}

final class DeviceKeyBridge: TiersPayCore.DeviceKey {
    let key: any DeviceSigningKey
    init(_ key: any DeviceSigningKey) { self.key = key }

    func publicKey() throws -> Data {
        do { return try key.publicKey() } catch { throw platformError(error) }
    }

    func sign(message: Data) throws -> Data {
        do { return try key.sign(message) } catch { throw platformError(error) }
    }

    func delete() throws {
        do { try key.delete() } catch { throw platformError(error) }
    }
}
