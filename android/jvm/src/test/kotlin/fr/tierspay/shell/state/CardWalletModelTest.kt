package fr.tierspay.shell.state

import fr.tierspay.core.Availability
import fr.tierspay.core.WalletKind
import fr.tierspay.core.WalletRequest
import fr.tierspay.core.WalletStep
import fr.tierspay.shell.CardInfo
import fr.tierspay.shell.CardStatus
import fr.tierspay.shell.Explanation
import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.UserAddress
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult
import fr.tierspay.shell.support.FakeApiException
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.FakeWalletFlow
import fr.tierspay.shell.support.coreCard
import fr.tierspay.shell.support.walletState
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.Job
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.cancel
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.Locale

/**
 * CardWalletModel over a fake core flow: states and intents pass through, and the TapAndPay
 * calls the core asks for are made and their results handed back. What the screen shows (the
 * button hidden for a frozen card, the card read again after every wallet result, stale
 * answers, retry) is the core's, tested in `core/src/app/flows/wallet.rs`,
 * `tests/tests/wallet_flow.rs` and, through the real core, CardClientTest.
 */
@OptIn(ExperimentalCoroutinesApi::class)
class CardWalletModelTest {
    private val client = FakeClient()
    private val gateway = ScriptedTapAndPay()

    private fun TestScope.started(): Pair<CardWalletModel, FakeWalletFlow> {
        val model = CardWalletModel(client, gateway, backgroundScope)
        model.start()
        runCurrent()
        return model to client.walletFlows.last()
    }

    private fun walletCalls() = client.calls.filter { it.startsWith("wallet.") }

    @Test
    fun `a Google Pay flow of the core, its newest state kept, intents and CARD_UPDATED forwarded`() = runTest {
        val (m, flow) = started()
        assertEquals(WalletKind.GOOGLE_PAY, flow.kind)
        assertEquals(flow.state, m.state.value, "the core's state from the start")
        m.start()
        runCurrent()
        assertEquals(listOf("wallet.start()"), walletCalls(), "idempotent")

        flow.emit(walletState(revision = 2, card = coreCard()))
        flow.emit(walletState(revision = 1))
        assertEquals(coreCard(), m.state.value?.card, "an older revision is dropped")
        assertEquals(listOf("Only at: doctors, pharmacies."), m.state.value!!.controls(Locale.ENGLISH))
        assertEquals(listOf("Uniquement chez : médecins, pharmacies."), m.state.value!!.controls(Locale.FRANCE))

        client.events.emit(SessionChange.CARD_UPDATED)
        client.events.emit(SessionChange.PROFILE_UPDATED)
        runCurrent()
        m.refresh()
        m.setFrozen(true)
        m.addToGooglePay()
        m.dismissError()
        assertEquals(
            listOf(
                "wallet.start()",
                "wallet.reload()",
                "wallet.refresh()",
                "wallet.setFrozen(true)",
                "wallet.add()",
                "wallet.dismissError()",
            ),
            walletCalls(),
        )
    }

    @Test
    fun `a frozen card's state shows no Google Pay button`() = runTest {
        val (m, flow) = started()
        flow.emit(walletState(revision = 1, card = coreCard(frozen = true), availability = Availability.Inactive))
        val s = m.state.value!!
        assertFalse(s.showsAdd, "the core hides it")
        assertFalse(s.canAdd)
        assertEquals(Availability.Inactive, s.availability)
    }

    @Test
    fun `TapAndPay is read, pushed and resumed for the core, and what it said goes back`() = runTest {
        val (_, flow) = started()
        flow.ask(WalletRequest.ReadGoogleWallet(1u))
        runCurrent()
        assertTrue("wallet.googleWalletRead(1,wallet_1,hw_1,0)" in client.calls, "${client.calls}")

        gateway.result = TokenizeResult.Canceled
        flow.ask(WalletRequest.PushTokenize(1u, samplePush().toCorePush()))
        runCurrent()
        assertEquals(1, gateway.pushes)
        assertEquals("4242", gateway.lastPush?.lastDigits)
        assertTrue("wallet.walletFinished(1,CANCELED)" in client.calls)

        gateway.result = TokenizeResult.Added("tok_1")
        flow.ask(WalletRequest.ResumeToken(2u, "tok_1"))
        runCurrent()
        assertEquals(listOf("tok_1"), gateway.resumed)
        assertTrue("wallet.walletFinished(2,ADDED)" in client.calls)

        // PassKit's requests are never asked of a Google Pay flow: nothing answers them.
        flow.ask(WalletRequest.CloseWallet(3u))
        runCurrent()
        assertFalse(client.calls.any { it.contains("(3") })
    }

