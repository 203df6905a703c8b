import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The invoices of issue 12 through the Swift adapter, against the real core (across the FFI)
/// and a real tierspay-mock: made by the insurer's back office, synced and listed with the
/// core's texts, and the platform's own email link verified with the pinned server key.
final class ArrearsPaymentTests: XCTestCase {
    private var server: MockServer!
    private var dataDirs: [URL] = []

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    private func enrolled() async throws -> TiersPayClient {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        return try await server.enrolledMember(dataDirectory: dir)
    }

    private func until(_ model: ArrearsFlowModel, _ what: String, _ done: (ArrearsSnapshot) -> Bool) async throws -> ArrearsSnapshot {
        for _ in 0..<1000 {
            if let state = model.state, done(state) { return state }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("\(what): \(String(describing: model.state))")
        throw TiersPayError(kind: .internal, message: what)
    }

    /// A premium arrears invoice of `amount` cents for the demo member, by the insurer's back office.
    private func premiumInvoice(_ amount: Int, _ description: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["contract": "TP1000001", "amount": amount, "description": description])
        let answer = try JSONSerialization.jsonObject(with: try await server.post("v1/insurer/arrears", json: body)) as? [String: Any]
        return try XCTUnwrap(answer?["invoice"] as? String)
    }

    /// The link a reminder on `channel` would carry, as the platform writes it.
    private func link(_ invoice: String, _ channel: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["channels": [channel]])
        let answer = try JSONSerialization.jsonObject(with: try await server.post("v1/test_helpers/invoices/\(invoice)/links", json: body))
        let data = (answer as? [String: Any])?["data"] as? [[String: Any]]
        return try XCTUnwrap(data?.first?["url"] as? String)
    }

    func testInvoicesAreSyncedWithTheCoresTextsAndThePlatformsEmailLinkIsVerified() async throws {
        let client = try await enrolled()
        let november = try await premiumInvoice(4250, "Cotisation de novembre")
        let december = try await premiumInvoice(1999, "Cotisation de decembre")
        let email = try await link(november, "email")

        let model = client.arrearsFlow()
        model.start()
        let synced = try await until(model, "synced") { !$0.isSyncing && $0.invoices.count == 2 }
        let shown = try XCTUnwrap(synced.invoices.first { $0.id == november })
        XCTAssertEqual(shown.status, .open)
        XCTAssertTrue(shown.payable)
        XCTAssertEqual(shown.amountRemaining.minorUnits, 4250)
        XCTAssertEqual(shown.amountRemaining.displayFr, "42,50\u{a0}€")
        XCTAssertEqual(synced.invoices.first { $0.id == december }?.amountDue.minorUnits, 1999)

        model.open(link: email)
        let opened = try await until(model, "verified") { $0.link != nil }
        guard case let .verified(verified)? = opened.link else { return XCTFail("refused: \(String(describing: opened.link))") }
        XCTAssertEqual(verified.amount.minorUnits, 4250)
        XCTAssertEqual(verified.channel, .email)
        XCTAssertEqual(verified.keyId, 1, "the platform signs with the pinned server key, id 1")
    }
}
