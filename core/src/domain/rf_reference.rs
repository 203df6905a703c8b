//! The RF creditor reference (ISO 11649): `RF`, two check digits, then 1 to 21 letters and
//! digits of the creditor's own reference (`RF18539007547034`). One per invoice: it is printed
//! on the letter, carried by the EPC QR code, and an incoming SEPA transfer is matched to its
//! invoice by it. Its check digits catch typing errors before anything is matched.
//!
//! Making and checking use ISO 7064 MOD 97-10 (the IBAN's check): letters count as two digits
//! (A = 10 … Z = 35). The number is reduced piece by piece, so no big integer is needed however
//! long the text.

use std::fmt;

/// Longest creditor part (the base) of a reference.
pub const MAX_BASE_LEN: usize = 21;
/// Longest reference in electronic form: `RF`, two check digits and a 21-character base.
pub const MAX_LEN: usize = 4 + MAX_BASE_LEN;
/// Most bytes of raw input looked at (spaces included): anything longer is refused unread.
pub const MAX_INPUT_BYTES: usize = 64;

/// Why a text is not an RF creditor reference, or cannot become one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RfError {
    /// Nothing but spaces.
    #[error("the reference is empty")]
    Empty,
    /// Too short or too long once spaces are removed (`len` counts letters and digits).
    #[error("the reference has {len} characters; an RF reference has 5 to 25, a base 1 to 21")]
    Length {
        /// Characters after spaces were removed (or the raw byte count when over the input bound).
        len: usize,
    },
    /// A character that is neither a letter A–Z (either case), a digit nor a space.
    #[error("character {position} ('{found}') is not a letter or a digit")]
    Character {
        /// Position of the character in the text as given, counted in characters from 1.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The reference does not start with `RF`.
    #[error("the reference does not start with RF")]
    Prefix,
    /// The two characters after `RF` are not check digits (two digits from 02 to 98).
    #[error("the characters after RF are not check digits from 02 to 98")]
    CheckDigits,
    /// The check digits do not match the rest: a character was mistyped.
    #[error("the check digits do not match the reference (a character is wrong)")]
    Checksum,
}

/// A checked RF creditor reference, kept in electronic form: upper case, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RfReference(String);

impl RfReference {
    /// Makes the reference of a base of 1 to 21 letters and digits (spaces dropped, lower case
    /// raised): check = 98 − (n mod 97), where n is the base followed by `RF00` as digits.
    pub fn make(base: &str) -> Result<Self, RfError> {
        let base = normalize(base)?;
        if base.len() > MAX_BASE_LEN {
            return Err(RfError::Length { len: base.len() });
        }
        let n = mod97(base.bytes().chain(*b"RF00"));
        let check = 98 - n;
        Ok(Self(format!("RF{check:02}{base}")))
    }

    /// Reads a reference as a person or a bank statement writes it (spaces anywhere, either
    /// case) and checks it: `RF`, check digits 02–98, a 1–21 character base, and the first four
    /// characters moved to the end give n mod 97 = 1.
    pub fn parse(text: &str) -> Result<Self, RfError> {
        let reference = normalize(text)?;
        if !(5..=MAX_LEN).contains(&reference.len()) {
            return Err(RfError::Length {
                len: reference.len(),
            });
        }
        let bytes = reference.as_bytes();
        if &bytes[..2] != b"RF" {
            return Err(RfError::Prefix);
        }
        let check = &bytes[2..4];
        if !check.iter().all(u8::is_ascii_digit) {
            return Err(RfError::CheckDigits);
        }
        // 00, 01 and 99 pass the mod-97 test as 97, 98 and 02 would, but `make` never writes
        // them: refusing them keeps one spelling per reference.
        let value = (check[0] - b'0') * 10 + (check[1] - b'0');
        if !(2..=98).contains(&value) {
            return Err(RfError::CheckDigits);
        }
        if mod97(bytes[4..].iter().chain(&bytes[..4]).copied()) != 1 {
            return Err(RfError::Checksum);
        }
        Ok(Self(reference))
    }

    /// The electronic form, `RF18539007547034`: what the EPC QR code and a transfer carry.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The creditor's part after `RF` and the check digits.
    pub fn base(&self) -> &str {
        &self.0[4..]
    }

    /// The two check digits as a number (2 to 98).
    pub fn check_digits(&self) -> u8 {
        let b = self.0.as_bytes();
        (b[2] - b'0') * 10 + (b[3] - b'0')
    }

