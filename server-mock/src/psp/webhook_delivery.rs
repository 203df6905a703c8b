//! Sending events to webhook endpoints, signed as Stripe signs them (`Stripe-Signature`, see
//! `http::webhook_signature`), over one pooled keep-alive HTTP/1 client the server shares.
//!
//! - [`post_signed`]: one signed POST with a deadline, no database connection held (the real-time
//!   authorization decision uses it directly and waits for the answer).
//! - The outbox: [`enqueue`] writes one delivery row per subscribed endpoint in the transaction
//!   that writes the event, so an event is sent if and only if it committed. [`run`], a task of
//!   its own, sends due deliveries, records each attempt and retries with exponential backoff a
//!   few times (`Limits::webhook_attempts`, `Limits::webhook_retry_base_ms`). Delivery is at
//!   least once and unordered: receivers dedupe on the event id.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use rusqlite::{params, Connection};
use tokio::sync::Notify;

use super::events::event_json;
use super::webhook_endpoints::{subscribed, Endpoint, API_VERSION};
use crate::http::webhook_signature;
use crate::http::ApiError;
use crate::state::AppState;

/// The pooled HTTP/1 client webhooks go through.
pub type Client = HyperClient<HttpConnector, Body>;

/// Longest answer read from an endpoint.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Deadline of one asynchronous delivery (the real-time decision has its own, shorter one).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries sent at once by the worker.
const BATCH: i64 = 64;
/// How often the worker looks for due deliveries when nothing woke it.
const POLL: Duration = Duration::from_millis(250);

/// What webhook senders share: the client and the worker's wake-up.
#[derive(Clone)]
pub struct Webhooks {
    /// The pooled client.
    pub client: Client,
    /// Woken after a commit that queued deliveries.
    pub wake: Arc<Notify>,
}

impl Default for Webhooks {
    fn default() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(2)));
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        Self {
            client,
            wake: Arc::new(Notify::new()),
        }
    }
}

/// Why a POST to an endpoint got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// No complete answer before the deadline.
    Timeout,
    /// Refused, reset, bad URL, answer too large…
    Failed(String),
}

/// An endpoint's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Its body (at most [`MAX_ANSWER_BYTES`]).
    pub body: Bytes,
}

/// Real time in milliseconds (delivery schedules follow the wall clock, not business time).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// POSTs `body` (an event's JSON) to `endpoint`, signed with its secret at the current time,
/// and reads the answer, all within `deadline`.
pub async fn post_signed(
    client: &Client,
    endpoint: &Endpoint,
    body: Bytes,
    deadline: Duration,
) -> Result<Reply, SendError> {
    let signature = webhook_signature::header_value(&[&endpoint.secret], now_ms() / 1000, &body);
    let request = Request::post(&endpoint.url)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header("stripe-version", API_VERSION)
        .header(webhook_signature::HEADER, signature)
        .body(Body::from(body))
        .map_err(|e| SendError::Failed(format!("bad request: {e}")))?;
    let exchange = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| SendError::Failed(format!("{e}")))?;
        let status = response.status();
        let body = axum::body::to_bytes(Body::new(response.into_body()), MAX_ANSWER_BYTES)
            .await
            .map_err(|_| SendError::Failed("answer unreadable or too large".into()))?;
        Ok(Reply { status, body })
    };
    tokio::time::timeout(deadline, exchange)
        .await
        .unwrap_or(Err(SendError::Timeout))
}

/// Queues `event_id` of type `kind` for every enabled endpoint subscribed to it, in the
/// caller's transaction.
pub fn enqueue(tx: &Connection, event_id: &str, kind: &str, now: i64) -> Result<usize, ApiError> {
    // Only ids and subscriptions here, no secret: the platform's Rust API writes events through
    // connections of its own, which have no vault functions.
    let endpoints: Vec<String> = tx
        .prepare_cached(
            "SELECT id, enabled_events FROM psp_webhook_endpoints WHERE status = 'enabled' ORDER BY seq",
        )?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|(_, events)| {
            let events: Vec<String> = serde_json::from_str(events).unwrap_or_default();
            subscribed(&events, kind)
        })
        .map(|(id, _)| id)
        .collect();
    let due = now_ms();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO psp_webhook_deliveries (event_id, endpoint_id, status, attempts, next_attempt_ms, created)
         VALUES (?1, ?2, 'pending', 0, ?3, ?4)",
    )?;
    for id in &endpoints {
        stmt.execute(params![event_id, id, due, now])?;
    }
    Ok(endpoints.len())
}

