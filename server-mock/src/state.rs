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
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
