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
import fr.tierspay.shell.support.FakeClient
import kotlinx.coroutines.ExperimentalCoroutinesApi
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
        CardWalletModel(client, gateway, backgroundScope, locale).also { it.start(); runCurrent() }

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
    opaquePaymentCard = byteArrayOf(1, 2, 3), network = 4, tokenServiceProvider = 4,
    displayName = "TiersPay Visa", lastDigits = "4242",
    address = UserAddress("Camille Martin", "1 rue de la Paix", "Paris", "75002", "FR", "+33600000078"),
)

/** A TapAndPay that answers [result] and counts calls. */
class ScriptedTapAndPay : TapAndPayGateway {
    var result: TokenizeResult = TokenizeResult.Added("tok_1")
    var pushes = 0
    val resumed = mutableListOf<String>()
    override suspend fun activeWalletId() = "wallet_1"
    override suspend fun stableHardwareId() = "hw_1"
    override suspend fun listTokens() = emptyList<TapAndPayToken>()
    override suspend fun pushTokenize(data: PushTokenizeData): TokenizeResult = result.also { pushes++ }
    override suspend fun tokenize(tokenId: String): TokenizeResult = result.also { resumed += tokenId }
}
