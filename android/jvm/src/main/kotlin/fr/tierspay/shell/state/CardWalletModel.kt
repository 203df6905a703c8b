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
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import java.util.Locale

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
 */
class CardWalletModel(
    private val client: TiersPayClient,
    private val tapAndPay: TapAndPayGateway,
    private val scope: CoroutineScope,
    locale: Locale = Locale.FRANCE,
) {
    private val _state = MutableStateFlow(CardWalletState(locale = locale))
    val state: StateFlow<CardWalletState> = _state.asStateFlow()
    private var started = false

    /** Reads the card (offline), refreshes it, and follows card events until [scope] ends. Idempotent. */
    fun start() {
        if (started) return
        started = true
        scope.launch {
            client.sessionEvents().collect { if (it == SessionChange.CARD_UPDATED) reload() }
        }
        scope.launch {
            reload()
            refresh()
        }
    }

    /** Fetches the card and its tokens again; the cached card stays on screen meanwhile. */
    fun refresh() {
        if (_state.value.refreshing) return
        _state.update { it.copy(refreshing = true) }
        scope.launch {
            try {
                val card = client.refreshCard()
                _state.update { it.copy(card = card, refreshing = false) }
            } catch (e: TiersPayError) {
                // Offline most often: the cached card stands.
                _state.update { it.copy(refreshing = false, error = e.toCardError()) }
            }
        }
    }

    /** The frozen switch. */
    fun setFrozen(frozen: Boolean) {
        val s = _state.value
        if (s.freezing || s.card == null || s.card.frozen == frozen) return
        _state.update { it.copy(freezing = true, error = null) }
        scope.launch {
            try {
                val card = if (frozen) client.freeze() else client.unfreeze()
                _state.update { it.copy(card = card, freezing = false, googlePay = GooglePayStatus.IDLE) }
            } catch (e: TiersPayError) {
                _state.update { it.copy(freezing = false, error = e.toCardError()) }
            }
        }
    }

    /** "Add to Google Pay": wallet ids and tokens → the core's decision → push, resume or nothing → refresh. */
    fun addToGooglePay() {
        if (_state.value.googlePay == GooglePayStatus.WORKING) return
        _state.update { it.copy(googlePay = GooglePayStatus.WORKING, error = null) }
        scope.launch {
            val status = try {
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
            } catch (e: TiersPayError) {
                _state.update { it.copy(googlePay = GooglePayStatus.IDLE, error = e.toCardError()) }
                return@launch
            }
            val card = try {
                client.refreshCard()
            } catch (e: TiersPayError) {
                _state.value.card
            }
            _state.update { it.copy(card = card, googlePay = status) }
        }
    }

    /**
     * The full details for manual entry, fetched now. Returned to the caller and kept nowhere:
     * the screen shows them once and drops them.
     */
    suspend fun reveal(): CardDetails = client.revealCard()

    fun dismissError() = _state.update { it.copy(error = null) }

    private suspend fun reload() {
        try {
            val card = client.card()
            _state.update { it.copy(loading = false, card = card) }
        } catch (e: TiersPayError) {
            _state.update { it.copy(loading = false, error = e.toCardError()) }
        }
    }
}

private fun TokenizeResult.toStatus(): GooglePayStatus = when (this) {
    is TokenizeResult.Added -> GooglePayStatus.ADDED
    TokenizeResult.Canceled -> GooglePayStatus.CANCELED
}

private fun TiersPayError.toCardError() = CardError(
    message = message,
    kind = kind,
    code = (this as? TiersPayError.Rejected)?.code,
)
