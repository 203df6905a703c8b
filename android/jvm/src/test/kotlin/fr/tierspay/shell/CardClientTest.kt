package fr.tierspay.shell

import fr.tierspay.core.Availability
import fr.tierspay.core.WalletFlowState
import fr.tierspay.core.WalletOutcome
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SavedRequest
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.platform.TapAndPayResults
import fr.tierspay.shell.state.CardWalletModel
import fr.tierspay.shell.state.controls
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

    private suspend fun CardWalletModel.awaitState(predicate: (WalletFlowState) -> Boolean): WalletFlowState =
        withTimeout(30_000) { state.filterNotNull().first(predicate) }

    /** An attempt's end: nothing under way, and [outcome] shown. */
    private suspend fun CardWalletModel.awaitOutcome(outcome: WalletOutcome): WalletFlowState =
        awaitState { !it.busy && it.outcome == outcome }

    private fun CardInfo.googleTokens() = tokens.filter { it.wallet == Wallet.GOOGLE_PAY }

    /** The card of a core state, in the shell's model. */
    private val WalletFlowState.shellCard: CardInfo get() = card!!.toShell()

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
                val model = CardWalletModel(client, wallet, scope)
                model.start()
                val loaded = model.awaitState { !it.loading && it.card != null && !it.refreshing }
                assertTrue(loaded.showsAdd && loaded.canAdd)
                assertTrue(loaded.controls(Locale.ENGLISH).isNotEmpty())

                // First time: the core says push, the wallet pushes, the network activates the token.
                model.addToGooglePay()
                var s = model.awaitOutcome(WalletOutcome.ADDED)
                assertEquals(null, s.error)
                assertEquals(1, wallet.pushed.size)
                val token = s.shellCard.googleTokens().single()
                assertEquals(WalletTokenStatus.ACTIVE, token.status, "the card read again after the push")
                assertEquals(token.id, wallet.tokens().single().tokenId)

                // Second time: the wallet lists an active token for the card.
                model.addToGooglePay()
                model.awaitOutcome(WalletOutcome.ALREADY_ADDED)
                assertEquals(1, wallet.pushed.size, "nothing pushed again")

                // Verification pending in the wallet: resume that token, no push.
                wallet.setState(token.id, TapAndPayToken.State.NEEDS_IDENTITY_VERIFICATION)
                model.addToGooglePay()
                model.awaitOutcome(WalletOutcome.ADDED)
                assertEquals(listOf(token.id), wallet.resumed)
                assertEquals(1, wallet.pushed.size)

                // Suspended in the wallet.
                wallet.setState(token.id, TapAndPayToken.State.SUSPENDED)
                model.addToGooglePay()
                model.awaitOutcome(WalletOutcome.SUSPENDED)
                wallet.setState(token.id, TapAndPayToken.State.ACTIVE)

                // Frozen: the button is hidden, so a new phone's wallet is not even asked; the
                // issuer would refuse anyway.
                model.setFrozen(true)
                s = model.awaitState { it.card?.frozen == true && !it.freezing }
                assertEquals(WalletTokenStatus.SUSPENDED, s.shellCard.googleTokens().single().status)
                assertEquals(Availability.Inactive, s.availability)
                assertFalse(s.showsAdd, "no Google Pay button for a frozen card")
                assertFalse(s.canAdd)
                val other = fakeWallet(client, walletId = "wallet_fake_2", hardwareId = "hw_fake_2")
                val e = expectError<TiersPayError.Rejected> {
                    client.googlePay(other.walletId, other.hardwareId, other.listTokens())
                }
                assertEquals(TiersPayError.Codes.CARD_INACTIVE, e.code)
                CardWalletModel(client, other, scope).run {
                    start()
                    val frozen = awaitState { !it.loading && it.card != null && !it.refreshing }
                    assertFalse(frozen.showsAdd)
                    addToGooglePay()
                    assertFalse(state.value!!.busy, "the core starts nothing for a hidden button")
                    assertEquals(null, state.value!!.error)
                    close()
                }
                assertTrue(other.pushed.isEmpty())

                model.setFrozen(false)
                s = model.awaitState { it.card?.frozen == false && !it.freezing }
                assertEquals(WalletTokenStatus.ACTIVE, s.shellCard.googleTokens().single().status)
                assertTrue(s.showsAdd, "back once unfrozen")
                model.close()
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
    fun `the card is read again after every wallet result, a canceled push included`() = runBlocking {
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            open().use { client ->
                client.enroll()
                val wallet = fakeWallet(client)
                // What the core's decision costs alone.
                var before = client.roundTrips()
                client.googlePay(wallet.walletId, wallet.hardwareId, wallet.listTokens())
                val decision = client.roundTrips() - before

                val model = CardWalletModel(client, wallet, scope)
                model.start()
                model.awaitState { !it.loading && it.card != null && !it.refreshing }
                wallet.cancel = true
                before = client.roundTrips()
                model.addToGooglePay()
                val canceled = model.awaitOutcome(WalletOutcome.CANCELED)
                assertEquals(before + decision + 1, client.roundTrips(), "the decision, then the card fetched again")
                assertEquals(1, wallet.pushed.size)
                assertTrue(canceled.canAdd, "the button again")
                model.close()
            }
        } finally {
            scope.cancel()
        }
    }

    @Test
    fun `a TapAndPay failure is an error on the card screen, not a crash, and the next try works`() = runBlocking {
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
        try {
            open().use { client ->
                client.enroll()
                val wallet = fakeWallet(client)
                val model = CardWalletModel(client, wallet, scope)
                model.start()
                model.awaitState { !it.loading && it.card != null && !it.refreshing }

                // Play services fails the way it does: an ApiException with a status code.
                wallet.failure = FakeApiException(FakeApiException.NETWORK_ERROR)
                model.addToGooglePay()
                val failed = model.awaitState { it.error != null && !it.busy }
                assertTrue(failed.error!!.platform, "${failed.error}")
                assertEquals(null, failed.outcome)
                assertFalse(failed.error!!.message.contains("7:"), "the SDK's text is not shown: ${failed.error}")
                assertTrue(wallet.pushed.isEmpty())
                assertTrue(scope.isActive, "the model's scope survived")

                // The token service refusing the card fails inside pushTokenize: the same.
                wallet.failure = null
                wallet.activationWalletId = "someone_elses_wallet"
                model.dismissError()
                model.addToGooglePay()
                assertTrue(model.awaitState { it.error != null && !it.busy }.error!!.platform)

                wallet.activationWalletId = wallet.walletId
                model.dismissError()
                model.addToGooglePay()
                val added = model.awaitOutcome(WalletOutcome.ADDED)
                assertEquals(null, added.error)
                assertEquals(
                    WalletTokenStatus.ACTIVE,
                    added.shellCard.googleTokens().single {
                        it.status == WalletTokenStatus.ACTIVE
                    }.status,
                )
                model.close()
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
        val model = CardWalletModel(client, wallet, first)
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
                val model2 = CardWalletModel(restarted, wallet, second)
                assertTrue(model2.state.value!!.busy, "no second push while Google Pay is open")
                assertFalse(model2.state.value!!.canAdd)
                model2.start()
                assertFalse(results.deliver(requestCode + 100, result), "not a request of ours")
                // onActivityResult in the recreated activity.
                assertTrue(results.deliver(requestCode, result))
                val s = model2.awaitOutcome(WalletOutcome.ADDED)
                assertEquals(WalletTokenStatus.ACTIVE, s.shellCard.googleTokens().single().status, "the card read again")
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
