package fr.tierspay.app.platform

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import fr.tierspay.shell.platform.DeviceSigningKey
import fr.tierspay.shell.platform.Sec1
import java.security.KeyPairGenerator
import java.security.KeyStore
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec

/**
 * The device key: EC P-256 in the Android Keystore, in StrongBox when the phone has one, else in
 * the TEE. The private half never leaves the secure hardware; signatures are DER ES256.
 */
class KeystoreDeviceKey(context: Context) : DeviceSigningKey {
    private val hasStrongBox = Build.VERSION.SDK_INT >= Build.VERSION_CODES.P &&
        context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE)
    private val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    override fun publicKey(): ByteArray = Sec1.encode(entry().certificate.publicKey as ECPublicKey)

    override fun sign(message: ByteArray): ByteArray = Signature.getInstance("SHA256withECDSA").run {
        initSign(entry().privateKey)
        update(message)
        sign()
    }

    @Synchronized
    override fun delete() = keyStore.deleteEntry(ALIAS)

    @Synchronized
    private fun entry(): KeyStore.PrivateKeyEntry {
        (keyStore.getEntry(ALIAS, null) as? KeyStore.PrivateKeyEntry)?.let { return it }
        try {
            generate(strongBox = hasStrongBox)
        } catch (e: StrongBoxUnavailableException) {
            generate(strongBox = false)
        }
        return keyStore.getEntry(ALIAS, null) as KeyStore.PrivateKeyEntry
    }

    private fun generate(strongBox: Boolean) {
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .apply { if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) setIsStrongBoxBacked(strongBox) }
            .build()
        KeyPairGenerator.getInstance(KeyProperties.KEY_ALGORITHM_EC, ANDROID_KEYSTORE)
            .apply { initialize(spec) }
            .generateKeyPair()
    }

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val ALIAS = "tierspay.device_key"
    }
}
