//! Stand-ins for the wallet side of provisioning, for tests, the terminal shell and the fake
//! PassKit of the Kotlin and Swift test suites: a test certificate chain (root, sub-CA, leaf
//! with a P-256 key-agreement key), a nonce and its signature, and the wallet's half of ECC_V2
//! to open the encrypted pass and check it. Never used by a real app: PassKit does this, and
//! the library an app ships is built without the `testing` feature that brings this file in.

use std::sync::Arc;

use super::{ApplePayPassData, CoreError};
use crate::auth::{random, signature};
use tierspay_wallet::applepay::{self, PassPlaintext};
use tierspay_wallet::{pan, test_pki};

/// What the simulated wallet found inside the encrypted pass.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SimulatedPass {
    /// Last four digits of the card number inside (the number itself is not returned).
    pub pan_last4: String,
    /// Whether that number passes the Luhn check.
    pub pan_valid: bool,
    /// `MM/YY`.
    pub expiration: String,
    /// Name on the pass.
    pub name: String,
}

/// PassKit's side of in-app provisioning, simulated.
#[derive(uniffi::Object)]
pub struct PassKitSimulator {
    chain: test_pki::TestChain,
    nonce: Vec<u8>,
    nonce_signature: Vec<u8>,
}

fn failed(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal {
        detail: format!("simulator: {e}"),
    }
}

#[uniffi::export]
impl PassKitSimulator {
    /// A fresh test PKI and chain, a 4-byte nonce and a 64-byte nonce signature.
    #[uniffi::constructor]
    pub fn new() -> Result<Arc<Self>, CoreError> {
        let chain = test_pki::generate(crate::net::unix_now()).map_err(failed)?;
        Ok(Arc::new(Self {
            chain,
            nonce: random::bytes::<4>().to_vec(),
            nonce_signature: random::bytes::<64>().to_vec(),
        }))
    }

    /// The root certificate (DER) to install as the issuer's trusted Apple root in tests.
    pub fn root_certificate(&self) -> Vec<u8> {
        self.chain.root.clone()
    }

    /// The certificates PassKit hands the delegate: leaf, then sub-CA (DER).
    pub fn certificates(&self) -> Vec<Vec<u8>> {
        self.chain.certificates()
    }

    /// The nonce PassKit hands the delegate.
    pub fn nonce(&self) -> Vec<u8> {
        self.nonce.clone()
    }

    /// The nonce signature PassKit hands the delegate.
    pub fn nonce_signature(&self) -> Vec<u8> {
        self.nonce_signature.clone()
    }

    /// Opens the encrypted pass with the leaf's private key, as the wallet would, and checks
    /// that it carries this simulator's nonce and nonce signature.
    pub fn open_pass(&self, pass: ApplePayPassData) -> Result<SimulatedPass, CoreError> {
        let key: [u8; 32] = self
            .chain
            .leaf_private_key
            .as_slice()
            .try_into()
            .map_err(|_| failed("leaf key is not P-256"))?;
        let plain = applepay::decrypt_pass_data(
            &key,
            &pass.ephemeral_public_key,
            &pass.encrypted_pass_data,
        )
        .map_err(failed)?;
        let doc: PassPlaintext = serde_json::from_slice(&plain).map_err(failed)?;
        if doc.nonce != signature::hex(&self.nonce)
            || doc.nonce_signature != signature::hex(&self.nonce_signature)
        {
            return Err(failed(
                "the pass does not carry this request's nonce and signature",
            ));
        }
        Ok(SimulatedPass {
            pan_last4: pan::last4(&doc.primary_account_number).to_owned(),
            pan_valid: pan::luhn_valid(&doc.primary_account_number),
            expiration: doc.expiration,
            name: doc.name,
        })
    }
}
