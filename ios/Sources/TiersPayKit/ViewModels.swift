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
            case .enrolled, .profileUpdated:
                load()
            case .signedOut:
                screen = .enrollment(contractNumber: nil)
            case .ended:
                alert = TiersPayError(kind: .sessionEnded, message: "This device was signed out. Enroll it again to continue.")
                screen = .enrollment(contractNumber: nil)
            }
        }
    }

    /// The provider a desk QR code or link pointed at, shown over home once enrolled.
    /// (No provider screen yet: home shows the code; the search and quote come with coverage.)
    public private(set) var provider: String? {
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
            provider = code
            if case .launching = screen { load() }
        }
    }

    public func dismissProvider() { provider = nil }

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

#if canImport(Combine)
extension EnrollmentModel: ObservableObject {}
extension AppModel: ObservableObject {}
#endif
