package fr.tierspay.shell

import fr.tierspay.core.ArrearsFlowInterface
import fr.tierspay.core.ArrearsListener
import fr.tierspay.core.EnrollmentFlowInterface
import fr.tierspay.core.EnrollmentListener
import fr.tierspay.core.ThreadFlowInterface
import fr.tierspay.core.ThreadListener
import fr.tierspay.core.VisitFlowInterface
import fr.tierspay.core.VisitListener
import fr.tierspay.core.WalletFlowInterface
import fr.tierspay.core.WalletKind
import fr.tierspay.core.WalletListener
import kotlinx.coroutines.flow.Flow
import java.time.LocalDate
import java.util.Locale

/**
 * What the screens and their view-state need from the core. [CoreTiersPayClient] is the real
 * one (over the uniffi bindings); tests of view-state use a fake.
 *
 * Every function throws [TiersPayError] and nothing else from the core.
 */
interface TiersPayClient {
    /**
     * The enrollment screens' flow, written once in the core (`core/src/app/flows/enrollment.rs`);
     * wrapped by [fr.tierspay.shell.state.EnrollmentFlowModel].
     */
    fun enrollmentFlow(contractNumber: String?, listener: EnrollmentListener): EnrollmentFlowInterface

    /**
     * The visit screen's flow, written once in the core (`core/src/app/flows/visit.rs`); wrapped
     * by [fr.tierspay.shell.state.VisitFlowModel].
     */
    fun visitFlow(listener: VisitListener): VisitFlowInterface

    /**
     * The arrears screens' flow (invoices offline, payment links verified before they show),
     * written once in the core (`core/src/app/flows/arrears.rs`); wrapped by
     * [fr.tierspay.shell.state.ArrearsModel].
     */
    fun arrearsFlow(listener: ArrearsListener): ArrearsFlowInterface

    /**
     * One invoice's message thread, written once in the core (`core/src/app/flows/thread.rs`):
     * its states go to [listener]; wrapped by [fr.tierspay.shell.state.ThreadModel].
     */
    fun threadFlow(invoiceId: String, listener: ThreadListener): ThreadFlowInterface

    /**
     * The card screen's wallet flow (Google Pay here), written once in the core
     * (`core/src/app/flows/wallet.rs`): its states and the TapAndPay calls it asks for go to
     * [listener]; wrapped by [fr.tierspay.shell.state.CardWalletModel].
     */
    fun walletFlow(kind: WalletKind, listener: WalletListener): WalletFlowInterface

    /** Whether this device is enrolled, read locally (no network). */
    suspend fun session(): Session

    /** Sends a one-time code by SMS. [birthDate] is `YYYY-MM-DD`. */
    suspend fun startEnrollment(contractNumber: String, birthDate: String): CodeChallenge

    /** Confirms the code and registers this device; the session is then enrolled. */
    suspend fun confirmEnrollment(enrollmentId: String, code: String): MemberProfile

    /** Fetches member, contract and beneficiaries again. */
    suspend fun refreshProfile(): MemberProfile

    /** Revokes this device when the server is reachable, then wipes local data. Works offline. */
    suspend fun signOut()

    /** Session changes, for as long as the flow is collected. */
    fun sessionEvents(): Flow<SessionChange>

    /** Where an App Link or `tierspay://` URL leads; foreign links throw [TiersPayError.InvalidInput]. */
    fun routeForLink(url: String): Destination

    /** Where a push message's data leads. */
    fun routeForPush(data: Map<String, String>): Destination

    /**
     * Hands the push token the OS gave the app to the core, which registers it with the platform
     * for this device (an authenticated request): now when enrolled, right after enrollment
     * otherwise; a new token replaces the old one, the same token again sends nothing, sign-out
     * forgets it. Call it at every start and with every new token. A malformed token is
     * InvalidInput(token).
     */
    suspend fun registerPushToken(service: PushService, token: String)

    // Coverage. Enrollment downloads the contract's guarantees and the tariffs; the calls marked
    // offline read them from the phone and throw NotSynced before any sync.

    /** Downloads what changed of the guarantees and tariffs (one round trip, ~50 bytes when nothing did). */
    suspend fun syncCoverage(): SyncSummary

    /** Downloads all of the guarantees and tariffs again, whatever the phone holds. */
    suspend fun resyncCoverage(): SyncSummary

