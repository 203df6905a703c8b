package fr.tierspay.shell.state

import fr.tierspay.core.ArrearsFlowState
import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.sampleProfile
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The arrears wrapper forwards intents and shows the core's states; the app routes payment links to it. */
@OptIn(ExperimentalCoroutinesApi::class)
class ArrearsModelTest {
    private val client = FakeClient()

    private fun state(revision: Long, syncing: Boolean = false) = ArrearsFlowState(
        revision = revision.toULong(),
        invoices = emptyList(),
        syncedAt = null,
        selected = null,
        link = null,
        syncing = syncing,
        openingLink = false,
        error = null,
    )

    @Test
    fun `intents go to the core's flow and only a newer state replaces the shown one`() {
        // A second tap on pay goes to the core too: refusing it is the core's call, not the shell's.
        ArrearsModel(client).use { model ->
            model.start()
            model.select("in_1")
            model.openLink("tierspay://l/AQ")
            model.back()
            model.refresh()
            model.pay("in_1")
            model.pay("in_1")
            model.networkAvailable()
            model.sync()
            assertEquals(
                listOf(
                    "arrears.start()",
                    "arrears.select(in_1)",
                    "arrears.openLink(tierspay://l/AQ)",
                    "arrears.back()",
                    "arrears.refresh()",
                    "arrears.pay(in_1)",
                    "arrears.pay(in_1)",
                    "arrears.networkAvailable()",
                    "arrears.sync()",
                ),
                client.calls,
            )
            val flow = client.arrearsFlows.single()
            flow.emit(state(2, syncing = true))
            flow.emit(state(1))
            assertEquals(state(2, syncing = true), model.state.value, "a late older state is dropped")
        }
        assertTrue(client.arrearsFlows.single().closed)
    }

    @Test
    fun `a payment link waits for the session, then goes to the core, and sign-out forgets it`() = runTest {
        val app = AppModel(client, backgroundScope).also {
            it.start()
            runCurrent()
        }
        val url = "https://app.tierspay.fr/l/AQEAAA"
        assertTrue(app.openLink(url))
        assertFalse(client.calls.any { it.startsWith("arrears.openLink") }, "no member yet to check it against")

        client.session = Session.Enrolled(sampleProfile())
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertTrue("arrears.openLink($url)" in client.calls, "${client.calls}")

        val before = app.arrears.value
        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertTrue(client.arrearsFlows.first().closed, "the last member's flow is released")
        assertTrue(before !== app.arrears.value, "a fresh flow after sign-out")
        app.close()
    }
}
