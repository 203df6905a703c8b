//! Provider codes: the short code printed on a provider's desk QR code. The QR carries a link,
//! `https://app.tierspay.fr/p/{CODE}`, so a phone camera also opens the app on that provider.

/// Letters and digits of a provider code: no 0/O, 1/I/L, U (read aloud without confusion).
pub const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a provider code.
pub const LEN: usize = 6;

/// The link a desk QR code carries.
pub fn qr_link(code: &str) -> String {
    format!("https://{}/p/{code}", super::links::LINK_HOST)
}

/// Checks and normalises a typed or scanned code.
pub fn normalize(raw: &str) -> Option<String> {
    let code: String = raw.trim().to_ascii_uppercase();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The `n`-th code of a deterministic, collision-free sequence (a bijection of 0..30^6).
pub fn nth(n: u64) -> String {
    const SPACE: u64 = 729_000_000; // 30^6
                                    // Multiplying by a number coprime with the space permutes it; 7^10 shares no factor with
                                    // 2, 3 or 5, so consecutive indexes give scattered, distinct codes.
    const MUL: u64 = 282_475_249; // 7^10
    let mut x = (n % SPACE) * MUL % SPACE;
    let mut out = [0u8; LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(x % 30) as usize];
        x /= 30;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_well_formed_and_normalised() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..60_000 {
            let code = nth(n);
            assert_eq!(normalize(&code.to_lowercase()), Some(code.clone()));
            assert!(seen.insert(code));
        }
        assert_eq!(normalize("ab0def"), None, "0 is not in the alphabet");
        assert_eq!(normalize("ABCDE"), None);
        assert_eq!(qr_link("K7M2QX"), "https://app.tierspay.fr/p/K7M2QX");
    }
}
