package fr.tierspay.shell.support

import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TapAndPayResults
import fr.tierspay.shell.platform.TokenizeResult
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.withContext
import java.util.Base64

/**
 * What Google's SDK throws: `com.google.android.gms.common.api.ApiException`, a plain
 * `Exception` with a status code (CommonStatusCodes, TapAndPayStatusCodes) and the message
 * `"<code>: <status message>"`, rethrown by `Task.await()`. Deliberately not a TiersPayError: a
 * gateway must map it, and the card model must survive one that was not.
 */
class FakeApiException(val statusCode: Int, statusMessage: String = "") : Exception("$statusCode: $statusMessage") {
    companion object {
        /** CommonStatusCodes.NETWORK_ERROR. */
        const val NETWORK_ERROR = 7

        /** CommonStatusCodes.INTERNAL_ERROR. */
        const val INTERNAL_ERROR = 8

        /** TapAndPayStatusCodes.TAP_AND_PAY_NO_ACTIVE_WALLET. */
        const val TAP_AND_PAY_NO_ACTIVE_WALLET = 15002
    }
}

/**
 * Google's TapAndPay and the card network, played for JVM tests: a wallet that keeps its tokens,
 * and a `pushTokenize` that does what the token service would: it activates the issuer's
 * requested token through the mock's test helper, handing over the opaque payment card and its
 * own wallet and device ids (the OPC is bound to those), then answers RESULT_OK.
 *
 * [requestedTokenId] finds the issuer token the push asked for (on a phone, the network knows).
 *
 * Failures are the SDK's, not the shell's: [failure] makes every call throw it (as `Task.await()`
 * rethrows), and a card the token service refuses throws a [FakeApiException] too.
 *
 * With [activityResults] set, push and resume answer the way the real gateway does: Google Pay's
 * screen opens ([openScreen] says with which request code and which result it will close), and
 * the result arrives only when the test delivers it, as the activity's `onActivityResult` would,
 * possibly to another [TapAndPayResults] (a new process).
 */
class FakeTapAndPay(
    private val mock: MockServer,
    private val requestedTokenId: suspend () -> String,
    val walletId: String = "wallet_fake_1",
    val hardwareId: String = "hw_fake_1",
) : TapAndPayGateway {
    /** The ids the token service sees on activation: the wallet's own unless a test says otherwise. */
    var activationWalletId: String = walletId

    /** The member backs out of Google Pay's screens. */
    var cancel: Boolean = false

    /** Thrown by every call while set, as the SDK's tasks fail (no Play services, network, …). */
    @Volatile
    var failure: FakeApiException? = null

    /** Where Google Pay's screens answer, when they answer through the activity (see the class doc). */
    @Volatile
    var activityResults: TapAndPayResults? = null

    /** Google Pay's screen now open: its request code and the result it will close with. */
    val openScreen = MutableStateFlow<Pair<Int, TokenizeResult>?>(null)

    override val restoredResult: Deferred<TokenizeResult?>? get() = activityResults?.restored

    private val tokens = mutableListOf<TapAndPayToken>()
    val pushed = mutableListOf<PushTokenizeData>()
    val resumed = mutableListOf<String>()

    @Synchronized
    fun tokens(): List<TapAndPayToken> = tokens.toList()

    /** Puts [tokenId] in [state] (a `TapAndPayToken.State`), as the wallet would after an event. */
    @Synchronized
    fun setState(tokenId: String, state: Int) {
        val i = tokens.indexOfFirst { it.tokenId == tokenId }
        check(i >= 0) { "no token $tokenId in the fake wallet" }
        tokens[i] = tokens[i].copy(state = state)
    }

    private fun sdk() {
        failure?.let { throw it }
    }

    override suspend fun activeWalletId(): String = walletId.also { sdk() }

    override suspend fun stableHardwareId(): String = hardwareId.also { sdk() }

    override suspend fun listTokens(): List<TapAndPayToken> = tokens().also { sdk() }

    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult {
        sdk()
        pushed += data
        if (cancel) return answer(REQUEST_PUSH, TokenizeResult.Canceled)
        val tokenId = requestedTokenId()
        val status = withContext(Dispatchers.IO) {
            mock.postForm(
                "/v1/test_helpers/issuing/tokens/$tokenId/activate",
                mapOf(
                    "opaque_payment_card" to Base64.getEncoder().encodeToString(data.opaquePaymentCard),
                    "wallet_account_id" to activationWalletId,
                    "device_id" to hardwareId,
                ),
            )
        }
        if (status != 200) throw FakeApiException(FakeApiException.INTERNAL_ERROR, "the token service refused the card ($status)")
        synchronized(this) { tokens += TapAndPayToken(tokenId, data.lastDigits, TapAndPayToken.State.ACTIVE) }
        return answer(REQUEST_PUSH, TokenizeResult.Added(tokenId))
    }

    override suspend fun tokenize(tokenId: String): TokenizeResult {
        sdk()
        resumed += tokenId
        if (cancel) return answer(REQUEST_TOKENIZE, TokenizeResult.Canceled)
        setState(tokenId, TapAndPayToken.State.ACTIVE)
        return answer(REQUEST_TOKENIZE, TokenizeResult.Added(tokenId))
    }

    /** [result] at once, or through the activity when [activityResults] is set. */
    private suspend fun answer(requestCode: Int, result: TokenizeResult): TokenizeResult {
        val results = activityResults ?: return result
        return results.await(requestCode, remember = true) { openScreen.value = requestCode to result }
    }

    companion object {
        const val REQUEST_PUSH = 7001
        const val REQUEST_TOKENIZE = 7002
    }
}
