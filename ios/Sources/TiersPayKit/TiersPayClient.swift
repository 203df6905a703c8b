import Foundation
internal import TiersPayCore

/// What the screens need from the core. View models depend on this protocol, so they are
/// tested with a fake; TiersPayClient is the real one.
public protocol EnrollmentService: Sendable {
    /// Sends a one-time code by SMS to the phone on file. `birthDate` is `YYYY-MM-DD`.
    func startEnrollment(contractNumber: String, birthDate: String) async throws(TiersPayError) -> EnrollmentChallenge
    /// Confirms the code and registers this device; returns the profile.
    func confirmEnrollment(enrollmentId: String, code: String) async throws(TiersPayError) -> Profile
}

/// The coverage area: contract data synced for offline use, providers, and previews of who pays
/// what for a visit. Errors: `invalidInput(field:)` for bad input (`price`, `act_code`,
/// `provider_id`, `beneficiary_id`, `date`, `scan`, `provider`, `query`), `notSynced` when the
/// contract data was never downloaded (enrolling does it).
public protocol CoverageService: Sendable {
    /// Downloads what changed of the contract data and tariffs (one round trip).
    func syncCoverage() async throws(TiersPayError) -> SyncSummary
    /// Downloads all of it again, whatever the phone holds.
    func resyncCoverage() async throws(TiersPayError) -> SyncSummary
    /// Who a visit can be for. Offline.
    func coveredBeneficiaries() throws(TiersPayError) -> [CoveredBeneficiary]
    /// Acts in force on `date` (`YYYY-MM-DD`; nil for today in France). Offline.
    func acts(on date: String?) throws(TiersPayError) -> [Act]
    /// Recently used providers (on the phone) first, then the server's directory; typos are
    /// forgiven. Offline, only the recently used, with `offline` set.
    func searchProviders(query: String, specialty: String?, city: String?, limit: Int) async throws(TiersPayError) -> ProviderSearch
    /// A provider by id (`prv_…`), by its 6-character code, or by the text of its scanned desk
    /// QR code (`https://app.tierspay.fr/p/CODE`); remembered as recently used, so previews
    /// for it work offline.
    func selectProvider(_ idCodeOrScan: String) async throws(TiersPayError) -> Provider
    /// Who pays what, priced on the phone, offline, the amounts' text for a `language` reader.
    /// `price` is what the member typed (`30`, `30,50`, `30.50 €`): the core reads it. The
    /// provider must have been selected before. The core call is synchronous and short; this
    /// runs it off the caller's actor.
    func preview(beneficiaryId: String, providerId: String, actCode: String, price: String, date: String?, language: Language) async throws(TiersPayError)
        -> CoveragePreview
    /// Why `preview` comes to its figures, sentence by sentence, for a `language` reader. Offline.
    func explain(_ preview: CoveragePreview, in language: Language) throws(TiersPayError) -> [String]
    /// The server recomputes the preview with the same code and its current data.
    func checkPreview(_ preview: CoveragePreview) async throws(TiersPayError) -> PreviewCheck
}

/// PassKit's delegate exchange (`PKAddPaymentPassViewControllerDelegate`'s
/// `generateRequestWithCertificateChain:nonce:nonceSignature:`): what PassKit hands over goes to
/// the issuer as it is; what comes back builds the `PKAddPaymentPassRequest`. Errors:
/// `rejected(code: "card_inactive")` for a frozen card, `invalidInput(field: "certificates")`
/// (or the input at fault) for what PassKit sent, the issuer's refusal of an untrusted chain.
public protocol PaymentPassProvisioning: Sendable {
    func applePayPassData(certificates: [Data], nonce: Data, nonceSignature: Data) async throws(TiersPayError) -> PaymentPassRequestData
}

