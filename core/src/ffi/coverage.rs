use std::sync::Arc;

use super::runtime::CoreRuntime;
use super::values::{Amount, CareCategory, DeductionKind, Relationship};
use super::CoreError;
use crate::app::{Core, PricedPreview};
use crate::domain::coverage as engine;
use crate::wire;

fn money(amount: rust_decimal::Decimal) -> Amount {
    Amount::euros(amount)
}

/// An act of the tariff catalogue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Act {
    /// Code (`G`, `CS`, `C`, …).
    pub code: String,
    /// Label for people.
    pub label: String,
    /// Care category.
    pub category: CareCategory,
    /// Base de remboursement.
    pub base: Amount,
}

/// A beneficiary as the coverage rules see them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CoveredBeneficiary {
    /// Id to pass to `preview`.
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Who they are to the holder.
    pub relationship: Relationship,
    /// A médecin traitant is declared.
    pub in_parcours: bool,
    /// Long-term condition (ALD).
    pub ald: bool,
}

/// A healthcare provider.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Provider {
    /// Id to pass to `preview`.
    pub id: String,
    /// The code on the desk QR code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Specialty.
    pub specialty: String,
    /// Convention sector, 1, 2 or 3.
    pub sector: u8,
    /// OPTAM member.
    pub optam: bool,
    /// Direct-access specialty.
    pub direct_access: bool,
    /// City.
    pub city: String,
    /// Postcode.
    pub postcode: String,
}

/// Providers found.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProviderSearch {
    /// Recently used first, then the directory's best matches.
    pub providers: Vec<Provider>,
    /// The server was unreachable: only recently used providers were searched.
    pub offline: bool,
}

/// The language a reader wants the core's text in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Language {
    /// French: `19,00 €`.
    Fr,
    /// English (any reader who is not French): `€19.00`.
    En,
}

impl From<Language> for engine::Language {
    fn from(l: Language) -> Self {
        match l {
            Language::Fr => Self::Fr,
            Language::En => Self::En,
        }
    }
}

/// What to price. One record rather than five arguments: each argument that is a string costs
/// the foreign side a buffer of its own (from Kotlin, one more FFI call per argument).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PreviewRequest {
    /// Who ([`CoveredBeneficiary::id`]).
    pub beneficiary_id: String,
    /// Where ([`Provider::id`], selected before).
    pub provider_id: String,
    /// Which act (`G`, `CS`, …).
    pub act_code: String,
    /// What the provider charges, in euros as typed: `30`, `30.50`, `30,50`.
    pub price: String,
    /// Care date `YYYY-MM-DD`; `None` for today in France.
    pub date: Option<String>,
    /// The language of the amounts' text.
    pub language: Language,
}

/// The currency of a [`Money`]: a fixed set, so a shell matches on it instead of parsing a code
/// (and, from Swift, decodes no string for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CurrencyCode {
    /// Euro (ISO 4217 `EUR`), in cents.
    Eur,
}

/// An amount of a preview: integer minor units and the currency, with the text the core
/// formatted for the reader who asked. Shells never compute or format money.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Money {
    /// Minor units (cents): 1900 for 19.00 €.
    pub minor_units: i64,
    /// The currency.
    pub currency: CurrencyCode,
    /// For the reader who asked: `19,00 €` or `€19.00`.
    pub display: String,
}

impl Money {
    /// Euros, rounded once to the cent, for a `language` reader.
    pub fn euros(amount: rust_decimal::Decimal, language: engine::Language) -> Self {
        let cents = crate::domain::money::to_cents(amount);
        Self {
            minor_units: cents,
            currency: CurrencyCode::Eur,
            display: language.amount(cents),
        }
    }
}

impl std::fmt::Display for Money {
    /// The amount's decimal form, `19.00` (what the terminal prints and the tests compare).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let c = self.minor_units.unsigned_abs();
        write!(f, "{sign}{}.{:02}", c / 100, c % 100)
    }
}

impl serde::Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl PartialEq<&str> for Money {
    #[allow(clippy::cmp_owned)]
    fn eq(&self, other: &&str) -> bool {
        self.to_string() == *other
    }
}

/// An amount the member's share includes or a cover stops at.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Deduction {
    /// What it is.
    pub kind: DeductionKind,
    /// How much.
    pub amount: Money,
}

