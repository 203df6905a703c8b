import Foundation
import TiersPayKit
import XCTest

// The screens' state without the core: pure transitions, and the models over a fake service.

let camille = Profile(
    deviceId: "dev_1",
    enrolledAt: Date(timeIntervalSince1970: 1_700_000_000),
    member: Member(id: "mem_1", firstName: "Camille", lastName: "Martin", phoneMasked: "+33 6 •• •• •• 42", emailMasked: "c•••@example.fr"),
    contract: Contract(id: "ctr_1", number: "TP1000001", insurerName: "Mutuelle", productName: "Confort", startDate: "2024-01-01", status: .active),
    beneficiaries: [Beneficiary(id: "ben_1", firstName: "Camille", lastName: "Martin", birthDate: "1985-04-12", relationship: .holder)]
)
let challenge = EnrollmentChallenge(enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6, expiresAt: Date(timeIntervalSince1970: 1_700_000_600))

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

    // The coverage area: scripted by `coverage` (VisitViewStateTests.swift).
    let coverage = FakeCoverage()
    func syncCoverage() async throws(TiersPayError) -> SyncSummary { try await coverage.syncCoverage() }
    func resyncCoverage() async throws(TiersPayError) -> SyncSummary { try await coverage.resyncCoverage() }
    func coveredBeneficiaries() throws(TiersPayError) -> [CoveredBeneficiary] { try coverage.coveredBeneficiaries() }
    func acts(on date: String?) throws(TiersPayError) -> [Act] { try coverage.acts(on: date) }
    func searchProviders(query: String, specialty: String?, city: String?, limit: Int) async throws(TiersPayError) -> ProviderSearch {
        try await coverage.searchProviders(query: query, specialty: specialty, city: city, limit: limit)
    }
    func selectProvider(_ idCodeOrScan: String) async throws(TiersPayError) -> Provider { try await coverage.selectProvider(idCodeOrScan) }
    func preview(beneficiaryId: String, providerId: String, actCode: String, price: String, date: String?) async throws(TiersPayError) -> CoveragePreview {
        try await coverage.preview(beneficiaryId: beneficiaryId, providerId: providerId, actCode: actCode, price: price, date: date)
    }
    func checkPreview(_ preview: CoveragePreview) async throws(TiersPayError) -> PreviewCheck { try await coverage.checkPreview(preview) }
}

final class EnrollmentViewStateTests: XCTestCase {
    func testTheContractStepNeedsBothFields() {
        var state = EnrollmentViewState()
        XCTAssertEqual(state.step, .contract)
        XCTAssertFalse(state.canSubmit)
        state.edit(contractNumber: "TP1000001")
        XCTAssertFalse(state.canSubmit)
        state.edit(birthDate: "1985-04-12")
        XCTAssertTrue(state.canSubmit)
        state.submitted()
        XCTAssertTrue(state.isSubmitting)
        XCTAssertFalse(state.canSubmit, "no double submit")
    }

    func testALinkPrefillsTheContractNumber() {
        XCTAssertEqual(EnrollmentViewState(contractNumber: "TP1000001").contractNumber, "TP1000001")
    }

    func testTheChallengeLeadsToTheCodeStepWithTheMaskedPhone() {
        var state = EnrollmentViewState(contractNumber: "TP1000001")
        state.edit(birthDate: "1985-04-12")
        state.submitted()
        state.challengeReceived(challenge)
        XCTAssertEqual(state.step, .code(enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6))
        XCTAssertFalse(state.isSubmitting)
        XCTAssertFalse(state.canSubmit)
        state.edit(code: "12 34-5a6789")
        XCTAssertEqual(state.code, "123456", "digits only, up to the code's length")
        XCTAssertTrue(state.canSubmit)
    }

    func testInvalidInputLandsOnItsField() {
        var state = EnrollmentViewState()
        state.failed(TiersPayError(kind: .invalidInput(field: "birth_date"), message: "use YYYY-MM-DD"))
        XCTAssertEqual(state.error?.field, .birthDate)
        XCTAssertEqual(state.message(for: .birthDate), "use YYYY-MM-DD")
        XCTAssertNil(state.message(for: .contractNumber))
        state.edit(contractNumber: "TP1")
        XCTAssertNotNil(state.error, "editing another field keeps the error")
        state.edit(birthDate: "1985-04-12")
        XCTAssertNil(state.error, "editing the field clears its error")

        state.failed(TiersPayError(kind: .invalidInput(field: "contract_number"), message: "malformed"))
        XCTAssertEqual(state.error?.field, .contractNumber)
        state.failed(TiersPayError(kind: .invalidInput(field: "something_new"), message: "?"))
        XCTAssertEqual(state.error?.field, .form)
    }

    func testANotMatchedContractIsAFormErrorOnTheContractStep() {
        var state = EnrollmentViewState()
        state.submitted()
        state.failed(TiersPayError(kind: .rejected(code: "enrollment_not_matched"), message: "No contract matches."))
        XCTAssertEqual(state.step, .contract)
        XCTAssertEqual(state.error, .init(field: .form, message: "No contract matches.", kind: .rejected(code: "enrollment_not_matched")))
        XCTAssertFalse(state.isSubmitting)
    }

