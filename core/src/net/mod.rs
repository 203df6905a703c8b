//! The network edge: one HTTP client ([`http::Api`]) and the session's tokens ([`auth::Auth`]).

pub mod auth;
pub mod http;
pub mod psp;

/// Current Unix time in seconds. The only clock read of the core's network layer: proofs need
/// the real time, while domain code takes time as a parameter.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
