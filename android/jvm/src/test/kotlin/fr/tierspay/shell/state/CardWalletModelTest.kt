package fr.tierspay.shell.state

import fr.tierspay.shell.CardInfo
import fr.tierspay.shell.CardStatus
import fr.tierspay.shell.Explanation
import fr.tierspay.shell.GooglePayAction
import fr.tierspay.shell.PushTokenizeData
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.UserAddress
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.TokenizeResult
import fr.tierspay.shell.support.FakeApiException
import fr.tierspay.shell.support.FakeClient
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

@OptIn(ExperimentalCoroutinesApi::class)
class CardWalletModelTest {
    private val client = FakeClient().apply { cardInfo = sampleCard() }
    private val gateway = ScriptedTapAndPay()

    private fun TestScope.started(locale: Locale = Locale.FRANCE): CardWalletModel =
        CardWalletModel(client, gateway, backgroundScope, locale).also {
            it.start()
            runCurrent()
        }

    @Test
    fun `reads the card, shows controls in the locale's language, and follows CARD_UPDATED`() = runTest {
        val m = started(Locale.ENGLISH)
        assertFalse(m.state.value.loading)
        assertEquals(sampleCard(), m.state.value.card)
        assertEquals(listOf("Only at: doctors, pharmacies."), m.state.value.controls)
        assertTrue(m.state.value.canAddToGooglePay)

        client.cardInfo = sampleCard().copy(status = CardStatus.INACTIVE, frozen = true)
        client.events.emit(SessionChange.CARD_UPDATED)
        runCurrent()
        assertTrue(m.state.value.frozen)
    }

    @Test
    fun `the frozen switch calls freeze and unfreeze`() = runTest {
        val m = started()
        m.setFrozen(true)
        runCurrent()
        assertTrue(m.state.value.frozen)
        m.setFrozen(true)
        runCurrent()
        m.setFrozen(false)
        runCurrent()
        assertFalse(m.state.value.frozen)
        assertEquals(listOf("freeze", "unfreeze"), client.calls.filter { it == "freeze" || it == "unfreeze" })
    }

    @Test
    fun `the core decides, the model carries it out`() = runTest {
        val m = started()
        client.onGooglePay = { _, _, _ -> GooglePayAction.Push(samplePush()) }
        gateway.result = TokenizeResult.Canceled
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.CANCELED, m.state.value.googlePay)
        assertEquals(1, gateway.pushes)
        assertTrue("googlePay(wallet_1,hw_1,0)" in client.calls)

