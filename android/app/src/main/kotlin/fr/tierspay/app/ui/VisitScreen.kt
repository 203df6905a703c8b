package fr.tierspay.app.ui

import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardActions
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.DatePicker
import androidx.compose.material3.DatePickerDialog
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.ExposedDropdownMenuAnchorType
import androidx.compose.material3.ExposedDropdownMenuBox
import androidx.compose.material3.ExposedDropdownMenuDefaults
import androidx.compose.material3.FilterChip
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.rememberDatePickerState
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalConfiguration
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.text.input.ImeAction
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import fr.tierspay.app.R
import fr.tierspay.app.scan.rememberQrScan
import fr.tierspay.core.Amount
import fr.tierspay.core.CoveragePreview
import fr.tierspay.core.DeductionKind
import fr.tierspay.core.FailureKind
import fr.tierspay.core.Money
import fr.tierspay.core.Provider
import fr.tierspay.core.Visit
import fr.tierspay.core.VisitCheck
import fr.tierspay.core.VisitField
import fr.tierspay.core.VisitFlowError
import fr.tierspay.core.VisitFlowState
import fr.tierspay.core.VisitPayment
import fr.tierspay.core.VisitStatus
import fr.tierspay.core.VisitStep
import fr.tierspay.shell.display
import fr.tierspay.shell.state.VisitFlowModel
import kotlinx.coroutines.delay
import java.math.BigDecimal
import java.text.NumberFormat
import java.time.Instant
import java.time.LocalDate
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import java.time.format.FormatStyle
import java.util.Locale

/**
 * At the doctor's desk: who the care is for, the provider (searched or scanned from the desk QR
 * code), the act and the amount charged, then who pays what. Draws the core's `VisitFlow`
 * state ([VisitFlowModel]); every step, figure, sentence, check and error placement is the
 * core's (`core/src/app/flows/visit.rs`). Only the locale's pick of the core's French or English
 * strings, and date and percent formatting, happen here.
 */
@Composable
fun VisitScreen(model: VisitFlowModel, onBack: () -> Unit) {
    val current by model.state.collectAsStateWithLifecycle()
    val locale = LocalConfiguration.current.locales[0]
    // Reads the data and lists the recent providers; the core ignores a second start.
    LaunchedEffect(model) { model.start() }
    // The figures' text and the explanations come from the core in the reader's language.
    LaunchedEffect(model, locale) { model.setLocale(locale) }
    var scanFailed by remember { mutableStateOf(false) }
    val scan = rememberQrScan(
        onText = {
            scanFailed = false
            model.onScanned(it)
        },
        onFailure = { scanFailed = true },
    )

    LazyColumn(
        Modifier.fillMaxWidth(),
        contentPadding = PaddingValues(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        val state = current
        item {
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                TextButton(onClick = onBack) { Text(stringResource(R.string.visit_back)) }
                // One step back within the visit; the core knows which step that is.
                if (state != null && state.step != VisitStep.LOADING && state.step != VisitStep.BENEFICIARY) {
                    TextButton(onClick = model::back, enabled = !state.busy) { Text(stringResource(R.string.visit_previous_step)) }
                }
            }
            Text(stringResource(R.string.visit_title), style = MaterialTheme.typography.headlineMedium)
        }
        if (state == null || (state.loading && state.beneficiaries.isEmpty())) {
            item { CircularProgressIndicator() }
            return@LazyColumn
        }
        if (state.needsSync) {
            item { NotSynced(state, onSync = model::sync) }
            return@LazyColumn
        }

        item { Beneficiaries(state, model) }
        item {
            Section(stringResource(R.string.visit_provider))
            val provider = state.provider
            if (provider != null) {
                ProviderCard(provider, onChange = model::changeProvider)
                state.error.on(VisitField.PROVIDER)?.let { Text(it, color = MaterialTheme.colorScheme.error) }
            } else {
                ProviderSearchField(state, model, onScan = {
                    scanFailed = false
                    scan()
                })
                state.error.on(VisitField.SCAN)?.let { Text(it, color = MaterialTheme.colorScheme.error) }
                if (scanFailed) Text(stringResource(R.string.visit_scan_unavailable), color = MaterialTheme.colorScheme.error)
                Filters(state, model)
            }
        }
        if (state.provider == null) {
            if (state.resultsOffline) {
                item { Text(stringResource(R.string.visit_offline_recent), style = MaterialTheme.typography.bodySmall) }
            }
            items(state.results, key = { it.id }) { p ->
                ListItem(
                    headlineContent = { Text(p.name) },
                    supportingContent = { Text(stringResource(R.string.visit_provider_line, p.specialty, p.city, p.sector.toInt())) },
                    modifier = Modifier.clickable(enabled = !state.selectingProvider) { model.chooseProvider(p.id) },
                )
            }
            return@LazyColumn
        }

        item { ActField(state, model) }
        if (state.act != null) {
            item { TextButton(onClick = model::changeAct) { Text(stringResource(R.string.visit_change)) } }
        }
        item { DateRow(state, locale, onChange = { model.onDateChange(it?.toString()) }) }
        item { AmountField(state, model) }
        item {
            Button(onClick = model::estimate, enabled = state.canPrice, modifier = Modifier.fillMaxWidth()) {
                if (state.pricing) {
                    CircularProgressIndicator(Modifier.size(20.dp), strokeWidth = 2.dp)
                } else {
                    Text(stringResource(R.string.visit_estimate))
                }
            }
        }
        state.error.on(VisitField.FORM)?.let { item { Text(it, color = MaterialTheme.colorScheme.error) } }
        state.preview?.let { preview ->
            item { Result(preview, state, locale, onSync = model::sync, onRecheck = model::recheck) }
            item { Payment(state.payment, state.error.on(VisitField.PAYMENT_METHOD), locale, model) }
            item {
                Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                    if (!state.payment.locked) {
                        TextButton(onClick = model::changeAmount) { Text(stringResource(R.string.visit_change_amount)) }
                    }
                    if (state.step != VisitStep.ARMED) {
                        TextButton(onClick = model::newVisit) { Text(stringResource(R.string.visit_new)) }
                    }
                }
            }
        }
    }
}

