//! The PSP's operations for the platform, which calls them inside its own database
//! transactions (business time as `now`). Errors are Stripe-style [`ApiError`]s whose `param`
//! names the field at fault; a refused call writes nothing.
//!
//! Only re-exports: each operation lives with its resource (`cardholders`, `cards`,
//! `provisioning`, `tokens`), beside that resource's endpoints, so this is the whole surface
//! the platform may use and nothing else of the PSP leaks to it.
//!
//! [`ApiError`]: crate::http::ApiError

pub use super::cardholders::{
    cardholder_by_member_ref_hash, create_cardholder, platform_billing_address, NewCardholder,
};
pub use super::cards::{
    card, cards_of_cardholder, ensure_card_of, issue_healthcare_card, reveal, set_card_status,
    CardSecret, CardView, NewCard, CARD_YEARS,
};
pub use super::provisioning::{
    apple_provisioning, apple_provisioning_for, apple_root, google_provisioning,
    google_provisioning_for, set_apple_root, ApplePayload, GooglePayload, UserAddress,
    OPC_TTL_SECS, TAP_AND_PAY_VISA,
};
pub use super::tokens::{tokens, ActivationProof, TokenView};
