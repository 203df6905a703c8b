package fr.tierspay.shell.platform

import java.nio.ByteBuffer
import java.security.KeyFactory
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.PKCS8EncodedKeySpec
import java.security.spec.X509EncodedKeySpec

/**
 * A [DeviceSigningKey] in software (java.security), kept in a [SecretStore] so it survives a
 * restart: for JVM tests and tools only, never in the app (which uses the Android Keystore).
 * Signatures are DER (`SHA256withECDSA`), which the core accepts.
 */
class SoftwareDeviceKey(private val store: SecretStore, private val storageKey: String = "tierspay.device_key.jca") : DeviceSigningKey {
    private var cached: KeyPair? = null

    override fun publicKey(): ByteArray = Sec1.encode(keyPair().public as ECPublicKey)

    override fun sign(message: ByteArray): ByteArray = Signature.getInstance("SHA256withECDSA").run {
        initSign(keyPair().private)
        update(message)
        sign()
    }

    @Synchronized
    override fun delete() {
        cached = null
        store.delete(storageKey)
    }

    @Synchronized
    private fun keyPair(): KeyPair = cached ?: (load() ?: generate()).also { cached = it }

    private fun generate(): KeyPair {
        val pair = KeyPairGenerator.getInstance("EC")
            .apply { initialize(ECGenParameterSpec("secp256r1")) }
            .generateKeyPair()
        val private = pair.private.encoded
        val public = pair.public.encoded
        store.set(
            storageKey,
            ByteBuffer.allocate(4 + private.size + public.size)
                .putInt(private.size).put(private).put(public).array(),
        )
        return pair
    }

    private fun load(): KeyPair? {
        val blob = store.get(storageKey) ?: return null
        val buffer = ByteBuffer.wrap(blob)
        val private = ByteArray(buffer.int).also { buffer.get(it) }
        val public = ByteArray(buffer.remaining()).also { buffer.get(it) }
        val factory = KeyFactory.getInstance("EC")
        return KeyPair(
            factory.generatePublic(X509EncodedKeySpec(public)),
            factory.generatePrivate(PKCS8EncodedKeySpec(private)),
        )
    }
}
