import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

/// The card across the FFI with a real tierspay-mock, one per test; Apple Pay's side played by
/// FakePassKit (the core's PassKitSimulator).
final class CardIntegrationTests: XCTestCase {
    private var server: MockServer!
    private var dataDirs: [URL] = []

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    private func enrolledClient() async throws -> TiersPayClient {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-card-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        let store = InMemorySecureStore()
        let client = try TiersPayClient(
            configuration: TiersPayConfiguration(serverURL: server.url, dataDirectory: dir, serverPublicKey: server.publicKey, deviceName: "XCTest"),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: store)
        )
        let challenge = try await client.startEnrollment(contractNumber: "TP1000001", birthDate: "1985-04-12")
        let code = try await server.lastCode(length: challenge.codeLength)
        _ = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
        return client
    }

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

    /// Whether `event` arrives on `stream` within `seconds`.
    private func waitFor(_ event: SessionEvent, in stream: AsyncStream<SessionEvent>, seconds: Double = 5) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await e in stream where e == event { return true }
                return false
            }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
                return false
            }
            let found = await group.next() ?? false
            group.cancelAll()
            return found
        }
    }

    private func applePayToken(_ client: TiersPayClient) throws -> CardToken? {
        try client.card()?.tokens(in: .applePay).first
    }

    func testCardIsIssuedAtEnrollment() async throws {
        let client = try await enrolledClient()
        let card = try XCTUnwrap(try client.card(), "enrolling issues the card")
        XCTAssertEqual(card.last4.count, 4)
        XCTAssertTrue(card.last4.allSatisfy(\.isNumber))
        XCTAssertNotNil(card.expiry.range(of: #"^(0[1-9]|1[0-2])/\d\d$"#, options: .regularExpression), card.expiry)
        XCTAssertFalse(card.brand.isEmpty)
        XCTAssertEqual(card.status, .active)
        XCTAssertFalse(card.frozen)
        XCTAssertTrue(card.applePayEligible)
        XCTAssertFalse(card.controls.isEmpty)
        XCTAssertTrue(card.tokens(in: .applePay).isEmpty)
        XCTAssertEqual(card.maskedNumber, "•••• \(card.last4)")
        let refreshed = try await client.refreshCard()
        XCTAssertEqual(refreshed, card)
    }

    func testApplePayExchangeOpensThePassAndTheTokenGoesFromRequestedToActive() async throws {
        let client = try await enrolledClient()
        let card = try XCTUnwrap(try client.card())
        let passKit = try FakePassKit(server: server, issuer: client)
        try await passKit.registerRoot()
        let events = client.sessionEvents()

        // What the delegate does: PassKit's inputs to the core, the answer back.
        let data = try await client.applePayPassData(certificates: passKit.certificates, nonce: passKit.nonce, nonceSignature: passKit.nonceSignature)
        XCTAssertEqual(data.ephemeralPublicKey.count, 65)
        XCTAssertFalse(data.activationData.isEmpty)

        let pass = try passKit.open(data)
        XCTAssertEqual(pass.panLast4, card.last4)
        XCTAssertTrue(pass.panValid)
        XCTAssertEqual(pass.expiration, card.expiry)

        let requested = try XCTUnwrap(try applePayToken(client), "the new token is in the card's list")
        XCTAssertEqual(requested.status, .requested)

        try await server.activateToken(requested.id, activationData: data.activationData)
        let active = try await client.refreshCard()
        XCTAssertEqual(active.tokens(in: .applePay).map(\.status), [.active])
        XCTAssertEqual(active.tokens(in: .applePay).first?.id, requested.id)
        let seen = await waitFor(.cardUpdated, in: events)
        XCTAssertTrue(seen, "cardUpdated was sent")
    }

    @MainActor
    func testAddToWalletModelRunsTheWholeFlowWithTheFakeWallet() async throws {
        let client = try await enrolledClient()
        let card = try XCTUnwrap(try client.card())
        let passKit = try FakePassKit(server: server, issuer: client)
        try await passKit.registerRoot()
        let events = client.sessionEvents()

        let model = AddToWalletModel(service: client, wallet: passKit, cardholderName: "Camille Martin")
        model.load()
        XCTAssertEqual(model.state.phase, .ready)
        XCTAssertTrue(model.state.canAdd)

        await model.add()
        XCTAssertEqual(model.state.phase, .inWallet(.active), "\(model.state)")
        XCTAssertEqual(passKit.opened.count, 1)
        XCTAssertEqual(passKit.opened.first?.panLast4, card.last4)
        XCTAssertEqual(passKit.opened.first?.panValid, true)
        XCTAssertEqual(passKit.opened.first?.expiration, card.expiry)
        XCTAssertFalse(model.state.canAdd, "already in Apple Pay")
        let seen = await waitFor(.cardUpdated, in: events)
        XCTAssertTrue(seen, "cardUpdated was sent")
    }

    @MainActor
    func testFrozenCardRefusesProvisioningAndSuspendsTheTokenUntilUnfrozen() async throws {
        let client = try await enrolledClient()
        let passKit = try FakePassKit(server: server, issuer: client)
        try await passKit.registerRoot()
        let model = AddToWalletModel(service: client, wallet: passKit, cardholderName: "Camille Martin")
        model.load()
        await model.add()
        XCTAssertEqual(model.state.phase, .inWallet(.active))

        let frozen = try await client.freezeCard()
        XCTAssertTrue(frozen.frozen)
        XCTAssertEqual(frozen.status, .inactive)
        XCTAssertEqual(frozen.tokens(in: .applePay).map(\.status), [.suspended])
        XCTAssertEqual(try client.card(), frozen, "the local copy follows")
        model.load()
        XCTAssertEqual(model.state.phase, .inWallet(.suspended))

        let refused = await expectError {
            try await client.applePayPassData(certificates: passKit.certificates, nonce: passKit.nonce, nonceSignature: passKit.nonceSignature)
        }
        XCTAssertEqual(refused?.kind, .rejected(code: "card_inactive"))

        let unfrozen = try await client.unfreezeCard()
        XCTAssertFalse(unfrozen.frozen)
        XCTAssertEqual(unfrozen.status, .active)
        XCTAssertEqual(unfrozen.tokens(in: .applePay).map(\.status), [.active])
        let again = try await client.applePayPassData(certificates: passKit.certificates, nonce: passKit.nonce, nonceSignature: passKit.nonceSignature)
        XCTAssertEqual(try passKit.open(again).panLast4, unfrozen.last4, "provisioning works again")
    }

    @MainActor
    func testFrozenCardIsNotOfferedToTheWallet() async throws {
        let client = try await enrolledClient()
        let passKit = try FakePassKit(server: server, issuer: client)
        _ = try await client.freezeCard()
        let model = AddToWalletModel(service: client, wallet: passKit, cardholderName: "Camille Martin")
        model.load()
        XCTAssertEqual(model.state.phase, .frozen)
        XCTAssertFalse(model.state.canAdd)
        await model.add()
        XCTAssertEqual(passKit.opened.count, 0, "the wallet was not asked")
    }

    func testRevealGivesTheNumberEndingWithLast4AndNeverPrintsIt() async throws {
        let client = try await enrolledClient()
        let card = try XCTUnwrap(try client.card())
        let details = try await client.revealCard()
        XCTAssertTrue(details.number.hasSuffix(card.last4))
        XCTAssertGreaterThanOrEqual(details.number.count, 15)
        XCTAssertEqual(details.expiry, card.expiry)
        XCTAssertTrue((3...4).contains(details.cvc.count))
        XCTAssertEqual(details.groupedNumber.replacingOccurrences(of: " ", with: ""), details.number)

        var dumped = ""
        dump(details, to: &dumped)
        for text in ["\(details)", String(reflecting: details), dumped, "\([details])"] {
            XCTAssertFalse(text.contains(details.number), text)
            XCTAssertFalse(text.contains(card.last4), text)
        }
        XCTAssertEqual(try client.card(), card, "revealing changes nothing stored")
    }

    @MainActor
    func testAChainFromAnUntrustedSimulatorIsRefused() async throws {
        let client = try await enrolledClient()
        let trusted = try FakePassKit(server: server, issuer: client)
        try await trusted.registerRoot()
        let untrusted = try FakePassKit(server: server, issuer: client)

        let error = await expectError {
            try await client.applePayPassData(certificates: untrusted.certificates, nonce: untrusted.nonce, nonceSignature: untrusted.nonceSignature)
        }
        // The sub-CA is not signed by the root the issuer trusts.
        XCTAssertEqual(error?.kind, .rejected(code: "certificate_chain_invalid"))
        XCTAssertTrue(try client.card()?.tokens(in: .applePay).isEmpty ?? false, "no token was requested")

        let model = AddToWalletModel(service: client, wallet: untrusted, cardholderName: "Camille Martin")
        model.load()
        await model.add()
        XCTAssertEqual(model.state.phase, .failed(error!))
        XCTAssertTrue(model.state.canAdd, "the button shows again")
        XCTAssertEqual(untrusted.opened.count, 0)
    }

    func testAnEmptyChainIsInvalidInputOnCertificates() async throws {
        let client = try await enrolledClient()
        let passKit = try FakePassKit(server: server, issuer: client)
        let error = await expectError {
            try await client.applePayPassData(certificates: [], nonce: passKit.nonce, nonceSignature: passKit.nonceSignature)
        }
        XCTAssertEqual(error?.kind, .invalidInput(field: "certificates"))

        try await passKit.registerRoot()
        let short = await expectError {
            try await client.applePayPassData(certificates: passKit.certificates, nonce: passKit.nonce, nonceSignature: Data([1, 2]))
        }
        XCTAssertTrue(short?.field?.contains("nonce_signature") ?? false, "\(String(describing: short))")
    }
}
