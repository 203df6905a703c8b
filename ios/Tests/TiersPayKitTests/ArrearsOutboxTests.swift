import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Paying arrears from the app (issue 12) through the Swift adapter, against the real core
/// (across the FFI) and a real tierspay-mock: the core's outbox writes the payment before it is
/// sent, the invoice shows paid, and a second tap is answered by the core, not the shell.
final class ArrearsOutboxTests: XCTestCase {
    private var server: MockServer!
    private var dataDirs: [URL] = []

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    private func enrolledWithCard() async throws -> TiersPayClient {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        return try await server.enrolledMember(dataDirectory: dir, cardNumber: "4242424242424242")
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

    func testPaidOnceFromTheAppTheInvoiceShowsPaidAndASecondTapIsRefusedByTheCore() async throws {
        let client = try await enrolledWithCard()
        let id = try await premiumInvoice(4250, "Cotisation de novembre")
        let model = client.arrearsFlow()
        model.start()
        let open = try await until(model, "synced") { s in !s.isSyncing && s.invoices.contains { $0.id == id } }
        XCTAssertEqual(open.invoices.first { $0.id == id }?.payButton?.labelEn, "Pay €42.50")

        model.pay(invoiceId: id)
        let paid = try await until(model, "paid") { s in
            s.invoices.first { $0.id == id }.map { $0.status == .paid && $0.payment?.progress == .paid } ?? false
        }
        let invoice = try XCTUnwrap(paid.invoices.first { $0.id == id })
        XCTAssertEqual(invoice.paidVia, "app")
        XCTAssertEqual(invoice.payButton?.shows, false, "no pay button on a paid invoice")

        model.pay(invoiceId: id)
        let refused = try await until(model, "second tap answered") { $0.error != nil && $0.paying.isEmpty }
        XCTAssertTrue(refused.error?.message.contains("nothing left to pay") ?? false, "\(String(describing: refused.error))")
        let outbox = try model.outbox()
        XCTAssertEqual(outbox.count, 1, "one payment written")
        XCTAssertEqual(outbox.first?.progress, .paid)
        XCTAssertEqual(outbox.first?.amount?.minorUnits, 4250)
    }
}
