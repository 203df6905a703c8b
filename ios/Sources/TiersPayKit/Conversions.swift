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
        self.init(id: c.id, number: c.number, insurerName: c.insurerName, productName: c.productName, startDate: c.startDate, status: Status(c.status))
    }
}

// The core's enums onto the shell's: one exhaustive switch each, nothing parsed here.

extension Contract.Status {
    init(_ s: TiersPayCore.ContractStatus) {
        switch s {
        case .active: self = .active
        case .suspended: self = .suspended
        case .terminated: self = .terminated
        case .unknown: self = .other
        }
    }
}

extension Beneficiary.Relationship {
    init(_ r: TiersPayCore.Relationship) {
        switch r {
        case .holder: self = .holder
        case .spouse: self = .spouse
        case .child: self = .child
        case .other: self = .other
        }
    }
}

extension Act.Category {
    init(_ c: TiersPayCore.CareCategory) {
        switch c {
        case .consultation: self = .consultation
        case .specialist: self = .specialist
        case .dental: self = .dental
        case .optical: self = .optical
        case .pharmacy: self = .pharmacy
        case .lab: self = .lab
        case .radiology: self = .radiology
        case .auxiliary: self = .auxiliary
        case .midwife: self = .midwife
        case .hospital: self = .hospital
        case .transport: self = .transport
        case .other: self = .other
        }
    }
}

extension Deduction.Kind {
    init(_ k: TiersPayCore.DeductionKind) {
        switch k {
        case .participationForfaitaire: self = .participationForfaitaire
        case .franchise: self = .franchise
        case .outOfParcours: self = .outOfParcours
        case .ceiling: self = .ceiling
        case .other: self = .other
        }
    }
}

extension CardInfo.Status {
    init(_ s: TiersPayCore.CardStatus) {
        switch s {
        case .active: self = .active
        case .inactive: self = .inactive
        case .canceled: self = .canceled
        case .unknown: self = .other
        }
    }
}

extension CardToken.Wallet {
    init(_ w: TiersPayCore.Wallet) {
        switch w {
        case .applePay: self = .applePay
        case .googlePay: self = .googlePay
        case .other: self = .other
        }
    }
}

extension CardToken.Status {
    init(_ s: TiersPayCore.TokenStatus) {
        switch s {
        case .requested: self = .requested
        case .active: self = .active
        case .suspended: self = .suspended
        case .deleted: self = .deleted
        case .unknown: self = .other
        }
    }
}

