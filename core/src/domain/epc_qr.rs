//! The EPC QR code's payload (EPC069-12, version 002, "GiroCode"): the text a banking app
//! scans to fill a SEPA credit transfer. Twelve elements separated by LF: `BCD`, `002`, `1`
//! (UTF-8), `SCT`, BIC, name, IBAN, `EUR` and the amount, purpose, structured reference,
//! unstructured remittance, message to the payer; at most 331 bytes, so the code fits version
//! 13 at error correction M. Drawing the image is not done here.

use rust_decimal::Decimal;

use super::enrollment::FieldError;
use super::rf_reference::{mod97, RfReference};

/// Most bytes of a whole payload.
pub const MAX_PAYLOAD_BYTES: usize = 331;
/// Most characters of the beneficiary's name.
pub const MAX_NAME: usize = 70;
/// Most characters of an IBAN in electronic form.
pub const MAX_IBAN: usize = 34;
/// Most characters of a structured (creditor) reference.
pub const MAX_STRUCTURED: usize = 35;
/// Most characters of an unstructured remittance.
pub const MAX_UNSTRUCTURED: usize = 140;
/// Most characters of the message to the payer (beneficiary to originator information).
pub const MAX_MESSAGE: usize = 70;
/// Most bytes of raw input looked at for one field: a field this long is refused unread.
const MAX_FIELD_INPUT_BYTES: usize = 1024;

/// What is wrong with one field, or with the payload as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpcProblem {
    /// A field that must be given is empty.
    Required,
    /// Longer than the element allows (`max` characters).
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A control character, a line break or a direction override at `position` (from 1).
    Character {
        /// Position in the field, counted in characters from 1.
        position: usize,
    },
    /// Not the shape the element has (IBAN, BIC, purpose code).
    Format,
    /// The IBAN's check digits do not match.
    Checksum,
    /// The amount is not 0.01 to 999999999.99 euros in whole cents.
    Amount,
    /// The whole payload is over [`MAX_PAYLOAD_BYTES`].
    PayloadTooLong {
        /// Bytes the payload would take.
        bytes: usize,
    },
}

/// A refused payload: which field, and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{field} {}", describe(self.problem))]
pub struct EpcError {
    /// The element, as named in [`CreditTransfer`] (`payload` for the whole text).
    pub field: &'static str,
    /// What is wrong.
    pub problem: EpcProblem,
}

fn describe(problem: EpcProblem) -> String {
    match problem {
        EpcProblem::Required => "is required".to_owned(),
        EpcProblem::TooLong { max } => format!("is longer than {max} characters"),
        EpcProblem::Character { position } => {
            format!("has a character not allowed in a QR payment at position {position}")
        }
        EpcProblem::Format => "is not in the expected format".to_owned(),
        EpcProblem::Checksum => "has check digits that do not match (a character is wrong)".into(),
        EpcProblem::Amount => "must be 0.01 to 999999999.99 euros in whole cents".to_owned(),
        EpcProblem::PayloadTooLong { bytes } => {
            format!("takes {bytes} bytes, more than {MAX_PAYLOAD_BYTES}")
        }
    }
}

impl From<EpcError> for FieldError {
    fn from(e: EpcError) -> Self {
        FieldError {
            field: e.field,
            message: describe(e.problem),
        }
    }
}

/// The remittance information: exactly one of the two kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remittance {
    /// A checked RF creditor reference (element 10), which the bank passes on intact.
    Structured(RfReference),
    /// Free text, at most 140 characters (element 11).
    Unstructured(String),
}

/// A SEPA credit transfer to propose, as the payee fills it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfer {
    /// The payee's BIC (8 or 11 characters); may be left out in version 002.
    pub bic: Option<String>,
    /// The payee's name, at most 70 characters.
    pub name: String,
    /// The payee's IBAN; spaces and lower case are tolerated, its check digits are verified.
    pub iban: String,
    /// The amount in euros, 0.01 to 999999999.99, whole cents.
    pub amount: Decimal,
    /// An ISO 20022 purpose code of four capital letters, optional.
    pub purpose: Option<String>,
    /// The reference or text the payee will see on the transfer.
    pub remittance: Remittance,
    /// A message shown to the payer, at most 70 characters, optional.
    pub message: Option<String>,
}