struct Due {
    seq: i64,
    attempts: i64,
    endpoint: Endpoint,
    body: Bytes,
}

/// The delay before attempt `n + 1` after `n` failed attempts: base × 2^(n−1), capped at an hour.
pub fn backoff_ms(base_ms: u64, failed: u32) -> u64 {
    let factor = 1u64 << failed.saturating_sub(1).min(20);
    base_ms.saturating_mul(factor).min(3_600_000)
}

/// Sends due deliveries until the server stops.
pub async fn run(state: AppState) {
    loop {
        // Sleep until woken by a commit or the poll, then drain everything due.
        let _ = tokio::time::timeout(POLL, state.webhooks.wake.notified()).await;
        loop {
            match send_due(&state).await {
                Ok(0) => break,
                Ok(_) => tokio::task::yield_now().await,
                Err(e) => {
                    tracing::warn!("webhook delivery: {}", e.detail.message);
                    break;
                }
            }
        }
    }
}

/// One batch: reads due deliveries, sends them at once with no connection held, records the
/// outcomes. Returns how many were attempted.
pub async fn send_due(state: &AppState) -> Result<usize, ApiError> {
    let due = state
        .db
        .call(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT d.seq, d.attempts, e.id, e.url, vault_open('webhook_endpoint:' || e.id, e.secret), d.event_id
                 FROM psp_webhook_deliveries d JOIN psp_webhook_endpoints e ON e.id = d.endpoint_id
                 WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1
                 ORDER BY d.next_attempt_ms LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![now_ms(), BATCH], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for (seq, attempts, id, url, secret, event_id) in rows {
                let body = event_json(conn, &event_id)?.to_string();
                out.push(Due {
                    seq,
                    attempts,
                    endpoint: Endpoint {
                        id,
                        url,
                        secret: secret.unwrap_or_default(),
                        enabled_events: Vec::new(),
                    },
                    body: Bytes::from(body),
                });
            }
            Ok(out)
        })
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let count = due.len();
    let mut sends = tokio::task::JoinSet::new();
    for d in due {
        let client = state.webhooks.client.clone();
        sends.spawn(async move {
            let outcome = if d.endpoint.secret.is_empty() {
                Err(SendError::Failed(
                    "the endpoint's secret does not open".into(),
                ))
            } else {
                post_signed(&client, &d.endpoint, d.body.clone(), DELIVERY_TIMEOUT).await
            };
            (d.seq, d.attempts, outcome)
        });
    }
    let mut outcomes = Vec::with_capacity(count);
    while let Some(joined) = sends.join_next().await {
        if let Ok(o) = joined {
            outcomes.push(o);
        }
    }
    let base = state.limits.webhook_retry_base_ms;
    let max = i64::from(state.limits.webhook_attempts.max(1));
    state
        .db
        .transaction(move |tx| {
            let now = now_ms();
            for (seq, attempts, outcome) in outcomes {
                let attempts = attempts + 1;
                let (status, code, error) = match &outcome {
                    Ok(r) if r.status.is_success() => ("delivered", Some(r.status.as_u16()), None),
                    Ok(r) => ("pending", Some(r.status.as_u16()), Some(format!("HTTP {}", r.status.as_u16()))),
                    Err(SendError::Timeout) => ("pending", None, Some("timeout".to_owned())),
                    Err(SendError::Failed(e)) => ("pending", None, Some(e.chars().take(500).collect())),
                };
                let status = if status == "pending" && attempts >= max { "failed" } else { status };
                let next = now + backoff_ms(base, attempts as u32) as i64;
                tx.execute(
                    "UPDATE psp_webhook_deliveries
                     SET status = ?2, attempts = ?3, next_attempt_ms = ?4, last_status = ?5, last_error = ?6,
                         delivered_ms = CASE WHEN ?2 = 'delivered' THEN ?7 ELSE delivered_ms END
                     WHERE seq = ?1",
                    params![seq, status, attempts, next, code, error, now],
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(500, 1), 500);
        assert_eq!(backoff_ms(500, 2), 1000);
        assert_eq!(backoff_ms(500, 4), 4000);
        assert_eq!(backoff_ms(500, 200), 3_600_000);
        assert_eq!(backoff_ms(u64::MAX, 3), 3_600_000);
    }
}
