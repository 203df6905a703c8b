//! Pure checks of a card the member types in (number, expiry, CVC) and what Stripe's test cards
//! do when charged. No I/O: time is a parameter.

/// A refusal of a typed card: Stripe's `code`, the `param` at fault and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRefusal {
    /// `incorrect_number`, `invalid_number`, `invalid_expiry_month`, `invalid_expiry_year`,
    /// `invalid_cvc`.
    pub code: &'static str,
    /// `card[number]`, `card[exp_month]`, `card[exp_year]`, `card[cvc]`.
    pub param: &'static str,
    /// For a person.
    pub message: &'static str,
}

fn refusal(code: &'static str, param: &'static str, message: &'static str) -> CardRefusal {
    CardRefusal {
        code,
        param,
        message,
    }
}

/// Whether the digits pass the Luhn check.
pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// The network of a number, as Stripe names it (`visa`, `mastercard`, `amex`, `discover`,
/// `unknown`).
pub fn brand(number: &str) -> &'static str {
    let prefix = |n: usize| number.get(..n).and_then(|p| p.parse::<u32>().ok());
    if number.starts_with('4') {
        "visa"
    } else if prefix(2).is_some_and(|p| (51..=55).contains(&p))
        || prefix(4).is_some_and(|p| (2221..=2720).contains(&p))
    {
        "mastercard"
    } else if number.starts_with("34") || number.starts_with("37") {
        "amex"
    } else if number.starts_with("6011") || number.starts_with("65") {
        "discover"
    } else {
        "unknown"
    }
}

/// The number without the spaces and dashes people type, checked: digits only, 12 to 19 of
/// them (15 for American Express, 16 for Visa above 13), and Luhn-valid.
pub fn check_number(raw: &str) -> Result<String, CardRefusal> {
    let number: String = raw.chars().filter(|c| *c != ' ' && *c != '-').collect();
    if number.is_empty() || number.len() > 19 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refusal(
            "invalid_number",
            "card[number]",
            "The card number is not a valid credit card number.",
        ));
    }
    let length_ok = match brand(&number) {
        "amex" => number.len() == 15,
        "visa" => matches!(number.len(), 13 | 16 | 19),
        "mastercard" | "discover" => number.len() == 16,
        _ => (12..=19).contains(&number.len()),
    };
    if !length_ok || !luhn(&number) {
        return Err(refusal(
            "incorrect_number",
            "card[number]",
            "Your card number is incorrect.",
        ));
    }
    Ok(number)
}

/// Checks the expiry against `today` (year, month): the month 1–12, a two-digit year read as
/// 20YY, not in the past, at most 50 years ahead. Returns the four-digit year.
pub fn check_expiry(month: i64, year: i64, today: (i32, u8)) -> Result<i32, CardRefusal> {
    if !(1..=12).contains(&month) {
        return Err(refusal(
            "invalid_expiry_month",
            "card[exp_month]",
            "Your card's expiration month is invalid.",
        ));
    }
    let year = if (0..100).contains(&year) {
        2000 + year
    } else {
        year
    };
    let (this_year, this_month) = (i64::from(today.0), i64::from(today.1));
    if year < this_year || year > this_year + 50 {
        return Err(refusal(
            "invalid_expiry_year",
            "card[exp_year]",
            "Your card's expiration year is invalid.",
        ));
    }
    if year == this_year && month < this_month {
        return Err(refusal(
            "invalid_expiry_month",
            "card[exp_month]",
            "Your card's expiration month is invalid.",
        ));
    }
    Ok(year as i32)
}

/// A CVC: 3 digits, 4 for American Express.
pub fn check_cvc(cvc: &str, brand: &str) -> Result<(), CardRefusal> {
    let len = if brand == "amex" { 4 } else { 3 };
    if cvc.len() != len || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refusal(
            "invalid_cvc",
            "card[cvc]",
            "Your card's security code is invalid.",
        ));
    }
    Ok(())
}

/// Stripe's test tokens for a saved card, and the number each stands for.
pub fn token_number(token: &str) -> Option<&'static str> {
    match token {
        "pm_card_visa" | "tok_visa" => Some("4242424242424242"),
        "pm_card_chargeDeclined" | "tok_chargeDeclined" => Some("4000000000000002"),
        "pm_card_visa_chargeDeclinedInsufficientFunds" => Some("4000000000009995"),
        "pm_card_authenticationRequired" => Some("4000002760003184"),
        "pm_card_authenticationRequiredOnSetup" => Some("4000002500003155"),
        _ => None,
    }
}

