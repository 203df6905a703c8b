//! What every handler shares.

use std::sync::Arc;

use p256::ecdsa::SigningKey;

use crate::clock::Clock;
use crate::db::Db;
use crate::vault::Vault;

/// Limits on enrollment attempts, configurable so tests can exercise them quickly.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Enrollment starts per contract number per window.
    pub starts_per_contract: u32,
    /// Enrollment starts per client address per window.
    pub starts_per_client: u32,
    /// The window, in seconds.
    pub window_secs: i64,
    /// Access token lifetime, seconds.
    pub access_token_ttl: i64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl: i64,
    /// One-time code lifetime, seconds.
    pub code_ttl: i64,
    /// Wrong codes allowed before an enrollment locks.
    pub code_attempts: u32,
    /// How long an authorized visit keeps the card armed, seconds.
    pub visit_ttl: i64,
    /// How far a tap's amount may be from the armed price, minor units (re-quoted within it).
    pub tap_amount_tolerance: i64,
    /// Taps per card per 24 hours before the next is declined (`velocity`).
    pub taps_per_card_per_day: u32,
    /// Authorized visits per card per 24 hours before the next tap is declined (`velocity`).
    pub visits_per_card_per_day: u32,
    /// Countries (ISO alpha-2) where the card pays.
    pub merchant_countries: Vec<String>,
    /// Distance from the contract's usual city beyond which a provider it never used is
    /// declined, kilometres.
    pub far_from_usual_city_km: u32,
    /// How long an authorization waits for the real-time decision, milliseconds (Stripe: 2 s).
    pub authorization_decision_ms: u64,
    /// What an authorization becomes when no decision came in time (`webhook_timeout`):
    /// approved if true. Declined by default.
    pub authorization_timeout_approves: bool,
    /// Delay before the first retry of a failed webhook delivery, milliseconds; it doubles at
    /// each attempt.
    pub webhook_retry_base_ms: u64,
    /// Attempts of one asynchronous delivery before it is marked failed.
    pub webhook_attempts: u32,
    /// Longest delay between two attempts of one delivery, milliseconds (the doubling stops
    /// there).
    pub webhook_retry_max_ms: u64,
    /// Deadline of one asynchronous delivery attempt, milliseconds: an endpoint that has not
    /// answered by then counts as timed out.
    pub webhook_timeout_ms: u64,
    /// How often the delivery worker looks for due deliveries when nothing woke it,
    /// milliseconds: the pass that sends retries when they fall due. A commit that queues a
    /// delivery wakes the worker at once, whatever this is.
    pub webhook_poll_ms: u64,
    /// Requests allowed per broker key per window (issue 14, item 3).
    pub broker_requests_per_window: u32,
    /// The window of the broker limit, seconds (business time).
    pub broker_window_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            starts_per_contract: 5,
            starts_per_client: 30,
            window_secs: 15 * 60,
            access_token_ttl: 10 * 60,
            refresh_token_ttl: 30 * 24 * 3600,
            code_ttl: 5 * 60,
            code_attempts: 5,
            visit_ttl: 30 * 60,
            tap_amount_tolerance: 500,
            taps_per_card_per_day: 10,
            visits_per_card_per_day: 4,
            merchant_countries: vec!["FR".into()],
            far_from_usual_city_km: 150,
            authorization_decision_ms: 2_000,
            authorization_timeout_approves: false,
            webhook_retry_base_ms: 1_000,
            webhook_attempts: 6,
            webhook_retry_max_ms: 3_600_000,
            webhook_timeout_ms: 10_000,
            webhook_poll_ms: 250,
            broker_requests_per_window: 100,
            broker_window_secs: 60,
        }
    }
}

/// Shared state.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// The database.
    pub db: Db,
    /// Business time.
    pub clock: Clock,
    /// Signs what the phone must trust; its public half is pinned in the app.
    pub signing_key: SigningKey,
    /// Keys the HMAC of one-time codes (derived from the vault, never in the database).
    pub code_secret: [u8; 32],
    /// Seals stored answers and messages under a key kept outside the database.
    pub vault: Arc<Vault>,
    /// Limits.
    pub limits: Limits,
    /// The URL clients use (configured, or the listening address): DPoP proofs must sign it.
    pub public_url: String,
    /// API keys the server accepts (`psp_api_keys`, read at start).
    pub api_keys: std::collections::HashSet<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whether `/v1/test_helpers/*` exists (off unless the server was started with it).
    pub test_helpers: bool,
    /// The provider directory, in memory for fast searches.
    pub providers: crate::insurer::directory::Index,
    /// Faults armed by tests.
    pub faults: crate::faults::Faults,
    /// The pooled webhook client and the delivery worker's wake-up.
    pub webhooks: crate::psp::webhook_delivery::Webhooks,
    /// How an access token becomes a device: the platform's, handed to the shared HTTP layer.
    pub resolve_access: crate::http::ResolveAccess,
    /// How a broker key becomes a broker: the platform's, handed to the shared HTTP layer.
    pub resolve_broker: crate::http::ResolveBroker,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
