//! The platform's side of a payment link, for the Kotlin and Swift test suites (feature
//! `testing` only, never in a shipped library): a link key of the test's own, whose public half
//! the test pins in `CoreConfig::link_public_key`, and tokens signed with it in the layout of
//! `domain::payment_link`, so a shell's test can open a good link and altered ones through the
//! real core.

use std::sync::Arc;

use p256::ecdsa::SigningKey;

use super::LinkChannel;
use crate::auth::{ecdsa, signature};
use crate::domain::payment_link::{self, Channel, Currency, LinkClaims, MemberTag};

/// Signs payment links with a key made for one test.
#[derive(uniffi::Object)]
pub struct PaymentLinkSigner {
    key_id: u8,
    key: SigningKey,
}

#[uniffi::export]
impl PaymentLinkSigner {
    /// A fresh key under `key_id`.
    #[uniffi::constructor]
    pub fn new(key_id: u8) -> Arc<Self> {
        Arc::new(Self {
            key_id,
            key: ecdsa::generate_signing_key(),
        })
    }

    /// The key to pin: hex of the uncompressed point (`CoreConfig::link_public_key`).
    pub fn public_key_hex(&self) -> String {
        signature::hex(&ecdsa::public_key_sec1(&self.key))
    }

    /// A token for `member_id` (the enrolled member's `mbr_…`), in euros.
    pub fn sign(
        &self,
        invoice_number: u32,
        member_id: String,
        amount_minor: u32,
        expires_at: u32,
        channel: LinkChannel,
    ) -> String {
        let channel = match channel {
            LinkChannel::Push => Channel::Push,
            LinkChannel::Email => Channel::Email,
            LinkChannel::Sms => Channel::Sms,
            LinkChannel::App => Channel::App,
        };
        payment_link::sign(
            &LinkClaims {
                key_id: self.key_id,
                invoice: invoice_number,
                member: MemberTag::of(&member_id),
                amount_minor,
                currency: Currency::EUR,
                expires_at,
                channel,
            },
            &self.key,
        )
    }
}