    @Test
    fun `an SDK exception from the gateway goes back as a failure, not a crash`() = runTest {
        // runTest fails the test on any exception left uncaught in backgroundScope: a crash on a phone.
        val (_, flow) = started()
        gateway.failure = FakeApiException(FakeApiException.TAP_AND_PAY_NO_ACTIVE_WALLET, "no active wallet")
        flow.ask(WalletRequest.ReadGoogleWallet(1u))
        runCurrent()
        assertTrue("wallet.walletFailed(1,$UNEXPECTED_FAILURE)" in client.calls, "${client.calls}")

        gateway.failure = null
        gateway.push = { throw IllegalStateException("Play services crashed") }
        flow.ask(WalletRequest.PushTokenize(2u, samplePush().toCorePush()))
        runCurrent()
        assertTrue("wallet.walletFailed(2,$UNEXPECTED_FAILURE)" in client.calls)

        // A gateway that maps its errors: the message is handed over as it is.
        gateway.push = { throw TiersPayError.Platform("Google Pay is not available right now.") }
        flow.ask(WalletRequest.PushTokenize(3u, samplePush().toCorePush()))
        runCurrent()
        assertTrue("wallet.walletFailed(3,Google Pay is not available right now.)" in client.calls)

        // And the model still works.
        gateway.push = null
        flow.ask(WalletRequest.PushTokenize(4u, samplePush().toCorePush()))
        runCurrent()
        assertTrue("wallet.walletFinished(4,ADDED)" in client.calls)
    }

    @Test
    fun `a cancellation that is not the model's is a failure, the model's own propagates`() = runTest {
        val (_, flow) = started()
        // A Play services task cancelled under the gateway: the screen must not wait forever.
        gateway.push = { throw CancellationException("task cancelled") }
        flow.ask(WalletRequest.PushTokenize(1u, samplePush().toCorePush()))
        runCurrent()
        assertTrue("wallet.walletFailed(1,$UNEXPECTED_FAILURE)" in client.calls, "${client.calls}")

        // The model's scope ends while Google Pay is open: nothing reported, the gateway sees the cancellation.
        val scope = CoroutineScope(coroutineContext + Job())
        CardWalletModel(client, gateway, scope)
        val other = client.walletFlows.last()
        var cancelled = false
        gateway.push = {
            try {
                awaitCancellation()
            } catch (e: CancellationException) {
                cancelled = true
                throw e
            }
        }
        other.ask(WalletRequest.PushTokenize(7u, samplePush().toCorePush()))
        runCurrent()
        scope.cancel()
        runCurrent()
        assertTrue(cancelled)
        assertFalse(client.calls.any { it.contains("(7") }, "${client.calls}")
    }

    @Test
    fun `a result the previous process left pending is handed to the core, or none when none comes`() = runTest {
        val pending = CompletableDeferred<TokenizeResult?>()
        gateway.restoredResult = pending
        CardWalletModel(client, gateway, backgroundScope)
        val flow = client.walletFlows.last()
        assertEquals(listOf("wallet.awaitRestored()"), walletCalls(), "asked at once: Google Pay is open, nothing to tap meanwhile")
        flow.ask(WalletRequest.AwaitRestored(1u))
        runCurrent()
        assertFalse(client.calls.any { it.startsWith("wallet.walletFinished") })
        pending.complete(TokenizeResult.Added("tok_9"))
        runCurrent()
        assertTrue("wallet.walletFinished(1,ADDED)" in client.calls)
        assertEquals(0, gateway.pushes)

        client.calls.clear()
        val none = CompletableDeferred<TokenizeResult?>()
        gateway.restoredResult = none
        CardWalletModel(client, gateway, backgroundScope)
        client.walletFlows.last().ask(WalletRequest.AwaitRestored(1u))
        none.complete(null)
        runCurrent()
        assertEquals(listOf("wallet.awaitRestored()", "wallet.walletFinished(1,GONE)"), walletCalls())

        client.calls.clear()
        gateway.restoredResult = null
        CardWalletModel(client, gateway, backgroundScope)
        assertEquals(emptyList<String>(), walletCalls(), "nothing pending: nothing awaited")
    }

