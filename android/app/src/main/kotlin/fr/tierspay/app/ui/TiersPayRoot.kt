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
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import fr.tierspay.app.R
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.state.AppModel
import fr.tierspay.shell.state.CardWalletModel
import fr.tierspay.shell.state.Screen
import fr.tierspay.shell.state.SessionState

/** Enrollment, or the signed-in screens, as the session says. */
@Composable
fun TiersPayRoot(app: AppModel, client: TiersPayClient, googlePay: TapAndPayGateway? = null) {
    val session by app.session.state.collectAsStateWithLifecycle()
    Surface(Modifier.fillMaxSize()) {
        Box(Modifier.safeDrawingPadding()) {
            when (val s = session) {
                SessionState.Loading -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
                    CircularProgressIndicator()
                }
                is SessionState.SignedOut -> EnrollmentScreen(app.enrollment, s.reason)
                is SessionState.SignedIn -> SignedIn(app, client, s, googlePay)
            }
        }
    }
}

/** Home, the card, or the visit at the doctor's desk (opened from home or by a desk QR link). */
@Composable
private fun SignedIn(
    app: AppModel,
    client: TiersPayClient,
    session: SessionState.SignedIn,
    googlePay: TapAndPayGateway?,
) {
    val screen by app.screen.collectAsStateWithLifecycle()
    var showCard by rememberSaveable { mutableStateOf(false) }
    val scope = rememberCoroutineScope()
    val card = remember(app) { CardWalletModel(client, googlePay ?: NoGooglePay, scope) }
    if (showCard && screen == Screen.HOME) {
        BackHandler { showCard = false }
        CardScreen(card, googlePayAvailable = googlePay != null, onBack = { showCard = false })
        return
    }
    when (screen) {
        Screen.HOME -> HomeScreen(
            session,
            onRefresh = app.session::refresh,
            onSignOut = app.session::signOut,
            onVisit = app::openVisit,
            onCard = { showCard = true },
        )
        Screen.VISIT -> {
            BackHandler(onBack = app::closeVisit)
            VisitScreen(app.visit, onBack = app::closeVisit)
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

/** Stands in when this build has no TapAndPay: the card screen then shows no Google Pay button. */
private object NoGooglePay : TapAndPayGateway {
    override suspend fun activeWalletId(): String = error("no Google Pay in this build")
    override suspend fun stableHardwareId(): String = error("no Google Pay in this build")
    override suspend fun listTokens() = error("no Google Pay in this build")
    override suspend fun pushTokenize(data: fr.tierspay.shell.PushTokenizeData) = error("no Google Pay in this build")
    override suspend fun tokenize(tokenId: String) = error("no Google Pay in this build")
}
