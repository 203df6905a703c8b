import Foundation
import TiersPayKit
import XCTest

// The visit screen's state without the core: pure transitions, and VisitModel over a fake
// coverage service. Money and language helpers too.

let camilleCovered = CoveredBeneficiary(id: "ben_camille", firstName: "Camille", lastName: "Martin", birthDate: "1985-04-12", relationship: .holder, inParcours: true, ald: false)
let leaCovered = CoveredBeneficiary(id: "ben_lea", firstName: "Léa", lastName: "Martin", birthDate: "2021-06-01", relationship: .child, inParcours: true, ald: false)
let actG = Act(code: "G", label: "Consultation de médecine générale", category: .consultation, base: Money(cents: 30_00))
let actGMEG = Act(code: "GMEG", label: "Consultation de l'enfant", category: .consultation, base: Money(cents: 35_00))
let gpProvider = Provider(id: "prv_gp", code: "K7M2QX", name: "Dr Claire Durand", specialty: "Médecin généraliste", sector: 1, optam: false, directAccess: false, city: "Paris", postcode: "75011")
let dentistProvider = Provider(id: "prv_dent", code: "D3NT22", name: "Dr Paul Roux", specialty: "Chirurgien-dentiste", sector: 1, optam: false, directAccess: true, city: "Paris", postcode: "75012")

func gPreview(id: String = "pv_1", member: Int64 = 2_00) -> CoveragePreview {
    CoveragePreview(
        id: id, beneficiaryId: "ben_camille", providerId: "prv_gp", actCode: "G", actLabel: "Consultation de médecine générale",
        price: Money(cents: 30_00), date: "2026-03-02", amo: Money(cents: 19_00), amc: Money(cents: 30_00 - 19_00 - member),
        member: Money(cents: member), base: Money(cents: 30_00), amoRate: Decimal(string: "0.70")!, guarantee: "100 % BR incl. SS",
        deductions: [Deduction(kind: .participationForfaitaire, amount: Money(cents: 2_00))],
        explanations: [
            Explanation(fr: "L'Assurance Maladie rembourse 70 % de 30,00 €.", en: "Statutory insurance pays 70% of €30.00."),
            Explanation(fr: "2,00 € de participation forfaitaire restent à votre charge.", en: "€2.00 flat-rate contribution is yours to pay."),
        ]
    )
}

func check(_ holds: Bool, amc: Int64 = 9_00) -> PreviewCheck {
    PreviewCheck(holds: holds, serverPreviewId: "pv_server", amo: Money(cents: 19_00), amc: Money(cents: amc), member: Money(cents: 30_00 - 19_00 - amc))
}

let notSynced = TiersPayError(kind: .notSynced, message: "Your contract's guarantees are not on this phone yet.")
let offline = TiersPayError(kind: .network, message: "The server could not be reached.")

/// A scripted CoverageService that records its calls. Results with several entries are used
/// in turn, the last one for good.
final class FakeCoverage: CoverageService, @unchecked Sendable {
    private let lock = NSLock()
    private var _calls: [String] = []
    var beneficiaryResults: [Result<[CoveredBeneficiary], TiersPayError>] = [.success([camilleCovered, leaCovered])]
    var actsResult: (String?) -> Result<[Act], TiersPayError> = { _ in .success([actG, actGMEG]) }
    var syncResult: Result<SyncSummary, TiersPayError> = .success(SyncSummary(contractUpdated: true, tariffsUpdated: false, bytes: 1200))
    var searchResult: Result<ProviderSearch, TiersPayError> = .success(ProviderSearch(providers: [gpProvider], offline: false))
    var selectResult: (String) -> Result<Provider, TiersPayError> = { key in
        [gpProvider, dentistProvider].first { key == $0.id || key.uppercased() == $0.code || key == "https://app.tierspay.fr/p/\($0.code)" }
            .map { .success($0) } ?? .failure(TiersPayError(kind: .invalidInput(field: "scan"), message: "this QR code is not a TiersPay provider code"))
    }
    var previewResults: [Result<CoveragePreview, TiersPayError>] = [.success(gPreview())]
    var checkResults: [Result<PreviewCheck, TiersPayError>] = [.success(check(true))]

