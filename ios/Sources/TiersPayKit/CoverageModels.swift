import Foundation

// The coverage area's models: who is covered, providers, acts, and a visit's preview (who pays
// what). The shell's own types, like Models.swift; Conversions.swift maps the core's onto them.

/// The languages the core writes explanations in.
public enum Language: String, Equatable, Hashable, Sendable, CaseIterable {
    case fr, en

    /// The first of `preferredLanguages` (`fr-FR`, `en-GB`, …) that the core writes in;
    /// French, the product's language, when there is none.
    public static func preferred(from preferredLanguages: [String] = Locale.preferredLanguages) -> Language {
        for tag in preferredLanguages {
            let code = tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init)
            if let language = code.flatMap(Language.init(rawValue:)) { return language }
        }
        return .fr
    }

}

/// An amount of money as the core sends it: whole minor units (cents) and the currency, with the
/// text to show written by the core for French and English readers. The shell computes and
/// formats no money: it shows `text(in:)`; `minorUnits` is for comparing (is anything left to pay?).
public struct Amount: Equatable, Hashable, Sendable {
    /// 1900 for 19.00 €.
    public var minorUnits: Int64
    /// ISO 4217 (`EUR`).
    public var currency: String
    /// `19,00 €`.
    public var displayFr: String
    /// `€19.00`.
    public var displayEn: String

    public init(minorUnits: Int64, currency: String, displayFr: String, displayEn: String) {
        self.minorUnits = minorUnits
        self.currency = currency
        self.displayFr = displayFr
        self.displayEn = displayEn
    }

    /// The core's text for a reader of `language`.
    public func text(in language: Language) -> String {
        switch language {
        case .fr: return displayFr
        case .en: return displayEn
        }
    }

    public var isZero: Bool { minorUnits == 0 }
}

/// The currency of a preview's amount: the core's enum, one case per currency it formats.
public enum CurrencyCode: Equatable, Hashable, Sendable {
    case eur
}

/// An amount of a preview as the core sends it: whole minor units and the currency, with the one
/// text the core wrote for the reader the preview was asked for. The shell formats no money.
public struct Money: Equatable, Hashable, Sendable {
    /// 1900 for 19.00 €.
    public var minorUnits: Int64
    /// The core's currency enum (`.eur`): matched on, never parsed.
    public var currency: CurrencyCode
    /// `19,00 €` or `€19.00`, in the language asked.
    public var display: String

    public init(minorUnits: Int64, currency: CurrencyCode, display: String) {
        self.minorUnits = minorUnits
        self.currency = currency
        self.display = display
    }

    public var isZero: Bool { minorUnits == 0 }
}

/// A sentence the core wrote in both languages; shown as it is.
public struct Explanation: Equatable, Hashable, Sendable {
    public var fr: String
    public var en: String

    public init(fr: String, en: String) {
        self.fr = fr
        self.en = en
    }

    public func text(in language: Language) -> String {
        switch language {
        case .fr: return fr
        case .en: return en
        }
    }
}

/// A beneficiary as the coverage rules see them: the people a visit can be for.
public struct CoveredBeneficiary: Equatable, Hashable, Sendable, Identifiable {
    /// Pass it to `preview`.
    public var id: String
    public var firstName: String
    public var lastName: String
    /// `YYYY-MM-DD`.
    public var birthDate: String
    public var relationship: Beneficiary.Relationship
    /// A médecin traitant is declared (visits outside the parcours are covered less).
    public var inParcours: Bool
    /// Long-term condition (ALD).
    public var ald: Bool

    public init(id: String, firstName: String, lastName: String, birthDate: String, relationship: Beneficiary.Relationship, inParcours: Bool, ald: Bool) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.birthDate = birthDate
        self.relationship = relationship
        self.inParcours = inParcours
        self.ald = ald
    }

    public var displayName: String { "\(firstName) \(lastName)" }
}

/// An act of the tariff catalogue (`G`, `GMEG`, `C`, `OPT-MONTURE`, …).
public struct Act: Equatable, Hashable, Sendable, Identifiable {
    public var code: String
    public var label: String
    /// The care category, as the core read it.
    public enum Category: Equatable, Hashable, Sendable {
        case consultation, specialist, dental, optical, pharmacy, lab, radiology, auxiliary, midwife, hospital, transport
        /// Anything else the catalogue lists.
        case other
    }

    public var category: Category
    /// Base de remboursement.
    public var base: Amount

    public init(code: String, label: String, category: Category, base: Amount) {
        self.code = code
        self.label = label
        self.category = category
        self.base = base
    }

    public var id: String { code }
}

/// A healthcare provider.
public struct Provider: Equatable, Hashable, Sendable, Identifiable {
    /// `prv_…`: pass it to `preview`.
    public var id: String
    /// The 6-character code on the desk QR code.
    public var code: String
    public var name: String
    public var specialty: String
    /// Convention sector: 1, 2 or 3.
    public var sector: Int
    /// Member of OPTAM (capped extra fees).
    public var optam: Bool
    /// A specialty seen without the médecin traitant's referral.
    public var directAccess: Bool
    public var city: String
    public var postcode: String

