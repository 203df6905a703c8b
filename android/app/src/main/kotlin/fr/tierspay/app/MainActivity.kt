package fr.tierspay.app

import android.Manifest
import android.content.Intent
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.enableEdgeToEdge
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.viewModels
import androidx.lifecycle.createSavedStateHandle
import androidx.lifecycle.viewmodel.initializer
import androidx.lifecycle.viewmodel.viewModelFactory
import fr.tierspay.app.push.TiersPayMessagingService
import fr.tierspay.app.ui.CoreUnavailableScreen
import fr.tierspay.app.ui.TiersPayRoot
import fr.tierspay.app.ui.TiersPayTheme
import fr.tierspay.app.wallet.GooglePayGateway

class MainActivity : ComponentActivity() {

    private val client by lazy { (application as TiersPayApplication).client }

    private val viewModel: MainViewModel by viewModels {
        viewModelFactory {
            initializer {
                // TapAndPay when the build has it (see the app's build file), kept by the
                // ViewModel with its SavedStateHandle: a Google Pay request outlives this activity.
                MainViewModel(client.getOrThrow(), GooglePayGateway.create(applicationContext, createSavedStateHandle()))
            }
        }
    }

    private val askNotifications =
        registerForActivityResult(ActivityResultContracts.RequestPermission()) { /* push is optional */ }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        enableEdgeToEdge()
        val failure = client.exceptionOrNull()
        setContent {
            TiersPayTheme {
                if (failure != null) {
                    CoreUnavailableScreen(failure.message.orEmpty())
                } else {
                    TiersPayRoot(viewModel.app, googlePayAvailable = viewModel.googlePay != null)
                }
            }
        }
        if (failure != null) return
        viewModel.googlePay?.attach(this)
        if (savedInstanceState == null) open(intent)
        if (Build.VERSION.SDK_INT >= 33) askNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
    }

    override fun onResume() {
        super.onResume()
        if (client.isSuccess) viewModel.googlePay?.onResumed()
    }

    override fun onDestroy() {
        if (client.isSuccess) viewModel.googlePay?.detach(this)
        super.onDestroy()
    }

    /** Google Pay's screens answer here, in whichever activity (or process) is there by then. */
    @Deprecated("TapAndPay still answers through onActivityResult")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        val ours = client.isSuccess && viewModel.googlePay?.onActivityResult(requestCode, resultCode, data) == true
        @Suppress("DEPRECATION")
        if (!ours) super.onActivityResult(requestCode, resultCode, data)
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        if (client.isSuccess) open(intent)
    }

    /** A link (App Link or tierspay://) or a tapped notification: the core decides where it leads. */
    private fun open(intent: Intent) {
        val app = viewModel.app
        val link = intent.dataString
        if (intent.action == Intent.ACTION_VIEW && link != null) {
            app.openLink(link)
        } else {
            TiersPayMessagingService.pushData(intent)?.let(app::openPush)
        }
    }
}
