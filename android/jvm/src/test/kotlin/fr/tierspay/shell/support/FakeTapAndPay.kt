package fr.tierspay.shell.support

import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import java.util.Base64

/**
 * Google's TapAndPay and the card network, played for JVM tests: a wallet that keeps its tokens,
 * and a `pushTokenize` that does what the token service would: it activates the issuer's
 * requested token through the mock's test helper, handing over the opaque payment card and its
 * own wallet and device ids (the OPC is bound to those), then answers RESULT_OK.
 *
 * [requestedTokenId] finds the issuer token the push asked for (on a phone, the network knows).
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

    override suspend fun activeWalletId(): String = walletId

    override suspend fun stableHardwareId(): String = hardwareId

    override suspend fun listTokens(): List<TapAndPayToken> = tokens()

    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult {
        pushed += data
        if (cancel) return TokenizeResult.Canceled
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
        if (status != 200) throw TiersPayError.Platform("the token service refused the card ($status)")
        synchronized(this) { tokens += TapAndPayToken(tokenId, data.lastDigits, TapAndPayToken.State.ACTIVE) }
        return TokenizeResult.Added(tokenId)
    }

    override suspend fun tokenize(tokenId: String): TokenizeResult {
        resumed += tokenId
        if (cancel) return TokenizeResult.Canceled
        setState(tokenId, TapAndPayToken.State.ACTIVE)
        return TokenizeResult.Added(tokenId)
    }
}
