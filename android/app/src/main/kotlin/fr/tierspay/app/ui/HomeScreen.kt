package fr.tierspay.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.PaddingValues
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.tooling.preview.Preview
import androidx.compose.ui.unit.dp
import fr.tierspay.app.R
import fr.tierspay.shell.Beneficiary
import fr.tierspay.shell.Contract
import fr.tierspay.shell.ContractStatus
import fr.tierspay.shell.Member
import fr.tierspay.shell.MemberProfile
import fr.tierspay.shell.Relationship
import fr.tierspay.shell.state.SessionState
import java.time.Instant
import java.time.LocalDate
import java.time.format.DateTimeFormatter
import java.time.format.FormatStyle

@Composable
fun HomeScreen(state: SessionState.SignedIn, onRefresh: () -> Unit, onSignOut: () -> Unit, onVisit: () -> Unit, onCard: () -> Unit = {}) {
    val profile = state.profile
    LazyColumn(
        Modifier.fillMaxWidth(),
        contentPadding = PaddingValues(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        item {
            Text(profile.member.displayName, style = MaterialTheme.typography.headlineMedium)
            Text("${profile.member.phoneMasked} · ${profile.member.emailMasked}", style = MaterialTheme.typography.bodyMedium)
        }
        item {
            Card(Modifier.fillMaxWidth()) {
                Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
                    Text(stringResource(R.string.home_contract), style = MaterialTheme.typography.titleMedium)
                    Text(stringResource(R.string.home_contract_line, profile.contract.insurerName, profile.contract.productName))
                    Text(stringResource(R.string.home_contract_number, profile.contract.number, profile.contract.startDate.display()))
                    Text(stringResource(profile.contract.status.label()), color = MaterialTheme.colorScheme.primary)
                }
            }
        }
        item {
            Button(onClick = onVisit, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.home_visit)) }
            Button(onClick = onCard, modifier = Modifier.fillMaxWidth()) { Text(stringResource(R.string.home_card)) }
        }
        item { Text(stringResource(R.string.home_beneficiaries), style = MaterialTheme.typography.titleMedium) }
        items(profile.beneficiaries, key = { it.id }) { b ->
            ListItem(
                headlineContent = { Text("${b.firstName} ${b.lastName}") },
                supportingContent = { Text(b.birthDate.display()) },
                trailingContent = { Text(stringResource(b.relationship.label())) },
            )
        }
        state.error?.let { item { Text(it, color = MaterialTheme.colorScheme.error) } }
        item {
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                TextButton(onClick = onRefresh, enabled = !state.refreshing && !state.signingOut) {
                    Text(stringResource(R.string.home_refresh))
                }
                OutlinedButton(onClick = onSignOut, enabled = !state.signingOut) {
                    Text(stringResource(R.string.home_sign_out))
                }
            }
        }
    }
}

private val dateFormat = DateTimeFormatter.ofLocalizedDate(FormatStyle.MEDIUM)

private fun LocalDate.display(): String = format(dateFormat)

private fun ContractStatus.label(): Int = when (this) {
    ContractStatus.ACTIVE -> R.string.contract_status_active
    ContractStatus.SUSPENDED -> R.string.contract_status_suspended
    ContractStatus.TERMINATED -> R.string.contract_status_terminated
    ContractStatus.UNKNOWN -> R.string.contract_status_unknown
}

private fun Relationship.label(): Int = when (this) {
    Relationship.HOLDER -> R.string.relationship_holder
    Relationship.SPOUSE -> R.string.relationship_spouse
    Relationship.CHILD -> R.string.relationship_child
    Relationship.OTHER -> R.string.relationship_other
}

@Preview(showBackground = true)
@Composable
private fun HomeScreenPreview() = TiersPayTheme {
    HomeScreen(
        SessionState.SignedIn(
            MemberProfile(
                deviceId = "dev_preview",
                enrolledAt = Instant.EPOCH,
                member = Member("mem_1", "Camille", "Martin", "+33 6 •• •• •• 78", "c•••@example.fr"),
                contract = Contract(
                    "ctr_1",
                    "TP1000001",
                    "Mutuelle Exemple",
                    "Santé Plus",
                    LocalDate.of(2024, 1, 1),
                    ContractStatus.ACTIVE,
                ),
                beneficiaries = listOf(
                    Beneficiary("b1", "Camille", "Martin", LocalDate.of(1985, 4, 12), Relationship.HOLDER),
                    Beneficiary("b2", "Léa", "Martin", LocalDate.of(2015, 9, 3), Relationship.CHILD),
                ),
            ),
        ),
        onRefresh = {},
        onSignOut = {},
        onVisit = {},
    )
}
