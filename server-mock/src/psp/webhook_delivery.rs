//! Sending events to webhook endpoints, signed as Stripe signs them (`Stripe-Signature`, see
//! `http::webhook_signature`), over one pooled keep-alive HTTP/1 client the server shares.
//!
//! - [`post_signed`]: one signed POST with a deadline, no database connection held (the real-time
//!   authorization decision uses it directly and waits for the answer).
//! - The outbox: [`enqueue`] writes one delivery row per subscribed endpoint in the transaction
//!   that writes the event, so an event is sent if and only if it committed. [`run`], a task of
//!   its own, sends due deliveries, records each attempt and retries with exponential backoff a
//!   few times (`Limits::webhook_attempts`, `Limits::webhook_retry_base_ms` doubled up to
//!   `Limits::webhook_retry_max_ms`, each attempt bounded by `Limits::webhook_timeout_ms`).
//!   Delivery is at least once and unordered: receivers dedupe on the event id.
//! - Waking: [`enqueue`] wakes the worker, so a delivery starts right after the commit that
//!   queued it instead of at the next periodic pass (`Limits::webhook_poll_ms`), which is left
//!   for retries. The wake comes from inside the transaction, but the worker reads through the
//!   one connection, so only once that transaction has ended: what it finds is committed, and a
//!   rolled-back event is never found (waking changes when, never what or how often).
//! - The delivery log: each attempt is a `psp_webhook_attempts` row (when, how long, the status
//!   or error, what comes next), read per endpoint by [`list_deliveries`]
//!   (`GET /v1/webhook_endpoints/{id}/deliveries`).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{Request, StatusCode, Uri};
use axum::Json;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tokio::sync::Notify;

use super::events::event_json;
use super::form::invalid;
use super::model::{self, missing, Paging};
use super::webhook_endpoints::{subscribed, Endpoint, API_VERSION};
use super::wire::{query_fields, Psp};
use crate::http::webhook_signature;
use crate::http::ApiError;
use crate::state::AppState;

/// The pooled HTTP/1 client webhooks go through.
pub type Client = HyperClient<HttpConnector, Body>;

/// Longest answer read from an endpoint.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// Deliveries sent at once by the worker.
const BATCH: i64 = 64;

/// Woken by every transaction that queued a delivery. Process-wide, as `enqueue` runs on a
/// bare connection with no server state: with several servers in one process (the tests),
/// a worker woken by another's commit finds nothing due and waits on, for one query.
static QUEUED: LazyLock<Notify> = LazyLock::new(Notify::new);

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
    // One `v1` per live secret: during a roll's overlap, receivers holding either accept it.
    let signature = webhook_signature::header_value(&endpoint.secrets(), now_ms() / 1000, &body);
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
    if !endpoints.is_empty() {
        QUEUED.notify_waiters();
    }
    Ok(endpoints.len())
}

struct Due {
    seq: i64,
    attempts: i64,
    endpoint: Endpoint,
    body: Bytes,
}

/// The delay before attempt `n + 1` after `n` failed attempts: base × 2^(n−1), capped at
/// `max_ms`.
pub fn backoff_ms(base_ms: u64, failed: u32, max_ms: u64) -> u64 {
    let factor = 1u64 << failed.saturating_sub(1).min(40);
    base_ms.saturating_mul(factor).min(max_ms)
}

