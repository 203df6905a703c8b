//! Looking for secrets where they must not be (the phone's database, the logs): the session's
//! tokens as secure storage holds them, and byte searches that do not match a short number
//! inside a longer one.

use tierspay_core::SecureStorage;

/// The session's tokens (access, refresh) as secure storage holds them now.
pub fn stored_tokens(secrets: &dyn SecureStorage) -> Vec<String> {
    let bytes = secrets
        .get("tierspay.tokens".into())
        .unwrap()
        .expect("enrolled: tokens in secure storage");
    let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    ["access", "refresh"]
        .iter()
        .map(|k| doc[k].as_str().expect("a token").to_owned())
        .collect()
}

/// Whether `needle` (not empty) is somewhere in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A run of digits not part of a longer run (a short code must not match inside another
/// number, which a database or a log has many of).
pub fn contains_number(haystack: &[u8], digits: &str) -> bool {
    let n = digits.len();
    haystack.windows(n).enumerate().any(|(i, w)| {
        w == digits.as_bytes()
            && (i == 0 || !haystack[i - 1].is_ascii_digit())
            && haystack.get(i + n).is_none_or(|b| !b.is_ascii_digit())
    })
}

/// `digits` in groups of four separated by spaces, as a card number is printed.
pub fn spaced(digits: &str) -> String {
    digits
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}
