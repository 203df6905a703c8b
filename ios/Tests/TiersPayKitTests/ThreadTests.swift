import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An invoice's message thread (issue 14) through the Swift adapter, against the real core
/// (across the FFI) and a real tierspay-mock: a text the core refuses names its field and sends
/// nothing; a message is sent once; support's answer joins the thread; a push about it routes
/// to the thread; written with the server gone, a message waits as pending.
final class ThreadTests: XCTestCase {
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

    private func until(_ model: ThreadFlowModel, _ what: String, _ done: (ThreadSnapshot) -> Bool) async throws -> ThreadSnapshot {
        for _ in 0..<1000 {
            if let state = model.state, done(state) { return state }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("\(what): \(String(describing: model.state))")
        throw TiersPayError(kind: .internal, message: what)
    }

    private func post(_ path: String, _ object: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: object)
        let answer = try await server.post(path, json: body)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: answer) as? [String: Any])
    }

    func testAMessageIsSentOnceSupportAnswersAndOfflineOneWaits() async throws {
        let client = try await enrolled()
        let created = try await post("v1/insurer/arrears", ["contract": "TP1000001", "amount": 4250, "description": "Cotisation"])
        let invoice = try XCTUnwrap(created["invoice"] as? String)
        let model = client.threadFlow(invoiceId: invoice)
        model.start()
        _ = try await until(model, "read") { !$0.isSyncing && $0.revision > 1 }

        model.send("   ")
        let refused = try await until(model, "refused") { $0.error != nil }
        XCTAssertEqual(refused.error?.kind, .invalidInput)
        XCTAssertEqual(refused.error?.field, "text")
        XCTAssertTrue(refused.messages.isEmpty)

        model.send("Bonjour, je paierai vendredi.")
        let sent = try await until(model, "sent") { $0.messages.contains { $0.state == .sent } }
        XCTAssertEqual(sent.messages.map(\.text), ["Bonjour, je paierai vendredi."])

        _ = try await post(
            "v1/test_helpers/invoice_messages",
            ["invoice": invoice, "staff_id": "stf_claire", "display_name": "Claire", "text": "Bien reçu."])
        model.refresh()
        let answered = try await until(model, "answer") { s in !s.isSyncing && s.messages.contains { $0.fromSupport } }
        XCTAssertEqual(answered.messages.count, 2)
        XCTAssertEqual(answered.messages.last?.authorName, "Claire")
        XCTAssertEqual(
            try Router.route(forPush: ["kind": "invoice_message", "link": "tierspay://home", "invoice": invoice]),
            .invoiceThread(invoiceId: invoice))

        server.stop()
        model.send("Pouvez-vous m'envoyer le détail ?")
        let waiting = try await until(model, "pending") { $0.pending == 1 && $0.writing == 0 }
        XCTAssertEqual(waiting.messages.last?.state, .pending)
        XCTAssertEqual(waiting.messages.count, 3)
    }
}
