package fr.tierspay.app

import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.state.AppModel

/** Hosts the shell's view-state for the activity's lifetime (configuration changes included). */
class MainViewModel(client: TiersPayClient) : ViewModel() {
    val app = AppModel(client, viewModelScope).also { it.start() }
}
