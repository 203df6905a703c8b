//! From contract data, tariff catalogue and provider to a priced preview. One path for the
//! phone's offline preview and the server's recomputation: the preview id commits to the inputs
//! and the figures, so "the preview still holds" means "the server computes the same id".

use rust_decimal::Decimal;
use time::Date;

use super::coverage::{
    self, Act, BeneficiaryTerms, CareCategory, GuaranteeLine, ProviderTerms, Quote, QuoteError,
    QuoteRequest,
};
use super::enrollment::parse_date;
use crate::auth::{b64url, sha256};
use crate::wire::{ContractData, Provider, Tariff, TariffCatalogue};

/// What to price.
#[derive(Debug, Clone, Copy)]
pub struct PreviewInput<'a> {
    /// The contract's cached data.
    pub contract: &'a ContractData,
    /// The tariff catalogue.
    pub tariffs: &'a TariffCatalogue,
    /// The provider.
    pub provider: &'a Provider,
    /// Who is treated.
    pub beneficiary_id: &'a str,
    /// Which act.
    pub act_code: &'a str,
    /// What the provider charges.
    pub price: Decimal,
    /// The care date.
    pub date: Date,
}

/// A priced preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// `pv_…`, derived from inputs and figures.
    pub id: String,
    /// The act's label.
    pub act_label: String,
    /// The figures.
    pub quote: Quote,
}

/// The act of the catalogue in force on `date`.
pub fn tariff_for<'a>(
    catalogue: &'a TariffCatalogue,
    code: &str,
    date: Date,
) -> Option<&'a Tariff> {
    let day = date.to_string();
    catalogue.acts.iter().find(|t| {
        t.code.eq_ignore_ascii_case(code)
            && t.valid_from.as_str() <= day.as_str()
            && t.valid_to.as_deref().is_none_or(|to| day.as_str() < to)
    })
}

/// Builds the engine's request from cached data.
pub fn build_request(input: &PreviewInput<'_>) -> Result<(QuoteRequest, String), QuoteError> {
    let b = input
        .contract
        .beneficiaries
        .iter()
        .find(|b| b.beneficiary.id == input.beneficiary_id)
        .ok_or_else(|| QuoteError::new("beneficiary_id", "is not covered by this contract"))?;
    let tariff = tariff_for(input.tariffs, input.act_code, input.date).ok_or_else(|| {
        QuoteError::new("act_code", "is not in the tariff catalogue on that date")
    })?;
    let category: CareCategory = tariff
        .category
        .parse()
        .map_err(|_| QuoteError::new("act.category", "is not a known care category"))?;
    let year = input.date.year();
    let counter = input
        .contract
        .counters
        .iter()
        .find(|c| c.beneficiary_id == b.beneficiary.id && c.year == year);
    let pf_today = input
        .contract
        .pf_days
        .iter()
        .find(|d| {
            d.beneficiary_id == b.beneficiary.id
                && d.provider_id == input.provider.id
                && d.day == input.date.to_string()
        })
        .map_or(0, |d| d.count);
    let birth_date = parse_date(&b.beneficiary.birth_date, "beneficiary.birth_date")
        .map_err(|e| QuoteError::new(e.field, e.message))?;
    let line = input
        .contract
        .guarantees
        .iter()
        .find(|g| g.category == tariff.category);
    let guarantee = match line {
        None => GuaranteeLine::PercentOfBase {
            percent_br: Decimal::ZERO,
            percent_br_non_optam: Decimal::ZERO,
            includes_amo: true,
        },
        Some(g) => match (g.percent_br, g.euro_amount) {
            (Some(percent), _) => GuaranteeLine::PercentOfBase {
                percent_br: percent,
                percent_br_non_optam: g.percent_br_non_optam.unwrap_or(percent),
                includes_amo: g.includes_amo,
            },
            (None, Some(amount)) => {
                let consumed: Decimal = input
                    .contract
                    .ceilings
                    .iter()
                    .filter(|c| {
                        c.beneficiary_id == b.beneficiary.id
                            && c.year == year
                            && c.category == g.category
                    })
                    .map(|c| c.consumed)
                    .sum();
                GuaranteeLine::EuroAmount {
                    euro_amount: amount,
                    ceiling_remaining: g
                        .annual_ceiling
                        .map_or(amount, |ceiling| (ceiling - consumed).max(Decimal::ZERO)),
                }
            }
            (None, None) => {
                return Err(QuoteError::new(
                    "guarantee",
                    "the guarantee line has no amount",
                ))
            }
        },
    };
    let label = line.map_or_else(|| "no complementary cover".to_owned(), |g| g.label.clone());
    let request = QuoteRequest {
        date: input.date,
        price: input.price,
        act: Act {
            code: tariff.code.clone(),
            category,
            base: tariff.base,
            base_non_optam: tariff.base_non_optam,
            amo_rate: tariff.amo_rate,
            pf: tariff.pf,
            franchise: tariff.franchise,
        },
        provider: ProviderTerms {
            sector: input.provider.sector,
            optam: input.provider.optam,
            direct_access: input.provider.direct_access,
        },
        beneficiary: BeneficiaryTerms {
            birth_date,
            in_parcours: b.in_parcours,
            ald: b.ald,
            css: b.css,
            ame: b.ame,
            pregnant_6m: b.pregnant_6m,
            pf_paid_this_year: counter.map_or(Decimal::ZERO, |c| c.pf_paid),
            franchise_paid_this_year: counter.map_or(Decimal::ZERO, |c| c.franchise_paid),
            pf_count_today_same_provider: pf_today,
        },
        guarantee,
    };
    Ok((request, format!("{label}|{}", tariff.label)))
}

/// Prices a preview and gives it its id: the figures, without the sentences (the quote's
/// `explanations` are empty; [`explained`] gives them).
pub fn preview(input: &PreviewInput<'_>) -> Result<Preview, QuoteError> {
    priced(input, coverage::quote_figures)
}

/// [`preview`] with the quote's explanations, in both languages: the same id and figures.
pub fn explained(input: &PreviewInput<'_>) -> Result<Preview, QuoteError> {
    priced(input, coverage::quote)
}

fn priced(
    input: &PreviewInput<'_>,
    quote: fn(&QuoteRequest) -> Result<Quote, QuoteError>,
) -> Result<Preview, QuoteError> {
    let (request, labels) = build_request(input)?;
    let quote = quote(&request)?;
    let id = preview_id(input, &quote);
    let act_label = labels
        .split_once('|')
        .map_or(labels.as_str(), |(_, act)| act)
        .to_owned();
    Ok(Preview {
        id,
        act_label,
        quote,
    })
}

/// `pv_` + a hash of the inputs and the figures: equal ids mean the same preview.
pub fn preview_id(input: &PreviewInput<'_>, quote: &Quote) -> String {
    let canonical = format!(
        "v1|{}|{}|{}|{}|{}|{}|{}|{}",
        input.beneficiary_id,
        input.provider.id,
        input.act_code.to_ascii_uppercase(),
        coverage::round_cents(input.price),
        input.date,
        quote.amo,
        quote.amc,
        quote.member
    );
    format!("pv_{}", &b64url(sha256(canonical.as_bytes()))[..22])
}
