package fr.tierspay.shell.state

import fr.tierspay.shell.Money
import fr.tierspay.shell.PreviewCheck
import fr.tierspay.shell.ProviderSearch
import fr.tierspay.shell.SyncSummary
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.TiersPayError.Kind
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.sampleBeneficiaries
import fr.tierspay.shell.support.samplePreview
import fr.tierspay.shell.support.sampleProvider
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.advanceTimeBy
import kotlinx.coroutines.test.advanceUntilIdle
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.time.LocalDate
import java.util.Locale

@OptIn(ExperimentalCoroutinesApi::class)
class VisitModelTest {
    private val client = FakeClient()

    private fun TestScope.started(locale: Locale = Locale.FRANCE): VisitModel =
        VisitModel(client, this, locale).also { it.start(); advanceUntilIdle() }

    private val VisitModel.s: VisitState get() = state.value

    /** Camille at the GP, act G, 30 €: ready to estimate. */
    private fun TestScope.filled(m: VisitModel, price: String = "30") {
        m.chooseBeneficiary("ben_camille")
        m.chooseProvider(sampleProvider())
        advanceUntilIdle()
        m.chooseAct("G")
        m.onPriceChange(price)
    }

    @Test
    fun `beneficiary, provider, act, amount, then the figures and the server's confirmation`() = runTest {
        val m = started()
        assertEquals(VisitStep.BENEFICIARY, m.s.step)
        assertEquals(listOf("Camille", "Léa"), m.s.beneficiaries.map { it.firstName })
        assertEquals(listOf("G", "C"), m.s.acts.map { it.code })
        assertEquals(listOf(sampleProvider()), m.s.providers, "recently used, before any search")
        assertEquals(listOf("beneficiaries", "acts(null)", "search()"), client.calls)

        m.chooseBeneficiary("ben_camille")
        assertEquals(VisitStep.PROVIDER, m.s.step)
        m.chooseProvider(sampleProvider())
        assertTrue(m.s.selectingProvider)
        advanceUntilIdle()
        assertEquals(VisitStep.ACT, m.s.step)
        assertEquals("select(prv_gp)", client.calls.last())
        m.chooseAct("G")
        assertEquals(VisitStep.AMOUNT, m.s.step)
        assertFalse(m.s.canEstimate)
        m.onPriceChange("30,50")
        assertTrue(m.s.canEstimate)

        val gate = CompletableDeferred<Unit>()
        client.onCheck = { gate.await(); PreviewCheck(true, it.id, it.amo, it.amc, it.member) }
        m.estimate()
        runCurrent()
        assertEquals(VisitStep.RESULT, m.s.step)
        assertEquals("preview(ben_camille,prv_gp,G,30,50,null)", client.calls[client.calls.size - 2])
        assertEquals(ServerCheck.Checking, m.s.check, "the phone's figures show before the server answers")
        assertEquals(Money.parse("19.00"), m.s.preview?.amo)
        gate.complete(Unit)
        advanceUntilIdle()
        assertEquals(ServerCheck.Confirmed("pv_1"), m.s.check)
        assertEquals(listOf("Base de remboursement : 30,00 €."), m.s.explanations)

        m.onLocaleChange(Locale.UK)
        assertEquals(listOf("Reimbursement base: €30.00."), m.s.explanations)
    }

    @Test
    fun `a lone beneficiary is chosen already`() = runTest {
        client.onBeneficiaries = { sampleBeneficiaries().take(1) }
        val m = started()
        assertEquals("ben_camille", m.s.beneficiaryId)
        assertEquals(VisitStep.PROVIDER, m.s.step)
    }

    @Test
    fun `the search waits for the member to stop typing and shows when it was offline`() = runTest {
        val m = started()
        client.calls.clear()
        client.onSearch = { ProviderSearch(listOf(sampleProvider("prv_oph", "OPH123")), offline = true) }
        m.onQueryChange("oph")
        advanceTimeBy(100)
        m.onQueryChange("ophtalmologe")
        assertTrue(m.s.searching)
        advanceTimeBy(VisitModel.SEARCH_DEBOUNCE_MS + 1)
        runCurrent()
        assertEquals(listOf("search(ophtalmologe)"), client.calls)
        assertEquals("prv_oph", m.s.providers.single().id)
        assertTrue(m.s.providersOffline)
        assertFalse(m.s.searching)
    }

    @Test
    fun `a scanned code selects the provider, a foreign one is an error on the provider`() = runTest {
        val m = started()
        m.chooseBeneficiary("ben_camille")
        client.onSelect = { throw TiersPayError.InvalidInput("scan", "this QR code is not a TiersPay provider code") }
        m.onScanned("https://evil.example/p/ABCDEF")
        advanceUntilIdle()
        assertEquals(
            VisitError("this QR code is not a TiersPay provider code", Kind.INVALID_INPUT, VisitField.PROVIDER),
            m.s.error,
        )
        assertNull(m.s.provider)

        client.onSelect = { sampleProvider() }
        m.onScanned("https://app.tierspay.fr/p/K7M2QX")
        assertNull(m.s.error, "a new attempt clears the error")
        advanceUntilIdle()
        assertEquals(sampleProvider(), m.s.provider)
        assertEquals("select(https://app.tierspay.fr/p/K7M2QX)", client.calls.last())

        m.changeProvider()
        assertEquals(VisitStep.PROVIDER, m.s.step)
    }

