import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

/// Push across the FFI with a real tierspay-mock: the APNs token handed to the core reaches the
/// platform, and the platform's pushes (the card frozen) are addressed to it, as the mock's
/// outbox shows.
final class PushIntegrationTests: XCTestCase {
    private var server: MockServer!
    private var dataDirs: [URL] = []

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    private func makeClient() throws -> TiersPayClient {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-push-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        let store = InMemorySecureStore()
        return try TiersPayClient(
            configuration: TiersPayConfiguration(serverURL: server.url, dataDirectory: dir, serverPublicKey: server.publicKey, deviceName: "XCTest"),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: store)
        )
    }

    private func enroll(_ client: TiersPayClient) async throws {
        let challenge = try await client.startEnrollment(contractNumber: "TP1000001", birthDate: "1985-04-12")
        let code = try await server.lastCode(length: challenge.codeLength)
        _ = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
    }

    /// A device token as APNs gives it: 32 random bytes.
    private func deviceToken() -> PushToken {
        .apns(deviceToken: Data((0..<32).map { _ in UInt8.random(in: 0...255) }))
    }

    func testFreezingTheCardPushesToTheRegisteredToken() async throws {
        let client = try makeClient()
        try await enroll(client)
        let token = deviceToken()
        try await client.registerPushToken(service: token.service, token: token.value)
        let before = client.roundTrips
        try await client.registerPushToken(service: token.service, token: token.value)
        XCTAssertEqual(client.roundTrips, before, "the same token again sends nothing")
        let none = try await server.pushes(to: token.value)
        XCTAssertTrue(none.isEmpty)

        _ = try await client.freezeCard()
        let pushes = try await server.pushes(to: token.value)
        XCTAssertEqual(pushes.count, 1)
        let push = try XCTUnwrap(pushes.first)
        XCTAssertEqual(push.recipient, token.value)
        XCTAssertEqual(push.data["kind"], "card_frozen")
        XCTAssertEqual(push.data["service"], "apns")
        // What AppDelegate hands to the core when the member taps the notification.
        XCTAssertEqual(try Router.route(forPush: push.data), .card)
    }

    func testATokenFromBeforeEnrollmentIsRegisteredWithItAndANewOneReplacesIt() async throws {
        let client = try makeClient()
        let first = deviceToken()
        // Launch: APNs answers before the member enrolled; the core keeps the token.
        try await client.registerPushToken(service: first.service, token: first.value)
        try await enroll(client)
        _ = try await client.freezeCard()
        let toFirst = try await server.pushes(to: first.value)
        XCTAssertEqual(toFirst.map { $0.data["kind"] }, ["card_frozen"])

        // APNs gave a new token (restore, reinstall): the platform sends to it only.
        let second = deviceToken()
        try await client.registerPushToken(service: second.service, token: second.value)
        _ = try await client.unfreezeCard()
        let toSecond = try await server.pushes(to: second.value)
        XCTAssertEqual(toSecond.map { $0.data["kind"] }, ["card_active"])
        let stillFirst = try await server.pushes(to: first.value)
        XCTAssertEqual(stillFirst.count, 1, "nothing more to the old token")
    }

    func testAMalformedTokenIsInvalidInputBeforeAnyRequest() async throws {
        let client = try makeClient()
        try await enroll(client)
        let before = client.roundTrips
        do {
            try await client.registerPushToken(service: .apns, token: "<0001 abff>")
            XCTFail("a token's description is not its hex")
        } catch {
            XCTAssertEqual((error as Error as? TiersPayError)?.kind, .invalidInput(field: "token"))
        }
        XCTAssertEqual(client.roundTrips, before)
    }
}
