import Foundation

/// What the visit screen shows, at the provider's desk: who the visit is for, which provider
/// (searched or scanned), which act, the amount asked, then who pays what (statutory insurance,
/// the complementary insurer, the member) with the deductions and the explanations in the
/// member's language, and finally whether the server, recomputing with the same code, agrees.
///
/// Pure value with pure transitions; VisitModel drives it. The step is not stored: it is the
/// first thing still missing, so clearing a choice (an error on it, or "change") goes back to it.
public struct VisitViewState: Equatable, Sendable {
    public enum Step: Equatable, Sendable {
        /// Reading the contract data on the phone (or downloading it the very first time).
        case loading
        case beneficiary
        case provider
        case act
        case amount
        /// The three amounts, deductions and explanations; the server's check below them.
        case result
    }

    /// Where an error is shown.
    public enum Field: Equatable, Hashable, Sendable {
        case beneficiary, search, provider, scan, act, price, date
        /// Not tied to one field: a banner above the form.
        case form
    }

    public struct FieldError: Equatable, Sendable {
        public var field: Field
        public var message: String
        /// The error as the adapter reported it.
        public var kind: TiersPayError.Kind

        public init(field: Field, message: String, kind: TiersPayError.Kind) {
            self.field = field
            self.message = message
            self.kind = kind
        }
    }

    /// The server's word on the preview shown.
    public enum ServerCheck: Equatable, Sendable {
        /// Asked; the phone's figures show meanwhile.
        case checking
        /// The server computed the same figures with the same code.
        case confirmed(serverPreviewId: String)
        /// The server's figures differ: its data changed since the last sync (a ceiling was
        /// consumed elsewhere). Syncing and pricing again brings the phone up to date.
        case changed(PreviewCheck)
        /// Not checked (offline, most often): the phone's figures stand; try again later.
        case unavailable(message: String, kind: TiersPayError.Kind)
    }

    /// Who pays a part of the price.
    public enum Share: Equatable, Hashable, Sendable, CaseIterable {
        /// Statutory insurance (Assurance Maladie).
        case amo
        /// The complementary insurer.
        case amc
        /// The member (reste à charge).
        case member

        public func label(in language: Language) -> String {
            switch (self, language) {
            case (.amo, .fr): return "Assurance Maladie"
            case (.amo, .en): return "Statutory health insurance"
            case (.amc, .fr): return "Votre complémentaire santé"
            case (.amc, .en): return "Your complementary insurer"
            case (.member, .fr): return "Reste à votre charge"
            case (.member, .en): return "You pay"
            }
        }
    }

    /// One amount of the result, ready to show.
    public struct ShareLine: Equatable, Hashable, Sendable {
        public var share: Share
        public var label: String
        public var amount: String
    }

    /// One deduction, ready to show.
    public struct DeductionLine: Equatable, Hashable, Sendable {
        public var label: String
        public var amount: String
    }

    public private(set) var language: Language

    public private(set) var isLoading: Bool
    /// The contract data was never downloaded on this phone: the visit needs one sync.
    public private(set) var needsSync: Bool
    public private(set) var isSyncing: Bool
    public private(set) var beneficiaries: [CoveredBeneficiary]
    /// Acts in force on `date`.
    public private(set) var acts: [Act]

    public private(set) var beneficiary: CoveredBeneficiary?

    /// The provider search as typed, and its optional filters.
    public private(set) var query: String
    public private(set) var specialty: String?
    public private(set) var city: String?
    /// Recently used first, then the directory's matches.
    public private(set) var results: [Provider]
    /// The directory could not be reached: `results` are providers used on this phone only.
    public private(set) var resultsOffline: Bool
    /// The search under way, if any: a newer search makes older answers stale.
    public private(set) var searchInFlight: Int?
    private var searchCounter: Int
    public private(set) var isSelectingProvider: Bool
    public private(set) var provider: Provider?

