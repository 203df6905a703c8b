package fr.tierspay.shell

import fr.tierspay.core.DeviceKey
import fr.tierspay.core.PlatformException
import fr.tierspay.core.SecureStorage
import fr.tierspay.shell.platform.DeviceSigningKey
import fr.tierspay.shell.platform.SecretStore

// The shell's platform services seen as the core's foreign traits. Any exception becomes the
// core's PlatformException (which it turns into CoreException.Platform): an exception of another
// type thrown across the FFI would be an unexpected error in the core.

internal class SecretStoreBridge(private val store: SecretStore) : SecureStorage {
    override fun get(key: String): ByteArray? = platformCall("secure storage get") { store.get(key) }
    override fun set(key: String, value: ByteArray) = platformCall("secure storage set") { store.set(key, value) }
    override fun delete(key: String) = platformCall("secure storage delete") { store.delete(key) }
}

internal class DeviceKeyBridge(private val key: DeviceSigningKey) : DeviceKey {
    override fun publicKey(): ByteArray = platformCall("device key public key") { key.publicKey() }
    override fun sign(message: ByteArray): ByteArray = platformCall("device key sign") { key.sign(message) }
    override fun delete() = platformCall("device key delete") { key.delete() }
}

private inline fun <T> platformCall(what: String, block: () -> T): T = try {
    block()
} catch (e: PlatformException) {
    throw e
} catch (e: Exception) {
    // Class and message only: platform messages name keys and algorithms, never member data.
    throw PlatformException.Failed("$what failed: ${e.javaClass.simpleName}${e.message?.let { ": $it" } ?: ""}")
}
