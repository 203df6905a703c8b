package fr.tierspay.shell.state

import fr.tierspay.shell.Act
import fr.tierspay.shell.CoveragePreview
import fr.tierspay.shell.CoveredBeneficiary
import fr.tierspay.shell.Money
import fr.tierspay.shell.Provider
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.TiersPayError.Fields
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.launch
import java.time.LocalDate
import java.util.Locale

/** A part of the visit form an error points at. */
enum class VisitField { BENEFICIARY, PROVIDER, ACT, PRICE, DATE }

/** An error to show: next to [field], or above the form when [field] is null. */
data class VisitError(
    val message: String,
    val kind: TiersPayError.Kind,
    val field: VisitField? = null,
)

/** Where the member is at the doctor's desk: the first thing still missing. */
enum class VisitStep { LOADING, BENEFICIARY, PROVIDER, ACT, AMOUNT, RESULT }

/** The server's word on the preview shown. */
sealed interface ServerCheck {
    /** Asked; the phone's figures are shown meanwhile. */
    data object Checking : ServerCheck

    /** The server computed the same figures with the same code. */
    data class Confirmed(val serverPreviewId: String) : ServerCheck

    /**
     * The server's figures differ: its data changed since the last sync (a ceiling was consumed
     * elsewhere). [VisitModel.sync] downloads it and prices the visit again.
     */
    data class Changed(val amo: Money, val amc: Money, val member: Money) : ServerCheck

    /** Could not be checked (offline, most often): the phone's figures stand. [VisitModel.recheck] retries. */
    data class Unchecked(val message: String, val kind: TiersPayError.Kind) : ServerCheck
}

/** What the visit screen draws. */
data class VisitState(
    /** Beneficiaries and acts are being read from the phone (or downloaded the first time). */
    val loading: Boolean = true,
    val beneficiaries: List<CoveredBeneficiary> = emptyList(),
    /** Acts in force on [date]. */
    val acts: List<Act> = emptyList(),
    val beneficiaryId: String? = null,
    /** The provider search as typed. */
    val query: String = "",
    /** Recently used first, then the directory's matches. */
    val providers: List<Provider> = emptyList(),
    /** The directory could not be reached: [providers] are the recently used ones only. */
    val providersOffline: Boolean = false,
    val searching: Boolean = false,
    val provider: Provider? = null,
    val selectingProvider: Boolean = false,
    val actCode: String? = null,
    /** The amount as typed (`30`, `30,50`): the core reads it. */
    val price: String = "",
    /** The care date; null for today in France. */
    val date: LocalDate? = null,
    val pricing: Boolean = false,
    val preview: CoveragePreview? = null,
    /** Null until a preview is shown. */
    val check: ServerCheck? = null,
    val syncing: Boolean = false,
    /** The guarantees are not on this phone yet: offer [VisitModel.sync]. */
    val notSynced: Boolean = false,
    val error: VisitError? = null,
    /** Explanations are in French for a French locale, in English otherwise. */
    val locale: Locale = Locale.FRANCE,
) {
    val beneficiary: CoveredBeneficiary? get() = beneficiaries.firstOrNull { it.id == beneficiaryId }
    val act: Act? get() = acts.firstOrNull { it.code == actCode }

    val step: VisitStep
        get() = when {
            loading -> VisitStep.LOADING
            beneficiary == null -> VisitStep.BENEFICIARY
            provider == null -> VisitStep.PROVIDER
            act == null -> VisitStep.ACT
            preview == null -> VisitStep.AMOUNT
            else -> VisitStep.RESULT
        }

    val busy: Boolean get() = loading || syncing || selectingProvider || pricing

    val canEstimate: Boolean
        get() = !busy && beneficiary != null && provider != null && act != null && price.isNotBlank()

    /** The preview's explanations in [locale]'s language. */
    val explanations: List<String> get() = preview?.explanations?.map { it.text(locale) }.orEmpty()

    internal val inputs: PreviewInputs? get() {
        val beneficiaryId = beneficiaryId ?: return null
        val provider = provider ?: return null
        val actCode = actCode ?: return null
        return PreviewInputs(beneficiaryId, provider.id, actCode, price.trim(), date)
    }
}

internal data class PreviewInputs(
    val beneficiaryId: String,
    val providerId: String,
    val actCode: String,
    val price: String,
    val date: LocalDate?,
)

