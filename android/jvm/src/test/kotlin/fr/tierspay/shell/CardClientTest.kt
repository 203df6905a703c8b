package fr.tierspay.shell

import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SavedRequest
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.platform.TapAndPayResults
import fr.tierspay.shell.state.CardWalletModel
import fr.tierspay.shell.state.CardWalletState
import fr.tierspay.shell.state.GooglePayStatus
import fr.tierspay.shell.support.FakeApiException
import fr.tierspay.shell.support.FakeTapAndPay
import fr.tierspay.shell.support.MockServer
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.filterNotNull
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.isActive
import kotlinx.coroutines.job
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.util.Locale
import kotlin.io.path.isRegularFile
import kotlin.io.path.readBytes

/**
 * The card across the real FFI, against a real tierspay-mock: issued at enrollment, freeze,
 * reveal, and Google Pay provisioning with [FakeTapAndPay] playing TapAndPay and the network.
 */
class CardClientTest {
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

    /** A fake wallet whose pushes activate the Google token the issuer just requested. */
    private fun fakeWallet(client: TiersPayClient, walletId: String = "wallet_fake_1", hardwareId: String = "hw_fake_1") =
        FakeTapAndPay(mock, requestedTokenId = {
            client.card()!!.tokens.last { it.wallet == Wallet.GOOGLE_PAY && it.status == WalletTokenStatus.REQUESTED }.id
        }, walletId = walletId, hardwareId = hardwareId)

    private suspend fun CardWalletModel.awaitState(predicate: (CardWalletState) -> Boolean): CardWalletState =
        withTimeout(30_000) { state.first(predicate) }

    private fun CardInfo.googleTokens() = tokens.filter { it.wallet == Wallet.GOOGLE_PAY }

    @Test
    fun `the card is issued at enrollment and read offline`() = runBlocking {
        open().use { client ->
            assertEquals(null, client.card(), "no card before enrollment")
            client.enroll()
            val card = client.card()
            assertNotNull(card, "issued with the enrollment, read from the phone")
            card!!
            assertTrue(card.last4.matches(Regex("\\d{4}")), card.last4)
            assertTrue(card.expiry.matches(Regex("\\d{2}/\\d{2}")), card.expiry)
            assertEquals(CardStatus.ACTIVE, card.status)
            assertFalse(card.frozen)
            assertTrue(card.googlePayEligible)
            assertTrue(card.controls.isNotEmpty())
            assertTrue(card.controls.all { it.fr.isNotBlank() && it.en.isNotBlank() })
            assertTrue(card.tokens.isEmpty(), "${card.tokens}")
            assertEquals(card, client.refreshCard())
            assertEquals(card, client.card())
        }
    }

    @Test
    fun `reveal gives the number ending with last4, and it is stored nowhere`() = runBlocking {
        open().use { client ->
            client.enroll()
            val card = client.refreshCard()
            val details = client.revealCard()
            assertTrue(details.number.filter(Char::isDigit).length in 13..19, "a card number")
            assertTrue(details.number.endsWith(card.last4))
            assertEquals(card.expiry, details.expiry)
            assertTrue(details.cvc.matches(Regex("\\d{3,4}")))
            assertFalse(details.toString().contains(details.number), "toString redacts")
            assertFalse(details.toString().contains(details.cvc.let { "cvc=$it" }))
            assertFalse(card.toString().contains(details.number))

            // Nothing of the core's folder holds it, in any form.
            client.refreshCard()
            val digits = details.number.filter(Char::isDigit)
            val files = Files.walk(dataDir).use { paths -> paths.filter { it.isRegularFile() }.toList() }
            assertTrue(files.isNotEmpty())
            for (file in files) {
                val text = String(file.readBytes(), Charsets.ISO_8859_1)
                assertFalse(text.contains(digits), "$file contains the card number")
                assertFalse(text.contains(details.number), "$file contains the card number")
            }
        }
    }