@Composable
private fun Section(title: String) {
    Text(title, style = MaterialTheme.typography.titleMedium, modifier = Modifier.padding(bottom = 4.dp))
}

@Composable
private fun NotSynced(state: VisitFlowState, onSync: () -> Unit) {
    Column(verticalArrangement = Arrangement.spacedBy(8.dp)) {
        state.error?.let { Text(it.message, color = MaterialTheme.colorScheme.error) }
        Button(onClick = onSync, enabled = !state.syncing) {
            if (state.syncing) {
                CircularProgressIndicator(Modifier.size(20.dp), strokeWidth = 2.dp)
            } else {
                Text(stringResource(R.string.visit_download))
            }
        }
    }
}

@Composable
private fun Beneficiaries(state: VisitFlowState, model: VisitFlowModel) {
    Section(stringResource(R.string.visit_who))
    Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        for (b in state.beneficiaries) {
            FilterChip(
                selected = b.id == state.beneficiary?.id,
                onClick = { model.chooseBeneficiary(b.id) },
                label = { Text(b.firstName) },
            )
        }
    }
    state.error.on(VisitField.BENEFICIARY)?.let { Text(it, color = MaterialTheme.colorScheme.error) }
}

@Composable
private fun ProviderSearchField(state: VisitFlowState, model: VisitFlowModel, onScan: () -> Unit) {
    // The core places a search failure on the search, a refused provider on the provider.
    val error = state.error.on(VisitField.SEARCH) ?: state.error.on(VisitField.PROVIDER)
    OutlinedTextField(
        value = state.query,
        onValueChange = model::onQueryChange,
        label = { Text(stringResource(R.string.visit_search)) },
        placeholder = { Text(stringResource(R.string.visit_search_hint)) },
        isError = error != null,
        supportingText = error?.let { { Text(it) } },
        trailingIcon = if (state.searching || state.selectingProvider) {
            { CircularProgressIndicator(Modifier.size(20.dp), strokeWidth = 2.dp) }
        } else {
            null
        },
        singleLine = true,
        keyboardOptions = KeyboardOptions(imeAction = ImeAction.Search),
        modifier = Modifier.fillMaxWidth(),
    )
    OutlinedButton(onClick = onScan, enabled = !state.selectingProvider, modifier = Modifier.fillMaxWidth()) {
        Text(stringResource(R.string.visit_scan))
    }
}