    public private(set) var act: Act?
    /// The amount as the member typed it (`30`, `30,50`); the core reads it.
    public private(set) var price: String
    /// Care date `YYYY-MM-DD`; nil for today in France.
    public private(set) var date: String?

    public private(set) var isPricing: Bool
    public private(set) var preview: CoveragePreview?
    public private(set) var check: ServerCheck?

    public private(set) var error: FieldError?

    public init(language: Language) {
        self.language = language
        isLoading = true
        needsSync = false
        isSyncing = false
        beneficiaries = []
        acts = []
        beneficiary = nil
        query = ""
        specialty = nil
        city = nil
        results = []
        resultsOffline = false
        searchInFlight = nil
        searchCounter = 0
        isSelectingProvider = false
        provider = nil
        act = nil
        price = ""
        date = nil
        isPricing = false
        preview = nil
        check = nil
        error = nil
    }

    // MARK: What the screen reads

    public var step: Step {
        if beneficiaries.isEmpty { return .loading }
        if beneficiary == nil { return .beneficiary }
        if provider == nil { return .provider }
        if act == nil { return .act }
        if preview == nil { return .amount }
        return .result
    }

    /// The message to show under `field`, if any.
    public func message(for field: Field) -> String? {
        error?.field == field ? error?.message : nil
    }

    public var isSearching: Bool { searchInFlight != nil }

    /// Any request under way that the form waits for.
    public var isBusy: Bool { isLoading || isSyncing || isSelectingProvider || isPricing }

    /// Whether "how much will I pay?" is enabled. Only presence is checked; the core reads the
    /// amount and its errors come back under the right field.
    public var canPrice: Bool {
        !isBusy && beneficiary != nil && provider != nil && act != nil
            && !price.trimmingCharacters(in: .whitespaces).isEmpty && preview == nil
    }

    /// An amount as the member reads it (`19,00 €` in French, `€19.00` in English).
    public func formatted(_ money: Money) -> String {
        money.formatted(locale: language.locale)
    }

    /// The three amounts of the preview, in the member's language: statutory insurance, the
    /// complementary insurer, the member.
    public var shares: [ShareLine] {
        guard let preview else { return [] }
        return lines(amo: preview.amo, amc: preview.amc, member: preview.member)
    }

    /// The server's three amounts, when they differ from the phone's.
    public var serverShares: [ShareLine] {
        guard case let .changed(answer) = check else { return [] }
        return lines(amo: answer.amo, amc: answer.amc, member: answer.member)
    }

    private func lines(amo: Money, amc: Money, member: Money) -> [ShareLine] {
        [(Share.amo, amo), (.amc, amc), (.member, member)].map { share, amount in
            ShareLine(share: share, label: share.label(in: language), amount: formatted(amount))
        }
    }

    /// The preview's explanations in the member's language.
    public var explanations: [String] {
        preview?.explanations(in: language) ?? []
    }

    public var deductionLines: [DeductionLine] {
        (preview?.deductions ?? []).map { DeductionLine(label: $0.kind.label(in: language), amount: formatted($0.amount)) }
    }

    /// The phone's figures and the server's no longer agree.
    public var isOutdated: Bool {
        if case .changed = check { return true }
        return false
    }

    // MARK: Transitions: loading and sync

    public mutating func set(language value: Language) {
        language = value
    }

    public mutating func loadStarted() {
        isLoading = true
    }

    /// Beneficiaries and acts read from the phone. Choices no longer in the lists are dropped.
    public mutating func loaded(beneficiaries list: [CoveredBeneficiary], acts actList: [Act]) {
        isLoading = false
        needsSync = false
        beneficiaries = list
        if let chosen = beneficiary {
            beneficiary = list.first { $0.id == chosen.id }
        }
        actsLoaded(actList)
        if error?.kind == .notSynced { error = nil }
    }

    /// Acts in force on the (new) date. A chosen act that no longer is gets dropped.
    public mutating func actsLoaded(_ list: [Act]) {
        acts = list
        if let chosen = act, let same = list.first(where: { $0.code == chosen.code }) {
            act = same
        } else if act != nil {
            act = nil
            clearPreview()
        }
    }

