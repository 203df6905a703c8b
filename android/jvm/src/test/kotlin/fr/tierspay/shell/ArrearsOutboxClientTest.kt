package fr.tierspay.shell

import fr.tierspay.core.ArrearsFlowState
import fr.tierspay.core.Invoice
import fr.tierspay.core.InvoiceStatus
import fr.tierspay.core.PaymentProgress
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.state.ArrearsModel
import fr.tierspay.shell.support.ArrearsMock
import fr.tierspay.shell.support.MockServer
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path

/**
 * Paying arrears from the app (issue 12) through the Kotlin adapter across the real FFI, against
 * a real tierspay-mock: the core's outbox writes a payment before it is sent, so a tap offline
 * waits and goes once when the network is back, a second tap is answered by the core, and a
 * payment that arrives after the member paid from the email link is not taken, with the core's
 * sentence saying how the invoice was paid. The shell only forwards taps and reads states.
 */
class ArrearsOutboxClientTest {
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

    /** The demo holder enrolled, with the test card 4242… saved as the card the app pays with. */
    private suspend fun enrolledWithCard() = arrears.enrolledMember(dataDir, secrets, cardNumber = "4242424242424242")

    private suspend fun ArrearsModel.until(what: String, done: (ArrearsFlowState) -> Boolean): ArrearsFlowState = try {
        withTimeout(15_000) { state.first { it != null && done(it) }!! }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("never $what: ${state.value}", e)
    }

    private fun ArrearsFlowState.invoice(id: String): Invoice? = invoices.firstOrNull { it.id == id }

    /** Payments the platform took for [invoice], from its own history of the invoice. */
    private fun Invoice.paymentsTaken() = history.count { it.kind == "payment_succeeded" }

    @Test
    fun `paid once from the app, the invoice shows paid and a second tap is refused by the core`() = runBlocking<Unit> {
        enrolledWithCard().use { client ->
            val id = arrears.premiumInvoice(4250, "Cotisation de novembre")
            ArrearsModel(client).use { model ->
                model.start()
                val open = model.until("synced") { it.invoice(id) != null && !it.syncing }.invoice(id)!!
                assertEquals(true, open.payButton?.enabled, "${open.payButton}")
                assertEquals("Pay €42.50", open.payButton?.labelEn)

                model.pay(id)
                val paid = model.until("paid") { it.invoice(id)?.status == InvoiceStatus.PAID }.invoice(id)!!
                model.until("paid from the app") { it.invoice(id)?.payment?.progress == PaymentProgress.PAID }
                assertEquals("app", paid.paidVia)
                assertFalse(paid.payButton!!.shows, "no pay button on a paid invoice")

                model.pay(id)
                val refused = model.until("second tap answered") { it.error != null && it.paying.isEmpty() }
                assertTrue("nothing left to pay" in refused.error!!.message, refused.error!!.message)
                val outbox = model.outbox()
                assertEquals(1, outbox.size, "one payment written: $outbox")
                assertEquals(PaymentProgress.PAID, outbox.single().progress)
                assertEquals(4250L, outbox.single().amount?.minorUnits)
            }
        }
    }

    @Test
    fun `a payment tapped offline waits in the outbox and is sent once when the network is back`() = runBlocking<Unit> {
        enrolledWithCard().use { client ->
            val id = arrears.premiumInvoice(1999, "Cotisation de decembre")
            ArrearsModel(client).use { model ->
                model.start()
                model.until("synced") { it.invoice(id) != null && !it.syncing }
                mock.stop()

                model.pay(id)
                val queued = model.until("queued") { it.invoice(id)?.payment?.progress == PaymentProgress.QUEUED && it.paying.isEmpty() }
                assertEquals(1u, queued.pendingPayments)
                assertEquals(false, queued.invoice(id)!!.payButton?.enabled, "greyed while queued")
                assertTrue("never charged twice" in queued.invoice(id)!!.payment!!.messageEn, queued.invoice(id)!!.payment!!.messageEn)
                model.pay(id)
                model.until("second tap answered") { it.alreadyQueued == id }

                mock.restart()
                model.networkAvailable()
                val sent = model.until("sent") {
                    it.invoice(id)?.status == InvoiceStatus.PAID && it.pendingPayments == 0u && !it.syncing
                }.invoice(id)!!
                assertEquals(PaymentProgress.PAID, sent.payment?.progress)
                assertEquals(1, sent.paymentsTaken(), "the platform took it once: ${sent.history}")
                assertEquals(1, model.outbox().size)
            }
        }
    }

    @Test
    fun `a queued payment of an invoice paid meanwhile from the email link is not taken and says why`() = runBlocking<Unit> {
        enrolledWithCard().use { client ->
            val id = arrears.premiumInvoice(4250, "Cotisation de novembre")
            val email = arrears.link(id, "email")
            ArrearsModel(client).use { model ->
                model.start()
                model.until("synced") { it.invoice(id) != null && !it.syncing }
                mock.stop()
                model.pay(id)
                model.until("queued") { it.invoice(id)?.payment?.progress == PaymentProgress.QUEUED }

                mock.restart()
                assertEquals(303, arrears.payOnHostedPage(email), "paid by card from the email's page")
                model.networkAvailable()
                val settled = model.until("not taken") {
                    it.invoice(id)?.payment?.progress == PaymentProgress.ALREADY_PAID && !it.syncing
                }.invoice(id)!!
                assertEquals(InvoiceStatus.PAID, settled.status)
                assertEquals("email_link", settled.paidVia)
                val why = settled.payment!!.messageEn
                assertTrue("from the email link" in why && "nothing was charged" in why, why)
                assertEquals(1, settled.paymentsTaken(), "only the email's payment: ${settled.history}")
            }
        }
    }
}
