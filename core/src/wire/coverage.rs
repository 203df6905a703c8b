//! What the phone caches for offline previews (contract data and tariff catalogue, each synced
//! only when its etag changed), the provider directory, and the server's check of a preview.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Beneficiary;

/// `GET /v1/sync?contract_etag=…&tariffs_etag=…`: the sections whose etag changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// Always `"sync"`.
    pub object: String,
    /// Present when it changed since `contract_etag`.
    pub contract: Option<ContractData>,
    /// Present when it changed since `tariffs_etag`.
    pub tariffs: Option<TariffCatalogue>,
}

/// Everything about the contract that a preview needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractData {
    /// Changes whenever anything below changes.
    pub etag: String,
    /// Beneficiaries with the facts the rules use.
    pub beneficiaries: Vec<BeneficiaryTerms>,
    /// One guarantee line per care category.
    pub guarantees: Vec<GuaranteeLine>,
    /// Participation forfaitaire and franchises paid, per beneficiary and year.
    pub counters: Vec<Counter>,
    /// Annual ceilings consumed, per beneficiary, year and category.
    pub ceilings: Vec<CeilingUsage>,
    /// Participations forfaitaires counted per day and provider (4 a day at most).
    pub pf_days: Vec<PfDay>,
}

/// A beneficiary and the facts the coverage rules need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeneficiaryTerms {
    /// Identity.
    #[serde(flatten)]
    pub beneficiary: Beneficiary,
    /// A médecin traitant is declared.
    pub in_parcours: bool,
    /// Long-term condition (ALD) covered at 100 % for related care.
    pub ald: bool,
    /// Complémentaire santé solidaire.
    pub css: bool,
    /// Aide médicale de l'État.
    pub ame: bool,
    /// Pregnant from the 6th month.
    pub pregnant_6m: bool,
}

/// A guarantee line: a percentage of the base, or a euro amount with an annual ceiling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuaranteeLine {
    /// Care category (`consultation`, `dental`, `optical`, …).
    pub category: String,
    /// As printed in the member's table of guarantees.
    pub label: String,
    /// Percent of BR (with OPTAM doctors, or everyone when no distinction).
    pub percent_br: Option<Decimal>,
    /// Percent of BR with non-OPTAM doctors.
    pub percent_br_non_optam: Option<Decimal>,
    /// Whether the percentage includes the statutory refund ("incl. SS").
    pub includes_amo: bool,
    /// Euro amount per act.
    pub euro_amount: Option<Decimal>,
    /// Euro ceiling per year.
    pub annual_ceiling: Option<Decimal>,
}

/// Amounts paid in a year by a beneficiary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Whose.
    pub beneficiary_id: String,
    /// Calendar year.
    pub year: i32,
    /// Participations forfaitaires paid.
    pub pf_paid: Decimal,
    /// Franchises paid.
    pub franchise_paid: Decimal,
}

/// A ceiling consumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeilingUsage {
    /// Whose.
    pub beneficiary_id: String,
    /// Calendar year.
    pub year: i32,
    /// Care category.
    pub category: String,
    /// Euros consumed.
    pub consumed: Decimal,
}

/// Participations forfaitaires counted on one day with one provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PfDay {
    /// Whose.
    pub beneficiary_id: String,
    /// With whom.
    pub provider_id: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// How many.
    pub count: u32,
}

/// The statutory tariff catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TariffCatalogue {
    /// Changes whenever a tariff changes.
    pub etag: String,
    /// Acts, each with its effective dates.
    pub acts: Vec<Tariff>,
}

/// One act of the catalogue, valid from `valid_from` until `valid_to` (excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tariff {
    /// Act code (`G`, `CS`, …).
    pub code: String,
    /// Label for people.
    pub label: String,
    /// Care category.
    pub category: String,
    /// Base de remboursement (BR).
    pub base: Decimal,
    /// BR with non-OPTAM sector 2 doctors, when lower.
    pub base_non_optam: Option<Decimal>,
    /// Statutory rate, e.g. 0.70.
    pub amo_rate: Decimal,
    /// Whether the participation forfaitaire applies.
    pub pf: bool,
    /// Franchise per act.
    pub franchise: Decimal,
    /// `YYYY-MM-DD`, included.
    pub valid_from: String,
    /// `YYYY-MM-DD`, excluded; open when absent.
    pub valid_to: Option<String>,
}

/// A provider of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// `prv_…`
    pub id: String,
    /// The code on the desk QR code.
    pub code: String,
    /// Name as shown.
    pub name: String,
    /// Specialty label.
    pub specialty: String,
    /// Convention sector, 1, 2 or 3.
    pub sector: u8,
    /// OPTAM / OPTAM-CO member.
    pub optam: bool,
    /// Direct-access specialty (no referral needed).
    pub direct_access: bool,
    /// City.
    pub city: String,
    /// Postcode.
    pub postcode: String,
    /// The merchant name the card network shows.
    pub merchant_name: String,
    /// Merchant category code.
    pub mcc: String,
}

/// `GET /v1/providers`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderList {
    /// Always `"list"`.
    pub object: String,
    /// Best matches first.
    pub data: Vec<Provider>,
    /// More matches exist past `limit`.
    pub has_more: bool,
}

/// `POST /v1/previews`: the phone's preview, for the server to recompute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Who is treated.
    pub beneficiary_id: String,
    /// By whom.
    pub provider_id: String,
    /// Which act.
    pub act_code: String,
    /// What the provider charges: a string in the amount grammar of
    /// [`crate::domain::money::parse_amount`], read by that grammar on the server too.
    #[serde(deserialize_with = "crate::domain::money::deserialize_price")]
    pub price: Decimal,
    /// Care date, `YYYY-MM-DD`.
    pub date: String,
    /// The phone's preview id.
    pub preview_id: String,
}

/// The server's recomputation of a preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewCheck {
    /// Always `"preview_check"`.
    pub object: String,
    /// The phone's figures still hold.
    pub holds: bool,
    /// The server's preview id (equal to the phone's when it holds).
    pub preview_id: String,
    /// Statutory share.
    pub amo: Decimal,
    /// Complementary share.
    pub amc: Decimal,
    /// Member's share.
    pub member: Decimal,
}
