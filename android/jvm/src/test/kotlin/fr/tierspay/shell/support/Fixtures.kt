package fr.tierspay.shell.support

import fr.tierspay.core.ArrearsFlowInterface
import fr.tierspay.core.ArrearsListener
import fr.tierspay.core.CurrencyCode
import fr.tierspay.core.EnrollmentFlowInterface
import fr.tierspay.core.EnrollmentListener
import fr.tierspay.core.ThreadFlowInterface
import fr.tierspay.core.ThreadListener
import fr.tierspay.core.VisitFlowInterface
import fr.tierspay.core.VisitListener
import fr.tierspay.core.WalletFlowInterface
import fr.tierspay.core.WalletKind
import fr.tierspay.core.WalletListener
import fr.tierspay.shell.Act
import fr.tierspay.shell.Amount
import fr.tierspay.shell.Beneficiary
import fr.tierspay.shell.CardDetails
import fr.tierspay.shell.CardInfo
import fr.tierspay.shell.CareCategory
import fr.tierspay.shell.CodeChallenge
import fr.tierspay.shell.Contract
import fr.tierspay.shell.ContractStatus
import fr.tierspay.shell.CoveragePreview
import fr.tierspay.shell.CoveredBeneficiary
import fr.tierspay.shell.Deduction
import fr.tierspay.shell.DeductionKind
import fr.tierspay.shell.Destination
import fr.tierspay.shell.GooglePayAction
import fr.tierspay.shell.Member
import fr.tierspay.shell.MemberCard
import fr.tierspay.shell.MemberProfile
import fr.tierspay.shell.Money
import fr.tierspay.shell.PreviewCheck
import fr.tierspay.shell.Provider
import fr.tierspay.shell.ProviderSearch
import fr.tierspay.shell.PushService
import fr.tierspay.shell.Relationship
import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.SyncSummary
import fr.tierspay.shell.TapAndPayToken
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.Visit
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.fail
import java.math.BigDecimal
import java.time.Instant
import java.time.LocalDate
import java.util.Locale

/** Euros as the core would send them (`eur("30.00")`), display strings included. */
fun eur(text: String): Amount {
    val euros = BigDecimal(text).setScale(2)
    val cents = euros.movePointRight(2).longValueExact()
    return Amount(cents, "EUR", euros.toPlainString().replace('.', ',') + " €", "€" + euros.toPlainString())
}

/** A preview's euros as the core would send them to an English reader (`money("30.00")`). */
fun money(text: String): Money {
    val euros = BigDecimal(text).setScale(2)
    return Money(euros.movePointRight(2).longValueExact(), CurrencyCode.EUR, "€" + euros.toPlainString())
}

/** The same euros as an [Amount] (what a server's check answers with). */
private val Money.amount: Amount get() = eur(java.math.BigDecimal.valueOf(minorUnits, 2).toPlainString())

/** Runs [block] and returns the [TiersPayError] of type [E] it must throw. */
suspend inline fun <reified E : TiersPayError> expectError(block: suspend () -> Unit): E {
    try {
        block()
    } catch (e: TiersPayError) {
        return assertInstanceOf(E::class.java, e)
    }
    fail<Unit>("expected ${E::class.simpleName}, nothing was thrown")
    throw IllegalStateException("unreachable")
}

fun sampleChallenge(id: String = "enr_1") = CodeChallenge(
    enrollmentId = id,
    phoneMasked = "+33 6 •• •• •• 78",
    codeLength = 6,
    expiresAt = Instant.ofEpochSecond(1_900_000_000),
)

fun sampleProfile(firstName: String = "Camille") = MemberProfile(
    deviceId = "dev_1",
    enrolledAt = Instant.ofEpochSecond(1_800_000_000),
    member = Member("mem_1", firstName, "Martin", "+33 6 •• •• •• 78", "c•••@example.fr"),
    contract = Contract("ctr_1", "TP1000001", "Mutuelle Exemple", "Santé Plus", LocalDate.of(2024, 1, 1), ContractStatus.ACTIVE),
    beneficiaries = listOf(
        Beneficiary("ben_1", firstName, "Martin", LocalDate.of(1985, 4, 12), Relationship.HOLDER),
    ),
)

fun sampleBeneficiaries() = listOf(
    CoveredBeneficiary("ben_camille", "Camille", "Martin", LocalDate.of(1985, 4, 12), Relationship.HOLDER, inParcours = true, ald = false),
    CoveredBeneficiary("ben_lea", "Léa", "Martin", LocalDate.of(2021, 6, 1), Relationship.CHILD, inParcours = true, ald = false),
)

fun sampleActs() = listOf(
    Act("G", "Consultation de médecine générale", CareCategory.CONSULTATION, eur("30.00")),
    Act("C", "Consultation de chirurgien-dentiste", CareCategory.DENTAL, eur("23.00")),
)

