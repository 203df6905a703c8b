package fr.tierspay.app.wallet

import android.app.Activity
import android.content.Intent
import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult

/**
 * Built when the issuer-only TapAndPay SDK is absent: no Google Pay button is shown
 * ([forActivity] returns null), everything else in the app works.
 */
class GooglePayGateway private constructor() : TapAndPayGateway {
    override suspend fun activeWalletId(): String = unavailable()
    override suspend fun stableHardwareId(): String = unavailable()
    override suspend fun listTokens(): List<TapAndPayToken> = unavailable()
    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult = unavailable()
    override suspend fun tokenize(tokenId: String): TokenizeResult = unavailable()

    /** Never ours in this build. */
    fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?): Boolean = false

    private fun unavailable(): Nothing = error("Google Pay is not part of this build")

    companion object {
        /** Null: Google Pay is not part of this build. */
        @Suppress("UNUSED_PARAMETER")
        fun forActivity(activity: Activity): GooglePayGateway? = null
    }
}
