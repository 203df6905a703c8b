package fr.tierspay.shell

import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.MockServer
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import java.util.UUID

/**
 * Push across the real FFI, against a real tierspay-mock: the FCM token handed to the core
 * reaches the platform, and the platform's pushes (the card frozen) are addressed to it, as the
 * mock's outbox shows.
 */
class PushClientTest {
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

    private fun open() = CoreTiersPayClient.open(
        ShellConfig(mock.url, dataDir.toString(), mock.publicKey, deviceName = "JVM test"),
        secrets,
        SoftwareDeviceKey(secrets),
    )

    private suspend fun CoreTiersPayClient.enroll() {
        val challenge = startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
        confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
    }

    /** An FCM registration token's shape: `<instance id>:APA91b…`. */
    private fun fcmToken() = "f${UUID.randomUUID().toString().take(10)}:APA91b${UUID.randomUUID().toString().replace("-", "")}"

    @Test
    fun `a registered token receives the push sent when the card is frozen`() = runBlocking {
        open().use { client ->
            client.enroll()
            val token = fcmToken()
            client.registerPushToken(PushService.FCM, token)
            val before = client.roundTrips()
            client.registerPushToken(PushService.FCM, token)
            assertEquals(before, client.roundTrips(), "the same token again sends nothing")
            assertTrue(mock.pushesTo(token).isEmpty())

            client.freeze()
            val push = mock.pushesTo(token).single()
            assertEquals(token, push.recipient)
            assertEquals("card_frozen", push.data["kind"])
            assertEquals("fcm", push.data["service"])
            // What the messaging service hands to the core when the push arrives.
            assertEquals(Destination.Card, client.routeForPush(push.data))
        }
    }

    @Test
    fun `a token given before enrollment is registered with it, and a new token replaces it`() = runBlocking {
        open().use { client ->
            val first = fcmToken()
            client.registerPushToken(PushService.FCM, first) // kept on the phone: nobody to send it to yet
            client.enroll()
            client.freeze()
            assertEquals(listOf("card_frozen"), mock.pushesTo(first).map { it.data["kind"] })

            // Firebase rotated the token (onNewToken): the platform sends to the new one only.
            val second = fcmToken()
            client.registerPushToken(PushService.FCM, second)
            client.unfreeze()
            assertEquals(listOf("card_active"), mock.pushesTo(second).map { it.data["kind"] })
            assertEquals(1, mock.pushesTo(first).size, "nothing more to the old token")
        }
    }

    @Test
    fun `a malformed token is InvalidInput naming the token, before any request`() = runBlocking {
        open().use { client ->
            client.enroll()
            val before = client.roundTrips()
            val e = expectError<TiersPayError.InvalidInput> { client.registerPushToken(PushService.FCM, "two words") }
            assertEquals("token", e.field)
            val apns = expectError<TiersPayError.InvalidInput> { client.registerPushToken(PushService.APNS, "not hex") }
            assertEquals("token", apns.field)
            assertEquals(before, client.roundTrips())
        }
    }
}
