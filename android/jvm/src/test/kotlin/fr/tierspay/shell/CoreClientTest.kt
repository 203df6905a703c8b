package fr.tierspay.shell

import fr.tierspay.shell.TiersPayError.Kind
import fr.tierspay.shell.platform.DeviceSigningKey
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.MockServer
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.IOException
import java.net.ServerSocket
import java.nio.file.Path

/**
 * The adapter across the real FFI: the core library built by `make bindings`, against a real
 * tierspay-mock (a fresh one per test, so rate limits and enrollments never leak between tests).
 */
class CoreClientTest {
    private lateinit var mock: MockServer

    @TempDir
    lateinit var dataDir: Path

    private val secrets = InMemorySecretStore()

    @BeforeEach
    fun startMock() {
        mock = MockServer.start()
    }

    @AfterEach
    fun stopMock() {
        mock.close()
    }

    private fun open(store: SecretStore = secrets, key: DeviceSigningKey = SoftwareDeviceKey(store), serverUrl: String = mock.url) =
        CoreTiersPayClient.open(
            ShellConfig(serverUrl, dataDir.toString(), mock.publicKey, deviceName = "JVM test"),
            store,
            key,
        )

    private suspend fun enroll(client: TiersPayClient): MemberProfile {
        val challenge = client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
        return client.confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
    }

    @Test
    fun `enrolls, and a new core on the same data and storage is enrolled without the network`() = runBlocking {
        val profile = open().use { client ->
            assertEquals(Session.NotEnrolled, client.session())
            val challenge = client.startEnrollment("tp 1000-001", DEMO_BIRTH_DATE)
            assertEquals(6, challenge.codeLength)
            assertTrue(challenge.phoneMasked.contains('•'), challenge.phoneMasked)
            val profile = client.confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())

            assertEquals("Camille", profile.member.firstName)
            assertEquals("Martin", profile.member.lastName)
            assertEquals(DEMO_CONTRACT, profile.contract.number)
            assertEquals(ContractStatus.ACTIVE, profile.contract.status)
            assertEquals(4, profile.beneficiaries.size)
            assertEquals(1, profile.beneficiaries.count { it.relationship == Relationship.HOLDER })
            assertEquals(Session.Enrolled(profile), client.session())
            profile
        }

        // A restart while offline: a server URL nobody listens on, a new key object on the same storage.
        open(key = SoftwareDeviceKey(secrets), serverUrl = "http://127.0.0.1:${closedPort()}").use { offline ->
            assertEquals(Session.Enrolled(profile), offline.session())
            assertEquals(0L, offline.roundTrips())
        }

