import Foundation
#if canImport(Combine)
import Combine
#endif

// The screens' models. Plain main-actor classes, so they build and are tested on Linux; on
// Apple platforms they are also ObservableObjects for SwiftUI. (Observation's @Observable
// would do, but Debian's swiftlang cannot link libswiftObservation, and iOS 16 lacks it.)

/// A flow of the core (`VisitFlowModel`, `EnrollmentFlowModel`): its states as a stream and the
/// newest one. The flows decide; the shell only shows their states and forwards intents.
public protocol FlowModel: AnyObject, Sendable {
    associatedtype Snapshot: Sendable
    var states: AsyncStream<Snapshot> { get }
    var state: Snapshot? { get }
}

extension VisitFlowModel: FlowModel {}
extension EnrollmentFlowModel: FlowModel {}

/// A screen's flow on the main actor, for SwiftUI: `state` is the flow's newest state, kept by
/// `follow()`; intents go to `flow`. Decides nothing.
@MainActor
public final class ScreenFlow<Flow: FlowModel> {
    public let flow: Flow

    public private(set) var state: Flow.Snapshot? {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    public init(_ flow: Flow) {
        self.flow = flow
        state = flow.state
    }

    /// Keeps `state` up to date until the flow ends or the task is cancelled (run it in a `.task`).
    public func follow() async {
        for await next in flow.states { state = next }
    }
}

/// A day as the core reads it (`YYYY-MM-DD`, Gregorian), from a date picker's `Date`.
public enum CalendarDay {
    public static func iso(_ date: Date, in timeZone: TimeZone = .current) -> String {
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
                break  // the card screen follows it itself
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
            break  // already enrolled: enrolling again would sign this device out; stay home
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
            break  // a push about the card of a member no longer signed in here
        case let (.paymentLink(url), .home):
            paymentLink = PaymentLinkLaunch(url: url)
        case let (.paymentLink(url), .launching):
            paymentLink = PaymentLinkLaunch(url: url)
            load()
        case (.paymentLink, .enrollment):
            break  // no member on this phone to check the link against: the core would refuse it
        case let (.invoiceThread(invoiceId), .home), let (.invoiceThread(invoiceId), .launching):
            thread = invoiceId
        case (.invoiceThread, .enrollment):
            break  // a push for a member no longer signed in here
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

    /// A payment link the app was opened with (a universal link, `tierspay://l/…`, a push):
    /// shown over home by the arrears sheet, whose flow has the core verify it.
    public struct PaymentLinkLaunch: Identifiable, Equatable, Sendable {
        public let id: UUID
        public let url: String

        public init(url: String) {
            id = UUID()
            self.url = url
        }
    }

    public private(set) var paymentLink: PaymentLinkLaunch? {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    public func dismissPaymentLink() { paymentLink = nil }

    /// The invoice whose message thread a push asked to open; nil when none.
    public private(set) var thread: String? {
        willSet {
            #if canImport(Combine)
            objectWillChange.send()
            #endif
        }
    }

    public func dismissThread() { thread = nil }

    /// The thread screen's flow for an invoice.
    public func makeThreadFlow(invoiceId: String) -> ThreadFlowModel {
        service.threadFlow(invoiceId: invoiceId)
    }

    /// The arrears sheet's flow for a link: the core verifies it before anything shows.
    public func makeArrearsFlow(for launch: PaymentLinkLaunch) -> ArrearsFlowModel {
        let flow = service.arrearsFlow()
        flow.open(link: launch.url)
        return flow
    }

    /// The visit screen's flow; the core selects the launch's provider once it has loaded.
    public func makeVisitFlow(for launch: VisitLaunch) -> ScreenFlow<VisitFlowModel> {
        ScreenFlow(service.visitFlow(providerCode: launch.providerCode))
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

    /// The enrollment screen's flow; the contract number comes from a link when any.
    public func makeEnrollmentFlow(contractNumber: String?) -> ScreenFlow<EnrollmentFlowModel> {
        ScreenFlow(service.enrollmentFlow(contractNumber: contractNumber))
    }
}

#if canImport(Combine)
extension ScreenFlow: ObservableObject {}
extension AppModel: ObservableObject {}
#endif
