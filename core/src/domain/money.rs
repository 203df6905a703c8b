//! Money as text: the one decimal grammar of amounts in euros, used by the phone (what people
//! type: `30`, `30.5`, `30,50 €`) and by the server (the `price` of a request), so both sides
//! accept exactly the same amounts. `Decimal::from_str` alone is too lenient for that: it
//! takes `1_000`, `+5` and more.

use rust_decimal::Decimal;

use super::enrollment::FieldError;

/// The largest price accepted for one act.
pub const MAX_PRICE: u32 = 100_000;
/// Most digits before the point (a billion euros is far past any price).
pub const MAX_WHOLE_DIGITS: usize = 9;
/// Most digits after the point: cents.
pub const MAX_DECIMALS: usize = 2;

/// Why a text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing given.
    #[error("is required")]
    Empty,
    /// A minus sign: amounts here are never negative.
    #[error("must be more than zero")]
    Negative,
    /// More than two decimals.
    #[error("has more than two decimals")]
    TooManyDecimals,
    /// More digits than any amount has.
    #[error("has too many digits")]
    TooLong,
    /// Anything else: a sign, an exponent, an underscore, a space, a letter, a second point.
    #[error("must be an amount in euros, such as 30 or 30.50")]
    Malformed,
}

/// The grammar: `DIGITS? ("." DIGIT DIGIT?)?` with at least one digit, at most
/// [`MAX_WHOLE_DIGITS`] before the point. Nothing else: no sign, exponent, underscore,
/// space or thousands separator. `30`, `30.5`, `30.50`, `.5` and `0` are amounts.
pub fn parse_amount(text: &str) -> Result<Decimal, AmountError> {
    if text.is_empty() {
        return Err(AmountError::Empty);
    }
    if text.starts_with('-') {
        return Err(AmountError::Negative);
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !fraction.is_none_or(digits) {
        return Err(AmountError::Malformed);
    }
    let fraction = fraction.unwrap_or("");
    // `30.` and `.` are not amounts: a point is followed by a digit.
    if text.contains('.') && fraction.is_empty() {
        return Err(AmountError::Malformed);
    }
    if whole.is_empty() && fraction.is_empty() {
        return Err(AmountError::Malformed);
    }
    if whole.len() > MAX_WHOLE_DIGITS {
        return Err(AmountError::TooLong);
    }
    if fraction.len() > MAX_DECIMALS {
        return Err(AmountError::TooManyDecimals);
    }
    // Built from the digits, not parsed again: at most 11 digits fit an i64 with room.
    let mut mantissa: i64 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        mantissa = mantissa * 10 + i64::from(b - b'0');
    }
    Ok(Decimal::new(mantissa, fraction.len() as u32))
}

/// Whether `value` is a price of one act: more than zero, at most [`MAX_PRICE`] euros, whole
/// cents. Both sides check a parsed price with it.
pub fn check_price(value: Decimal) -> Result<Decimal, FieldError> {
    let err = |m: &str| FieldError {
        field: "price",
        message: m.to_owned(),
    };
    if value <= Decimal::ZERO {
        return Err(err("must be more than zero"));
    }
    if value.normalize().scale() > MAX_DECIMALS as u32 {
        return Err(err("has more than two decimals"));
    }
    if value > Decimal::from(MAX_PRICE) {
        return Err(err("is more than 100000 euros"));
    }
    Ok(value)
}

/// Parses a price in euros as people type it: spaces around it, a trailing `€` and a French
/// decimal comma are allowed; then the amount grammar and [`check_price`].
pub fn parse_price(raw: &str) -> Result<Decimal, FieldError> {
    let text = raw.trim().trim_end_matches('€').trim().replace(',', ".");
    let value = parse_amount(&text).map_err(|e| FieldError {
        field: "price",
        message: e.to_string(),
    })?;
    check_price(value)
}