/// The payload text: LF between elements, trailing empty elements left out, every field
/// checked; IBAN and BIC in electronic form (no spaces, upper case).
pub fn payload(transfer: &CreditTransfer) -> Result<String, EpcError> {
    let bic = match &transfer.bic {
        Some(b) if !b.trim().is_empty() => bic(b)?,
        _ => String::new(),
    };
    let name = text("name", &transfer.name, MAX_NAME)?;
    if name.is_empty() {
        return Err(err("name", EpcProblem::Required));
    }
    let iban = iban(&transfer.iban)?;
    let amount = amount(transfer.amount)?;
    let purpose = match &transfer.purpose {
        Some(p) if !p.is_empty() => purpose(p)?,
        _ => String::new(),
    };
    let (structured, unstructured) = match &transfer.remittance {
        Remittance::Structured(r) => {
            // An RF reference is at most 25 characters, within the element's 35.
            debug_assert!(r.as_str().len() <= MAX_STRUCTURED);
            (r.as_str().to_owned(), String::new())
        }
        Remittance::Unstructured(t) => {
            let t = text("remittance", t, MAX_UNSTRUCTURED)?;
            if t.is_empty() {
                return Err(err("remittance", EpcProblem::Required));
            }
            (String::new(), t)
        }
    };
    let message = match &transfer.message {
        Some(m) => text("message", m, MAX_MESSAGE)?,
        None => String::new(),
    };
    let mut elements = vec![
        "BCD".to_owned(),
        "002".to_owned(),
        "1".to_owned(),
        "SCT".to_owned(),
        bic,
        name,
        iban,
        amount,
        purpose,
        structured,
        unstructured,
        message,
    ];
    // EPC069-12: the last populated element is followed by nothing, not even a separator.
    while elements.last().is_some_and(String::is_empty) {
        elements.pop();
    }
    let out = elements.join("\n");
    if out.len() > MAX_PAYLOAD_BYTES {
        return Err(err(
            "payload",
            EpcProblem::PayloadTooLong { bytes: out.len() },
        ));
    }
    Ok(out)
}

fn err(field: &'static str, problem: EpcProblem) -> EpcError {
    EpcError { field, problem }
}

/// A free-text element: at most `max` characters, none that could break the layout (controls
/// such as LF and CR, the Unicode line and paragraph separators) or disguise it (direction
/// overrides and isolates, zero-width characters). Spaces around it are dropped.
fn text(field: &'static str, raw: &str, max: usize) -> Result<String, EpcError> {
    if raw.len() > MAX_FIELD_INPUT_BYTES {
        return Err(err(field, EpcProblem::TooLong { max }));
    }
    let value = raw.trim_matches(' ');
    if let Some(position) = value.chars().position(forbidden) {
        return Err(err(
            field,
            EpcProblem::Character {
                position: position + 1,
            },
        ));
    }
    if value.chars().count() > max {
        return Err(err(field, EpcProblem::TooLong { max }));
    }
    Ok(value.to_owned())
}

fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'                    // line and paragraph separators
            | '\u{200b}'..='\u{200f}'                  // zero-width characters, LRM, RLM
            | '\u{202a}'..='\u{202e}'                  // direction embeddings and overrides
            | '\u{2066}'..='\u{2069}'                  // direction isolates
            | '\u{feff}')
}

/// An IBAN in electronic form: 2 letters (country), 2 check digits, 11 to 30 letters and digits;
/// moved first four to the end, it gives n mod 97 = 1 (ISO 13616).
fn iban(raw: &str) -> Result<String, EpcError> {
    const FIELD: &str = "iban";
    if raw.len() > MAX_FIELD_INPUT_BYTES {
        return Err(err(FIELD, EpcProblem::TooLong { max: MAX_IBAN }));
    }
    let mut value = String::with_capacity(MAX_IBAN);
    for (i, c) in raw.chars().enumerate() {
        match c {
            ' ' => {}
            'A'..='Z' | '0'..='9' => value.push(c),
            'a'..='z' => value.push(c.to_ascii_uppercase()),
            _ => {
                return Err(err(FIELD, EpcProblem::Character { position: i + 1 }));
            }
        }
    }
    if value.is_empty() {
        return Err(err(FIELD, EpcProblem::Required));
    }
    if value.len() > MAX_IBAN {
        return Err(err(FIELD, EpcProblem::TooLong { max: MAX_IBAN }));
    }
    let b = value.as_bytes();
    if value.len() < 15
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
    {
        return Err(err(FIELD, EpcProblem::Format));
    }
    if mod97(b[4..].iter().chain(&b[..4]).copied()) != 1 {
        return Err(err(FIELD, EpcProblem::Checksum));
    }
    Ok(value)
}