@Composable
private fun ProviderCard(provider: Provider, onChange: () -> Unit) {
    Card(Modifier.fillMaxWidth()) {
        Row(Modifier.padding(16.dp), verticalAlignment = Alignment.CenterVertically) {
            Column(Modifier.weight(1f)) {
                Text(provider.name, style = MaterialTheme.typography.titleMedium)
                Text(stringResource(R.string.visit_provider_line, provider.specialty, provider.city, provider.sector.toInt()))
            }
            TextButton(onClick = onChange) { Text(stringResource(R.string.visit_change)) }
        }
    }
}

/**
 * Specialty and city filters over the search: the core keeps them ([VisitFlowState.specialty],
 * [VisitFlowState.city]), searches again and treats a blank one as any.
 */
@Composable
private fun Filters(state: VisitFlowState, model: VisitFlowModel) {
    Row(horizontalArrangement = Arrangement.spacedBy(8.dp), verticalAlignment = Alignment.CenterVertically) {
        OutlinedTextField(
            value = state.specialty.orEmpty(),
            onValueChange = { model.filter(it, state.city) },
            label = { Text(stringResource(R.string.visit_filter_specialty)) },
            singleLine = true,
            modifier = Modifier.weight(1f),
        )
        OutlinedTextField(
            value = state.city.orEmpty(),
            onValueChange = { model.filter(state.specialty, it) },
            label = { Text(stringResource(R.string.visit_filter_city)) },
            singleLine = true,
            modifier = Modifier.weight(1f),
        )
    }
    if (state.specialty != null || state.city != null) {
        TextButton(onClick = { model.filter(null, null) }) { Text(stringResource(R.string.visit_filter_clear)) }
    }
}

@OptIn(ExperimentalMaterial3Api::class)
@Composable
private fun ActField(state: VisitFlowState, model: VisitFlowModel) {
    var expanded by remember { mutableStateOf(false) }
    val error = state.error.on(VisitField.ACT)
    ExposedDropdownMenuBox(expanded = expanded, onExpandedChange = { expanded = it }) {
        OutlinedTextField(
            value = state.act?.let { "${it.code} · ${it.label}" }.orEmpty(),
            onValueChange = {},
            readOnly = true,
            label = { Text(stringResource(R.string.visit_act)) },
            trailingIcon = { ExposedDropdownMenuDefaults.TrailingIcon(expanded) },
            isError = error != null,
            supportingText = error?.let { { Text(it) } },
            modifier = Modifier.menuAnchor(ExposedDropdownMenuAnchorType.PrimaryNotEditable).fillMaxWidth(),
        )
        ExposedDropdownMenu(expanded = expanded, onDismissRequest = { expanded = false }) {
            for (act in state.acts) {
                DropdownMenuItem(
                    text = { Text("${act.code} · ${act.label}") },
                    onClick = {
                        model.chooseAct(act.code)
                        expanded = false
                    },
                )
            }
        }
    }
}

/** The care date: today unless the member picks another day (a bill from last week). */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
private fun DateRow(state: VisitFlowState, locale: Locale, onChange: (LocalDate?) -> Unit) {
    var picking by rememberSaveable { mutableStateOf(false) }
    // The core keeps the care date as `YYYY-MM-DD`; null is today in France.
    val date = state.date?.let(LocalDate::parse)
    Row(verticalAlignment = Alignment.CenterVertically) {
        Text(
            if (date == null) {
                stringResource(R.string.visit_date_today)
            } else {
                stringResource(R.string.visit_date_on, date.format(DateTimeFormatter.ofLocalizedDate(FormatStyle.LONG).withLocale(locale)))
            },
            modifier = Modifier.weight(1f),
        )
        TextButton(onClick = { picking = true }) { Text(stringResource(R.string.visit_change)) }
    }
    state.error.on(VisitField.DATE)?.let { Text(it, color = MaterialTheme.colorScheme.error) }
    if (picking) {
        val picker = rememberDatePickerState(
            initialSelectedDateMillis = date?.atStartOfDay(ZoneOffset.UTC)?.toInstant()?.toEpochMilli(),
        )
        DatePickerDialog(
            onDismissRequest = { picking = false },
            confirmButton = {
                TextButton(onClick = {
                    picking = false
                    // The picker's millis are midnight UTC of the chosen day.
                    onChange(picker.selectedDateMillis?.let { Instant.ofEpochMilli(it).atZone(ZoneOffset.UTC).toLocalDate() })
                }) { Text(stringResource(R.string.visit_ok)) }
            },
            dismissButton = {
                TextButton(onClick = {
                    picking = false
                    onChange(null)
                }) { Text(stringResource(R.string.visit_date_today_button)) }
            },
        ) { DatePicker(picker) }
    }
}

