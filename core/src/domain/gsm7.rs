//! The GSM 7-bit default alphabet (3GPP TS 23.038, formerly GSM 03.38): whether an SMS text
//! can be sent in it, and how many septets it takes. One SMS holds 160 septets; a character of
//! the extension table (`€`, `[`, `]`, `{`, `}`, `\`, `^`, `~`, `|`, form feed) is an escape
//! plus a septet, so it counts two. A text with any other character (`ç`, `ê`, `û`, `œ`, a
//! curly quote) would go as UCS-2, 70 characters per SMS: French templates must avoid them.

/// Septets in one SMS that stands alone.
pub const SINGLE_SMS_SEPTETS: usize = 160;
/// Septets in each part of a concatenated SMS (the user data header takes the rest).
pub const PART_SEPTETS: usize = 153;

/// The basic table, in code order 0x00–0x7F. 0x1B (the escape to the extension table) is not
/// a character a text can hold, so it is a placeholder that [`septets_of`] never matches.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table's characters, each sent as the escape 0x1B and one more septet.
const EXTENSION: [char; 10] = ['\u{0c}', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

/// A character the default alphabet cannot carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("character {position} ('{found}') is not in the GSM 7-bit alphabet")]
pub struct Unsupported {
    /// Position in the text, counted in characters from 1.
    pub position: usize,
    /// The character.
    pub found: char,
}

/// Septets one character takes: 1 in the basic table, 2 in the extension table, `None`
/// outside the alphabet.
pub fn septets_of(c: char) -> Option<usize> {
    if c != '\u{1b}' && BASIC.contains(&c) {
        Some(1)
    } else if EXTENSION.contains(&c) {
        Some(2)
    } else {
        None
    }
}

/// Septets the whole text takes, or the first character the alphabet cannot carry.
pub fn septets(text: &str) -> Result<usize, Unsupported> {
    text.chars().enumerate().try_fold(0, |sum, (i, c)| {
        septets_of(c).map(|n| sum + n).ok_or(Unsupported {
            position: i + 1,
            found: c,
        })
    })
}

/// Whether the text goes as one GSM-7 SMS: every character in the alphabet, at most
/// [`SINGLE_SMS_SEPTETS`] septets.
pub fn fits_one_sms(text: &str) -> bool {
    septets(text).is_ok_and(|n| n <= SINGLE_SMS_SEPTETS)
}

/// How many SMS the text takes in GSM-7: 1 up to 160 septets, else parts of 153 septets, an
/// escape pair never split across two parts. 0 for an empty text.
pub fn sms_parts(text: &str) -> Result<usize, Unsupported> {
    let total = septets(text)?;
    if total <= SINGLE_SMS_SEPTETS {
        return Ok(usize::from(total > 0));
    }
    let (mut parts, mut used) = (1, 0);
    for c in text.chars() {
        // Every character was checked by `septets` above.
        let n = septets_of(c).unwrap_or(1);
        if used + n > PART_SEPTETS {
            parts += 1;
            used = 0;
        }
        used += n;
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn french_letters_of_the_table_count_one_and_the_euro_two() {
        assert_eq!(septets("Échéance dépassée à régler"), Ok(26));
        assert_eq!(septets("42,50 €"), Ok(8));
        assert_eq!(septets("[ok]"), Ok(6));
        assert_eq!(septets(""), Ok(0));
    }

    #[test]
    fn letters_missing_from_the_table_are_named() {
        // Only the capital Ç is in the table; ê, û, œ and curly quotes are not.
        assert_eq!(
            septets("reçu"),
            Err(Unsupported {
                position: 3,
                found: 'ç'
            })
        );
        for text in ["dû", "fenêtre", "cœur", "l’échéance", "tab\there", "\u{1b}"] {
            assert!(septets(text).is_err(), "{text}");
            assert!(!fits_one_sms(text), "{text}");
        }
    }

    #[test]
    fn one_sms_holds_160_septets_and_parts_153() {
        assert!(fits_one_sms(&"a".repeat(160)));
        assert!(!fits_one_sms(&"a".repeat(161)));
        assert!(!fits_one_sms(&"€".repeat(81)));
        assert!(fits_one_sms(&"€".repeat(80)));
        assert_eq!(sms_parts(""), Ok(0));
        assert_eq!(sms_parts(&"a".repeat(160)), Ok(1));
        assert_eq!(sms_parts(&"a".repeat(161)), Ok(2));
        assert_eq!(sms_parts(&"a".repeat(306)), Ok(2));
        assert_eq!(sms_parts(&"a".repeat(307)), Ok(3));
        // 152 septets then a euro sign: the pair moves whole to the second part.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(septets(&text), Ok(306));
        assert_eq!(sms_parts(&text), Ok(3));
    }

    fn alphabet_char() -> impl Strategy<Value = char> {
        let all: Vec<char> = BASIC
            .iter()
            .chain(EXTENSION.iter())
            .copied()
            .filter(|&c| c != '\u{1b}')
            .collect();
        prop::sample::select(all)
    }

    proptest! {
        #[test]
        fn septets_are_characters_plus_one_per_extension_character(
            chars in prop::collection::vec(alphabet_char(), 0..400),
        ) {
            let text: String = chars.iter().collect();
            let ext = chars.iter().filter(|c| EXTENSION.contains(c)).count();
            prop_assert_eq!(septets(&text), Ok(chars.len() + ext));
            let parts = sms_parts(&text).unwrap();
            let total = chars.len() + ext;
            prop_assert_eq!(parts == 1, total > 0 && total <= SINGLE_SMS_SEPTETS);
            if total > SINGLE_SMS_SEPTETS {
                prop_assert!(parts * PART_SEPTETS >= total);
                // At most one septet is lost per part boundary to an escape pair kept whole.
                prop_assert!((parts - 1) * (PART_SEPTETS - 1) < total);
            }
        }

        #[test]
        fn a_character_outside_the_alphabet_is_found_where_it_is(
            before in prop::collection::vec(alphabet_char(), 0..50),
            odd in "[çêûœ’\t\u{1b}😀]",
        ) {
            let text: String = before.iter().collect::<String>() + &odd;
            let err = septets(&text).unwrap_err();
            prop_assert_eq!(err.position, before.len() + 1);
            prop_assert_eq!(err.found.to_string(), odd);
        }
    }
}
