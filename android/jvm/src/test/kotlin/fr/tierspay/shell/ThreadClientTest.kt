package fr.tierspay.shell

import fr.tierspay.core.FailureKind
import fr.tierspay.core.MessageState
import fr.tierspay.core.ThreadFlowState
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.state.ThreadModel
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
 * An invoice's message thread through the Kotlin adapter across the real FFI, against a real
 * tierspay-mock: a text the core refuses names its field and sends nothing; a message is sent
 * once; written offline it waits as pending and goes when the server is back; support's answer
 * shows after a refresh, and a push about it routes to the thread.
 */
class ThreadClientTest {
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

    private suspend fun ThreadModel.until(what: String, done: (ThreadFlowState) -> Boolean): ThreadFlowState = try {
        withTimeout(10_000) { state.first { it != null && done(it) }!! }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("never $what: ${state.value}", e)
    }

    @Test
    fun `a message is sent once, waits offline, and support's answer joins the thread`() = runBlocking<Unit> {
        arrears.enrolledMember(dataDir, secrets).use { client ->
            val invoice = arrears.premiumInvoice(4250, "Cotisation de novembre")
            ThreadModel(client, invoice).use { model ->
                model.start()
                model.until("read") { !it.syncing && it.revision > 1uL }

                model.send("   ")
                val refused = model.until("refused") { it.error != null }
                assertEquals(FailureKind.INVALID_INPUT, refused.error!!.kind)
                assertEquals("text", refused.error!!.field)
                assertTrue(refused.messages.isEmpty())

                model.send("Bonjour, je paierai vendredi.")
                val sent = model.until("sent") { s -> s.messages.any { it.state == MessageState.SENT } }
                assertEquals(listOf("Bonjour, je paierai vendredi."), sent.messages.map { it.text })
                assertEquals(0u, sent.pending)
            }

            mock.stop()
            ThreadModel(client, invoice).use { model ->
                model.start()
                model.until("offline read failed") { it.error?.kind == FailureKind.NETWORK && !it.syncing }
                model.send("Pouvez-vous m'envoyer le détail ?")
                val waiting = model.until("pending") { it.pending == 1u }
                assertEquals(MessageState.PENDING, waiting.messages.last().state)
            }

            mock.restart()
            arrears.supportAnswers(invoice, "Bien reçu.", name = "Claire")
            ThreadModel(client, invoice).use { model ->
                model.start()
                val read = model.until("answer") { s -> !s.syncing && s.messages.any { it.fromSupport } }
                assertEquals(3, read.messages.size, read.toString())
                assertTrue(read.messages.all { it.state == MessageState.SENT }, read.toString())
                assertEquals("Claire", read.messages.single { it.fromSupport }.authorName)
                assertEquals(0u, read.pending)
            }

            val route = client.routeForPush(mapOf("kind" to "invoice_message", "link" to "tierspay://home", "invoice" to invoice))
            assertEquals(Destination.InvoiceThread(invoice), route)
        }
    }
}