fun sampleProvider(id: String = "prv_gp", code: String = "K7M2QX") = Provider(
    id = id, code = code, name = "Dr Claire Dubois", specialty = "Médecin généraliste",
    sector = 1, optam = false, directAccess = false, city = "Paris", postcode = "75011",
)

fun samplePreview(price: String = "30.00", id: String = "pv_1") = CoveragePreview(
    id = id,
    actLabel = "Consultation de médecine générale", price = money(price),
    date = LocalDate.of(2026, 3, 2),
    amo = money("19.00"), amc = money("9.00"), member = money("2.00"),
    base = money("30.00"), amoRate = BigDecimal("0.70"), guarantee = "150 % BR incl. SS",
    deductions = listOf(Deduction(DeductionKind.PARTICIPATION_FORFAITAIRE, money("2.00"))),
)

/** A [TiersPayClient] for view-state tests: canned answers, overridable per test, calls recorded. */
class FakeClient : TiersPayClient {
    var session: Session = Session.NotEnrolled
    val events = MutableSharedFlow<SessionChange>(extraBufferCapacity = 16)
    val calls = mutableListOf<String>()

    var onStart: suspend (contractNumber: String, birthDate: String) -> CodeChallenge = { _, _ -> sampleChallenge() }
    var onConfirm: suspend (enrollmentId: String, code: String) -> MemberProfile = { _, _ -> sampleProfile() }
    var onRefresh: suspend () -> MemberProfile = { sampleProfile() }
    var onSignOut: suspend () -> Unit = {}

    var onSync: suspend () -> SyncSummary = { SyncSummary(contractUpdated = true, tariffsUpdated = false, bytes = 1200) }
    var onBeneficiaries: suspend () -> List<CoveredBeneficiary> = { sampleBeneficiaries() }
    var onActs: suspend (date: LocalDate?) -> List<Act> = { sampleActs() }
    var onSearch: suspend (query: String) -> ProviderSearch = { ProviderSearch(listOf(sampleProvider()), offline = false) }
    var onSelect: suspend (idCodeOrScan: String) -> Provider = { sampleProvider() }
    var onPreview: suspend (
        beneficiaryId: String,
        providerId: String,
        actCode: String,
        price: String,
        date: LocalDate?,
    ) -> CoveragePreview =
        { _, _, _, price, _ -> samplePreview(price.replace(',', '.')) }
    var onCheck: suspend (CoveragePreview) -> PreviewCheck =
        { PreviewCheck(holds = true, serverPreviewId = it.id, amo = it.amo.amount, amc = it.amc.amount, member = it.member.amount) }
    var onExplain: suspend (CoveragePreview, Locale) -> List<String> = { _, locale ->
        listOf(if (locale.language == "fr") "Base de remboursement : 30,00 €." else "Reimbursement base: €30.00.")
    }

    /** The flows the models asked for, newest last. */
    val visitFlows = mutableListOf<FakeVisitFlow>()
    val enrollmentFlows = mutableListOf<FakeEnrollmentFlow>()
    val walletFlows = mutableListOf<FakeWalletFlow>()

    override fun visitFlow(listener: VisitListener): VisitFlowInterface = FakeVisitFlow(listener, calls).also { visitFlows += it }

    val arrearsFlows = mutableListOf<FakeArrearsFlow>()

    override fun arrearsFlow(listener: ArrearsListener): ArrearsFlowInterface = FakeArrearsFlow(listener, calls).also { arrearsFlows += it }

    override fun threadFlow(invoiceId: String, listener: ThreadListener): ThreadFlowInterface =
        throw UnsupportedOperationException("the thread is tested against the real core (ThreadClientTest)")

    override fun enrollmentFlow(contractNumber: String?, listener: EnrollmentListener): EnrollmentFlowInterface =
        FakeEnrollmentFlow(contractNumber, listener, calls).also { enrollmentFlows += it }

    override fun walletFlow(kind: WalletKind, listener: WalletListener): WalletFlowInterface =
        FakeWalletFlow(kind, listener, calls).also { walletFlows += it }

    override suspend fun session(): Session = session.also { calls += "session" }

    override suspend fun startEnrollment(contractNumber: String, birthDate: String): CodeChallenge {
        calls += "start($contractNumber,$birthDate)"
        return onStart(contractNumber, birthDate)
    }

    override suspend fun confirmEnrollment(enrollmentId: String, code: String): MemberProfile {
        calls += "confirm($enrollmentId,$code)"
        return onConfirm(enrollmentId, code)
    }

    override suspend fun refreshProfile(): MemberProfile = onRefresh().also { calls += "refresh" }

    override suspend fun signOut() {
        calls += "signOut"
        onSignOut()
    }

    override fun sessionEvents(): Flow<SessionChange> = events

