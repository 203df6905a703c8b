package fr.tierspay.app

import android.app.Application
import android.os.Build
import android.util.Log
import com.google.firebase.FirebaseApp
import com.google.firebase.messaging.FirebaseMessaging
import fr.tierspay.app.platform.KeystoreDeviceKey
import fr.tierspay.app.platform.KeystoreSecretStore
import fr.tierspay.shell.CoreTiersPayClient
import fr.tierspay.shell.PushService
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.ShellConfig
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import kotlinx.coroutines.tasks.await

/** Holds the one core of the process, opened on first use, and hands it the push token. */
class TiersPayApplication : Application() {

    /**
     * Work that must outlive any activity or service (registering a push token): as long as the
     * process. A failure in one job does not cancel the others.
     */
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)

    /**
     * The client, or the error that kept the core from opening (a misconfigured build). Opening
     * reads the local database only (a few milliseconds), no network, no Keystore access.
     */
    val client: Result<TiersPayClient> by lazy {
        try {
            Result.success(
                CoreTiersPayClient.open(
                    ShellConfig(
                        serverUrl = BuildConfig.SERVER_URL,
                        dataDir = noBackupFilesDir.resolve("tierspay").apply { mkdirs() }.path,
                        serverPublicKey = BuildConfig.SERVER_PUBLIC_KEY,
                        deviceName = Build.MODEL,
                    ),
                    KeystoreSecretStore(this),
                    KeystoreDeviceKey(this),
                ),
            )
        } catch (e: TiersPayError) {
            Result.failure(e)
        }
    }

    override fun onCreate() {
        super.onCreate()
        if (FirebaseApp.getApps(this).isEmpty()) return // no google-services.json: no push
        // onNewToken comes only when the token changes: hand the current one over at every
        // start too, so a token the platform missed (offline at the time) gets there. The core
        // sends nothing when it registered this very token already.
        scope.launch { registerCurrentToken() }
        // Sign-out makes the core forget the token; a new enrollment in this process needs it
        // again (one given before enrollment is sent with it, so this then sends nothing).
        scope.launch {
            val core = client.getOrNull() ?: return@launch // opened here, off the main thread
            core.sessionEvents().collect { if (it == SessionChange.ENROLLED) registerCurrentToken() }
        }
    }

    private suspend fun registerCurrentToken() {
        val token = try {
            FirebaseMessaging.getInstance().token.await()
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            // No Play services, no network yet: onNewToken brings it later.
            Log.i(TAG, "no FCM token now: ${e.javaClass.simpleName}")
            return
        }
        register(token)
    }

    /** Hands an FCM token to the core, off the caller's thread (Firebase's, or the main one). */
    fun registerPushToken(token: String) {
        scope.launch { register(token) }
    }

    private suspend fun register(token: String) {
        val core = client.getOrNull() ?: return
        try {
            core.registerPushToken(PushService.FCM, token)
        } catch (e: TiersPayError) {
            // Kept by the core (offline, not enrolled yet): sent after enrollment, or again at
            // the next start. Nothing to show the member.
            Log.i(TAG, "push token not registered now: ${e.kind}")
        }
    }

    private companion object {
        const val TAG = "TiersPay"
    }
}
