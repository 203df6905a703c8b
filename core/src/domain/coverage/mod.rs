//! The coverage engine: what statutory insurance (AMO), the complementary insurer (AMC) and
//! the member each pay for one act, to the cent, with the reasons (docs/coverage.md).
//!
//! A pure function of a [`QuoteRequest`]: no I/O, no clock, no database. The phone's preview
//! and the server's quote call the same [`quote`]. Tariffs, rates and guarantee lines are data
//! in the request; the statutory amounts are [`StatutoryAmounts`] ([`quote`] uses the 2025–2026
//! ones, [`quote_with`] any other set).
//!
//! How the rules read where docs/coverage.md leaves a choice:
//! - Rounding: exact decimal arithmetic, each shown figure rounded to the cent, half a cent up
//!   ([`money::ROUNDING`]). The normal statutory share (in-parcours rate × BR), the gross
//!   refund and `min(price, G × BR)` are rounded, and everything else is an exact difference
//!   of cents, so `amo + amc + member == price` exactly.
//! - The BR used never exceeds the price: a provider charging less than the tariff is
//!   refunded on what it charges.
//! - Out of the parcours, the doctor's rate loses 40 points: 70 % becomes 30 %, and 100 %
//!   (ALD, pregnancy) becomes 60 %.
//! - A PF or franchise larger than the refund is taken off it only as far as it goes (the
//!   deduction shows that part; the explanation says the rest comes off a later refund).
//! - Daily caps: the PF's "4 a day with the same professional" uses
//!   `pf_count_today_same_provider`. The franchise's daily caps (4 € paramedical, 8 €
//!   transport) can only bound a single act, as the request carries no count of today's
//!   franchises.
//! - Rule 6 applies to the categories billed by doctors (consultation, specialist, radiology,
//!   hospital) for a sector 2 or 3 provider outside OPTAM; without a non-OPTAM tariff in the
//!   catalogue, the act's base applies.

mod amc;
mod amo;
mod document;
mod explain;
mod language;
mod model;
pub mod money;
mod statutory;
mod validate;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use document::{answer_document, parse_document, quote_document, request_document};
pub use language::Language;
pub use model::{
    Act, BeneficiaryTerms, CareCategory, Deduction, DeductionKind, Explanation, GuaranteeLine,
    ProviderTerms, Quote, QuoteError, QuoteRequest, UnknownCategory,
};
pub use money::round_cents;
pub use statutory::StatutoryAmounts;

use rust_decimal::Decimal;

/// Quotes `req` with the statutory amounts of 2025–2026: AMO, AMC and member share, the
/// deductions and the explanations. Refuses an out-of-range request (negative price, rate
/// above 1, unknown sector…) with an error naming the field. Never panics.
pub fn quote(req: &QuoteRequest) -> Result<Quote, QuoteError> {
    quote_with(req, &StatutoryAmounts::FRANCE_2025)
}

/// [`quote`] with another set of statutory amounts (a later PF, other caps).
pub fn quote_with(req: &QuoteRequest, amounts: &StatutoryAmounts) -> Result<Quote, QuoteError> {
    price(req, amounts, true)
}

/// [`quote`] without the explanations (`explanations` left empty): the figures alone, for the
/// doctor's-desk preview, where the sentences cost five times the arithmetic and are asked for
/// separately (the same request through [`quote`] gives the same figures and the sentences).
pub fn quote_figures(req: &QuoteRequest) -> Result<Quote, QuoteError> {
    price(req, &StatutoryAmounts::FRANCE_2025, false)
}

fn price(
    req: &QuoteRequest,
    amounts: &StatutoryAmounts,
    explained: bool,
) -> Result<Quote, QuoteError> {
    amounts.validate()?;
    validate::request(req)?;

    let statutory = amo::statutory(req, amounts);
    let complementary = amc::complementary(req, &statutory, amounts);
    // Rule 7: the member pays the rest; the three add up to the price exactly.
    let member = req.price - statutory.paid - complementary.amount;

    let mut deductions = Vec::with_capacity(4);
    let mut deduct = |kind, amount: Decimal| {
        if amount > Decimal::ZERO {
            deductions.push(Deduction {
                kind,
                amount: round_cents(amount),
            });
        }
    };
    deduct(DeductionKind::OutOfParcours, statutory.penalty);
    deduct(
        DeductionKind::ParticipationForfaitaire,
        statutory.pf.withheld(),
    );
    deduct(DeductionKind::Franchise, statutory.franchise.withheld());
    if let amc::Line::Euro { ceiling_cut, .. } = complementary.line {
        deduct(DeductionKind::Ceiling, ceiling_cut);
    }

    let explanations = if explained {
        explain::explanations(req.price, &statutory, &complementary, member, amounts)
    } else {
        Vec::new()
    };
    Ok(Quote {
        amo: round_cents(statutory.paid),
        amc: round_cents(complementary.amount),
        member: round_cents(member),
        base: round_cents(statutory.base),
        amo_rate: statutory.applied_rate,
        deductions,
        guarantee_applied: complementary.line.label_en(),
        explanations,
    })
}
