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
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import fr.tierspay.shell.state.CardWalletModel
import fr.tierspay.shell.state.GooglePayStatus

/**
 * The virtual card: last digits, frozen switch, where it works, wallet tokens, and "Add to
 * Google Pay" when this build has TapAndPay. Draws [CardWalletModel]'s state; decides nothing.
 */
@Composable
fun CardScreen(model: CardWalletModel, googlePayAvailable: Boolean, onBack: () -> Unit) {
    LaunchedEffect(model) { model.start() }
    val state by model.state.collectAsStateWithLifecycle()
    Column(Modifier.fillMaxWidth().padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        TextButton(onClick = onBack) { Text("←") }
        val card = state.card
        if (card == null) {
            Text(if (state.loading) "…" else "No card yet.", style = MaterialTheme.typography.bodyLarge)
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
            Switch(checked = state.frozen, enabled = !state.freezing, onCheckedChange = model::setFrozen)
        }
        state.controls.forEach { Text(it, style = MaterialTheme.typography.bodyMedium) }
        card.tokens.forEach { token ->
            Text("${token.wallet.name.lowercase().replace('_', ' ')} •••• ${token.last4}: ${token.status.name.lowercase()}")
        }
        if (googlePayAvailable) {
            Button(onClick = model::addToGooglePay, enabled = state.canAddToGooglePay) {
                Text(if (state.googlePay == GooglePayStatus.WORKING) "…" else "Add to Google Pay")
            }
        }
        state.error?.let { error ->
            Text(error.message, color = MaterialTheme.colorScheme.error)
            TextButton(onClick = model::dismissError) { Text("OK") }
        }
    }
}
