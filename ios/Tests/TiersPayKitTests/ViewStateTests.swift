import Foundation
import TiersPayKit
import XCTest

// The app's top level over a fake service: screens, links, push. (The screens' flows are the
// core's, tested in Rust and over the mock in CoverageIntegrationTests.)

let camille = Profile(
    deviceId: "dev_1",
    enrolledAt: Date(timeIntervalSince1970: 1_700_000_000),
    member: Member(id: "mem_1", firstName: "Camille", lastName: "Martin", phoneMasked: "+33 6 •• •• •• 42", emailMasked: "c•••@example.fr"),
    contract: Contract(id: "ctr_1", number: "TP1000001", insurerName: "Mutuelle", productName: "Confort", startDate: "2024-01-01", status: .active),
    beneficiaries: [Beneficiary(id: "ben_1", firstName: "Camille", lastName: "Martin", birthDate: "1985-04-12", relationship: .holder)]
)
let challenge = EnrollmentChallenge(
    enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6, expiresAt: Date(timeIntervalSince1970: 1_700_000_600))

/// A scripted TiersPayService that records its calls.
final class FakeService: TiersPayService, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [String] = []
    var startResult: Result<EnrollmentChallenge, TiersPayError> = .success(challenge)
    var confirmResults: [Result<Profile, TiersPayError>] = [.success(camille)]
    var state: Result<SessionState, TiersPayError> = .success(.notEnrolled)
    var signOutResult: Result<Void, TiersPayError> = .success(())
    let events: AsyncStream<SessionEvent>
    let eventSink: AsyncStream<SessionEvent>.Continuation

    init() {
        (events, eventSink) = AsyncStream.makeStream(of: SessionEvent.self)
    }

    var calls: [String] { lock.lock(); defer { lock.unlock() }; return _calls }
    private func record(_ call: String) { lock.lock(); _calls.append(call); lock.unlock() }

    func startEnrollment(contractNumber: String, birthDate: String) async throws(TiersPayError) -> EnrollmentChallenge {
        record("start \(contractNumber) \(birthDate)")
        return try startResult.get()
    }

    func confirmEnrollment(enrollmentId: String, code: String) async throws(TiersPayError) -> Profile {
        record("confirm \(enrollmentId) \(code)")
        let result = confirmResults.count > 1 ? confirmResults.removeFirst() : confirmResults[0]
        return try result.get()
    }

    func sessionState() throws(TiersPayError) -> SessionState { try state.get() }
    func refreshProfile() async throws(TiersPayError) -> Profile { record("refresh"); return camille }
    func signOut() async throws(TiersPayError) { record("signOut"); try signOutResult.get() }
    func sessionEvents() -> AsyncStream<SessionEvent> { events }
    var registerResult: Result<Void, TiersPayError> = .success(())
    func registerPushToken(service: PushService, token: String) async throws(TiersPayError) {
        record("registerPushToken \(service) \(token)")
        try registerResult.get()
    }

    // The flows are the core's (tested over the mock); these tests never open one.
    func enrollmentFlow(contractNumber: String?) -> EnrollmentFlowModel { fatalError("not scripted") }
    func visitFlow(providerCode: String?) -> VisitFlowModel { fatalError("not scripted") }
    func arrearsFlow() -> ArrearsFlowModel { fatalError("not scripted") }
    func threadFlow(invoiceId: String) -> ThreadFlowModel { fatalError("not scripted") }
    func walletFlow(wallet: any PaymentPassAdding, cardholderName: String) -> AddToWalletModel { fatalError("not scripted") }

    // Coverage: not scripted; the app's top level asks for none of it.
    private var unscripted: TiersPayError { TiersPayError(kind: .internal, message: "not scripted") }
    func syncCoverage() async throws(TiersPayError) -> SyncSummary { throw unscripted }
    func resyncCoverage() async throws(TiersPayError) -> SyncSummary { throw unscripted }
    func coveredBeneficiaries() throws(TiersPayError) -> [CoveredBeneficiary] { throw unscripted }
    func acts(on date: String?) throws(TiersPayError) -> [Act] { throw unscripted }
    func searchProviders(query: String, specialty: String?, city: String?, limit: Int) async throws(TiersPayError) -> ProviderSearch {
        throw unscripted
    }
    func selectProvider(_ idCodeOrScan: String) async throws(TiersPayError) -> Provider { throw unscripted }
    func preview(beneficiaryId: String, providerId: String, actCode: String, price: String, date: String?, language: Language) async throws(TiersPayError)
        -> CoveragePreview
    { throw unscripted }
    func explain(_ preview: CoveragePreview, in language: Language) throws(TiersPayError) -> [String] { throw unscripted }
    func checkPreview(_ preview: CoveragePreview) async throws(TiersPayError) -> PreviewCheck { throw unscripted }
}

