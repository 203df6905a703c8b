package fr.tierspay.shell.platform

import fr.tierspay.shell.TiersPayError
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlin.coroutines.cancellation.CancellationException

/**
 * Where the request code of a Google Pay screen still open is kept so that it outlives the
 * process: the app backs it with its ViewModel's `SavedStateHandle` (saved with the activity's
 * instance state), tests with a variable.
 */
interface SavedRequest {
    var requestCode: Int?
}

/**
 * Google Pay's own screens (push, resume, create a wallet) answer through the activity's
 * `onActivityResult`, which Android may deliver to another activity than the one that started
 * them, and even to another process:
 *
 * - a rotation (or any configuration change) recreates the activity: this object lives in the
 *   ViewModel, so the call still suspended in [await] (in `viewModelScope`) gets the result the
 *   new activity hands to [deliver];
 * - Android may kill the whole process while Google Pay is in front, then start it again to
 *   deliver the result: the suspended call is gone with the old process, but its request code is
 *   in [SavedRequest], so the result is recognised and completes [restored], from which the card
 *   model finishes the work (reads the card again, shows the outcome) instead of losing it.
 *
 * Used from the main thread in the app; synchronized so that tests may use any thread.
 */
class TapAndPayResults(private val saved: SavedRequest) {
    private class Waiting(val requestCode: Int, val result: CompletableDeferred<TokenizeResult>)

    private var waiting: Waiting? = null

    private val _restored: CompletableDeferred<TokenizeResult?>? =
        if (saved.requestCode != null) CompletableDeferred() else null

    /**
     * The result of the request an earlier process left pending (null when none was). Completes
     * with null when the activity comes back without it ([resumedWithoutResult]).
     */
    val restored: Deferred<TokenizeResult?>? get() = _restored

    /**
     * Starts Google Pay's screen with [start] and suspends until [deliver] brings its result.
     * [remember] keeps the request code in [SavedRequest] meanwhile, for the requests whose result
     * must survive the process (push and resume; a wallet creation is simply asked for again).
     * A failure of [start] propagates; cancellation forgets the request.
     */
    suspend fun await(requestCode: Int, remember: Boolean, start: () -> Unit): TokenizeResult {
        val result = CompletableDeferred<TokenizeResult>()
        synchronized(this) {
            // The model never starts two at once; if it did, the older one would wait forever.
            waiting?.result?.complete(TokenizeResult.Canceled)
            waiting = Waiting(requestCode, result)
            saved.requestCode = if (remember) requestCode else null
        }
        try {
            start()
            return result.await()
        } finally {
            synchronized(this) {
                if (waiting?.result === result) {
                    waiting = null
                    saved.requestCode = null
                }
            }
        }
    }

    /**
     * A result from `onActivityResult`. True when it answered a request of ours: the call waiting
     * in [await], or the one an earlier process left pending ([restored]).
     */
    @Synchronized
    fun deliver(requestCode: Int, result: TokenizeResult): Boolean {
        val current = waiting
        if (current != null && current.requestCode == requestCode) {
            current.result.complete(result)
            return true
        }
        val restored = _restored
        if (restored != null && !restored.isCompleted && saved.requestCode == requestCode) {
            saved.requestCode = null
            restored.complete(result)
            return true
        }
        return false
    }

    /**
     * The recreated activity reached `onResume` and no result came: Android delivers one before
     * `onResume` when there is one, so Google Pay's screen is gone (its task was cleared) and
     * nothing will come. The model then reads the card again instead of waiting forever.
     */
    @Synchronized
    fun resumedWithoutResult() {
        val restored = _restored ?: return
        if (restored.isCompleted) return
        saved.requestCode = null
        restored.complete(null)
    }
}

/**
 * Runs a TapAndPay call and turns whatever Play services throws into
 * [TiersPayError.Platform]: `Task.await()` rethrows the task's `ApiException` (status codes such
 * as `TAP_AND_PAY_NO_ACTIVE_WALLET` 15002), and the SDK may throw others (a missing Play
 * services, a security exception). [statusCode] reads the status of Google's `ApiException`,
 * which this module cannot see. A [TiersPayError] passes unchanged; cancellation of the caller
 * propagates, but a cancellation that is not the caller's (a cancelled Play services task) is a
 * failure like the others, so the screen never waits for an answer that will not come.
 */
suspend inline fun <T> tapAndPayCall(what: String, statusCode: (Exception) -> Int?, call: () -> T): T = try {
    call()
} catch (e: TiersPayError) {
    throw e
} catch (e: CancellationException) {
    currentCoroutineContext().ensureActive()
    throw TiersPayError.Platform("Google Pay did not answer ($what). Try again.").also { it.initCause(e) }
} catch (e: Exception) {
    val status = statusCode(e)
    val detail = if (status != null) "$what, status $status" else what
    throw TiersPayError.Platform("Google Pay is not available right now ($detail). Try again later.").also { it.initCause(e) }
}