    @Test
    fun `clear resets the core's flow and drops the platform work under way`() = runTest {
        val (m, flow) = started()
        flow.emit(walletState(revision = 1, card = coreCard()))
        val release = CompletableDeferred<Unit>()
        gateway.walletId = {
            release.await()
            "wallet_1"
        }
        flow.ask(WalletRequest.ReadGoogleWallet(1u))
        runCurrent()
        m.clear()
        release.complete(Unit)
        runCurrent()
        assertFalse(client.calls.any { it.startsWith("wallet.googleWalletRead") }, "the signed-out member's request went no further")
        assertEquals(null, m.state.value?.card, "the core's fresh state")
        client.events.emit(SessionChange.CARD_UPDATED)
        runCurrent()
        assertFalse("wallet.reload()" in client.calls, "events are followed again only after start")

        m.start()
        runCurrent()
        assertEquals(listOf("wallet.start()", "wallet.reset()", "wallet.start()"), walletCalls())
        m.close()
        assertTrue(flow.closed)
    }

    @Test
    fun `the step under way is the core's`() = runTest {
        val (m, flow) = started()
        flow.emit(walletState(revision = 1, card = coreCard(), step = WalletStep.HANDING_TO_WALLET))
        assertTrue(m.state.value!!.busy)
        assertTrue(m.state.value!!.showsAdd, "shown, disabled")
        assertFalse(m.state.value!!.canAdd)
    }

    @Test
    fun `card details never show the full number in toString`() {
        val details = fr.tierspay.shell.CardDetails("4242424242424242", "12/29", "123")
        assertFalse(details.toString().contains("4242424242424242"))
        assertFalse(details.toString().contains("123"))
        assertTrue(details.toString().contains("4242"))
        assertFalse(samplePush().toString().contains("[1, 2, 3]"))
    }
}

fun sampleCard() = CardInfo(
    id = "ic_1", last4 = "4242", expiry = "12/29", brand = "visa", status = CardStatus.ACTIVE,
    frozen = false, applePayEligible = true, googlePayEligible = true,
    controls = listOf(Explanation("Uniquement chez : médecins, pharmacies.", "Only at: doctors, pharmacies.")),
    tokens = emptyList(),
)

fun samplePush() = PushTokenizeData(
    opaquePaymentCard = byteArrayOf(1, 2, 3),
    network = 4,
    tokenServiceProvider = 4,
    displayName = "TiersPay Visa",
    lastDigits = "4242",
    address = UserAddress("Camille Martin", "1 rue de la Paix", "Paris", "75002", "FR", "+33600000078"),
)

/** The push data as the core sends it in a `PushTokenize` request. */
fun PushTokenizeData.toCorePush() = fr.tierspay.core.PushTokenizeData(
    opaquePaymentCard = opaquePaymentCard, network = network, tokenServiceProvider = tokenServiceProvider, displayName = displayName,
    lastDigits = lastDigits, addressName = address.name, address1 = address.address1, locality = address.locality,
    postalCode = address.postalCode, countryCode = address.countryCode, phoneNumber = address.phoneNumber,
)

/**
 * A TapAndPay that answers [result] and counts calls; [failure] is thrown from the wallet id read,
 * [walletId] replaces that read and [push] the push (to suspend or throw there).
 */
class ScriptedTapAndPay : TapAndPayGateway {
    var result: TokenizeResult = TokenizeResult.Added("tok_1")
    var pushes = 0
    var lastPush: PushTokenizeData? = null
    val resumed = mutableListOf<String>()
    var failure: Exception? = null
    var walletId: (suspend () -> String)? = null
    var push: (suspend () -> TokenizeResult)? = null
    override var restoredResult: Deferred<TokenizeResult?>? = null
    override suspend fun activeWalletId() = failure?.let { throw it } ?: walletId?.invoke() ?: "wallet_1"
    override suspend fun stableHardwareId() = "hw_1"
    override suspend fun listTokens() = emptyList<TapAndPayToken>()
    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult {
        pushes++
        lastPush = data
        return push?.invoke() ?: result
    }
    override suspend fun tokenize(tokenId: String): TokenizeResult = result.also { resumed += tokenId }
}
