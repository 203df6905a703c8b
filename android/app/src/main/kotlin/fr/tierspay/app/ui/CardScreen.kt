package fr.tierspay.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalConfiguration
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import fr.tierspay.core.Availability
import fr.tierspay.core.WalletOutcome
import fr.tierspay.shell.state.CardWalletModel
import fr.tierspay.shell.state.controls

/**
 * The virtual card: last digits, frozen switch, where it works, wallet tokens, and "Add to
 * Google Pay" when this build has TapAndPay. Draws the core's wallet flow ([CardWalletModel],
 * `core/src/app/flows/wallet.rs`): whether the button shows (not for a frozen card) and is
 * enabled, what the last attempt ended with, the error. Only the locale's pick of the core's
 * French or English is made here.
 */
@Composable
fun CardScreen(model: CardWalletModel, googlePayAvailable: Boolean, onBack: () -> Unit) {
    LaunchedEffect(model) { model.start() }
    val state by model.state.collectAsStateWithLifecycle()
    val locale = LocalConfiguration.current.locales[0]
    Column(Modifier.fillMaxWidth().padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        TextButton(onClick = onBack) { Text("←") }
        val s = state
        val card = s?.card
        if (s == null || card == null) {
            Text(if (s == null || s.loading) "…" else "No card yet.", style = MaterialTheme.typography.bodyLarge)
            return@Column
        }
        Card(Modifier.fillMaxWidth()) {
            Column(Modifier.padding(16.dp)) {
                Text("${card.brand.uppercase()} •••• ${card.last4}", style = MaterialTheme.typography.headlineSmall)
                Text(card.expiry, style = MaterialTheme.typography.bodyMedium)
            }
        }
        Row(verticalAlignment = Alignment.CenterVertically) {
            Text("Frozen", Modifier.weight(1f))
            Switch(checked = card.frozen, enabled = !s.freezing, onCheckedChange = model::setFrozen)
        }
        s.controls(locale).forEach { Text(it, style = MaterialTheme.typography.bodyMedium) }
        card.tokens.forEach { token ->
            Text("${token.wallet.name.lowercase().replace('_', ' ')} •••• ${token.last4}: ${token.status.name.lowercase()}")
        }
        if (googlePayAvailable) {
            if (s.showsAdd) {
                Button(onClick = model::addToGooglePay, enabled = s.canAdd) {
                    Text(if (s.busy) "…" else "Add to Google Pay")
                }
            } else if (s.availability == Availability.Inactive) {
                Text("Unfreeze the card to add it to Google Pay.", style = MaterialTheme.typography.bodyMedium)
            }
            s.outcome?.let { Text(it.label(), style = MaterialTheme.typography.bodyMedium) }
        }
        s.error?.let { error ->
            Text(error.message, color = MaterialTheme.colorScheme.error)
            TextButton(onClick = model::dismissError) { Text("OK") }
        }
    }
}

private fun WalletOutcome.label(): String = when (this) {
    WalletOutcome.ADDED -> "Added to Google Pay."
    WalletOutcome.ALREADY_ADDED -> "Already in Google Pay on this phone."
    WalletOutcome.IN_PROGRESS -> "Google Pay is still setting up the card. Look again later."
    WalletOutcome.SUSPENDED -> "Paused in Google Pay: unfreeze the card."
    WalletOutcome.CANCELED -> "Not added."
}
