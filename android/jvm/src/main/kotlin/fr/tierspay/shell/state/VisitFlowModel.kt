package fr.tierspay.shell.state

import fr.tierspay.core.VisitFlowInterface
import fr.tierspay.core.VisitFlowState
import fr.tierspay.core.VisitListener
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.coreLanguage
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import java.util.Locale

/**
 * The doctor's-desk screen over the core's `VisitFlow`: the state machine (steps, back, new
 * visit, change act, filters, stale answers, which field an error belongs to) lives in the
 * core, in `core/src/app/flows/visit.rs`. This exposes its state as a [StateFlow] and forwards
 * the member's intents; it decides nothing. The figures' text and the explanations come in the
 * language of [locale] (see [setLocale]).
 */
class VisitFlowModel(client: TiersPayClient, private val providerCode: String? = null, locale: Locale = Locale.getDefault()) :
    AutoCloseable {
    private val _state = MutableStateFlow<VisitFlowState?>(null)

    /** Null until [start]; then every state the core sends, the newest revision kept. */
    val state: StateFlow<VisitFlowState?> = _state.asStateFlow()

    private val flow: VisitFlowInterface = client.visitFlow(
        object : VisitListener {
            override fun onState(state: VisitFlowState) {
                _state.update { old -> if (old == null || state.revision > old.revision) state else old }
            }
        },
    ).also { it.setLanguage(locale.coreLanguage()) }

    /** The reader's locale changed: the core prices the figures shown again, in its language. */
    fun setLocale(locale: Locale) = flow.setLanguage(locale.coreLanguage())

    /** Reads the data, lists the recently used providers, selects the provider of a QR code or link. */
    fun start() = flow.start(providerCode)

    fun chooseBeneficiary(id: String) = flow.chooseBeneficiary(id)

    fun onQueryChange(query: String) = flow.editQuery(query)

    fun filter(specialty: String?, city: String?) = flow.filter(specialty, city)

    fun chooseProvider(id: String) = flow.selectProvider(id)

    fun onScanned(text: String) = flow.scanned(text)

    fun openProvider(code: String) = flow.selectProvider(code)

    fun chooseAct(code: String) = flow.chooseAct(code)

    fun onPriceChange(price: String) = flow.editPrice(price)

    /** `YYYY-MM-DD`, null for today in France. */
    fun onDateChange(date: String?) = flow.editDate(date)

    fun changeBeneficiary() = flow.changeBeneficiary()

    fun changeProvider() = flow.changeProvider()

    fun changeAct() = flow.changeAct()

    fun changeAmount() = flow.changeAmount()

    fun back() = flow.back()

    fun newVisit() = flow.newVisit()

    fun estimate() = flow.price()

    fun recheck() = flow.recheck()

    fun sync() = flow.sync()

    fun dismissError() = flow.dismissError()

    // Paying: the state's `payment` holds the visit (its `expiresAt` for the countdown, the paid
    // sentence and receipt), the server's figures after a stale answer, and what can be tapped.

    /** "Pay with my card": arms the virtual card for the figures shown (or the server's after a stale answer). */
    fun authorize() = flow.authorize()

    /** Cancels the armed visit, before the tap. */
    fun cancel() = flow.cancel()

    /** Reads the visit again: the countdown ended, a push said it changed, or the screen came back. */
    fun refresh() = flow.refresh()

    /** Releases the core's flow (a fake in tests may have nothing to release). */
    override fun close() {
        (flow as? AutoCloseable)?.close()
    }
}
