package fr.tierspay.shell.state

import fr.tierspay.shell.MemberProfile
import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** Why the member is signed out, for the enrollment screen to explain. */
enum class SignedOutReason {
    /** Never enrolled, or signed out on this device. */
    NONE,

    /** The server ended the session (another phone enrolled); enroll again. */
    SESSION_ENDED,
}

/** Which half of the app to show. */
sealed interface SessionState {
    data object Loading : SessionState

    data class SignedOut(val reason: SignedOutReason = SignedOutReason.NONE) : SessionState

    data class SignedIn(
        val profile: MemberProfile,
        val refreshing: Boolean = false,
        val signingOut: Boolean = false,
        /** The last refresh or sign-out failure, shown as is. */
        val error: String? = null,
    ) : SessionState
}

/**
 * The session as the screens see it: read locally at start (works offline), then kept current
 * by the core's session events. Pure Kotlin, hosted by an Android ViewModel.
 */
class SessionModel(private val client: TiersPayClient, private val scope: CoroutineScope) {
    private val _state = MutableStateFlow<SessionState>(SessionState.Loading)
    val state: StateFlow<SessionState> = _state.asStateFlow()
    private var started = false

    /** Reads the session and follows its events until [scope] ends. Idempotent. */
    fun start() {
        if (started) return
        started = true
        scope.launch { client.sessionEvents().collect(::onChange) }
        scope.launch { reload() }
    }

    /** Fetches the profile again; the screen keeps the cached one while it runs. */
    fun refresh() {
        val s = _state.value as? SessionState.SignedIn ?: return
        if (s.refreshing || s.signingOut) return
        _state.value = s.copy(refreshing = true, error = null)
        scope.launch {
            try {
                val profile = client.refreshProfile()
                update<SessionState.SignedIn> { it.copy(profile = profile, refreshing = false) }
            } catch (e: TiersPayError.SessionEnded) {
                _state.value = SessionState.SignedOut(SignedOutReason.SESSION_ENDED)
            } catch (e: TiersPayError) {
                update<SessionState.SignedIn> { it.copy(refreshing = false, error = e.message) }
            }
        }
    }

    /** Signs out; works offline (the core wipes local data whatever the server says). */
    fun signOut() {
        val s = _state.value as? SessionState.SignedIn ?: return
        if (s.signingOut) return
        _state.value = s.copy(signingOut = true, error = null)
        scope.launch {
            try {
                client.signOut()
                _state.value = SessionState.SignedOut()
            } catch (e: TiersPayError) {
                update<SessionState.SignedIn> { it.copy(signingOut = false, error = e.message) }
            }
        }
    }

    private suspend fun onChange(change: SessionChange) {
        when (change) {
            SessionChange.ENROLLED, SessionChange.PROFILE_UPDATED -> reload()
            SessionChange.SIGNED_OUT -> _state.value = SessionState.SignedOut()
            SessionChange.ENDED -> _state.value = SessionState.SignedOut(SignedOutReason.SESSION_ENDED)
            // Nothing of the session changed; CardWalletModel follows this one.
            SessionChange.CARD_UPDATED -> Unit
        }
    }

    private suspend fun reload() {
        val next = try {
            when (val session = client.session()) {
                is Session.Enrolled -> {
                    val current = _state.value as? SessionState.SignedIn
                    current?.copy(profile = session.profile) ?: SessionState.SignedIn(session.profile)
                }
                Session.NotEnrolled -> when (val current = _state.value) {
                    is SessionState.SignedOut -> current
                    else -> SessionState.SignedOut()
                }
            }
        } catch (e: TiersPayError) {
            // Local storage unreadable: nothing to show but enrollment.
            SessionState.SignedOut()
        }
        _state.value = next
    }

    private inline fun <reified S : SessionState> update(change: (S) -> SessionState) {
        val s = _state.value as? S ?: return
        _state.value = change(s)
    }
}
