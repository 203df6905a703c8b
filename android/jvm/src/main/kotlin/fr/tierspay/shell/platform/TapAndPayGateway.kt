package fr.tierspay.shell.platform

import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken

/**
 * Google's TapAndPay, as the card screen needs it. The Android app implements it over
 * `TapAndPayClient` (the push and tokenize calls start Google Pay's own activity and resume with
 * its result); the JVM tests use a fake that plays the token service's part.
 *
 * Failures of TapAndPay itself (no Play services, an API error) are thrown as
 * [fr.tierspay.shell.TiersPayError.Platform]; the member backing out is [TokenizeResult.Canceled].
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
}

/** How a push or resume ended in Google Pay's activity. */
sealed interface TokenizeResult {
    /** `RESULT_OK`, with the wallet's token id. */
    data class Added(val tokenId: String) : TokenizeResult

    /** `RESULT_CANCELED`: the member backed out; nothing changed. */
    data object Canceled : TokenizeResult
}