    var calls: [String] { lock.lock(); defer { lock.unlock() }; return _calls }
    private func record(_ call: String) { lock.lock(); _calls.append(call); lock.unlock() }
    private func next<T>(_ results: inout [Result<T, TiersPayError>]) throws(TiersPayError) -> T {
        lock.lock()
        let result = results.count > 1 ? results.removeFirst() : results[0]
        lock.unlock()
        return try result.get()
    }

    func syncCoverage() async throws(TiersPayError) -> SyncSummary { record("sync"); return try syncResult.get() }
    func resyncCoverage() async throws(TiersPayError) -> SyncSummary { record("resync"); return try syncResult.get() }
    func coveredBeneficiaries() throws(TiersPayError) -> [CoveredBeneficiary] { record("beneficiaries"); return try next(&beneficiaryResults) }
    func acts(on date: String?) throws(TiersPayError) -> [Act] { record("acts \(date ?? "today")"); return try actsResult(date).get() }
    func searchProviders(query: String, specialty: String?, city: String?, limit: Int) async throws(TiersPayError) -> ProviderSearch {
        record("search '\(query)' \(specialty ?? "-") \(city ?? "-")")
        return try searchResult.get()
    }
    func selectProvider(_ idCodeOrScan: String) async throws(TiersPayError) -> Provider {
        record("select \(idCodeOrScan)")
        return try selectResult(idCodeOrScan).get()
    }
    func preview(beneficiaryId: String, providerId: String, actCode: String, price: String, date: String?) async throws(TiersPayError) -> CoveragePreview {
        record("preview \(beneficiaryId) \(providerId) \(actCode) \(price) \(date ?? "today")")
        return try next(&previewResults)
    }
    func checkPreview(_ preview: CoveragePreview) async throws(TiersPayError) -> PreviewCheck {
        record("check \(preview.id)")
        return try next(&checkResults)
    }
}

final class VisitViewStateTests: XCTestCase {
    /// A state with the lists loaded.
    private func loaded(_ language: Language = .fr) -> VisitViewState {
        var state = VisitViewState(language: language)
        state.loaded(beneficiaries: [camilleCovered, leaCovered], acts: [actG, actGMEG])
        return state
    }

    /// A state showing the G preview.
    private func priced(_ language: Language = .fr) -> VisitViewState {
        var state = loaded(language)
        state.choose(beneficiary: camilleCovered)
        state.providerSelected(gpProvider)
        state.choose(act: actG)
        state.edit(price: "30")
        let request = state.pricingStarted()!
        state.priced(gPreview(), for: request)
        return state
    }

    func testTheStepIsTheFirstThingStillMissing() {
        var state = VisitViewState(language: .fr)
        XCTAssertEqual(state.step, .loading)
        XCTAssertTrue(state.isBusy)
        state.loaded(beneficiaries: [camilleCovered, leaCovered], acts: [actG, actGMEG])
        XCTAssertEqual(state.step, .beneficiary)
        XCTAssertFalse(state.isBusy)
        state.choose(beneficiary: camilleCovered)
        XCTAssertEqual(state.step, .provider)
        state.providerSelected(gpProvider)
        XCTAssertEqual(state.step, .act)
        state.choose(act: actG)
        XCTAssertEqual(state.step, .amount)
        XCTAssertFalse(state.canPrice, "no amount yet")
        state.edit(price: "  ")
        XCTAssertFalse(state.canPrice)
        state.edit(price: "30,50")
        XCTAssertTrue(state.canPrice)
        let request = state.pricingStarted()
        XCTAssertEqual(request, .init(beneficiaryId: "ben_camille", providerId: "prv_gp", actCode: "G", price: "30,50", date: nil))
        XCTAssertTrue(state.isPricing)
        XCTAssertFalse(state.canPrice, "no double submit")
        XCTAssertNil(state.pricingStarted())
        state.priced(gPreview(), for: request!)
        XCTAssertEqual(state.step, .result)
        XCTAssertEqual(state.check, .checking)
    }