final class CalendarDayAndLanguageTests: XCTestCase {
    func testADatePickerDateBecomesAnISODate() {
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (1985, 4, 12, 23)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        XCTAssertEqual(CalendarDay.iso(calendar.date(from: components)!, in: calendar.timeZone), "1985-04-12")
    }

    func testThePreferredLanguage() {
        XCTAssertEqual(Language.preferred(from: ["en-GB", "fr-FR"]), .en)
        XCTAssertEqual(Language.preferred(from: ["de-DE", "fr-CA"]), .fr)
        XCTAssertEqual(Language.preferred(from: ["de-DE", "en"]), .en)
        XCTAssertEqual(Language.preferred(from: ["es_ES"]), .fr, "the product's language otherwise")
        XCTAssertEqual(Language.preferred(from: []), .fr)
    }
}

@MainActor
final class AppModelTests: XCTestCase {
    func testLaunchShowsHomeWhenEnrolledAndEnrollmentOtherwise() async {
        let service = FakeService()
        let app = AppModel(service: service)
        XCTAssertEqual(app.screen, .launching)
        app.load()
        XCTAssertEqual(app.screen, .enrollment(contractNumber: nil))
        service.state = .success(.enrolled(camille))
        app.load()
        XCTAssertEqual(app.screen, .home(camille))
    }

    func testSessionEventsMoveBetweenScreens() async {
        let service = FakeService()
        let app = AppModel(service: service)
        app.load()
        service.state = .success(.enrolled(camille))
        service.eventSink.yield(.enrolled)
        service.eventSink.yield(.signedOut)
        service.eventSink.yield(.ended)
        service.eventSink.finish()
        await app.observeSession()  // drains the three events, then the stream ends
        XCTAssertEqual(app.screen, .enrollment(contractNumber: nil))
        XCTAssertEqual(app.alert?.kind, .sessionEnded)
    }

    func testEnrolledEventShowsHome() async {
        let service = FakeService()
        let app = AppModel(service: service)
        app.load()
        service.state = .success(.enrolled(camille))
        service.eventSink.yield(.enrolled)
        service.eventSink.finish()
        await app.observeSession()
        XCTAssertEqual(app.screen, .home(camille))
    }

    func testLinksRouteThroughTheCore() async {
        let app = AppModel(service: FakeService())
        app.load()
        app.open(link: URL(string: "https://app.tierspay.fr/enroll?contract=TP1000001")!)
        XCTAssertEqual(app.screen, .enrollment(contractNumber: "TP1000001"))
        XCTAssertNil(app.alert)
        app.open(link: URL(string: "https://evil.example/enroll")!)
        XCTAssertEqual(app.alert?.kind, .invalidInput(field: "url"))
        XCTAssertEqual(app.screen, .enrollment(contractNumber: "TP1000001"), "a refused link changes nothing")
    }

    func testAnEnrollLinkDoesNotLeaveHome() async {
        let service = FakeService()
        service.state = .success(.enrolled(camille))
        let app = AppModel(service: service)
        app.load()
        app.open(.enroll(contractNumber: "TP1000001"))
        XCTAssertEqual(app.screen, .home(camille))
    }

    func testAProviderLinkOpensAVisitForThatProvider() async {
        let service = FakeService()
        service.state = .success(.enrolled(camille))
        let app = AppModel(service: service)
        app.open(link: URL(string: "https://app.tierspay.fr/p/k7m2qx")!)
        XCTAssertEqual(app.screen, .home(camille), "a cold start from the QR code reads the session first")
        let launch = try? XCTUnwrap(app.visit)
        XCTAssertEqual(launch?.providerCode, "K7M2QX")

        // The core's visit flow selects it once loaded (core/src/app/flows/visit.rs).
        app.dismissVisit()
        XCTAssertNil(app.visit)
        app.startVisit()
        XCTAssertNil(app.visit?.providerCode, "from home: no provider yet")
    }

