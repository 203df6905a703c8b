//! Who is calling: nobody yet (enrollment start), the holder of a device key (enrollment
//! confirm, token refresh: a DPoP proof without token), or an enrolled device (access token
//! plus a DPoP proof by the key the token is bound to). Checked before idempotency, so a stored
//! answer is only ever replayed to the caller it was made for.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rusqlite::params;
use tierspay_core::auth::dpop;
use tierspay_core::wire::codes;

use super::peer::{client_addr, ClientAddr};
use super::ApiError;
use crate::clock::real_now;
use crate::state::AppState;

/// An enrolled device, as the platform (which owns devices and their tokens) resolves an access
/// token.
#[derive(Debug, Clone)]
pub struct DeviceSession {
    /// `dev_…`
    pub device_id: String,
    /// The insurer's member id.
    pub member_ref: String,
    /// The insurer's contract id.
    pub contract_ref: String,
}

/// Resolves an access token bound to the key thumbprint `jkt` at `now`, inside the request's
/// transaction. The platform registers its own at start ([`crate::state::Inner::resolve_access`]),
/// so this shared layer needs nothing of the platform.
pub type ResolveAccess =
    fn(&rusqlite::Connection, &str, &str, i64) -> Result<DeviceSession, ApiError>;

/// A broker, as the platform (which owns brokers and their keys) resolves a `bk_test_` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerSession {
    /// `brk_…`
    pub broker_id: String,
    /// `bkk_…`: the key used.
    pub key_id: String,
}

/// A request presenting a well-formed broker key, for the platform's resolver.
#[derive(Debug, Clone)]
pub struct BrokerAttempt<'a> {
    /// The stored form of the key's secret ([`super::broker_key::hash`]).
    pub key_hash: &'a str,
    /// Whether the request is for a broker route (`/v1/broker/…`); a broker key is good for
    /// nothing else.
    pub broker_route: bool,
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The client's address, for the audit trail.
    pub client: &'a str,
    /// Requests allowed per key per window.
    pub per_window: u32,
    /// The window, seconds.
    pub window_secs: i64,
}

/// Why a broker key was refused; the platform has audited it already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRefusal {
    /// Unknown, revoked, or used outside the broker routes: the answer a wrong key gets.
    Refused,
    /// Too many requests with this key; seconds until the next is allowed.
    RateLimited(u64),
}

/// Resolves a broker key inside its own transaction (committed either way, so refusals stay
/// audited). The platform registers its own at start, as for [`ResolveAccess`].
pub type ResolveBroker = fn(
    &rusqlite::Connection,
    &BrokerAttempt<'_>,
    i64,
) -> Result<Result<BrokerSession, BrokerRefusal>, ApiError>;

/// Where broker keys are good: every broker route starts with it.
pub const BROKER_ROUTES: &str = "/v1/broker/";

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No proof: only enrollment start and test helpers accept it.
    Anonymous {
        /// The client's address, for rate limits.
        client: String,
    },
    /// A valid DPoP proof without access token.
    KeyHolder {
        /// Thumbprint of the key.
        jkt: String,
        /// The key, SEC1 uncompressed.
        public_key: Vec<u8>,
        /// The client's address.
        client: String,
    },
    /// An access token and a proof by its key.
    Device(DeviceSession),
    /// A known API key (`Authorization: Bearer sk_test_…`, as Stripe's clients send it);
    /// unknown keys never get this far.
    ApiKey {
        /// The secret key.
        key: String,
    },
    /// A live broker key (`Authorization: Bearer bk_test_…`) on a broker route.
    Broker(BrokerSession),
}

impl Caller {
    /// The idempotency scope: keys of different callers never collide.
    pub fn scope(&self) -> String {
        match self {
            Self::Anonymous { client } => format!("anon:{client}"),
            Self::KeyHolder { jkt, .. } => format!("key:{jkt}"),
            Self::Device(d) => format!("device:{}", d.device_id),
            Self::ApiKey { key } => format!(
                "key:{}",
                tierspay_core::auth::b64url(tierspay_core::auth::sha256(key))
            ),
            // Per broker, not per key: a retry after a rotation replays the same answer.
            Self::Broker(b) => format!("broker:{}", b.broker_id),
        }
    }