    override fun routeForLink(url: String): Destination = when {
        url == "tierspay://home" -> Destination.Home
        url == "tierspay://card" -> Destination.Card
        url.startsWith("https://app.tierspay.fr/p/") -> Destination.Provider(url.substringAfterLast('/'))
        url.startsWith("https://app.tierspay.fr/l/") || url.startsWith("tierspay://l/") -> Destination.PaymentLink(url)
        url.startsWith("tierspay://enroll") ->
            Destination.Enroll(url.substringAfter("contract=", "").ifEmpty { null })
        else -> throw TiersPayError.InvalidInput("url", "the link is not a TiersPay link")
    }

    /** Where the next push leads, when a test scripts it (the core decides it; see ThreadClientTest). */
    var pushRoute: Destination? = null

    override fun routeForPush(data: Map<String, String>): Destination = pushRoute ?: data["link"]?.let(::routeForLink) ?: Destination.Home

    override suspend fun registerPushToken(service: PushService, token: String) {
        calls += "registerPushToken($service,$token)"
    }

    override suspend fun syncCoverage(): SyncSummary {
        calls += "sync"
        return onSync()
    }

    override suspend fun resyncCoverage(): SyncSummary {
        calls += "resync"
        return onSync()
    }

    override suspend fun coveredBeneficiaries(): List<CoveredBeneficiary> = onBeneficiaries().also { calls += "beneficiaries" }

    override suspend fun acts(date: LocalDate?): List<Act> = onActs(date).also { calls += "acts($date)" }

    override suspend fun searchProviders(query: String, specialty: String?, city: String?, limit: Int): ProviderSearch {
        calls += "search($query)"
        return onSearch(query)
    }

    override suspend fun selectProvider(idCodeOrScan: String): Provider {
        calls += "select($idCodeOrScan)"
        return onSelect(idCodeOrScan)
    }

    override suspend fun preview(
        beneficiaryId: String,
        providerId: String,
        actCode: String,
        price: String,
        date: LocalDate?,
        locale: Locale,
    ): CoveragePreview {
        calls += "preview($beneficiaryId,$providerId,$actCode,$price,$date)"
        return onPreview(beneficiaryId, providerId, actCode, price, date)
    }

    override suspend fun explain(preview: CoveragePreview, locale: Locale): List<String> {
        calls += "explain(${preview.id},${locale.language})"
        return onExplain(preview, locale)
    }

    override suspend fun checkPreview(preview: CoveragePreview): PreviewCheck {
        calls += "check(${preview.id})"
        return onCheck(preview)
    }

    override fun quoteDocument(json: String): String = throw TiersPayError.Internal("not faked")

    var cardInfo: CardInfo? = null
    var onGooglePay: suspend (walletAccountId: String, stableHardwareId: String, tokens: List<TapAndPayToken>) -> GooglePayAction =
        { _, _, _ -> GooglePayAction.AlreadyAdded }

    override suspend fun card(): CardInfo? = cardInfo.also { calls += "card" }

    override suspend fun refreshCard(): CardInfo {
        calls += "refreshCard"
        return cardInfo ?: throw TiersPayError.Internal("no card faked")
    }

    override suspend fun freeze(): CardInfo {
        calls += "freeze"
        return (cardInfo ?: throw TiersPayError.Internal("no card faked")).copy(frozen = true).also { cardInfo = it }
    }

    override suspend fun unfreeze(): CardInfo {
        calls += "unfreeze"
        return (cardInfo ?: throw TiersPayError.Internal("no card faked")).copy(frozen = false).also { cardInfo = it }
    }

    override suspend fun revealCard(): CardDetails = throw TiersPayError.Internal("not faked")

    override suspend fun googlePay(walletAccountId: String, stableHardwareId: String, walletTokens: List<TapAndPayToken>): GooglePayAction {
        calls += "googlePay($walletAccountId,$stableHardwareId,${walletTokens.size})"
        return onGooglePay(walletAccountId, stableHardwareId, walletTokens)
    }

    var memberCardInfo: MemberCard? = null
    var visitList: List<Visit> = emptyList()

    override suspend fun memberCard(): MemberCard? = memberCardInfo.also { calls += "memberCard" }

    override suspend fun saveMemberCard(number: String, expiry: String, cvc: String): MemberCard {
        // Only the last four digits recorded, as a log would be allowed to.
        calls += "saveMemberCard(${number.takeLast(4)})"
        return memberCardInfo ?: throw TiersPayError.Internal("no member card faked")
    }

    override suspend fun refreshMemberCard(): MemberCard? = memberCardInfo.also { calls += "refreshMemberCard" }

    override suspend fun visits(): List<Visit> = visitList.also { calls += "visits" }

    override suspend fun refreshVisits(): List<Visit> = visitList.also { calls += "refreshVisits" }

    override suspend fun cancelVisit(id: String): Visit {
        calls += "cancelVisit($id)"
        return visitList.firstOrNull { it.id == id } ?: throw TiersPayError.Internal("no visit $id faked")
    }
}
