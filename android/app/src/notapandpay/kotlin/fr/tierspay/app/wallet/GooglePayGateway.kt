package fr.tierspay.app.wallet

import android.app.Activity
import android.content.Context
import android.content.Intent
import androidx.lifecycle.SavedStateHandle
import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult

/**
 * Built when the issuer-only TapAndPay SDK is absent: no Google Pay button is shown ([create]
 * returns null), everything else in the app works. Same surface as the real one, so the activity
 * and the ViewModel compile unchanged in both builds.
 */
class GooglePayGateway private constructor() : TapAndPayGateway {
    override suspend fun activeWalletId(): String = unavailable()
    override suspend fun stableHardwareId(): String = unavailable()
    override suspend fun listTokens(): List<TapAndPayToken> = unavailable()
    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult = unavailable()
    override suspend fun tokenize(tokenId: String): TokenizeResult = unavailable()

    @Suppress("UNUSED_PARAMETER")
    fun attach(activity: Activity) = Unit

    @Suppress("UNUSED_PARAMETER")
    fun detach(activity: Activity) = Unit

    fun onResumed() = Unit

    /** Never ours in this build. */
    @Suppress("UNUSED_PARAMETER")
    fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?): Boolean = false

    private fun unavailable(): Nothing = throw TiersPayError.Platform("Google Pay is not part of this build.")

    companion object {
        /** Null: Google Pay is not part of this build. */
        @Suppress("UNUSED_PARAMETER")
        fun create(context: Context, saved: SavedStateHandle): GooglePayGateway? = null
    }
}