    func testAProviderFromALinkFirstStillAsksWhoTheVisitIsFor() {
        var state = loaded()
        state.providerSelected(gpProvider)
        XCTAssertEqual(state.step, .beneficiary)
        state.choose(beneficiary: leaCovered)
        XCTAssertEqual(state.step, .act, "the provider is already there")
    }

    func testChangingAChoiceDropsTheFiguresAndGoesBackToIt() {
        var state = priced()
        state.choose(beneficiary: camilleCovered)
        XCTAssertNotNil(state.preview, "the same beneficiary again changes nothing")
        state.edit(price: "35")
        XCTAssertNil(state.preview)
        XCTAssertNil(state.check)
        XCTAssertEqual(state.step, .amount)

        state = priced()
        state.choose(beneficiary: leaCovered)
        XCTAssertEqual(state.step, .amount, "another beneficiary: price again")
        state = priced()
        state.changeProvider()
        XCTAssertEqual(state.step, .provider)
        XCTAssertNil(state.preview)
        state = priced()
        state.edit(date: "2026-03-03")
        XCTAssertEqual(state.step, .amount)

        // "Change" on one choice keeps the others: choosing again goes straight to pricing.
        state = priced()
        state.changeBeneficiary()
        XCTAssertEqual(state.step, .beneficiary)
        XCTAssertEqual(state.provider, gpProvider)
        state.choose(beneficiary: leaCovered)
        XCTAssertEqual(state.step, .amount)
        XCTAssertEqual(state.price, "30")
        state.changeAct()
        XCTAssertEqual(state.step, .act)
        state.choose(act: actGMEG)
        XCTAssertEqual(state.step, .amount)
        XCTAssertTrue(state.canPrice)
    }

    func testAnAnswerForChoicesTheMemberChangedMeanwhileIsDropped() {
        var state = loaded()
        state.choose(beneficiary: camilleCovered)
        state.providerSelected(gpProvider)
        state.choose(act: actG)
        state.edit(price: "30")
        let request = state.pricingStarted()!
        state.edit(price: "300")
        state.priced(gPreview(), for: request)
        XCTAssertNil(state.preview)
        XCTAssertFalse(state.isPricing)
        XCTAssertEqual(state.step, .amount)
        state.pricingFailed(TiersPayError(kind: .invalidInput(field: "act_code"), message: "?"), for: request)
        XCTAssertEqual(state.act, actG, "a stale failure clears nothing")
        XCTAssertNil(state.error)
    }

    func testPricingErrorsLandOnTheirFieldAndTheChoiceAtFaultIsCleared() {
        func failing(_ field: String) -> VisitViewState {
            var state = loaded()
            state.choose(beneficiary: camilleCovered)
            state.providerSelected(gpProvider)
            state.choose(act: actG)
            state.edit(price: "abc")
            let request = state.pricingStarted()!
            state.pricingFailed(TiersPayError(kind: .invalidInput(field: field), message: "bad \(field)"), for: request)
            return state
        }
        var state = failing("price")
        XCTAssertEqual(state.step, .amount)
        XCTAssertEqual(state.message(for: .price), "bad price")
        XCTAssertEqual(state.price, "abc", "kept, to be corrected")
        state.edit(price: "30")
        XCTAssertNil(state.error, "editing the field clears its error")

        state = failing("act_code")
        XCTAssertEqual(state.step, .act)
        XCTAssertEqual(state.message(for: .act), "bad act_code")
        state = failing("provider_id")
        XCTAssertEqual(state.step, .provider)
        XCTAssertEqual(state.message(for: .provider), "bad provider_id")
        state = failing("beneficiary_id")
        XCTAssertEqual(state.step, .beneficiary)
        XCTAssertEqual(state.message(for: .beneficiary), "bad beneficiary_id")
        state = failing("date")
        XCTAssertEqual(state.message(for: .date), "bad date")
        state = failing("something_new")
        XCTAssertEqual(state.message(for: .form), "bad something_new")
        XCTAssertEqual(state.step, .amount)
    }

