package fr.tierspay.shell.state

import fr.tierspay.shell.CardDetails
import fr.tierspay.shell.CardInfo
import fr.tierspay.shell.GooglePayAction
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import java.util.Locale
import kotlin.coroutines.cancellation.CancellationException

/** Where adding the card to Google Pay stands. */
enum class GooglePayStatus {
    /** Nothing asked yet. */
    IDLE,

    /** Reading the wallet, asking the core, or in Google Pay's own screens. */
    WORKING,

    /** Google Pay took the card (pushed or resumed). */
    ADDED,

    /** The card was already in Google Pay on this device: nothing done. */
    ALREADY_ADDED,

    /** The token service is still working on it: look again later. */
    IN_PROGRESS,

    /** The wallet token is suspended: unfreeze the card. */
    SUSPENDED,

    /** The member backed out of Google Pay's screens. */
    CANCELED,
}

/** An error to show above the card, as the core or the platform worded it. */
data class CardError(
    val message: String,
    val kind: TiersPayError.Kind,
    /** The server's code for a Rejected error (`card_inactive`), else null. */
    val code: String? = null,
)

/** What the card screen draws. Never the full number: [CardWalletModel.reveal] returns it apart. */
data class CardWalletState(
    /** The card is being read from the phone the first time. */
    val loading: Boolean = true,
    /** Null when none was issued (or not synced yet). */
    val card: CardInfo? = null,
    val refreshing: Boolean = false,
    /** A freeze or unfreeze is under way. */
    val freezing: Boolean = false,
    val googlePay: GooglePayStatus = GooglePayStatus.IDLE,
    val error: CardError? = null,
    /** Controls are in French for a French locale, in English otherwise. */
    val locale: Locale = Locale.FRANCE,
) {
    val frozen: Boolean get() = card?.frozen == true

    /** The card's controls in [locale]'s language. */
    val controls: List<String> get() = card?.controls?.map { it.text(locale) }.orEmpty()

    val canAddToGooglePay: Boolean
        get() = card?.googlePayEligible == true && !freezing && googlePay != GooglePayStatus.WORKING
}

/**
 * The card screen's state: the card read offline, then refreshed; freeze / unfreeze; and adding
 * the card to Google Pay, where TapAndPay says what the wallet holds, the core decides (push with
 * the issuer's data, resume a token waiting for verification, or nothing to do) and this model
 * only carries the decision out. Follows [SessionChange.CARD_UPDATED]. Pure Kotlin.
 *
 * Every failure ends as [CardWalletState.error], whatever threw it: the client throws
 * [TiersPayError] only, but a TapAndPay gateway sits over Google's SDK, and an exception escaping
 * a coroutine launched here would crash the app. Cancellation is not a failure and propagates.
 *
 * The Android app keeps one in its ViewModel (in [AppModel]), so a Google Pay request survives
 * the activity being recreated; a request whose process died is finished from
 * [TapAndPayGateway.restoredResult].
 */
