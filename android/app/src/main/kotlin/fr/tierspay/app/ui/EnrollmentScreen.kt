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
import fr.tierspay.shell.state.EnrollmentField
import fr.tierspay.shell.state.EnrollmentModel
import fr.tierspay.shell.state.EnrollmentState
import fr.tierspay.shell.state.FormError
import fr.tierspay.shell.state.SignedOutReason

@Composable
fun EnrollmentScreen(model: EnrollmentModel, reason: SignedOutReason) {
    val state by model.state.collectAsStateWithLifecycle()
    Column(
        Modifier.verticalScroll(rememberScrollState()).padding(24.dp).fillMaxWidth(),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        Text(stringResource(R.string.enroll_title), style = MaterialTheme.typography.headlineMedium)
        if (reason == SignedOutReason.SESSION_ENDED) {
            Text(stringResource(R.string.enroll_session_ended), color = MaterialTheme.colorScheme.error)
        }
        when (val s = state) {
            is EnrollmentState.Details -> DetailsStep(s, model)
            is EnrollmentState.Code -> CodeStep(s, model)
            // The session switches to home as soon as the core reports the enrollment.
            is EnrollmentState.Enrolled -> CircularProgressIndicator()
        }
        state.error?.takeIf { it.field == null }?.let {
            Text(it.message, color = MaterialTheme.colorScheme.error)
        }
    }
}

@Composable
private fun DetailsStep(s: EnrollmentState.Details, model: EnrollmentModel) {
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
        onDone = model::submitDetails,
    )
    BusyButton(stringResource(R.string.enroll_send_code), busy = s.busy, enabled = s.canSubmit, onClick = model::submitDetails)
}

@Composable
private fun CodeStep(s: EnrollmentState.Code, model: EnrollmentModel) {
    Text(stringResource(R.string.enroll_code_sent, s.challenge.codeLength, s.challenge.phoneMasked))
    Field(
        value = s.code,
        onChange = model::onCodeChange,
        label = stringResource(R.string.enroll_code),
        error = s.error.on(EnrollmentField.CODE),
        enabled = !s.busy,
        keyboard = KeyboardOptions(keyboardType = KeyboardType.NumberPassword, imeAction = ImeAction.Done),
        onDone = model::submitCode,
    )
    BusyButton(stringResource(R.string.enroll_confirm), busy = s.busy, enabled = s.canSubmit, onClick = model::submitCode)
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

private fun FormError?.on(field: EnrollmentField): String? = this?.takeIf { it.field == field }?.message
