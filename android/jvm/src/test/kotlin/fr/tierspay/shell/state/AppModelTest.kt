package fr.tierspay.shell.state

import fr.tierspay.core.EnrollmentStep
import fr.tierspay.core.VisitStep
import fr.tierspay.shell.Destination
import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.coreCard
import fr.tierspay.shell.support.enrollmentState
import fr.tierspay.shell.support.sampleProfile
import fr.tierspay.shell.support.visitState
import fr.tierspay.shell.support.walletState
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

@OptIn(ExperimentalCoroutinesApi::class)
class AppModelTest {
    private val client = FakeClient()

    private fun TestScope.started() = AppModel(client, backgroundScope).also {
        it.start()
        runCurrent()
    }

    @Test
    fun `an enroll link pre-fills the form when signed out, foreign links are refused`() = runTest {
        val app = started()
        assertTrue(app.openLink("tierspay://enroll?contract=TP1000001"))
        assertTrue("enrollment.prefill(TP1000001)" in client.calls)

        client.calls.clear()
        assertFalse(app.openLink("https://evil.example/enroll?contract=X"))
        assertTrue(app.openPush(mapOf("link" to "tierspay://home")))
        assertTrue(app.openPush(emptyMap()))
        assertFalse(client.calls.any { it.startsWith("enrollment.") }, "${client.calls}")
    }

    @Test
    fun `the core's enrollment states reach the screen, and sign-out after an enrollment starts the form over`() = runTest {
        val app = started()
        val flow = client.enrollmentFlows.single()
        app.enrollment.onContractNumberChange("TP1000001")
        app.enrollment.submit()
        assertEquals(
            listOf("enrollment.editContractNumber(TP1000001)", "enrollment.submit()"),
            client.calls.filter {
                it.startsWith("enrollment.")
            },
        )
        flow.emit(enrollmentState(revision = 2, step = EnrollmentStep.CODE))
        flow.emit(enrollmentState(revision = 1, step = EnrollmentStep.DETAILS))
        assertEquals(EnrollmentStep.CODE, app.enrollment.state.value?.step, "an older revision is dropped")

        flow.emit(enrollmentState(revision = 3, step = EnrollmentStep.ENROLLED))
        client.session = Session.Enrolled(sampleProfile())
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertInstanceOf(SessionState.SignedIn::class.java, app.session.state.value)

        // Signed in, an enroll link changes nothing.
        client.calls.clear()
        app.openLink("tierspay://enroll?contract=TP2000002")
        assertFalse(client.calls.any { it.startsWith("enrollment.") })

        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertEquals(SessionState.SignedOut(), app.session.state.value)
        assertTrue("enrollment.reset(null)" in client.calls, "${client.calls}")
    }

    @Test
    fun `a desk QR link opens the visit at that provider, after enrollment when signed out`() = runTest {
        client.session = Session.Enrolled(sampleProfile())
        val app = started()
        assertEquals(Screen.HOME, app.screen.value)
        assertTrue(app.openLink("https://app.tierspay.fr/p/K7M2QX"))
        runCurrent()
        assertEquals(Screen.VISIT, app.screen.value)
        assertEquals(listOf("visit.start(null)", "visit.selectProvider(K7M2QX)"), client.calls.filter { it.startsWith("visit.") })
        val first = client.visitFlows.last()
        first.emit(visitState(revision = 5, step = VisitStep.ACT))
        assertEquals(VisitStep.ACT, app.visit.value.state.value?.step)

        app.closeVisit()
        assertEquals(Screen.HOME, app.screen.value)
        app.openVisit()
        assertEquals(Screen.VISIT, app.screen.value)
        assertEquals(VisitStep.ACT, app.visit.value.state.value?.step, "the visit keeps what was chosen")
        app.openLink("tierspay://home")
        assertEquals(Screen.HOME, app.screen.value)

        // Signed out: a fresh flow, nothing of the last member; the link waits for the enrollment.
        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertTrue(first.closed)
        assertEquals(null, app.visit.value.state.value, "nothing of the last member")
        client.calls.clear()
        assertTrue(app.openLink("https://app.tierspay.fr/p/ABC234"))
        app.openVisit()
        runCurrent()
        assertEquals(Screen.HOME, app.screen.value)
        assertFalse(client.calls.any { it.startsWith("visit.") })

        client.session = Session.Enrolled(sampleProfile())
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertEquals(Screen.VISIT, app.screen.value)
        assertTrue("visit.selectProvider(ABC234)" in client.calls, "${client.calls}")
    }

    @Test
    fun `a push about the card opens the card screen, once signed in, and sign-out forgets the card`() = runTest {
        client.cardInfo = sampleCard()
        val app = started()
        assertTrue(app.openPush(mapOf("kind" to "card_frozen", "link" to "tierspay://card")))
        assertEquals(Screen.HOME, app.screen.value, "signed out: the enrollment form, the card waits")

        client.session = Session.Enrolled(sampleProfile())
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertEquals(Screen.CARD, app.screen.value)
        assertTrue("wallet.start()" in client.calls, "the card screen's flow started: ${client.calls}")
        val wallet = client.walletFlows.single()
        wallet.emit(walletState(revision = wallet.state.revision.toLong() + 1, card = coreCard()))
        assertEquals(coreCard(), app.card.state.value?.card)
        app.closeCard()
        assertEquals(Screen.HOME, app.screen.value)

        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertTrue("wallet.reset()" in client.calls)
        assertEquals(null, app.card.state.value?.card, "nothing of the last member's card")
    }

    @Test
    fun `a push about a support answer asks for that invoice's thread until it is closed`() = runTest {
        val app = started()
        client.pushRoute = Destination.InvoiceThread("in_42")
        assertTrue(app.openPush(mapOf("kind" to "invoice_message", "invoice" to "in_42")))
        assertEquals("in_42", app.thread.value)
        app.closeThread()
        assertEquals(null, app.thread.value)
    }
}