    @Test
    fun `freeze and unfreeze change the status and suspend then resume the Google token`() = runBlocking {
        open().use { client ->
            client.enroll()
            val wallet = fakeWallet(client)
            val action = client.googlePay(wallet.walletId, wallet.hardwareId, wallet.listTokens())
            assertTrue(action is GooglePayAction.Push, "$action")
            val push = (action as GooglePayAction.Push).data
            assertTrue(push.opaquePaymentCard.isNotEmpty())
            assertEquals(client.card()!!.last4, push.lastDigits)
            assertFalse(push.toString().contains(push.opaquePaymentCard.contentToString()))
            wallet.pushTokenize(push)

            val active = client.refreshCard()
            assertEquals(listOf(WalletTokenStatus.ACTIVE), active.googleTokens().map { it.status })

            val frozen = client.freeze()
            assertTrue(frozen.frozen)
            assertEquals(CardStatus.INACTIVE, frozen.status)
            assertEquals(listOf(WalletTokenStatus.SUSPENDED), frozen.googleTokens().map { it.status })
            assertEquals(frozen, client.card(), "kept for offline reads")

            val unfrozen = client.unfreeze()
            assertFalse(unfrozen.frozen)
            assertEquals(CardStatus.ACTIVE, unfrozen.status)
            assertEquals(listOf(WalletTokenStatus.ACTIVE), unfrozen.googleTokens().map { it.status })
        }
    }