class CardWalletModel(
    private val client: TiersPayClient,
    private val tapAndPay: TapAndPayGateway,
    private val scope: CoroutineScope,
    locale: Locale = Locale.FRANCE,
) {
    private val _state = MutableStateFlow(
        CardWalletState(
            locale = locale,
            // Google Pay is still open on a request of the previous process: no second one.
            googlePay = if (tapAndPay.restoredResult != null) GooglePayStatus.WORKING else GooglePayStatus.IDLE,
        ),
    )
    val state: StateFlow<CardWalletState> = _state.asStateFlow()
    private var started = false
    private var restoredTaken = false

    /**
     * The member's work: a child of [scope] that [clear] cancels, so nothing of a signed-out
     * member's card lands in the next one's state.
     */
    private var work: Job = SupervisorJob(scope.coroutineContext[Job])

    private fun launch(block: suspend CoroutineScope.() -> Unit) = scope.launch(work, block = block)

    /** Reads the card (offline), refreshes it, and follows card events until [scope] ends. Idempotent. */
    fun start() {
        tapAndPay.restoredResult?.let { restored ->
            if (!restoredTaken) {
                restoredTaken = true
                _state.update { it.copy(googlePay = GooglePayStatus.WORKING) }
                launch { finishGooglePay(restored.await()?.toStatus() ?: GooglePayStatus.IDLE) }
            }
        }
        if (started) return
        started = true
        launch {
            client.sessionEvents().collect { if (it == SessionChange.CARD_UPDATED) reload() }
        }
        launch {
            reload()
            refresh()
        }
    }

    /** Fetches the card and its tokens again; the cached card stays on screen meanwhile. */
    fun refresh() {
        if (_state.value.refreshing) return
        _state.update { it.copy(refreshing = true) }
        launch {
            catching { client.refreshCard() }
                .onSuccess { card -> _state.update { it.copy(card = card, refreshing = false) } }
                // Offline most often: the cached card stands.
                .onFailure { e -> _state.update { it.copy(refreshing = false, error = e.toCardError()) } }
        }
    }

    /** The frozen switch. */
    fun setFrozen(frozen: Boolean) {
        val s = _state.value
        if (s.freezing || s.card == null || s.card.frozen == frozen) return
        _state.update { it.copy(freezing = true, error = null) }
        launch {
            catching { if (frozen) client.freeze() else client.unfreeze() }
                .onSuccess { card ->
                    _state.update { it.copy(card = card, freezing = false, googlePay = GooglePayStatus.IDLE) }
                }
                .onFailure { e -> _state.update { it.copy(freezing = false, error = e.toCardError()) } }
        }
    }

    /** "Add to Google Pay": wallet ids and tokens → the core's decision → push, resume or nothing → refresh. */
    fun addToGooglePay() {
        if (_state.value.googlePay == GooglePayStatus.WORKING) return
        _state.update { it.copy(googlePay = GooglePayStatus.WORKING, error = null) }
        launch {
            catching {
                val action = client.googlePay(
                    walletAccountId = tapAndPay.activeWalletId(),
                    stableHardwareId = tapAndPay.stableHardwareId(),
                    walletTokens = tapAndPay.listTokens(),
                )
                when (action) {
                    is GooglePayAction.Push -> tapAndPay.pushTokenize(action.data).toStatus()
                    is GooglePayAction.Resume -> tapAndPay.tokenize(action.tokenId).toStatus()
                    GooglePayAction.AlreadyAdded -> GooglePayStatus.ALREADY_ADDED
                    GooglePayAction.InProgress -> GooglePayStatus.IN_PROGRESS
                    GooglePayAction.Suspended -> GooglePayStatus.SUSPENDED
                }
            }
                .onSuccess { status -> finishGooglePay(status) }
                .onFailure { e -> _state.update { it.copy(googlePay = GooglePayStatus.IDLE, error = e.toCardError()) } }
        }
    }

    /**
     * The full details for manual entry, fetched now. Returned to the caller and kept nowhere:
     * the screen shows them once and drops them.
     */
    suspend fun reveal(): CardDetails = client.revealCard()

    fun dismissError() = _state.update { it.copy(error = null) }

    /**
     * Forgets the card and stops the work under way (the member signed out): the next [start]
     * reads the next member's card.
     */
    fun clear() {
        work.cancel()
        work = SupervisorJob(scope.coroutineContext[Job])
        started = false
        _state.value = CardWalletState(locale = _state.value.locale)
    }

    /** The wallet changed: read the card again (its tokens), then show [status]. Offline, the cached card stands. */
    private suspend fun finishGooglePay(status: GooglePayStatus) {
        val card = catching { client.refreshCard() }.getOrElse { _state.value.card }
        _state.update { it.copy(card = card, googlePay = status) }
    }

    private suspend fun reload() {
        catching { client.card() }
            .onSuccess { card -> _state.update { it.copy(loading = false, card = card) } }
            .onFailure { e -> _state.update { it.copy(loading = false, error = e.toCardError()) } }
    }
}

/**
 * [block]'s value or its failure, any exception included. Unlike `runCatching`, the cancellation
 * of the calling coroutine propagates; a cancellation that is not ours (a cancelled task inside a
 * gateway) is a failure like the others, or the screen would wait forever.
 */
private suspend inline fun <T> catching(block: () -> T): Result<T> = try {
    Result.success(block())
} catch (e: CancellationException) {
    currentCoroutineContext().ensureActive()
    Result.failure(e)
} catch (e: Exception) {
    Result.failure(e)
}

private fun TokenizeResult.toStatus(): GooglePayStatus = when (this) {
    is TokenizeResult.Added -> GooglePayStatus.ADDED
    TokenizeResult.Canceled -> GooglePayStatus.CANCELED
}

private fun Throwable.toCardError() = when (this) {
    is TiersPayError -> CardError(message = message, kind = kind, code = (this as? TiersPayError.Rejected)?.code)
    // Not the core's: an SDK exception a gateway let through. Its text is not for the member.
    else -> CardError(message = UNEXPECTED_FAILURE, kind = TiersPayError.Kind.PLATFORM)
}

internal const val UNEXPECTED_FAILURE = "Something went wrong on this phone. Try again."
