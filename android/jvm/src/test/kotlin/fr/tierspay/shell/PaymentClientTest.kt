package fr.tierspay.shell

import fr.tierspay.core.VisitFlowState
import fr.tierspay.core.VisitStep
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.state.VisitFlowModel
import fr.tierspay.shell.support.MockServer
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.Locale

/**
 * Paying at the doctor (issue 10) through the adapter across the real FFI, against a real
 * tierspay-mock (a fresh one per test): the member's own card saved, a GP visit priced and
 * authorized by the core's visit flow, tapped and captured at the mock's terminal, then shown
 * paid with the split; and an armed visit cancelled.
 */
class PaymentClientTest {
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

    /** The demo holder enrolled, with the test card 4242… saved as her own. */
    private suspend fun CoreTiersPayClient.enrollWithCard(): MemberCard {
        val challenge = startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
        confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
        return saveMemberCard("4242424242424242", "12/34", "123")
    }

    private suspend fun TiersPayClient.generalPractitioner(): Provider {
        val found = searchProviders("", "Médecin généraliste", "Paris", 50)
        return selectProvider(found.providers.first { it.sector == 1 }.id)
    }

    private suspend fun VisitFlowModel.until(what: String, done: (VisitFlowState) -> Boolean): VisitFlowState = try {
        withTimeout(10_000) { state.first { it != null && done(it) }!! }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("never $what: ${state.value}", e)
    }

    /** Camille's GP visit at 30 € priced and confirmed by the server, then authorized: armed. */
    private suspend fun VisitFlowModel.armedAt(gp: Provider): VisitFlowState {
        start()
        val loaded = until("loaded") { !it.loading && !it.searching }
        chooseBeneficiary(loaded.beneficiaries.first { it.firstName == "Camille" }.id)
        chooseProvider(gp.id)
        until("selected") { it.provider != null }
        chooseAct("G")
        until("act") { it.act != null }
        onPriceChange("30")
        estimate()
        val priced = until("priced") { it.preview != null && !it.pricing }
        assertTrue(priced.payment.canAuthorize, "${priced.payment}")
        authorize()
        assertTrue(state.value!!.payment.locked, "the choices lock at once")
        return until("authorized") { !it.payment.authorizing }
    }

    @Test
    fun `a visit authorized, tapped and captured shows paid with the split`() = runBlocking {
        open().use { client ->
            val card = client.enrollWithCard()
            assertEquals(Triple(PaymentMethodStatus.ACTIVE, "4242", "12/34"), Triple(card.status, card.last4, card.expiry))
            assertNull(card.decline)
            assertEquals(card, client.memberCard(), "kept on the phone, public facts only")
            val bad = expectError<TiersPayError.InvalidInput> { client.saveMemberCard("4242424242424241", "12/34", "123") }
            assertEquals("number", bad.field)

            val gp = client.generalPractitioner()
            VisitFlowModel(client, locale = Locale.UK).use { model ->
                var s = model.armedAt(gp)
                assertEquals(VisitStep.ARMED, s.step, "${s.error}")
                val armed = s.payment.visit!!.toShell()
                assertEquals(VisitStatus.ARMED, armed.status)
                assertTrue(armed.active && armed.expiresAt.isAfter(armed.created), "a countdown to draw: $armed")
                assertEquals(
                    listOf(3000L, 1900L, 900L, 200L),
                    listOf(armed.price, armed.amo, armed.amc, armed.member).map {
                        it.minorUnits
                    },
                )
                assertTrue(s.payment.canCancel)
                assertNull(s.payment.stale)

                // The terminal at the GP's desk taps the virtual card (its id from the card
                // screen's client) for the whole price, and captures.
                val virtualCard = client.refreshCard()
                mock.tapAndCapture(virtualCard.id, 3000, gp.code, gp.name, gp.city)

                s = model.refreshUntil(VisitStatus.PAID)
                assertEquals(VisitStep.FINISHED, s.step)
                assertFalse(s.payment.canCancel)
                val paid = s.payment.visit!!.toShell()
                val receipt = paid.receipt ?: throw AssertionError("a receipt once paid: $paid")
                assertEquals(
                    listOf(3000L, 1900L, 900L, 200L),
                    listOf(receipt.providerPaid, receipt.amo, receipt.amc, receipt.memberCaptured).map { it.minorUnits },
                )
                assertEquals(0L, receipt.arrears.minorUnits)
                assertEquals("Paid €30.00 to ${paid.providerName}: your insurers €28.00, you €2.00", paid.summary?.en)
                assertTrue(paid.summary!!.fr.startsWith("30,00\u00a0€ payés à "), paid.summary!!.fr)
                assertEquals("19,00\u00a0€", receipt.amo.displayFr)

                // The history has it first, offline and from the server, mapped the same.
                assertEquals(paid, client.visits().first())
                assertEquals(paid.id, client.refreshVisits().first().id)
                assertEquals(paid.receipt, client.visits().first().receipt)
            }
        }
    }

    @Test
    fun `an armed visit is cancelled before the tap`() = runBlocking {
        open().use { client ->
            client.enrollWithCard()
            val gp = client.generalPractitioner()
            VisitFlowModel(client, locale = Locale.FRANCE).use { model ->
                val armed = model.armedAt(gp)
                assertEquals(VisitStep.ARMED, armed.step, "${armed.error}")
                assertTrue(armed.payment.canCancel)
                model.cancel()
                val s = model.until("cancelled") { !it.payment.canceling && it.payment.visit?.status != VisitStatus.ARMED }
                assertEquals(VisitStatus.CANCELED, s.payment.visit?.status, "${s.error}")
                assertEquals(VisitStep.FINISHED, s.step)
                assertFalse(s.payment.canCancel || s.payment.visit!!.active)
                assertNull(s.payment.visit!!.receipt)
                val listed = client.visits().first()
                assertEquals(armed.payment.visit!!.id to VisitStatus.CANCELED, listed.id to listed.status)
            }
        }
    }

    /** Refreshes until the visit is [status]: settlement follows the capture through the PSP's events. */
    private suspend fun VisitFlowModel.refreshUntil(status: VisitStatus): VisitFlowState {
        repeat(200) {
            refresh()
            val s = until("refreshed") { !it.payment.refreshing }
            if (s.payment.visit?.status == status) return s
            delay(25)
        }
        throw AssertionError("never $status: ${state.value?.payment}")
    }
}
