package fr.tierspay.shell

import fr.tierspay.core.EnrollmentField
import fr.tierspay.core.EnrollmentFlowState
import fr.tierspay.core.EnrollmentStep
import fr.tierspay.core.ErrorCode
import fr.tierspay.core.VisitCheck
import fr.tierspay.core.VisitFlowState
import fr.tierspay.shell.TiersPayError.Fields
import fr.tierspay.shell.TiersPayError.Kind
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.state.EnrollmentFlowModel
import fr.tierspay.shell.state.VisitFlowModel
import fr.tierspay.shell.support.MockServer
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.math.BigDecimal
import java.nio.file.Path
import java.time.LocalDate
import java.util.Locale
import fr.tierspay.core.VisitField as CoreVisitField
import fr.tierspay.core.VisitStep as CoreVisitStep

/**
 * Coverage (issue 4) through the adapter across the real FFI, against a real tierspay-mock (a
 * fresh one per test): figures to the cent, offline previews, provider search and QR scans,
 * errors naming their field, and the server's check of a preview.
 */
class CoverageClientTest {
    private lateinit var mock: MockServer

    @TempDir
    lateinit var dataDir: Path

    private val secrets = InMemorySecretStore()

    @BeforeEach
    fun startMock() {
        mock = MockServer.start()
    }

    @AfterEach
    fun stopMock() {
        mock.close()
    }

    private fun open() = CoreTiersPayClient.open(
        ShellConfig(mock.url, dataDir.toString(), mock.publicKey, deviceName = "JVM test"),
        secrets,
        SoftwareDeviceKey(secrets),
    )

    private suspend fun CoreTiersPayClient.enroll(contract: String = DEMO_CONTRACT, birthDate: String = DEMO_BIRTH_DATE) {
        val challenge = startEnrollment(contract, birthDate)
        confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
    }

    /** A provider of [specialty] in Paris from the directory, selected (so previews can use it). */
    private suspend fun TiersPayClient.provider(specialty: String, want: (Provider) -> Boolean = { true }): Provider {
        val found = searchProviders("", specialty, "Paris", 50)
        assertFalse(found.offline)
        val provider = found.providers.firstOrNull(want) ?: error("no $specialty in the demo directory")
        return selectProvider(provider.id)
    }

    private suspend fun TiersPayClient.idOf(firstName: String): String = coveredBeneficiaries().single { it.firstName == firstName }.id

    private val Money.euros get() = java.math.BigDecimal.valueOf(minorUnits, 2).toPlainString()
    private val CoveragePreview.figures get() = Triple(amo.euros, amc.euros, member.euros)

    private val day = LocalDate.of(2026, 3, 2)

