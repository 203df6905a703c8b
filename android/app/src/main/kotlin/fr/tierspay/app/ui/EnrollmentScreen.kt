package fr.tierspay.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardActions
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardCapitalization
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import fr.tierspay.app.R
import fr.tierspay.core.EnrollmentField
import fr.tierspay.core.EnrollmentFlowError
import fr.tierspay.core.EnrollmentFlowState
import fr.tierspay.core.EnrollmentStep
import fr.tierspay.shell.state.EnrollmentFlowModel
import fr.tierspay.shell.state.SignedOutReason

/**
 * Contract number and birth date, then the code sent by SMS. Draws the core's `EnrollmentFlow`
 * state ([EnrollmentFlowModel]): the step, which button is enabled and where an error shows are
 * the core's (`core/src/app/flows/enrollment.rs`).
 */
@Composable
fun EnrollmentScreen(model: EnrollmentFlowModel, reason: SignedOutReason) {
    val current by model.state.collectAsStateWithLifecycle()
    Column(
        Modifier.verticalScroll(rememberScrollState()).padding(24.dp).fillMaxWidth(),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        Text(stringResource(R.string.enroll_title), style = MaterialTheme.typography.headlineMedium)
        if (reason == SignedOutReason.SESSION_ENDED) {
            Text(stringResource(R.string.enroll_session_ended), color = MaterialTheme.colorScheme.error)
        }
        val state = current ?: return@Column
        when (state.step) {
            EnrollmentStep.DETAILS -> DetailsStep(state, model)
            EnrollmentStep.CODE -> CodeStep(state, model)
            // The session switches to home as soon as the core reports the enrollment.
            EnrollmentStep.ENROLLED -> CircularProgressIndicator()
        }
        state.error.on(EnrollmentField.FORM)?.let {
            Text(it, color = MaterialTheme.colorScheme.error)
        }
    }
}

@Composable
private fun DetailsStep(s: EnrollmentFlowState, model: EnrollmentFlowModel) {
    Text(stringResource(R.string.enroll_intro))
    Field(
        value = s.contractNumber,
        onChange = model::onContractNumberChange,
        label = stringResource(R.string.enroll_contract_number),
        error = s.error.on(EnrollmentField.CONTRACT_NUMBER),
        enabled = !s.busy,
        keyboard = KeyboardOptions(capitalization = KeyboardCapitalization.Characters, imeAction = ImeAction.Next),
    )
    Field(
        value = s.birthDate,
        onChange = model::onBirthDateChange,
        label = stringResource(R.string.enroll_birth_date),
        placeholder = stringResource(R.string.enroll_birth_date_hint),
        error = s.error.on(EnrollmentField.BIRTH_DATE),
        enabled = !s.busy,
        keyboard = KeyboardOptions(keyboardType = KeyboardType.Number, imeAction = ImeAction.Done),
        onDone = model::submit,
    )
    BusyButton(stringResource(R.string.enroll_send_code), busy = s.busy, enabled = s.canSubmit, onClick = model::submit)
}

@Composable
private fun CodeStep(s: EnrollmentFlowState, model: EnrollmentFlowModel) {
    s.challenge?.let { Text(stringResource(R.string.enroll_code_sent, it.codeLength.toInt(), it.phoneMasked)) }
    Field(
        value = s.code,
        onChange = model::onCodeChange,
        label = stringResource(R.string.enroll_code),
        error = s.error.on(EnrollmentField.CODE),
        enabled = !s.busy,
        keyboard = KeyboardOptions(keyboardType = KeyboardType.NumberPassword, imeAction = ImeAction.Done),
        onDone = model::submit,
    )
    BusyButton(stringResource(R.string.enroll_confirm), busy = s.busy, enabled = s.canSubmit, onClick = model::submit)
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        TextButton(onClick = model::back, enabled = !s.busy) { Text(stringResource(R.string.enroll_back)) }
        TextButton(onClick = model::resendCode, enabled = !s.busy) { Text(stringResource(R.string.enroll_resend)) }
    }
}

@Composable
private fun Field(
    value: String,
    onChange: (String) -> Unit,
    label: String,
    error: String?,
    enabled: Boolean,
    keyboard: KeyboardOptions,
    placeholder: String? = null,
    onDone: () -> Unit = {},
) {
    OutlinedTextField(
        value = value,
        onValueChange = onChange,
        label = { Text(label) },
        placeholder = placeholder?.let { { Text(it) } },
        isError = error != null,
        supportingText = error?.let { { Text(it) } },
        enabled = enabled,
        singleLine = true,
        keyboardOptions = keyboard,
        keyboardActions = KeyboardActions(onDone = { onDone() }),
        modifier = Modifier.fillMaxWidth(),
    )
}

@Composable
private fun BusyButton(text: String, busy: Boolean, enabled: Boolean, onClick: () -> Unit) {
    Button(onClick = onClick, enabled = enabled, modifier = Modifier.fillMaxWidth()) {
        if (busy) CircularProgressIndicator(Modifier.size(20.dp), strokeWidth = 2.dp) else Text(text)
    }
}

private fun EnrollmentFlowError?.on(field: EnrollmentField): String? = this?.takeIf { it.field == field }?.message