/// A sentence the shells show as it is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Explanation {
    /// In French.
    pub fr: String,
    /// In English.
    pub en: String,
}

/// Who pays what for one visit, computed on the phone: the figures only, amounts in the language
/// asked; why they come out so is [`Coverage::explain`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CoveragePreview {
    /// `pv_…`: commits to the inputs and the figures. (Who, where and which act are not
    /// echoed: the caller asked for them, and each string costs a crossing's decode.)
    pub id: String,
    /// The act's label.
    pub act_label: String,
    /// What the provider charges.
    pub price: Money,
    /// Care date, `YYYY-MM-DD`.
    pub date: String,
    /// Statutory insurance pays.
    pub amo: Money,
    /// The complementary insurer pays.
    pub amc: Money,
    /// The member pays (reste à charge).
    pub member: Money,
    /// Base de remboursement used.
    pub base: Money,
    /// Statutory rate used ("0.70").
    pub amo_rate: String,
    /// The guarantee line applied.
    pub guarantee: String,
    /// Named deductions.
    pub deductions: Vec<Deduction>,
}

/// The server's recomputation of a preview.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PreviewCheck {
    /// The phone's figures still hold.
    pub holds: bool,
    /// The server's preview id.
    pub server_preview_id: String,
    /// Statutory share now.
    pub amo: Amount,
    /// Complementary share now.
    pub amc: Amount,
    /// Member's share now.
    pub member: Amount,
}

/// What a sync downloaded.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSummary {
    /// Contract data changed.
    pub contract_updated: bool,
    /// The tariff catalogue changed.
    pub tariffs_updated: bool,
    /// Bytes received.
    pub bytes: u64,
}

impl From<wire::Provider> for Provider {
    fn from(p: wire::Provider) -> Self {
        Self {
            id: p.id,
            code: p.code,
            name: p.name,
            specialty: p.specialty,
            sector: p.sector,
            optam: p.optam,
            direct_access: p.direct_access,
            city: p.city,
            postcode: p.postcode,
        }
    }
}

impl From<wire::BeneficiaryTerms> for CoveredBeneficiary {
    fn from(b: wire::BeneficiaryTerms) -> Self {
        Self {
            id: b.beneficiary.id,
            first_name: b.beneficiary.first_name,
            last_name: b.beneficiary.last_name,
            birth_date: b.beneficiary.birth_date,
            relationship: Relationship::from_wire(&b.beneficiary.relationship),
            in_parcours: b.in_parcours,
            ald: b.ald,
        }
    }
}

impl From<wire::Tariff> for Act {
    fn from(t: wire::Tariff) -> Self {
        Self {
            code: t.code,
            label: t.label,
            category: CareCategory::from_wire(&t.category),
            base: money(t.base),
        }
    }
}

impl CoveragePreview {
    /// The record of a priced preview, its amounts for a `language` reader.
    pub(crate) fn new(p: PricedPreview, language: engine::Language) -> Self {
        let q = p.preview.quote;
        let money = |amount| Money::euros(amount, language);
        Self {
            id: p.preview.id,
            act_label: p.preview.act_label,
            price: money(p.price),
            date: p.date.to_string(),
            amo: money(q.amo),
            amc: money(q.amc),
            member: money(q.member),
            base: money(q.base),
            amo_rate: {
                let mut rate = q.amo_rate;
                rate.rescale(2);
                rate.to_string()
            },
            guarantee: q.guarantee_applied,
            deductions: q
                .deductions
                .into_iter()
                .map(|d| Deduction {
                    kind: DeductionKind::from_wire(d.kind.as_str()),
                    amount: money(d.amount),
                })
                .collect(),
        }
    }
}

impl CoveragePreview {
    /// The same preview, its amounts' text for a `language` reader.
    pub(crate) fn in_language(&self, language: engine::Language) -> Self {
        let text = |m: &Money| Money {
            display: language.amount(m.minor_units),
            ..m.clone()
        };
        Self {
            price: text(&self.price),
            amo: text(&self.amo),
            amc: text(&self.amc),
            member: text(&self.member),
            base: text(&self.base),
            deductions: self
                .deductions
                .iter()
                .map(|d| Deduction {
                    kind: d.kind,
                    amount: text(&d.amount),
                })
                .collect(),
            ..self.clone()
        }
    }
}

