//! The issuer's side of the virtual card and its wallets, the pure part: Apple Pay in-app
//! provisioning (ECC_V2 encryption, PassKit certificate chains), Google Pay opaque payment
//! cards, card numbers, spending controls, and a test PKI for simulators. No I/O and no clock
//! reads: time is a parameter. Randomness (ephemeral keys, nonces) comes from the operating
//! system (ring's `SystemRandom`).
//!
//! A crate of its own so that the phone's library does not carry it: the mock PSP (the issuer)
//! uses it, and so do the wallet simulators of `tierspay-core`, only when its `testing`
//! feature is on (tests, the terminal shell, the Kotlin and Swift test builds).
//! See docs/wallets.md for the facts restated here.

pub mod applepay;
pub mod chain;
pub mod controls;
pub mod opc;
pub mod pan;
pub mod test_pki;

/// Why a wallet operation was refused: the field at fault and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WalletError {
    /// The input at fault, as named on the wire (`certificates[0]`, `nonce_signature`, …).
    pub field: String,
    /// A stable machine-readable reason, e.g. [`codes::CHAIN_INVALID`].
    pub code: &'static str,
    /// What is wrong, for a person to read; never carries a card number.
    pub message: String,
}

impl WalletError {
    /// An error for `field` with a [`codes`] reason and a message.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// The same error with the field renamed (`nonce` → `ios[nonce]`).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}

/// The reasons a [`WalletError`] can carry.
pub mod codes {
    /// A value is malformed (length, encoding, range).
    pub const INVALID: &str = "invalid";
    /// A certificate chain does not verify (signature, names, validity, CA flags).
    pub const CHAIN_INVALID: &str = "chain_invalid";
    /// A key or signature algorithm other than P-256 / ECDSA with SHA-256.
    pub const UNSUPPORTED_ALGORITHM: &str = "unsupported_algorithm";
    /// A certificate is outside its validity period.
    pub const EXPIRED: &str = "expired";
    /// Decryption or authentication failed (tampered data, wrong key).
    pub const DECRYPTION_FAILED: &str = "decryption_failed";
    /// An opaque payment card is bound to another wallet or device.
    pub const BINDING_MISMATCH: &str = "binding_mismatch";
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes hex (either case, surrounding white space ignored); `None` when malformed.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: impl AsRef<[u8]>) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// `N` bytes from the operating system's random source.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    // SystemRandom only fails when the OS has no entropy source at all: nothing sensible to do.
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .expect("operating system random source unavailable");
    out
}

/// A fresh P-256 private key (32-byte scalar) and its public key, uncompressed SEC1 (65 bytes).
pub fn generate_p256_key() -> ([u8; 32], Vec<u8>) {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    loop {
        let candidate = random_bytes::<32>();
        // About 2^-32 of 32-byte strings are not valid scalars; draw again then.
        if let Ok(secret) = p256::SecretKey::from_slice(&candidate) {
            let public = secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec();
            return (candidate, public);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_odd_or_foreign_digits() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(hex_decode(" 00AB10 "), Some(vec![0, 0xab, 0x10]));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
    }
}