/// A BIC (ISO 9362): 4 letters (institution), 2 letters (country), 2 letters or digits
/// (location), optionally 3 more (branch).
fn bic(raw: &str) -> Result<String, EpcError> {
    const FIELD: &str = "bic";
    let value = raw.trim_matches(' ').to_ascii_uppercase();
    let b = value.as_bytes();
    let ok = (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(u8::is_ascii_alphanumeric);
    if !ok {
        return Err(err(FIELD, EpcProblem::Format));
    }
    Ok(value)
}

/// `EUR` and the amount with two decimals, from the decimal (never a float).
fn amount(value: Decimal) -> Result<String, EpcError> {
    let min = Decimal::new(1, 2);
    let max = Decimal::new(99_999_999_999, 2);
    if value < min || value > max || value.normalize().scale() > 2 {
        return Err(err("amount", EpcProblem::Amount));
    }
    let mut cents = value;
    cents.rescale(2);
    Ok(format!("EUR{cents}"))
}

/// An ISO 20022 external purpose code: four capital letters (`GDDS`, `SUPP`).
fn purpose(raw: &str) -> Result<String, EpcError> {
    if raw.len() == 4 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_owned())
    } else {
        Err(err("purpose", EpcProblem::Format))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Example IBAN of the French banking federation's documentation, a valid check.
    const IBAN: &str = "FR76 3000 6000 0112 3456 7890 189";

    fn transfer() -> CreditTransfer {
        CreditTransfer {
            bic: Some("BNPAFRPPXXX".into()),
            name: "Mutuelle Exemple".into(),
            iban: IBAN.into(),
            amount: Decimal::new(4250, 2),
            purpose: None,
            remittance: Remittance::Structured(RfReference::parse("RF04INV2024000123").unwrap()),
            message: Some("Cotisation de novembre".into()),
        }
    }

    #[test]
    fn a_transfer_with_an_rf_reference_gives_the_twelve_elements() {
        assert_eq!(
            payload(&transfer()).unwrap(),
            "BCD\n002\n1\nSCT\nBNPAFRPPXXX\nMutuelle Exemple\nFR7630006000011234567890189\n\
             EUR42.50\n\nRF04INV2024000123\n\nCotisation de novembre"
        );
    }

    #[test]
    fn trailing_empty_elements_are_left_out_and_the_bic_may_be() {
        let mut t = transfer();
        t.bic = None;
        t.message = None;
        t.amount = Decimal::new(7, 0);
        assert_eq!(
            payload(&t).unwrap(),
            "BCD\n002\n1\nSCT\n\nMutuelle Exemple\nFR7630006000011234567890189\nEUR7.00\n\n\
             RF04INV2024000123"
        );
        t.remittance = Remittance::Unstructured("Facture 2024000123".into());
        t.purpose = Some("GDDS".into());
        assert!(payload(&t)
            .unwrap()
            .ends_with("EUR7.00\nGDDS\n\nFacture 2024000123"));
    }

    fn refused(t: &CreditTransfer) -> (&'static str, EpcProblem) {
        let e = payload(t).unwrap_err();
        (e.field, e.problem)
    }

    #[test]
    fn each_field_is_checked_and_named() {
        let mut t = transfer();
        t.iban = "FR76 3000 6000 0112 3456 7890 188".into();
        assert_eq!(refused(&t), ("iban", EpcProblem::Checksum));
        t.iban = "FR76-3000".into();
        assert_eq!(refused(&t), ("iban", EpcProblem::Character { position: 5 }));
        t.iban = "7630006000011234567890189".into();
        assert_eq!(refused(&t), ("iban", EpcProblem::Format));
        t.iban = format!("FR76{}", "1".repeat(31));
        assert_eq!(refused(&t), ("iban", EpcProblem::TooLong { max: 34 }));
        t.iban = " ".into();
        assert_eq!(refused(&t), ("iban", EpcProblem::Required));

        let mut t = transfer();
        t.name = "A".repeat(71);
        assert_eq!(refused(&t), ("name", EpcProblem::TooLong { max: 70 }));
        t.name = "É".repeat(70);
        assert!(payload(&t).is_ok(), "70 characters, 140 bytes");
        t.name = "Mutuelle\nBCD".into();
        assert_eq!(refused(&t), ("name", EpcProblem::Character { position: 9 }));
        t.name = "Mutuelle \u{202e}elleutuM".into();
        assert_eq!(
            refused(&t),
            ("name", EpcProblem::Character { position: 10 })
        );
        t.name = "  ".into();
        assert_eq!(refused(&t), ("name", EpcProblem::Required));

        let mut t = transfer();
        t.bic = Some("BNPA FR PP".into());
        assert_eq!(refused(&t), ("bic", EpcProblem::Format));
        t.bic = Some("bnpafrpp".into());
        assert!(payload(&t).unwrap().contains("\nBNPAFRPP\n"));

        let mut t = transfer();
        t.purpose = Some("gdds".into());
        assert_eq!(refused(&t), ("purpose", EpcProblem::Format));

        let mut t = transfer();
        t.remittance = Remittance::Unstructured("x".repeat(141));
        assert_eq!(
            refused(&t),
            ("remittance", EpcProblem::TooLong { max: 140 })
        );
        t.remittance = Remittance::Unstructured("a\rb".into());
        assert_eq!(
            refused(&t),
            ("remittance", EpcProblem::Character { position: 2 })
        );
        t.remittance = Remittance::Unstructured(String::new());
        assert_eq!(refused(&t), ("remittance", EpcProblem::Required));

        let mut t = transfer();
        t.message = Some("m".repeat(71));
        assert_eq!(refused(&t), ("message", EpcProblem::TooLong { max: 70 }));
    }

    #[test]
    fn the_amount_is_from_a_cent_to_a_billion_less_a_cent_in_whole_cents() {
        let mut t = transfer();
        for (cents, scale, shown) in [
            (1, 2, "EUR0.01"),
            (99_999_999_999, 2, "EUR999999999.99"),
            (1230, 3, "EUR1.23"),
            (5, 0, "EUR5.00"),
        ] {
            t.amount = Decimal::new(cents, scale);
            assert!(
                payload(&t).unwrap().contains(&format!("\n{shown}\n")),
                "{shown}"
            );
        }
        for (cents, scale) in [(0, 0), (-1, 2), (1, 3), (100_000_000_000, 2), (1234, 3)] {
            t.amount = Decimal::new(cents, scale);
            assert_eq!(
                refused(&t),
                ("amount", EpcProblem::Amount),
                "{cents}e-{scale}"
            );
        }
    }

    #[test]
    fn a_payload_over_331_bytes_is_refused_whole() {
        let mut t = transfer();
        t.name = "N".repeat(70);
        t.remittance = Remittance::Unstructured("R".repeat(140));
        t.message = Some("M".repeat(70));
        // 3+3+1+3+11+70+27+8+0+0+140+70 characters and 11 separators.
        assert_eq!(
            refused(&t),
            ("payload", EpcProblem::PayloadTooLong { bytes: 347 })
        );
        t.message = Some("M".repeat(54));
        assert_eq!(payload(&t).unwrap().len(), 331);
    }

    #[test]
    fn errors_become_field_errors_naming_the_field() {
        let mut t = transfer();
        t.name = "x".repeat(71);
        let e: FieldError = payload(&t).unwrap_err().into();
        assert_eq!(e.field, "name");
        assert_eq!(e.message, "is longer than 70 characters");
    }

    proptest! {
        #[test]
        fn a_payload_splits_back_into_what_was_given(
            name in "[A-Za-zÀ-ÿ' .-]{1,70}",
            cents in 1i64..=99_999_999_999,
            base in "[A-Z0-9]{1,21}",
            message in proptest::option::of("[ -~]{0,70}"),
        ) {
            prop_assume!(!name.trim_matches(' ').is_empty());
            let reference = RfReference::make(&base).unwrap();
            let t = CreditTransfer {
                bic: None,
                name: name.clone(),
                iban: IBAN.into(),
                amount: Decimal::new(cents, 2),
                purpose: None,
                remittance: Remittance::Structured(reference.clone()),
                message: message.clone(),
            };
            match payload(&t) {
                Ok(p) => {
                    prop_assert!(p.len() <= MAX_PAYLOAD_BYTES);
                    let lines: Vec<&str> = p.split('\n').collect();
                    prop_assert!(lines.len() >= 10 && lines.len() <= 12);
                    prop_assert_eq!(&lines[..4], &["BCD", "002", "1", "SCT"]);
                    prop_assert_eq!(lines[5], name.trim_matches(' '));
                    prop_assert_eq!(lines[6], "FR7630006000011234567890189");
                    prop_assert_eq!(lines[7].to_owned(), format!("EUR{}.{:02}", cents / 100, cents % 100));
                    prop_assert_eq!(lines[9], reference.as_str());
                    let m = message.as_deref().unwrap_or("").trim_matches(' ');
                    prop_assert_eq!(lines.get(11).copied().unwrap_or(""), m);
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn no_field_can_add_a_line(
            at in 0usize..4,
            before in "[a-z]{0,10}",
            after in "[a-z]{0,10}",
            breaker in prop::sample::select(vec!['\n', '\r', '\u{2028}', '\u{85}', '\u{0}']),
        ) {
            let bad = format!("{before}{breaker}{after}");
            let mut t = transfer();
            let field = match at {
                0 => { t.name = bad; "name" }
                1 => { t.message = Some(bad); "message" }
                2 => { t.remittance = Remittance::Unstructured(bad); "remittance" }
                _ => { t.iban = bad; "iban" }
            };
            prop_assert_eq!(payload(&t).unwrap_err().field, field);
        }
    }
}