    @Test
    fun `enrollment syncs the guarantees, previews are exact offline, and the server confirms them`() = runBlocking {
        open().use { client ->
            client.enroll()
            assertEquals(3L, client.roundTrips(), "start, confirm, sync")

            val family = client.coveredBeneficiaries()
            assertEquals(listOf("Camille", "Julien", "Léa", "Hugo"), family.map { it.firstName })
            val camille = family.first()
            assertEquals(Relationship.HOLDER, camille.relationship)
            assertEquals(LocalDate.of(1985, 4, 12), camille.birthDate)
            assertTrue(camille.inParcours)
            val acts = client.acts(day)
            assertTrue(acts.any { it.code == "G" && it.category == CareCategory.CONSULTATION && it.base.minorUnits == 3000L }, "$acts")

            val gp = client.provider("Médecin généraliste") { it.sector == 1 }
            val dentist = client.provider("Chirurgien-dentiste")
            val lea = client.idOf("Léa")
            val julien = client.idOf("Julien")

            // Airplane mode: everything below is computed on the phone.
            mock.stop()
            val sent = client.roundTrips()
            val adult = client.preview(camille.id, gp.id, "G", "30", day, Locale.UK)
            assertEquals(Triple("19.00", "9.00", "2.00"), adult.figures, "GP, sector 1, adult, in parcours")
            assertEquals(listOf(DeductionKind.PARTICIPATION_FORFAITAIRE to 200L), adult.deductions.map { it.kind to it.amount.minorUnits })
            assertEquals(3000L, adult.price.minorUnits)
            assertEquals(3000L, adult.base.minorUnits)
            // The core formats money, for the reader the preview was asked for.
            assertEquals("€30.00", adult.price.display)
            val french = client.preview(camille.id, gp.id, "G", "30", day, Locale.FRANCE)
            assertEquals("30,00 €", french.price.display.replace('\u202f', ' ').replace('\u00a0', ' '))
            assertEquals(adult.id, french.id, "the language is not an input of the figures")
            assertEquals(BigDecimal("0.70"), adult.amoRate)
            assertEquals(day, adult.date)
            assertTrue(adult.actLabel.isNotBlank() && adult.guarantee.isNotBlank())
            // Why, in one language at a time, asked apart from the figures.
            val fr = client.explain(adult, Locale.FRANCE)
            val en = client.explain(adult, Locale.UK)
            assertTrue(fr.isNotEmpty() && fr.size == en.size && (fr + en).all { it.isNotBlank() })
            assertNotEquals(fr, en)
            assertTrue(en.any { "€2.00" in it }, "the participation forfaitaire is told: $en")

            assertEquals("24.50", client.preview(lea, gp.id, "GMEG", "35", day).amo.euros, "under 6: no PF")
            assertEquals("13.80", client.preview(camille.id, dentist.id, "C", "23", day).amo.euros)
            val spouse = client.preview(julien, gp.id, "G", "30", day)
            assertEquals(
                listOf(DeductionKind.PARTICIPATION_FORFAITAIRE to 100L),
                spouse.deductions.map {
                    it.kind to it.amount.minorUnits
                },
                "49 € of PF paid: capped at 50 € a year",
            )
            assertEquals(Triple("20.00", "9.00", "1.00"), spouse.figures)
            assertEquals(adult.id, client.preview(camille.id, gp.id, "g", " 30,00 € ", day).id, "same inputs, same id")
            assertEquals(sent, client.roundTrips(), "no request while offline")

            // Offline, the search falls back to the providers used on this phone.
            val offline = client.searchProviders(gp.name.split(' ').last())
            assertTrue(offline.offline)
            assertEquals(gp, offline.providers.first())

            mock.restart()
            val check = client.checkPreview(adult)
            assertTrue(check.holds, "the server computes the same figures with the same code")
            assertEquals(adult.id, check.serverPreviewId)
            val shares = { amo: Money, amc: Money, member: Money -> listOf(amo, amc, member).map { it.minorUnits } }
            assertEquals(shares(adult.amo, adult.amc, adult.member), listOf(check.amo, check.amc, check.member).map { it.minorUnits })
        }
    }

    @Test
    fun `outside the parcours the member pays, not the insurer`() = runBlocking {
        open().use { client ->
            client.enroll("TP1000002", "1992-11-02")
            val sofia = client.coveredBeneficiaries().single()
            assertEquals("Sofia", sofia.firstName)
            assertFalse(sofia.inParcours)
            val gp = client.provider("Médecin généraliste") { it.sector == 1 }
            val p = client.preview(sofia.id, gp.id, "G", "30", day)
            assertEquals(Triple("7.00", "9.00", "14.00"), p.figures)
            assertTrue(p.deductions.any { it.kind == DeductionKind.OUT_OF_PARCOURS }, "${p.deductions}")
        }
    }

    @Test
    fun `a typo still finds providers, and a scanned desk QR code selects one`() = runBlocking {
        open().use { client ->
            client.enroll()
            val found = client.searchProviders("ophtalmologe paris", limit = 5)
            assertFalse(found.offline)
            assertTrue(found.providers.size in 1..5)
            assertTrue(found.providers.all { it.specialty == "Ophtalmologue" && it.city == "Paris" }, "${found.providers}")

            val target = found.providers.first()
            assertEquals(target, client.selectProvider("https://app.tierspay.fr/p/${target.code}"))
            assertEquals(target, client.selectProvider(target.code.lowercase()))
            assertEquals(target, client.selectProvider(target.id))
            // What the visit's desk-QR link routes to, selected by its code.
            assertEquals(Destination.Provider(target.code), client.routeForLink("https://app.tierspay.fr/p/${target.code}"))

            for (scan in listOf("https://evil.example/p/ABCDEF", "https://app.tierspay.fr/enroll")) {
                val e = expectError<TiersPayError.InvalidInput> { client.selectProvider(scan) }
                assertEquals(Fields.SCAN, e.field, scan)
            }
            assertEquals(Fields.PROVIDER, expectError<TiersPayError.InvalidInput> { client.selectProvider("hello") }.field)
            assertEquals(Fields.QUERY, expectError<TiersPayError.InvalidInput> { client.searchProviders("x".repeat(101)) }.field)

            // An empty search lists the recently used, from the phone.
            val sent = client.roundTrips()
            assertEquals(target, client.searchProviders("").providers.first())
            assertEquals(sent, client.roundTrips())
        }
    }