    func testACardEventChangesNothing() async {
        let service = FakeService()
        service.state = .success(.enrolled(camille))
        let app = AppModel(service: service)
        app.load()
        service.eventSink.yield(.cardUpdated)
        service.eventSink.finish()
        await app.observeSession()
        XCTAssertEqual(app.screen, .home(camille))
        XCTAssertNil(app.alert)
    }

    func testSignOutFailureKeepsHomeAndAlerts() async {
        let service = FakeService()
        service.state = .success(.enrolled(camille))
        service.signOutResult = .failure(TiersPayError(kind: .platform, message: "keychain"))
        let app = AppModel(service: service)
        app.load()
        await app.signOut()
        XCTAssertEqual(app.screen, .home(camille))
        XCTAssertEqual(app.alert?.kind, .platform)
        app.dismissAlert()
        service.signOutResult = .success(())
        await app.signOut()
        XCTAssertEqual(app.screen, .enrollment(contractNumber: nil))
    }

    func testThePushTokenGoesToTheCoreAsHexAndAgainAfterEachEnrollment() async {
        let service = FakeService()
        let app = AppModel(service: service)
        app.load()
        // Not enrolled, or offline: the core keeps it; nothing for the member to see.
        service.registerResult = .failure(TiersPayError(kind: .network, message: "offline"))
        await app.register(.apns(deviceToken: Data([0x00, 0x0f, 0xab, 0xff])))
        XCTAssertEqual(service.calls, ["registerPushToken apns 000fabff"])
        XCTAssertNil(app.alert)

        service.registerResult = .success(())
        service.state = .success(.enrolled(camille))
        service.eventSink.yield(.enrolled)
        service.eventSink.yield(.signedOut)
        service.eventSink.yield(.enrolled)
        service.eventSink.finish()
        await app.observeSession()
        XCTAssertEqual(service.calls.filter { $0.hasPrefix("registerPushToken") }.count, 3, "once, then after each enrollment")
        XCTAssertEqual(app.screen, .home(camille))
    }

    func testAPushAboutTheCardOpensIt() async {
        let service = FakeService()
        service.state = .success(.enrolled(camille))
        let app = AppModel(service: service)
        app.open(.card)  // a cold start from the notification
        XCTAssertEqual(app.screen, .home(camille))
        XCTAssertTrue(app.showingCard)
        app.dismissCard()
        XCTAssertFalse(app.showingCard)
        app.startVisit()
        app.open(try! Router.route(forPush: ["aps": ["alert": "Card frozen"], "link": "tierspay://card"]))
        XCTAssertTrue(app.showingCard)
        XCTAssertNil(app.visit, "the card replaces the visit sheet")

        await app.signOut()
        XCTAssertFalse(app.showingCard, "nothing of the member's card once signed out")
        app.open(.card)
        XCTAssertFalse(app.showingCard)
    }

    func testAPushAboutASupportAnswerAsksForThatThread() async throws {
        let service = FakeService()
        service.state = .success(.enrolled(camille))
        let app = AppModel(service: service)
        let route = try Router.route(forPush: [
            "aps": ["alert": "Nouveau message"], "kind": "invoice_message", "link": "tierspay://home", "invoice": "in_42",
        ])
        XCTAssertEqual(route, .invoiceThread(invoiceId: "in_42"), "the core's route")
        app.open(route)
        XCTAssertEqual(app.thread, "in_42")
        app.dismissThread()
        XCTAssertNil(app.thread)
        let bad = try Router.route(forPush: ["kind": "invoice_message", "link": "tierspay://home", "invoice": "in_../x"])
        XCTAssertEqual(bad, .home, "a malformed id leads home")
    }
}

final class PushTokenTests: XCTestCase {
    func testAnAPNsTokenIsItsBytesInLowerCaseHex() {
        XCTAssertEqual(PushToken.apns(deviceToken: Data([0x00, 0x01, 0x7f, 0x80, 0xab, 0xff])).value, "00017f80abff")
        let token = PushToken.apns(deviceToken: Data((0..<32).map { UInt8($0 * 8) }))
        XCTAssertEqual(token.service, .apns)
        XCTAssertEqual(token.value.count, 64)
        XCTAssertTrue(token.value.hasPrefix("000810"))
        XCTAssertEqual(PushToken.apns(deviceToken: Data()).value, "")
    }
}