/// Sends due deliveries until the server stops: at start, after every commit that queued one
/// (or an explicit `Webhooks::wake`), and every `Limits::webhook_poll_ms` for retries.
pub async fn run(state: AppState) {
    let poll = Duration::from_millis(state.limits.webhook_poll_ms.max(1));
    loop {
        // Listening before the drain: a delivery queued while it runs wakes the next wait.
        let queued = QUEUED.notified();
        tokio::pin!(queued);
        queued.as_mut().enable();
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
        tokio::select! {
            _ = queued => {}
            _ = state.webhooks.wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
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
                "SELECT d.seq, d.attempts, e.id, e.url, vault_open('webhook_endpoint:' || e.id, e.secret), d.event_id,
                        CASE WHEN e.previous_secret_expires_ms > ?1
                             THEN vault_open('webhook_endpoint:' || e.id, e.previous_secret) END
                 FROM psp_webhook_deliveries d JOIN psp_webhook_endpoints e ON e.id = d.endpoint_id
                 WHERE d.status = 'pending' AND d.next_attempt_ms <= ?1
                 ORDER BY d.next_attempt_ms LIMIT ?2",
            )?;
            let rows = stmt
                .query_map(params![now_ms(), BATCH], |r| {
                    Ok((
                        (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?),
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut out = Vec::with_capacity(rows.len());
            for ((seq, attempts), id, url, secret, event_id, previous_secret) in rows {
                let body = event_json(conn, &event_id)?.to_string();
                out.push(Due {
                    seq,
                    attempts,
                    endpoint: Endpoint {
                        id,
                        url,
                        secret: secret.unwrap_or_default(),
                        previous_secret,
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
    let timeout = Duration::from_millis(state.limits.webhook_timeout_ms.max(1));
    let mut sends = tokio::task::JoinSet::new();
    for d in due {
        let client = state.webhooks.client.clone();
        sends.spawn(async move {
            let started_ms = now_ms();
            let clock = std::time::Instant::now();
            let outcome = if d.endpoint.secret.is_empty() {
                Err(SendError::Failed(
                    "the endpoint's secret does not open".into(),
                ))
            } else {
                post_signed(&client, &d.endpoint, d.body.clone(), timeout).await
            };
            let took_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
            (d.seq, d.attempts, outcome, started_ms, took_ms)
        });
    }
    let mut outcomes = Vec::with_capacity(count);
    while let Some(joined) = sends.join_next().await {
        if let Ok(o) = joined {
            outcomes.push(o);
        }
    }
    let base = state.limits.webhook_retry_base_ms;
    let cap = state.limits.webhook_retry_max_ms;
    let max = i64::from(state.limits.webhook_attempts.max(1));
    state
        .db
        .transaction(move |tx| {
            let now = now_ms();
            for (seq, attempts, outcome, started_ms, took_ms) in outcomes {
                let attempts = attempts + 1;
                let (status, code, error) = match &outcome {
                    Ok(r) if r.status.is_success() => ("delivered", Some(r.status.as_u16()), None),
                    Ok(r) => ("pending", Some(r.status.as_u16()), Some(format!("HTTP {}", r.status.as_u16()))),
                    Err(SendError::Timeout) => ("pending", None, Some("timeout".to_owned())),
                    Err(SendError::Failed(e)) => ("pending", None, Some(e.chars().take(500).collect())),
                };
                let status = if status == "pending" && attempts >= max { "failed" } else { status };
                let next = now + backoff_ms(base, attempts as u32, cap) as i64;
                tx.prepare_cached(
                    "UPDATE psp_webhook_deliveries
                     SET status = ?2, attempts = ?3, next_attempt_ms = ?4, last_status = ?5, last_error = ?6,
                         delivered_ms = CASE WHEN ?2 = 'delivered' THEN ?7 ELSE delivered_ms END
                     WHERE seq = ?1",
                )?
                .execute(params![seq, status, attempts, next, code, error, now])?;
                let outcome = match status {
                    "delivered" => "delivered",
                    "failed" => "failed",
                    _ => "retry",
                };
                tx.prepare_cached(
                    "INSERT INTO psp_webhook_attempts (delivery_seq, attempt, started_ms, duration_ms,
                         status_code, error, outcome, next_attempt_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    seq,
                    attempts,
                    started_ms,
                    took_ms,
                    code,
                    error,
                    outcome,
                    (outcome == "retry").then_some(next)
                ])?;
            }
            Ok(())
        })
        .await?;
    Ok(count)
}

// ------------------------------------------------------------------- the delivery log

/// Most attempts shown per delivery (the schedule makes at most `Limits::webhook_attempts`).
const MAX_ATTEMPTS_SHOWN: i64 = 100;
/// The id prefix of a delivery in the log (`whdl_<seq>`: the row's own sequence number).
const DELIVERY_PREFIX: &str = "whdl_";

fn delivery_seq(id: &str) -> Option<i64> {
    id.strip_prefix(DELIVERY_PREFIX)?
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// One delivery of the log with its attempts, oldest attempt first.
fn delivery_json(conn: &Connection, seq: i64) -> Result<Value, ApiError> {
    let attempts: Vec<Value> = conn
        .prepare_cached(
            "SELECT attempt, started_ms, duration_ms, status_code, error, outcome, next_attempt_ms
             FROM psp_webhook_attempts WHERE delivery_seq = ?1 ORDER BY attempt LIMIT ?2",
        )?
        .query_map(params![seq, MAX_ATTEMPTS_SHOWN], |r| {
            Ok(json!({
                "attempt": r.get::<_, i64>(0)?,
                "started_at_ms": r.get::<_, i64>(1)?,
                "duration_ms": r.get::<_, i64>(2)?,
                "status_code": r.get::<_, Option<i64>>(3)?,
                "error": r.get::<_, Option<String>>(4)?,
                "outcome": r.get::<_, String>(5)?,
                "next_attempt_at_ms": r.get::<_, Option<i64>>(6)?,
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    conn.prepare_cached(
        "SELECT d.event_id, e.type, d.endpoint_id, d.status, d.attempts, d.next_attempt_ms,
                d.last_status, d.last_error, d.delivered_ms, d.created
         FROM psp_webhook_deliveries d JOIN psp_events e ON e.id = d.event_id WHERE d.seq = ?1",
    )?
    .query_row([seq], |r| {
        let status: String = r.get(3)?;
        let pending = status == "pending";
        Ok(json!({
            "id": format!("{DELIVERY_PREFIX}{seq}"),
            "object": "webhook_delivery",
            "event": r.get::<_, String>(0)?,
            "event_type": r.get::<_, String>(1)?,
            "webhook_endpoint": r.get::<_, String>(2)?,
            "status": status,
            "attempt_count": r.get::<_, i64>(4)?,
            "next_attempt_at_ms": if pending { json!(r.get::<_, i64>(5)?) } else { Value::Null },
            "last_status_code": r.get::<_, Option<i64>>(6)?,
            "last_error": r.get::<_, Option<String>>(7)?,
            "delivered_at_ms": r.get::<_, Option<i64>>(8)?,
            "created": r.get::<_, i64>(9)?,
            "attempts": attempts,
        }))
    })
    .optional()?
    .ok_or_else(|| missing("webhook_delivery", "id", &format!("{DELIVERY_PREFIX}{seq}")))
}

/// `GET /v1/webhook_endpoints/{id}/deliveries`: the endpoint's deliveries, newest first, each
/// with its attempts (status code or error, duration, next retry). Filters: `status`
/// (pending, delivered, failed), `event` (`evt_…`); paging as every list.
pub(super) async fn list_deliveries(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let status = f.one_of("status", &["pending", "delivered", "failed"])?;
    let event = f.str("event")?;
    if event.as_ref().is_some_and(|e| e.len() > 64) {
        return Err(invalid("event", "event is an event id (evt_…)."));
    }
    f.finish()?;
    let cursor = |param: &str, v: &Option<String>| -> Result<Option<i64>, ApiError> {
        v.as_deref()
            .map(|c| {
                delivery_seq(c).ok_or_else(|| invalid(param, format!("No such object: '{c}'")))
            })
            .transpose()
    };
    let after = cursor("starting_after", &paging.starting_after)?;
    let before = cursor("ending_before", &paging.ending_before)?;
    let limit = paging.limit;
    let doc = state
        .db
        .call(move |conn| {
            super::webhook_endpoints::endpoint_json(conn, &id, "id")?;
            let (order, bound) = match (after, before) {
                (Some(seq), _) => ("DESC", Some(("<", seq))),
                (None, Some(seq)) => ("ASC", Some((">", seq))),
                _ => ("DESC", None),
            };
            let mut sql = String::from(
                "SELECT seq FROM psp_webhook_deliveries WHERE endpoint_id = ?1
                 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR event_id = ?3)",
            );
            if let Some((op, seq)) = bound {
                sql.push_str(&format!(" AND seq {op} {seq}"));
            }
            sql.push_str(&format!(" ORDER BY seq {order} LIMIT {}", limit + 1));
            let mut seqs: Vec<i64> = conn
                .prepare(&sql)?
                .query_map(params![id, status, event], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let more = seqs.len() as i64 > limit;
            seqs.truncate(limit as usize);
            if order == "ASC" {
                seqs.reverse();
            }
            let data = seqs
                .into_iter()
                .map(|seq| delivery_json(conn, seq))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(
                data,
                more,
                &format!("/v1/webhook_endpoints/{id}/deliveries"),
            ))
        })
        .await?;
    Ok(Json(doc))
}

#[cfg(test)]
mod tests {
    use super::{backoff_ms, delivery_seq};

    #[test]
    fn backoff_doubles_and_is_capped() {
        let cap = 3_600_000;
        assert_eq!(backoff_ms(500, 1, cap), 500);
        assert_eq!(backoff_ms(500, 2, cap), 1000);
        assert_eq!(backoff_ms(500, 4, cap), 4000);
        assert_eq!(backoff_ms(500, 200, cap), 3_600_000);
        assert_eq!(backoff_ms(u64::MAX, 3, cap), 3_600_000);
        // A compressed schedule for tests: 20 ms doubling up to 200 ms.
        let steps: Vec<u64> = (1..=6).map(|n| backoff_ms(20, n, 200)).collect();
        assert_eq!(steps, [20, 40, 80, 160, 200, 200]);
    }

    #[test]
    fn delivery_ids_are_their_row_numbers() {
        assert_eq!(delivery_seq("whdl_42"), Some(42));
        for bad in [
            "whdl_",
            "whdl_0",
            "whdl_-1",
            "whdl_x",
            "evt_1",
            "whdl_99999999999999999999",
        ] {
            assert_eq!(delivery_seq(bad), None, "{bad}");
        }
    }
}
