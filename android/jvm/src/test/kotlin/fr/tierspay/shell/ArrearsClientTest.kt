package fr.tierspay.shell

import fr.tierspay.core.ArrearsFlowState
import fr.tierspay.core.LinkChannel
import fr.tierspay.core.LinkRefusal
import fr.tierspay.core.LinkResult
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.state.ArrearsModel
import fr.tierspay.shell.support.MockServer
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.math.BigInteger
import java.nio.ByteBuffer
import java.nio.file.Path
import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.MessageDigest
import java.security.Signature
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.util.Base64

/**
 * Payment links through the Kotlin adapter across the real FFI, against a real tierspay-mock:
 * the shell pins a link key in its configuration, a link signed with it (in the layout of
 * docs/arrears.md, signed here with the JDK's ECDSA) is verified by the core and shown with
 * the core's amount text; the same link altered, or from a look-alike host, is refused with the
 * core's French sentence; and an App Link routes to the arrears model.
 */
class ArrearsClientTest {
    private lateinit var mock: MockServer

    @TempDir
    lateinit var dataDir: Path

    private val secrets = InMemorySecretStore()

    /** The link key the shell pins: generated per test, its public half in [ShellConfig.linkPublicKey]. */
    private val linkKey: KeyPair = KeyPairGenerator.getInstance("EC").apply {
        initialize(ECGenParameterSpec("secp256r1"))
    }.generateKeyPair()

    @BeforeEach
    fun startMock() {
        mock = MockServer.start()
    }

    @AfterEach
    fun stopMock() {
        mock.close()
    }

    private fun open() = CoreTiersPayClient.open(
        ShellConfig(
            mock.url,
            dataDir.toString(),
            mock.publicKey,
            deviceName = "JVM test",
            linkPublicKey = sec1Hex(linkKey.public as ECPublicKey),
            linkKeyId = LINK_KEY_ID,
        ),
        secrets,
        SoftwareDeviceKey(secrets),
    )

    private suspend fun ArrearsModel.until(what: String, done: (ArrearsFlowState) -> Boolean): ArrearsFlowState = try {
        withTimeout(10_000) { state.first { it != null && done(it) }!! }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("never $what: ${state.value}", e)
    }

    @Test
    fun `a link signed with the pinned key shows its facts, an altered or foreign one is refused`() = runBlocking<Unit> {
        open().use { client ->
            val challenge = client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
            val profile = client.confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
            val token = token(profile.member.id, amountMinor = 4250, channel = 2, expiresAt = nowSeconds() + 86_400)
            val url = "https://app.tierspay.fr/l/$token"

            // The platform hands the Intent's URI to the core, which says it is a payment link.
            assertEquals(Destination.PaymentLink(url), client.routeForLink(url))

            ArrearsModel(client).use { model ->
                model.openLink(url)
                val shown = model.until("verified") { it.link != null }
                val link = (shown.link as LinkResult.Verified).link
                assertEquals(4250L, link.amount.minorUnits)
                assertEquals("42,50\u00a0€", link.amount.displayFr)
                assertEquals(LinkChannel.EMAIL, link.channel)
                assertEquals(url, link.pageUrl)
                assertEquals(LINK_KEY_ID, link.keyId)

                // One character of the signature changed: refused, with the core's own words.
                val altered = token.substring(0, 100) + (if (token[100] == 'A') 'B' else 'A') + token.substring(101)
                model.openLink("tierspay://l/$altered")
                val refused = model.until("refused") { it.link is LinkResult.Refused }
                val refusal = (refused.link as LinkResult.Refused).refusal
                assertEquals(LinkRefusal.BAD_SIGNATURE, refusal.reason)
                assertTrue("Ne payez pas" in refusal.messageFr, refusal.messageFr)

                model.openLink("https://app-tierspay.fr/l/$token")
                val foreign = model.until("foreign refused") {
                    (it.link as? LinkResult.Refused)?.refusal?.reason == LinkRefusal.NOT_OURS
                }
                assertTrue(foreign.link is LinkResult.Refused)

                // Back closes the link; nothing of it stays on screen.
                model.back()
                model.until("closed") { it.link == null && !it.openingLink }
            }
        }
    }

    @Test
    fun `a link signed for another member or expired is refused`() = runBlocking {
        open().use { client ->
            val challenge = client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
            val profile = client.confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
            ArrearsModel(client).use { model ->
                model.openLink("https://app.tierspay.fr/l/" + token("mbr_someone_else", 900, 3, nowSeconds() + 600))
                val other = model.until("other member") { it.link is LinkResult.Refused }
                assertEquals(LinkRefusal.OTHER_MEMBER, (other.link as LinkResult.Refused).refusal.reason)
                model.openLink("https://app.tierspay.fr/l/" + token(profile.member.id, 900, 3, nowSeconds() - 5))
                val expired = model.until("expired") {
                    (it.link as? LinkResult.Refused)?.refusal?.reason == LinkRefusal.EXPIRED
                }
                assertTrue("expired" in (expired.link as LinkResult.Refused).refusal.messageEn)
            }
        }
    }

    private fun nowSeconds(): Long = System.currentTimeMillis() / 1000

    /** A token in the layout of docs/arrears.md: 26 bytes of fields and the low-s ES256 signature. */
    private fun token(member: String, amountMinor: Int, channel: Int, expiresAt: Long): String {
        val tag = MessageDigest.getInstance("SHA-256").digest("tierspay-member-v1\u0000$member".toByteArray()).copyOf(8)
        val payload = ByteBuffer.allocate(26)
            .put(1)
            .put(LINK_KEY_ID.toByte())
            .putInt(4_021)
            .put(tag)
            .putInt(amountMinor)
            .put("EUR".toByteArray())
            .putInt(expiresAt.toInt())
            .put(channel.toByte())
            .array()
        val signer = Signature.getInstance("SHA256withECDSAinP1363Format")
        signer.initSign(linkKey.private)
        signer.update("tierspay-link-v1".toByteArray() + payload)
        val sig = signer.sign()
        // The core accepts only the lower of the two valid s values: one spelling per token.
        val s = BigInteger(1, sig.copyOfRange(32, 64))
        val low = if (s > N.shiftRight(1)) N - s else s
        val fixed = sig.copyOf(32) + fixed32(low)
        return Base64.getUrlEncoder().withoutPadding().encodeToString(payload + fixed)
    }

    private companion object {
        val LINK_KEY_ID: UByte = 7u
        val N = BigInteger("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)

        fun fixed32(n: BigInteger): ByteArray {
            val b = n.toByteArray().dropWhile { it == 0.toByte() }.toByteArray()
            return ByteArray(32 - b.size) + b
        }

        fun sec1Hex(key: ECPublicKey): String {
            val bytes = byteArrayOf(4) + fixed32(key.w.affineX) + fixed32(key.w.affineY)
            return bytes.joinToString("") { "%02x".format(it) }
        }
    }
}