        client.onGooglePay = { _, _, _ -> GooglePayAction.Resume("tok_1") }
        gateway.result = TokenizeResult.Added("tok_1")
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.ADDED, m.state.value.googlePay)
        assertEquals(listOf("tok_1"), gateway.resumed)

        client.onGooglePay = { _, _, _ -> GooglePayAction.InProgress }
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.IN_PROGRESS, m.state.value.googlePay)
        assertEquals(1, gateway.pushes)

        client.onGooglePay = { _, _, _ -> throw TiersPayError.Rejected("card_inactive", "The card is frozen.") }
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.IDLE, m.state.value.googlePay)
        assertEquals(CardError("The card is frozen.", TiersPayError.Kind.REJECTED, "card_inactive"), m.state.value.error)
        m.dismissError()
        assertEquals(null, m.state.value.error)
    }

    @Test
    fun `an SDK exception from the gateway is an error state, not a crash`() = runTest {
        // runTest fails the test on any exception left uncaught in backgroundScope: a crash on a phone.
        val m = started()
        client.onGooglePay = { _, _, _ -> GooglePayAction.Push(samplePush()) }
        gateway.failure = FakeApiException(FakeApiException.TAP_AND_PAY_NO_ACTIVE_WALLET, "no active wallet")
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.IDLE, m.state.value.googlePay)
        assertEquals(CardError(UNEXPECTED_FAILURE, TiersPayError.Kind.PLATFORM), m.state.value.error)

        gateway.failure = null
        gateway.push = { throw IllegalStateException("Play services crashed") }
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.IDLE, m.state.value.googlePay)
        assertEquals(TiersPayError.Kind.PLATFORM, m.state.value.error?.kind)

        // A gateway that maps its errors: the message is shown as it is.
        gateway.push = { throw TiersPayError.Platform("Google Pay is not available right now.") }
        m.addToGooglePay()
        runCurrent()
        assertEquals("Google Pay is not available right now.", m.state.value.error?.message)

        // And the model still works.
        gateway.push = null
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.ADDED, m.state.value.googlePay)
        assertEquals(null, m.state.value.error)
    }

    @Test
    fun `a cancellation that is not the model's is a failure, the model's own propagates`() = runTest {
        val m = started()
        client.onGooglePay = { _, _, _ -> GooglePayAction.Push(samplePush()) }
        // A Play services task cancelled under the gateway: the screen must not wait forever.
        gateway.push = { throw CancellationException("task cancelled") }
        m.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.IDLE, m.state.value.googlePay)
        assertEquals(TiersPayError.Kind.PLATFORM, m.state.value.error?.kind)

        // The model's scope ends while Google Pay is open: no error, the gateway sees the cancellation.
        m.dismissError()
        val scope = CoroutineScope(coroutineContext + Job())
        val other = CardWalletModel(client, gateway, scope)
        var cancelled = false
        gateway.push = {
            try {
                awaitCancellation()
            } catch (e: CancellationException) {
                cancelled = true
                throw e
            }
        }
        other.addToGooglePay()
        runCurrent()
        assertEquals(GooglePayStatus.WORKING, other.state.value.googlePay)
        scope.cancel()
        runCurrent()
        assertTrue(cancelled)
        assertEquals(null, other.state.value.error)
    }

    @Test
    fun `a result the previous process left pending is finished, or given up when none comes`() = runTest {
        val pending = CompletableDeferred<TokenizeResult?>()
        gateway.restoredResult = pending
        val m = CardWalletModel(client, gateway, backgroundScope)
        assertEquals(GooglePayStatus.WORKING, m.state.value.googlePay, "Google Pay is open: nothing to tap meanwhile")
        assertFalse(m.state.value.canAddToGooglePay)
        m.start()
        runCurrent()
        assertEquals(GooglePayStatus.WORKING, m.state.value.googlePay)
        client.calls.clear()
        pending.complete(TokenizeResult.Added("tok_9"))
        runCurrent()
        assertEquals(GooglePayStatus.ADDED, m.state.value.googlePay)
        assertTrue("refreshCard" in client.calls, "the card is read again")
        assertEquals(0, gateway.pushes)
        m.start()
        runCurrent()
        assertEquals(GooglePayStatus.ADDED, m.state.value.googlePay, "finished once")

        val none = CompletableDeferred<TokenizeResult?>()
        gateway.restoredResult = none
        val m2 = CardWalletModel(client, gateway, backgroundScope).also { it.start() }
        none.complete(null)
        runCurrent()
        assertEquals(GooglePayStatus.IDLE, m2.state.value.googlePay)
        assertTrue(m2.state.value.canAddToGooglePay)
    }

    @Test
    fun `clear forgets the card and stops the work under way`() = runTest {
        val m = started()
        val release = CompletableDeferred<Unit>()
        client.onGooglePay = { _, _, _ ->
            release.await()
            GooglePayAction.Push(samplePush())
        }
        m.addToGooglePay()
        runCurrent()
        m.clear()
        release.complete(Unit)
        runCurrent()
        assertEquals(0, gateway.pushes, "the signed-out member's request went no further")
        assertEquals(null, m.state.value.card)
        assertEquals(GooglePayStatus.IDLE, m.state.value.googlePay)

        client.cardInfo = sampleCard().copy(last4 = "1881")
        m.start()
        runCurrent()
        assertEquals("1881", m.state.value.card?.last4, "the next member's card")
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

/**
 * A TapAndPay that answers [result] and counts calls; [failure] is thrown from the wallet id read,
 * [push] replaces the push (to suspend or throw there).
 */
class ScriptedTapAndPay : TapAndPayGateway {
    var result: TokenizeResult = TokenizeResult.Added("tok_1")
    var pushes = 0
    val resumed = mutableListOf<String>()
    var failure: Exception? = null
    var push: (suspend () -> TokenizeResult)? = null
    override var restoredResult: Deferred<TokenizeResult?>? = null
    override suspend fun activeWalletId() = failure?.let { throw it } ?: "wallet_1"
    override suspend fun stableHardwareId() = "hw_1"
    override suspend fun listTokens() = emptyList<TapAndPayToken>()
    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult {
        pushes++
        return push?.invoke() ?: result
    }
    override suspend fun tokenize(tokenId: String): TokenizeResult = result.also { resumed += tokenId }
}