    func testScanErrorsShowByTheScanButton() {
        var state = loaded()
        state.selectingProvider()
        XCTAssertTrue(state.isSelectingProvider)
        state.selectFailed(TiersPayError(kind: .invalidInput(field: "provider"), message: "not a code"), scanned: true)
        XCTAssertFalse(state.isSelectingProvider)
        XCTAssertEqual(state.message(for: .scan), "not a code")
        state.selectFailed(TiersPayError(kind: .invalidInput(field: "scan"), message: "foreign QR"), scanned: true)
        XCTAssertEqual(state.message(for: .scan), "foreign QR")
        state.selectFailed(TiersPayError(kind: .invalidInput(field: "provider"), message: "typed wrong"), scanned: false)
        XCTAssertEqual(state.message(for: .provider), "typed wrong")
        state.selectFailed(TiersPayError(kind: .rejected(code: "resource_missing"), message: "No such provider."), scanned: true)
        XCTAssertEqual(state.message(for: .scan), "No such provider.")
        state.selectFailed(offline, scanned: false)
        XCTAssertEqual(state.error?.field, .provider, "a result tapped while offline: said by the provider")
        state.providerSelected(gpProvider)
        XCTAssertNil(state.error)
    }

    func testAnOlderSearchAnswerIsDropped() {
        var state = loaded()
        state.edit(query: "dur")
        let first = state.searchStarted()
        state.edit(query: "durand")
        let second = state.searchStarted()
        XCTAssertTrue(state.isSearching)
        state.searchFinished(second, ProviderSearch(providers: [gpProvider], offline: true))
        state.searchFinished(first, ProviderSearch(providers: [dentistProvider, gpProvider], offline: false))
        XCTAssertEqual(state.results, [gpProvider])
        XCTAssertTrue(state.resultsOffline)
        XCTAssertFalse(state.isSearching)
        let third = state.searchStarted()
        state.searchFailed(third, TiersPayError(kind: .invalidInput(field: "query"), message: "too long"))
        XCTAssertEqual(state.message(for: .search), "too long")
        state.filter(specialty: " ", city: "Paris")
        XCTAssertNil(state.specialty)
        XCTAssertEqual(state.city, "Paris")
        XCTAssertNil(state.error)
    }

    func testTheServersWordOnThePreview() {
        var state = priced()
        XCTAssertEqual(state.check, .checking)
        state.checked(check(true), for: "pv_other")
        XCTAssertEqual(state.check, .checking, "an answer about another preview is dropped")
        state.checked(check(true), for: "pv_1")
        XCTAssertEqual(state.check, .confirmed(serverPreviewId: "pv_server"))
        XCTAssertFalse(state.isOutdated)
        state.checked(check(false, amc: 3_00), for: "pv_1")
        XCTAssertEqual(state.check, .changed(check(false, amc: 3_00)))
        XCTAssertTrue(state.isOutdated)
        state.checkFailed(offline, for: "pv_1")
        XCTAssertEqual(state.check, .unavailable(message: offline.message, kind: .network))
        XCTAssertEqual(state.step, .result, "offline, the phone's figures stand")
        state.discardPreview()
        XCTAssertEqual(state.step, .amount)
    }

