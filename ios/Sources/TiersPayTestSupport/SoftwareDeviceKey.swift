import Foundation
internal import TiersPayCore
import TiersPayKit

/// The core's software P-256 key (the `p256` crate), kept in `store`: for tests and the
/// benchmark, where no Secure Enclave exists; the same store gives the same key back. It needs
/// the core built with its `testing` feature (`make bindings` turns it on); the app's library
/// has no software key (the app's simulator fallback is CryptoKit, in App/).
public final class SoftwareDeviceKey: DeviceSigningKey, @unchecked Sendable {
    // @unchecked: the core's key is thread-safe.
    private let key: any TiersPayCore.DeviceKey

    public init(store: any SecureStore) {
        key = softwareDeviceKey(storage: StoreBridge(store))
    }

    public func publicKey() throws -> Data { try mapPlatform { try key.publicKey() } }
    public func sign(_ message: Data) throws -> Data { try mapPlatform { try key.sign(message: message) } }
    public func delete() throws { try mapPlatform { try key.delete() } }

    private func mapPlatform<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let PlatformError.Failed(detail) { throw PlatformServiceError(detail) }
    }
}

/// A shell's SecureStore as the core's SecureStorage, for the software key above.
private final class StoreBridge: TiersPayCore.SecureStorage, @unchecked Sendable {
    let store: any SecureStore
    init(_ store: any SecureStore) { self.store = store }

    func get(key: String) throws -> Data? {
        do { return try store.read(key) } catch { throw Self.platformError(error) }
    }

    func set(key: String, value: Data) throws {
        do { try store.write(key, value) } catch { throw Self.platformError(error) }
    }

    func delete(key: String) throws {
        do { try store.remove(key) } catch { throw Self.platformError(error) }
    }

    private static func platformError(_ error: any Error) -> PlatformError {
        switch error {
        case let e as PlatformError: return e
        case let e as PlatformServiceError: return .Failed(detail: e.detail)
        default: return .Failed(detail: String(describing: error))
        }
    }
}