    @Test
    fun `bad input is shown on its field and editing it clears the error`() = runTest {
        val m = started()
        filled(m, price = "-5")
        client.onPreview = { _, _, _, _, _ -> throw TiersPayError.InvalidInput("price", "must be more than zero") }
        m.estimate()
        advanceUntilIdle()
        assertEquals(VisitError("must be more than zero", Kind.INVALID_INPUT, VisitField.PRICE), m.s.error)
        assertNull(m.s.preview)
        assertFalse(m.s.pricing)
        m.onPriceChange("5")
        assertNull(m.s.error)

        for ((field, expected) in listOf(
            "act_code" to VisitField.ACT,
            "beneficiary_id" to VisitField.BENEFICIARY,
            "provider_id" to VisitField.PROVIDER,
            "date" to VisitField.DATE,
        )) {
            client.onPreview = { _, _, _, _, _ -> throw TiersPayError.InvalidInput(field, "is wrong") }
            m.estimate()
            advanceUntilIdle()
            assertEquals(expected, m.s.error?.field, field)
            m.onPriceChange("30")
        }
    }

    @Test
    fun `figures the server no longer agrees with are updated by a sync`() = runTest {
        val m = started()
        filled(m, price = "250")
        client.onCheck = { PreviewCheck(false, "pv_server", it.amo, Money.parse("50.00"), Money.parse("200.00")) }
        m.estimate()
        advanceUntilIdle()
        assertEquals(ServerCheck.Changed(Money.parse("19.00"), Money.parse("50.00"), Money.parse("200.00")), m.s.check)

        client.calls.clear()
        client.onCheck = { PreviewCheck(true, it.id, it.amo, it.amc, it.member) }
        client.onPreview = { b, p, a, price, _ -> samplePreview(b, p, a, "$price.00", id = "pv_2") }
        m.sync()
        assertTrue(m.s.syncing)
        advanceUntilIdle()
        assertEquals(listOf("sync", "beneficiaries", "acts(null)", "preview(ben_camille,prv_gp,G,250,null)", "check(pv_2)"), client.calls)
        assertEquals("pv_2", m.s.preview?.id)
        assertEquals(ServerCheck.Confirmed("pv_2"), m.s.check)
        assertFalse(m.s.syncing)
    }

    @Test
    fun `offline, the phone's figures stand unchecked until a recheck`() = runTest {
        val m = started()
        filled(m)
        client.onCheck = { throw TiersPayError.Network("Network unavailable: connection refused") }
        m.estimate()
        advanceUntilIdle()
        assertEquals(Money.parse("2.00"), m.s.preview?.member)
        assertEquals(ServerCheck.Unchecked("Network unavailable: connection refused", Kind.NETWORK), m.s.check)
        assertNull(m.s.error)

        client.onCheck = { PreviewCheck(true, it.id, it.amo, it.amc, it.member) }
        m.recheck()
        advanceUntilIdle()
        assertEquals(ServerCheck.Confirmed("pv_1"), m.s.check)
    }

    @Test
    fun `guarantees never downloaded are synced once, and offered again when that fails`() = runTest {
        var synced = false
        client.onBeneficiaries = {
            if (!synced) throw TiersPayError.NotSynced("connect once")
            sampleBeneficiaries()
        }
        client.onSync = { throw TiersPayError.Network("Network unavailable: offline") }
        val m = started()
        assertTrue(m.s.notSynced)
        assertFalse(m.s.loading)
        assertEquals(VisitError("connect once", Kind.NOT_SYNCED, null), m.s.error)
        assertEquals(1, client.calls.count { it == "sync" })

        client.onSync = { synced = true; SyncSummary(true, true, 9000) }
        m.sync()
        advanceUntilIdle()
        assertFalse(m.s.notSynced)
        assertNull(m.s.error)
        assertEquals(2, m.s.beneficiaries.size)
    }

    @Test
    fun `an input changed while pricing drops the late answer, and a changed input clears the figures`() = runTest {
        val m = started()
        filled(m)
        val gate = CompletableDeferred<Unit>()
        client.onPreview = { b, p, a, price, _ -> gate.await(); samplePreview(b, p, a, "$price.00") }
        m.estimate()
        runCurrent()
        assertTrue(m.s.pricing)
        m.onPriceChange("31")
        assertFalse(m.s.pricing)
        gate.complete(Unit)
        advanceUntilIdle()
        assertNull(m.s.preview)

        m.estimate()
        advanceUntilIdle()
        assertEquals(VisitStep.RESULT, m.s.step)
        m.chooseBeneficiary("ben_lea")
        assertNull(m.s.preview)
        assertNull(m.s.check)
        assertEquals(VisitStep.AMOUNT, m.s.step)
    }

    @Test
    fun `a care date reads the acts of that day and prices on it`() = runTest {
        val m = started()
        filled(m)
        val day = LocalDate.of(2026, 3, 2)
        m.onDateChange(day)
        advanceUntilIdle()
        assertEquals("acts(2026-03-02)", client.calls.last())
        assertEquals("G", m.s.actCode, "the act is kept when still in force")
        m.estimate()
        advanceUntilIdle()
        assertTrue(client.calls.contains("preview(ben_camille,prv_gp,G,30,2026-03-02)"))
    }

    @Test
    fun `clear forgets the member's visit`() = runTest {
        val m = started()
        filled(m)
        m.estimate()
        advanceUntilIdle()
        m.clear()
        assertEquals(VisitState(locale = Locale.FRANCE), m.s)
        m.start()
        advanceUntilIdle()
        assertEquals(2, m.s.beneficiaries.size)
    }
}