    func testFiguresDeductionsAndExplanationsInTheMembersLanguage() {
        var state = priced(.fr)
        XCTAssertEqual(state.shares.map(\.share), [.amo, .amc, .member])
        XCTAssertEqual(state.shares.map(\.label), ["Assurance Maladie", "Votre complémentaire santé", "Reste à votre charge"])
        XCTAssertEqual(state.shares.map { $0.amount.filter(\.isNumber) }, ["1900", "900", "200"])
        XCTAssertEqual(state.serverShares, [], "nothing to compare yet")
        XCTAssertEqual(state.explanations.first, "L'Assurance Maladie rembourse 70 % de 30,00 €.")
        XCTAssertEqual(state.deductionLines.map(\.label), ["Participation forfaitaire"])
        XCTAssertTrue(state.formatted(Money(cents: 19_00)).contains("19,00"), state.formatted(Money(cents: 19_00)))
        XCTAssertTrue(state.deductionLines[0].amount.contains("2,00"))
        state.set(language: .en)
        XCTAssertEqual(state.explanations.last, "€2.00 flat-rate contribution is yours to pay.")
        XCTAssertEqual(state.deductionLines.map(\.label), ["Flat-rate contribution"])
        XCTAssertEqual(state.formatted(Money(cents: 19_00)), "€19.00")
        XCTAssertEqual(state.shares.map(\.label), ["Statutory health insurance", "Your complementary insurer", "You pay"])
        XCTAssertEqual(state.shares.map(\.amount), ["€19.00", "€9.00", "€2.00"])
        state.checked(check(false, amc: 3_00), for: "pv_1")
        XCTAssertEqual(state.serverShares.map(\.amount), ["€19.00", "€3.00", "€8.00"])
    }

    func testNeverSyncedAsksForASyncAndLoadingClearsIt() {
        var state = VisitViewState(language: .fr)
        state.failed(notSynced)
        XCTAssertTrue(state.needsSync)
        XCTAssertFalse(state.isLoading)
        XCTAssertEqual(state.error?.field, .form)
        XCTAssertEqual(state.step, .loading)
        state.syncStarted()
        XCTAssertTrue(state.isSyncing)
        XCTAssertNil(state.error)
        state.synced()
        state.loaded(beneficiaries: [camilleCovered], acts: [actG])
        XCTAssertFalse(state.needsSync)
        XCTAssertEqual(state.step, .beneficiary)
    }

    func testActsOfANewDateKeepTheActWhenStillInForce() {
        var state = priced()
        state.actsLoaded([actG])
        XCTAssertEqual(state.act, actG)
        XCTAssertNotNil(state.preview)
        state.actsLoaded([actGMEG])
        XCTAssertNil(state.act, "G is not in force that day")
        XCTAssertEqual(state.step, .act)
    }

    func testBackGoesOneStepAndANewVisitKeepsTheLists() {
        var state = priced()
        state.back()
        XCTAssertEqual(state.step, .amount)
        state.back()
        XCTAssertEqual(state.step, .act)
        state.back()
        XCTAssertEqual(state.step, .provider)
        state.back()
        XCTAssertEqual(state.step, .beneficiary)
        state.back()
        XCTAssertEqual(state.step, .beneficiary)

        state = priced(.en)
        state.newVisit()
        XCTAssertEqual(state.step, .beneficiary)
        XCTAssertEqual(state.beneficiaries, [camilleCovered, leaCovered])
        XCTAssertEqual(state.acts, [actG, actGMEG])
        XCTAssertEqual(state.language, .en)
        XCTAssertEqual(state.price, "")
        XCTAssertNil(state.provider)
    }
}

@MainActor
final class VisitModelTests: XCTestCase {
    func testAVisitFromStartToTheServersConfirmation() async {
        let fake = FakeCoverage()
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        XCTAssertEqual(model.state.step, .beneficiary)
        XCTAssertEqual(model.state.results, [gpProvider], "recently used providers are listed")
        model.choose(beneficiary: camilleCovered)
        await model.select(gpProvider)
        model.choose(act: actG)
        model.edit(price: "30")
        await model.price()
        XCTAssertEqual(model.state.step, .result)
        XCTAssertEqual(model.state.preview, gPreview())
        XCTAssertEqual(model.state.check, .confirmed(serverPreviewId: "pv_server"))
        XCTAssertEqual(fake.calls, [
            "beneficiaries", "acts today", "search '' - -",
            "select prv_gp", "preview ben_camille prv_gp G 30 today", "check pv_1",
        ])
    }