/// A decline: Stripe's `code` and `decline_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decline {
    /// `card_declined`, `expired_card`, `incorrect_cvc`, `processing_error`,
    /// `authentication_required`.
    pub code: &'static str,
    /// `generic_decline`, `insufficient_funds`, `lost_card`, `stolen_card`, …
    pub decline_code: &'static str,
    /// For a person.
    pub message: &'static str,
}

/// When a card asks for 3D Secure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// Never.
    None,
    /// Unless the card was set up for off-session use and the payment is off-session.
    UnlessSetUpOffSession,
    /// On every payment and setup.
    Always,
}

/// What a test card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// Whether it asks for 3D Secure.
    pub authentication: Authentication,
    /// Declined when charged (after authentication, if any).
    pub charge_decline: Option<Decline>,
    /// Declined when set up for later use (a zero-amount check: insufficient funds does not
    /// show there).
    pub setup_decline: Option<Decline>,
}

const fn decline(code: &'static str, decline_code: &'static str, message: &'static str) -> Decline {
    Decline {
        code,
        decline_code,
        message,
    }
}

/// Declines of an authentication that cannot happen: the customer is not there.
pub const AUTHENTICATION_REQUIRED: Decline = decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
);

/// What Stripe's test card `number` does (any other number succeeds).
pub fn behaviour(number: &str) -> Behaviour {
    let plain = |d: Option<Decline>, setup: bool| Behaviour {
        authentication: Authentication::None,
        charge_decline: d,
        setup_decline: if setup { d } else { None },
    };
    let generic = decline(
        "card_declined",
        "generic_decline",
        "Your card was declined.",
    );
    let insufficient = decline(
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    );
    match number {
        "4000000000000002" => plain(Some(generic), true),
        "4000000000009995" => plain(Some(insufficient), false),
        "4000000000009987" => plain(
            Some(decline(
                "card_declined",
                "lost_card",
                "Your card was declined.",
            )),
            true,
        ),
        "4000000000009979" => plain(
            Some(decline(
                "card_declined",
                "stolen_card",
                "Your card was declined.",
            )),
            true,
        ),
        "4000000000000069" => plain(
            Some(decline(
                "expired_card",
                "expired_card",
                "Your card has expired.",
            )),
            true,
        ),
        "4000000000000127" => plain(
            Some(decline(
                "incorrect_cvc",
                "incorrect_cvc",
                "Your card's security code is incorrect.",
            )),
            true,
        ),
        "4000000000000119" => plain(
            Some(decline(
                "processing_error",
                "processing_error",
                "An error occurred while processing your card. Try again in a little bit.",
            )),
            true,
        ),
        "4000002500003155" => Behaviour {
            authentication: Authentication::UnlessSetUpOffSession,
            charge_decline: None,
            setup_decline: None,
        },
        "4000002760003184" => Behaviour {
            authentication: Authentication::Always,
            charge_decline: None,
            setup_decline: None,
        },
        "4000008260003178" => Behaviour {
            authentication: Authentication::Always,
            charge_decline: Some(insufficient),
            setup_decline: None,
        },
        _ => plain(None, false),
    }
}

