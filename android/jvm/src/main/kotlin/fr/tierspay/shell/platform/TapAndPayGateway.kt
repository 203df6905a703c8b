package fr.tierspay.shell.platform

import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayError
import kotlinx.coroutines.Deferred

/**
 * Google's TapAndPay, as the card screen needs it. The Android app implements it over
 * `TapAndPayClient` (the push and tokenize calls start Google Pay's own activity and resume with
 * its result); the JVM tests use a fake that plays the token service's part.
 *
 * Failures of TapAndPay itself (no Play services, an API error) are thrown as
 * [fr.tierspay.shell.TiersPayError.Platform] (see [tapAndPayCall]); the member backing out is
 * [TokenizeResult.Canceled]. [fr.tierspay.shell.state.CardWalletModel] still survives anything
 * else an implementation lets through.
 */
interface TapAndPayGateway {
    /**
     * `getActiveWalletId()`. When the device has no wallet yet, the implementation creates one
     * (`createWallet`) first: the core binds the card's data to this id.
     */
    suspend fun activeWalletId(): String

    /** `getStableHardwareId()`. */
    suspend fun stableHardwareId(): String

    /** `listTokens()`: every token of the active wallet, whatever its card. */
    suspend fun listTokens(): List<TapAndPayToken>

    /** `pushTokenize` with the issuer's data, as the core returned it. */
    suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult

    /** `tokenize(tokenId)`: resumes a token waiting for identity verification. */
    suspend fun tokenize(tokenId: String): TokenizeResult

    /**
     * The outcome of a push or resume that an earlier process of the app started but did not live
     * to see: Android may kill the app while Google Pay's screens are in front, then start it
     * again to deliver their result. Completes with that result once the recreated activity
     * receives it, or with null when none will come. Null when nothing was pending at start.
     * See [TapAndPayResults].
     */
    val restoredResult: Deferred<TokenizeResult?>? get() = null
}

/** Stands in when the build has no TapAndPay: every call fails as the platform, nothing crashes. */
object UnavailableTapAndPay : TapAndPayGateway {
    override suspend fun activeWalletId(): String = unavailable()
    override suspend fun stableHardwareId(): String = unavailable()
    override suspend fun listTokens(): List<TapAndPayToken> = unavailable()
    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult = unavailable()
    override suspend fun tokenize(tokenId: String): TokenizeResult = unavailable()

    private fun unavailable(): Nothing = throw TiersPayError.Platform("Google Pay is not part of this build.")
}

/** How a push or resume ended in Google Pay's activity. */
sealed interface TokenizeResult {
    /** `RESULT_OK`, with the wallet's token id. */
    data class Added(val tokenId: String) : TokenizeResult

    /** `RESULT_CANCELED`: the member backed out; nothing changed. */
    data object Canceled : TokenizeResult
}
