import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

/// Paying at the doctor (issue 10) through the adapter, against the real core (across the FFI)
/// and a real tierspay-mock, one per test: the member's own card saved, a GP visit at 30 €
/// priced and authorized by the core's visit flow, tapped and captured at the mock's terminal,
/// then shown paid with the split; and an armed visit cancelled.
final class PaymentIntegrationTests: XCTestCase {
    private var server: MockServer!
    private var dataDirs: [URL] = []

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    // MARK: Helpers

    /// The demo holder enrolled, with the test card 4242… saved as her own.
    private func memberWithCard() async throws -> (TiersPayClient, MemberCard) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
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
        let card = try await client.saveMemberCard(number: "4242424242424242", expiry: "12/34", cvc: "123")
        return (client, card)
    }

    private func generalPractitioner(of client: TiersPayClient) async throws -> Provider {
        let search = try await client.searchProviders(query: "", specialty: "Médecin généraliste", city: "Paris", limit: 50)
        let gp = try XCTUnwrap(search.providers.first { $0.sector == 1 }, "no sector-1 GP in Paris")
        return try await client.selectProvider(gp.id)
    }

    /// Waits for the flow's newest state to satisfy `done`.
    private func until(_ model: VisitFlowModel, _ what: String, _ done: (VisitFlowSnapshot) -> Bool) async throws -> VisitFlowSnapshot {
        for _ in 0..<1000 {
            if let state = model.state, done(state) { return state }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("\(what): \(String(describing: model.state))")
        throw TiersPayError(kind: .internal, message: what)
    }

    /// Camille's GP visit at 30 € priced, then authorized: the flow's answer.
    private func authorized(_ model: VisitFlowModel, at gp: Provider) async throws -> VisitFlowSnapshot {
        model.start()
        let loaded = try await until(model, "loaded") { !$0.isLoading && !$0.isSearching }
        model.choose(beneficiaryId: try XCTUnwrap(loaded.beneficiaries.first { $0.firstName == "Camille" }).id)
        model.select(providerId: gp.id)
        _ = try await until(model, "selected") { $0.provider != nil }
        model.choose(actCode: "G")
        _ = try await until(model, "act") { $0.act != nil }
        model.edit(price: "30")
        model.price()
        let priced = try await until(model, "priced") { $0.preview != nil && !$0.isPricing }
        XCTAssertTrue(priced.payment.canAuthorize, "\(priced.payment)")
        model.authorize()
        XCTAssertEqual(model.state?.payment.isLocked, true, "the choices lock at once")
        return try await until(model, "authorized") { !$0.payment.isAuthorizing }
    }

    /// The terminal at `provider`'s desk taps `card` for `amount` cents and captures what was
    /// approved, as `tierspay tap` does (the mock's merchant ids are NET + the provider's code).
    private func tapAndCapture(card: String, amount: Int, at provider: Provider) async throws {
        let answer = try await server.postForm(
            "v1/test_helpers/issuing/authorizations",
            fields: [
                "card": card, "amount": String(amount), "currency": "eur",
                "merchant_data[network_id]": "NET\(provider.code)", "merchant_data[category]": "8011",
                "merchant_data[name]": String(provider.name.prefix(22)), "merchant_data[city]": provider.city,
                "merchant_data[country]": "FR",
            ]
        )
        let auth = try XCTUnwrap(try JSONSerialization.jsonObject(with: answer) as? [String: Any])
        XCTAssertEqual(auth["approved"] as? Bool, true, "\(auth)")
        let id = try XCTUnwrap(auth["id"] as? String)
        _ = try await server.postForm("v1/test_helpers/issuing/authorizations/\(id)/capture", fields: [:])
    }

    /// Expects `body` to throw a TiersPayError and returns it.
    private func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> TiersPayError? {
        do {
            let value = try await body()
            XCTFail("expected a TiersPayError, got \(value)", file: file, line: line)
        } catch let error as TiersPayError {
            return error
        } catch {
            XCTFail("expected a TiersPayError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: Tests

    func testAVisitAuthorizedTappedAndCapturedShowsPaidWithTheSplit() async throws {
        let (client, card) = try await memberWithCard()
        XCTAssertEqual(card.status, .active)
        XCTAssertEqual([card.last4, card.expiry], ["4242", "12/34"])
        XCTAssertNil(card.decline)
        XCTAssertEqual(try client.memberCard(), card, "kept on the phone, public facts only")
        let refused = await expectError { try await client.saveMemberCard(number: "4242424242424241", expiry: "12/34", cvc: "123") }
        XCTAssertEqual(refused?.kind, .invalidInput(field: "number"), "a number failing Luhn is refused")

        let gp = try await generalPractitioner(of: client)
        let model = client.visitFlow(providerCode: nil, language: .en)
        var s = try await authorized(model, at: gp)
        XCTAssertEqual(s.step, .armed, "\(String(describing: s.error))")
        let armed = try XCTUnwrap(s.payment.visit)
        XCTAssertEqual(armed.status, .armed)
        XCTAssertTrue(armed.isActive && armed.expiresAt > armed.created, "a countdown to draw: \(armed)")
        XCTAssertEqual([armed.price, armed.amo, armed.amc, armed.member].map(\.minorUnits), [3000, 1900, 900, 200])
        XCTAssertTrue(s.payment.canCancel)
        XCTAssertNil(s.payment.stale)

        // The virtual card's id as the card screen's client knows it.
        let virtualCard = try await client.refreshCard()
        try await tapAndCapture(card: virtualCard.id, amount: 3000, at: gp)

        // Settlement follows the capture through the PSP's events: refresh until paid.
        for _ in 0..<200 {
            model.refresh()
            s = try await until(model, "refreshed") { !$0.payment.isRefreshing }
            if s.payment.visit?.status == .paid { break }
            try await Task.sleep(nanoseconds: 25_000_000)
        }
        XCTAssertEqual(s.step, .finished)
        XCTAssertFalse(s.payment.canCancel)
        let paid = try XCTUnwrap(s.payment.visit)
        XCTAssertEqual(paid.status, .paid)
        let receipt = try XCTUnwrap(paid.receipt, "a receipt once paid")
        XCTAssertEqual(
            [receipt.providerPaid, receipt.amo, receipt.amc, receipt.memberCaptured, receipt.arrears].map(\.minorUnits),
            [3000, 1900, 900, 200, 0]
        )
        XCTAssertEqual(receipt.amo.displayFr, "19,00\u{a0}€")
        XCTAssertEqual(paid.summary?.en, "Paid €30.00 to \(paid.providerName): your insurers €28.00, you €2.00")
        XCTAssertTrue(paid.summary?.fr.hasPrefix("30,00\u{a0}€ payés à ") == true, "\(String(describing: paid.summary))")

        // The history has it first, offline and from the server, mapped the same.
        XCTAssertEqual(try client.visits().first, paid)
        let listed = try await client.refreshVisits()
        XCTAssertEqual(listed.first?.id, paid.id)
        XCTAssertEqual(listed.first?.receipt, receipt)
    }

    func testAnArmedVisitIsCancelledBeforeTheTap() async throws {
        let (client, _) = try await memberWithCard()
        let gp = try await generalPractitioner(of: client)
        let model = client.visitFlow(providerCode: nil, language: .fr)
        let armed = try await authorized(model, at: gp)
        XCTAssertEqual(armed.step, .armed, "\(String(describing: armed.error))")
        XCTAssertTrue(armed.payment.canCancel)
        model.cancel()
        let s = try await until(model, "cancelled") { !$0.payment.isCanceling && $0.payment.visit?.status != .armed }
        XCTAssertEqual(s.payment.visit?.status, .canceled, "\(String(describing: s.error))")
        XCTAssertEqual(s.step, .finished)
        XCTAssertFalse(s.payment.canCancel)
        XCTAssertEqual(s.payment.visit?.isActive, false)
        XCTAssertNil(s.payment.visit?.receipt)
        let listed = try XCTUnwrap(try client.visits().first)
        XCTAssertEqual(listed.id, armed.payment.visit?.id)
        XCTAssertEqual(listed.status, .canceled)
    }
}
