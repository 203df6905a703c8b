//! The engine's inputs and outputs: a quote request (act, price, provider, beneficiary,
//! guarantee line) and the quote (AMO, AMC, member share, deductions, explanations).
//!
//! Field names follow the quote document of docs/coverage.md, which is a public contract.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

/// The care category of an act, as the catalogue and the guarantee table name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CareCategory {
    /// A general practitioner's consultation.
    Consultation,
    /// A specialist doctor's consultation or act.
    Specialist,
    /// Dental care.
    Dental,
    /// Glasses and lenses.
    Optical,
    /// Medicines.
    Pharmacy,
    /// Laboratory tests.
    Lab,
    /// Imaging.
    Radiology,
    /// Paramedical acts: nurse, physiotherapist, speech therapist…
    Auxiliary,
    /// A midwife's consultation or act.
    Midwife,
    /// A hospital stay and the fees billed during it.
    Hospital,
    /// Medical transport.
    Transport,
    /// Anything else the catalogue lists.
    Other,
}

impl CareCategory {
    /// Every category, in catalogue order.
    pub const ALL: [CareCategory; 12] = [
        CareCategory::Consultation,
        CareCategory::Specialist,
        CareCategory::Dental,
        CareCategory::Optical,
        CareCategory::Pharmacy,
        CareCategory::Lab,
        CareCategory::Radiology,
        CareCategory::Auxiliary,
        CareCategory::Midwife,
        CareCategory::Hospital,
        CareCategory::Transport,
        CareCategory::Other,
    ];

    /// The name used in the quote document (`"consultation"`, `"specialist"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            CareCategory::Consultation => "consultation",
            CareCategory::Specialist => "specialist",
            CareCategory::Dental => "dental",
            CareCategory::Optical => "optical",
            CareCategory::Pharmacy => "pharmacy",
            CareCategory::Lab => "lab",
            CareCategory::Radiology => "radiology",
            CareCategory::Auxiliary => "auxiliary",
            CareCategory::Midwife => "midwife",
            CareCategory::Hospital => "hospital",
            CareCategory::Transport => "transport",
            CareCategory::Other => "other",
        }
    }
}

impl fmt::Display for CareCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A category name that is not one of [`CareCategory::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown care category")]
pub struct UnknownCategory;

impl FromStr for CareCategory {
    type Err = UnknownCategory;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        CareCategory::ALL
            .into_iter()
            .find(|category| category.as_str() == name)
            .ok_or(UnknownCategory)
    }
}

/// An act of the tariff catalogue. Tariffs and rates are data: the insurer serves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    /// The act's code (`"G"`, `"CS"`, `"HBQK002"`…).
    pub code: String,
    /// The care category, which selects the rules that apply.
    pub category: CareCategory,
    /// The base de remboursement (BR), in euros.
    pub base: Decimal,
    /// The lower BR for sector 2 and 3 doctors outside OPTAM, when the catalogue has one
    /// (otherwise [`Act::base`] applies to them too).
    pub base_non_optam: Option<Decimal>,
    /// The statutory (AMO) rate as a fraction: `0.70` for a doctor's consultation.
    pub amo_rate: Decimal,
    /// Whether the participation forfaitaire applies to this act.
    pub pf: bool,
    /// The franchise of this act in euros (1 € per medicine box or paramedical act, 4 € per
    /// transport), `0` when none applies.
    pub franchise: Decimal,
}

/// What the engine needs to know about the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderTerms {
    /// Convention sector: 1, 2 or 3.
    pub sector: u8,
    /// Member of OPTAM or OPTAM-CO (a sector 3 provider never is).
    pub optam: bool,
    /// A direct-access specialty (gynecology, ophthalmology, psychiatry for 16–25,
    /// stomatology): no referral needed to stay in the parcours de soins.
    pub direct_access: bool,
}

/// What the engine needs to know about the beneficiary of the care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BeneficiaryTerms {
    /// Birth date, for the age rules (16 on the care date, 18 on 1 January).
    pub birth_date: Date,
    /// Within the parcours de soins coordonnés (médecin traitant declared, or referred).
    pub in_parcours: bool,
    /// This care is related to a long-term illness (ALD) of the beneficiary.
    pub ald: bool,
    /// Covered by the Complémentaire santé solidaire.
    pub css: bool,
    /// Covered by the Aide médicale de l'État.
    pub ame: bool,
    /// Pregnant, from the 6th month.
    pub pregnant_6m: bool,
    /// Participations forfaitaires already paid this calendar year, in euros.
    pub pf_paid_this_year: Decimal,
    /// Franchises already paid this calendar year, in euros.
    pub franchise_paid_this_year: Decimal,
    /// Participations forfaitaires already paid today with the same professional.
    pub pf_count_today_same_provider: u32,
}

/// The line of the contract's guarantee table that applies to the act's category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuaranteeLine {
    /// A percentage of BR, e.g. `"200"` for "200 % BR".
    PercentOfBase {
        /// The percentage for sector 1 and OPTAM doctors, and for every other category.
        percent_br: Decimal,
        /// The percentage for sector 2 and 3 doctors outside OPTAM.
        percent_br_non_optam: Decimal,
        /// Whether the percentage includes the statutory refund ("incl. SS", the usual form)
        /// or comes on top of it.
        includes_amo: bool,
    },
    /// A euro amount paid on top of the statutory refund (optical and dental lines).
    EuroAmount {
        /// The line's amount, in euros.
        euro_amount: Decimal,
        /// What is left of the line's annual ceiling, in euros.
        ceiling_remaining: Decimal,
    },
}

/// Everything a quote depends on. The engine reads no clock: `date` is the care date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRequest {
    /// The care date.
    pub date: Date,
    /// What the provider charges, in euros.
    pub price: Decimal,
    /// The act from the catalogue.
    pub act: Act,
    /// The provider's convention terms.
    pub provider: ProviderTerms,
    /// The beneficiary's situation and counters.
    pub beneficiary: BeneficiaryTerms,
    /// The guarantee line of the contract for the act's category.
    pub guarantee: GuaranteeLine,
}

/// What a deduction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeductionKind {
    /// The participation forfaitaire withheld from the statutory refund.
    ParticipationForfaitaire,
    /// The franchise withheld from the statutory refund.
    Franchise,
    /// The statutory refund lost outside the parcours de soins.
    OutOfParcours,
    /// What the complementary insurer does not pay because the line's annual ceiling is
    /// reached.
    Ceiling,
}

impl DeductionKind {
    /// The name used in the answer document (`"participation_forfaitaire"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            DeductionKind::ParticipationForfaitaire => "participation_forfaitaire",
            DeductionKind::Franchise => "franchise",
            DeductionKind::OutOfParcours => "out_of_parcours",
            DeductionKind::Ceiling => "ceiling",
        }
    }
}

