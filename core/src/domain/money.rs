//! Amounts typed by people: `30`, `30.5`, `30,50` (French decimal comma) are 30.50 €.

use rust_decimal::Decimal;

use super::enrollment::FieldError;

/// The largest price accepted for one act.
pub const MAX_PRICE: u32 = 100_000;

/// Parses a price in euros: positive, at most two decimals, at most 100,000 €.
pub fn parse_price(raw: &str) -> Result<Decimal, FieldError> {
    let err = |m: &str| FieldError {
        field: "price",
        message: m.to_owned(),
    };
    let text = raw.trim().trim_end_matches('€').trim().replace(',', ".");
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(err("must be an amount in euros, such as 30 or 30.50"));
    }
    let value: Decimal = text
        .parse()
        .map_err(|_| err("must be an amount in euros, such as 30 or 30.50"))?;
    if value.scale() > 2 {
        return Err(err("has more than two decimals"));
    }
    if value <= Decimal::ZERO {
        return Err(err("must be more than zero"));
    }
    if value > Decimal::from(MAX_PRICE) {
        return Err(err("is more than 100000 euros"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_as_people_type_them() {
        assert_eq!(parse_price("30").unwrap().to_string(), "30");
        assert_eq!(parse_price(" 30,50 € ").unwrap().to_string(), "30.50");
        for bad in [
            "",
            "-5",
            "0",
            "1e3",
            "12.345",
            "abc",
            "100000.01",
            "NaN",
            "1.2.3",
        ] {
            assert_eq!(parse_price(bad).unwrap_err().field, "price", "{bad}");
        }
    }
}