@Composable
private fun AmountField(state: VisitFlowState, model: VisitFlowModel) {
    val error = state.error.on(VisitField.PRICE)
    OutlinedTextField(
        value = state.price,
        onValueChange = model::onPriceChange,
        label = { Text(stringResource(R.string.visit_amount)) },
        suffix = { Text("€") },
        isError = error != null,
        supportingText = error?.let { { Text(it) } },
        singleLine = true,
        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Decimal, imeAction = ImeAction.Done),
        keyboardActions = KeyboardActions(onDone = { model.estimate() }),
        modifier = Modifier.fillMaxWidth(),
    )
}

@Composable
private fun Result(preview: CoveragePreview, state: VisitFlowState, locale: Locale, onSync: () -> Unit, onRecheck: () -> Unit) {
    fun Amount.text() = display(locale)
    fun Money.text() = display
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
            Text(preview.actLabel, style = MaterialTheme.typography.titleMedium)
            Share(stringResource(R.string.visit_amo), preview.amo.text())
            Share(stringResource(R.string.visit_amc), preview.amc.text())
            Share(stringResource(R.string.visit_member), preview.member.text(), strong = true)
            HorizontalDivider()
            Text(
                stringResource(
                    R.string.visit_base,
                    preview.base.text(),
                    NumberFormat.getPercentInstance(locale).format(BigDecimal(preview.amoRate)),
                    preview.guarantee,
                ),
                style = MaterialTheme.typography.bodySmall,
            )
            for (d in preview.deductions) {
                Text(
                    stringResource(R.string.visit_deduction, stringResource(d.kind.label()), d.amount.text()),
                    style = MaterialTheme.typography.bodySmall,
                )
            }
            // Already in the reader's language: the flow asked the core for it.
            for (sentence in state.explanations) {
                Text("• $sentence", style = MaterialTheme.typography.bodyMedium)
            }
            HorizontalDivider()
            when (val check = state.check) {
                null -> Unit
                VisitCheck.Checking -> Row(
                    verticalAlignment = Alignment.CenterVertically,
                    horizontalArrangement = Arrangement.spacedBy(8.dp),
                ) {
                    CircularProgressIndicator(Modifier.size(16.dp), strokeWidth = 2.dp)
                    Text(stringResource(R.string.visit_checking))
                }
                is VisitCheck.Confirmed -> Text(stringResource(R.string.visit_confirmed), color = MaterialTheme.colorScheme.primary)
                is VisitCheck.Changed -> {
                    Text(
                        stringResource(R.string.visit_changed, check.check.amo.text(), check.check.amc.text(), check.check.member.text()),
                        color = MaterialTheme.colorScheme.error,
                    )
                    Button(onClick = onSync, enabled = !state.syncing) { Text(stringResource(R.string.visit_update)) }
                }
                is VisitCheck.Unavailable -> {
                    Text(
                        if (check.kind == FailureKind.NETWORK) {
                            stringResource(R.string.visit_unchecked_offline)
                        } else {
                            stringResource(R.string.visit_unchecked, check.message)
                        },
                    )
                    TextButton(onClick = onRecheck) { Text(stringResource(R.string.visit_retry)) }
                }
            }
        }
    }
}

/**
 * Paying with the card once the figures are shown: "Pay with my card" (or the server's figures
 * after a stale answer), then the armed visit with its countdown and cancel, then the receipt.
 * Every flag, status, amount's text and sentence is the core's.
 */