    /// The broker, or the 401 a request without a broker key gets on a broker route.
    pub fn broker(&self) -> Result<&BrokerSession, ApiError> {
        match self {
            Self::Broker(b) => Ok(b),
            _ => Err(ApiError::unauthorized(
                "api_key_required",
                "Broker routes need a broker key: `Authorization: Bearer bk_test_…`.",
            )),
        }
    }

    /// The enrolled device, or 401.
    pub fn device(&self) -> Result<&DeviceSession, ApiError> {
        match self {
            Self::Device(d) => Ok(d),
            _ => Err(ApiError::unauthorized(
                codes::TOKEN_REVOKED,
                "This request needs an access token and a DPoP proof.",
            )),
        }
    }

    /// The proven key, or 401.
    pub fn key_holder(&self) -> Result<(&str, &[u8]), ApiError> {
        match self {
            Self::KeyHolder {
                jkt, public_key, ..
            } => Ok((jkt, public_key)),
            _ => Err(ApiError::unauthorized(
                codes::INVALID_DPOP_PROOF,
                "This request needs a DPoP proof signed by the device key, and no access token.",
            )),
        }
    }
}

/// Middleware: authenticates the caller and stores a [`Caller`] and the [`ClientAddr`] in the
/// request.
pub async fn authenticate(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let client = client_addr(addr.ip(), req.headers(), &state.trusted_proxies);
    match identify(
        &state,
        req.headers(),
        req.method().as_str(),
        req.uri().path(),
        client.to_string(),
    )
    .await
    {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            req.extensions_mut().insert(ClientAddr(client));
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// A Stripe-style API key: `Bearer sk_…` (or `pk_`, `rk_`), or HTTP Basic with the key as user
/// name (both are what Stripe's client libraries send).
fn api_key(authorization: &str) -> Option<String> {
    use base64::Engine;
    let is_key = |k: &str| ["sk_", "pk_", "rk_"].iter().any(|p| k.starts_with(p));
    if let Some(key) = authorization.strip_prefix("Bearer ") {
        let key = key.trim();
        return is_key(key).then(|| key.to_owned());
    }
    let basic = authorization.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split(':').next()?;
    is_key(key).then(|| key.to_owned())
}

/// A key as Stripe shows it in errors: its prefix, stars, its last four characters.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let head: String = chars.iter().take(8).collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!(
        "{head}{}{tail}",
        "*".repeat(chars.len().saturating_sub(12).min(24))
    )
}

/// Stripe's answer to a key it does not know.
fn invalid_api_key(key: &str) -> ApiError {
    ApiError::unauthorized(
        "api_key_invalid",
        format!("Invalid API Key provided: {}", masked(key)),
    )
}

/// A broker key (`Bearer bk_…`), well-formed or not: anything with the prefix is answered as
/// a broker key, so a malformed one gets the same refusal as a wrong one.
fn broker_key_of(authorization: &str) -> Option<String> {
    let key = authorization.strip_prefix("Bearer ")?.trim();
    key.starts_with("bk_").then(|| key.to_owned())
}

/// The broker behind `key`, or the refusal: a malformed, unknown or revoked key, or a broker
/// key outside the broker routes, all get what an unknown API key gets (no hint which).
async fn broker(
    state: &AppState,
    key: String,
    method: &str,
    path: &str,
    client: String,
) -> Result<Caller, ApiError> {
    let Some(secret) = super::broker_key::parse(&key) else {
        return Err(invalid_api_key(&key));
    };
    let key_hash = super::broker_key::hash(&secret);
    let broker_route = path.starts_with(BROKER_ROUTES);
    let method = method.to_owned();
    let (per_window, window_secs) = (
        state.limits.broker_requests_per_window,
        state.limits.broker_window_secs,
    );
    let resolve = state.resolve_broker;
    let now = state.clock.now();
    let outcome = state
        .db
        .transaction(move |tx| {
            let attempt = BrokerAttempt {
                key_hash: &key_hash,
                broker_route,
                method: &method,
                client: &client,
                per_window,
                window_secs,
            };
            resolve(tx, &attempt, now)
        })
        .await?;
    match outcome {
        Ok(session) => Ok(Caller::Broker(session)),
        Err(BrokerRefusal::Refused) => Err(invalid_api_key(&key)),
        Err(BrokerRefusal::RateLimited(wait)) => Err(rate_limited(wait)),
    }
}