    public mutating func syncStarted() {
        isSyncing = true
        if error?.field == .form { error = nil }
    }

    public mutating func synced() {
        isSyncing = false
        needsSync = false
    }

    // MARK: Transitions: the member's choices

    public mutating func choose(beneficiary value: CoveredBeneficiary) {
        if beneficiary != value { clearPreview() }
        beneficiary = value
        clearError(on: .beneficiary)
    }

    public mutating func edit(query value: String) {
        query = value
        clearError(on: .search)
    }

    /// Filters for the search; nil or blank for any.
    public mutating func filter(specialty: String?, city: String?) {
        self.specialty = specialty.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        self.city = city.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        clearError(on: .search)
    }

    /// A search left; returns its token, to hand back with its answer.
    public mutating func searchStarted() -> Int {
        searchCounter += 1
        searchInFlight = searchCounter
        clearError(on: .search)
        return searchCounter
    }

    /// The answer of search `token`; ignored when a newer search started since.
    public mutating func searchFinished(_ token: Int, _ search: ProviderSearch) {
        guard token == searchInFlight else { return }
        searchInFlight = nil
        results = search.providers
        resultsOffline = search.offline
    }

    public mutating func searchFailed(_ token: Int, _ failure: TiersPayError) {
        guard token == searchInFlight else { return }
        searchInFlight = nil
        error = FieldError(field: Self.field(for: failure, fallback: .search), message: failure.message, kind: failure.kind)
    }

    /// Selecting a provider (a result tapped, a code scanned or a link followed) left.
    public mutating func selectingProvider() {
        isSelectingProvider = true
        clearError(on: .provider)
        clearError(on: .scan)
    }

    public mutating func providerSelected(_ value: Provider) {
        isSelectingProvider = false
        if provider != value { clearPreview() }
        provider = value
        clearError(on: .provider)
        clearError(on: .scan)
    }

    /// Selecting failed; `scanned` when the text came from the camera: the error shows by the
    /// scan button then (not a provider code, a code nobody has, offline), where the member looks.
    public mutating func selectFailed(_ failure: TiersPayError, scanned: Bool) {
        isSelectingProvider = false
        let field: Field = scanned ? .scan : Self.field(for: failure, fallback: .provider)
        error = FieldError(field: field, message: failure.message, kind: failure.kind)
    }

    /// Back to choosing who the visit is for; the provider, act and amount stay, so choosing
    /// again goes straight back to pricing.
    public mutating func changeBeneficiary() {
        beneficiary = nil
        clearPreview()
    }

    /// Back to finding a provider; the other choices stay.
    public mutating func changeProvider() {
        provider = nil
        clearPreview()
    }

    /// Back to choosing the act; the other choices stay.
    public mutating func changeAct() {
        act = nil
        clearPreview()
    }

    public mutating func choose(act value: Act) {
        if act != value { clearPreview() }
        act = value
        clearError(on: .act)
    }

    public mutating func edit(price value: String) {
        if value != price { clearPreview() }
        price = value
        clearError(on: .price)
    }

    /// The care date (`YYYY-MM-DD`), nil for today. The acts in force may change: reload them.
    public mutating func edit(date value: String?) {
        if value != date { clearPreview() }
        date = value
        clearError(on: .date)
    }

    /// One step back: the latest choice is cleared.
    public mutating func back() {
        switch step {
        case .loading, .beneficiary: break
        case .provider: beneficiary = nil
        case .act: provider = nil
        case .amount: act = nil
        case .result: clearPreview()
        }
        error = nil
    }

    /// Another visit: every choice cleared but the date (the acts are those in force then);
    /// the lists and the language stay.
    public mutating func newVisit() {
        var fresh = VisitViewState(language: language)
        fresh.isLoading = isLoading
        fresh.needsSync = needsSync
        fresh.beneficiaries = beneficiaries
        fresh.acts = acts
        fresh.date = date
        fresh.searchCounter = searchCounter
        self = fresh
    }

