package fr.tierspay.app.wallet

import android.app.Activity
import android.content.Intent
import com.google.android.gms.common.api.ApiException
import com.google.android.gms.tapandpay.TapAndPay
import com.google.android.gms.tapandpay.TapAndPayStatusCodes
import com.google.android.gms.tapandpay.issuer.PushTokenizeRequest
import com.google.android.gms.tapandpay.issuer.UserAddress
import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.tasks.await

/**
 * TapAndPay, thinly: reads what the wallet holds and carries out what the core decided. Built
 * only when the issuer-only TapAndPay SDK is in `app/libs/` (see the app's build file).
 */
class GooglePayGateway(private val activity: Activity) : TapAndPayGateway {
    private val client = TapAndPay.getClient(activity)
    private var pending: CompletableDeferred<TokenizeResult>? = null

    override suspend fun activeWalletId(): String = try {
        client.activeWalletId.await()
    } catch (e: ApiException) {
        if (e.statusCode != TapAndPayStatusCodes.TAP_AND_PAY_NO_ACTIVE_WALLET) throw e
        // No wallet yet: Google Pay creates one, then we ask again.
        awaitResult { client.createWallet(activity, REQUEST_CREATE_WALLET) }
        client.activeWalletId.await()
    }

    override suspend fun stableHardwareId(): String = client.stableHardwareId.await()

    override suspend fun listTokens(): List<TapAndPayToken> =
        client.listTokens().await().map { TapAndPayToken(it.issuerTokenId, it.fpanLastFour, it.tokenState) }

    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult {
        val address = UserAddress.newBuilder()
            .setName(data.address.name)
            .setAddress1(data.address.address1)
            .setLocality(data.address.locality)
            .setPostalCode(data.address.postalCode)
            .setCountryCode(data.address.countryCode)
            .setPhoneNumber(data.address.phoneNumber)
            .build()
        val request = PushTokenizeRequest.Builder()
            .setOpaquePaymentCard(data.opaquePaymentCard)
            .setNetwork(data.network)
            .setTokenServiceProvider(data.tokenServiceProvider)
            .setDisplayName(data.displayName)
            .setLastDigits(data.lastDigits)
            .setUserAddress(address)
            .build()
        return awaitResult { client.pushTokenize(activity, request, REQUEST_PUSH) }
    }

    override suspend fun tokenize(tokenId: String): TokenizeResult = awaitResult {
        client.tokenize(activity, tokenId, TapAndPay.TOKEN_PROVIDER_VISA, DISPLAY_NAME, TapAndPay.CARD_NETWORK_VISA, REQUEST_TOKENIZE)
    }

    /** Called by the activity's `onActivityResult`; true when the result was ours. */
    fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?): Boolean {
        if (requestCode !in setOf(REQUEST_PUSH, REQUEST_TOKENIZE, REQUEST_CREATE_WALLET)) return false
        val result = if (resultCode == Activity.RESULT_OK) {
            TokenizeResult.Added(data?.getStringExtra(TapAndPay.EXTRA_ISSUER_TOKEN_ID).orEmpty())
        } else {
            TokenizeResult.Canceled
        }
        pending?.complete(result)
        pending = null
        return true
    }

    private suspend fun awaitResult(start: () -> Unit): TokenizeResult {
        val deferred = CompletableDeferred<TokenizeResult>().also { pending = it }
        start()
        return deferred.await()
    }

    companion object {
        private const val REQUEST_PUSH = 7001
        private const val REQUEST_TOKENIZE = 7002
        private const val REQUEST_CREATE_WALLET = 7003
        private const val DISPLAY_NAME = "TiersPay Santé"

        /** The gateway for this activity: Google Pay is available in this build. */
        fun forActivity(activity: Activity): GooglePayGateway? = GooglePayGateway(activity)
    }
}