    func testAWrongCodeStaysOnTheCodeStepAndClearsTheCode() {
        var state = EnrollmentViewState()
        state.challengeReceived(challenge)
        state.edit(code: "000000")
        state.submitted()
        state.failed(TiersPayError(kind: .rejected(code: "code_incorrect"), message: "Wrong code."))
        XCTAssertEqual(state.step, .code(enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6))
        XCTAssertEqual(state.message(for: .code), "Wrong code.")
        XCTAssertEqual(state.code, "")
    }

    func testAnExpiredCodeGoesBackToTheContractStepKeepingTheForm() {
        var state = EnrollmentViewState(contractNumber: "TP1000001")
        state.edit(birthDate: "1985-04-12")
        state.challengeReceived(challenge)
        state.failed(TiersPayError(kind: .rejected(code: "code_expired"), message: "Expired."))
        XCTAssertEqual(state.step, .contract)
        XCTAssertEqual(state.message(for: .form), "Expired.")
        XCTAssertEqual(state.contractNumber, "TP1000001")
        XCTAssertEqual(state.birthDate, "1985-04-12")
    }

    func testRateLimitAndNetworkAreFormErrorsKeepingTheStep() {
        var state = EnrollmentViewState()
        state.challengeReceived(challenge)
        state.failed(TiersPayError(kind: .rateLimited(retryAfterSeconds: 30), message: "Too many attempts."))
        XCTAssertEqual(state.error?.field, .form)
        XCTAssertEqual(state.error?.kind, .rateLimited(retryAfterSeconds: 30))
        XCTAssertEqual(state.step, .code(enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6))
        state.failed(TiersPayError(kind: .network, message: "Offline."))
        XCTAssertEqual(state.error?.field, .form)
    }

    func testEnrolledEndsTheFlow() {
        var state = EnrollmentViewState()
        state.challengeReceived(challenge)
        state.enrolled(camille)
        XCTAssertEqual(state.step, .enrolled(camille))
        XCTAssertTrue(state.isEnrolled)
        XCTAssertFalse(state.canSubmit)
    }
}

@MainActor
final class EnrollmentModelTests: XCTestCase {
    func testTheHappyPathCallsTheServiceWithTheForm() async {
        let service = FakeService()
        let model = EnrollmentModel(service: service, contractNumber: " TP1000001 ")
        model.edit(birthDate: "1985-04-12")
        await model.submitContract()
        XCTAssertEqual(model.state.step, .code(enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6))
        model.edit(code: "123456")
        await model.submitCode()
        XCTAssertEqual(model.state.step, .enrolled(camille))
        XCTAssertEqual(service.calls, ["start TP1000001 1985-04-12", "confirm enr_1 123456"])
    }

    func testErrorsComeBackOnTheirField() async {
        let service = FakeService()
        service.startResult = .failure(TiersPayError(kind: .invalidInput(field: "birth_date"), message: "bad date"))
        let model = EnrollmentModel(service: service, contractNumber: "TP1000001")
        model.edit(birthDate: "12/04/1985")
        await model.submitContract()
        XCTAssertEqual(model.state.step, .contract)
        XCTAssertEqual(model.state.message(for: .birthDate), "bad date")
        XCTAssertFalse(model.state.isSubmitting)
    }

    func testAWrongCodeThenTheRightOne() async {
        let service = FakeService()
        service.confirmResults = [.failure(TiersPayError(kind: .rejected(code: "code_incorrect"), message: "Wrong code.")), .success(camille)]
        let model = EnrollmentModel(service: service, contractNumber: "TP1000001")
        model.edit(birthDate: "1985-04-12")
        await model.submitContract()
        model.edit(code: "000000")
        await model.submitCode()
        XCTAssertEqual(model.state.message(for: .code), "Wrong code.")
        model.edit(code: "123456")
        XCTAssertNil(model.state.error)
        await model.submitCode()
        XCTAssertTrue(model.state.isEnrolled)
    }

    func testResendStartsAgainWithTheSameForm() async {
        let service = FakeService()
        let model = EnrollmentModel(service: service, contractNumber: "TP1000001")
        model.edit(birthDate: "1985-04-12")
        await model.submitContract()
        await model.resendCode()
        XCTAssertEqual(service.calls, ["start TP1000001 1985-04-12", "start TP1000001 1985-04-12"])
        XCTAssertEqual(model.state.step, .code(enrollmentId: "enr_1", phoneMasked: "+33 6 •• •• •• 42", codeLength: 6))
    }

    func testSubmitIsIgnoredOnTheWrongStep() async {
        let service = FakeService()
        let model = EnrollmentModel(service: service)
        await model.submitCode()
        XCTAssertEqual(service.calls, [])
    }

    func testADatePickerDateBecomesAnISODate() async {
        let model = EnrollmentModel(service: FakeService())
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (1985, 4, 12, 23)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        model.edit(birthDate: calendar.date(from: components)!, in: calendar.timeZone)
        XCTAssertEqual(model.state.birthDate, "1985-04-12")
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
        await app.observeSession() // drains the three events, then the stream ends
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

        // The visit's model selects that provider once it has loaded.
        let visit = app.makeVisitModel(for: launch!, language: .fr)
        await visit.load()
        XCTAssertEqual(visit.state.provider, gpProvider)
        XCTAssertEqual(service.coverage.calls.filter { $0.hasPrefix("select") }, ["select K7M2QX"])

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
        app.open(.card) // a cold start from the notification
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