/// Whether a payment must stop for 3D Secure: `set_up_off_session` is true once a SetupIntent
/// with `usage=off_session` succeeded for this card.
pub fn needs_authentication(b: &Behaviour, off_session: bool, set_up_off_session: bool) -> bool {
    match b.authentication {
        Authentication::None => false,
        Authentication::Always => true,
        Authentication::UnlessSetUpOffSession => !(off_session && set_up_off_session),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_lengths() {
        assert!(check_number("4242 4242 4242 4242").is_ok());
        assert_eq!(
            check_number("4242-4242-4242-4242").unwrap(),
            "4242424242424242"
        );
        assert_eq!(
            check_number("4242424242424241").unwrap_err().code,
            "incorrect_number"
        );
        assert_eq!(
            check_number("424242424242").unwrap_err().code,
            "incorrect_number"
        );
        assert_eq!(
            check_number("4242abcd42424242").unwrap_err().code,
            "invalid_number"
        );
        assert_eq!(check_number("").unwrap_err().param, "card[number]");
        assert_eq!(
            check_number(&"4".repeat(40)).unwrap_err().code,
            "invalid_number"
        );
        assert!(check_number("378282246310005").is_ok());
        assert!(check_number("5555555555554444").is_ok());
        assert_eq!(brand("5555555555554444"), "mastercard");
        assert_eq!(brand("2223003122003222"), "mastercard");
        assert_eq!(brand("378282246310005"), "amex");
        for n in [
            "4000000000000002",
            "4000000000009995",
            "4000000000009987",
            "4000000000009979",
            "4000000000000069",
            "4000000000000127",
            "4000000000000119",
            "4000002500003155",
            "4000002760003184",
            "4000008260003178",
        ] {
            assert!(check_number(n).is_ok(), "{n}");
        }
    }

    #[test]
    fn expiry_on_the_given_day() {
        let today = (2026, 12);
        assert_eq!(check_expiry(12, 2026, today), Ok(2026));
        assert_eq!(check_expiry(1, 30, today), Ok(2030));
        assert_eq!(
            check_expiry(11, 2026, today).unwrap_err().code,
            "invalid_expiry_month"
        );
        assert_eq!(
            check_expiry(12, 2025, today).unwrap_err().code,
            "invalid_expiry_year"
        );
        assert_eq!(
            check_expiry(13, 2027, today).unwrap_err().param,
            "card[exp_month]"
        );
        assert_eq!(
            check_expiry(0, 2027, today).unwrap_err().code,
            "invalid_expiry_month"
        );
        assert_eq!(
            check_expiry(1, 2077, today).unwrap_err().param,
            "card[exp_year]"
        );
    }

    #[test]
    fn cvc_by_brand() {
        assert!(check_cvc("123", "visa").is_ok());
        assert!(check_cvc("1234", "amex").is_ok());
        assert_eq!(check_cvc("1234", "visa").unwrap_err().code, "invalid_cvc");
        assert_eq!(check_cvc("12a", "visa").unwrap_err().param, "card[cvc]");
        assert!(check_cvc("", "visa").is_err());
    }

    #[test]
    fn test_card_outcomes() {
        let charge = |n: &str| {
            behaviour(n)
                .charge_decline
                .map(|d| (d.code, d.decline_code))
        };
        assert_eq!(charge("4242424242424242"), None);
        assert_eq!(
            charge("4000000000000002"),
            Some(("card_declined", "generic_decline"))
        );
        assert_eq!(
            charge("4000000000009995"),
            Some(("card_declined", "insufficient_funds"))
        );
        assert_eq!(
            charge("4000000000009987"),
            Some(("card_declined", "lost_card"))
        );
        assert_eq!(
            charge("4000000000009979"),
            Some(("card_declined", "stolen_card"))
        );
        assert_eq!(
            charge("4000000000000069"),
            Some(("expired_card", "expired_card"))
        );
        assert_eq!(
            charge("4000000000000127"),
            Some(("incorrect_cvc", "incorrect_cvc"))
        );
        assert_eq!(
            charge("4000000000000119"),
            Some(("processing_error", "processing_error"))
        );
        assert_eq!(
            charge("4000008260003178"),
            Some(("card_declined", "insufficient_funds"))
        );
        // A zero-amount setup does not see insufficient funds.
        assert_eq!(behaviour("4000000000009995").setup_decline, None);
        assert!(behaviour("4000000000000002").setup_decline.is_some());
        assert_eq!(token_number("pm_card_visa"), Some("4242424242424242"));
        assert_eq!(
            token_number("pm_card_chargeDeclined"),
            Some("4000000000000002")
        );
        assert_eq!(token_number("pm_card_unknown"), None);
    }

    #[test]
    fn authentication_rules() {
        let setup_card = behaviour("4000002500003155");
        assert!(needs_authentication(&setup_card, false, false));
        assert!(needs_authentication(&setup_card, true, false));
        assert!(needs_authentication(&setup_card, false, true));
        assert!(!needs_authentication(&setup_card, true, true));
        let always = behaviour("4000002760003184");
        assert!(needs_authentication(&always, true, true));
        assert!(!needs_authentication(
            &behaviour("4242424242424242"),
            false,
            false
        ));
    }
}
