import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

/// Payment links through the Swift adapter, against the real core (across the FFI) and a real
/// tierspay-mock: the app pins a link key of the test's own, a link signed with it is verified
/// by the core and shown with the core's amount text; the same link altered, cut, expired, for
/// another member or on a look-alike host is refused with the core's French and English words;
/// a universal link routes to the arrears sheet.
final class ArrearsIntegrationTests: XCTestCase {
    private var server: MockServer!
    private var dataDirs: [URL] = []
    private let signer = TestLinkSigner(keyId: 9)

    override func setUpWithError() throws {
        server = try MockServer()
    }

    override func tearDown() {
        server?.stop()
        for dir in dataDirs { try? FileManager.default.removeItem(at: dir) }
    }

    /// The demo holder enrolled, with the test's link key pinned; the member's id.
    private func enrolled() async throws -> (TiersPayClient, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        let store = InMemorySecureStore()
        let client = try TiersPayClient(
            configuration: TiersPayConfiguration(
                serverURL: server.url, dataDirectory: dir, serverPublicKey: server.publicKey, deviceName: "XCTest",
                linkPublicKey: signer.publicKeyHex, linkKeyId: signer.keyId
            ),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: store)
        )
        let challenge = try await client.startEnrollment(contractNumber: "TP1000001", birthDate: "1985-04-12")
        let code = try await server.lastCode(length: challenge.codeLength)
        let profile = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
        return (client, profile.member.id)
    }

    /// Waits for the flow's newest state to satisfy `done`.
    private func until(_ model: ArrearsFlowModel, _ what: String, _ done: (ArrearsSnapshot) -> Bool) async throws -> ArrearsSnapshot {
        for _ in 0..<1000 {
            if let state = model.state, done(state) { return state }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("\(what): \(String(describing: model.state))")
        throw TiersPayError(kind: .internal, message: what)
    }

    private func refusal(_ s: ArrearsSnapshot) -> RefusedPaymentLink? {
        if case let .refused(r)? = s.link { return r }
        return nil
    }

    func testASignedLinkShowsItsFactsAndEveryBadOneIsRefused() async throws {
        let (client, member) = try await enrolled()
        let token = signer.token(
            invoiceNumber: 4021, memberId: member, amountMinor: 4250, expiresAt: Date().addingTimeInterval(86_400), channel: .sms
        )
        let url = "https://app.tierspay.fr/l/\(token)"
        XCTAssertEqual(try Router.route(forLink: url), .paymentLink(url: url))

        let model = client.arrearsFlow()
        model.open(link: URL(string: url)!)
        let shown = try await until(model, "verified") { $0.link != nil }
        guard case let .verified(link)? = shown.link else { return XCTFail("refused: \(String(describing: shown.link))") }
        XCTAssertEqual(link.amount.minorUnits, 4250)
        XCTAssertEqual(link.amount.displayFr, "42,50\u{a0}€")
        XCTAssertEqual(link.channel, .sms)
        XCTAssertEqual(link.invoiceNumber, 4021)
        XCTAssertEqual(link.keyId, 9)
        XCTAssertEqual(link.pageURL, url)

        var chars = Array(token)
        chars[100] = chars[100] == "A" ? "B" : "A"
        let altered = String(chars)
        let other = signer.token(
            invoiceNumber: 1, memberId: "mbr_someone_else", amountMinor: 900, expiresAt: Date().addingTimeInterval(600), channel: .push
        )
        let expired = signer.token(
            invoiceNumber: 1, memberId: member, amountMinor: 900, expiresAt: Date().addingTimeInterval(-5), channel: .email
        )
        let cases: [(String, RefusedPaymentLink.Reason)] = [
            ("tierspay://l/\(altered)", .badSignature),
            ("https://app.tierspay.fr/l/\(token.prefix(60))", .truncated),
            ("https://app.tierspay.fr/l/\(other)", .otherMember),
            ("https://app.tierspay.fr/l/\(expired)", .expired),
            ("https://app-tierspay.fr/l/\(token)", .notOurs),
        ]
        for (bad, reason) in cases {
            model.open(link: bad)
            let refused = try await until(model, "\(reason)") { self.refusal($0)?.reason == reason }
            let r = try XCTUnwrap(refusal(refused))
            XCTAssertFalse(r.messageFr.isEmpty || r.messageEn.isEmpty)
            XCTAssertNotEqual(r.messageFr, r.messageEn)
        }
        model.open(link: "tierspay://l/\(altered)")
        let forged = try await until(model, "forged") { self.refusal($0)?.reason == .badSignature }
        XCTAssertTrue(refusal(forged)!.messageFr.contains("Ne payez pas"))

        model.back()
        _ = try await until(model, "closed") { $0.link == nil && !$0.isOpeningLink }
    }
}