/// An amount in cents (minor units), rounded once, half away from zero, to the cent.
pub fn to_cents(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (amount * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}

fn grouped(whole: u64, separator: &str) -> String {
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

/// Euros for a French reader: `1 234,50 €` (narrow no-break space between thousands, a
/// no-break space before the sign, as CLDR writes it).
pub fn display_fr(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!(
        "{sign}{},{:02}\u{a0}€",
        grouped(c / 100, "\u{202f}"),
        c % 100
    )
}

/// Euros for an English reader: `€1,234.50`.
pub fn display_en(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}€{}.{:02}", grouped(c / 100, ","), c % 100)
}

/// Serde: a `price` on the wire, a JSON string in the amount grammar (the phone sends
/// `"30.50"`). The message names the field, which the server's error then carries as `param`.
pub fn deserialize_price<'de, D>(deserializer: D) -> Result<Decimal, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Amount;
    impl serde::de::Visitor<'_> for Amount {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field `price`: an amount in a string, such as \"30.50\"")
        }
        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Decimal, E> {
            parse_amount(text).map_err(|e| E::custom(format_args!("field `price` {e}")))
        }
        // Serde's own message would quote the value before the field's name.
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Decimal, E> {
            Err(E::custom(NOT_A_STRING))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Decimal, E> {
            Err(E::custom(NOT_A_STRING))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Decimal, E> {
            Err(E::custom(NOT_A_STRING))
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Decimal, E> {
            Err(E::custom(NOT_A_STRING))
        }
    }
    const NOT_A_STRING: &str =
        "field `price` must be a string such as \"30.50\" (a JSON number is a float)";
    // `any`, not `str`: serde_json then hands numbers to the visitor, which names the field.
    deserializer.deserialize_any(Amount)
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_display_in_french_and_english() {
        assert_eq!(to_cents(Decimal::new(19005, 3)), 1901);
        assert_eq!(display_fr(1900), "19,00\u{a0}€");
        assert_eq!(display_fr(12_345_678), "123\u{202f}456,78\u{a0}€");
        assert_eq!(display_en(12_345_678), "€123,456.78");
        assert_eq!(display_en(5), "€0.05");
    }

    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    #[test]
    fn prices_as_people_type_them() {
        assert_eq!(parse_price("30").unwrap().to_string(), "30");
        assert_eq!(parse_price(" 30,50 € ").unwrap().to_string(), "30.50");
        assert_eq!(parse_price(".5").unwrap().to_string(), "0.5");
        assert_eq!(parse_price("100000.00").unwrap().to_string(), "100000.00");
        for bad in [
            "",
            "-5",
            "-3",
            "0",
            "0.00",
            "1e3",
            "12.345",
            "abc",
            "100000.01",
            "NaN",
            "1.2.3",
            "1_000",
            "+5",
            "1 000",
            "30.",
            ".",
            "٣",
            "0x10",
        ] {
            assert_eq!(parse_price(bad).unwrap_err().field, "price", "{bad}");
        }
        assert_eq!(
            parse_price("-3").unwrap_err().message,
            "must be more than zero"
        );
    }

    #[test]
    fn the_grammar_refuses_what_decimal_from_str_accepts() {
        for lenient in ["1_000", "+5", "1e3", "1E3", "-0", "0.1_0", "_1"] {
            assert!(parse_amount(lenient).is_err(), "{lenient}");
        }
        assert_eq!(parse_amount("1_000"), Err(AmountError::Malformed));
        assert_eq!(parse_amount("-1"), Err(AmountError::Negative));
        assert_eq!(parse_amount("1.234"), Err(AmountError::TooManyDecimals));
        assert_eq!(parse_amount("1234567890"), Err(AmountError::TooLong));
        assert_eq!(parse_amount(""), Err(AmountError::Empty));
        assert_eq!(parse_amount("0"), Ok(Decimal::ZERO));
        assert_eq!(parse_amount("007.1").unwrap().to_string(), "7.1");
    }

    #[test]
    fn the_wire_names_the_field_and_takes_strings_only() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            #[serde(deserialize_with = "deserialize_price")]
            #[allow(dead_code)]
            price: Decimal,
        }
        let ok: Body = serde_json::from_str(r#"{"price": "30.50"}"#).unwrap();
        assert_eq!(ok.price.to_string(), "30.50");
        for bad in [
            r#"{"price": "1_000"}"#,
            r#"{"price": "-3"}"#,
            r#"{"price": 30}"#,
            r#"{"price": 30.5}"#,
            r#"{"price": true}"#,
            r#"{"price": null}"#,
            r#"{"price": "1e3"}"#,
        ] {
            let e = serde_json::from_str::<Body>(bad).unwrap_err().to_string();
            assert!(e.contains("field `price`"), "{bad}: {e}");
        }
    }

    proptest! {
        #[test]
        fn every_amount_of_the_grammar_reads_as_decimal_does(
            whole in "[0-9]{0,9}",
            fraction in proptest::option::of("[0-9]{1,2}"),
        ) {
            prop_assume!(!whole.is_empty() || fraction.is_some());
            let text = match &fraction {
                Some(f) => format!("{whole}.{f}"),
                None => whole.clone(),
            };
            let parsed = parse_amount(&text).unwrap();
            prop_assert_eq!(parsed, Decimal::from_str(&format!("0{text}")).unwrap());
            prop_assert_eq!(parsed.scale() as usize, fraction.map_or(0, |f| f.len()));
        }

        #[test]
        fn what_the_grammar_accepts_is_digits_and_one_point(text in "[0-9._+eE, -]{0,14}") {
            if let Ok(value) = parse_amount(&text) {
                prop_assert!(text.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
                prop_assert!(text.matches('.').count() <= 1);
                prop_assert!(!text.ends_with('.'));
                prop_assert!(value >= Decimal::ZERO);
                prop_assert!(value.scale() <= 2);
            }
        }

        #[test]
        fn prices_print_back_to_themselves(cents in 1i64..=10_000_000) {
            let price = Decimal::new(cents, 2);
            prop_assert_eq!(parse_price(&price.to_string()), Ok(price));
            prop_assert_eq!(parse_price(&price.to_string().replace('.', ",")), Ok(price));
        }
    }
}
