//! Reading an incoming SEPA credit's remittance text for the RF creditor reference (ISO 11649)
//! of the invoice it pays. Pure: no database, no clock; the caller says which references are
//! known invoices.
//!
//! The text is what the payer's bank passed on (SEPA's unstructured remittance, at most 140
//! characters), so the reference may be anywhere in it, in either case, grouped by four or not
//! (`Facture rf18 5390 0754 7034 merci`). A reference starts a word with `RF` and two digits
//! (spaces allowed anywhere between them) and runs over the following words of letters and digits, up
//! to 25 characters; punctuation ends it. Because grouping spaces are tolerated, the reference
//! may end at any word boundary of that run: every reading whose check digits verify
//! (`tierspay_core::domain::rf_reference`, ISO 7064 MOD 97-10) is a candidate.
//!
//! The rule is to never pay the wrong invoice. A credit is matched only when exactly one
//! reference is read and it is a known invoice's; anything else goes to review with its reason:
//! no reference, one that fails its check (a mistyped character), one that matches nothing,
//! several different references, or a valid one beside a broken one (which did the payer
//! mean?). A run with two valid readings (the reference then a word that happens to extend it
//! to another valid reference, about one in 97) keeps only the known ones.

use tierspay_core::domain::rf_reference::{RfError, RfReference, MAX_LEN};

/// Longest remittance text read, in characters: SEPA's unstructured remittance is at most
/// 140 characters (the caller refuses longer input; this bounds the work regardless).
pub const MAX_REMITTANCE_CHARS: usize = 140;

/// Why a credit cannot be matched to an invoice and waits for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Review {
    /// No `RF` reference anywhere in the text.
    NoReference,
    /// A reference whose check digits do not verify (or that is malformed): what was read, and
    /// why it fails.
    Invalid {
        /// The characters read, in electronic form (upper case, no spaces).
        read: String,
        /// The check that failed.
        error: RfError,
    },
    /// A valid reference that is no known invoice's.
    Unknown(RfReference),
    /// Several different references, or a valid one beside an invalid one.
    Several(Vec<String>),
}

impl Review {
    /// The reason's code, as the review queue stores it.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoReference => "no_reference",
            Self::Invalid {
                error: RfError::Checksum,
                ..
            } => "reference_checksum_failed",
            Self::Invalid { .. } => "reference_malformed",
            Self::Unknown(_) => "reference_unknown",
            Self::Several(_) => "several_references",
        }
    }

    /// A sentence for the person reviewing it.
    pub fn message(&self) -> String {
        match self {
            Self::NoReference => "The remittance information carries no RF creditor reference.".into(),
            Self::Invalid { read, error } => format!("The reference {read} is refused: {error}."),
            Self::Unknown(r) => format!("The reference {r} is valid but matches no invoice."),
            Self::Several(refs) => format!(
                "The remittance information carries several references ({}): which invoice is meant is unclear.",
                refs.join(", ")
            ),
        }
    }
}

/// What the remittance text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Exactly one reference, a known invoice's.
    Matched(RfReference),
    /// A person must look.
    Review(Review),
}

/// One place where a reference starts: its valid readings (shortest first) and, when none is
/// valid, the longest one read and why it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Occurrence {
    valid: Vec<RfReference>,
    longest: String,
    error: Option<RfError>,
}

/// Words of letters and digits, with whether punctuation (anything but a space) precedes the
/// next word. At most [`MAX_REMITTANCE_CHARS`] characters are looked at.
fn words(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut current = String::new();
    for c in text.chars().take(MAX_REMITTANCE_CHARS) {
        if c.is_ascii_alphanumeric() {
            current.push(c.to_ascii_uppercase());
            continue;
        }
        if !current.is_empty() {
            out.push((std::mem::take(&mut current), false));
        }
        // Punctuation (or any non-space) breaks a run; spaces only separate its groups.
        if c != ' ' {
            if let Some(last) = out.last_mut() {
                last.1 = true;
            }
        }
    }
    if !current.is_empty() {
        out.push((current, false));
    }
    out
}

