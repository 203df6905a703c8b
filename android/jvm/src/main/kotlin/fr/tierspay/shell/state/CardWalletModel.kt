package fr.tierspay.shell.state

import fr.tierspay.core.WalletFlowInterface
import fr.tierspay.core.WalletFlowState
import fr.tierspay.core.WalletKind
import fr.tierspay.core.WalletListener
import fr.tierspay.core.WalletRequest
import fr.tierspay.core.WalletResult
import fr.tierspay.shell.CardDetails
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult
import fr.tierspay.shell.toCore
import fr.tierspay.shell.toShell
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

/**
 * The card screen over the core's `WalletFlow` (`core/src/app/flows/wallet.rs`): the card read
 * offline then fetched, freeze, whether "Add to Google Pay" shows and is enabled, every step of
 * an attempt, the card read again after every wallet result, errors and stale answers are the
 * core's. This exposes its state as a [StateFlow], forwards the member's intents, and answers the
 * flow's [WalletRequest]s by calling TapAndPay ([TapAndPayGateway]) and handing what it said
 * back. It decides nothing.
 *
 * Whatever a gateway throws goes back to the core as `walletFailed` (a [TiersPayError]'s message
 * as it is, anything else as [UNEXPECTED_FAILURE]), so an exception of Google's SDK never
 * escapes a coroutine launched here. Cancellation of this model's work is not a failure.
 *
 * The Android app keeps one in its ViewModel (in [AppModel]), so a Google Pay request survives
 * the activity being recreated; a request whose process died is handed to the core to finish
 * from [TapAndPayGateway.restoredResult].
 */
class CardWalletModel(private val client: TiersPayClient, private val tapAndPay: TapAndPayGateway, private val scope: CoroutineScope) :
    AutoCloseable {
    private val _state = MutableStateFlow<WalletFlowState?>(null)

    /** Every state the core sends, the newest revision kept. */
    val state: StateFlow<WalletFlowState?> = _state.asStateFlow()

    /** The platform calls and the event follower: a child of [scope] that [clear] cancels. */
    private var work: Job = SupervisorJob(scope.coroutineContext[Job])
    private var started = false

    private val flow: WalletFlowInterface = client.walletFlow(
        WalletKind.GOOGLE_PAY,
        object : WalletListener {
            override fun onState(state: WalletFlowState) = keep(state)

            override fun onRequest(request: WalletRequest) = answer(request)
        },
    )

    init {
        // Google Pay is still open on a request of the previous process: the core waits for it.
        if (tapAndPay.restoredResult != null) flow.awaitRestored()
        flow.state()?.let(::keep)
    }

    private fun keep(state: WalletFlowState) = _state.update { old -> if (old == null || state.revision > old.revision) state else old }

    /** Reads the card (offline), fetches it, and follows card events until [clear]. Idempotent. */
    fun start() {
        if (started) return
        started = true
        scope.launch(work) {
            client.sessionEvents().collect { if (it == SessionChange.CARD_UPDATED) flow.reload() }
        }
        flow.start()
    }

    /** Fetches the card and its tokens again; the cached card stays on screen meanwhile. */
    fun refresh() = flow.refresh()

    /** The frozen switch. */
    fun setFrozen(frozen: Boolean) = flow.setFrozen(frozen)

    /** "Add to Google Pay". */
    fun addToGooglePay() = flow.add()

    fun dismissError() = flow.dismissError()

    /**
     * The full details for manual entry, fetched now. Returned to the caller and kept nowhere:
     * the screen shows them once and drops them.
     */
    suspend fun reveal(): CardDetails = client.revealCard()

    /** Forgets the card and drops the work under way (the member signed out); call [start] again. */
    fun clear() {
        work.cancel()
        work = SupervisorJob(scope.coroutineContext[Job])
        started = false
        flow.reset()
    }

    /** Releases the core's flow (a fake in tests may have nothing to release). */
    override fun close() {
        work.cancel()
        (flow as? AutoCloseable)?.close()
    }

    private fun answer(request: WalletRequest) {
        when (request) {
            is WalletRequest.ReadGoogleWallet -> platform(request.request) {
                val walletId = tapAndPay.activeWalletId()
                val hardwareId = tapAndPay.stableHardwareId()
                val tokens = tapAndPay.listTokens().map { it.toCore() }
                flow.googleWalletRead(request.request, walletId, hardwareId, tokens)
            }
            is WalletRequest.PushTokenize -> platform(request.request) {
                flow.walletFinished(request.request, tapAndPay.pushTokenize(request.data.toShell()).toCore())
            }
            is WalletRequest.ResumeToken -> platform(request.request) {
                flow.walletFinished(request.request, tapAndPay.tokenize(request.tokenId).toCore())
            }
            is WalletRequest.AwaitRestored -> platform(request.request) {
                flow.walletFinished(request.request, tapAndPay.restoredResult?.await()?.toCore() ?: WalletResult.GONE)
            }
            // PassKit's: never asked of a Google Pay flow.
            is WalletRequest.PresentPassSheet, is WalletRequest.HandPassToWallet, is WalletRequest.CloseWallet -> Unit
        }
    }

    /**
     * Runs a TapAndPay call for the core's [request]; a failure goes back as `walletFailed`. A
     * cancellation that is not this model's (a cancelled task inside a gateway) is a failure like
     * the others, or the screen would wait forever.
     */
    private fun platform(request: ULong, call: suspend () -> Unit) {
        scope.launch(work) {
            try {
                call()
            } catch (e: CancellationException) {
                currentCoroutineContext().ensureActive()
                flow.walletFailed(request, e.shown())
            } catch (e: Exception) {
                flow.walletFailed(request, e.shown())
            }
        }
    }
}

/** The card's controls in [locale]'s language (French for French, English otherwise). */
fun WalletFlowState.controls(locale: Locale): List<String> =
    card?.controls?.map { if (locale.language == Locale.FRENCH.language) it.fr else it.en }.orEmpty()

private fun TokenizeResult.toCore(): WalletResult = when (this) {
    is TokenizeResult.Added -> WalletResult.ADDED
    TokenizeResult.Canceled -> WalletResult.CANCELED
}

/** A gateway's [TiersPayError] says what happened; an SDK exception a gateway let through is not for the member. */
private fun Exception.shown(): String = (this as? TiersPayError)?.message ?: UNEXPECTED_FAILURE

internal const val UNEXPECTED_FAILURE = "Something went wrong on this phone. Try again."
