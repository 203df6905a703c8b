package fr.tierspay.shell.state

import fr.tierspay.shell.Destination
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch

/**
 * The app's view-state root: the session (which half of the app to show), the enrollment form,
 * and where links and push messages lead. The Android app holds one in a ViewModel.
 */
class AppModel(
    private val client: TiersPayClient,
    private val scope: CoroutineScope,
) {
    val session = SessionModel(client, scope)
    val enrollment = EnrollmentModel(client, scope)
    private var started = false

    /** Loads the session and follows it. Idempotent. */
    fun start() {
        if (started) return
        started = true
        session.start()
        scope.launch {
            session.state.collect { state ->
                // After a sign-out the form must start over, not show the last enrollment.
                if (state is SessionState.SignedOut && enrollment.state.value is EnrollmentState.Enrolled) {
                    enrollment.reset()
                }
            }
        }
    }

    /** An App Link or `tierspay://` URL. Returns false for a link the core refused. */
    fun openLink(url: String): Boolean = open { client.routeForLink(url) }

    /** The data of a push message (or of the notification the member tapped). */
    fun openPush(data: Map<String, String>): Boolean = open { client.routeForPush(data) }

    private inline fun open(route: () -> Destination): Boolean {
        val destination = try {
            route()
        } catch (e: TiersPayError) {
            return false
        }
        when (destination) {
            // Home is where a signed-in member lands anyway; signed out, enrollment is home.
            Destination.Home -> Unit
            // No provider screen in this version yet: the link opens the app where it is.
            is Destination.Provider -> Unit
            is Destination.Enroll -> {
                val contract = destination.contractNumber
                if (contract != null && session.state.value !is SessionState.SignedIn) {
                    enrollment.prefill(contract)
                }
            }
        }
        return true
    }
}