/// The virtual card: public facts offline, freeze, one-time reveal, wallet provisioning.
/// A refresh that sees the card or its tokens change sends `SessionEvent.cardUpdated`.
public protocol CardService: PaymentPassProvisioning {
    /// The card as last synced (offline); nil before one was issued (enrolling issues it).
    func card() throws(TiersPayError) -> CardInfo?
    /// Fetches the card and its wallet tokens again.
    func refreshCard() async throws(TiersPayError) -> CardInfo
    /// Payments are refused and wallet tokens suspended until `unfreezeCard()`.
    func freezeCard() async throws(TiersPayError) -> CardInfo
    /// Reactivates the card and resumes its wallet tokens.
    func unfreezeCard() async throws(TiersPayError) -> CardInfo
    /// The full number, expiry and code, fetched now and never stored: show it, then drop it.
    func revealCard() async throws(TiersPayError) -> CardDetails
}

/// Paying at the doctor: the member's own card and the visits the virtual card was armed for
/// (the visit flow arms, follows and cancels the visit on screen).
public protocol PaymentService: Sendable {
    /// The member's own card as last known (offline); nil before one was saved.
    func memberCard() throws(TiersPayError) -> MemberCard?
    /// Saves the member's own card: number, expiry `MM/YY` and code go to the core, which checks
    /// them (`invalidInput` names `number`, `expiry` or `cvc`) and sends them to the PSP only;
    /// the shell neither keeps nor logs them. `.requiresAction`: open `nextActionURL`, then
    /// `refreshMemberCard()`.
    func saveMemberCard(number: String, expiry: String, cvc: String) async throws(TiersPayError) -> MemberCard
    /// Reads the member's own card from the server again (after the bank's challenge).
    func refreshMemberCard() async throws(TiersPayError) -> MemberCard?
    /// Visits known on this phone, newest first (offline).
    func visits() throws(TiersPayError) -> [Visit]
    /// Downloads the newest visits; the history, newest first.
    func refreshVisits() async throws(TiersPayError) -> [Visit]
    /// Cancels an armed visit from the history.
    func cancelVisit(id: String) async throws(TiersPayError) -> Visit
}

public protocol TiersPayService: EnrollmentService, CoverageService {
    /// Enrolled or not, read locally: no network, works offline.
    func sessionState() throws(TiersPayError) -> SessionState
    /// Fetches member, contract and beneficiaries and updates the local copy.
    func refreshProfile() async throws(TiersPayError) -> Profile
    /// Revokes this device when the server is reachable, then wipes local data. Works offline.
    func signOut() async throws(TiersPayError)
    /// Session events from now on; the core subscription ends when the stream does.
    func sessionEvents() -> AsyncStream<SessionEvent>
    /// The enrollment screens' flow, written once in the core.
    func enrollmentFlow(contractNumber: String?) -> EnrollmentFlowModel
    /// The visit screen's flow, written once in the core.
    func visitFlow(providerCode: String?) -> VisitFlowModel
    /// The arrears screens' flow (invoices offline, payment links verified before they show),
    /// written once in the core (`core/src/app/flows/arrears.rs`).
    func arrearsFlow() -> ArrearsFlowModel
    /// One invoice's message thread, written once in the core (`core/src/app/flows/thread.rs`).
    func threadFlow(invoiceId: String) -> ThreadFlowModel
    /// The card screen's Apple Pay flow, written once in the core (`core/src/app/flows/wallet.rs`):
    /// `wallet` is PassKit's sheet, which the flow asks for.
    func walletFlow(wallet: any PaymentPassAdding, cardholderName: String) -> AddToWalletModel
    /// Hands the push token the OS gave the app to the core, which registers it with the
    /// platform for this device (an authenticated request): now when enrolled, right after
    /// enrollment otherwise. A new token replaces the old one, the same token again sends
    /// nothing, sign-out forgets it. A malformed token is `invalidInput(field: "token")`.
    func registerPushToken(service: PushService, token: String) async throws(TiersPayError)
}

