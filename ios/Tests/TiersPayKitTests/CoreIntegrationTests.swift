import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

/// The adapter against the real core (libtierspay_core, across the FFI) and a real
/// tierspay-mock on a free port, one per test.
final class CoreIntegrationTests: XCTestCase {
    static let contract = "TP1000001"
    static let birthDate = "1985-04-12"

    private var server: MockServer!
    private var dataDirs: [URL] = []

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    private func newDataDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        return dir
    }

    private func makeClient(dataDir: URL, store: any SecureStore) throws -> TiersPayClient {
        try TiersPayClient(
            configuration: TiersPayConfiguration(
                serverURL: server.url, dataDirectory: dataDir, serverPublicKey: server.publicKey, deviceName: "XCTest"
            ),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: store)
        )
    }

    private func enroll(_ client: TiersPayClient) async throws -> Profile {
        let challenge = try await client.startEnrollment(contractNumber: Self.contract, birthDate: Self.birthDate)
        let code = try await server.lastCode(length: challenge.codeLength)
        return try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
    }

    /// Expects `body` to throw a TiersPayError and returns it.
    private func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> TiersPayError? {
        do {
            let value = try await body()
            XCTFail("expected a TiersPayError, got \(value)", file: file, line: line)
        } catch let error as TiersPayError {
            XCTAssertFalse(error.message.isEmpty, "the error has a message", file: file, line: line)
            return error
        } catch {
            XCTFail("expected a TiersPayError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    func testEnrollmentSurvivesANewCoreOnTheSameDataOffline() async throws {
        let dataDir = try newDataDir()
        let store = InMemorySecureStore()
        let client = try makeClient(dataDir: dataDir, store: store)
        XCTAssertEqual(try client.sessionState(), .notEnrolled)

        let challenge = try await client.startEnrollment(contractNumber: Self.contract, birthDate: Self.birthDate)
        XCTAssertEqual(challenge.codeLength, 6)
        XCTAssertFalse(challenge.phoneMasked.isEmpty)
        XCTAssertFalse(challenge.enrollmentId.isEmpty)
        let code = try await server.lastCode(length: challenge.codeLength)
        let profile = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)

        XCTAssertEqual(profile.member.firstName, "Camille")
        XCTAssertEqual(profile.member.lastName, "Martin")
        XCTAssertEqual(profile.contract.number, Self.contract)
        XCTAssertEqual(profile.beneficiaries.count, 4)
        XCTAssertEqual(profile.beneficiaries.filter { $0.relationship == .holder }.count, 1)
        XCTAssertFalse(profile.deviceId.isEmpty)
        XCTAssertEqual(try client.sessionState(), .enrolled(profile))
        XCTAssertFalse(store.keys.isEmpty, "secrets went to the shell's secure store")

        // The server goes away; a new core on the same folder and the same secure storage
        // (a relaunch) knows the member from local data alone.
        server.stop()
        let relaunched = try makeClient(dataDir: dataDir, store: store)
        XCTAssertEqual(try relaunched.sessionState(), .enrolled(profile))
        XCTAssertEqual(relaunched.roundTrips, 0, "status is local: no request")

        // Offline, a network call fails as a network error, not a crash.
        let offline = await expectError { try await relaunched.refreshProfile() }
        XCTAssertEqual(offline?.kind, .network)
    }

    func testRefreshProfileAfterEnrollment() async throws {
        let client = try makeClient(dataDir: try newDataDir(), store: InMemorySecureStore())
        let enrolled = try await enroll(client)
        let refreshed = try await client.refreshProfile()
        XCTAssertEqual(refreshed.member, enrolled.member)
        XCTAssertEqual(refreshed.contract, enrolled.contract)
        XCTAssertEqual(refreshed.beneficiaries.count, 4)
    }

    func testWrongBirthDateIsRejectedAsNotMatched() async throws {
        let client = try makeClient(dataDir: try newDataDir(), store: InMemorySecureStore())
        let error = await expectError { try await client.startEnrollment(contractNumber: Self.contract, birthDate: "1990-01-01") }
        XCTAssertEqual(error?.kind, .rejected(code: "enrollment_not_matched"))
        XCTAssertEqual(try client.sessionState(), .notEnrolled)
    }

    func testWrongCodeIsRejectedAndTheRightOneStillWorks() async throws {
        let client = try makeClient(dataDir: try newDataDir(), store: InMemorySecureStore())
        let challenge = try await client.startEnrollment(contractNumber: Self.contract, birthDate: Self.birthDate)
        let code = try await server.lastCode(length: challenge.codeLength)
        let wrong = code == "000000" ? "111111" : "000000"

        let error = await expectError { try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: wrong) }
        XCTAssertEqual(error?.kind, .rejected(code: "code_incorrect"))
        XCTAssertEqual(try client.sessionState(), .notEnrolled)

        let profile = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
        XCTAssertEqual(try client.sessionState(), .enrolled(profile))
    }

    func testBirthDateInAnotherFormatIsInvalidInputOnThatField() async throws {
        let client = try makeClient(dataDir: try newDataDir(), store: InMemorySecureStore())
        let error = await expectError { try await client.startEnrollment(contractNumber: Self.contract, birthDate: "12/04/1985") }
        XCTAssertEqual(error?.kind, .invalidInput(field: "birth_date"))
        XCTAssertEqual(error?.field, "birth_date")
    }

    func testEventsArriveAsAnAsyncStreamEnrolledThenSignedOut() async throws {
        let store = InMemorySecureStore()
        let client = try makeClient(dataDir: try newDataDir(), store: store)
        let events = client.sessionEvents()

        _ = try await enroll(client)
        try await client.signOut()

        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        let second = await iterator.next()
        XCTAssertEqual(first, .enrolled)
        XCTAssertEqual(second, .signedOut)
        XCTAssertEqual(try client.sessionState(), .notEnrolled)
        XCTAssertTrue(store.keys.isEmpty, "sign-out wiped the secrets and the device key: \(store.keys)")
    }

    func testSecureStoreFailureArrivesAsPlatformError() async throws {
        let store = FailingStore()
        let client = try TiersPayClient(
            configuration: TiersPayConfiguration(serverURL: server.url, dataDirectory: try newDataDir(), serverPublicKey: server.publicKey),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: InMemorySecureStore())
        )
        let challenge = try await client.startEnrollment(contractNumber: Self.contract, birthDate: Self.birthDate)
        let code = try await server.lastCode(length: challenge.codeLength)
        store.failWrites = true
        let error = await expectError { try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code) }
        XCTAssertEqual(error?.kind, .platform)
        XCTAssertTrue(error?.message.contains("keychain is locked") ?? false, error?.message ?? "")
    }
}

