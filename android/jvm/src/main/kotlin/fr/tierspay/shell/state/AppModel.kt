package fr.tierspay.shell.state

import fr.tierspay.core.EnrollmentStep
import fr.tierspay.shell.Destination
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.platform.TapAndPayGateway
import fr.tierspay.shell.platform.UnavailableTapAndPay
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** The signed-in screen shown. */
enum class Screen { HOME, VISIT, CARD }

/**
 * The app's view-state root: the session (which half of the app to show), the enrollment form,
 * the visit (doctor's desk) screen, the card, and where links and push messages lead. The Android
 * app holds one in a ViewModel, so that none of it (a Google Pay request under way included) is
 * lost when the activity is recreated. The enrollment, visit and card screens are the core's
 * flows ([EnrollmentFlowModel], [VisitFlowModel], [CardWalletModel]); this only opens, routes and
 * closes them.
 */
class AppModel(private val client: TiersPayClient, private val scope: CoroutineScope, tapAndPay: TapAndPayGateway = UnavailableTapAndPay) :
    AutoCloseable {
    val session = SessionModel(client, scope)
    val enrollment = EnrollmentFlowModel(client)

    private val _visit = MutableStateFlow(VisitFlowModel(client))

    /** The visit screen's flow: a fresh one after a sign-out, so nothing of the last member remains. */
    val visit: StateFlow<VisitFlowModel> = _visit.asStateFlow()

    val card = CardWalletModel(client, tapAndPay, scope)

    private val _arrears = MutableStateFlow(ArrearsModel(client))

    /** The arrears screens' flow (invoices, opened payment links): a fresh one after a sign-out. */
    val arrears: StateFlow<ArrearsModel> = _arrears.asStateFlow()

    /** A payment link not handed to the core yet: the session was not there (a cold start). */
    private var pendingPaymentLink: String? = null

    private val _thread = MutableStateFlow<String?>(null)

    /** The invoice whose message thread a push asked to open (null: none); [closeThread] clears it. */
    val thread: StateFlow<String?> = _thread.asStateFlow()

    /** The thread screen was closed. */
    fun closeThread() {
        _thread.value = null
    }

    private val _screen = MutableStateFlow(Screen.HOME)

    /** Which signed-in screen to show (signed out, the enrollment screen is shown whatever this says). */
    val screen: StateFlow<Screen> = _screen.asStateFlow()

    /** A provider code from a `/p/CODE` link not opened yet: the member was not signed in. */
    private var pendingProvider: String? = null

    /** A `tierspay://card` link or push (the card was frozen, …) not opened yet: not signed in yet. */
    private var pendingCard = false
    private var started = false

    /** Loads the session and follows it. Idempotent. */
    fun start() {
        if (started) return
        started = true
        session.start()
        scope.launch {
            session.state.collect { state ->
                when (state) {
                    is SessionState.SignedOut -> {
                        // After a sign-out the form must start over, not show the last enrollment,
                        // and nothing of the last member's visit or card may remain.
                        if (enrollment.state.value?.step == EnrollmentStep.ENROLLED) enrollment.reset()
                        newVisit()
                        card.clear()
                        pendingCard = false
                        // Nothing of the last member's invoices or links may remain.
                        pendingPaymentLink = null
                        _arrears.value.close()
                        _arrears.value = ArrearsModel(client)
                        _screen.value = Screen.HOME
                    }
                    is SessionState.SignedIn -> {
                        openPendingProvider()
                        openPendingCard()
                        openPendingPaymentLink()
                    }
                    SessionState.Loading -> Unit
                }
            }
        }
    }

    /** The visit screen: beneficiaries, acts and recently used providers are read on first use. */
    fun openVisit() {
        if (session.state.value !is SessionState.SignedIn) return
        _visit.value.start()
        _screen.value = Screen.VISIT
    }

    /** Back home (the visit keeps what was typed). */
    fun closeVisit() {
        _screen.value = Screen.HOME
    }

    /**
     * The card screen: the card is read (offline first) on first use. Before the session is
     * there (a cold start from a push), it opens once signed in.
     */
    fun openCard() {
        if (session.state.value !is SessionState.SignedIn) {
            pendingCard = true
            return
        }
        pendingCard = false
        card.start()
        _screen.value = Screen.CARD
    }

    /** Back home from the card. */
    fun closeCard() {
        _screen.value = Screen.HOME
    }

    /** An App Link or `tierspay://` URL. Returns false for a link the core refused. */
    fun openLink(url: String): Boolean = open { client.routeForLink(url) }

    /** The data of a push message (or of the notification the member tapped). */
    fun openPush(data: Map<String, String>): Boolean = open { client.routeForPush(data) }

    private inline fun open(route: () -> Destination): Boolean {
        val destination = try {
            route()
        } catch (e: TiersPayError) {
            return false
        }
        when (destination) {
            // Signed out, enrollment is home.
            Destination.Home -> _screen.value = Screen.HOME
            // A desk QR code read by the camera app: the visit at that provider. Signed out (or
            // still loading at a cold start), it opens once the session is there.
            is Destination.Provider -> {
                pendingProvider = destination.code
                openPendingProvider()
            }
            is Destination.Enroll -> {
                val contract = destination.contractNumber
                if (contract != null && session.state.value !is SessionState.SignedIn) {
                    enrollment.prefill(contract)
                }
            }
            // A push about the card (frozen, active again): its screen, once signed in.
            Destination.Card -> openCard()
            // An email, SMS or push link: the core verifies it once the member is known.
            is Destination.PaymentLink -> {
                pendingPaymentLink = destination.url
                openPendingPaymentLink()
            }
            // Support answered on an invoice: its thread, which the screen opens as a ThreadModel.
            is Destination.InvoiceThread -> _thread.value = destination.invoiceId
        }
        return true
    }

    private fun openPendingPaymentLink() {
        val url = pendingPaymentLink ?: return
        if (session.state.value !is SessionState.SignedIn) return
        pendingPaymentLink = null
        _arrears.value.openLink(url)
    }

    private fun openPendingCard() {
        if (pendingCard) openCard()
    }

    private fun openPendingProvider() {
        val code = pendingProvider ?: return
        if (session.state.value !is SessionState.SignedIn) return
        pendingProvider = null
        openVisit()
        _visit.value.openProvider(code)
    }

    private fun newVisit() {
        val old = _visit.value
        _visit.value = VisitFlowModel(client)
        old.close()
    }

    /** Releases the core's flows (the ViewModel is cleared). */
    override fun close() {
        _visit.value.close()
        _arrears.value.close()
        enrollment.close()
        card.close()
    }
}
