package fr.tierspay.shell.state

import fr.tierspay.core.EnrollmentFlowInterface
import fr.tierspay.core.EnrollmentFlowState
import fr.tierspay.core.EnrollmentListener
import fr.tierspay.shell.TiersPayClient
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update

/**
 * The enrollment screens over the core's `EnrollmentFlow` (`core/src/app/flows/enrollment.rs`):
 * details → code → enrolled, errors on their field, resend, back, links' contract numbers. This
 * exposes the core's state as a [StateFlow] and forwards intents; it decides nothing.
 */
class EnrollmentFlowModel(client: TiersPayClient, contractNumber: String? = null) : AutoCloseable {
    private val _state = MutableStateFlow<EnrollmentFlowState?>(null)

    /** Every state the core sends, the newest revision kept; null before the first intent. */
    val state: StateFlow<EnrollmentFlowState?> = _state.asStateFlow()

    private val flow: EnrollmentFlowInterface = client.enrollmentFlow(
        contractNumber,
        object : EnrollmentListener {
            override fun onState(state: EnrollmentFlowState) {
                _state.update { old -> if (old == null || state.revision > old.revision) state else old }
            }
        },
    )

    init {
        _state.value = flow.state()
    }

    fun onContractNumberChange(value: String) = flow.editContractNumber(value)

    fun onBirthDateChange(value: String) = flow.editBirthDate(value)

    fun onCodeChange(value: String) = flow.editCode(value)

    /** Sends the code, or confirms it. */
    fun submit() = flow.submit()

    fun resendCode() = flow.resend()

    fun back() = flow.back()

    fun prefill(contractNumber: String) = flow.prefill(contractNumber)

    fun reset(contractNumber: String? = null) = flow.reset(contractNumber)

    /** Releases the core's flow (a fake in tests may have nothing to release). */
    override fun close() {
        (flow as? AutoCloseable)?.close()
    }
}
