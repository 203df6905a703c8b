//! What a well-formed enrollment request looks like. One place for these rules: the core checks
//! them before any network call and the mock server checks them again on arrival.

use time::{macros::format_description, Date};

/// A field of an enrollment request that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The request field, as named on the wire.
    pub field: &'static str,
    /// What is wrong, for a person to read.
    pub message: String,
}

impl FieldError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// Number of digits in a one-time code.
pub const CODE_LENGTH: usize = 6;

/// Normalises a contract number as members type it ("tp 1000-001" → "TP1000001"): spaces, dots
/// and dashes are dropped, letters upper-cased. 6 to 20 letters or digits remain.
pub fn normalize_contract_number(raw: &str) -> Result<String, FieldError> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '\u{a0}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.is_empty() {
        return Err(FieldError::new("contract_number", "is required"));
    }
    if !cleaned.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(
            "contract_number",
            "may contain only letters and digits",
        ));
    }
    if !(6..=20).contains(&cleaned.len()) {
        return Err(FieldError::new(
            "contract_number",
            "must be 6 to 20 letters or digits",
        ));
    }
    Ok(cleaned)
}

/// Parses a calendar date written `YYYY-MM-DD`; `field` names it in the error.
pub fn parse_date(raw: &str, field: &'static str) -> Result<Date, FieldError> {
    let fmt = format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &fmt)
        .map_err(|_| FieldError::new(field, "must be a date written YYYY-MM-DD"))
}

/// Parses a birth date written `YYYY-MM-DD` and checks it is plausible on `today`.
pub fn parse_birth_date(raw: &str, today: Date) -> Result<Date, FieldError> {
    let date = parse_date(raw, "birth_date")?;
    if date > today {
        return Err(FieldError::new("birth_date", "is in the future"));
    }
    if today.year() - date.year() > 130 {
        return Err(FieldError::new("birth_date", "is more than 130 years ago"));
    }
    Ok(date)
}

/// Checks a one-time code: exactly six digits once spaces are removed.
pub fn normalize_code(raw: &str) -> Result<String, FieldError> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != CODE_LENGTH || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(FieldError::new("code", "must be the 6 digits sent by SMS"));
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn contract_numbers_are_normalised() {
        assert_eq!(
            normalize_contract_number(" tp-1000 001 ").unwrap(),
            "TP1000001"
        );
        assert_eq!(
            normalize_contract_number("").unwrap_err().field,
            "contract_number"
        );
        assert!(normalize_contract_number("TP1000001'--").is_err());
        assert!(normalize_contract_number("12345").is_err());
        assert!(normalize_contract_number(&"9".repeat(21)).is_err());
    }

    #[test]
    fn birth_dates_must_be_real_and_past() {
        let today = date!(2026 - 11 - 21);
        assert_eq!(
            parse_birth_date("1985-04-12", today).unwrap(),
            date!(1985 - 04 - 12)
        );
        assert!(parse_birth_date("1985-02-30", today).is_err());
        assert!(parse_birth_date("12/04/1985", today).is_err());
        assert!(parse_birth_date("2027-01-01", today).is_err());
        assert!(parse_birth_date("1850-01-01", today).is_err());
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(normalize_code("123 456").unwrap(), "123456");
        assert!(normalize_code("12345").is_err());
        assert!(normalize_code("12345a").is_err());
        assert!(normalize_code("1234567").is_err());
    }
}
