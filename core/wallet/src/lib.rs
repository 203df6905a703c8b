//! Virtual card and wallets, the pure part: Apple Pay in-app provisioning (ECC_V2 encryption,
//! PassKit certificate chains), Google Pay opaque payment cards, card numbers, spending
//! controls, and a test PKI for simulators. No I/O and no clock reads: time is a parameter.
//! Randomness (ephemeral keys, nonces) comes from the operating system, as in [`crate::auth`].
//!
//! The mock PSP and the core share these modules, so the issuer side and the wallet simulators
//! run one code path. See docs/wallets.md for the facts restated here.

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
    pub(crate) fn new(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
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

// Hex is written in one place for the whole core.
pub use crate::auth::signature::{hex, hex_decode};
