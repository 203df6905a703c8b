import Foundation
#if canImport(Combine)
import Combine
#endif

// The screens' models. Plain main-actor classes, so they build and are tested on Linux; on
// Apple platforms they are also ObservableObjects for SwiftUI. (Observation's @Observable
// would do, but Debian's swiftlang cannot link libswiftObservation, and iOS 16 lacks it.)

/// Drives the enrollment screens.
@MainActor
public final class EnrollmentModel {
    public private(set) var state: EnrollmentViewState {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    private let service: any EnrollmentService

    public init(service: any EnrollmentService, contractNumber: String? = nil) {
        self.service = service
        state = EnrollmentViewState(contractNumber: contractNumber)
    }

    public func edit(contractNumber: String) { state.edit(contractNumber: contractNumber) }
    public func edit(birthDate: String) { state.edit(birthDate: birthDate) }
    public func edit(code: String) { state.edit(code: code) }
    public func restart() { state.restart() }

    /// The birth date from a date picker, as the core wants it (`YYYY-MM-DD`, Gregorian).
    public func edit(birthDate date: Date, in timeZone: TimeZone = .current) {
        state.edit(birthDate: Self.isoDate(date, timeZone: timeZone))
    }

    /// Sends the contract form; on success the code step follows.
    public func submitContract() async {
        guard case .contract = state.step, !state.isSubmitting else { return }
        state.submitted()
        do {
            let challenge = try await service.startEnrollment(
                contractNumber: state.contractNumber.trimmingCharacters(in: .whitespaces),
                birthDate: state.birthDate
            )
            state.challengeReceived(challenge)
        } catch {
            state.failed(error)
        }
    }

    /// Sends the code; on success the device is enrolled.
    public func submitCode() async {
        guard case let .code(enrollmentId, _, _) = state.step, !state.isSubmitting else { return }
        state.submitted()
        do {
            let profile = try await service.confirmEnrollment(enrollmentId: enrollmentId, code: state.code)
            state.enrolled(profile)
        } catch {
            state.failed(error)
        }
    }

    /// Sends a new code for the same contract and birth date.
    public func resendCode() async {
        guard case .code = state.step, !state.isSubmitting else { return }
        state.restart()
        await submitContract()
    }

    nonisolated static func isoDate(_ date: Date, timeZone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        let pad = { (n: Int?, w: Int) in String(repeating: "0", count: max(0, w - String(n ?? 0).count)) + String(n ?? 0) }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))"
    }
}

/// The app's top level: which screen shows, from the session and from links.
@MainActor
public final class AppModel {
    public enum Screen: Equatable {
        /// Reading the local session (instant; no network).
        case launching
        case enrollment(contractNumber: String?)
        case home(Profile)
    }

    public private(set) var screen: Screen = .launching {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
        didSet {
            // The card screen belongs to a signed-in member.
            if case .home = screen {} else { showingCard = false }
        }
    }

