package fr.tierspay.shell.state

import fr.tierspay.core.ThreadFlowInterface
import fr.tierspay.core.ThreadFlowState
import fr.tierspay.core.ThreadListener
import fr.tierspay.shell.TiersPayClient
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * One invoice's message thread over the core's `ThreadFlow` (`core/src/app/flows/thread.rs`):
 * the messages the phone has, shown at once, then read from the server; the member's message
 * checked by the core (a refusal names `text` in [state]'s error), kept on the phone and sent
 * exactly once through its outbox, now or when the network is back. This forwards intents and
 * exposes the states; it decides nothing. Texts are plain: draw them as text, never as markup.
 */
class ThreadModel(client: TiersPayClient, invoiceId: String) : AutoCloseable {
    private val _state = MutableStateFlow<ThreadFlowState?>(null)

    /** Null until the core's first state; then every state it sends, the newest revision kept. */
    val state: StateFlow<ThreadFlowState?> = _state.asStateFlow()

    private val flow: ThreadFlowInterface = client.threadFlow(
        invoiceId,
        object : ThreadListener {
            override fun onState(state: ThreadFlowState) {
                _state.update { old -> if (old == null || state.revision > old.revision) state else old }
            }
        },
    )

    /** Shows the thread the phone has, sends waiting messages and reads the server. */
    fun start() = flow.start()

    /** Pull to refresh, the network back, or a push saying support answered. */
    fun refresh() = flow.refresh()

    /** The send button. */
    fun send(text: String) = flow.send(text)

    /** Releases the core's flow. */
    override fun close() {
        (flow as? AutoCloseable)?.close()
    }
}