    @Test
    fun `bad input names the field, before any request`() = runBlocking {
        open().use { client ->
            client.enroll()
            val gp = client.provider("Médecin généraliste")
            val camille = client.idOf("Camille")
            val sent = client.roundTrips()
            suspend fun field(
                beneficiary: String = camille,
                provider: String = gp.id,
                act: String = "G",
                price: String = "30",
                date: LocalDate? = null,
            ): String = expectError<TiersPayError.InvalidInput> { client.preview(beneficiary, provider, act, price, date) }
                .also {
                    assertEquals(Kind.INVALID_INPUT, it.kind)
                    assertTrue(it.message.isNotBlank())
                }
                .field

            assertEquals(Fields.PRICE, field(price = "-30"))
            assertEquals(Fields.PRICE, field(price = "abc"))
            assertEquals(Fields.PRICE, field(price = "9999999"))
            assertEquals(Fields.PRICE, field(price = "12.345"))
            assertEquals(Fields.ACT_CODE, field(act = "NOPE"))
            assertEquals(Fields.PROVIDER_ID, field(provider = "prv_unknown"))
            assertEquals(Fields.BENEFICIARY_ID, field(beneficiary = "ben_of_someone_else"))
            // Year 10000: LocalDate writes it `+10000-01-01`, which the core refuses.
            assertEquals(Fields.DATE, field(date = LocalDate.of(10_000, 1, 1)))
            assertEquals(Fields.DATE, expectError<TiersPayError.InvalidInput> { client.acts(LocalDate.of(10_000, 1, 1)) }.field)
            assertEquals(sent, client.roundTrips())
        }
    }

    @Test
    fun `a preview stops holding once a ceiling is consumed, and a sync catches up`() = runBlocking {
        open().use { client ->
            client.enroll()
            val optician = client.provider("Opticien")
            val camille = client.idOf("Camille")
            val before = client.preview(camille, optician.id, "OPT-MONTURE", "250", day)
            assertEquals("200.00", before.amc.euros, "Santé Confort: 200 € per item")
            assertTrue(client.checkPreview(before).holds)

            val status = mock.post(
                "/v1/test_helpers/usage",
                """{"beneficiary_id": "$camille", "year": 2026, "ceiling": {"category": "optical", "consumed": "250"}}""",
            )
            assertEquals(200, status)
            val check = client.checkPreview(before)
            assertFalse(check.holds)
            assertEquals(5000L, check.amc.minorUnits, "300 € a year, 250 € consumed")
            assertNotEquals(before.id, check.serverPreviewId)

            val sync = client.syncCoverage()
            assertTrue(sync.contractUpdated)
            assertFalse(sync.tariffsUpdated)
            val after = client.preview(camille, optician.id, "OPT-MONTURE", "250", day)
            assertEquals("50.00", after.amc.euros)
            assertTrue(after.deductions.any { it.kind == DeductionKind.CEILING }, "${after.deductions}")
            assertTrue(client.checkPreview(after).holds)

            val unchanged = client.syncCoverage()
            assertFalse(unchanged.contractUpdated || unchanged.tariffsUpdated)
            assertTrue(unchanged.bytes < 100, "an unchanged sync is nearly free: ${unchanged.bytes} bytes")
            val full = client.resyncCoverage()
            assertTrue(full.contractUpdated && full.tariffsUpdated)
            assertTrue(full.bytes > unchanged.bytes)
        }
    }

