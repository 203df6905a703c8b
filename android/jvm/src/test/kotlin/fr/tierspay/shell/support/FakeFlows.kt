package fr.tierspay.shell.support

import fr.tierspay.core.Availability
import fr.tierspay.core.CardInfo
import fr.tierspay.core.CardStatus
import fr.tierspay.core.EnrollmentFlowInterface
import fr.tierspay.core.EnrollmentFlowState
import fr.tierspay.core.EnrollmentListener
import fr.tierspay.core.EnrollmentStep
import fr.tierspay.core.Explanation
import fr.tierspay.core.Language
import fr.tierspay.core.TapAndPayToken
import fr.tierspay.core.Visit
import fr.tierspay.core.VisitFlowInterface
import fr.tierspay.core.VisitFlowState
import fr.tierspay.core.VisitListener
import fr.tierspay.core.VisitPayment
import fr.tierspay.core.VisitReceipt
import fr.tierspay.core.VisitStatus
import fr.tierspay.core.VisitStep
import fr.tierspay.core.WalletFlowInterface
import fr.tierspay.core.WalletFlowState
import fr.tierspay.core.WalletKind
import fr.tierspay.core.WalletListener
import fr.tierspay.core.WalletRequest
import fr.tierspay.core.WalletResult
import fr.tierspay.core.WalletStep

/**
 * The core's visit flow as [fr.tierspay.shell.state.AppModel]'s tests need it: intents recorded
 * in [calls] (`visit.start(K7M2QX)`, …), states sent by the test with [emit]. The machine itself
 * is tested in Rust (`core/src/app/flows/visit.rs`) and through the real core in CoverageClientTest.
 */
class FakeVisitFlow(private val listener: VisitListener, private val calls: MutableList<String>) :
    VisitFlowInterface,
    AutoCloseable {
    var state: VisitFlowState = visitState()
        private set
    var closed = false
        private set

    fun emit(state: VisitFlowState) {
        this.state = state
        listener.onState(state)
    }

    private fun call(name: String) {
        calls += "visit.$name"
    }

    override fun back() = call("back()")
    override fun changeAct() = call("changeAct()")
    override fun changeAmount() = call("changeAmount()")
    override fun changeBeneficiary() = call("changeBeneficiary()")
    override fun changeProvider() = call("changeProvider()")
    override fun chooseAct(code: String) = call("chooseAct($code)")
    override fun chooseBeneficiary(beneficiaryId: String) = call("chooseBeneficiary($beneficiaryId)")
    override fun dismissError() = call("dismissError()")
    override fun editDate(date: String?) = call("editDate($date)")
    override fun editPrice(price: String) = call("editPrice($price)")
    override fun editQuery(query: String) = call("editQuery($query)")
    override fun filter(specialty: String?, city: String?) = call("filter($specialty,$city)")
    override fun newVisit() = call("newVisit()")
    override fun price() = call("price()")
    override fun recheck() = call("recheck()")
    override fun scanned(text: String) = call("scanned($text)")
    override fun selectProvider(idOrCode: String) = call("selectProvider($idOrCode)")
    override fun start(providerCode: String?) = call("start($providerCode)")
    override fun state(): VisitFlowState = state
    override fun sync() = call("sync()")
    override fun authorize() = call("authorize()")
    override fun cancel() = call("cancel()")
    override fun refresh() = call("refresh()")

    /** The language the model asked for (kept apart from [calls]: every model sets it first). */
    var language: Language? = null
        private set

    override fun setLanguage(language: Language) {
        this.language = language
    }

    override fun close() {
        closed = true
    }
}

/** The core's enrollment flow for AppModel's tests, as [FakeVisitFlow]. */
class FakeEnrollmentFlow(val contractNumber: String?, private val listener: EnrollmentListener, private val calls: MutableList<String>) :
    EnrollmentFlowInterface,
    AutoCloseable {
    var state: EnrollmentFlowState = enrollmentState(contractNumber = contractNumber.orEmpty())
        private set

    fun emit(state: EnrollmentFlowState) {
        this.state = state
        listener.onState(state)
    }

    private fun call(name: String) {
        calls += "enrollment.$name"
    }

    override fun back() = call("back()")
    override fun editBirthDate(value: String) = call("editBirthDate($value)")
    override fun editCode(value: String) = call("editCode($value)")
    override fun editContractNumber(value: String) = call("editContractNumber($value)")
    override fun prefill(contractNumber: String) = call("prefill($contractNumber)")
    override fun resend() = call("resend()")
    override fun reset(contractNumber: String?) = call("reset($contractNumber)")
    override fun state(): EnrollmentFlowState = state
    override fun submit() = call("submit()")

    override fun close() = Unit
}

fun visitState(revision: Long = 0, step: VisitStep = VisitStep.LOADING) = VisitFlowState(
    revision = revision.toULong(), step = step, busy = false, canPrice = false, loading = false,
    needsSync = false, syncing = false, beneficiaries = emptyList(), acts = emptyList(),
    beneficiary = null, query = "", specialty = null, city = null, results = emptyList(),
    resultsOffline = false, searching = false, selectingProvider = false, provider = null,
    act = null, price = "", date = null, pricing = false, preview = null, explanations = emptyList(), check = null,
    error = null,
    payment = VisitPayment(
        canAuthorize = false,
        authorizing = false,
        locked = false,
        visit = null,
        stale = null,
        canCancel = false,
        canceling = false,
        refreshing = false,
    ),
)

