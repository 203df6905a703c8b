//! Random identifiers and secrets from the operating system's CSPRNG (ring's SystemRandom).

use ring::rand::{SecureRandom, SystemRandom};

/// Fills a fixed-size array with random bytes.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // SystemRandom only fails when the OS has no entropy source at all: nothing sensible to do.
    SystemRandom::new()
        .fill(&mut out)
        .expect("operating system random source unavailable");
    out
}

/// A prefixed random identifier such as `enr_3fZ…` (16 random bytes, base64url).
pub fn id(prefix: &str) -> String {
    format!("{prefix}_{}", super::b64url(bytes::<16>()))
}

/// A prefixed random secret (32 random bytes), for tokens.
pub fn secret(prefix: &str) -> String {
    format!("{prefix}_{}", super::b64url(bytes::<32>()))
}

/// A uniformly random decimal code of `digits` digits (rejection sampling, no modulo bias).
pub fn numeric_code(digits: u32) -> String {
    let bound = 10u32.pow(digits);
    let limit = u32::MAX - (u32::MAX % bound);
    loop {
        let n = u32::from_be_bytes(bytes::<4>());
        if n < limit {
            return format!("{:0width$}", n % bound, width = digits as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_have_the_requested_length_and_ids_differ() {
        for _ in 0..100 {
            let code = super::numeric_code(6);
            assert_eq!(code.len(), 6);
            assert!(code.chars().all(|c| c.is_ascii_digit()));
        }
        assert_ne!(super::id("x"), super::id("x"));
        assert!(super::secret("rt").starts_with("rt_"));
    }
}