/// Coverage: synced contract data, providers, and previews priced offline.
#[derive(uniffi::Object)]
pub struct Coverage {
    pub(crate) core: Arc<Core>,
    pub(crate) runtime: Arc<CoreRuntime>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Coverage {
    /// Downloads what changed of the contract data and tariffs (one round trip).
    pub async fn sync(&self) -> Result<SyncSummary, CoreError> {
        self.sync_with(false).await
    }

    /// Downloads all of the contract data and tariffs again, whatever the cache holds.
    pub async fn resync(&self) -> Result<SyncSummary, CoreError> {
        self.sync_with(true).await
    }
}

impl Coverage {
    async fn sync_with(&self, full: bool) -> Result<SyncSummary, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let s = core.sync_coverage(full).await?;
                Ok(SyncSummary {
                    contract_updated: s.contract_updated,
                    tariffs_updated: s.tariffs_updated,
                    bytes: s.bytes as u64,
                })
            })
            .await
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Coverage {
    /// The beneficiaries to choose from, offline.
    pub fn beneficiaries(&self) -> Result<Vec<CoveredBeneficiary>, CoreError> {
        Ok(self
            .core
            .coverage_beneficiaries()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Acts in force on `date` (`YYYY-MM-DD`; today in France when absent), offline.
    pub fn acts(&self, date: Option<String>) -> Result<Vec<Act>, CoreError> {
        Ok(self
            .core
            .acts_on(date.as_deref())?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Searches providers by name, specialty or city (typos forgiven): recently used ones on
    /// the phone first, then the directory; offline, the recently used only.
    pub async fn search_providers(
        &self,
        query: String,
        specialty: Option<String>,
        city: Option<String>,
        limit: u32,
    ) -> Result<ProviderSearch, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let r = core
                    .search_providers(
                        &query,
                        specialty.as_deref(),
                        city.as_deref(),
                        limit as usize,
                    )
                    .await?;
                Ok(ProviderSearch {
                    providers: r.providers.into_iter().map(Into::into).collect(),
                    offline: r.offline,
                })
            })
            .await
    }

    /// Selects a provider by id, by code, or by the text of its scanned desk QR code.
    pub async fn select_provider(&self, id_code_or_scan: String) -> Result<Provider, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.select_provider(&id_code_or_scan).await.map(Into::into) })
            .await
    }

    /// Who pays what: statutory insurance, the complementary insurer, the member. Offline.
    /// The figures only; [`Coverage::explain`] says why, in the reader's language.
    pub fn preview(&self, request: PreviewRequest) -> Result<CoveragePreview, CoreError> {
        let priced = self.core.preview(
            &request.beneficiary_id,
            &request.provider_id,
            &request.act_code,
            &request.price,
            request.date.as_deref(),
        )?;
        Ok(CoveragePreview::new(priced, request.language.into()))
    }

    /// Why a preview priced on this phone comes to its figures, sentence by sentence in the
    /// order the rules apply, for a `language` reader. Offline. (An id the core did not price,
    /// or no longer remembers, is `InvalidInput` naming `preview_id`: price the visit again.)
    pub fn explain(
        &self,
        preview_id: String,
        language: Language,
    ) -> Result<Vec<String>, CoreError> {
        Ok(self.core.explain(&preview_id, language.into())?)
    }

    /// Asks the server to recompute a preview priced on this phone, by its id, with the
    /// current data: does it still hold? (An id the core did not price is `InvalidInput`
    /// naming `preview_id`: price the visit again.)
    pub async fn check_preview(&self, preview_id: String) -> Result<PreviewCheck, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.check_preview(&preview_id).await.map(Into::into) })
            .await
    }
}

impl From<wire::PreviewCheck> for PreviewCheck {
    fn from(check: wire::PreviewCheck) -> Self {
        Self {
            holds: check.holds,
            server_preview_id: check.preview_id,
            amo: money(check.amo),
            amc: money(check.amc),
            member: money(check.member),
        }
    }
}

/// Answers a quote document (the public JSON contract of the offline calculator) with the
/// figures as a JSON document; a malformed document is refused with the field named.
#[uniffi::export]
pub fn quote_document(document: String) -> Result<String, CoreError> {
    engine::quote_document(&document)
        .map(|answer| answer.to_string())
        .map_err(|e| CoreError::InvalidInput {
            field: e.field,
            detail: e.message,
        })
}
