package fr.tierspay.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.safeDrawingPadding
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import fr.tierspay.app.R
import fr.tierspay.shell.state.AppModel
import fr.tierspay.shell.state.Screen
import fr.tierspay.shell.state.SessionState

/** Enrollment, or the signed-in screens, as the session says. */
@Composable
fun TiersPayRoot(app: AppModel, googlePayAvailable: Boolean = false) {
    val session by app.session.state.collectAsStateWithLifecycle()
    Surface(Modifier.fillMaxSize()) {
        Box(Modifier.safeDrawingPadding()) {
            when (val s = session) {
                SessionState.Loading -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
                    CircularProgressIndicator()
                }
                is SessionState.SignedOut -> EnrollmentScreen(app.enrollment, s.reason)
                is SessionState.SignedIn -> SignedIn(app, s, googlePayAvailable)
            }
        }
    }
}

/**
 * Home, the card (from home, or a push about it), or the visit at the doctor's desk (from home or
 * a desk QR link).
 */
@Composable
private fun SignedIn(app: AppModel, session: SessionState.SignedIn, googlePayAvailable: Boolean) {
    val screen by app.screen.collectAsStateWithLifecycle()
    when (screen) {
        Screen.HOME -> HomeScreen(
            session,
            onRefresh = app.session::refresh,
            onSignOut = app.session::signOut,
            onVisit = app::openVisit,
            onCard = app::openCard,
        )
        Screen.VISIT -> {
            // A fresh flow after a sign-out: follow the model AppModel holds now.
            val visit by app.visit.collectAsStateWithLifecycle()
            BackHandler(onBack = app::closeVisit)
            VisitScreen(visit, onBack = app::closeVisit)
        }
        // The card model is the ViewModel's (AppModel.card), not this composition's: a Google
        // Pay request under way goes on while the activity is recreated.
        Screen.CARD -> {
            BackHandler(onBack = app::closeCard)
            CardScreen(app.card, googlePayAvailable = googlePayAvailable, onBack = app::closeCard)
        }
    }
}

/** The core could not open: a misconfigured build (server key, data folder). */
@Composable
fun CoreUnavailableScreen(message: String) {
    Surface(Modifier.fillMaxSize()) {
        Box(Modifier.safeDrawingPadding().padding(24.dp), contentAlignment = Alignment.Center) {
            Text(stringResource(R.string.core_unavailable, message), style = MaterialTheme.typography.bodyLarge)
        }
    }
}