@Composable
private fun Payment(payment: VisitPayment, cardError: String?, locale: Locale, model: VisitFlowModel) {
    fun Amount.text() = display(locale)
    val visit = payment.visit
    Card(Modifier.fillMaxWidth()) {
        Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(6.dp)) {
            payment.stale?.let { stale ->
                Text(
                    stringResource(R.string.visit_changed, stale.amo.text(), stale.amc.text(), stale.member.text()),
                    color = MaterialTheme.colorScheme.error,
                )
            }
            if (visit == null) {
                Button(onClick = model::authorize, enabled = payment.canAuthorize, modifier = Modifier.fillMaxWidth()) {
                    if (payment.authorizing) {
                        CircularProgressIndicator(Modifier.size(20.dp), strokeWidth = 2.dp)
                    } else {
                        Text(stringResource(if (payment.stale == null) R.string.visit_pay else R.string.visit_pay_accept))
                    }
                }
                // The member's own card missing or declined: the core placed the message here.
                cardError?.let { Text(it, color = MaterialTheme.colorScheme.error) }
            } else {
                VisitDrawn(visit, payment, locale, model)
            }
        }
    }
}

/** The visit the card was armed for: its countdown and cancel while armed, its receipt once paid. */
@Composable
private fun VisitDrawn(visit: Visit, payment: VisitPayment, locale: Locale, model: VisitFlowModel) {
    fun Amount.text() = display(locale)
    Column(verticalArrangement = Arrangement.spacedBy(6.dp)) {
        when (visit.status) {
            VisitStatus.ARMED, VisitStatus.AUTHORIZED -> {
                Text(stringResource(R.string.visit_armed, visit.providerName), style = MaterialTheme.typography.titleMedium)
                Countdown(visit.expiresAt, onEnd = model::refresh)
                if (payment.canCancel) {
                    OutlinedButton(onClick = model::cancel, enabled = !payment.canceling) {
                        Text(stringResource(R.string.visit_cancel))
                    }
                }
            }
            VisitStatus.PAID -> {
                visit.summary?.let { Text(if (locale.language == "fr") it.fr else it.en, color = MaterialTheme.colorScheme.primary) }
                visit.receipt?.let { r ->
                    Share(stringResource(R.string.visit_paid_provider), r.providerPaid.text())
                    Share(stringResource(R.string.visit_amo), r.amo.text())
                    Share(stringResource(R.string.visit_amc), r.amc.text())
                    Share(stringResource(R.string.visit_member), r.memberCaptured.text(), strong = true)
                }
            }
            VisitStatus.CANCELED, VisitStatus.EXPIRED, VisitStatus.REVERSED -> Text(stringResource(R.string.visit_over))
        }
    }
}

/** Minutes and seconds until [expiresAt] (server time, Unix seconds); at zero the core reads the visit again. */
@Composable
private fun Countdown(expiresAt: Long, onEnd: () -> Unit) {
    var left by remember(expiresAt) { mutableStateOf(expiresAt - Instant.now().epochSecond) }
    LaunchedEffect(expiresAt) {
        while (left > 0) {
            delay(1_000)
            left = expiresAt - Instant.now().epochSecond
        }
        onEnd()
    }
    val shown = left.coerceAtLeast(0)
    Text(stringResource(R.string.visit_armed_left, shown / 60, shown % 60), style = MaterialTheme.typography.headlineSmall)
}

@Composable
private fun Share(label: String, amount: String, strong: Boolean = false) {
    val weight = if (strong) FontWeight.Bold else FontWeight.Normal
    Row(Modifier.fillMaxWidth()) {
        Text(label, Modifier.weight(1f), fontWeight = weight)
        Text(amount, fontWeight = weight)
    }
}

private fun DeductionKind.label(): Int = when (this) {
    DeductionKind.PARTICIPATION_FORFAITAIRE -> R.string.deduction_participation_forfaitaire
    DeductionKind.FRANCHISE -> R.string.deduction_franchise
    DeductionKind.OUT_OF_PARCOURS -> R.string.deduction_out_of_parcours
    DeductionKind.CEILING -> R.string.deduction_ceiling
    DeductionKind.OTHER -> R.string.deduction_other
}

private fun VisitFlowError?.on(field: VisitField): String? = this?.takeIf { it.field == field }?.message
