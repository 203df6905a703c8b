//! Range checks of a quote request. The engine refuses what it cannot quote rightly, naming
//! the field by its path in the quote document; the bounds also keep every product far from
//! `Decimal`'s limits, so no computation can overflow or panic.

use rust_decimal::Decimal;
use time::Date;

use super::model::{GuaranteeLine, QuoteError, QuoteRequest};
use super::money::is_whole_cents;

/// The largest amount accepted anywhere: one million euros.
pub(crate) const MAX_AMOUNT: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// The largest guarantee percentage accepted: 10 000 % BR.
pub(crate) const MAX_PERCENT: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
/// Rates have at most this many decimal places (`0.655` is fine).
const RATE_PLACES: u32 = 6;
/// Guarantee percentages have at most this many decimal places (`87.5` is fine).
const PERCENT_PLACES: u32 = 4;
/// Care and birth dates fall within these years.
const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;
/// The longest act code accepted.
const MAX_CODE_LEN: usize = 64;

/// What is wrong with a value, before the field is named.
type Check = Result<(), &'static str>;

/// Names the field of a failed check.
fn at(field: &str, check: Check) -> Result<(), QuoteError> {
    check.map_err(|message| QuoteError::new(field, message))
}

/// An amount of money: whole cents, from 0 to [`MAX_AMOUNT`].
pub(crate) fn money(amount: Decimal) -> Check {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err("must not be negative");
    }
    if amount > MAX_AMOUNT {
        return Err("must not exceed 1000000.00");
    }
    if !is_whole_cents(amount) {
        return Err("must be a whole number of cents (two decimal places at most)");
    }
    Ok(())
}

/// A rate: a fraction from 0 to 1.
pub(crate) fn rate(rate: Decimal) -> Check {
    if rate.is_sign_negative() && !rate.is_zero() || rate > Decimal::ONE {
        return Err("must be a fraction between 0 and 1, such as \"0.70\"");
    }
    if rate.normalize().scale() > RATE_PLACES {
        return Err("must have six decimal places at most");
    }
    Ok(())
}

/// A guarantee percentage of BR, from 0 to [`MAX_PERCENT`].
fn percent(percent: Decimal) -> Check {
    if percent.is_sign_negative() && !percent.is_zero() || percent > MAX_PERCENT {
        return Err("must be a percentage of BR between 0 and 10000, such as \"200\"");
    }
    if percent.normalize().scale() > PERCENT_PLACES {
        return Err("must have four decimal places at most");
    }
    Ok(())
}

fn date(date: Date) -> Check {
    if !YEARS.contains(&date.year()) {
        return Err("must be a year from 1900 to 9999");
    }
    Ok(())
}

/// Checks every field of `req`, in the order of the quote document.
pub(crate) fn request(req: &QuoteRequest) -> Result<(), QuoteError> {
    at("date", date(req.date))?;
    at("price", money(req.price))?;

    let act = &req.act;
    if act.code.trim().is_empty() {
        return Err(QuoteError::new("act.code", "must not be empty"));
    }
    if act.code.len() > MAX_CODE_LEN {
        return Err(QuoteError::new("act.code", "must be 64 characters at most"));
    }
    at("act.base", money(act.base))?;
    if let Some(base) = act.base_non_optam {
        at("act.base_non_optam", money(base))?;
    }
    at("act.amo_rate", rate(act.amo_rate))?;
    at("act.franchise", money(act.franchise))?;

    let provider = &req.provider;
    if !(1..=3).contains(&provider.sector) {
        return Err(QuoteError::new("provider.sector", "must be 1, 2 or 3"));
    }
    if provider.sector == 3 && provider.optam {
        return Err(QuoteError::new(
            "provider.optam",
            "a sector 3 provider cannot be a member of OPTAM",
        ));
    }

    let beneficiary = &req.beneficiary;
    at("beneficiary.birth_date", date(beneficiary.birth_date))?;
    if beneficiary.birth_date > req.date {
        return Err(QuoteError::new(
            "beneficiary.birth_date",
            "must not be after the care date",
        ));
    }
    at(
        "beneficiary.pf_paid_this_year",
        money(beneficiary.pf_paid_this_year),
    )?;
    at(
        "beneficiary.franchise_paid_this_year",
        money(beneficiary.franchise_paid_this_year),
    )?;

    match &req.guarantee {
        GuaranteeLine::PercentOfBase {
            percent_br,
            percent_br_non_optam,
            ..
        } => {
            at("guarantee.percent_br", percent(*percent_br))?;
            at(
                "guarantee.percent_br_non_optam",
                percent(*percent_br_non_optam),
            )?;
        }
        GuaranteeLine::EuroAmount {
            euro_amount,
            ceiling_remaining,
        } => {
            at("guarantee.euro_amount", money(*euro_amount))?;
            at("guarantee.ceiling_remaining", money(*ceiling_remaining))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_is_whole_cents_within_bounds() {
        assert!(money(d("30.00")).is_ok());
        assert!(money(d("0")).is_ok());
        assert!(money(d("-0.00")).is_ok());
        assert!(money(d("30.500")).is_ok());
        assert_eq!(
            at("price", money(d("-0.01"))).unwrap_err(),
            QuoteError::new("price", "must not be negative")
        );
        assert!(money(d("30.005")).is_err());
        assert!(money(d("1000000.01")).is_err());
    }

    #[test]
    fn rates_are_fractions() {
        assert!(rate(d("0.70")).is_ok());
        assert!(rate(d("1")).is_ok());
        assert!(rate(d("0")).is_ok());
        assert!(rate(d("1.01")).is_err());
        assert!(rate(d("70")).is_err());
        assert!(rate(d("-0.1")).is_err());
        assert!(rate(d("0.1234567")).is_err());
    }

    #[test]
    fn percentages_are_bounded() {
        assert!(percent(d("200")).is_ok());
        assert!(percent(d("87.5")).is_ok());
        assert!(percent(d("-1")).is_err());
        assert!(percent(d("10000.01")).is_err());
    }
}