/**
 * The doctor's-desk screen: choose who the care is for → find or scan the provider → choose the
 * act → type the amount → the three shares, deductions and explanations, priced on the phone
 * (offline), then checked by the server. Pure Kotlin, hosted by the app's ViewModel; validation
 * and every figure come from the core, this only sequences calls and places errors.
 *
 * Call its functions from one thread (the main thread in the app).
 */
class VisitModel(
    private val client: TiersPayClient,
    private val scope: CoroutineScope,
    locale: Locale = Locale.getDefault(),
) {
    private val initial = VisitState(locale = locale)
    private val _state = MutableStateFlow(initial)
    val state: StateFlow<VisitState> = _state.asStateFlow()

    private var started = false
    private var loadJob: Job? = null
    private var searchJob: Job? = null
    private var selectJob: Job? = null
    private var priceJob: Job? = null

    /** Reads beneficiaries, acts and the recently used providers (offline). Idempotent. */
    fun start() {
        if (started) return
        started = true
        loadJob = scope.launch { load(syncIfMissing = true) }
        search("")
    }

    /** Forgets everything (sign-out): the next [start] reads again. */
    fun clear() {
        listOf(loadJob, searchJob, selectJob, priceJob).forEach { it?.cancel() }
        started = false
        _state.value = initial.copy(locale = _state.value.locale)
    }

    fun onLocaleChange(locale: Locale) = _state.update { it.copy(locale = locale) }

    fun chooseBeneficiary(id: String) = edit { copy(beneficiaryId = id) }

    /** Searches as the member types (debounced); an empty search lists the recently used. */
    fun onQueryChange(query: String) {
        _state.update { it.copy(query = query, error = it.error.unless(VisitField.PROVIDER)) }
        search(query, debounce = true)
    }

    /** A provider from the search results. */
    fun chooseProvider(provider: Provider) = select(provider.id)

    /** The text of a scanned QR code, unread: the core says whether it is a provider's desk code. */
    fun onScanned(text: String) = select(text)

    /** A provider code from a `/p/CODE` link. */
    fun openProvider(code: String) = select(code)

    /** Back to the provider search. */
    fun changeProvider() {
        selectJob?.cancel()
        edit { copy(provider = null, selectingProvider = false) }
        search(_state.value.query)
    }

    fun chooseAct(code: String) = edit { copy(actCode = code) }

    fun onPriceChange(price: String) = edit { copy(price = price) }

    /** The care date (null: today); the acts in force that day are read again. */
    fun onDateChange(date: LocalDate?) {
        if (date == _state.value.date) return
        edit { copy(date = date) }
        loadJob?.cancel()
        loadJob = scope.launch { load(syncIfMissing = false) }
    }

    /** Prices the visit on the phone, then asks the server to check the figures. */
    fun estimate() {
        val s = _state.value
        if (!s.canEstimate) return
        val inputs = s.inputs ?: return
        _state.value = s.copy(pricing = true, preview = null, check = null, error = null)
        priceJob = scope.launch {
            val preview = try {
                client.preview(inputs.beneficiaryId, inputs.providerId, inputs.actCode, inputs.price, inputs.date)
            } catch (e: TiersPayError) {
                _state.update {
                    if (it.inputs != inputs) it
                    else it.copy(pricing = false, error = e.toVisitError(), notSynced = it.notSynced || e.isNotSynced())
                }
                return@launch
            }
            var shown = false
            _state.update {
                shown = it.inputs == inputs
                if (shown) it.copy(pricing = false, preview = preview, check = ServerCheck.Checking) else it
            }
            if (shown) check(preview)
        }
    }

    /** Asks the server again (after [ServerCheck.Unchecked]). */
    fun recheck() {
        val s = _state.value
        val preview = s.preview ?: return
        if (s.check == ServerCheck.Checking) return
        _state.value = s.copy(check = ServerCheck.Checking)
        priceJob = scope.launch { check(preview) }
    }

    /**
     * Downloads what changed of the guarantees and tariffs, reads them again and, when a preview
     * was shown, prices the visit again with the new data.
     */
    fun sync() {
        val s = _state.value
        if (s.syncing) return
        val reprice = s.preview != null
        _state.value = s.copy(syncing = true, error = null)
        scope.launch {
            try {
                client.syncCoverage()
            } catch (e: TiersPayError) {
                _state.update { it.copy(syncing = false, error = e.toVisitError()) }
                return@launch
            }
            _state.update { it.copy(syncing = false, notSynced = false) }
            loadJob?.cancel()
            load(syncIfMissing = false)
            if (reprice) estimate()
        }
    }

    private suspend fun load(syncIfMissing: Boolean) {
        val date = _state.value.date
        try {
            val beneficiaries = client.coveredBeneficiaries()
            val acts = client.acts(date)
            _state.update { s ->
                val beneficiaryId = s.beneficiaryId?.takeIf { id -> beneficiaries.any { it.id == id } }
                    ?: beneficiaries.singleOrNull()?.id
                s.copy(
                    loading = false,
                    beneficiaries = beneficiaries,
                    acts = acts,
                    beneficiaryId = beneficiaryId,
                    actCode = s.actCode?.takeIf { code -> acts.any { it.code == code } },
                    notSynced = false,
                )
            }
        } catch (e: TiersPayError) {
            if (syncIfMissing && e.isNotSynced()) {
                // Enrollment syncs, but that sync may have failed (the network dropped): try once.
                val synced = try {
                    client.syncCoverage()
                    true
                } catch (_: TiersPayError) {
                    false
                }
                if (synced) return load(syncIfMissing = false)
            }
            _state.update { it.copy(loading = false, notSynced = e.isNotSynced(), error = e.toVisitError()) }
        }
    }

    private fun search(query: String, debounce: Boolean = false) {
        searchJob?.cancel()
        _state.update { it.copy(searching = true) }
        searchJob = scope.launch {
            if (debounce) delay(SEARCH_DEBOUNCE_MS)
            try {
                val found = client.searchProviders(query.trim(), limit = SEARCH_LIMIT)
                _state.update {
                    if (it.query != query) it
                    else it.copy(providers = found.providers, providersOffline = found.offline, searching = false)
                }
            } catch (e: TiersPayError) {
                _state.update {
                    if (it.query != query) it
                    else it.copy(searching = false, error = e.toVisitError(VisitField.PROVIDER))
                }
            }
        }
    }

    private fun select(idCodeOrScan: String) {
        selectJob?.cancel()
        edit { copy(selectingProvider = true) }
        selectJob = scope.launch {
            val next = try {
                val provider = client.selectProvider(idCodeOrScan)
                _state.value.copy(provider = provider, selectingProvider = false)
            } catch (e: TiersPayError) {
                _state.value.copy(selectingProvider = false, error = e.toVisitError(VisitField.PROVIDER))
            }
            _state.value = next
        }
    }

    private suspend fun check(preview: CoveragePreview) {
        val result = try {
            val check = client.checkPreview(preview)
            if (check.holds) ServerCheck.Confirmed(check.serverPreviewId)
            else ServerCheck.Changed(check.amo, check.amc, check.member)
        } catch (e: TiersPayError) {
            ServerCheck.Unchecked(e.message, e.kind)
        }
        _state.update { if (it.preview?.id == preview.id) it.copy(check = result) else it }
    }

    /** An input changed: the figures shown no longer apply. */
    private inline fun edit(change: VisitState.() -> VisitState) {
        priceJob?.cancel()
        _state.update { it.change().copy(pricing = false, preview = null, check = null, error = null) }
    }

    companion object {
        const val SEARCH_DEBOUNCE_MS = 300L
        const val SEARCH_LIMIT = 20
    }
}

private fun VisitError?.unless(field: VisitField): VisitError? = this?.takeIf { it.field != field }

private fun TiersPayError.isNotSynced(): Boolean = this is TiersPayError.NotSynced

internal fun TiersPayError.toVisitError(fallback: VisitField? = null): VisitError {
    val field = when (this) {
        is TiersPayError.InvalidInput -> when (field) {
            Fields.BENEFICIARY_ID -> VisitField.BENEFICIARY
            Fields.PROVIDER_ID, Fields.PROVIDER, Fields.SCAN, Fields.QUERY -> VisitField.PROVIDER
            Fields.ACT_CODE -> VisitField.ACT
            Fields.PRICE -> VisitField.PRICE
            Fields.DATE -> VisitField.DATE
            else -> fallback
        }
        else -> fallback
    }
    return VisitError(message, kind, field)
}