    func testNeverSyncedSyncsOnceThenReads() async {
        let fake = FakeCoverage()
        fake.beneficiaryResults = [.failure(notSynced), .success([camilleCovered])]
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        XCTAssertEqual(model.state.step, .beneficiary)
        XCTAssertNil(model.state.error)
        XCTAssertFalse(model.state.needsSync)
        XCTAssertEqual(Array(fake.calls.prefix(4)), ["beneficiaries", "sync", "beneficiaries", "acts today"])
    }

    func testNeverSyncedAndOfflineSaysSo() async {
        let fake = FakeCoverage()
        fake.beneficiaryResults = [.failure(notSynced)]
        fake.syncResult = .failure(offline)
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        XCTAssertEqual(model.state.step, .loading)
        XCTAssertTrue(model.state.needsSync)
        XCTAssertEqual(model.state.error?.kind, .network)
        XCTAssertFalse(model.state.isBusy)
    }

    func testAQRCodeOrLinkSelectsItsProviderAfterLoading() async {
        let fake = FakeCoverage()
        let model = VisitModel(service: fake, language: .fr, providerCode: "K7M2QX")
        await model.load()
        XCTAssertEqual(model.state.provider, gpProvider)
        XCTAssertEqual(fake.calls, ["beneficiaries", "acts today", "select K7M2QX"], "no search needed")
    }

    func testTheScannedTextGoesToTheCoreAsItIs() async {
        let fake = FakeCoverage()
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        await model.scanned("https://app.tierspay.fr/p/D3NT22")
        XCTAssertEqual(model.state.provider, dentistProvider)
        XCTAssertEqual(fake.calls.last, "select https://app.tierspay.fr/p/D3NT22")

        model.changeProvider()
        await model.scanned("WIFI:S:guest;;")
        XCTAssertNil(model.state.provider)
        XCTAssertEqual(model.state.message(for: .scan), "this QR code is not a TiersPay provider code")
    }

    func testOfflineTheFiguresShowAndTheCheckCanBeAskedAgain() async {
        let fake = FakeCoverage()
        fake.checkResults = [.failure(offline), .success(check(true))]
        let model = VisitModel(service: fake, language: .en)
        await model.load()
        model.choose(beneficiary: camilleCovered)
        await model.select(gpProvider)
        model.choose(act: actG)
        model.edit(price: "30")
        await model.price()
        XCTAssertEqual(model.state.step, .result)
        XCTAssertEqual(model.state.check, .unavailable(message: offline.message, kind: .network))
        await model.checkWithServer()
        XCTAssertEqual(model.state.check, .confirmed(serverPreviewId: "pv_server"))
    }

    func testFiguresTheServerNoLongerHoldsAreSyncedAndPricedAgain() async {
        let fake = FakeCoverage()
        fake.previewResults = [.success(gPreview(id: "pv_1")), .success(gPreview(id: "pv_2", member: 5_00))]
        fake.checkResults = [.success(check(false, amc: 6_00)), .success(check(true, amc: 6_00))]
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        model.choose(beneficiary: camilleCovered)
        await model.select(gpProvider)
        model.choose(act: actG)
        model.edit(price: "30")
        await model.price()
        XCTAssertTrue(model.state.isOutdated)
        await model.syncAndPriceAgain()
        XCTAssertEqual(model.state.preview?.id, "pv_2")
        XCTAssertEqual(model.state.preview?.member, Money(cents: 5_00))
        XCTAssertEqual(model.state.check, .confirmed(serverPreviewId: "pv_server"))
        XCTAssertEqual(Array(fake.calls.suffix(6)), [
            "check pv_1", "sync", "beneficiaries", "acts today", "preview ben_camille prv_gp G 30 today", "check pv_2",
        ])
    }

