package fr.tierspay.shell.platform

import java.util.concurrent.ConcurrentHashMap

/** A [SecretStore] in memory only: for tests and tools. Values are copied in and out. */
class InMemorySecretStore : SecretStore {
    private val values = ConcurrentHashMap<String, ByteArray>()

    override fun get(key: String): ByteArray? = values[key]?.copyOf()

    override fun set(key: String, value: ByteArray) {
        values[key] = value.copyOf()
    }

    override fun delete(key: String) {
        values.remove(key)
    }

    /** The keys stored, for tests. */
    fun keys(): Set<String> = values.keys.toSet()
}