extension Beneficiary {
    init(_ b: TiersPayCore.Beneficiary) {
        self.init(id: b.id, firstName: b.firstName, lastName: b.lastName, birthDate: b.birthDate, relationship: Relationship(b.relationship))
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

extension Amount {
    init(_ a: TiersPayCore.Amount) {
        self.init(minorUnits: a.minorUnits, currency: a.currency, displayFr: a.displayFr, displayEn: a.displayEn)
    }
}

extension Money {
    init(_ m: TiersPayCore.Money) {
        self.init(minorUnits: m.minorUnits, currency: CurrencyCode(m.currency), display: m.display)
    }
}

extension CurrencyCode {
    init(_ c: TiersPayCore.CurrencyCode) {
        switch c {
        case .eur: self = .eur
        }
    }
}

extension Language {
    /// The core's enum for this reader.
    var core: TiersPayCore.Language {
        switch self {
        case .fr: return .fr
        case .en: return .en
        }
    }
}

extension CoveredBeneficiary {
    init(_ b: TiersPayCore.CoveredBeneficiary) {
        self.init(
            id: b.id, firstName: b.firstName, lastName: b.lastName, birthDate: b.birthDate,
            relationship: Beneficiary.Relationship(b.relationship), inParcours: b.inParcours, ald: b.ald
        )
    }
}

extension Act {
    init(_ a: TiersPayCore.Act) throws(TiersPayError) {
        self.init(code: a.code, label: a.label, category: Category(a.category), base: Amount(a.base))
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
            deductions.append(Deduction(kind: .init(d.kind), amount: Money(d.amount)))
        }
        self.init(
            id: p.id, actLabel: p.actLabel,
            price: Money(p.price), date: p.date,
            amo: Money(p.amo), amc: Money(p.amc),
            member: Money(p.member), base: Money(p.base),
            amoRate: rate, guarantee: p.guarantee, deductions: deductions
        )
    }
}

extension PreviewCheck {
    init(_ c: TiersPayCore.PreviewCheck) throws(TiersPayError) {
        self.init(
            holds: c.holds, serverPreviewId: c.serverPreviewId,
            amo: Amount(c.amo), amc: Amount(c.amc),
            member: Amount(c.member)
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
            id: c.id, last4: c.last4, expiry: c.expiry, brand: c.brand, status: Status(c.status), frozen: c.frozen,
            applePayEligible: c.applePayEligible, googlePayEligible: c.googlePayEligible,
            controls: c.controls.map(Explanation.init), tokens: c.tokens.map(CardToken.init)
        )
    }
}

extension CardToken {
    init(_ t: TiersPayCore.CardToken) {
        self.init(id: t.id, wallet: Wallet(t.wallet), deviceId: t.deviceId, last4: t.last4, status: Status(t.status))
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
        case let .paymentLink(url): self = .paymentLink(url: url)
        case let .invoiceThread(invoiceId): self = .invoiceThread(invoiceId: invoiceId)
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
            self.init(kind: .rejected(code: errorCodeText(code: code)), message: detail)
        case let .RateLimited(seconds):
            self.init(kind: .rateLimited(retryAfterSeconds: seconds), message: "Too many attempts. Try again in \(seconds) s.")
        case let .Network(detail):
            self.init(kind: .network, message: "The server could not be reached (\(detail)). Nothing was lost; try again later.")
        case .NotEnrolled:
            self.init(kind: .notEnrolled, message: "This device is not enrolled.")
        case let .NotSynced(detail):
            self.init(kind: .notSynced, message: detail)
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

/// Decimal strings as the core writes them, read digit by digit (no Double on the way).
enum FixedPoint {
    /// `-?\d{1,maxWholeDigits}(\.\d{1,4})?` as (all digits as an integer, decimals), or nil.
    static func parse(_ text: String, maxWholeDigits: Int) -> (value: Int64, scale: Int)? {
        var bytes = Array(text.utf8)[...]
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...maxWholeDigits).contains(whole.count) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : []
        guard parts.count == 1 || (1...4).contains(fraction.count) else { return nil }
        var value: Int64 = 0
        for byte in whole + fraction {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return (negative ? -value : value, fraction.count)
    }

    /// An exact Decimal of a decimal string (`0.70`), or nil.
    static func decimal(_ text: String) -> Decimal? {
        guard let (value, scale) = parse(text, maxWholeDigits: 15) else { return nil }
        return Decimal(sign: value < 0 ? .minus : .plus, exponent: -scale, significand: Decimal(value.magnitude))
    }
}

// MARK: Payments

extension MemberCard {
    init(_ c: TiersPayCore.MemberCard) {
        let status: Status
        switch c.status {
        case .active: status = .active
        case .requiresAction: status = .requiresAction
        case .failed: status = .failed
        }
        self.init(
            paymentMethod: c.paymentMethod, status: status, brand: c.brand, last4: c.last4, expiry: c.expiry,
            nextActionURL: c.nextActionUrl.flatMap(URL.init(string:)), declineCode: c.declineCode,
            decline: c.decline.map(Explanation.init)
        )
    }
}

extension Visit.Status {
    init(_ s: TiersPayCore.VisitStatus) {
        switch s {
        case .armed: self = .armed
        case .authorized: self = .authorized
        case .paid: self = .paid
        case .canceled: self = .canceled
        case .expired: self = .expired
        case .reversed: self = .reversed
        }
    }
}

extension Visit {
    init(_ v: TiersPayCore.Visit) {
        self.init(
            id: v.id, status: Status(v.status), isActive: v.active, beneficiaryId: v.beneficiaryId, providerId: v.providerId,
            providerName: v.providerName, actCode: v.actCode, date: v.date, price: Amount(v.price), amo: Amount(v.amo),
            amc: Amount(v.amc), member: Amount(v.member), previewId: v.previewId,
            created: Date(timeIntervalSince1970: TimeInterval(v.created)),
            expiresAt: Date(timeIntervalSince1970: TimeInterval(v.expiresAt)), lastDecline: v.lastDecline,
            summary: v.summary.map(Explanation.init), receipt: v.receipt.map(VisitReceipt.init)
        )
    }
}

extension VisitReceipt {
    init(_ r: TiersPayCore.VisitReceipt) {
        self.init(
            providerPaid: Amount(r.providerPaid), amo: Amount(r.amo), amc: Amount(r.amc),
            memberCaptured: Amount(r.memberCaptured), arrears: Amount(r.arrears),
            settledAt: Date(timeIntervalSince1970: TimeInterval(r.settledAt))
        )
    }
}

extension StaleFigures {
    init(_ f: TiersPayCore.StaleFigures) {
        self.init(previewId: f.previewId, amo: Amount(f.amo), amc: Amount(f.amc), member: Amount(f.member))
    }
}

extension VisitPayment {
    init(_ p: TiersPayCore.VisitPayment) {
        self.init(
            canAuthorize: p.canAuthorize, isAuthorizing: p.authorizing, isLocked: p.locked, visit: p.visit.map(Visit.init),
            stale: p.stale.map(StaleFigures.init), canCancel: p.canCancel, isCanceling: p.canceling, isRefreshing: p.refreshing
        )
    }
}
