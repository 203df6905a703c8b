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
        case .cardUpdated: self = .cardUpdated
        }
    }
}

// MARK: Coverage

extension Money {
    /// An amount the core wrote (`19.00`); anything else is an answer that cannot be trusted.
    init(core text: String, _ what: String) throws(TiersPayError) {
        guard let money = Money(text) else {
            throw TiersPayError(kind: .internal, message: "The core sent \(what) that is not an amount in euros: \"\(text)\".")
        }
        self = money
    }
}

extension CoveredBeneficiary {
    init(_ b: TiersPayCore.CoveredBeneficiary) {
        self.init(
            id: b.id, firstName: b.firstName, lastName: b.lastName, birthDate: b.birthDate,
            relationship: Beneficiary.Relationship(wire: b.relationship), inParcours: b.inParcours, ald: b.ald
        )
    }
}

extension Act {
    init(_ a: TiersPayCore.Act) throws(TiersPayError) {
        self.init(code: a.code, label: a.label, category: a.category, base: try Money(core: a.base, "an act's base"))
    }
}

extension Provider {
    init(_ p: TiersPayCore.Provider) {
        self.init(
            id: p.id, code: p.code, name: p.name, specialty: p.specialty, sector: Int(p.sector),
            optam: p.optam, directAccess: p.directAccess, city: p.city, postcode: p.postcode
        )
    }
}

extension ProviderSearch {
    init(_ s: TiersPayCore.ProviderSearch) {
        self.init(providers: s.providers.map(Provider.init), offline: s.offline)
    }
}

extension Explanation {
    init(_ e: TiersPayCore.Explanation) {
        self.init(fr: e.fr, en: e.en)
    }
}

extension CoveragePreview {
    init(_ p: TiersPayCore.CoveragePreview) throws(TiersPayError) {
        guard let rate = FixedPoint.decimal(p.amoRate) else {
            throw TiersPayError(kind: .internal, message: "The core sent a statutory rate that is not a decimal: \"\(p.amoRate)\".")
        }
        var deductions: [Deduction] = []
        for d in p.deductions {
            deductions.append(Deduction(kind: .init(wire: d.kind), amount: try Money(core: d.amount, "a deduction")))
        }
        self.init(
            id: p.id, beneficiaryId: p.beneficiaryId, providerId: p.providerId, actCode: p.actCode, actLabel: p.actLabel,
            price: try Money(core: p.price, "a price"), date: p.date,
            amo: try Money(core: p.amo, "the statutory share"), amc: try Money(core: p.amc, "the complementary share"),
            member: try Money(core: p.member, "the member's share"), base: try Money(core: p.base, "a base"),
            amoRate: rate, guarantee: p.guarantee, deductions: deductions, explanations: p.explanations.map(Explanation.init)
        )
    }

    /// Back to the core's record, for `checkPreview`: the same strings the core wrote (money
    /// at two places, the rate at two places at least), so the id still commits to them.
    var core: TiersPayCore.CoveragePreview {
        TiersPayCore.CoveragePreview(
            id: id, beneficiaryId: beneficiaryId, providerId: providerId, actCode: actCode, actLabel: actLabel,
            price: price.description, date: date, amo: amo.description, amc: amc.description, member: member.description,
            base: base.description, amoRate: FixedPoint.string(amoRate, places: 2), guarantee: guarantee,
            deductions: deductions.map { TiersPayCore.Deduction(kind: $0.kind.wire, amount: $0.amount.description) },
            explanations: explanations.map { TiersPayCore.Explanation(fr: $0.fr, en: $0.en) }
        )
    }
}

extension PreviewCheck {
    init(_ c: TiersPayCore.PreviewCheck) throws(TiersPayError) {
        self.init(
            holds: c.holds, serverPreviewId: c.serverPreviewId,
            amo: try Money(core: c.amo, "the statutory share"), amc: try Money(core: c.amc, "the complementary share"),
            member: try Money(core: c.member, "the member's share")
        )
    }
}

extension SyncSummary {
    init(_ s: TiersPayCore.SyncSummary) {
        self.init(contractUpdated: s.contractUpdated, tariffsUpdated: s.tariffsUpdated, bytes: s.bytes)
    }
}

// MARK: Card

extension CardInfo {
    init(_ c: TiersPayCore.CardInfo) {
        self.init(
            id: c.id, last4: c.last4, expiry: c.expiry, brand: c.brand, status: Status(wire: c.status), frozen: c.frozen,
            applePayEligible: c.applePayEligible, googlePayEligible: c.googlePayEligible,
            controls: c.controls.map(Explanation.init), tokens: c.tokens.map(CardToken.init)
        )
    }
}

extension CardToken {
    init(_ t: TiersPayCore.CardToken) {
        self.init(id: t.id, wallet: Wallet(wire: t.wallet), deviceId: t.deviceId, last4: t.last4, status: Status(wire: t.status))
    }
}

extension CardDetails {
    init(_ d: TiersPayCore.CardDetails) {
        self.init(number: d.number, expiry: d.expiry, cvc: d.cvc)
    }
}

extension PaymentPassRequestData {
    init(_ p: TiersPayCore.ApplePayPassData) {
        self.init(encryptedPassData: p.encryptedPassData, activationData: p.activationData, ephemeralPublicKey: p.ephemeralPublicKey)
    }
}

extension AppRoute {
    init(_ r: TiersPayCore.Route) {
        switch r {
        case .home: self = .home
        case let .enroll(contractNumber): self = .enroll(contractNumber: contractNumber)
        case let .provider(code): self = .provider(code: code)
        case .card: self = .card
        }
    }
}

extension TiersPayCore.PushService {
    init(_ s: PushService) {
        switch s {
        case .apns: self = .apns
        case .fcm: self = .fcm
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
