import Foundation
import TiersPayKit
import TiersPayTestSupport
import XCTest

/// The coverage area through the adapter, against the real core (across the FFI) and a real
/// tierspay-mock on a free port, one per test. Figures are the demo data's, exact to the cent.
final class CoverageIntegrationTests: XCTestCase {
    /// A care date inside the demo contract's year, so figures do not move with the clock.
    static let date = "2026-03-02"

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

    private func newDataDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tierspay-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dataDirs.append(dir)
        return dir
    }

    private func makeClient(dataDir: URL, store: any SecureStore) throws -> TiersPayClient {
        try TiersPayClient(
            configuration: TiersPayConfiguration(serverURL: server.url, dataDirectory: dataDir, serverPublicKey: server.publicKey, deviceName: "XCTest"),
            secureStore: store,
            deviceKey: SoftwareDeviceKey(store: store)
        )
    }

    /// A new client enrolled as `contract` (enrolling downloads the coverage data too).
    private func enrolledClient(
        _ contract: String = "TP1000001", birthDate: String = "1985-04-12",
        dataDir: URL? = nil, store: any SecureStore = InMemorySecureStore()
    ) async throws -> TiersPayClient {
        let client = try makeClient(dataDir: try dataDir ?? newDataDir(), store: store)
        let challenge = try await client.startEnrollment(contractNumber: contract, birthDate: birthDate)
        let code = try await server.lastCode(length: challenge.codeLength)
        _ = try await client.confirmEnrollment(enrollmentId: challenge.enrollmentId, code: code)
        return client
    }

    private func beneficiary(_ firstName: String, of client: TiersPayClient, file: StaticString = #filePath, line: UInt = #line) throws -> CoveredBeneficiary {
        let found = try client.coveredBeneficiaries().first { $0.firstName == firstName }
        return try XCTUnwrap(found, "no beneficiary named \(firstName)", file: file, line: line)
    }

    /// Searches the directory for `specialty` in Paris and selects the first provider of `sector`.
    private func selectProvider(
        _ specialty: String, sector: Int? = 1, of client: TiersPayClient,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws -> Provider {
        let search = try await client.searchProviders(query: "", specialty: specialty, city: "Paris", limit: 50)
        XCTAssertFalse(search.offline, file: file, line: line)
        let found = search.providers.first { $0.specialty == specialty && (sector == nil || $0.sector == sector) }
        let provider = try XCTUnwrap(found, "no \(specialty) of sector \(sector.map(String.init) ?? "any") in Paris", file: file, line: line)
        let selected = try await client.selectProvider(provider.id)
        XCTAssertEqual(selected, provider, file: file, line: line)
        return selected
    }

    /// Expects `body` to throw a TiersPayError and returns it.
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

    private func assertAddsUp(_ preview: CoveragePreview, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(
            preview.amo.minorUnits + preview.amc.minorUnits + preview.member.minorUnits, preview.price.minorUnits,
            "amo + amc + member == price", file: file, line: line)
    }

    // MARK: Figures

    func testEnrollingDownloadsTheCoverageAndTheFamilyIsThere() async throws {
        let client = try await enrolledClient()
        let people = try client.coveredBeneficiaries()
        XCTAssertEqual(Set(people.map(\.firstName)), ["Camille", "Julien", "Léa", "Hugo"])
        XCTAssertEqual(people.first { $0.relationship == .holder }?.firstName, "Camille")
        XCTAssertEqual(people.first { $0.firstName == "Léa" }?.birthDate.prefix(4), "2021")
        XCTAssertEqual(people.first { $0.firstName == "Hugo" }?.birthDate.prefix(4), "2011")

        let acts = try client.acts(on: Self.date)
        for code in ["G", "GMEG", "C", "OPT-MONTURE"] {
            XCTAssertTrue(acts.contains { $0.code == code }, "\(code) is in force on \(Self.date): \(acts.map(\.code))")
        }
        XCTAssertEqual(acts.first { $0.code == "G" }?.base.minorUnits, 3000)
        XCTAssertFalse(try client.acts(on: nil).isEmpty, "today's acts, read offline")

        // Synced at enrollment: nothing changed since; a resync downloads everything again.
        let sync = try await client.syncCoverage()
        XCTAssertFalse(sync.contractUpdated)
        XCTAssertFalse(sync.tariffsUpdated)
        let resync = try await client.resyncCoverage()
        XCTAssertTrue(resync.contractUpdated)
        XCTAssertTrue(resync.tariffsUpdated)
        XCTAssertGreaterThan(resync.bytes, sync.bytes)
    }

    func testCamilleAtASectorOneGPPaysTheParticipationForfaitaireAndTheServerAgrees() async throws {
        let client = try await enrolledClient()
        let camille = try beneficiary("Camille", of: client)
        let gp = try await selectProvider("Médecin généraliste", of: client)

        let preview = try await client.preview(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: Self.date, language: .en)
        XCTAssertEqual(preview.amo.minorUnits, 1900)
        XCTAssertEqual(preview.amc.minorUnits, 900)
        XCTAssertEqual(preview.member.minorUnits, 200)
        XCTAssertEqual(preview.price.minorUnits, 3000)
        XCTAssertEqual(preview.base.minorUnits, 3000)
        XCTAssertEqual(preview.amoRate, Decimal(string: "0.7"))
        XCTAssertEqual(preview.deductions.map(\.kind), [.participationForfaitaire])
        XCTAssertEqual(preview.deductions.map(\.amount.minorUnits), [200])
        XCTAssertEqual(preview.deductions.first?.amount.display, "€2.00")
        XCTAssertEqual(preview.date, Self.date)
        XCTAssertTrue(preview.id.hasPrefix("pv_"), preview.id)
        XCTAssertFalse(preview.actLabel.isEmpty)
        XCTAssertFalse(preview.guarantee.isEmpty)
        // Why, one language at a time, asked apart from the figures.
        let fr = try client.explain(preview, in: .fr)
        let en = try client.explain(preview, in: .en)
        XCTAssertFalse(fr.isEmpty)
        XCTAssertEqual(fr.count, en.count)
        XCTAssertNotEqual(fr, en)
        XCTAssertTrue(en.contains { $0.contains("€2.00") }, "\(en)")
        assertAddsUp(preview)

        // The money comes as minor units with the core's text for each language.
        XCTAssertEqual(preview.amo.currency, .eur)
        XCTAssertEqual(preview.amo.display, "€19.00")
        let french = try await client.preview(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: Self.date, language: .fr)
        XCTAssertEqual(french.member.display, "2,00\u{a0}€")
        XCTAssertEqual(french.id, preview.id, "the language is not an input of the figures")

        // Typed the French way, the same visit is the same preview.
        let typed = try await client.preview(beneficiaryId: camille.id, providerId: gp.id, actCode: "g", price: " 30,00 € ", date: Self.date, language: .en)
        XCTAssertEqual(typed, preview)

        // The server recomputes it with the same code and agrees.
        let check = try await client.checkPreview(preview)
        XCTAssertTrue(check.holds)
        XCTAssertFalse(check.serverPreviewId.isEmpty)
        XCTAssertEqual([check.amo, check.amc, check.member].map(\.minorUnits), [preview.amo, preview.amc, preview.member].map(\.minorUnits))
    }

    func testTheRestOfTheFamily() async throws {
        let client = try await enrolledClient()
        let gp = try await selectProvider("Médecin généraliste", of: client)

        // Julien already paid 49 € of participations forfaitaires this year: 1 € is left to take.
        let julien = try await client.preview(
            beneficiaryId: try beneficiary("Julien", of: client).id, providerId: gp.id, actCode: "G", price: "30", date: Self.date)
        XCTAssertEqual(julien.deductions.first { $0.kind == .participationForfaitaire }?.amount.minorUnits, 100)
        XCTAssertEqual(julien.amo.minorUnits, 2000)
        assertAddsUp(julien)

        // Léa (born 2021) at the GP: the child consultation GMEG.
        let lea = try await client.preview(
            beneficiaryId: try beneficiary("Léa", of: client).id, providerId: gp.id, actCode: "GMEG", price: "35", date: Self.date)
        XCTAssertEqual(lea.amo.minorUnits, 2450)
        assertAddsUp(lea)

        // A dentist's consultation.
        let dentist = try await selectProvider("Chirurgien-dentiste", sector: nil, of: client)
        let dental = try await client.preview(
            beneficiaryId: try beneficiary("Camille", of: client).id, providerId: dentist.id, actCode: "C", price: "23", date: Self.date)
        XCTAssertEqual(dental.amo.minorUnits, 1380)
        assertAddsUp(dental)
    }

    func testWithoutAMedecinTraitantTheVisitIsOutOfParcours() async throws {
        let client = try await enrolledClient("TP1000002", birthDate: "1992-11-02")
        let holder = try XCTUnwrap(try client.coveredBeneficiaries().first { $0.relationship == .holder })
        XCTAssertFalse(holder.inParcours)
        let gp = try await selectProvider("Médecin généraliste", of: client)

        let preview = try await client.preview(beneficiaryId: holder.id, providerId: gp.id, actCode: "G", price: "30", date: Self.date)
        XCTAssertEqual(preview.amo.minorUnits, 700)
        XCTAssertEqual(preview.amc.minorUnits, 900)
        XCTAssertEqual(preview.member.minorUnits, 1400)
        XCTAssertTrue(preview.deductions.contains { $0.kind == .outOfParcours }, "\(preview.deductions)")
        assertAddsUp(preview)
    }

    // MARK: Offline

    func testPreviewsArePricedOfflineWithTheServerStopped() async throws {
        let dataDir = try newDataDir()
        let store = InMemorySecureStore()
        let client = try await enrolledClient(dataDir: dataDir, store: store)
        let camille = try beneficiary("Camille", of: client)
        let gp = try await selectProvider("Médecin généraliste", of: client)
        let online = try await client.preview(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: Self.date)

        server.stop()
        let before = client.roundTrips
        let offline = try await client.preview(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: Self.date)
        XCTAssertEqual(offline, online)
        XCTAssertEqual([offline.amo, offline.amc, offline.member].map(\.minorUnits), [1900, 900, 200])
        XCTAssertEqual(client.roundTrips, before, "a preview sends no request")

        // A relaunch without the server: the same figures from the phone alone, and the
        // provider, used before, is selected from the phone.
        let relaunched = try makeClient(dataDir: dataDir, store: store)
        XCTAssertEqual(try relaunched.coveredBeneficiaries().count, 4)
        let again = try await relaunched.preview(beneficiaryId: camille.id, providerId: gp.id, actCode: "G", price: "30", date: Self.date)
        XCTAssertEqual(again, online)
        let selected = try await relaunched.selectProvider(gp.code)
        XCTAssertEqual(selected, gp)
        XCTAssertEqual(relaunched.roundTrips, 0, "beneficiaries, preview and a known provider are local")

        // The search falls back to the providers used on this phone; the check cannot happen.
        let search = try await relaunched.searchProviders(query: "", specialty: "Médecin généraliste", city: "Paris", limit: 20)
        XCTAssertTrue(search.offline)
        XCTAssertEqual(search.providers, [gp])
        let check = await expectError { try await relaunched.checkPreview(again) }
        XCTAssertEqual(check?.kind, .network)
    }

    // MARK: Providers

    func testASearchWithATypoFindsTheOphthalmologists() async throws {
        let client = try await enrolledClient()
        let search = try await client.searchProviders(query: "ophtalmologe", specialty: nil, city: nil, limit: 20)
        XCTAssertFalse(search.offline)
        XCTAssertFalse(search.providers.isEmpty)
        XCTAssertTrue(search.providers.allSatisfy { $0.specialty == "Ophtalmologue" }, "\(search.providers.map(\.specialty))")
    }

    func testRecentlyUsedProvidersComeFirst() async throws {
        let client = try await enrolledClient()
        let dentist = try await selectProvider("Chirurgien-dentiste", sector: nil, of: client)
        let search = try await client.searchProviders(query: "", specialty: "Chirurgien-dentiste", city: "Paris", limit: 20)
        XCTAssertEqual(search.providers.first, dentist)
        XCTAssertEqual(search.providers.filter { $0.id == dentist.id }.count, 1, "no duplicate")
    }

    func testTheTextOfAScannedDeskQRCodeSelectsTheProvider() async throws {
        let client = try await enrolledClient()
        let listed = try await client.searchProviders(query: "", specialty: "Médecin généraliste", city: "Paris", limit: 5)
        let provider = try XCTUnwrap(listed.providers.first)
        XCTAssertEqual(provider.code.count, 6)

        let scanned = try await client.selectProvider("https://app.tierspay.fr/p/\(provider.code)")
        XCTAssertEqual(scanned, provider)
        let typed = try await client.selectProvider(provider.code.lowercased())
        XCTAssertEqual(typed, provider, "a typed code")
        let byId = try await client.selectProvider(provider.id)
        XCTAssertEqual(byId, provider, "an id")

        // Scanned, it is remembered: a preview for it works.
        let camille = try beneficiary("Camille", of: client)
        _ = try await client.preview(beneficiaryId: camille.id, providerId: provider.id, actCode: "G", price: "30", date: Self.date)

        let foreign = await expectError { try await client.selectProvider("https://evil.example/p/\(provider.code)") }
        XCTAssertEqual(foreign?.kind, .invalidInput(field: "scan"))
        let gibberish = await expectError { try await client.selectProvider("hello") }
        XCTAssertEqual(gibberish?.kind, .invalidInput(field: "provider"))
    }

    // MARK: Errors

    func testBadInputsNameTheField() async throws {
        let client = try await enrolledClient()
        let camille = try beneficiary("Camille", of: client)
        let gp = try await selectProvider("Médecin généraliste", of: client)
        func preview(_ beneficiary: String = camille.id, _ provider: String = gp.id, _ act: String = "G", _ price: String = "30", _ date: String? = Self.date)
            async -> TiersPayError?
        {
            await expectError { try await client.preview(beneficiaryId: beneficiary, providerId: provider, actCode: act, price: price, date: date) }
        }

        for price in ["abc", "0", "-5", "12.345", "", "100000.01"] {
            let error = await preview(camille.id, gp.id, "G", price)
            XCTAssertEqual(error?.kind, .invalidInput(field: "price"), "price \"\(price)\"")
        }
        let act = await preview(camille.id, gp.id, "NOPE")
        XCTAssertEqual(act?.kind, .invalidInput(field: "act_code"))
        let provider = await preview(camille.id, "prv_neverselected")
        XCTAssertEqual(provider?.kind, .invalidInput(field: "provider_id"))
        let beneficiary = await preview("ben_nobody")
        XCTAssertEqual(beneficiary?.kind, .invalidInput(field: "beneficiary_id"))
        let date = await preview(camille.id, gp.id, "G", "30", "02/03/2026")
        XCTAssertEqual(date?.kind, .invalidInput(field: "date"))
        XCTAssertThrowsError(try client.acts(on: "2026-02-30")) { error in
            XCTAssertEqual((error as? TiersPayError)?.kind, .invalidInput(field: "date"))
        }
        let unknownCode = await expectError { try await client.selectProvider("ZZZZZZ") }
        XCTAssertEqual(unknownCode?.kind, .rejected(code: "resource_missing"), "a well-formed code nobody has")
    }

    func testBeforeAnySyncCoverageIsRejectedAsNotSynced() async throws {
        let client = try makeClient(dataDir: try newDataDir(), store: InMemorySecureStore())
        XCTAssertThrowsError(try client.coveredBeneficiaries()) { error in
            XCTAssertEqual((error as? TiersPayError)?.kind, .notSynced)
        }
        XCTAssertThrowsError(try client.acts(on: nil)) { error in
            XCTAssertEqual((error as? TiersPayError)?.kind, .notSynced)
        }
        let sync = await expectError { try await client.syncCoverage() }
        XCTAssertEqual(sync?.kind, .notEnrolled)
    }

    // MARK: The server's check

    func testAPreviewStopsHoldingWhenACeilingWasConsumedElsewhereUntilTheNextSync() async throws {
        let client = try await enrolledClient()
        let camille = try beneficiary("Camille", of: client)
        let optician = try await selectProvider("Opticien", sector: nil, of: client)

        let first = try await client.preview(beneficiaryId: camille.id, providerId: optician.id, actCode: "OPT-MONTURE", price: "250", date: Self.date)
        XCTAssertEqual(first.amc.minorUnits, 20000)
        let firstCheck = try await client.checkPreview(first)
        XCTAssertTrue(firstCheck.holds)

        // Frames bought elsewhere this year used 250 € of the optical ceiling: the server knows,
        // the phone does not yet.
        try await server.recordCeilingUsage(beneficiaryId: camille.id, year: 2026, category: "optical", consumed: "250")
        let stale = try await client.checkPreview(first)
        XCTAssertFalse(stale.holds)
        XCTAssertEqual(stale.amc.minorUnits, 5000)
        XCTAssertEqual(stale.amo.minorUnits + stale.amc.minorUnits + stale.member.minorUnits, first.price.minorUnits)

        // After a sync the phone prices it as the server does, and the check holds again.
        let sync = try await client.syncCoverage()
        XCTAssertTrue(sync.contractUpdated)
        let fresh = try await client.preview(beneficiaryId: camille.id, providerId: optician.id, actCode: "OPT-MONTURE", price: "250", date: Self.date)
        XCTAssertEqual(fresh.amc.minorUnits, 5000)
        XCTAssertNotEqual(fresh.id, first.id)
        XCTAssertTrue(fresh.deductions.contains { $0.kind == .ceiling }, "\(fresh.deductions)")
        let check = try await client.checkPreview(fresh)
        XCTAssertTrue(check.holds)
        XCTAssertEqual(check.amc.minorUnits, 5000)
    }

    // MARK: The visit screen's model over the real core

    /// What the app's VisitScreen holds: the core's flow, followed on the main actor. A QR code's
    /// provider is selected by the core once loaded; the amounts show as the core wrote them.
    @MainActor
    func testTheVisitScreenFollowsTheCoresFlow() async throws {
        let client = try await enrolledClient()
        let gp = try await selectProvider("Médecin généraliste", of: client)
        let screen = ScreenFlow(client.visitFlow(providerCode: gp.code, language: .en))
        let following = Task { await screen.follow() }
        defer { following.cancel() }
        screen.flow.start()
        func until(_ what: String, _ done: (VisitFlowSnapshot) -> Bool) async throws -> VisitFlowSnapshot {
            for _ in 0..<1000 {
                if let state = screen.state, done(state) { return state }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            XCTFail("\(what): \(String(describing: screen.state))")
            throw TiersPayError(kind: .internal, message: what)
        }
        var s = try await until("loaded with the QR code's provider") { $0.provider != nil && !$0.isBusy }
        XCTAssertEqual(s.provider, gp)
        XCTAssertEqual(s.step, .beneficiary)
        screen.flow.choose(beneficiaryId: try XCTUnwrap(s.beneficiaries.first { $0.firstName == "Camille" }).id)
        screen.flow.edit(date: Self.date)
        screen.flow.choose(actCode: "G")
        screen.flow.edit(price: "30,00")
        screen.flow.price()
        s = try await until("checked") { $0.check != nil && $0.check != .checking }
        XCTAssertEqual(s.step, .result)
        XCTAssertEqual(s.preview?.member.display, "€2.00")
        XCTAssertEqual(s.preview?.deductions.first?.kind.label(in: .en), "Flat-rate contribution")
        XCTAssertFalse(s.explanations.isEmpty)
        guard case let .confirmed(serverPreviewId)? = s.check else { return XCTFail("\(String(describing: s.check))") }
        XCTAssertFalse(serverPreviewId.isEmpty)
        // The reader switches to French: the same figures, drawn again in French, not priced again.
        let english = s.explanations
        screen.flow.setLanguage(.fr)
        s = try await until("in French") { $0.preview?.amo.display == "19,00\u{a0}€" }
        XCTAssertEqual(s.preview?.id, serverPreviewId)
        XCTAssertEqual(s.explanations.count, english.count)
        XCTAssertNotEqual(s.explanations, english)
    }

    // MARK: The core's visit flow

    /// Waits for the flow's newest state to satisfy `done`.
    private func until(_ model: VisitFlowModel, _ what: String, _ done: (VisitFlowSnapshot) -> Bool) async throws -> VisitFlowSnapshot {
        for _ in 0..<1000 {
            if let state = model.state, done(state) { return state }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTFail("\(what): \(String(describing: model.state))")
        throw TiersPayError(kind: .internal, message: what)
    }

    func testTheCoresEnrollmentFlowPlacesErrorsAndEnrolls() async throws {
        let client = try makeClient(dataDir: try newDataDir(), store: InMemorySecureStore())
        let model = client.enrollmentFlow(contractNumber: "TP1000001")
        XCTAssertEqual(model.state?.contractNumber, "TP1000001")
        model.edit(birthDate: "1985-04-12")
        model.submit()
        var enrollment: EnrollmentFlowSnapshot?
        for _ in 0..<1000 where model.state?.step != .code { try await Task.sleep(nanoseconds: 10_000_000) }
        let length = try XCTUnwrap(model.state?.challenge).codeLength
        let code = try await server.lastCode(length: length)
        model.edit(code: String(code.map { $0 == "9" ? "0" : "9" }))
        model.submit()
        for _ in 0..<1000 where model.state?.error == nil { try await Task.sleep(nanoseconds: 10_000_000) }
        enrollment = model.state
        XCTAssertEqual(enrollment?.error?.field, .code)
        XCTAssertEqual(enrollment?.error?.code, "code_incorrect")
        XCTAssertEqual(enrollment?.code, "")
        model.edit(code: code)
        model.submit()
        for _ in 0..<1000 where model.state?.step != .enrolled { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(model.state?.profile?.member.firstName, "Camille")
    }

    func testTheCoresVisitFlowFromTheBeneficiaryToTheServersWord() async throws {
        let client = try await enrolledClient()
        let model = client.visitFlow()
        model.start()
        var s = try await until(model, "loaded") { !$0.isLoading && !$0.isSearching }
        XCTAssertEqual(s.step, .beneficiary)
        model.choose(beneficiaryId: try XCTUnwrap(s.beneficiaries.first { $0.firstName == "Camille" }).id)
        model.scanned("https://example.com/p/K7M2QX")
        s = try await until(model, "scan refused") { !$0.isSelectingProvider && $0.error != nil }
        XCTAssertEqual(s.error?.field, .scan)
        model.filter(specialty: "Médecin généraliste", city: "Paris")
        s = try await until(model, "searched") { !$0.isSearching && !$0.results.isEmpty }
        model.select(providerId: try XCTUnwrap(s.results.first { $0.sector == 1 }).id)
        _ = try await until(model, "selected") { $0.provider != nil }
        model.edit(date: Self.date)
        model.choose(actCode: "G")
        model.edit(price: "30")
        model.price()
        s = try await until(model, "checked") { $0.check != nil && $0.check != .checking }
        XCTAssertEqual(s.step, .result)
        XCTAssertEqual(s.preview?.member.minorUnits, 200)
        guard case .confirmed = s.check else { return XCTFail("\(String(describing: s.check))") }
        model.changeAct()
        XCTAssertEqual(model.state?.step, .act)
        model.newVisit()
        XCTAssertEqual(model.state?.step, .beneficiary)
        XCTAssertEqual(model.state?.date, Self.date)
    }

}

/// `quoteDocument`: the offline calculator's JSON contract, no core object and no server.
final class QuoteDocumentTests: XCTestCase {
    static let example = """
        {
          "date": "2026-03-02",
          "price": "30.00",
          "act": {"code": "G", "category": "consultation", "base": "30.00",
                  "base_non_optam": "23.00", "amo_rate": "0.70", "pf": true, "franchise": "0.00"},
          "provider": {"sector": 1, "optam": false, "direct_access": false},
          "beneficiary": {"birth_date": "1985-04-12", "in_parcours": true, "ald": false, "css": false,
                          "pregnant_6m": false, "pf_paid_this_year": "0.00",
                          "franchise_paid_this_year": "0.00", "pf_count_today_same_provider": 0},
          "guarantee": {"percent_br": "100", "percent_br_non_optam": "100", "includes_amo": true}
        }
        """

    func testTheExampleDocumentAnswersTheWorkedFigures() throws {
        let answer = try TiersPayClient.quoteDocument(Self.example)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        XCTAssertEqual(json["amo"] as? String, "19.00")
        XCTAssertEqual(json["amc"] as? String, "9.00")
        XCTAssertEqual(json["member"] as? String, "2.00")
        XCTAssertEqual(json["amo_rate"] as? String, "0.70")
        let deductions = try XCTUnwrap(json["deductions"] as? [[String: String]])
        XCTAssertEqual(deductions, [["kind": "participation_forfaitaire", "amount": "2.00"]])
        XCTAssertFalse((json["explanations"] as? [Any] ?? []).isEmpty)
    }

    func testAMalformedDocumentIsRefusedNamingTheField() {
        let cases = [
            (Self.example.replacingOccurrences(of: "\"amo_rate\": \"0.70\"", with: "\"amo_rate\": 0.7"), "act.amo_rate"),
            (Self.example.replacingOccurrences(of: "\"price\": \"30.00\"", with: "\"price\": \"30,00\""), "price"),
            (Self.example.replacingOccurrences(of: "\"sector\": 1", with: "\"sector\": 4"), "provider.sector"),
            ("{\"date\": ", "document"),
        ]
        for (document, field) in cases {
            XCTAssertNotEqual(document, Self.example)
            XCTAssertThrowsError(try TiersPayClient.quoteDocument(document), field) { error in
                XCTAssertEqual((error as? TiersPayError)?.kind, .invalidInput(field: field))
                XCTAssertFalse((error as? TiersPayError)?.message.isEmpty ?? true)
            }
        }
    }

}
