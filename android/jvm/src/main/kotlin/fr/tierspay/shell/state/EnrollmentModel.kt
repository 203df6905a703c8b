package fr.tierspay.shell.state

import fr.tierspay.shell.CodeChallenge
import fr.tierspay.shell.MemberProfile
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.TiersPayError.Codes
import fr.tierspay.shell.TiersPayError.Fields
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** A form field an enrollment error points at. */
enum class EnrollmentField { CONTRACT_NUMBER, BIRTH_DATE, CODE }

/** An error to show: next to [field], or above the form when [field] is null. */
data class FormError(
    val message: String,
    val kind: TiersPayError.Kind,
    val field: EnrollmentField? = null,
)

/** What the enrollment screen draws. */
sealed interface EnrollmentState {
    val busy: Boolean
    val error: FormError?

    /** Step 1: contract number and the holder's birth date (`YYYY-MM-DD`). */
    data class Details(
        val contractNumber: String = "",
        val birthDate: String = "",
        override val busy: Boolean = false,
        override val error: FormError? = null,
    ) : EnrollmentState {
        val canSubmit: Boolean get() = !busy && contractNumber.isNotBlank() && birthDate.isNotBlank()
    }

    /** Step 2: the code sent by SMS to [CodeChallenge.phoneMasked]. */
    data class Code(
        val contractNumber: String,
        val birthDate: String,
        val challenge: CodeChallenge,
        val code: String = "",
        override val busy: Boolean = false,
        override val error: FormError? = null,
    ) : EnrollmentState {
        val canSubmit: Boolean get() = !busy && code.length == challenge.codeLength
    }

    /** Done: the session is enrolled. */
    data class Enrolled(val profile: MemberProfile) : EnrollmentState {
        override val busy: Boolean get() = false
        override val error: FormError? get() = null
    }
}

/**
 * The enrollment screen's state machine: details → code → enrolled, errors attached to the field
 * they concern. Pure Kotlin: the Android ViewModel hosts it in its viewModelScope. Validation
 * stays in the core; this only sequences calls and places errors.
 *
 * Call its functions from one thread (the main thread in the app).
 */
class EnrollmentModel(
    private val client: TiersPayClient,
    private val scope: CoroutineScope,
    contractNumber: String? = null,
) {
    private val _state = MutableStateFlow<EnrollmentState>(EnrollmentState.Details(contractNumber.orEmpty()))
    val state: StateFlow<EnrollmentState> = _state.asStateFlow()
    private var job: Job? = null

    /** Back to an empty first step, pre-filled with [contractNumber] when given. */
    fun reset(contractNumber: String? = null) {
        job?.cancel()
        _state.value = EnrollmentState.Details(contractNumber.orEmpty())
    }

    /** A link carried a contract number: put it in the form (not once enrolled). */
    fun prefill(contractNumber: String) {
        when (val s = _state.value) {
            is EnrollmentState.Details -> if (!s.busy) _state.value = s.copy(contractNumber = contractNumber, error = null)
            is EnrollmentState.Code -> if (s.contractNumber != contractNumber) reset(contractNumber)
            is EnrollmentState.Enrolled -> Unit
        }
    }

    fun onContractNumberChange(value: String) = editDetails { copy(contractNumber = value) }

    fun onBirthDateChange(value: String) = editDetails { copy(birthDate = value) }

    /** Digits only, at most the code's length. */
    fun onCodeChange(value: String) {
        val s = _state.value as? EnrollmentState.Code ?: return
        if (s.busy) return
        _state.value = s.copy(code = value.filter(Char::isDigit).take(s.challenge.codeLength), error = null)
    }

    /** Step 1 → 2: asks the core to send the code. */
    fun submitDetails() {
        val s = _state.value as? EnrollmentState.Details ?: return
        if (s.busy) return
        val pending = s.copy(busy = true, error = null)
        _state.value = pending
        job = scope.launch {
            val next = try {
                val challenge = client.startEnrollment(s.contractNumber.trim(), s.birthDate.trim())
                EnrollmentState.Code(s.contractNumber, s.birthDate, challenge)
            } catch (e: TiersPayError) {
                s.copy(busy = false, error = e.toFormError())
            }
            _state.compareAndSet(pending, next)
        }
    }

    /** Step 2 → done: confirms the code. */
    fun submitCode() {
        val s = _state.value as? EnrollmentState.Code ?: return
        if (s.busy) return
        val pending = s.copy(busy = true, error = null)
        _state.value = pending
        job = scope.launch {
            val next = try {
                EnrollmentState.Enrolled(client.confirmEnrollment(s.challenge.enrollmentId, s.code))
            } catch (e: TiersPayError) {
                if (e.mustRestart()) {
                    EnrollmentState.Details(s.contractNumber, s.birthDate, error = e.toFormError())
                } else {
                    val wrongCode = e is TiersPayError.Rejected && e.code == Codes.CODE_INCORRECT
                    s.copy(code = if (wrongCode) "" else s.code, busy = false, error = e.toFormError())
                }
            }
            _state.compareAndSet(pending, next)
        }
    }

    /** Step 2: sends a new code (the previous one stops working). */
    fun resendCode() {
        val s = _state.value as? EnrollmentState.Code ?: return
        if (s.busy) return
        val pending = s.copy(busy = true, error = null)
        _state.value = pending
        job = scope.launch {
            val next = try {
                s.copy(challenge = client.startEnrollment(s.contractNumber.trim(), s.birthDate.trim()), code = "", busy = false)
            } catch (e: TiersPayError) {
                s.copy(busy = false, error = e.toFormError())
            }
            _state.compareAndSet(pending, next)
        }
    }

    /** Step 2 → 1, keeping what was typed. */
    fun back() {
        val s = _state.value as? EnrollmentState.Code ?: return
        job?.cancel()
        _state.value = EnrollmentState.Details(s.contractNumber, s.birthDate)
    }

    private inline fun editDetails(change: EnrollmentState.Details.() -> EnrollmentState.Details) {
        val s = _state.value as? EnrollmentState.Details ?: return
        if (s.busy) return
        _state.value = s.change().copy(error = null)
    }
}

/** The enrollment is over on the server side: only a new start helps. */
private fun TiersPayError.mustRestart(): Boolean =
    this is TiersPayError.Rejected && (code == Codes.CODE_EXPIRED || code == Codes.TOO_MANY_ATTEMPTS)

internal fun TiersPayError.toFormError(): FormError {
    val field = when (this) {
        is TiersPayError.InvalidInput -> when (field) {
            Fields.CONTRACT_NUMBER -> EnrollmentField.CONTRACT_NUMBER
            Fields.BIRTH_DATE -> EnrollmentField.BIRTH_DATE
            Fields.CODE -> EnrollmentField.CODE
            else -> null
        }
        is TiersPayError.Rejected -> if (code == Codes.CODE_INCORRECT) EnrollmentField.CODE else null
        else -> null
    }
    return FormError(message, kind, field)
}