        // Back online, the restored key still signs requests the server accepts.
        open(key = SoftwareDeviceKey(secrets)).use { online ->
            val refreshed = online.refreshProfile()
            assertEquals(profile.deviceId, refreshed.deviceId)
            assertEquals(profile.beneficiaries, refreshed.beneficiaries)
        }
    }

    @Test
    fun `a wrong birth date arrives as Rejected enrollment_not_matched`() = runBlocking {
        open().use { client ->
            val e = expectError<TiersPayError.Rejected> { client.startEnrollment(DEMO_CONTRACT, "1990-01-01") }
            assertEquals(Kind.REJECTED, e.kind)
            assertEquals(TiersPayError.Codes.ENROLLMENT_NOT_MATCHED, e.code)
            assertTrue(e.message.isNotBlank())
            assertFalse(e.message.contains("code="), "the server's detail, not uniffi's rendering: ${e.message}")
        }
    }

    @Test
    fun `a wrong code arrives as Rejected code_incorrect, and the right one then works`() = runBlocking {
        open().use { client ->
            val challenge = client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
            val code = mock.lastSmsCode()
            val wrong = ((code.toInt() + 1) % 1_000_000).toString().padStart(6, '0')

            val e = expectError<TiersPayError.Rejected> { client.confirmEnrollment(challenge.enrollmentId, wrong) }
            assertEquals(Kind.REJECTED, e.kind)
            assertEquals(TiersPayError.Codes.CODE_INCORRECT, e.code)
            assertEquals(Session.NotEnrolled, client.session())

            client.confirmEnrollment(challenge.enrollmentId, code)
            assertTrue(client.session() is Session.Enrolled)
        }
    }

    @Test
    fun `a birth date not written YYYY-MM-DD is InvalidInput birth_date, refused before any request`() = runBlocking {
        open().use { client ->
            val e = expectError<TiersPayError.InvalidInput> { client.startEnrollment(DEMO_CONTRACT, "12/04/1985") }
            assertEquals(Kind.INVALID_INPUT, e.kind)
            assertEquals(TiersPayError.Fields.BIRTH_DATE, e.field)
            assertTrue(e.message.contains("YYYY-MM-DD"), e.message)
            assertEquals(0L, client.roundTrips())

            val c = expectError<TiersPayError.InvalidInput> { client.startEnrollment("TP?1", DEMO_BIRTH_DATE) }
            assertEquals(TiersPayError.Fields.CONTRACT_NUMBER, c.field)
        }
    }

    @Test
    fun `too many starts arrive as RateLimited with a wait`() = runBlocking {
        open().use { client ->
            val e = expectError<TiersPayError.RateLimited> {
                repeat(20) { client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE) }
            }
            assertEquals(Kind.RATE_LIMITED, e.kind)
            assertTrue(e.retryAfterSeconds in 1..3600, "retry after ${e.retryAfterSeconds}")
        }
    }

    @Test
    fun `an unreachable server arrives as Network`() = runBlocking {
        open(serverUrl = "http://127.0.0.1:${closedPort()}").use { client ->
            val e = expectError<TiersPayError.Network> { client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE) }
            assertEquals(Kind.NETWORK, e.kind)
        }
    }

    @Test
    fun `a failing platform service arrives as Platform`() = runBlocking {
        var failure: String? = null
        val flaky = object : SecretStore by secrets {
            override fun get(key: String): ByteArray? = failure?.let { throw IOException(it) } ?: secrets.get(key)
            override fun set(key: String, value: ByteArray) = failure?.let { throw IOException(it) } ?: secrets.set(key, value)
        }
        // Storing the tokens fails at the end of enrollment.
        open(store = flaky, key = SoftwareDeviceKey(secrets)).use { client ->
            val challenge = client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
            failure = "keystore locked"
            val e = expectError<TiersPayError.Platform> { client.confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode()) }
            assertEquals(Kind.PLATFORM, e.kind)
            assertTrue(e.message.contains("keystore locked"), e.message)
        }
        // Enrolled, then secure storage cannot be read after a restart.
        failure = null
        open(store = flaky, key = SoftwareDeviceKey(secrets)).use { enroll(it) }
        failure = "keystore unavailable"
        open(store = flaky, key = SoftwareDeviceKey(secrets)).use { client ->
            val e = expectError<TiersPayError.Platform> { client.session() }
            assertTrue(e.message.contains("keystore unavailable"), e.message)
        }

        // The device key fails: enrollment cannot register this device.
        val brokenKey = object : DeviceSigningKey {
            override fun publicKey(): ByteArray = throw IllegalStateException("no secure hardware")
            override fun sign(message: ByteArray): ByteArray = throw IllegalStateException("no secure hardware")
            override fun delete() = Unit
        }
        open(store = InMemorySecretStore(), key = brokenKey).use { client ->
            val k = expectError<TiersPayError.Platform> { enroll(client) }
            assertTrue(k.message.contains("no secure hardware"), k.message)
        }
    }

    @Test
    fun `session events flow ENROLLED then SIGNED_OUT, and sign-out wipes the session`() = runBlocking {
        open().use { client ->
            val events = Channel<SessionChange>(Channel.UNLIMITED)
            // Unconfined: the flow's listener is registered before launch returns.
            val collector = launch(Dispatchers.Unconfined) { client.sessionEvents().collect { events.send(it) } }

            enroll(client)
            assertTrue(secrets.keys().isNotEmpty())
            client.signOut()

            val received = withTimeout(30_000) { listOf(events.receive(), events.receive()) }
            assertEquals(listOf(SessionChange.ENROLLED, SessionChange.SIGNED_OUT), received)
            collector.cancel()

            assertEquals(Session.NotEnrolled, client.session())
            expectError<TiersPayError.NotEnrolled> { client.refreshProfile() }
            assertEquals(emptySet<String>(), secrets.keys(), "tokens and device key wiped")
        }
        // And it stays signed out across a restart.
        open().use { assertEquals(Session.NotEnrolled, it.session()) }
    }

    @Test
    fun `enrolling again gives a new device key`() = runBlocking {
        val key = SoftwareDeviceKey(secrets)
        open(key = key).use { client ->
            enroll(client)
            val first = key.publicKey()
            client.signOut()
            enroll(client)
            assertNotEquals(first.toList(), key.publicKey().toList())
        }
    }

    /** A loopback port nobody listens on (bound, then released). */
    private fun closedPort(): Int = ServerSocket(0).use { it.localPort }
}
