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

    /// The model's newest state once `done` holds (the core's flow answers on its own threads).
    private func until(
        _ model: AddToWalletModel, _ what: String, file: StaticString = #filePath, line: UInt = #line, _ done: (WalletFlowSnapshot) -> Bool
    ) async throws -> WalletFlowSnapshot {
        for _ in 0..<1000 {
            if let state = model.state, done(state) { return state }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("\(what): \(String(describing: model.state))", file: file, line: line)
        throw TiersPayError(kind: .internal, message: what)
    }

    private func loaded(_ model: AddToWalletModel) async throws -> WalletFlowSnapshot {
        model.start()
        return try await until(model, "card read") { !$0.isLoading && !$0.isRefreshing && $0.card != nil }
    }

    func testAddToWalletModelRunsTheWholeFlowWithTheFakeWallet() async throws {
        let client = try await enrolledClient()
        let card = try XCTUnwrap(try client.card())
        let passKit = try FakePassKit(server: server, issuer: client)
        try await passKit.registerRoot()
        let events = client.sessionEvents()

        let model = client.walletFlow(wallet: passKit, cardholderName: "Camille Martin")
        var s = try await loaded(model)
        XCTAssertEqual(s.availability, .ready)
        XCTAssertTrue(s.showsAdd && s.canAdd)

        model.add()
        // The card is read again after the sheet: its token, activated by the wallet.
        s = try await until(model, "added") { !$0.isBusy && $0.outcome == .added }
        XCTAssertEqual(s.availability, .inWallet(.active), "\(s)")
        XCTAssertEqual(passKit.opened.count, 1)
        XCTAssertEqual(passKit.opened.first?.panLast4, card.last4)
        XCTAssertEqual(passKit.opened.first?.panValid, true)
        XCTAssertEqual(passKit.opened.first?.expiration, card.expiry)
        XCTAssertFalse(s.canAdd, "already in Apple Pay")
        XCTAssertFalse(s.showsAdd)
        let seen = await waitFor(.cardUpdated, in: events)
        XCTAssertTrue(seen, "cardUpdated was sent")
    }

    func testACanceledSheetReadsTheCardAgain() async throws {
        let client = try await enrolledClient()
        let passKit = try FakePassKit(server: server, issuer: client)
        try await passKit.registerRoot()
        passKit.cancels = true
        let model = client.walletFlow(wallet: passKit, cardholderName: "Camille Martin")
        let steps = Task {
            var seen: [WalletFlowSnapshot.Step] = []
            for await state in model.states {
                if seen.last != state.step { seen.append(state.step) }
                if state.outcome == .canceled && !state.isBusy { break }
            }
            return seen
        }
        _ = try await loaded(model)
        let before = client.roundTrips
        model.add()
        let s = try await until(model, "canceled") { !$0.isBusy && $0.outcome == .canceled }
        let seen = await steps.value
        XCTAssertEqual(
            Array(seen.drop { $0 == .idle }), [.presentingSheet, .callingIssuer, .handingToWallet, .refreshing, .idle],
            "the card read again after the sheet closed"
        )
        XCTAssertGreaterThan(client.roundTrips, before + 1, "the exchange, then the card")
        XCTAssertNil(s.error)
        XCTAssertEqual(s.card, try client.card(), "the card as the issuer now has it")
        XCTAssertEqual(
            try client.card()?.tokens(in: .applePay).first?.status, .requested,
            "the issuer kept the token it made for the pass")
        XCTAssertEqual(s.availability, .ready, "that token alone does not hide the button")
        XCTAssertTrue(s.canAdd, "the member may try again")
    }

    func testFrozenCardRefusesProvisioningAndSuspendsTheTokenUntilUnfrozen() async throws {
        let client = try await enrolledClient()
        let passKit = try FakePassKit(server: server, issuer: client)
        try await passKit.registerRoot()
        let model = client.walletFlow(wallet: passKit, cardholderName: "Camille Martin")
        _ = try await loaded(model)
        model.add()
        var s = try await until(model, "added") { !$0.isBusy && $0.outcome == .added }
        XCTAssertEqual(s.availability, .inWallet(.active))

        let frozen = try await client.freezeCard()
        XCTAssertTrue(frozen.frozen)
        XCTAssertEqual(frozen.status, .inactive)
        XCTAssertEqual(frozen.tokens(in: .applePay).map(\.status), [.suspended])
        XCTAssertEqual(try client.card(), frozen, "the local copy follows")
        model.reload()
        s = try await until(model, "suspended") { $0.availability == .inWallet(.suspended) }
        XCTAssertEqual(s.card, frozen)

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

    func testFrozenCardIsNotOfferedToTheWallet() async throws {
        let client = try await enrolledClient()
        let passKit = try FakePassKit(server: server, issuer: client)
        _ = try await client.freezeCard()
        let model = client.walletFlow(wallet: passKit, cardholderName: "Camille Martin")
        var s = try await loaded(model)
        XCTAssertEqual(s.availability, .inactive)
        XCTAssertFalse(s.showsAdd, "no button for a frozen card")
        XCTAssertFalse(s.canAdd)
        model.add()
        XCTAssertEqual(model.state?.isBusy, false, "the core starts nothing")
        XCTAssertEqual(passKit.opened.count, 0, "the wallet was not asked")

        // Unfrozen through the model: the button comes back; frozen again, it goes.
        model.setFrozen(false)
        s = try await until(model, "unfrozen") { !$0.isFreezing && $0.card?.frozen == false }
        XCTAssertTrue(s.showsAdd && s.canAdd)
        model.setFrozen(true)
        s = try await until(model, "frozen") { !$0.isFreezing && $0.card?.frozen == true }
        XCTAssertFalse(s.showsAdd)
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

        let model = client.walletFlow(wallet: untrusted, cardholderName: "Camille Martin")
        _ = try await loaded(model)
        model.add()
        let s = try await until(model, "refused") { !$0.isBusy && $0.error != nil }
        XCTAssertEqual(s.error?.kind, .rejected)
        XCTAssertEqual(s.error?.code, "certificate_chain_invalid")
        XCTAssertEqual(s.error?.message, error?.message)
        XCTAssertEqual(s.error?.isPlatform, false)
        XCTAssertTrue(s.canAdd, "the button shows again")
        XCTAssertEqual(untrusted.opened.count, 0)
        model.dismissError()
        XCTAssertNil(model.state?.error)
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