/// Core calls that need no server.
final class CoreLocalTests: XCTestCase {
    func testLinksOfOurHostAndSchemeRoute() throws {
        XCTAssertEqual(try Router.route(forLink: "https://app.tierspay.fr/enroll?contract=tp-1000001"), .enroll(contractNumber: "TP1000001"))
        XCTAssertEqual(try Router.route(forLink: "tierspay://enroll"), .enroll(contractNumber: nil))
        XCTAssertEqual(try Router.route(forLink: URL(string: "tierspay://home")!), .home)
        XCTAssertEqual(try Router.route(forLink: "https://app.tierspay.fr/"), .home)
        XCTAssertEqual(try Router.route(forLink: "https://app.tierspay.fr/p/k7m2qx"), .provider(code: "K7M2QX"))
    }

    func testForeignLinksAreRefusedAsInvalidInput() {
        for link in [
            "https://evil.example/enroll?contract=TP1000001", "https://app.tierspay.fr.evil.com/", "http://app.tierspay.fr/", "tierspay://admin",
            "https://app.tierspay.fr/p/K7M2Q0",
        ] {
            XCTAssertThrowsError(try Router.route(forLink: link), link) { error in
                XCTAssertEqual((error as? TiersPayError)?.kind, .invalidInput(field: "url"), link)
            }
        }
    }