fun enrollmentState(revision: Long = 0, step: EnrollmentStep = EnrollmentStep.DETAILS, contractNumber: String = "") = EnrollmentFlowState(
    revision = revision.toULong(), step = step, canSubmit = false, busy = false,
    contractNumber = contractNumber, birthDate = "", code = "", challenge = null, profile = null, error = null,
)

/**
 * The core's wallet flow for [fr.tierspay.shell.state.CardWalletModel]'s tests: intents and the
 * answers the model hands back recorded in [calls] (`wallet.start()`,
 * `wallet.walletFinished(1,ADDED)`, …), states sent by the test with [emit], platform calls asked
 * with [ask]. The machine itself is tested in Rust (`core/src/app/flows/wallet.rs`,
 * `tests/tests/wallet_flow.rs`) and through the real core in CardClientTest.
 */
class FakeWalletFlow(val kind: WalletKind, private val listener: WalletListener, private val calls: MutableList<String>) :
    WalletFlowInterface,
    AutoCloseable {
    var state: WalletFlowState = walletState(wallet = kind)
        private set
    var closed = false
        private set

    fun emit(state: WalletFlowState) {
        this.state = state
        listener.onState(state)
    }

    /** The core asks the shell for a platform call. */
    fun ask(request: WalletRequest) = listener.onRequest(request)

    @Synchronized
    private fun call(name: String) {
        calls += "wallet.$name"
    }

    override fun add() = call("add()")
    override fun awaitRestored() = call("awaitRestored()")
    override fun cancel() = call("cancel()")
    override fun dismissError() = call("dismissError()")
    override fun googleWalletRead(request: ULong, walletAccountId: String, stableHardwareId: String, tokens: List<TapAndPayToken>) =
        call("googleWalletRead($request,$walletAccountId,$stableHardwareId,${tokens.size})")
    override fun passRequested(request: ULong, certificates: List<ByteArray>, nonce: ByteArray, nonceSignature: ByteArray) =
        call("passRequested($request)")
    override fun refresh() = call("refresh()")
    override fun reload() = call("reload()")

    /** As the core does: nothing read any more, a fresh state sent. */
    override fun reset() {
        call("reset()")
        emit(walletState(revision = state.revision.toLong() + 1, wallet = kind))
    }
    override fun setFrozen(frozen: Boolean) = call("setFrozen($frozen)")
    override fun start() = call("start()")
    override fun state(): WalletFlowState = state
    override fun walletFailed(request: ULong, message: String) = call("walletFailed($request,$message)")
    override fun walletFinished(request: ULong, result: WalletResult) = call("walletFinished($request,$result)")

    override fun close() {
        closed = true
    }
}

/** The card as the core sends it. */
fun coreCard(frozen: Boolean = false) = CardInfo(
    id = "ic_1", last4 = "4242", expiry = "12/29", brand = "visa", status = if (frozen) CardStatus.INACTIVE else CardStatus.ACTIVE,
    frozen = frozen, applePayEligible = true, googlePayEligible = true,
    controls = listOf(Explanation("Uniquement chez : médecins, pharmacies.", "Only at: doctors, pharmacies.")),
    tokens = emptyList(),
)

fun walletState(
    revision: Long = 0,
    wallet: WalletKind = WalletKind.GOOGLE_PAY,
    card: CardInfo? = null,
    availability: Availability = if (card == null) Availability.NoCard else Availability.Ready,
    step: WalletStep = WalletStep.IDLE,
) = WalletFlowState(
    revision = revision.toULong(), wallet = wallet, loading = card == null, card = card, refreshing = false, freezing = false,
    availability = availability, showsAdd = availability == Availability.Ready,
    canAdd =
    availability == Availability.Ready && step == WalletStep.IDLE,
    busy = step != WalletStep.IDLE, step = step, outcome = null, error = null,
)

/** An amount as the core sends it (its text written here as the core would). */
fun coreEuros(cents: Long) = fr.tierspay.core.Amount(
    minorUnits = cents,
    currency = "EUR",
    displayFr = "%d,%02d\u00a0€".format(cents / 100, cents % 100),
    displayEn = "€%d.%02d".format(cents / 100, cents % 100),
)

/** A visit as the core sends it: armed until [expiresAt], or paid with its receipt. */
fun coreVisit(status: VisitStatus = VisitStatus.ARMED, created: Long = 1_780_000_000, expiresAt: Long = created + 1800) = Visit(
    id = "vis_1", status = status, active = status == VisitStatus.ARMED || status == VisitStatus.AUTHORIZED,
    beneficiaryId = "ben_1", providerId = "prv_gp", providerName = "Dr Martin", actCode = "G", date = "2026-03-02",
    price = coreEuros(3000), amo = coreEuros(1900), amc = coreEuros(900), member = coreEuros(200), previewId = "pv_1",
    created = created, expiresAt = expiresAt, lastDecline = null,
    summary = if (status == VisitStatus.PAID) {
        Explanation("30,00\u00a0€ payés à Dr Martin", "Paid €30.00 to Dr Martin: your insurers €28.00, you €2.00")
    } else {
        null
    },
    receipt = if (status == VisitStatus.PAID) {
        VisitReceipt(coreEuros(3000), coreEuros(1900), coreEuros(900), coreEuros(200), coreEuros(0), expiresAt - 60)
    } else {
        null
    },
)
