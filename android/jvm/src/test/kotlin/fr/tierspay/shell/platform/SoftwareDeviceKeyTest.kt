package fr.tierspay.shell.platform

import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.security.KeyPairGenerator
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec

class SoftwareDeviceKeyTest {

    private fun verify(publicKey: ByteArray, message: ByteArray, signature: ByteArray): Boolean =
        Signature.getInstance("SHA256withECDSA").run {
            initVerify(Sec1.decode(publicKey))
            update(message)
            verify(signature)
        }

    @Test
    fun `public key is a 65-byte SEC1 point and signatures are DER ES256`() {
        val key = SoftwareDeviceKey(InMemorySecretStore())
        val public = key.publicKey()
        assertEquals(65, public.size)
        assertEquals(0x04.toByte(), public[0])

        val signature = key.sign("GET https://x/v1/me".toByteArray())
        assertEquals(0x30.toByte(), signature[0], "DER SEQUENCE")
        assertTrue(verify(public, "GET https://x/v1/me".toByteArray(), signature))
        assertFalse(verify(public, "POST https://x/v1/me".toByteArray(), signature))
    }

    @Test
    fun `the key survives a restart through its store, and delete replaces it`() {
        val store = InMemorySecretStore()
        val first = SoftwareDeviceKey(store).publicKey()
        assertArrayEquals(first, SoftwareDeviceKey(store).publicKey())

        val key = SoftwareDeviceKey(store)
        key.delete()
        assertTrue(store.keys().isEmpty())
        assertFalse(first.contentEquals(key.publicKey()))
    }

    @Test
    fun `SEC1 encoding pads coordinates to 32 bytes and round-trips`() {
        val generator = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }
        repeat(200) {
            val public = generator.generateKeyPair().public as ECPublicKey
            val encoded = Sec1.encode(public)
            assertEquals(65, encoded.size)
            assertEquals(public.w, Sec1.decode(encoded).w)
        }
    }
}