/// Where the core talks to and keeps its data.
public struct TiersPayConfiguration: Equatable, Sendable {
    public var serverURL: URL
    /// A folder of its own for the core's database (Application Support on iOS).
    public var dataDirectory: URL
    /// The server's P-256 public key, hex of the uncompressed point (pinned).
    public var serverPublicKey: String
    /// Shown to the member among their devices (`iPhone de Camille`).
    public var deviceName: String?
    /// The key payment links are signed with, hex of the uncompressed point; nil: the server's key.
    public var linkPublicKey: String?
    /// The id links signed by `linkPublicKey` carry; nil: 1.
    public var linkKeyId: UInt8?

    public init(
        serverURL: URL, dataDirectory: URL, serverPublicKey: String, deviceName: String? = nil,
        linkPublicKey: String? = nil, linkKeyId: UInt8? = nil
    ) {
        self.serverURL = serverURL
        self.dataDirectory = dataDirectory
        self.serverPublicKey = serverPublicKey
        self.deviceName = deviceName
        self.linkPublicKey = linkPublicKey
        self.linkKeyId = linkKeyId
    }
}

/// The core, for the shell: one per app process, built at launch (no network in init).
public final class TiersPayClient: TiersPayService, CardService, PaymentService, @unchecked Sendable {
    // @unchecked: both are immutable handles to thread-safe core objects.
    private let core: TiersPayCore.TiersPay
    private let enrollment: TiersPayCore.Enrollment
    private let coverage: TiersPayCore.Coverage
    private let cardHandle: TiersPayCore.Card
    private let payments: TiersPayCore.Payments

    public init(configuration: TiersPayConfiguration, secureStore: any SecureStore, deviceKey: any DeviceSigningKey) throws(TiersPayError) {
        let config = CoreConfig(
            serverUrl: configuration.serverURL.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")),
            dataDir: configuration.dataDirectory.path,
            serverPublicKey: configuration.serverPublicKey,
            deviceName: configuration.deviceName,
            linkPublicKey: configuration.linkPublicKey,
            linkKeyId: configuration.linkKeyId
        )
        core = try mapErrors {
            try TiersPayCore.TiersPay(config: config, secureStorage: SecureStoreBridge(secureStore), deviceKey: DeviceKeyBridge(deviceKey))
        }
        enrollment = core.enrollment()
        coverage = core.coverage()
        cardHandle = core.card()
        payments = core.payments()
    }

    public func sessionState() throws(TiersPayError) -> SessionState {
        try mapErrors { SessionState(try core.status()) }
    }

    public func startEnrollment(contractNumber: String, birthDate: String) async throws(TiersPayError) -> EnrollmentChallenge {
        try await mapErrors { EnrollmentChallenge(try await enrollment.start(contractNumber: contractNumber, birthDate: birthDate)) }
    }

    public func confirmEnrollment(enrollmentId: String, code: String) async throws(TiersPayError) -> Profile {
        try await mapErrors { Profile(try await enrollment.confirm(enrollmentId: enrollmentId, code: code)) }
    }

    public func refreshProfile() async throws(TiersPayError) -> Profile {
        try await mapErrors { Profile(try await core.refreshProfile()) }
    }

    public func signOut() async throws(TiersPayError) {
        try await mapErrors { try await core.signOut() }
    }

    /// The enrollment screens' flow, written once in the core (see `EnrollmentFlowModel`).
    public func enrollmentFlow(contractNumber: String? = nil) -> EnrollmentFlowModel {
        EnrollmentFlowModel(core: core, contractNumber: contractNumber)
    }

    /// The visit screen's flow, written once in the core (see `VisitFlowModel`).
    public func visitFlow(providerCode: String? = nil) -> VisitFlowModel {
        visitFlow(providerCode: providerCode, language: .preferred())
    }

    /// The arrears screens' flow: invoices offline, payment links verified by the core.
    public func arrearsFlow() -> ArrearsFlowModel {
        ArrearsFlowModel(core: core)
    }

    /// One invoice's message thread: the messages offline, a refresh, the member's messages
    /// sent exactly once through the core's outbox.
    public func threadFlow(invoiceId: String) -> ThreadFlowModel {
        ThreadFlowModel(core: core, invoiceId: invoiceId)
    }