    /// An error to show as an alert (sign-out that failed, unknown link…).
    public private(set) var alert: TiersPayError? {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    public let service: any TiersPayService

    public init(service: any TiersPayService) {
        self.service = service
    }

    /// Shows home or enrollment from what is stored locally.
    public func load() {
        do {
            switch try service.sessionState() {
            case let .enrolled(profile): screen = .home(profile)
            case .notEnrolled: screen = .enrollment(contractNumber: nil)
            }
        } catch {
            alert = error
            screen = .enrollment(contractNumber: nil)
        }
    }

    /// Follows session events until the stream ends (run it in a `.task`).
    public func observeSession() async {
        for await event in service.sessionEvents() {
            switch event {
            case .enrolled:
                load()
                // Sign-out made the core forget the push token: hand it over again for this
                // enrollment (one given before enrollment went with it; then this sends nothing).
                if let pushToken { await register(pushToken) }
            case .profileUpdated:
                load()
            case .signedOut:
                screen = .enrollment(contractNumber: nil)
            case .ended:
                alert = TiersPayError(kind: .sessionEnded, message: "This device was signed out. Enroll it again to continue.")
                screen = .enrollment(contractNumber: nil)
            case .cardUpdated:
                break // the card screen follows it itself
            }
        }
    }

    /// A visit to price: started from home, or from a provider's desk QR code or link (then with
    /// its code). Shown over home once enrolled; kept while enrolling.
    public struct VisitLaunch: Identifiable, Equatable, Sendable {
        public let id: UUID
        /// The provider to select first (`/p/{code}` links), if any.
        public let providerCode: String?

        public init(providerCode: String?) {
            id = UUID()
            self.providerCode = providerCode
        }
    }

    public private(set) var visit: VisitLaunch? {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    /// A link or push already turned into a route (see Router).
    public func open(_ route: AppRoute) {
        switch (route, screen) {
        case (.home, _):
            load()
        case let (.enroll(contractNumber), .enrollment), let (.enroll(contractNumber), .launching):
            screen = .enrollment(contractNumber: contractNumber)
        case (.enroll, .home):
            break // already enrolled: enrolling again would sign this device out; stay home
        case let (.provider(code), _):
            visit = VisitLaunch(providerCode: code)
            if case .launching = screen { load() }
        case (.card, .home):
            visit = nil
            showingCard = true
        case (.card, .launching):
            load()
            if case .home = screen { showingCard = true }
        case (.card, .enrollment):
            break // a push about the card of a member no longer signed in here
        }
    }

    /// The card screen, shown over home: from its button, or a push about the card.
    public private(set) var showingCard = false {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    public func showCard() { showingCard = true }

    public func dismissCard() { showingCard = false }

    /// The device's push token, kept to hand it over again after an enrollment.
    public private(set) var pushToken: PushToken?

    /// The OS gave the app its push token (at every launch, and when it changes): the core
    /// registers it with the platform, now or right after enrollment. A failure shows nothing:
    /// the core keeps the token (offline, not enrolled yet), and the next launch hands it again.
    public func register(_ token: PushToken) async {
        pushToken = token
        try? await service.registerPushToken(service: token.service, token: token.value)
    }

    /// "How much will I pay?" from home.
    public func startVisit() { visit = VisitLaunch(providerCode: nil) }

    public func dismissVisit() { visit = nil }

    /// A model for the visit screen; it selects the launch's provider when it loads.
    public func makeVisitModel(for launch: VisitLaunch, language: Language = .preferred()) -> VisitModel {
        VisitModel(service: service, language: language, providerCode: launch.providerCode)
    }

    /// A universal link or `tierspay://` URL; foreign links are refused with an alert.
    public func open(link url: URL) {
        do {
            open(try Router.route(forLink: url))
        } catch {
            alert = error
        }
    }

    public func refreshProfile() async {
        do {
            screen = .home(try await service.refreshProfile())
        } catch {
            alert = error
            if error.kind == .sessionEnded { screen = .enrollment(contractNumber: nil) }
        }
    }

    public func signOut() async {
        do {
            try await service.signOut()
            screen = .enrollment(contractNumber: nil)
        } catch {
            alert = error
        }
    }

    public func dismissAlert() { alert = nil }

    /// A model for the enrollment screen; the contract number comes from a link when any.
    public func makeEnrollmentModel(contractNumber: String?) -> EnrollmentModel {
        EnrollmentModel(service: service, contractNumber: contractNumber)
    }
}

/// Drives the visit screen: who, where, which act, how much, then who pays what and whether
/// the server agrees. Contract data, acts and previews are read on the phone (offline); only
/// the directory search, selecting an unknown provider, sync and the check need the server.
@MainActor
public final class VisitModel {
    public private(set) var state: VisitViewState {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    private let service: any CoverageService
    /// From a provider's QR code or link: selected once loading is done.
    private var pendingProviderCode: String?

    /// Providers asked of the directory per search.
    public static let searchLimit = 20

    public init(service: any CoverageService, language: Language = .preferred(), providerCode: String? = nil) {
        self.service = service
        pendingProviderCode = providerCode
        state = VisitViewState(language: language)
    }

    /// Reads beneficiaries and acts from the phone; the first time ever (never synced), downloads
    /// them first. Then selects the provider of the QR code or link that opened the visit, and
    /// lists the recently used providers.
    public func load() async {
        state.loadStarted()
        do {
            try read()
        } catch where error.kind == .notSynced {
            state.failed(error)
            await sync()
        } catch {
            state.failed(error)
        }
        if let code = pendingProviderCode {
            pendingProviderCode = nil
            await selectProvider(code, scanned: false)
        }
        if state.provider == nil, state.results.isEmpty { await search() }
    }

    /// Downloads what changed of the contract data, then reads it again.
    public func sync() async {
        guard !state.isSyncing else { return }
        state.syncStarted()
        do {
            _ = try await service.syncCoverage()
            state.synced()
            try read()
        } catch {
            state.failed(error)
        }
    }

    private func read() throws(TiersPayError) {
        let beneficiaries = try service.coveredBeneficiaries()
        let acts = try service.acts(on: state.date)
        state.loaded(beneficiaries: beneficiaries, acts: acts)
    }

    public func set(language: Language) { state.set(language: language) }

    public func choose(beneficiary: CoveredBeneficiary) { state.choose(beneficiary: beneficiary) }

    public func changeBeneficiary() { state.changeBeneficiary() }

    // MARK: Provider

    public func edit(query: String) { state.edit(query: query) }

    public func filter(specialty: String?, city: String?) { state.filter(specialty: specialty, city: city) }

    /// Searches with the query and filters as they stand; an older search's answer is dropped.
    public func search() async {
        let token = state.searchStarted()
        do {
            let found = try await service.searchProviders(query: state.query, specialty: state.specialty, city: state.city, limit: Self.searchLimit)
            state.searchFinished(token, found)
        } catch {
            state.searchFailed(token, error)
        }
    }

    /// A search result tapped.
    public func select(_ provider: Provider) async {
        await selectProvider(provider.id, scanned: false)
    }

    /// The text the camera read from a desk QR code, as it is: the core decides what it is.
    public func scanned(_ text: String) async {
        await selectProvider(text, scanned: true)
    }

    /// A provider code typed, or from a link.
    public func open(providerCode code: String) async {
        await selectProvider(code, scanned: false)
    }

    private func selectProvider(_ key: String, scanned: Bool) async {
        state.selectingProvider()
        do {
            state.providerSelected(try await service.selectProvider(key))
        } catch {
            state.selectFailed(error, scanned: scanned)
        }
    }

    public func changeProvider() { state.changeProvider() }

    // MARK: Act, amount, date

    public func choose(act: Act) { state.choose(act: act) }

    public func changeAct() { state.changeAct() }

    /// Back from the result to the amount (the figures are dropped).
    public func changeAmount() { state.discardPreview() }

    public func edit(price: String) { state.edit(price: price) }

    /// The care date (`YYYY-MM-DD`, nil for today); the acts in force that day are read again.
    public func edit(date: String?) {
        state.edit(date: date)
        do {
            state.actsLoaded(try service.acts(on: date))
        } catch {
            state.failed(error)
        }
    }

    /// The care date from a date picker.
    public func edit(date: Date, in timeZone: TimeZone = .current) {
        edit(date: EnrollmentModel.isoDate(date, timeZone: timeZone))
    }

    public func back() { state.back() }

    public func newVisit() { state.newVisit() }

    public func dismissError() { state.dismissError() }

    // MARK: Pricing and the server's check

    /// Prices the visit on the phone (off the main actor), shows it, then asks the server.
    public func price() async {
        guard let request = state.pricingStarted() else { return }
        do {
            let preview = try await service.preview(
                beneficiaryId: request.beneficiaryId, providerId: request.providerId,
                actCode: request.actCode, price: request.price, date: request.date
            )
            state.priced(preview, for: request)
        } catch {
            state.pricingFailed(error, for: request)
            return
        }
        await checkWithServer()
    }

    /// Asks the server whether the figures shown still hold (again, after being offline).
    public func checkWithServer() async {
        guard let preview = state.preview else { return }
        state.checkStarted(for: preview.id)
        do {
            state.checked(try await service.checkPreview(preview), for: preview.id)
        } catch {
            state.checkFailed(error, for: preview.id)
        }
    }

    /// The server's figures differ: download what changed and price the visit again.
    public func syncAndPriceAgain() async {
        await sync()
        guard state.error == nil else { return }
        state.discardPreview()
        await price()
    }
}

#if canImport(Combine)
extension EnrollmentModel: ObservableObject {}
extension VisitModel: ObservableObject {}
extension AppModel: ObservableObject {}
#endif
