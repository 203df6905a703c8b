package fr.tierspay.shell.state

import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.sampleProfile
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

@OptIn(ExperimentalCoroutinesApi::class)
class SessionModelTest {
    private val client = FakeClient()

    /** Started in backgroundScope: it follows events until the test ends. */
    private fun TestScope.started(): SessionModel = SessionModel(client, backgroundScope).also {
        it.start()
        runCurrent()
    }

    @Test
    fun `starts from the local session`() = runTest {
        assertEquals(SessionState.SignedOut(), started().state.value)

        client.session = Session.Enrolled(sampleProfile())
        assertEquals(SessionState.SignedIn(sampleProfile()), started().state.value)
    }

    @Test
    fun `core events drive the state`() = runTest {
        val m = started()
        client.session = Session.Enrolled(sampleProfile())
        client.events.emit(SessionChange.ENROLLED)
        runCurrent()
        assertEquals(SessionState.SignedIn(sampleProfile()), m.state.value)

        client.session = Session.Enrolled(sampleProfile("Camila"))
        client.events.emit(SessionChange.PROFILE_UPDATED)
        runCurrent()
        assertEquals(SessionState.SignedIn(sampleProfile("Camila")), m.state.value)

        client.events.emit(SessionChange.CARD_UPDATED)
        runCurrent()
        assertEquals(SessionState.SignedIn(sampleProfile("Camila")), m.state.value, "not the session's business")

        client.events.emit(SessionChange.ENDED)
        runCurrent()
        assertEquals(SessionState.SignedOut(SignedOutReason.SESSION_ENDED), m.state.value)

        client.events.emit(SessionChange.SIGNED_OUT)
        runCurrent()
        assertEquals(SessionState.SignedOut(), m.state.value)
    }

    @Test
    fun `a failed refresh keeps the profile and says why, an ended session signs out`() = runTest {
        client.session = Session.Enrolled(sampleProfile())
        val m = started()

        client.onRefresh = { throw TiersPayError.Network("Network unavailable: offline") }
        m.refresh()
        runCurrent()
        assertEquals(SessionState.SignedIn(sampleProfile(), error = "Network unavailable: offline"), m.state.value)

        client.onRefresh = { sampleProfile("Camila") }
        m.refresh()
        runCurrent()
        assertEquals(SessionState.SignedIn(sampleProfile("Camila")), m.state.value)

        client.onRefresh = { throw TiersPayError.SessionEnded("enroll again") }
        m.refresh()
        runCurrent()
        assertEquals(SessionState.SignedOut(SignedOutReason.SESSION_ENDED), m.state.value)
    }

    @Test
    fun `sign-out signs out, and a failure keeps the member signed in`() = runTest {
        client.session = Session.Enrolled(sampleProfile())
        val m = started()

        client.onSignOut = { throw TiersPayError.Platform("keystore") }
        m.signOut()
        runCurrent()
        assertEquals(SessionState.SignedIn(sampleProfile(), error = "keystore"), m.state.value)

        client.onSignOut = {}
        m.signOut()
        runCurrent()
        assertEquals(SessionState.SignedOut(), m.state.value)
        assertEquals(2, client.calls.count { it == "signOut" })
    }
}
