package fr.tierspay.shell.state

import fr.tierspay.core.VisitStatus
import fr.tierspay.core.VisitStep
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.coreVisit
import fr.tierspay.shell.support.visitState
import fr.tierspay.shell.toShell
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.time.Instant
import java.time.LocalDate
import java.util.Locale

/** The visit screen's wrapper forwards the paying intents and shows the core's paying state as sent. */
class VisitFlowModelTest {
    private val client = FakeClient()

    @Test
    fun `authorize, cancel and refresh go to the core's flow, nothing decided here`() {
        VisitFlowModel(client, locale = Locale.FRANCE).use { model ->
            model.authorize()
            model.cancel()
            model.refresh()
            assertEquals(listOf("visit.authorize()", "visit.cancel()", "visit.refresh()"), client.calls)
        }
    }

    @Test
    fun `the armed visit and the paid receipt come through as the core sent them`() {
        VisitFlowModel(client, locale = Locale.FRANCE).use { model ->
            val flow = client.visitFlows.single()
            val armed = visitState(revision = 3, step = VisitStep.ARMED).let {
                it.copy(payment = it.payment.copy(locked = true, canCancel = true, visit = coreVisit()))
            }
            flow.emit(armed)
            assertEquals(armed, model.state.value)
            val paid = visitState(revision = 4, step = VisitStep.FINISHED).let {
                it.copy(payment = it.payment.copy(locked = true, visit = coreVisit(VisitStatus.PAID)))
            }
            flow.emit(paid)
            flow.emit(armed) // an older revision arriving late is dropped
            assertEquals(paid, model.state.value)
        }
    }

    @Test
    fun `a visit maps to the shell's model with its countdown's end and the core's receipt`() {
        val armed = coreVisit(created = 1_780_000_000, expiresAt = 1_780_001_800).toShell()
        assertEquals(Instant.ofEpochSecond(1_780_001_800), armed.expiresAt)
        assertEquals(LocalDate.of(2026, 3, 2), armed.date)
        assertTrue(armed.active && armed.receipt == null && armed.summary == null)
        val paid = coreVisit(VisitStatus.PAID).toShell()
        assertEquals("19,00\u00a0€", paid.receipt!!.amo.displayFr)
        assertEquals(
            listOf(3000L, 1900L, 900L, 200L, 0L),
            paid.receipt!!.let {
                listOf(it.providerPaid, it.amo, it.amc, it.memberCaptured, it.arrears)
            }.map { it.minorUnits },
        )
        assertEquals("Paid €30.00 to Dr Martin: your insurers €28.00, you €2.00", paid.summary!!.en)
    }
}
