package fr.tierspay.app.platform

import android.content.Context
import android.content.SharedPreferences
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Base64
import fr.tierspay.shell.platform.SecretStore
import java.io.IOException
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * [SecretStore] on the Android Keystore: each value is sealed with AES-256-GCM by a key that
 * lives in the Keystore (TEE) and never leaves it, bound to its name (AAD), and kept in private
 * SharedPreferences as `base64(iv || ciphertext)`.
 */
class KeystoreSecretStore(context: Context) : SecretStore {
    private val prefs = context.getSharedPreferences(PREFS, Context.MODE_PRIVATE)
    private val keyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    @Synchronized
    override fun get(key: String): ByteArray? {
        val sealed = prefs.getString(key, null)?.let { Base64.decode(it, Base64.NO_WRAP) } ?: return null
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, wrappingKey(), GCMParameterSpec(TAG_BITS, sealed, 0, IV_BYTES))
        cipher.updateAAD(key.toByteArray())
        return cipher.doFinal(sealed, IV_BYTES, sealed.size - IV_BYTES)
    }

    @Synchronized
    override fun set(key: String, value: ByteArray) {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey()) // the Keystore picks a fresh IV
        cipher.updateAAD(key.toByteArray())
        val sealed = cipher.iv + cipher.doFinal(value)
        commit { putString(key, Base64.encodeToString(sealed, Base64.NO_WRAP)) }
    }

    @Synchronized
    override fun delete(key: String) = commit { remove(key) }

    /** Written before returning: the core relies on a stored token being there after a crash. */
    private inline fun commit(change: SharedPreferences.Editor.() -> Unit) {
        val editor = prefs.edit()
        editor.change()
        if (!editor.commit()) throw IOException("secure storage write failed")
    }

    private fun wrappingKey(): SecretKey = (keyStore.getKey(KEY_ALIAS, null) as SecretKey?) ?: KeyGenerator
        .getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        .apply {
            init(
                KeyGenParameterSpec.Builder(KEY_ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                    .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                    .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                    .setKeySize(256)
                    .build(),
            )
        }
        .generateKey()

    private companion object {
        const val ANDROID_KEYSTORE = "AndroidKeyStore"
        const val KEY_ALIAS = "tierspay.secure_storage"
        const val PREFS = "tierspay.secure_storage"
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BITS = 128
    }
}