    // MARK: Transitions: pricing and the server's check

    /// What a preview is asked for: the choices when pricing started.
    public struct PricingRequest: Equatable, Hashable, Sendable {
        public var beneficiaryId: String
        public var providerId: String
        public var actCode: String
        public var price: String
        public var date: String?

        public init(beneficiaryId: String, providerId: String, actCode: String, price: String, date: String?) {
            self.beneficiaryId = beneficiaryId
            self.providerId = providerId
            self.actCode = actCode
            self.price = price
            self.date = date
        }
    }

    /// The choices as they stand, when complete.
    public var pricingRequest: PricingRequest? {
        guard let beneficiary, let provider, let act else { return nil }
        return PricingRequest(beneficiaryId: beneficiary.id, providerId: provider.id, actCode: act.code, price: price, date: date)
    }

    /// Pricing left; returns what it is for, nil when it cannot start (see `canPrice`).
    public mutating func pricingStarted() -> PricingRequest? {
        guard canPrice, let request = pricingRequest else { return nil }
        isPricing = true
        if error?.field == .form || error?.field == .price { error = nil }
        return request
    }

    /// The phone's figures for `request`: the result shows; the server's check comes next.
    /// Ignored when the member changed a choice meanwhile.
    public mutating func priced(_ value: CoveragePreview, for request: PricingRequest) {
        isPricing = false
        guard request == pricingRequest else { return }
        preview = value
        check = .checking
        error = nil
    }

    /// The phone's figures are dropped (to price again after a sync).
    public mutating func discardPreview() {
        clearPreview()
    }

    /// The preview was refused. The choice at fault is cleared, so the screen goes back to it
    /// with the error beside it; the amount stays as typed, to be corrected.
    public mutating func pricingFailed(_ failure: TiersPayError, for request: PricingRequest) {
        isPricing = false
        guard request == pricingRequest else { return }
        let field = Self.field(for: failure, fallback: .form)
        switch field {
        case .beneficiary: beneficiary = nil
        case .provider: provider = nil
        case .act: act = nil
        default: break
        }
        error = FieldError(field: field, message: failure.message, kind: failure.kind)
    }

    public mutating func checkStarted(for previewId: String) {
        guard preview?.id == previewId else { return }
        check = .checking
    }

    /// The server's answer about preview `previewId`; ignored if another preview shows now.
    public mutating func checked(_ answer: PreviewCheck, for previewId: String) {
        guard preview?.id == previewId else { return }
        check = answer.holds ? .confirmed(serverPreviewId: answer.serverPreviewId) : .changed(answer)
    }

    public mutating func checkFailed(_ failure: TiersPayError, for previewId: String) {
        guard preview?.id == previewId else { return }
        check = .unavailable(message: failure.message, kind: failure.kind)
    }

    // MARK: Errors

    /// A failure not tied to a choice (loading, sync): a banner. Never synced: say so.
    public mutating func failed(_ failure: TiersPayError) {
        isLoading = false
        isSyncing = false
        if failure.kind == .notSynced { needsSync = true }
        error = FieldError(field: Self.field(for: failure, fallback: .form), message: failure.message, kind: failure.kind)
    }

    public mutating func dismissError() {
        error = nil
    }

    /// Where an error from the core goes: the field it names, else `fallback`.
    static func field(for failure: TiersPayError, fallback: Field) -> Field {
        switch failure.field {
        case "beneficiary_id": return .beneficiary
        case "provider_id", "provider": return .provider
        case "scan": return .scan
        case "query", "specialty", "city": return .search
        case "act_code": return .act
        case "price": return .price
        case "date": return .date
        case .some: return .form
        case nil: return fallback
        }
    }

    private mutating func clearPreview() {
        preview = nil
        check = nil
    }

    private mutating func clearError(on field: Field) {
        if error?.field == field { error = nil }
    }
}