/// Where references start, and what each may read as.
fn occurrences(text: &str) -> Vec<Occurrence> {
    let words = words(text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        // `R` may stand alone (`R F18…`): the joined run decides.
        if !words[i].0.starts_with('R') {
            i += 1;
            continue;
        }
        // Join the run's words; a reading may end after any of them.
        let mut joined = String::new();
        let mut ends = Vec::new();
        let mut j = i;
        while j < words.len() && joined.len() + words[j].0.len() <= MAX_LEN {
            joined.push_str(&words[j].0);
            ends.push(joined.len());
            let broken = words[j].1;
            j += 1;
            if broken {
                break;
            }
        }
        // `RF` then two digits, possibly split as `RF 18`, `RF1 8`: otherwise a word such as
        // "RFID" or "RFA", not a reference.
        let starts = joined.len() >= 4
            && joined.starts_with("RF")
            && joined.as_bytes()[2..4].iter().all(u8::is_ascii_digit);
        if !starts {
            i += 1;
            continue;
        }
        let valid: Vec<RfReference> = ends
            .iter()
            .filter_map(|&end| RfReference::parse(&joined[..end]).ok())
            .collect();
        let error = if valid.is_empty() {
            RfReference::parse(&joined).err()
        } else {
            None
        };
        out.push(Occurrence {
            valid,
            longest: joined,
            error,
        });
        i = j.max(i + 1);
    }
    out
}

