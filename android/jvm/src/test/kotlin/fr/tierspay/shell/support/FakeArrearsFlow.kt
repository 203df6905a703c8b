package fr.tierspay.shell.support

import fr.tierspay.core.ArrearsFlowInterface
import fr.tierspay.core.ArrearsFlowState
import fr.tierspay.core.ArrearsListener
import fr.tierspay.core.OutboxEntry

/**
 * The core's arrears flow as the view-state tests need it: intents recorded in [calls]
 * (`arrears.openLink(…)`), states sent by the test with [emit]. The machine itself is tested in
 * Rust (`core/src/app/flows/arrears.rs`) and through the real core in ArrearsClientTest.
 */
class FakeArrearsFlow(private val listener: ArrearsListener, private val calls: MutableList<String>) :
    ArrearsFlowInterface,
    AutoCloseable {
    var closed = false
        private set

    /** Sends [state] to the model, as the core would. */
    fun emit(state: ArrearsFlowState) = listener.onState(state)

    override fun state(): ArrearsFlowState? = null

    override fun start() {
        calls += "arrears.start()"
    }

    override fun refresh() {
        calls += "arrears.refresh()"
    }

    override fun openLink(url: String) {
        calls += "arrears.openLink($url)"
    }

    override fun select(invoiceId: String) {
        calls += "arrears.select($invoiceId)"
    }

    override fun back() {
        calls += "arrears.back()"
    }

    override fun pay(invoiceId: String) {
        calls += "arrears.pay($invoiceId)"
    }

    override fun networkAvailable() {
        calls += "arrears.networkAvailable()"
    }

    override fun sync() {
        calls += "arrears.sync()"
    }

    /** What [outbox] answers. */
    var outboxEntries: List<OutboxEntry> = emptyList()

    override fun outbox(): List<OutboxEntry> = outboxEntries.also { calls += "arrears.outbox()" }

    override fun close() {
        closed = true
    }
}
