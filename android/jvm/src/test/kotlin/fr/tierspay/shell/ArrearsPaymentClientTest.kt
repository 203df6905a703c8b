package fr.tierspay.shell

import fr.tierspay.core.ArrearsFlowState
import fr.tierspay.core.InvoiceStatus
import fr.tierspay.core.LinkChannel
import fr.tierspay.core.LinkResult
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.state.ArrearsModel
import fr.tierspay.shell.support.ArrearsMock
import fr.tierspay.shell.support.MockServer
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/**
 * The invoices of issue 12 through the Kotlin adapter across the real FFI, against a real
 * tierspay-mock: made by the insurer's back office, synced, listed with the mock stopped, and
 * the platform's own email link verified with the pinned server key.
 */
class ArrearsPaymentClientTest {
    private lateinit var mock: MockServer
    private lateinit var arrears: ArrearsMock

    @TempDir
    lateinit var dataDir: Path

    private val secrets = InMemorySecretStore()

    @BeforeEach
    fun startMock() {
        mock = MockServer.start()
        arrears = ArrearsMock(mock)
    }

    @AfterEach
    fun stopMock() {
        mock.close()
    }

    private suspend fun enrolled() = arrears.enrolledMember(dataDir, secrets)

    private suspend fun ArrearsModel.until(what: String, done: (ArrearsFlowState) -> Boolean): ArrearsFlowState = try {
        withTimeout(10_000) { state.first { it != null && done(it) }!! }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("never $what: ${state.value}", e)
    }

    @Test
    fun `invoices synced are listed with the server stopped and the platform's email link is verified`() = runBlocking<Unit> {
        enrolled().use { client ->
            val november = arrears.premiumInvoice(4250, "Cotisation de novembre")
            val december = arrears.premiumInvoice(1999, "Cotisation de decembre")
            val email = arrears.link(november, "email")
            ArrearsModel(client).use { model ->
                model.start()
                val synced = model.until("synced") { !it.syncing && it.invoices.size == 2 }
                val shown = synced.invoices.single { it.id == november }
                assertEquals(InvoiceStatus.OPEN, shown.status)
                assertTrue(shown.payable)
                assertEquals(4250L, shown.amountRemaining.minorUnits)
                assertEquals("42,50\u00a0€", shown.amountRemaining.displayFr)
                assertTrue(shown.rfReference!!.startsWith("RF"), shown.rfReference)
                assertEquals(1999L, synced.invoices.single { it.id == december }.amountDue.minorUnits)
            }

            mock.stop()
            ArrearsModel(client).use { model ->
                model.start()
                // The list is on the phone at once; the refresh fails for want of a server.
                val offline = model.until("refresh failed") { it.error != null && !it.syncing }
                assertEquals(setOf(november, december), offline.invoices.map { it.id }.toSet())
                model.openLink(email)
                val opened = model.until("verified") { it.link != null }
                val link = (opened.link as LinkResult.Verified).link
                assertEquals(4250L, link.amount.minorUnits)
                assertEquals(LinkChannel.EMAIL, link.channel)
                assertEquals(1.toUByte(), link.keyId, "the platform signs with the pinned server key, id 1")
            }
        }
    }
}
