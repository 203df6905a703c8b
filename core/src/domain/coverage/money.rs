//! Money in the coverage engine: the one rounding rule, and how amounts and rates are written.
//!
//! Amounts are [`Decimal`] euros, never floats. The engine computes exactly and rounds each
//! figure it shows to the cent with [`round_cents`], the only place a rounding rule is chosen
//! (docs/coverage.md rule 8).

use rust_decimal::{Decimal, RoundingStrategy};

/// The rounding rule of every figure the engine shows: to the nearest cent, and a half cent
/// rounds away from zero, i.e. up since amounts are positive (0.005 → 0.01, 0.025 → 0.03,
/// 16.415 → 16.42).
///
/// This is the everyday French rule ("arrondi au centime le plus proche", half up) that
/// members and insurers' statements use; banker's rounding (half to even) would show 0.02 for
/// 0.025 and surprise anyone checking a figure by hand.
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Rounds `amount` to the cent with [`ROUNDING`]. The result always has exactly two decimal
/// places (so it prints as `19.00`), and a zero is never negative.
pub fn round_cents(amount: Decimal) -> Decimal {
    let mut rounded = amount.round_dp_with_strategy(2, ROUNDING);
    rounded.rescale(2);
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    rounded
}

/// Whether `amount` is a whole number of cents (`30`, `30.5`, `30.50` and `30.500` are).
pub(crate) fn is_whole_cents(amount: Decimal) -> bool {
    amount.normalize().scale() <= 2
}

/// The sign, euros and cents of `amount` rounded to the cent. Integer formatting is several
/// times faster than `Decimal`'s, and a quote writes a few dozen amounts.
fn euros_and_cents(amount: Decimal) -> (&'static str, u128, u128) {
    let cents = round_cents(amount).mantissa(); // scale 2: the mantissa counts cents
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    (sign, cents / 100, cents % 100)
}

/// `19.00`: an amount with two decimal places, as the answer document writes it.
pub(crate) fn two_places(amount: Decimal) -> String {
    let (sign, euros, cents) = euros_and_cents(amount);
    format!("{sign}{euros}.{cents:02}")
}

/// `0.70`: a rate with at least two decimal places, as the answer document writes it.
pub(crate) fn rate_string(rate: Decimal) -> String {
    let mut rate = rate.normalize();
    if rate.scale() < 2 {
        rate.rescale(2);
    }
    rate.to_string()
}

/// `19,00 €` (French, with a no-break space before the sign).
pub(crate) fn euros_fr(amount: Decimal) -> String {
    let (sign, euros, cents) = euros_and_cents(amount);
    format!("{sign}{euros},{cents:02}\u{a0}€")
}

/// `€19.00` (English).
pub(crate) fn euros_en(amount: Decimal) -> String {
    let (sign, euros, cents) = euros_and_cents(amount);
    format!("{sign}€{euros}.{cents:02}")
}

/// A fraction written as a number of percent: `0.70` → `70`, `0.155` → `15.5`.
pub(crate) fn percent_number(fraction: Decimal) -> Decimal {
    (fraction * Decimal::ONE_HUNDRED).normalize()
}

/// `70 %` (French, no-break space) for the fraction `0.70`.
pub(crate) fn percent_fr(fraction: Decimal) -> String {
    format!(
        "{}\u{a0}%",
        percent_number(fraction).to_string().replace('.', ",")
    )
}

/// `70%` (English) for the fraction `0.70`.
pub(crate) fn percent_en(fraction: Decimal) -> String {
    format!("{}%", percent_number(fraction))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn half_cents_round_up_never_to_even() {
        for (exact, shown) in [
            ("0.005", "0.01"),
            ("0.015", "0.02"),
            ("0.025", "0.03"), // half-to-even would give 0.02
            ("0.035", "0.04"),
            ("16.415", "16.42"), // 70 % of 23.45
            ("16.425", "16.43"),
            ("2.675", "2.68"),
            ("7.035", "7.04"),
            ("0.0049999", "0.00"),
            ("0.0050001", "0.01"),
            ("0.994999", "0.99"),
            ("0.995", "1.00"),
            ("-0.005", "-0.01"), // away from zero on both sides (symmetric)
            ("-0.004", "0.00"),  // and never a negative zero
            ("30", "30.00"),
            ("30.1", "30.10"),
        ] {
            let rounded = round_cents(d(exact));
            assert_eq!(rounded.to_string(), shown, "{exact}");
            assert_eq!(rounded.scale(), 2, "{exact}");
        }
    }

    #[test]
    fn rounding_is_idempotent_and_within_half_a_cent() {
        for s in ["0", "1.234", "99.995", "123456.785", "0.3333333"] {
            let x = d(s);
            let r = round_cents(x);
            assert_eq!(round_cents(r), r);
            assert!((x - r).abs() <= d("0.005"), "{s}");
        }
    }

    #[test]
    fn writing_amounts_and_rates() {
        assert_eq!(two_places(d("2")), "2.00");
        assert_eq!(rate_string(d("0.7")), "0.70");
        assert_eq!(rate_string(d("1")), "1.00");
        assert_eq!(rate_string(d("0.655")), "0.655");
        assert_eq!(euros_fr(d("19")), "19,00\u{a0}€");
        assert_eq!(euros_en(d("19")), "€19.00");
        assert_eq!(two_places(d("1234.5")), "1234.50");
        assert_eq!(two_places(d("0.004")), "0.00");
        assert_eq!(two_places(d("-1.005")), "-1.01");
        assert_eq!(euros_fr(d("0.07")), "0,07\u{a0}€");
        assert_eq!(percent_fr(d("0.155")), "15,5\u{a0}%");
        assert_eq!(percent_en(d("0.70")), "70%");
        assert!(is_whole_cents(d("30.500")));
        assert!(!is_whole_cents(d("30.005")));
    }
}