    @Test
    fun `the core's visit flow drives the screen from the beneficiary to the server's word`() = runBlocking {
        open().use { client ->
            client.enroll()
            val gp = client.provider("Médecin généraliste") { it.sector == 1 }
            VisitFlowModel(client, locale = Locale.UK).use { model ->
                suspend fun until(what: String, done: (VisitFlowState) -> Boolean): VisitFlowState =
                    withTimeout(10_000) { model.state.first { it != null && done(it) }!! }

                model.start()
                var s = until("loaded") { !it.loading && !it.searching }
                assertEquals(CoreVisitStep.BENEFICIARY, s.step)
                assertEquals(gp.id, s.results.first().id, "recently used first")
                model.chooseBeneficiary(s.beneficiaries.first { it.firstName == "Camille" }.id)
                model.onScanned("https://example.com/p/K7M2QX")
                s = until("scan refused") { !it.selectingProvider && it.error != null }
                assertEquals(CoreVisitField.SCAN, s.error?.field)
                model.filter("Médecin généraliste", "Paris")
                s = until("searched") { !it.searching && it.results.isNotEmpty() }
                assertTrue(s.results.all { it.specialty == "Médecin généraliste" }, "${s.results}")
                model.onScanned("https://app.tierspay.fr/p/${gp.code}")
                assertEquals(gp.id, until("selected") { it.provider != null }.provider!!.id)
                model.onDateChange("2026-03-02")
                model.chooseAct("G")
                model.onPriceChange("30")
                model.estimate()
                s = until("checked") { it.check != null && it.check != VisitCheck.Checking }
                assertEquals(CoreVisitStep.RESULT, s.step)
                assertEquals(200L, s.preview!!.member.minorUnits)
                assertEquals(VisitCheck.Confirmed(s.preview!!.id), s.check)
                assertEquals(listOf(1900L, 900L, 200L), listOf(s.preview!!.amo, s.preview!!.amc, s.preview!!.member).map { it.minorUnits })
                assertTrue(s.explanations.isNotEmpty() && s.explanations.all { it.isNotBlank() })
                assertTrue(s.preview!!.member.display.startsWith("€"), "the model's locale: ${s.preview!!.member}")
                val english = s.explanations
                model.setLocale(Locale.FRANCE)
                s = until("in French") { it.preview?.member?.display?.startsWith("2,00") == true && it.check is VisitCheck.Confirmed }
                assertEquals(english.size, s.explanations.size)
                assertNotEquals(english, s.explanations)

                model.changeAmount()
                model.onPriceChange("-1")
                model.estimate()
                s = until("refused") { !it.pricing && it.error != null }
                assertEquals(CoreVisitField.PRICE, s.error?.field)
                model.changeAct()
                assertEquals(CoreVisitStep.ACT, model.state.value!!.step)
                // The screen's previous-step button and its filters' clear button.
                model.back()
                assertEquals(CoreVisitStep.PROVIDER, model.state.value!!.step)
                model.filter(null, " ")
                assertEquals(null to null, model.state.value!!.let { it.specialty to it.city }, "blank is any")
                model.back()
                assertEquals(CoreVisitStep.BENEFICIARY, model.state.value!!.step)
                model.newVisit()
                assertEquals(CoreVisitStep.BENEFICIARY, model.state.value!!.step)
            }
        }
    }

    @Test
    fun `the core's enrollment flow places errors on their field and enrolls`() = runBlocking {
        open().use { client ->
            EnrollmentFlowModel(client, DEMO_CONTRACT).use { model ->
                suspend fun until(what: String, done: (EnrollmentFlowState) -> Boolean): EnrollmentFlowState =
                    withTimeout(10_000) { model.state.first { it != null && done(it) }!! }

                assertEquals(DEMO_CONTRACT, model.state.value!!.contractNumber)
                model.onBirthDateChange(DEMO_BIRTH_DATE)
                model.submit()
                var s = until("code sent") { it.step == EnrollmentStep.CODE }
                val code = mock.lastSmsCode()
                model.onCodeChange(code.map { if (it == '9') '0' else '9' }.joinToString(""))
                model.submit()
                s = until("wrong code") { !it.busy && it.error != null }
                assertEquals(EnrollmentField.CODE, s.error!!.field)
                assertEquals(ErrorCode.CODE_INCORRECT, s.error!!.code)
                assertEquals("", s.code)
                model.onCodeChange(code)
                model.submit()
                s = until("enrolled") { it.step == EnrollmentStep.ENROLLED }
                assertEquals("Camille", s.profile!!.member.firstName)
            }
        }
    }
}
