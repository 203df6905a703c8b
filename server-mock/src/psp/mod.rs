//! The payment service provider: a Stripe Issuing–like issuer (cardholders, virtual cards,
//! spending controls, wallet provisioning, network tokens). It knows members only by a
//! pseudonymous cardholder and is the only module that ever holds a card number.

use axum::Router;

use crate::state::AppState;

/// Routes of the PSP (Stripe wire format: form-encoded bodies, `sk_test_…` keys).
pub fn router() -> Router<AppState> {
    Router::new()
}

/// The PSP's tables.
pub const MIGRATIONS: &[&str] = &[];