/// Stripe's answer to too many requests: 429, `rate_limit`, `Retry-After`.
fn rate_limited(wait: u64) -> ApiError {
    let mut e = ApiError::rate_limited(wait);
    e.detail.code = "rate_limit".into();
    e.detail.message =
        "Too many requests with this key; retry after the number of seconds in Retry-After.".into();
    e
}

async fn identify(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    client: String,
) -> Result<Caller, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(key) = header("authorization").and_then(broker_key_of) {
        return broker(state, key, method, path, client).await;
    }
    if let Some(key) = header("authorization").and_then(api_key) {
        // Unknown keys stop here, before any handler, limit or idempotency scope sees them.
        if !state.api_keys.contains(&key) {
            return Err(invalid_api_key(&key));
        }
        return Ok(Caller::ApiKey { key });
    }
    let token = match header("authorization") {
        None => None,
        Some(value) => match value.strip_prefix("DPoP ") {
            Some(token) if !token.trim().is_empty() => Some(token.trim().to_owned()),
            _ => {
                return Err(ApiError::unauthorized(
                    codes::INVALID_DPOP_PROOF,
                    "Authorization must use the DPoP scheme: `Authorization: DPoP <token>`.",
                ))
            }
        },
    };
    // RFC 9449 section 4.3: exactly one proof; two leave it ambiguous which one was checked.
    if headers.get_all(dpop::HEADER).iter().count() > 1 {
        return Err(ApiError::unauthorized(
            codes::INVALID_DPOP_PROOF,
            "A request carries exactly one DPoP header.",
        ));
    }
    let Some(proof) = header(dpop::HEADER) else {
        if token.is_some() {
            return Err(ApiError::unauthorized(
                codes::INVALID_DPOP_PROOF,
                "An access token must come with a DPoP proof header.",
            ));
        }
        return Ok(Caller::Anonymous { client });
    };
    // The proof signs the URL the server is configured with, never one a request claims
    // (`Host`): a relay elsewhere cannot reuse a member's proof here.
    let url = format!("{}{path}", state.public_url.trim_end_matches('/'));
    let verified = dpop::verify(proof, method, &url, real_now(), token.as_deref())
        .map_err(|e| ApiError::unauthorized(codes::INVALID_DPOP_PROOF, e.to_string()))?;
    let now = state.clock.now();
    let jti = verified.jti.clone();
    let token_owned = token.clone();
    let jkt = verified.jkt.clone();
    let resolve_access = state.resolve_access;
    let session = state
        .db
        .transaction(move |tx| {
            // Single-use proof ids, remembered for as long as a proof stays fresh (the
            // maintenance task forgets older ones).
            let fresh = tx.execute(
                "INSERT OR IGNORE INTO http_dpop_jti (jti, seen_at) VALUES (?1, ?2)",
                params![jti, real_now()],
            )?;
            if fresh == 0 {
                return Err(ApiError::unauthorized(
                    codes::DPOP_PROOF_REPLAYED,
                    "This DPoP proof was already used; sign a new one for each request.",
                ));
            }
            match token_owned {
                None => Ok(None),
                Some(token) => resolve_access(tx, &token, &jkt, now).map(Some),
            }
        })
        .await?;
    Ok(match session {
        Some(device) => Caller::Device(device),
        None => Caller::KeyHolder {
            jkt: verified.jkt,
            public_key: verified.public_key,
            client,
        },
    })
}

/// Forgets proof ids too old to be replayed anyway (a fresh proof is at most `MAX_AGE_SECS`
/// old), a bounded batch at a time.
pub fn prune_proof_ids(
    conn: &rusqlite::Connection,
    now: i64,
    batch: u32,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM http_dpop_jti WHERE rowid IN (
             SELECT rowid FROM http_dpop_jti WHERE seen_at < ?1 LIMIT ?2)",
        params![now - 2 * dpop::MAX_AGE_SECS, batch],
    )
}