    public init(id: String, code: String, name: String, specialty: String, sector: Int, optam: Bool, directAccess: Bool, city: String, postcode: String) {
        self.id = id
        self.code = code
        self.name = name
        self.specialty = specialty
        self.sector = sector
        self.optam = optam
        self.directAccess = directAccess
        self.city = city
        self.postcode = postcode
    }
}

/// Providers found: recently used ones from the phone first, then the server's directory.
public struct ProviderSearch: Equatable, Hashable, Sendable {
    public var providers: [Provider]
    /// The server could not be reached: only providers used on this phone were searched.
    public var offline: Bool

    public init(providers: [Provider], offline: Bool) {
        self.providers = providers
        self.offline = offline
    }
}

/// An amount the member's share includes, or where a cover stops.
public struct Deduction: Equatable, Hashable, Sendable {
    public enum Kind: Equatable, Hashable, Sendable {
        /// The 2 € per consultation statutory insurance keeps (capped per year).
        case participationForfaitaire
        /// Per-box / per-act franchise (medicines, paramedical acts, transport).
        case franchise
        /// Statutory cover reduced: no médecin traitant, or not referred by them.
        case outOfParcours
        /// The contract's yearly ceiling for the category was reached.
        case ceiling
        /// A kind this version of the app does not know yet.
        case other

        /// A short label; the explanations say the why.
        public func label(in language: Language) -> String {
            switch (self, language) {
            case (.participationForfaitaire, .fr): return "Participation forfaitaire"
            case (.participationForfaitaire, .en): return "Flat-rate contribution"
            case (.franchise, .fr): return "Franchise médicale"
            case (.franchise, .en): return "Medical deductible"
            case (.outOfParcours, .fr): return "Hors parcours de soins"
            case (.outOfParcours, .en): return "Outside the coordinated care pathway"
            case (.ceiling, .fr): return "Plafond de garantie atteint"
            case (.ceiling, .en): return "Cover ceiling reached"
            case (.other, .fr): return "Autre déduction"
            case (.other, .en): return "Other deduction"
            }
        }
    }

    public var kind: Kind
    public var amount: Money

    public init(kind: Kind, amount: Money) {
        self.kind = kind
        self.amount = amount
    }
}

/// Who pays what for one visit, priced on the phone (offline) by the core: the figures, their
/// text in the language asked; why, sentence by sentence, is `CoverageService.explain`.
/// `amo + amc + member == price`, to the cent.
public struct CoveragePreview: Equatable, Hashable, Sendable, Identifiable {
    /// `pv_…`: commits to the inputs and the figures; the server checks it.
    public var id: String
    public var actLabel: String
    /// What the provider charges.
    public var price: Money
    /// Care date, `YYYY-MM-DD`.
    public var date: String
    /// Statutory insurance (Assurance Maladie) pays.
    public var amo: Money
    /// The complementary insurer pays.
    public var amc: Money
    /// The member pays (reste à charge).
    public var member: Money
    /// Base de remboursement used.
    public var base: Money
    /// Statutory rate used (0.70 for 70 %).
    public var amoRate: Decimal
    /// The guarantee line applied, as the contract words it.
    public var guarantee: String
    public var deductions: [Deduction]

    public init(
        id: String, actLabel: String,
        price: Money, date: String, amo: Money, amc: Money, member: Money, base: Money,
        amoRate: Decimal, guarantee: String, deductions: [Deduction]
    ) {
        self.id = id
        self.actLabel = actLabel
        self.price = price
        self.date = date
        self.amo = amo
        self.amc = amc
        self.member = member
        self.base = base
        self.amoRate = amoRate
        self.guarantee = guarantee
        self.deductions = deductions
    }
}

/// The server's recomputation of a preview, with the same code and its current data.
public struct PreviewCheck: Equatable, Hashable, Sendable {
    /// The phone's figures still hold.
    public var holds: Bool
    public var serverPreviewId: String
    /// The server's figures now.
    public var amo: Amount
    public var amc: Amount
    public var member: Amount

    public init(holds: Bool, serverPreviewId: String, amo: Amount, amc: Amount, member: Amount) {
        self.holds = holds
        self.serverPreviewId = serverPreviewId
        self.amo = amo
        self.amc = amc
        self.member = member
    }
}

/// What a coverage sync downloaded.
public struct SyncSummary: Equatable, Hashable, Sendable {
    public var contractUpdated: Bool
    public var tariffsUpdated: Bool
    /// Bytes received.
    public var bytes: UInt64

    public init(contractUpdated: Bool, tariffsUpdated: Bool, bytes: UInt64) {
        self.contractUpdated = contractUpdated
        self.tariffsUpdated = tariffsUpdated
        self.bytes = bytes
    }
}
