import Foundation
internal import TiersPayCore

/// What the screens need from the core. View models depend on this protocol, so they are
/// tested with a fake; TiersPayClient is the real one.
public protocol EnrollmentService: Sendable {
    /// Sends a one-time code by SMS to the phone on file. `birthDate` is `YYYY-MM-DD`.
    func startEnrollment(contractNumber: String, birthDate: String) async throws(TiersPayError) -> EnrollmentChallenge
    /// Confirms the code and registers this device; returns the profile.
    func confirmEnrollment(enrollmentId: String, code: String) async throws(TiersPayError) -> Profile
}

public protocol TiersPayService: EnrollmentService {
    /// Enrolled or not, read locally: no network, works offline.
    func sessionState() throws(TiersPayError) -> SessionState
    /// Fetches member, contract and beneficiaries and updates the local copy.
    func refreshProfile() async throws(TiersPayError) -> Profile
    /// Revokes this device when the server is reachable, then wipes local data. Works offline.
    func signOut() async throws(TiersPayError)
    /// Session events from now on; the core subscription ends when the stream does.
    func sessionEvents() -> AsyncStream<SessionEvent>
}

/// Where the core talks to and keeps its data.
public struct TiersPayConfiguration: Equatable, Sendable {
    public var serverURL: URL
    /// A folder of its own for the core's database (Application Support on iOS).
    public var dataDirectory: URL
    /// The server's P-256 public key, hex of the uncompressed point (pinned).
    public var serverPublicKey: String
    /// Shown to the member among their devices (`iPhone de Camille`).
    public var deviceName: String?

    public init(serverURL: URL, dataDirectory: URL, serverPublicKey: String, deviceName: String? = nil) {
        self.serverURL = serverURL
        self.dataDirectory = dataDirectory
        self.serverPublicKey = serverPublicKey
        self.deviceName = deviceName
    }
}

/// The core, for the shell: one per app process, built at launch (no network in init).
public final class TiersPayClient: TiersPayService, @unchecked Sendable {
    // @unchecked: both are immutable handles to thread-safe core objects.
    private let core: TiersPayCore.TiersPay
    private let enrollment: TiersPayCore.Enrollment

    public init(configuration: TiersPayConfiguration, secureStore: any SecureStore, deviceKey: any DeviceSigningKey) throws(TiersPayError) {
        let config = CoreConfig(
            serverUrl: configuration.serverURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
            dataDir: configuration.dataDirectory.path,
            serverPublicKey: configuration.serverPublicKey,
            deviceName: configuration.deviceName
        )
        core = try mapErrors {
            try TiersPayCore.TiersPay(config: config, secureStorage: SecureStoreBridge(secureStore), deviceKey: DeviceKeyBridge(deviceKey))
        }
        enrollment = core.enrollment()
    }

    public func sessionState() throws(TiersPayError) -> SessionState {
        try mapErrors { SessionState(try core.status()) }
    }

    public func startEnrollment(contractNumber: String, birthDate: String) async throws(TiersPayError) -> EnrollmentChallenge {
        try await mapErrors { EnrollmentChallenge(try await enrollment.start(contractNumber: contractNumber, birthDate: birthDate)) }
    }

    public func confirmEnrollment(enrollmentId: String, code: String) async throws(TiersPayError) -> Profile {
        try await mapErrors { Profile(try await enrollment.confirm(enrollmentId: enrollmentId, code: code)) }
    }

    public func refreshProfile() async throws(TiersPayError) -> Profile {
        try await mapErrors { Profile(try await core.refreshProfile()) }
    }

    public func signOut() async throws(TiersPayError) {
        try await mapErrors { try await core.signOut() }
    }

    public func sessionEvents() -> AsyncStream<SessionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: SessionEvent.self, bufferingPolicy: .unbounded)
        let subscription = core.subscribe(listener: StreamListener(continuation))
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }

    /// HTTP requests sent since this client was built (a diagnostic).
    public var roundTrips: UInt64 { core.roundTrips() }

    /// The core library's version, e.g. `0.1.0`.
    public static var coreVersion: String { TiersPayCore.coreVersion() }
}

/// Feeds core events into an AsyncStream. Called on a core thread; yield does not block.
private final class StreamListener: SessionListener {
    let continuation: AsyncStream<SessionEvent>.Continuation
    init(_ continuation: AsyncStream<SessionEvent>.Continuation) { self.continuation = continuation }
    func onEvent(event: TiersPayCore.SessionEvent) { continuation.yield(SessionEvent(event)) }
}

/// Where links and push messages lead. The core decides; foreign links are refused.
public enum Router {
    /// A universal link (`https://app.tierspay.fr/…`) or a `tierspay://` URL.
    public static func route(forLink url: String) throws(TiersPayError) -> AppRoute {
        try mapErrors { AppRoute(try routeForLink(url: url)) }
    }

    public static func route(forLink url: URL) throws(TiersPayError) -> AppRoute {
        try route(forLink: url.absoluteString)
    }

    /// A push payload (`userInfo`); only its string entries are read (`link`, …).
    public static func route(forPush userInfo: [AnyHashable: Any]) throws(TiersPayError) -> AppRoute {
        var data: [String: String] = [:]
        for case let (key as String, value as String) in userInfo { data[key] = value }
        return try mapErrors { AppRoute(try routeForPush(data: data)) }
    }
}