impl fmt::Display for DeductionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount the member pays because of a named rule. Every deduction is part of the member
/// share: no responsible contract covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    /// Which rule.
    pub kind: DeductionKind,
    /// The amount, rounded to the cent.
    pub amount: Decimal,
}

/// One step of a quote, told to the member in French and English. Shells show it as is; it
/// never carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// In French.
    pub fr: String,
    /// In English.
    pub en: String,
}

/// The three figures of a coverage preview, and why. `amo + amc + member` is the price,
/// exactly; every amount is rounded to the cent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// What statutory insurance pays (part Sécurité sociale), after the PF and franchise.
    pub amo: Decimal,
    /// What the complementary insurer pays (mutuelle).
    pub amc: Decimal,
    /// What remains for the member (reste à charge).
    pub member: Decimal,
    /// The BR used.
    pub base: Decimal,
    /// The AMO rate applied (after the out-of-parcours reduction, if any).
    pub amo_rate: Decimal,
    /// Each deduction named, in the order the rules apply.
    pub deductions: Vec<Deduction>,
    /// The guarantee line applied, as a label: `"200 % BR incl. SS (OPTAM)"`.
    pub guarantee_applied: String,
    /// Member-facing explanations of each step.
    pub explanations: Vec<Explanation>,
}

/// A request the engine refuses: malformed or out of range. Names the field by its dotted
/// path in the quote document (`"act.amo_rate"`, `"provider.sector"`, `"price"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QuoteError {
    /// The dotted path of the field, as in the quote document; `"document"` when the
    /// document as a whole is unreadable.
    pub field: String,
    /// What is wrong, in English, without the field's value.
    pub message: String,
}

impl QuoteError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        QuoteError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip_their_document_names() {
        for category in CareCategory::ALL {
            assert_eq!(category.as_str().parse(), Ok(category));
            assert_eq!(
                serde_json::to_value(category).unwrap(),
                serde_json::Value::from(category.as_str())
            );
        }
        assert_eq!("Consultation".parse::<CareCategory>(), Err(UnknownCategory));
        assert_eq!("dentist".parse::<CareCategory>(), Err(UnknownCategory));
    }

    #[test]
    fn deduction_kinds_serialize_as_the_contract_names() {
        for (kind, name) in [
            (
                DeductionKind::ParticipationForfaitaire,
                "participation_forfaitaire",
            ),
            (DeductionKind::Franchise, "franchise"),
            (DeductionKind::OutOfParcours, "out_of_parcours"),
            (DeductionKind::Ceiling, "ceiling"),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
    }

    #[test]
    fn errors_name_the_field() {
        let error = QuoteError::new("act.amo_rate", "must be between 0 and 1");
        assert_eq!(error.to_string(), "act.amo_rate: must be between 0 and 1");
    }
}
