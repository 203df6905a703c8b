package fr.tierspay.app.wallet

import android.app.Activity
import android.content.Context
import android.content.Intent
import androidx.lifecycle.SavedStateHandle
import com.google.android.gms.common.api.ApiException
import com.google.android.gms.tapandpay.TapAndPay
import com.google.android.gms.tapandpay.TapAndPayStatusCodes
import com.google.android.gms.tapandpay.issuer.PushTokenizeRequest
import com.google.android.gms.tapandpay.issuer.UserAddress
import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.platform.SavedRequest
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TapAndPayResults
import fr.tierspay.shell.platform.TokenizeResult
import fr.tierspay.shell.platform.tapAndPayCall
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.tasks.await

/**
 * TapAndPay, thinly: reads what the wallet holds and carries out what the core decided. Built
 * only when the issuer-only TapAndPay SDK is in `app/libs/` (see the app's build file).
 *
 * Lives in the ViewModel, not the activity, so that a push under way survives a rotation: the
 * activity [attach]es itself while it exists and hands its `onActivityResult` to
 * [onActivityResult]. The request code of a push or resume waiting for Google Pay is kept in the
 * ViewModel's [SavedStateHandle], so a result that arrives after Android killed and restarted the
 * process is still recognised ([restoredResult]).
 *
 * Every failure of Play services (`ApiException` from a task, anything else the SDK throws)
 * leaves here as [TiersPayError.Platform]: see [tapAndPayCall].
 */
class GooglePayGateway private constructor(context: Context, saved: SavedStateHandle) : TapAndPayGateway {
    // The application's context: this object outlives activities. The calls that open Google
    // Pay's screens take the activity as an argument.
    private val client = TapAndPay.getClient(context.applicationContext)
    private val results = TapAndPayResults(
        object : SavedRequest {
            override var requestCode: Int?
                get() = saved[KEY_PENDING_REQUEST]
                set(value) {
                    saved[KEY_PENDING_REQUEST] = value
                }
        },
    )
    private var activity: Activity? = null

    override val restoredResult: Deferred<TokenizeResult?>? get() = results.restored

    /** The activity now in front, for the calls that open Google Pay's screens. */
    fun attach(activity: Activity) {
        this.activity = activity
    }

    /** The activity is destroyed: drop it (a rotation attaches the next one). */
    fun detach(activity: Activity) {
        if (this.activity === activity) this.activity = null
    }

    /**
     * The recreated activity resumed: Android delivers a pending result before `onResume`, so a
     * request of the previous process still without one will get none.
     */
    fun onResumed() = results.resumedWithoutResult()

    override suspend fun activeWalletId(): String = call("getActiveWalletId") {
        try {
            client.activeWalletId.await()
        } catch (e: ApiException) {
            if (e.statusCode != TapAndPayStatusCodes.TAP_AND_PAY_NO_ACTIVE_WALLET) throw e
            // No wallet yet: Google Pay creates one, then we ask again. Backing out leaves no
            // wallet, and the second call fails as the platform.
            results.await(REQUEST_CREATE_WALLET, remember = false) {
                client.createWallet(requireActivity(), REQUEST_CREATE_WALLET)
            }
            client.activeWalletId.await()
        }
    }

    override suspend fun stableHardwareId(): String = call("getStableHardwareId") { client.stableHardwareId.await() }

    override suspend fun listTokens(): List<TapAndPayToken> = call("listTokens") {
        client.listTokens().await().map { TapAndPayToken(it.issuerTokenId, it.fpanLastFour, it.tokenState) }
    }

    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult = call("pushTokenize") {
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
        results.await(REQUEST_PUSH, remember = true) { client.pushTokenize(requireActivity(), request, REQUEST_PUSH) }
    }

    override suspend fun tokenize(tokenId: String): TokenizeResult = call("tokenize") {
        results.await(REQUEST_TOKENIZE, remember = true) {
            client.tokenize(
                requireActivity(),
                tokenId,
                TapAndPay.TOKEN_PROVIDER_VISA,
                DISPLAY_NAME,
                TapAndPay.CARD_NETWORK_VISA,
                REQUEST_TOKENIZE,
            )
        }
    }

    /** Called by the activity's `onActivityResult`; true when the result was ours. */
    fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?): Boolean {
        if (requestCode !in REQUESTS) return false
        val result = if (resultCode == Activity.RESULT_OK) {
            TokenizeResult.Added(data?.getStringExtra(TapAndPay.EXTRA_ISSUER_TOKEN_ID).orEmpty())
        } else {
            TokenizeResult.Canceled
        }
        // A wallet-creation result of a process that died has no one to go to: the member taps again.
        results.deliver(requestCode, result)
        return true
    }

    private fun requireActivity(): Activity = activity ?: throw TiersPayError.Platform("Google Pay needs the app in front. Try again.")

    private suspend inline fun <T> call(what: String, block: () -> T): T = tapAndPayCall(what, { (it as? ApiException)?.statusCode }, block)

    companion object {
        private const val REQUEST_PUSH = 7001
        private const val REQUEST_TOKENIZE = 7002
        private const val REQUEST_CREATE_WALLET = 7003
        private val REQUESTS = setOf(REQUEST_PUSH, REQUEST_TOKENIZE, REQUEST_CREATE_WALLET)
        private const val KEY_PENDING_REQUEST = "fr.tierspay.googlepay.pending_request"
        private const val DISPLAY_NAME = "TiersPay Santé"

        /**
         * The gateway for the ViewModel: Google Pay is available in this build. [saved] is the
         * ViewModel's, where a pending request code outlives the process.
         */
        fun create(context: Context, saved: SavedStateHandle): GooglePayGateway? = GooglePayGateway(context, saved)
    }
}