/// Reads `text` and decides: [`Decision::Matched`] only for exactly one reference that `known`
/// says is an invoice's.
pub fn decide(text: &str, known: impl Fn(&RfReference) -> bool) -> Decision {
    let found = occurrences(text);
    if found.is_empty() {
        return Decision::Review(Review::NoReference);
    }
    let mut references: Vec<RfReference> = Vec::new();
    let mut broken: Vec<(String, RfError)> = Vec::new();
    for o in found {
        if o.valid.is_empty() {
            broken.push((o.longest, o.error.unwrap_or(RfError::Checksum)));
            continue;
        }
        // Two readings of one run: the known ones decide; if none is known, all stay.
        let known_here: Vec<RfReference> = o.valid.iter().filter(|r| known(r)).cloned().collect();
        let readings = if o.valid.len() > 1 && !known_here.is_empty() {
            known_here
        } else {
            o.valid
        };
        for r in readings {
            if !references.contains(&r) {
                references.push(r);
            }
        }
    }
    match (references.len(), broken.len()) {
        (0, _) => {
            let (read, error) = broken.swap_remove(0);
            Decision::Review(Review::Invalid { read, error })
        }
        (1, 0) => {
            let r = references.swap_remove(0);
            if known(&r) {
                Decision::Matched(r)
            } else {
                Decision::Review(Review::Unknown(r))
            }
        }
        _ => Decision::Review(Review::Several(
            references
                .iter()
                .map(|r| r.as_str().to_owned())
                .chain(broken.into_iter().map(|(read, _)| read))
                .collect(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rf(base: &str) -> RfReference {
        RfReference::make(base).unwrap()
    }

    fn only(r: &RfReference) -> impl Fn(&RfReference) -> bool + '_ {
        move |x| x == r
    }

    #[test]
    fn finds_the_reference_anywhere_in_any_case_and_grouping() {
        let r = rf("539007547034");
        assert_eq!(r.as_str(), "RF18539007547034");
        for text in [
            "RF18539007547034",
            "Facture RF18 5390 0754 7034 merci",
            "rf18539007547034",
            "paiement: rf18 5390 0754 7034.",
            "RF 18 53900 7547034 / Dupont",
            "Ref.RF18539007547034",
        ] {
            assert_eq!(
                decide(text, only(&r)),
                Decision::Matched(r.clone()),
                "{text}"
            );
        }
        // Written twice is still one reference.
        assert_eq!(
            decide("RF18539007547034 (RF18 5390 0754 7034)", only(&r)),
            Decision::Matched(r.clone())
        );
    }

    #[test]
    fn a_mistyped_reference_is_refused_by_its_check_digits() {
        let r = rf("539007547034");
        let d = decide("Facture RF18 5390 0754 7035", only(&r));
        let Decision::Review(review) = d else {
            panic!("{d:?}")
        };
        assert_eq!(review.code(), "reference_checksum_failed");
        assert!(
            review.message().contains("RF18539007547035"),
            "{}",
            review.message()
        );
    }

    #[test]
    fn no_reference_unknown_and_several_go_to_review() {
        let a = rf("INV2024000123");
        let b = rf("INV2024000124");
        let known = |x: &RfReference| *x == a || *x == b;
        assert_eq!(
            decide("Cotisation janvier, contrat 1234", known),
            Decision::Review(Review::NoReference)
        );
        // Words starting with RF that are not references.
        assert_eq!(
            decide("RFID badge, surf", known),
            Decision::Review(Review::NoReference)
        );
        let c = rf("OTHER1");
        assert_eq!(
            decide(&format!("pour {c}"), known),
            Decision::Review(Review::Unknown(c))
        );
        let both = decide(&format!("{a}, {b}"), known);
        assert_eq!(
            both,
            Decision::Review(Review::Several(vec![a.to_string(), b.to_string()]))
        );
        // A valid reference beside a broken one: which one was meant is unclear.
        let d = decide(&format!("{a} et RF00123"), known);
        assert_eq!(d.clone(), d);
        assert!(matches!(d, Decision::Review(Review::Several(_))), "{d:?}");
        assert_eq!(decide("", known), Decision::Review(Review::NoReference));
    }

    #[test]
    fn the_known_reading_of_a_run_wins_over_an_accidental_longer_one() {
        // Find a word that extends a reference to another valid one.
        let r = rf("ABC123");
        let extension = (0..100_000)
            .map(|n| format!("X{n}"))
            .find(|w| RfReference::parse(&format!("{r}{w}")).is_ok())
            .unwrap();
        let text = format!("{} {extension}", r.grouped());
        assert_eq!(decide(&text, only(&r)), Decision::Matched(r.clone()));
        // Neither known: both readings, review.
        assert!(matches!(
            decide(&text, |_| false),
            Decision::Review(Review::Several(_))
        ));
    }

    #[test]
    fn long_input_is_bounded() {
        let r = rf("539007547034");
        let text = format!("{}{r}", "x ".repeat(200));
        // The reference lies beyond the 140 characters read.
        assert_eq!(
            decide(&text, only(&r)),
            Decision::Review(Review::NoReference)
        );
        let noise = "RF".repeat(10_000);
        assert!(matches!(decide(&noise, only(&r)), Decision::Review(_)));
    }

    fn spaced(reference: &str, gaps: &[bool], upper: &[bool]) -> String {
        let mut out = String::new();
        for (i, c) in reference.chars().enumerate() {
            if i > 0 && gaps.get(i).copied().unwrap_or(false) {
                out.push(' ');
            }
            let lower = !upper.get(i).copied().unwrap_or(true);
            out.push(if lower { c.to_ascii_lowercase() } else { c });
        }
        out
    }

    proptest! {
        #[test]
        fn any_spacing_and_case_of_a_valid_reference_matches(
            base in "[A-Z0-9]{1,21}",
            gaps in proptest::collection::vec(any::<bool>(), 25),
            upper in proptest::collection::vec(any::<bool>(), 25),
            before in "[a-z ]{0,30}",
            after in "[.,;:/]( [a-z]{1,10}){0,3}",
        ) {
            let r = rf(&base);
            let text = format!("{before} {} {after}", spaced(r.as_str(), &gaps, &upper));
            prop_assert_eq!(decide(&text, only(&r)), Decision::Matched(r.clone()), "{}", text);
        }

        #[test]
        fn a_single_changed_character_never_pays_the_invoice(
            base in "[A-Z0-9]{1,21}",
            at in 0usize..25,
            with in proptest::char::range('0', 'z'),
        ) {
            let r = rf(&base);
            let mut chars: Vec<char> = r.as_str().chars().collect();
            let at = at % chars.len();
            prop_assume!(!chars[at].eq_ignore_ascii_case(&with));
            chars[at] = with;
            let text: String = chars.into_iter().collect();
            // Only the original is an invoice: the changed text is refused by its check
            // digits, or reads as a reference that matches nothing, never as the invoice.
            let d = decide(&format!("Facture {text}"), only(&r));
            prop_assert!(matches!(d, Decision::Review(_)), "{} -> {:?}", text, d);
        }

        #[test]
        fn any_text_is_read_without_panicking(text in "\\PC{0,200}") {
            let _ = decide(&text, |_| true);
        }
    }
}
