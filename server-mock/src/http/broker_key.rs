//! Broker API keys (issue 14, item 3): `bk_test_` then 32 random bytes in base64url (43
//! characters). Only the SHA-256 of the secret bytes is stored; the clear key is shown once, in
//! the answer that issues it. Parsing is strict (one length, one alphabet), so nothing but a
//! key's shape reaches the database.

use tierspay_core::auth::{b64url, b64url_decode, random, sha256};

/// What every broker key starts with (the mock only issues test-mode keys).
pub const PREFIX: &str = "bk_test_";
/// Characters of the secret after the prefix: 32 bytes in unpadded base64url.
pub const SECRET_CHARS: usize = 43;
/// Characters of the secret shown for display after the prefix (`bk_test_AbCd…`).
const DISPLAY_CHARS: usize = 4;

/// A freshly issued key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    /// The clear key, `bk_test_…`: shown once, never stored.
    pub clear: String,
    /// What is stored: base64url SHA-256 of the secret bytes.
    pub hash: String,
    /// What staff see to tell keys apart: the prefix and the secret's first characters.
    pub display: String,
}

/// A new random key.
pub fn issue() -> IssuedKey {
    let secret = random::bytes::<32>();
    let clear = format!("{PREFIX}{}", b64url(secret));
    IssuedKey {
        hash: hash(&secret),
        display: display(&clear),
        clear,
    }
}

/// The secret bytes of a well-formed key, or `None`.
pub fn parse(key: &str) -> Option<[u8; 32]> {
    let secret = key.strip_prefix(PREFIX)?;
    if secret.len() != SECRET_CHARS
        || !secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let bytes = b64url_decode(secret).ok()?;
    let secret: [u8; 32] = bytes.try_into().ok()?;
    // A non-canonical encoding (stray low bits in the last character) is not a key we issued.
    (b64url(secret) == key[PREFIX.len()..]).then_some(secret)
}

/// The stored form of a key's secret.
pub fn hash(secret: &[u8; 32]) -> String {
    b64url(sha256(secret))
}

/// The display form of a clear key.
pub fn display(clear: &str) -> String {
    clear.chars().take(PREFIX.len() + DISPLAY_CHARS).collect()
}

/// Whether two stored hashes are equal, in time independent of where they differ.
pub fn same_hash(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keeps the compiler from stopping at the first difference.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_key_parses_to_the_secret_its_hash_was_made_from() {
        let k = issue();
        assert!(k.clear.starts_with("bk_test_"));
        assert_eq!(k.clear.len(), PREFIX.len() + SECRET_CHARS);
        let secret = parse(&k.clear).expect("parses");
        assert_eq!(hash(&secret), k.hash);
        // SHA-256 in base64url: 43 characters, and not the key itself.
        assert_eq!(k.hash.len(), 43);
        assert!(!k.clear.contains(&k.hash));
        assert_eq!(k.display, &k.clear[..12]);
        assert_ne!(issue().clear, k.clear);
    }

    #[test]
    fn the_hash_is_sha256_of_the_secret_bytes() {
        // SHA-256 of 32 zero bytes, a published test value.
        let zero = [0u8; 32];
        let expected = "Zmh6rfhivXdsj8GLjp-OIAiXFIVu4jOzkCpZHQ1fKSU";
        assert_eq!(hash(&zero), expected);
        let key = format!("{PREFIX}{}", "A".repeat(43));
        assert_eq!(parse(&key), Some(zero));
    }

    #[test]
    fn anything_but_a_key_shape_is_refused() {
        let good = issue().clear;
        let secret = &good[PREFIX.len()..];
        for bad in [
            String::new(),
            "bk_test_".into(),
            format!("bk_live_{secret}"),
            format!("sk_test_{secret}"),
            format!("{good}A"),
            good[..good.len() - 1].to_owned(),
            format!("{PREFIX}{}=", &secret[..42]),
            format!("{PREFIX}{}+", &secret[..42]),
            format!("{PREFIX}{}é", &secret[..41]),
            // The last character's two low bits must be zero in a canonical encoding.
            format!("{PREFIX}{}B", "A".repeat(42)),
        ] {
            assert_eq!(parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn hashes_compare_equal_only_when_equal() {
        assert!(same_hash("abc", "abc"));
        assert!(!same_hash("abc", "abd"));
        assert!(!same_hash("abc", "ab"));
        assert!(!same_hash("", "a"));
        assert!(same_hash("", ""));
    }
}