    /** Who the care can be for. Offline. */
    suspend fun coveredBeneficiaries(): List<CoveredBeneficiary>

    /** The acts in force on [date] (today in France when null). Offline. */
    suspend fun acts(date: LocalDate? = null): List<Act>

    /**
     * Providers by name, specialty or city, typos forgiven (`ophtalmologe paris`): recently used
     * ones first (from the phone), then the directory. Offline, the recently used only, with
     * [ProviderSearch.offline] set. An empty search without filters lists the recently used.
     * [limit] is brought within 1–50.
     */
    suspend fun searchProviders(query: String, specialty: String? = null, city: String? = null, limit: Int = 20): ProviderSearch

    /**
     * The provider for a visit, from its id (`prv_…`), its 6-character code, or the text of its
     * scanned desk QR code (`https://app.tierspay.fr/p/CODE`), handed over unread. Remembered as
     * recently used: [preview] needs the provider selected first.
     */
    suspend fun selectProvider(idCodeOrScan: String): Provider

    /**
     * Who pays what, computed on the phone (offline), the amounts' text for a reader in
     * [locale]. [price] is what the member typed (`30`, `30,50 €`): the core reads it. Bad input
     * throws InvalidInput naming `price`, `act_code`, `provider_id`, `beneficiary_id` or `date`.
     */
    suspend fun preview(
        beneficiaryId: String,
        providerId: String,
        actCode: String,
        price: String,
        date: LocalDate? = null,
        locale: Locale = Locale.getDefault(),
    ): CoveragePreview

    /** Why [preview] comes to its figures, sentence by sentence, for a reader in [locale]. Offline. */
    suspend fun explain(preview: CoveragePreview, locale: Locale = Locale.getDefault()): List<String>

    /** Asks the server to recompute [preview] with its current data: does it still hold? */
    suspend fun checkPreview(preview: CoveragePreview): PreviewCheck

    /**
     * Answers a quote document (the public JSON of the offline calculator) with the answer JSON.
     * Pure. A malformed document throws InvalidInput naming the field by its path (`act.amo_rate`).
     */
    fun quoteDocument(json: String): String

    // Card. Issued at enrollment; its public facts are kept on the phone.

    /** The card as last synced (offline); null before one was issued. */
    suspend fun card(): CardInfo?

    /** Fetches the card and its wallet tokens again. */
    suspend fun refreshCard(): CardInfo

    /** Freezes the card: payments are refused and wallet tokens suspended. */
    suspend fun freeze(): CardInfo

    /** Unfreezes the card and resumes its wallet tokens. */
    suspend fun unfreeze(): CardInfo

    /** The full number, expiry and code, fetched now and stored nowhere: show once, then drop. */
    suspend fun revealCard(): CardDetails

    /**
     * Google Pay: from TapAndPay's `getActiveWalletId()`, `getStableHardwareId()` and
     * `listTokens()`, what to do. A frozen card throws Rejected(card_inactive); an empty id
     * throws InvalidInput(wallet_account_id / device_id).
     */
    suspend fun googlePay(walletAccountId: String, stableHardwareId: String, walletTokens: List<TapAndPayToken>): GooglePayAction

    // Paying at the doctor: the member's own card pays the member's share; the visits are what
    // the virtual card was armed for (the visit flow arms, follows and cancels them).

    /** The member's own card as last known (offline); null before one was saved. */
    suspend fun memberCard(): MemberCard?

    /**
     * Saves the member's own card: [number], [expiry] (`MM/YY`) and [cvc] go to the core, which
     * checks them (InvalidInput names `number`, `expiry` or `cvc`) and sends them to the PSP only;
     * the shell neither keeps nor logs them. REQUIRES_ACTION: open [MemberCard.nextActionUrl],
     * then [refreshMemberCard].
     */
    suspend fun saveMemberCard(number: String, expiry: String, cvc: String): MemberCard

    /** Reads the member's own card from the server again (after the bank's challenge). */
    suspend fun refreshMemberCard(): MemberCard?

    /** Visits known on this phone, newest first. Offline. */
    suspend fun visits(): List<Visit>

    /** Downloads the newest visits; returns the history, newest first. */
    suspend fun refreshVisits(): List<Visit>

    /** Cancels an armed visit (from the history; the visit screen's flow has its own cancel). */
    suspend fun cancelVisit(id: String): Visit
}
