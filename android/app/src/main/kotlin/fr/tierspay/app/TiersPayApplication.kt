package fr.tierspay.app

import android.app.Application
import android.os.Build
import fr.tierspay.app.platform.KeystoreDeviceKey
import fr.tierspay.app.platform.KeystoreSecretStore
import fr.tierspay.shell.CoreTiersPayClient
import fr.tierspay.shell.ShellConfig
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError

/** Holds the one core of the process, opened on first use. */
class TiersPayApplication : Application() {

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
}
