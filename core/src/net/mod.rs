//! The network edge: one HTTP client ([`http::Api`]) and the session's tokens ([`auth::Auth`]).

pub mod auth;
pub mod http;
pub mod psp;

/// Current Unix time in seconds, by the phone's clock: the one clock read of the core (domain
/// code takes time as a parameter). The phone's clock may be wrong; what the server must judge
/// by its own time (proofs) is corrected in [`http::Api`].
pub fn unix_now() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    now.saturating_add(phone_clock_skew())
}

/// The phone's clock off by [`crate::failpoints::CLOCK_SKEW_ENV`] seconds, for the tests.
#[cfg(feature = "failpoints")]
fn phone_clock_skew() -> i64 {
    static SKEW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *SKEW.get_or_init(|| {
        std::env::var(crate::failpoints::CLOCK_SKEW_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}

#[cfg(not(feature = "failpoints"))]
fn phone_clock_skew() -> i64 {
    0
}
