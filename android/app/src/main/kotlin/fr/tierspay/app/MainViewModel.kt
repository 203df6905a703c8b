package fr.tierspay.app

import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import fr.tierspay.app.wallet.GooglePayGateway
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.platform.UnavailableTapAndPay
import fr.tierspay.shell.state.AppModel

/**
 * Hosts the shell's view-state for the activity's lifetime (configuration changes included), the
 * card screen's and its Google Pay gateway with it: a push waiting for Google Pay's answer goes
 * on in [viewModelScope] while the activity is recreated.
 */
class MainViewModel(client: TiersPayClient, val googlePay: GooglePayGateway?) : ViewModel() {
    val app = AppModel(client, viewModelScope, tapAndPay = googlePay ?: UnavailableTapAndPay).also { it.start() }

    init {
        // Android restarted the process while Google Pay's screens were in front: back to the
        // card, whose model finishes the push or resume the previous process started.
        if (googlePay?.restoredResult != null) app.openCard()
    }

    /** The core's visit and enrollment flows go with the ViewModel. */
    override fun onCleared() {
        app.close()
    }
}
