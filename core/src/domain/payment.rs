//! Paying at the doctor, the pure part: what a card typed by the member must look like before
//! anything is sent (digits, Luhn, expiry not past, code), and the sentences a visit's result
//! reads in French and English. Time is a parameter.

use super::card_rules::Sentence;
use super::enrollment::FieldError;
use super::money::{display_en, display_fr};

/// A card number as typed: spaces and dashes dropped, 12 to 19 digits, Luhn-valid. The
/// message never repeats the number.
pub fn card_number(raw: &str) -> Result<String, FieldError> {
    let err = |m: &str| FieldError {
        field: "number",
        message: m.to_owned(),
    };
    if raw.len() > 64 {
        return Err(err("is too long for a card number"));
    }
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if digits.is_empty() {
        return Err(err("is required"));
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("must be digits only"));
    }
    if !(12..=19).contains(&digits.len()) {
        return Err(err("must have 12 to 19 digits"));
    }
    if !luhn(&digits) {
        return Err(err("is not a valid card number (check the digits)"));
    }
    Ok(digits)
}

/// The Luhn check of card numbers (ISO/IEC 7812-1).
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 {
                    d - 9
                } else {
                    d
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// An expiry as typed, `MM/YY` or `MM/YYYY`, not before the month of `today` (year, month).
/// Returns (month, four-digit year).
pub fn card_expiry(raw: &str, today: (i32, u32)) -> Result<(u32, u32), FieldError> {
    let err = |m: &str| FieldError {
        field: "expiry",
        message: m.to_owned(),
    };
    let text = raw.trim();
    let Some((month, year)) = text.split_once('/') else {
        return Err(err("must be MM/YY"));
    };
    let number = |s: &str, len: &[usize]| {
        (len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let month = number(month.trim(), &[1, 2]).ok_or_else(|| err("must be MM/YY"))?;
    let year = number(year.trim(), &[2, 4]).ok_or_else(|| err("must be MM/YY"))?;
    let year = if year < 100 { 2000 + year } else { year };
    if !(1..=12).contains(&month) {
        return Err(err("has a month from 01 to 12"));
    }
    let (this_year, this_month) = today;
    if (i64::from(year), month) < (i64::from(this_year), this_month) {
        return Err(err("is in the past: this card has expired"));
    }
    if i64::from(year) > i64::from(this_year) + 20 {
        return Err(err("is too far in the future"));
    }
    Ok((month, year))
}

/// A card's security code: 3 or 4 digits.
pub fn card_cvc(raw: &str) -> Result<String, FieldError> {
    let text = raw.trim();
    if (3..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        Ok(text.to_owned())
    } else {
        Err(FieldError {
            field: "cvc",
            message: "must be the 3 or 4 digits on the back of the card".into(),
        })
    }
}

/// What a settled visit moved, in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidFigures {
    /// Paid to the provider.
    pub provider_paid: i64,
    /// Statutory insurance's share.
    pub amo: i64,
    /// The complementary insurer's share.
    pub amc: i64,
    /// The member's share (captured, plus arrears if any).
    pub member: i64,
}

/// "Paid 30,00 € to Dr Martin: your insurers 28,00 €, you 2,00 €", each language with its own
/// money format.
pub fn paid_sentence(provider_name: &str, f: PaidFigures) -> Sentence {
    let insurers = f.amo.saturating_add(f.amc);
    Sentence {
        fr: format!(
            "{} payés à {provider_name}\u{a0}: vos assurances {}, vous {}",
            display_fr(f.provider_paid),
            display_fr(insurers),
            display_fr(f.member)
        ),
        en: format!(
            "Paid {} to {provider_name}: your insurers {}, you {}",
            display_en(f.provider_paid),
            display_en(insurers),
            display_en(f.member)
        ),
    }
}

/// Seconds left before `expires_at` at `now` (0 once past): the shells' countdown.
pub fn seconds_left(expires_at: i64, now: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0)
}

/// What a decline code of the member's own card means, for the member.
pub fn decline_sentence(decline_code: &str) -> Sentence {
    let (fr, en) = match decline_code {
        "insufficient_funds" => (
            "Votre carte a été refusée : provision insuffisante.",
            "Your card was declined: insufficient funds.",
        ),
        "expired_card" => (
            "Votre carte a expiré : enregistrez-en une autre.",
            "Your card has expired: save another one.",
        ),
        "incorrect_cvc" | "invalid_cvc" => (
            "Le code de sécurité de la carte est incorrect.",
            "The card's security code is incorrect.",
        ),
        "payment_method_missing" => (
            "Enregistrez d'abord votre carte : elle paie ce que vos assurances ne paient pas.",
            "Save your own card first: it pays what your insurers do not.",
        ),
        "payment_method_requires_action" => (
            "Votre banque attend que vous confirmiez votre carte : faites-le d'abord.",
            "Your bank is waiting for you to confirm your card: finish that first.",
        ),
        "payment_method_failed" => (
            "Votre banque a refusé votre carte : enregistrez-en une autre.",
            "Your bank refused your card: save another one.",
        ),
        "authentication_required" => (
            "Votre banque demande une authentification.",
            "Your bank asks you to authenticate.",
        ),
        _ => (
            "Votre carte a été refusée par votre banque.",
            "Your card was declined by your bank.",
        ),
    };
    Sentence {
        fr: fr.into(),
        en: en.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_digits_that_pass_luhn_and_errors_do_not_repeat_them() {
        assert_eq!(
            card_number("4242 4242 4242 4242").unwrap(),
            "4242424242424242"
        );
        assert_eq!(
            card_number("4000-0000-0000-0002").unwrap(),
            "4000000000000002"
        );
        for (bad, field) in [
            ("", "number"),
            ("4242424242424241", "number"),
            ("42424242", "number"),
            ("4242x42424242424", "number"),
            ("42424242424242424242", "number"),
        ] {
            let e = card_number(bad).unwrap_err();
            assert_eq!(e.field, field, "{bad}");
            assert!(bad.is_empty() || !e.message.contains(bad), "{}", e.message);
        }
    }

    #[test]
    fn an_expiry_is_mm_yy_and_not_past() {
        let today = (2026, 12);
        assert_eq!(card_expiry("12/26", today), Ok((12, 2026)));
        assert_eq!(card_expiry("03/2031", today), Ok((3, 2031)));
        assert_eq!(card_expiry(" 1/30 ", today), Ok((1, 2030)));
        for bad in [
            "11/26", "13/30", "00/30", "1230", "12/3", "ab/cd", "12/2099", "",
        ] {
            assert_eq!(
                card_expiry(bad, today).unwrap_err().field,
                "expiry",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_security_code_is_three_or_four_digits() {
        assert_eq!(card_cvc("123").unwrap(), "123");
        assert_eq!(card_cvc("1234").unwrap(), "1234");
        for bad in ["12", "12345", "12a", ""] {
            assert!(card_cvc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_paid_sentence_reads_in_both_languages() {
        let s = paid_sentence(
            "Dr Martin",
            PaidFigures {
                provider_paid: 3000,
                amo: 1900,
                amc: 900,
                member: 200,
            },
        );
        assert_eq!(
            s.en,
            "Paid €30.00 to Dr Martin: your insurers €28.00, you €2.00"
        );
        assert_eq!(
            s.fr,
            "30,00\u{a0}€ payés à Dr Martin\u{a0}: vos assurances 28,00\u{a0}€, vous 2,00\u{a0}€"
        );
    }

    #[test]
    fn the_countdown_stops_at_zero() {
        assert_eq!(seconds_left(1_800, 0), 1_800);
        assert_eq!(seconds_left(10, 20), 0);
        assert_eq!(seconds_left(i64::MIN, i64::MAX), 0);
    }

    #[test]
    fn decline_codes_read_as_sentences() {
        assert!(decline_sentence("insufficient_funds")
            .en
            .contains("insufficient"));
        assert!(decline_sentence("something_new").en.contains("declined"));
    }
}
