import Foundation
import TiersPayKit
import UIKit

/// The platform services and configuration the core is built with. No logic: wiring only.
enum Services {
    struct ConfigurationMissing: LocalizedError {
        let key: String
        var errorDescription: String? { "\(key) is not set (see ios/App/Config/Debug.xcconfig and Release.xcconfig)." }
    }

    struct InsecureServerURL: LocalizedError {
        var errorDescription: String? { "TiersPayServerURL must be https in this build (see ios/App/Config/Release.xcconfig)." }
    }

    @MainActor
    static func makeClient() throws -> TiersPayClient {
        let keychain = KeychainSecureStore(service: "fr.tierspay.core")
        // The Secure Enclave where there is one; the simulator has none and uses a CryptoKit
        // key kept in the Keychain (the core's library has no software key).
        let deviceKey: any DeviceSigningKey =
            SecureEnclaveDeviceKey.isAvailable
            ? SecureEnclaveDeviceKey(tag: "fr.tierspay.device-key")
            : SimulatorDeviceKey(store: keychain)
        return try TiersPayClient(
            configuration: TiersPayConfiguration(
                serverURL: try serverURL(),
                dataDirectory: try dataDirectory(),
                serverPublicKey: try setting("TiersPayServerPublicKey"),
                deviceName: UIDevice.current.name
            ),
            secureStore: keychain,
            deviceKey: deviceKey
        )
    }

    private static func setting(_ key: String) throws -> String {
        guard let value = Bundle.main.object(forInfoDictionaryKey: key) as? String, !value.isEmpty else {
            throw ConfigurationMissing(key: key)
        }
        return value
    }

    /// Only Debug (TIERSPAY_REQUIRES_HTTPS = NO) may name an http server, the mock on the Mac; any
    /// other build, or one whose Info.plist lacks the key, insists on https.
    private static func serverURL() throws -> URL {
        guard let url = URL(string: try setting("TiersPayServerURL")) else { throw ConfigurationMissing(key: "TiersPayServerURL") }
        let plainHTTPAllowed = (Bundle.main.object(forInfoDictionaryKey: "TiersPayRequiresHTTPS") as? String) == "NO"
        guard url.scheme == "https" || plainHTTPAllowed else { throw InsecureServerURL() }
        return url
    }

    /// Application Support/TiersPay: the core's database. Not backed up: the session is bound
    /// to this device's key, which a restore on another phone would not have.
    private static func dataDirectory() throws -> URL {
        var dir = try FileManager.default
            .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("TiersPay", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var values = URLResourceValues()
        values.isExcludedFromBackup = true
        try dir.setResourceValues(values)
        return dir
    }
}
