package fr.tierspay.shell.platform

// The platform services the core needs, in the shell's own terms. The Android app implements
// them on the Android Keystore; the JVM tests use InMemorySecretStore and SoftwareDeviceKey
// (src/test).
// Implementations may throw any exception: the adapter reports it to the core as a platform
// failure. They are called on core threads, so they must be thread-safe.

/**
 * Secret storage: the refresh token, the access token and, for software keys, the device key.
 * Nothing else goes here.
 */
interface SecretStore {
    /** The value stored under [key], or null. */
    fun get(key: String): ByteArray?

    /** Stores [value] under [key], replacing what was there. */
    fun set(key: String, value: ByteArray)

    /** Removes [key]; removing a missing key is not an error. */
    fun delete(key: String)
}

/**
 * The P-256 key that signs every request (DPoP). Its private half never leaves the platform
 * (StrongBox or TEE on Android).
 */
interface DeviceSigningKey {
    /** The public key as an uncompressed SEC1 point (65 bytes); creates the key on first use. */
    fun publicKey(): ByteArray

    /** ES256 signature of [message] (SHA-256, then ECDSA P-256), DER or raw `r||s`. */
    fun sign(message: ByteArray): ByteArray

    /** Destroys the key; the next [publicKey] creates a fresh one. */
    fun delete()
}
