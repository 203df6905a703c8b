package fr.tierspay.shell

import fr.tierspay.core.ArrearsFlow
import fr.tierspay.core.ArrearsListener
import fr.tierspay.core.Card
import fr.tierspay.core.CoreConfig
import fr.tierspay.core.Coverage
import fr.tierspay.core.EnrollmentFlow
import fr.tierspay.core.EnrollmentListener
import fr.tierspay.core.Payments
import fr.tierspay.core.PreviewRequest
import fr.tierspay.core.SessionEvent
import fr.tierspay.core.SessionListener
import fr.tierspay.core.ThreadFlow
import fr.tierspay.core.ThreadListener
import fr.tierspay.core.TiersPay
import fr.tierspay.core.VisitFlow
import fr.tierspay.core.VisitListener
import fr.tierspay.core.WalletFlow
import fr.tierspay.core.WalletKind
import fr.tierspay.core.WalletListener
import fr.tierspay.core.coreVersion
import fr.tierspay.shell.platform.DeviceSigningKey
import fr.tierspay.shell.platform.SecretStore
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.withContext
import java.time.LocalDate
import java.util.Locale

/**
 * The [TiersPayClient] over the real core: one per app process, built at start. Holds no logic:
 * each call converts arguments, calls the core, converts the result and maps `CoreException`
 * to [TiersPayError].
 *
 * Sync core calls that touch the disk or secure storage run on [io]; the core's async calls run
 * on its own tokio runtime and only suspend here.
 */
