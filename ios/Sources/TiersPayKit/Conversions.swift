import Foundation
internal import TiersPayCore

// Generated types -> the shell's models. The only file besides the client and the bridges that
// names generated types; all of it internal.

extension Member {
    init(_ m: TiersPayCore.Member) {
        self.init(id: m.id, firstName: m.firstName, lastName: m.lastName, phoneMasked: m.phoneMasked, emailMasked: m.emailMasked)
    }
}

extension Contract {
    init(_ c: TiersPayCore.Contract) {
        self.init(id: c.id, number: c.number, insurerName: c.insurerName, productName: c.productName, startDate: c.startDate, status: c.status)
    }
}

extension Beneficiary {
    init(_ b: TiersPayCore.Beneficiary) {
        self.init(id: b.id, firstName: b.firstName, lastName: b.lastName, birthDate: b.birthDate, relationship: Relationship(wire: b.relationship))
    }
}

extension Profile {
    init(_ p: TiersPayCore.Profile) {
        self.init(
            deviceId: p.deviceId,
            enrolledAt: Date(timeIntervalSince1970: TimeInterval(p.enrolledAt)),
            member: Member(p.member),
            contract: Contract(p.contract),
            beneficiaries: p.beneficiaries.map(Beneficiary.init)
        )
    }
}

extension EnrollmentChallenge {
    init(_ c: TiersPayCore.EnrollmentChallenge) {
        self.init(
            enrollmentId: c.enrollmentId,
            phoneMasked: c.phoneMasked,
            codeLength: Int(c.codeLength),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(c.expiresAt))
        )
    }
}

extension SessionState {
    init(_ s: TiersPayCore.SessionStatus) {
        if s.enrolled, let profile = s.profile {
            self = .enrolled(Profile(profile))
        } else {
            self = .notEnrolled
        }
    }
}

extension SessionEvent {
    init(_ e: TiersPayCore.SessionEvent) {
        switch e {
        case .enrolled: self = .enrolled
        case .profileUpdated: self = .profileUpdated
        case .signedOut: self = .signedOut
        case .ended: self = .ended
        }
    }
}

extension AppRoute {
    init(_ r: TiersPayCore.Route) {
        switch r {
        case .home: self = .home
        case let .enroll(contractNumber): self = .enroll(contractNumber: contractNumber)
        case let .provider(code): self = .provider(code: code)
        }
    }
}

extension TiersPayError {
    /// Any error thrown across the FFI, as the shell's error.
    init(_ error: any Error) {
        switch error {
        case let e as TiersPayError:
            self = e
        case let e as CoreError:
            self.init(core: e)
        case let e as PlatformError:
            switch e {
            case let .Failed(detail): self.init(kind: .platform, message: detail)
            }
        default:
            // UniffiInternalError and the like: a bug, never the member's fault.
            self.init(kind: .internal, message: String(describing: error))
        }
    }

    private init(core e: CoreError) {
        switch e {
        case let .InvalidInput(field, detail):
            self.init(kind: .invalidInput(field: field), message: detail)
        case let .Rejected(code, detail):
            self.init(kind: .rejected(code: code), message: detail)
        case let .RateLimited(seconds):
            self.init(kind: .rateLimited(retryAfterSeconds: seconds), message: "Too many attempts. Try again in \(seconds) s.")
        case let .Network(detail):
            self.init(kind: .network, message: "The server could not be reached (\(detail)). Nothing was lost; try again later.")
        case .NotEnrolled:
            self.init(kind: .notEnrolled, message: "This device is not enrolled.")
        case let .SessionEnded(detail):
            self.init(kind: .sessionEnded, message: detail)
        case let .Platform(detail):
            self.init(kind: .platform, message: detail)
        case let .Internal(detail):
            self.init(kind: .internal, message: detail)
        }
    }
}

/// Runs a throwing FFI call and rethrows its error as a TiersPayError.
@inline(__always)
func mapErrors<T>(_ body: () throws -> T) throws(TiersPayError) -> T {
    do { return try body() } catch { throw TiersPayError(error) }
}

@inline(__always)
func mapErrors<T: Sendable>(_ body: () async throws -> T) async throws(TiersPayError) -> T {
    do { return try await body() } catch { throw TiersPayError(error) }
}
