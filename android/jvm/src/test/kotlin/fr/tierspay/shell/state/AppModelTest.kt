package fr.tierspay.shell.state

import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.sampleProfile
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

    private fun TestScope.started() = AppModel(client, backgroundScope).also { it.start(); runCurrent() }

    @Test
    fun `an enroll link pre-fills the form when signed out, foreign links are refused`() = runTest {
        val app = started()
        assertTrue(app.openLink("tierspay://enroll?contract=TP1000001"))
        assertEquals(EnrollmentState.Details("TP1000001"), app.enrollment.state.value)

        assertFalse(app.openLink("https://evil.example/enroll?contract=X"))
        assertTrue(app.openPush(mapOf("link" to "tierspay://home")))
        assertTrue(app.openPush(emptyMap()))
        assertEquals(EnrollmentState.Details("TP1000001"), app.enrollment.state.value)
    }

    @Test
    fun `enrollment leads home, and sign-out brings back an empty form`() = runTest {
        val app = started()
        app.enrollment.onContractNumberChange("TP1000001")
        app.enrollment.onBirthDateChange("1985-04-12")
        app.enrollment.submitDetails()
        runCurrent()
        app.enrollment.onCodeChange("123456")
        app.enrollment.submitCode()
        client.session = Session.Enrolled(sampleProfile())
        runCurrent()
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertInstanceOf(SessionState.SignedIn::class.java, app.session.state.value)
        assertInstanceOf(EnrollmentState.Enrolled::class.java, app.enrollment.state.value)

        // Signed in, an enroll link changes nothing.
        app.openLink("tierspay://enroll?contract=TP2000002")
        assertInstanceOf(EnrollmentState.Enrolled::class.java, app.enrollment.state.value)

        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertEquals(SessionState.SignedOut(), app.session.state.value)
        assertEquals(EnrollmentState.Details(), app.enrollment.state.value)
    }

    @Test
    fun `a desk QR link opens the visit at that provider, after enrollment when signed out`() = runTest {
        client.session = Session.Enrolled(sampleProfile())
        val app = started()
        assertEquals(Screen.HOME, app.screen.value)
        assertTrue(app.openLink("https://app.tierspay.fr/p/K7M2QX"))
        runCurrent()
        assertEquals(Screen.VISIT, app.screen.value)
        assertTrue("select(K7M2QX)" in client.calls)
        assertEquals("prv_gp", app.visit.state.value.provider?.id)

        app.closeVisit()
        assertEquals(Screen.HOME, app.screen.value)
        app.openVisit()
        assertEquals(Screen.VISIT, app.screen.value)
        app.openLink("tierspay://home")
        assertEquals(Screen.HOME, app.screen.value)

        // Signed out, the link waits for the enrollment.
        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertEquals(VisitState(locale = app.visit.state.value.locale), app.visit.state.value, "nothing of the last member")
        client.calls.clear()
        assertTrue(app.openLink("https://app.tierspay.fr/p/ABC234"))
        app.openVisit()
        runCurrent()
        assertEquals(Screen.HOME, app.screen.value)
        assertFalse(client.calls.any { it.startsWith("select") })

        client.session = Session.Enrolled(sampleProfile())
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertEquals(Screen.VISIT, app.screen.value)
        assertTrue("select(ABC234)" in client.calls)
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
        assertEquals(sampleCard(), app.card.state.value.card)
        app.closeCard()
        assertEquals(Screen.HOME, app.screen.value)

        client.session = Session.NotEnrolled
        app.session.signOut()
        runCurrent()
        assertEquals(null, app.card.state.value.card, "nothing of the last member's card")
    }
}