class CoreTiersPayClient private constructor(private val core: TiersPay, private val io: CoroutineDispatcher) :
    TiersPayClient,
    AutoCloseable {

    /**
     * The coverage area, one for the client's life (closed with it): unlike the rare enrollment
     * calls, previews are repeated, and a fresh area per call would cost two more FFI calls.
     */
    private val coverage: Coverage = core.coverage()

    /** The card area, one for the client's life like [coverage]. */
    private val cardArea: Card = core.card()

    /** The paying area (member's card, visits), one for the client's life like [coverage]. */
    private val payments: Payments = core.payments()

    companion object {
        /**
         * Opens the core: its database (migrations included) and the stored session. No network.
         * Blocking (disk, secure storage): call it off the main thread.
         *
         * @throws TiersPayError for a bad [config] or a failing platform service.
         */
        fun open(
            config: ShellConfig,
            secrets: SecretStore,
            deviceKey: DeviceSigningKey,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): CoreTiersPayClient = mapCoreErrors {
            val core = TiersPay(
                CoreConfig(
                    serverUrl = config.serverUrl,
                    dataDir = config.dataDir,
                    serverPublicKey = config.serverPublicKey,
                    deviceName = config.deviceName,
                    linkPublicKey = config.linkPublicKey,
                    linkKeyId = config.linkKeyId,
                ),
                SecretStoreBridge(secrets),
                DeviceKeyBridge(deviceKey),
            )
            CoreTiersPayClient(core, io)
        }

        /** The core library's version, e.g. `0.1.0`. */
        fun version(): String = coreVersion()
    }

    override suspend fun session(): Session = withContext(io) {
        mapCoreErrors { core.status().toShell() }
    }

    override suspend fun startEnrollment(contractNumber: String, birthDate: String): CodeChallenge =
        mapCoreErrors { core.enrollment().use { it.start(contractNumber, birthDate) }.toShell() }

    override suspend fun confirmEnrollment(enrollmentId: String, code: String): MemberProfile =
        mapCoreErrors { core.enrollment().use { it.confirm(enrollmentId, code) }.toShell() }

    override suspend fun refreshProfile(): MemberProfile = mapCoreErrors { core.refreshProfile().toShell() }

    override suspend fun signOut() = mapCoreErrors { core.signOut() }

    /**
     * A listener registered with the core while the flow is collected; the subscription is
     * cancelled when the collector stops. Events arrive on a core thread and are buffered without
     * bound (they are rare), so the core never waits for the UI.
     */
    override fun sessionEvents(): Flow<SessionChange> = callbackFlow {
        val subscription = core.subscribe(object : SessionListener {
            override fun onEvent(event: SessionEvent) {
                trySend(event.toShell())
            }
        })
        awaitClose {
            subscription.cancel()
            subscription.close()
        }
    }.buffer(Channel.UNLIMITED)

    override fun routeForLink(url: String): Destination = mapCoreErrors { fr.tierspay.core.routeForLink(url).toShell() }

    override fun routeForPush(data: Map<String, String>): Destination = mapCoreErrors { fr.tierspay.core.routeForPush(data).toShell() }

    override suspend fun registerPushToken(service: PushService, token: String) =
        mapCoreErrors { core.registerPushToken(service.toCore(), token) }

    override suspend fun syncCoverage(): SyncSummary = mapCoreErrors { coverage.sync().toShell() }

    override suspend fun resyncCoverage(): SyncSummary = mapCoreErrors { coverage.resync().toShell() }

    override suspend fun coveredBeneficiaries(): List<CoveredBeneficiary> = withContext(io) {
        mapCoreErrors { coverage.beneficiaries().map { it.toShell() } }
    }

    override suspend fun acts(date: LocalDate?): List<Act> = withContext(io) {
        mapCoreErrors { coverage.acts(date?.toString()).map { it.toShell() } }
    }

    override suspend fun searchProviders(query: String, specialty: String?, city: String?, limit: Int): ProviderSearch =
        mapCoreErrors { coverage.searchProviders(query, specialty, city, limit.coerceAtLeast(0).toUInt()).toShell() }

    override suspend fun selectProvider(idCodeOrScan: String): Provider = mapCoreErrors { coverage.selectProvider(idCodeOrScan).toShell() }

    /** A sync call, in memory once the data is read (the first one reads SQLite): on [io] like [session]. */
    override suspend fun preview(
        beneficiaryId: String,
        providerId: String,
        actCode: String,
        price: String,
        date: LocalDate?,
        locale: Locale,
    ): CoveragePreview = withContext(io) {
        val request = PreviewRequest(beneficiaryId, providerId, actCode, price, date?.toString(), locale.coreLanguage())
        mapCoreErrors { coverage.preview(request).toShell() }
    }

    override suspend fun explain(preview: CoveragePreview, locale: Locale): List<String> =
        mapCoreErrors { coverage.explain(preview.id, locale.coreLanguage()) }

    override suspend fun checkPreview(preview: CoveragePreview): PreviewCheck =
        mapCoreErrors { coverage.checkPreview(preview.id).toShell() }

    override fun quoteDocument(json: String): String = mapCoreErrors { fr.tierspay.core.quoteDocument(json) }

    override suspend fun card(): CardInfo? = withContext(io) {
        mapCoreErrors { cardArea.info()?.toShell() }
    }

    override suspend fun refreshCard(): CardInfo = mapCoreErrors { cardArea.refresh().toShell() }

    override suspend fun freeze(): CardInfo = mapCoreErrors { cardArea.freeze().toShell() }

    override suspend fun unfreeze(): CardInfo = mapCoreErrors { cardArea.unfreeze().toShell() }

    /** The details go straight from the core's answer to the caller; nothing here keeps them. */
    override suspend fun revealCard(): CardDetails = mapCoreErrors { cardArea.reveal().toShell() }

    override suspend fun googlePay(walletAccountId: String, stableHardwareId: String, walletTokens: List<TapAndPayToken>): GooglePayAction =
        mapCoreErrors {
            cardArea.googlePayAction(walletAccountId, stableHardwareId, walletTokens.map { it.toCore() }).toShell()
        }

    override suspend fun memberCard(): MemberCard? = withContext(io) {
        mapCoreErrors { payments.memberCard()?.toShell() }
    }

    /** The number and code go straight to the core; nothing here keeps or logs them. */
    override suspend fun saveMemberCard(number: String, expiry: String, cvc: String): MemberCard =
        mapCoreErrors { payments.saveMemberCard(number, expiry, cvc).toShell() }

    override suspend fun refreshMemberCard(): MemberCard? = mapCoreErrors { payments.refreshMemberCard()?.toShell() }

    override suspend fun visits(): List<Visit> = withContext(io) {
        mapCoreErrors { payments.visits().map { it.toShell() } }
    }

    override suspend fun refreshVisits(): List<Visit> = mapCoreErrors { payments.refreshVisits().map { it.toShell() } }

    override suspend fun cancelVisit(id: String): Visit = mapCoreErrors { payments.cancelVisit(id).toShell() }

    /** HTTP requests sent since this client was opened: a diagnostic for journey figures. */
    fun roundTrips(): Long = core.roundTrips().toLong()

    /** The enrollment screens' flow, written once in the core; see [fr.tierspay.shell.state.EnrollmentFlowModel]. */
    override fun enrollmentFlow(contractNumber: String?, listener: EnrollmentListener): EnrollmentFlow =
        core.enrollmentFlow(contractNumber, listener)

    /** The visit screen's flow, written once in the core; see [fr.tierspay.shell.state.VisitFlowModel]. */
    override fun visitFlow(listener: VisitListener): VisitFlow = core.visitFlow(listener)

    /** The arrears screens' flow, written once in the core; see [fr.tierspay.shell.state.ArrearsModel]. */
    override fun arrearsFlow(listener: ArrearsListener): ArrearsFlow = core.arrearsFlow(listener)

    /** One invoice's message thread, written once in the core; see [fr.tierspay.shell.state.ThreadModel]. */
    override fun threadFlow(invoiceId: String, listener: ThreadListener): ThreadFlow = core.threadFlow(invoiceId, listener)

    /** The card screen's wallet flow, written once in the core; see [fr.tierspay.shell.state.CardWalletModel]. */
    override fun walletFlow(kind: WalletKind, listener: WalletListener): WalletFlow = core.walletFlow(kind, listener)

    /** Releases the core (its runtime and database) now rather than when collected. */
    override fun close() {
        payments.close()
        cardArea.close()
        coverage.close()
        core.close()
    }
}