    func testPushPayloadsRoute() throws {
        XCTAssertEqual(
            try Router.route(forPush: ["aps": ["alert": "Hello"], "link": "tierspay://enroll?contract=TP1000001"]), .enroll(contractNumber: "TP1000001"))
        XCTAssertEqual(try Router.route(forPush: ["aps": ["alert": "Hello"]]), .home)
        XCTAssertEqual(try Router.route(forPush: ["kind": "card_frozen", "link": "tierspay://card"]), .card)
        XCTAssertThrowsError(try Router.route(forPush: ["link": "https://evil.example/"]))
    }

    func testBadServerKeyIsInvalidInput() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = InMemorySecureStore()
        XCTAssertThrowsError(
            try TiersPayClient(
                configuration: TiersPayConfiguration(serverURL: URL(string: "http://127.0.0.1:9")!, dataDirectory: dir, serverPublicKey: "04abcd"),
                secureStore: store, deviceKey: SoftwareDeviceKey(store: store)
            )
        ) { error in
            XCTAssertEqual((error as? TiersPayError)?.kind, .invalidInput(field: "server_public_key"))
        }
    }

    func testSoftwareKeyIsAP256PointAndStableForItsStore() throws {
        let store = InMemorySecureStore()
        let key = try SoftwareDeviceKey(store: store).publicKey()
        XCTAssertEqual(key.count, 65)
        XCTAssertEqual(key.first, 0x04)
        XCTAssertEqual(try SoftwareDeviceKey(store: store).publicKey(), key, "same store, same key")
        XCTAssertNotEqual(try SoftwareDeviceKey(store: InMemorySecureStore()).publicKey(), key)
        XCTAssertFalse(try SoftwareDeviceKey(store: store).sign(Data("m".utf8)).isEmpty)
    }

    /// The library the package links is the core crate of this checkout: its version is the one
    /// core/Cargo.toml declares (a stale or foreign libtierspay_core would report another).
    func testCoreVersionIsTheCoreCratesVersion() throws {
        // This file is ios/Tests/TiersPayKitTests/…: the package is two folders up, the core beside it.
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let manifest = package.appendingPathComponent("../core/Cargo.toml").standardizedFileURL
        let expected = try XCTUnwrap(
            Self.packageVersion(inCargoManifest: String(contentsOf: manifest, encoding: .utf8)),
            "no [package] version in \(manifest.path)")
        XCTAssertEqual(TiersPayClient.coreVersion, expected)
    }

    /// `version = "…"` of the `[package]` table, nothing else (dependencies have versions too).
    private static func packageVersion(inCargoManifest text: String) -> String? {
        var table = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[") {
                table = line.trimmingCharacters(in: CharacterSet(charactersIn: "[] "))
                continue
            }
            guard table == "package", line.hasPrefix("version") else { continue }
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "version", parts[1].hasPrefix("\""), parts[1].dropFirst().contains("\"") else { continue }
            return String(parts[1].dropFirst().prefix { $0 != "\"" })
        }
        return nil
    }
}

/// Secure storage whose writes fail on demand, like a locked Keychain.
final class FailingStore: SecureStore, @unchecked Sendable {
    private let inner = InMemorySecureStore()
    private let lock = NSLock()
    private var _failWrites = false
    var failWrites: Bool {
        get { lock.lock(); defer { lock.unlock() }; return _failWrites }
        set { lock.lock(); _failWrites = newValue; lock.unlock() }
    }

    func read(_ key: String) throws -> Data? { try inner.read(key) }
    func write(_ key: String, _ value: Data) throws {
        if failWrites { throw PlatformServiceError("keychain is locked") }
        try inner.write(key, value)
    }
    func remove(_ key: String) throws { try inner.remove(key) }
}