    @Test
    fun `Google Pay through the model - push, already added, resume, suspended, frozen`() = runBlocking {
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            open().use { client ->
                client.enroll()
                val wallet = fakeWallet(client)
                val model = CardWalletModel(client, wallet, scope, Locale.ENGLISH)
                model.start()
                val loaded = model.awaitState { !it.loading && it.card != null && !it.refreshing }
                assertTrue(loaded.canAddToGooglePay)
                assertTrue(loaded.controls.isNotEmpty())

                // First time: the core says push, the wallet pushes, the network activates the token.
                model.addToGooglePay()
                var s = model.awaitState { it.googlePay == GooglePayStatus.ADDED }
                assertEquals(null, s.error)
                assertEquals(1, wallet.pushed.size)
                val token = s.card!!.googleTokens().single()
                assertEquals(WalletTokenStatus.ACTIVE, token.status)
                assertEquals(token.id, wallet.tokens().single().tokenId)

                // Second time: the wallet lists an active token for the card.
                model.addToGooglePay()
                model.awaitState { it.googlePay == GooglePayStatus.ALREADY_ADDED }
                assertEquals(1, wallet.pushed.size, "nothing pushed again")

                // Verification pending in the wallet: resume that token, no push.
                wallet.setState(token.id, TapAndPayToken.State.NEEDS_IDENTITY_VERIFICATION)
                model.addToGooglePay()
                model.awaitState { it.googlePay == GooglePayStatus.ADDED }
                assertEquals(listOf(token.id), wallet.resumed)
                assertEquals(1, wallet.pushed.size)

                // Suspended in the wallet.
                wallet.setState(token.id, TapAndPayToken.State.SUSPENDED)
                model.addToGooglePay()
                model.awaitState { it.googlePay == GooglePayStatus.SUSPENDED }
                wallet.setState(token.id, TapAndPayToken.State.ACTIVE)

                // Frozen: a new phone's wallet cannot get the card.
                model.setFrozen(true)
                s = model.awaitState { it.frozen && !it.freezing }
                assertEquals(WalletTokenStatus.SUSPENDED, s.card!!.googleTokens().single().status)
                val other = fakeWallet(client, walletId = "wallet_fake_2", hardwareId = "hw_fake_2")
                val e = expectError<TiersPayError.Rejected> {
                    client.googlePay(other.walletId, other.hardwareId, other.listTokens())
                }
                assertEquals(TiersPayError.Codes.CARD_INACTIVE, e.code)
                CardWalletModel(client, other, scope).run {
                    start()
                    awaitState { !it.loading && it.card != null }
                    addToGooglePay()
                    val failed = awaitState { it.error != null }
                    assertEquals(TiersPayError.Kind.REJECTED, failed.error!!.kind)
                    assertEquals(TiersPayError.Codes.CARD_INACTIVE, failed.error!!.code)
                    assertEquals(GooglePayStatus.IDLE, failed.googlePay)
                }
                assertTrue(other.pushed.isEmpty())

                model.setFrozen(false)
                s = model.awaitState { !it.frozen && !it.freezing }
                assertEquals(WalletTokenStatus.ACTIVE, s.card!!.googleTokens().single().status)
            }
        } finally {
            scope.cancel()
        }
    }

    @Test
    fun `the OPC is bound to the wallet that asked for it, and a canceled push changes nothing`() = runBlocking {
        open().use { client ->
            client.enroll()
            val wallet = fakeWallet(client)
            wallet.cancel = true
            val first = client.googlePay(wallet.walletId, wallet.hardwareId, wallet.listTokens()) as GooglePayAction.Push
            assertEquals(fr.tierspay.shell.platform.TokenizeResult.Canceled, wallet.pushTokenize(first.data))
            assertTrue(wallet.tokens().isEmpty())

            wallet.cancel = false
            wallet.activationWalletId = "someone_elses_wallet"
            val second = client.googlePay(wallet.walletId, wallet.hardwareId, wallet.listTokens()) as GooglePayAction.Push
            // Google Pay fails the push as the SDK does: an ApiException-shaped error, not the shell's.
            val e = assertThrows<FakeApiException> { runBlocking { wallet.pushTokenize(second.data) } }
            assertEquals(FakeApiException.INTERNAL_ERROR, e.statusCode)
            assertTrue(e.message!!.contains("400"), e.message)
            assertTrue(client.refreshCard().googleTokens().none { it.status == WalletTokenStatus.ACTIVE })
        }
    }

    @Test
    fun `a TapAndPay failure is an error on the card screen, not a crash, and the next try works`() = runBlocking {
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            open().use { client ->
                client.enroll()
                val wallet = fakeWallet(client)
                val model = CardWalletModel(client, wallet, scope, Locale.ENGLISH)
                model.start()
                model.awaitState { !it.loading && it.card != null && !it.refreshing }

                // Play services fails the way it does: an ApiException with a status code.
                wallet.failure = FakeApiException(FakeApiException.NETWORK_ERROR)
                model.addToGooglePay()
                val failed = model.awaitState { it.error != null }
                assertEquals(TiersPayError.Kind.PLATFORM, failed.error!!.kind)
                assertEquals(GooglePayStatus.IDLE, failed.googlePay)
                assertFalse(failed.error!!.message.contains("7:"), "the SDK's text is not shown: ${failed.error}")
                assertTrue(wallet.pushed.isEmpty())
                assertTrue(scope.isActive, "the model's scope survived")

                // The token service refusing the card fails inside pushTokenize: the same.
                wallet.failure = null
                wallet.activationWalletId = "someone_elses_wallet"
                model.dismissError()
                model.addToGooglePay()
                assertEquals(TiersPayError.Kind.PLATFORM, model.awaitState { it.error != null }.error!!.kind)

                wallet.activationWalletId = wallet.walletId
                model.dismissError()
                model.addToGooglePay()
                val added = model.awaitState { it.googlePay == GooglePayStatus.ADDED }
                assertEquals(null, added.error)
                assertEquals(WalletTokenStatus.ACTIVE, added.card!!.googleTokens().single { it.status == WalletTokenStatus.ACTIVE }.status)
            }
        } finally {
            scope.cancel()
        }
    }

    /** SavedStateHandle's part, played by a variable: what Android keeps in the activity's saved state. */
    private class Saved(override var requestCode: Int? = null) : SavedRequest

    @Test
    fun `a Google Pay result outlives the process that asked for it`() = runBlocking {
        val saved = Saved()
        val first = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        val client = open()
        client.enroll()
        val wallet = fakeWallet(client).apply { activityResults = TapAndPayResults(saved) }
        val model = CardWalletModel(client, wallet, first, Locale.ENGLISH)
        model.start()
        model.awaitState { !it.loading && it.card != null && !it.refreshing }
        model.addToGooglePay()

        // Google Pay's screen is in front; the token service has the card already.
        val (requestCode, result) = withTimeout(30_000) { wallet.openScreen.filterNotNull().first() }
        assertEquals(requestCode, saved.requestCode, "kept in the saved state while Google Pay is open")
        assertTrue(result is fr.tierspay.shell.platform.TokenizeResult.Added)
        // Android saves the instance state when the activity stops, then kills the process: its
        // coroutines and core are gone, the saved state is not.
        val bundle = Saved(saved.requestCode)
        first.coroutineContext.job.cancelAndJoin()
        client.close()
        assertEquals(null, saved.requestCode, "a cancelled request is forgotten")

        // A new process: a new core on the same data, the activity recreated from the bundle.
        val second = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            open().use { restarted ->
                val results = TapAndPayResults(bundle)
                wallet.activityResults = results
                val model2 = CardWalletModel(restarted, wallet, second, Locale.ENGLISH)
                assertEquals(GooglePayStatus.WORKING, model2.state.value.googlePay, "no second push while Google Pay is open")
                model2.start()
                assertFalse(results.deliver(requestCode + 100, result), "not a request of ours")
                // onActivityResult in the recreated activity.
                assertTrue(results.deliver(requestCode, result))
                val s = model2.awaitState { it.googlePay == GooglePayStatus.ADDED }
                assertEquals(WalletTokenStatus.ACTIVE, s.card!!.googleTokens().single().status, "the card read again")
                assertEquals(null, bundle.requestCode)
                assertEquals(1, wallet.pushed.size)
            }
        } finally {
            second.cancel()
        }
    }

    @Test
    fun `bad TapAndPay ids are InvalidInput naming the field, before any request`() = runBlocking {
        open().use { client ->
            client.enroll()
            client.refreshCard()
            val before = client.roundTrips()
            val e1 = expectError<TiersPayError.InvalidInput> { client.googlePay(" ", "hw", emptyList()) }
            assertEquals(TiersPayError.Fields.WALLET_ACCOUNT_ID, e1.field)
            val e2 = expectError<TiersPayError.InvalidInput> { client.googlePay("wallet", "", emptyList()) }
            assertEquals(TiersPayError.Fields.DEVICE_ID, e2.field)
            assertEquals(before, client.roundTrips())
        }
    }

    @Test
    fun `session events give CARD_UPDATED when a token changes`() = runBlocking {
        open().use { client ->
            val events = Channel<SessionChange>(Channel.UNLIMITED)
            val collector = launch(Dispatchers.Unconfined) { client.sessionEvents().collect { events.send(it) } }
            client.enroll()
            val wallet = fakeWallet(client)
            val push = client.googlePay(wallet.walletId, wallet.hardwareId, wallet.listTokens()) as GooglePayAction.Push
            client.refreshCard()
            // Drain what enrollment and the request gave.
            while (withTimeoutOrNull(500) { events.receive() } != null) Unit

            client.refreshCard()
            assertEquals(null, withTimeoutOrNull(500) { events.receive() }, "nothing changed, no event")

            wallet.pushTokenize(push.data) // the network activates the token
            val card = client.refreshCard()
            assertEquals(WalletTokenStatus.ACTIVE, card.googleTokens().single().status)
            assertEquals(SessionChange.CARD_UPDATED, withTimeout(10_000) { events.receive() })
            collector.cancel()
        }
    }
}
