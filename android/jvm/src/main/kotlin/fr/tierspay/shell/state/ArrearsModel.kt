package fr.tierspay.shell.state

import fr.tierspay.core.ArrearsFlowInterface
import fr.tierspay.core.ArrearsFlowState
import fr.tierspay.core.ArrearsListener
import fr.tierspay.core.OutboxEntry
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.mapCoreErrors
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext

/**
 * The arrears screens over the core's `ArrearsFlow` (`core/src/app/flows/arrears.rs`): the
 * invoice list shown offline then refreshed, an invoice's detail, and a payment link handed over
 * by the platform (App Link, `tierspay://`, a tapped push). The core verifies a link against the
 * pinned key before anything of it is in [state]; its refusal and the French and English
 * sentences come from the core too. Paying (issue 12) goes through the core's outbox: whether
 * the pay button shows or is enabled, a second tap, a payment queued offline and why a queued
 * one was not taken are all in [state]. This forwards intents and exposes the states; it
 * decides nothing.
 */
class ArrearsModel(client: TiersPayClient, private val io: CoroutineDispatcher = Dispatchers.IO) : AutoCloseable {
    private val _state = MutableStateFlow<ArrearsFlowState?>(null)

    /** Null until the core's first state; then every state it sends, the newest revision kept. */
    val state: StateFlow<ArrearsFlowState?> = _state.asStateFlow()

    private val flow: ArrearsFlowInterface = client.arrearsFlow(
        object : ArrearsListener {
            override fun onState(state: ArrearsFlowState) {
                _state.update { old -> if (old == null || state.revision > old.revision) state else old }
            }
        },
    )

    /** Shows the invoices the phone has and refreshes them from the server. */
    fun start() = flow.start()

    /** Pull to refresh. */
    fun refresh() = flow.refresh()

    /**
     * An incoming link: the `Intent`'s data URI as a string (`intent.dataString`), or a push's
     * link. The core verifies it (a `/s/` SMS link asks the server once) before it shows.
     */
    fun openLink(uri: String) = flow.openLink(uri)

    /** Opens an invoice's detail. */
    fun select(invoiceId: String) = flow.select(invoiceId)

    /** Back: closes the opened link, then the detail. */
    fun back() = flow.back()

    /** The pay button: the core writes the payment to its outbox, then sends it if it can. */
    fun pay(invoiceId: String) = flow.pay(invoiceId)

    /** The platform says the network is back (`ConnectivityManager.NetworkCallback.onAvailable`). */
    fun networkAvailable() = flow.networkAvailable()

    /** Sends the outbox, then refreshes the list. */
    fun sync() = flow.sync()

    /** The outbox, newest first: every payment from this phone and where it stands (a store read). */
    suspend fun outbox(): List<OutboxEntry> = withContext(io) { mapCoreErrors { flow.outbox() } }

    /** Releases the core's flow (a fake in tests may have nothing to release). */
    override fun close() {
        (flow as? AutoCloseable)?.close()
    }
}