    func testAWrongAmountStaysOnTheAmountWithTheCoresMessage() async {
        let fake = FakeCoverage()
        fake.previewResults = [.failure(TiersPayError(kind: .invalidInput(field: "price"), message: "must be an amount in euros, such as 30 or 30.50"))]
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        model.choose(beneficiary: camilleCovered)
        await model.select(gpProvider)
        model.choose(act: actG)
        model.edit(price: "trente")
        await model.price()
        XCTAssertEqual(model.state.step, .amount)
        XCTAssertEqual(model.state.message(for: .price), "must be an amount in euros, such as 30 or 30.50")
        XCTAssertFalse(fake.calls.contains { $0.hasPrefix("check") })
    }

    func testAnotherDateReadsTheActsInForceThatDay() async {
        let fake = FakeCoverage()
        fake.actsResult = { date in
            switch date {
            case nil: return .success([actG, actGMEG])
            case "2026-03-02"?: return .success([actGMEG])
            default: return .failure(TiersPayError(kind: .invalidInput(field: "date"), message: "must be a date written YYYY-MM-DD"))
            }
        }
        let model = VisitModel(service: fake, language: .fr)
        await model.load()
        model.choose(act: actG)
        var components = DateComponents()
        (components.year, components.month, components.day, components.hour) = (2026, 3, 2, 9)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Paris")!
        model.edit(date: calendar.date(from: components)!, in: calendar.timeZone)
        XCTAssertEqual(model.state.date, "2026-03-02")
        XCTAssertEqual(model.state.acts, [actGMEG])
        XCTAssertNil(model.state.act, "G is not in force that day")
        model.edit(date: "2026-02-30")
        XCTAssertEqual(model.state.message(for: .date), "must be a date written YYYY-MM-DD")
    }
}

final class MoneyTests: XCTestCase {
    func testTheCoresAmountsAreReadExactly() {
        XCTAssertEqual(Money("19.00")?.cents, 1900)
        XCTAssertEqual(Money("19")?.cents, 1900)
        XCTAssertEqual(Money("19.5")?.cents, 1950)
        XCTAssertEqual(Money("0.10")?.cents, 10)
        XCTAssertEqual(Money("-0.50")?.cents, -50)
        XCTAssertEqual(Money("100000.00")?.cents, 10_000_000)
        for bad in ["", "19.001", "1e3", "30,00", ".5", "5.", "abc", "1_000", "+5", " 5", "--5", "1.2.3", "1234567890123456"] {
            XCTAssertNil(Money(bad), bad)
        }
    }

    func testTheCoresFormComesBackUnchanged() {
        for text in ["19.00", "0.10", "0.00", "250.00", "-0.50", "123456789012345.99"] {
            XCTAssertEqual(Money(text)?.description, text)
        }
        XCTAssertEqual(Money("19.5")?.description, "19.50")
    }

    func testAmountIsAnExactDecimal() {
        XCTAssertEqual(Money("0.10")!.amount, Decimal(string: "0.1"))
        XCTAssertEqual(Money("0.10")!.amount + Money("0.20")!.amount, Decimal(string: "0.3"), "no binary float on the way")
        XCTAssertLessThan(Money("2.00")!, Money("19.00")!)
        XCTAssertTrue(Money.zero.isZero)
        XCTAssertEqual(Money("19.00"), Money("19"))
    }

    func testAmountsAsPeopleReadThem() {
        XCTAssertEqual(Money("1234.50")!.formatted(locale: Language.en.locale), "€1,234.50")
        let french = Money("1234.50")!.formatted(locale: Language.fr.locale)
        XCTAssertEqual(french.filter { !$0.isWhitespace }, "1234,50€", french)
    }

    func testThePreferredLanguage() {
        XCTAssertEqual(Language.preferred(from: ["en-GB", "fr-FR"]), .en)
        XCTAssertEqual(Language.preferred(from: ["de-DE", "fr-CA"]), .fr)
        XCTAssertEqual(Language.preferred(from: ["de-DE", "en"]), .en)
        XCTAssertEqual(Language.preferred(from: ["es_ES"]), .fr, "the product's language otherwise")
        XCTAssertEqual(Language.preferred(from: []), .fr)
    }
}