    /// The visit screen's flow, its figures' text and explanations for a `language` reader.
    public func visitFlow(providerCode: String?, language: Language) -> VisitFlowModel {
        VisitFlowModel(core: core, providerCode: providerCode, language: language)
    }

    /// The card screen's Apple Pay flow, written once in the core (see `AddToWalletModel`).
    public func walletFlow(wallet: any PaymentPassAdding, cardholderName: String) -> AddToWalletModel {
        AddToWalletModel(core: core, wallet: wallet, cardholderName: cardholderName)
    }

    public func sessionEvents() -> AsyncStream<SessionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: SessionEvent.self, bufferingPolicy: .unbounded)
        let subscription = core.subscribe(listener: StreamListener(continuation))
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }

    public func registerPushToken(service: PushService, token: String) async throws(TiersPayError) {
        try await mapErrors { try await core.registerPushToken(service: TiersPayCore.PushService(service), token: token) }
    }

    // MARK: Coverage

    public func syncCoverage() async throws(TiersPayError) -> SyncSummary {
        try await mapErrors { SyncSummary(try await coverage.sync()) }
    }

    public func resyncCoverage() async throws(TiersPayError) -> SyncSummary {
        try await mapErrors { SyncSummary(try await coverage.resync()) }
    }

    public func coveredBeneficiaries() throws(TiersPayError) -> [CoveredBeneficiary] {
        try mapErrors { try coverage.beneficiaries().map(CoveredBeneficiary.init) }
    }

    public func acts(on date: String? = nil) throws(TiersPayError) -> [Act] {
        try mapErrors { try coverage.acts(date: date).map { try Act($0) } }
    }

    public func searchProviders(query: String, specialty: String? = nil, city: String? = nil, limit: Int = 20) async throws(TiersPayError) -> ProviderSearch {
        let limit = UInt32(clamping: limit)
        return try await mapErrors { ProviderSearch(try await coverage.searchProviders(query: query, specialty: specialty, city: city, limit: limit)) }
    }

    public func selectProvider(_ idCodeOrScan: String) async throws(TiersPayError) -> Provider {
        try await mapErrors { Provider(try await coverage.selectProvider(idCodeOrScan: idCodeOrScan)) }
    }

    /// A nonisolated async function of a non-actor class: under Swift 6 it runs on the global
    /// executor (SE-0338), so a main-actor caller never prices on the main thread.
    public func preview(
        beneficiaryId: String, providerId: String, actCode: String, price: String, date: String? = nil, language: Language = .preferred()
    ) async throws(TiersPayError) -> CoveragePreview {
        try previewNow(beneficiaryId: beneficiaryId, providerId: providerId, actCode: actCode, price: price, date: date, language: language)
    }

    /// `preview` on the caller's thread: the core's synchronous call and the conversion, for
    /// callers already off the main thread (and the benchmark).
    public func previewNow(
        beneficiaryId: String, providerId: String, actCode: String, price: String, date: String? = nil, language: Language = .preferred()
    ) throws(TiersPayError) -> CoveragePreview {
        // One record: each String argument would cross as a buffer of its own.
        let request = PreviewRequest(
            beneficiaryId: beneficiaryId, providerId: providerId, actCode: actCode, price: price, date: date, language: language.core
        )
        return try mapErrors { try CoveragePreview(try coverage.preview(request: request)) }
    }

    public func explain(_ preview: CoveragePreview, in language: Language = .preferred()) throws(TiersPayError) -> [String] {
        try mapErrors { try coverage.explain(previewId: preview.id, language: language.core) }
    }

    public func checkPreview(_ preview: CoveragePreview) async throws(TiersPayError) -> PreviewCheck {
        let id = preview.id
        return try await mapErrors { try PreviewCheck(try await coverage.checkPreview(previewId: id)) }
    }

    // MARK: Card

    public func card() throws(TiersPayError) -> CardInfo? {
        try mapErrors { try cardHandle.info().map(CardInfo.init) }
    }

    public func refreshCard() async throws(TiersPayError) -> CardInfo {
        try await mapErrors { CardInfo(try await cardHandle.refresh()) }
    }

    public func freezeCard() async throws(TiersPayError) -> CardInfo {
        try await mapErrors { CardInfo(try await cardHandle.freeze()) }
    }

    public func unfreezeCard() async throws(TiersPayError) -> CardInfo {
        try await mapErrors { CardInfo(try await cardHandle.unfreeze()) }
    }

    public func revealCard() async throws(TiersPayError) -> CardDetails {
        try await mapErrors { CardDetails(try await cardHandle.reveal()) }
    }

    public func applePayPassData(certificates: [Data], nonce: Data, nonceSignature: Data) async throws(TiersPayError) -> PaymentPassRequestData {
        try await mapErrors {
            PaymentPassRequestData(try await cardHandle.applePayPassData(certificates: certificates, nonce: nonce, nonceSignature: nonceSignature))
        }
    }

    // MARK: Payments

    public func memberCard() throws(TiersPayError) -> MemberCard? {
        try mapErrors { try payments.memberCard().map(MemberCard.init) }
    }

    /// The number and code go straight to the core; nothing here keeps or logs them.
    public func saveMemberCard(number: String, expiry: String, cvc: String) async throws(TiersPayError) -> MemberCard {
        try await mapErrors { MemberCard(try await payments.saveMemberCard(number: number, expiry: expiry, cvc: cvc)) }
    }

    public func refreshMemberCard() async throws(TiersPayError) -> MemberCard? {
        try await mapErrors { try await payments.refreshMemberCard().map(MemberCard.init) }
    }

    public func visits() throws(TiersPayError) -> [Visit] {
        try mapErrors { try payments.visits().map(Visit.init) }
    }

    public func refreshVisits() async throws(TiersPayError) -> [Visit] {
        try await mapErrors { try await payments.refreshVisits().map(Visit.init) }
    }

    public func cancelVisit(id: String) async throws(TiersPayError) -> Visit {
        try await mapErrors { Visit(try await payments.cancelVisit(id: id)) }
    }

    /// Answers a quote document (the JSON contract of the offline calculator, docs/coverage.md)
    /// with the figures as a JSON document. A malformed document is `invalidInput` naming the
    /// field by its dotted path (`act.amo_rate`), or `document` when it is not JSON. No core,
    /// no network.
    public static func quoteDocument(_ document: String) throws(TiersPayError) -> String {
        try mapErrors { try TiersPayCore.quoteDocument(document: document) }
    }

    /// HTTP requests sent since this client was built (a diagnostic).
    public var roundTrips: UInt64 { core.roundTrips() }

    /// The core library's version, e.g. `0.1.0`.
    public static var coreVersion: String { TiersPayCore.coreVersion() }
}

/// Feeds core events into an AsyncStream. Called on a core thread; yield does not block.
private final class StreamListener: SessionListener {
    let continuation: AsyncStream<SessionEvent>.Continuation
    init(_ continuation: AsyncStream<SessionEvent>.Continuation) { self.continuation = continuation }
    func onEvent(event: TiersPayCore.SessionEvent) { continuation.yield(SessionEvent(event)) }
}

/// Where links and push messages lead. The core decides; foreign links are refused.
public enum Router {
    /// A universal link (`https://app.tierspay.fr/…`) or a `tierspay://` URL.
    public static func route(forLink url: String) throws(TiersPayError) -> AppRoute {
        try mapErrors { AppRoute(try routeForLink(url: url)) }
    }

    public static func route(forLink url: URL) throws(TiersPayError) -> AppRoute {
        try route(forLink: url.absoluteString)
    }

    /// A push payload (`userInfo`); only its string entries are read (`link`, …).
    public static func route(forPush userInfo: [AnyHashable: Any]) throws(TiersPayError) -> AppRoute {
        var data: [String: String] = [:]
        for case let (key as String, value as String) in userInfo { data[key] = value }
        return try mapErrors { AppRoute(try routeForPush(data: data)) }
    }
}