    /// The paper form, groups of four separated by a space: `RF18 5390 0754 7034`.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + self.0.len() / 4);
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

impl fmt::Display for RfReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Drops spaces and raises lower case; refuses empty text, other characters, and input past
/// [`MAX_INPUT_BYTES`] (before looking at it character by character).
fn normalize(text: &str) -> Result<String, RfError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(RfError::Length { len: text.len() });
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            ' ' => {}
            'A'..='Z' | '0'..='9' => out.push(c),
            'a'..='z' => out.push(c.to_ascii_uppercase()),
            _ => {
                return Err(RfError::Character {
                    position: i + 1,
                    found: c,
                })
            }
        }
    }
    if out.is_empty() {
        return Err(RfError::Empty);
    }
    Ok(out)
}

/// ISO 7064 MOD 97-10 of upper-case letters and digits, letters counting as two digits
/// (A = 10 … Z = 35), reduced after each character so any length fits in a `u32`. Shared with
/// the IBAN check of the EPC QR code; callers pass only `0-9A-Z`.
pub(crate) fn mod97(chars: impl IntoIterator<Item = u8>) -> u32 {
    chars.into_iter().fold(0u32, |n, c| match c {
        b'0'..=b'9' => (n * 10 + u32::from(c - b'0')) % 97,
        // n < 97, so n * 100 + 35 < 10 000: no overflow.
        _ => (n * 100 + u32::from(c.saturating_sub(b'A')) + 10) % 97,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_examples_of_the_design_note_are_made_and_checked() {
        // docs/arrears.md: RF18539007547034 is ISO 11649's own example.
        let a = RfReference::make("539007547034").unwrap();
        assert_eq!(a.as_str(), "RF18539007547034");
        assert_eq!(a.check_digits(), 18);
        assert_eq!(a.base(), "539007547034");
        let b = RfReference::make("INV2024000123").unwrap();
        assert_eq!(b.as_str(), "RF04INV2024000123");
        assert_eq!(RfReference::parse("RF04INV2024000123"), Ok(b));
        assert_eq!(RfReference::parse("RF18539007547034"), Ok(a));
    }

    #[test]
    fn spaces_and_lower_case_are_tolerated() {
        for text in [
            "RF18 5390 0754 7034",
            "rf18539007547034",
            "  Rf18 53 90075 47034 ",
            "RF185390 0754 7034",
        ] {
            assert_eq!(
                RfReference::parse(text).map(|r| r.to_string()),
                Ok("RF18539007547034".to_owned()),
                "{text}"
            );
        }
        assert_eq!(
            RfReference::make("inv 2024 000123").unwrap().as_str(),
            "RF04INV2024000123"
        );
    }

    #[test]
    fn the_paper_form_groups_by_four() {
        let r = RfReference::parse("RF18539007547034").unwrap();
        assert_eq!(r.grouped(), "RF18 5390 0754 7034");
        let r = RfReference::parse("RF04INV2024000123").unwrap();
        assert_eq!(r.grouped(), "RF04 INV2 0240 0012 3");
    }

    #[test]
    fn each_fault_is_named() {
        assert_eq!(RfReference::parse(""), Err(RfError::Empty));
        assert_eq!(RfReference::parse("   "), Err(RfError::Empty));
        assert_eq!(RfReference::parse("RF18"), Err(RfError::Length { len: 4 }));
        assert_eq!(
            RfReference::parse("RF18 5390 0754 7034 5390 0754 70"),
            Err(RfError::Length { len: 26 })
        );
        assert_eq!(
            RfReference::parse(&"1".repeat(65)),
            Err(RfError::Length { len: 65 })
        );
        assert_eq!(
            RfReference::parse("RF18-5390"),
            Err(RfError::Character {
                position: 5,
                found: '-'
            })
        );
        assert_eq!(
            RfReference::parse("RF18é390"),
            Err(RfError::Character {
                position: 5,
                found: 'é'
            })
        );
        assert_eq!(
            RfReference::parse("RF18\n5390"),
            Err(RfError::Character {
                position: 5,
                found: '\n'
            })
        );
        assert_eq!(RfReference::parse("XX18539007547034"), Err(RfError::Prefix));
        assert_eq!(
            RfReference::parse("RF1A539007547034"),
            Err(RfError::CheckDigits)
        );
        // One digit typed wrong, and two neighbours swapped.
        assert_eq!(
            RfReference::parse("RF18539007547035"),
            Err(RfError::Checksum)
        );
        assert_eq!(
            RfReference::parse("RF18539007574034"),
            Err(RfError::Checksum)
        );
        assert_eq!(RfReference::make(""), Err(RfError::Empty));
        assert_eq!(
            RfReference::make("1234567890123456789012"),
            Err(RfError::Length { len: 22 })
        );
        assert_eq!(
            RfReference::make("INV_1"),
            Err(RfError::Character {
                position: 4,
                found: '_'
            })
        );
    }

    #[test]
    fn check_digits_outside_02_to_98_are_refused_though_they_pass_mod_97() {
        // RF97 and RF98 are real; 00 and 01 would be the same numbers mod 97.
        let base = (0..2000)
            .map(|i| format!("A{i}"))
            .find(|b| RfReference::make(b).unwrap().check_digits() == 98)
            .unwrap();
        let real = format!("RF98{base}");
        assert!(RfReference::parse(&real).is_ok());
        assert_eq!(
            RfReference::parse(&format!("RF01{base}")),
            Err(RfError::CheckDigits)
        );
        let base = (0..2000)
            .map(|i| format!("B{i}"))
            .find(|b| RfReference::make(b).unwrap().check_digits() == 2)
            .unwrap();
        assert!(RfReference::parse(&format!("RF02{base}")).is_ok());
        assert_eq!(
            RfReference::parse(&format!("RF99{base}")),
            Err(RfError::CheckDigits)
        );
    }

    #[test]
    fn the_piecewise_remainder_matches_worked_values() {
        // The IBAN of ISO 13616's example, rearranged: remainder 1.
        assert_eq!(mod97(*b"WEST12345698765432GB82"), 1);
        assert_eq!(mod97(*b"97"), 0);
        assert_eq!(mod97(*b"A"), 10);
        assert_eq!(mod97(*b"Z"), 35);
        assert_eq!(mod97(*b"ZZ"), 3535 % 97);
    }

    fn base() -> impl Strategy<Value = String> {
        "[A-Z0-9]{1,21}"
    }

    proptest! {
        #[test]
        fn the_piecewise_remainder_equals_the_whole_number_remainder(digits in "[0-9]{1,38}") {
            // 38 digits fit a u128: an independent computation of the same remainder.
            let whole: u128 = digits.parse().unwrap();
            prop_assert_eq!(u128::from(mod97(digits.bytes())), whole % 97);
        }

        #[test]
        fn a_made_reference_checks_and_reads_back_in_any_spelling(base in base(), gaps in any::<u64>()) {
            let made = RfReference::make(&base).unwrap();
            prop_assert_eq!(made.base(), base.as_str());
            prop_assert!((2..=98).contains(&made.check_digits()));
            prop_assert_eq!(RfReference::parse(made.as_str()), Ok(made.clone()));
            prop_assert_eq!(RfReference::parse(&made.grouped()), Ok(made.clone()));
            // Lower case and spaces wherever the bits of `gaps` say.
            let messy: String = made.as_str().chars().enumerate().map(|(i, c)| {
                let c = if (gaps >> (i % 64)) & 1 == 1 { c.to_ascii_lowercase() } else { c };
                if (gaps >> ((i + 7) % 64)) & 1 == 1 { format!(" {c}") } else { c.to_string() }
            }).collect();
            prop_assert_eq!(RfReference::parse(&messy), Ok(made));
        }

        #[test]
        fn one_character_replaced_by_another_of_its_kind_is_caught(
            base in base(),
            at in any::<prop::sample::Index>(),
            shift in 1u8..26,
        ) {
            // Digit for digit or letter for letter: the number moves by (a − b)·10^k, never a
            // multiple of 97.
            let made = RfReference::make(&base).unwrap();
            let mut bytes = made.as_str().as_bytes().to_vec();
            let i = 4 + at.index(bytes.len() - 4);
            bytes[i] = match bytes[i] {
                d @ b'0'..=b'9' => b'0' + (d - b'0' + shift % 9 + 1) % 10,
                l => b'A' + (l - b'A' + shift) % 26,
            };
            let typo = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(RfReference::parse(&typo), Err(RfError::Checksum));
        }

        #[test]
        fn two_different_neighbouring_digits_swapped_are_caught(digits in "[0-9]{2,21}", at in any::<prop::sample::Index>()) {
            let made = RfReference::make(&digits).unwrap();
            let mut bytes = made.as_str().as_bytes().to_vec();
            let i = 4 + at.index(bytes.len() - 5);
            prop_assume!(bytes[i] != bytes[i + 1]);
            bytes.swap(i, i + 1);
            let swapped = String::from_utf8(bytes).unwrap();
            prop_assert_eq!(RfReference::parse(&swapped), Err(RfError::Checksum));
        }

        #[test]
        fn whatever_parses_is_upper_case_letters_and_digits(text in "[ a-zA-Z0-9\\-]{0,30}") {
            if let Ok(r) = RfReference::parse(&text) {
                prop_assert!(r.as_str().starts_with("RF"));
                prop_assert!(r.as_str().len() <= MAX_LEN);
                prop_assert!(r.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
                prop_assert_eq!(RfReference::make(r.base()), Ok(r));
            }
        }
    }
}
