//! `Idempotency-Key` on POST, as Stripe does it: the first answer is stored with the effect it
//! describes (errors of an endpoint that ran included) and replayed for retries with the same
//! key; the same key with another body is a 400. Keys are scoped to the authenticated caller
//! and kept 48 hours.
//!
//! A keyed POST holds the database connection from the look-up of its key to the commit of its
//! answer: the handler's writes and the stored answer are one transaction. A request that dies
//! before that commit (client gone, process killed) leaves nothing, so its key is free again; one
//! that committed leaves its answer. There is no "in flight" state to get stuck in, and a second
//! request with the same key simply waits for the first and gets its answer.
//!
//! A route listed in [`OWN_IDEMPOTENCY`] (the simulated card tap, which waits on a webhook to
//! this same server) is not held: the middleware checks the key and hands the route a [`Keyed`]
//! request, and the route looks the key up and stores its answer itself, in its own short
//! transactions (ADR 0006).
//!
//! Stored bodies are sealed with the server's vault key (not in the database), so card numbers,
//! codes and tokens in answers are never readable from the file. Answers a handler marks
//! [`Reexecute`] (safe reads of secrets, such as revealing the card number) are not stored at
//! all: a retry runs them again.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rusqlite::{params, OptionalExtension};
use tierspay_core::auth::{b64url, sha256};

use super::error::NotExecuted;
use super::{ApiError, Caller, MAX_BODY_BYTES};
use crate::clock::real_now;
use crate::state::AppState;

/// How long a key's answer is kept.
pub const KEY_TTL_SECS: i64 = 48 * 3600;
const MAX_KEY_LEN: usize = 255;

/// Marks an answer that must not be stored for replay: a retry executes the request again
/// (only for requests whose effect is safe to repeat).
#[derive(Debug, Clone, Copy)]
pub struct Reexecute;

/// Routes (exact paths) that handle their idempotency key themselves, because they must wait
/// on another request to this server and so cannot hold the connection (ADR 0006).
pub const OWN_IDEMPOTENCY: &[&str] = &["/v1/test_helpers/issuing/authorizations"];

/// The idempotency key of a request to an [`OWN_IDEMPOTENCY`] route, checked by the middleware:
/// the route looks it up with [`Keyed::stored`] and stores its answer with [`Keyed::store`] in
/// the transaction of its effect.
#[derive(Debug, Clone)]
pub struct Keyed {
    /// The authenticated caller's scope.
    pub scope: String,
    /// The `Idempotency-Key`.
    pub key: String,
    /// Hash of the method, path and body.
    pub hash: String,
    /// The request's id, answered as `Original-Request` on replays.
    pub request_id: Option<String>,
}

impl Keyed {
    fn context(&self) -> Vec<u8> {
        format!("idempotency\n{}\n{}", self.scope, self.key).into_bytes()
    }

    /// The stored answer for this key, replayed; a 400 if the key was used with other
    /// parameters; `None` if nothing is stored.
    pub fn stored(
        &self,
        conn: &rusqlite::Connection,
        vault: &crate::vault::Vault,
    ) -> Result<Option<Response>, ApiError> {
        let Some(stored) = lookup(conn, &self.scope, &self.key)? else {
            return Ok(None);
        };
        if stored.request_hash != self.hash {
            return Err(mismatch());
        }
        let body = vault
            .open(&self.context(), &stored.body)
            .map_err(|e| ApiError::internal(&format!("idempotent answer: {e}")))?;
        Ok(Some(replay(
            stored.status,
            body,
            stored.signature,
            stored.request_id,
        )))
    }

    /// Stores `body` as the answer for this key (in the caller's transaction).
    pub fn store(
        &self,
        conn: &rusqlite::Connection,
        vault: &crate::vault::Vault,
        status: u16,
        body: &[u8],
    ) -> Result<(), ApiError> {
        let sealed = vault.seal(&self.context(), body);
        conn.prepare_cached(
            "INSERT INTO http_idempotency (scope, key, request_hash, status, body, signature, created, request_id)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, ?7)",
        )?
        .execute(params![self.scope, self.key, self.hash, status, sealed, real_now(), self.request_id])?;
        Ok(())
    }
}

fn mismatch() -> ApiError {
    ApiError::idempotency(
        "This Idempotency-Key was used with other parameters; use a new key for a new request.",
    )
}

fn lookup(conn: &rusqlite::Connection, scope: &str, key: &str) -> rusqlite::Result<Option<Stored>> {
    conn.prepare_cached(
        "SELECT request_hash, status, body, signature, request_id FROM http_idempotency
         WHERE scope = ?1 AND key = ?2",
    )?
    .query_row(params![scope, key], |r| {
        Ok(Stored {
            request_hash: r.get(0)?,
            status: r.get(1)?,
            body: r.get(2)?,
            signature: r.get(3)?,
            request_id: r.get(4)?,
        })
    })
    .optional()
}

struct Stored {
    request_hash: String,
    status: u16,
    body: Vec<u8>,
    signature: Option<String>,
    request_id: Option<String>,
}

/// Middleware: replays or refuses by idempotency key, and commits a keyed POST's effect with
/// its answer; reads the body (bounded).
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Stripe echoes the key on every answer to a keyed POST, replayed or not.
    let echo = (req.method() == Method::POST)
        .then(|| req.headers().get("idempotency-key").cloned())
        .flatten();
    let mut response = match run(state, req, next).await {
        Ok(r) | Err(r) => r,
    };
    if let Some(key) = echo {
        response.headers_mut().insert("idempotency-key", key);
    }
    response
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

async fn run(state: AppState, req: Request, next: Next) -> Result<Response, Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large().into_response())?;
    let key = match (
        parts.method == Method::POST,
        parts.headers.get("idempotency-key"),
    ) {
        (true, Some(value)) => match value.to_str() {
            Ok(key) if valid_key(key) => Some(key.to_owned()),
            _ => {
                let mut e = ApiError::invalid_param(
                    "Idempotency-Key",
                    format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters."),
                );
                e.detail.code = "idempotency_key_invalid".into();
                return Err(e.not_executed().into_response());
            }
        },
        _ => None,
    };
    let Some(key) = key else {
        return Ok(next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await);
    };
    let scope = parts
        .extensions
        .get::<Caller>()
        .map(Caller::scope)
        .unwrap_or_default();
    let hash = b64url(sha256(
        [
            parts.method.as_str().as_bytes(),
            b" ",
            parts.uri.path().as_bytes(),
            b"\n",
            &bytes,
        ]
        .concat(),
    ));
    // The id `request_log` gave this request: a replay answers it as `Original-Request`.
    let request_id = parts
        .headers
        .get("request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if OWN_IDEMPOTENCY.contains(&parts.uri.path()) {
        let mut parts = parts;
        parts.extensions.insert(Keyed {
            scope,
            key,
            hash,
            request_id,
        });
        return Ok(next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await);
    }
    // The sealed body is bound to its row: it cannot be moved to another caller's key.
    let context = format!("idempotency\n{scope}\n{key}").into_bytes();
    let db = state.db.clone();
    db.hold(async move {
        let (s, k) = (scope.clone(), key.clone());
        let stored = state
            .db
            .call(move |conn| {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                Ok(lookup(conn, &s, &k)?)
            })
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(stored) = stored {
            if stored.request_hash != hash {
                return Err(mismatch().into_response());
            }
            let body = state.vault.open(&context, &stored.body).map_err(|e| {
                ApiError::internal(&format!("idempotent answer: {e}")).into_response()
            })?;
            return Ok(replay(
                stored.status,
                body,
                stored.signature,
                stored.request_id,
            ));
        }

        let response = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        let executed = response.extensions().get::<NotExecuted>().is_none();
        let store = executed && response.extensions().get::<Reexecute>().is_none();
        let (resp_parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|_| ApiError::internal("answer body unreadable").into_response())?;
        let signature = resp_parts
            .headers
            .get(tierspay_core::auth::signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = resp_parts.status.as_u16();
        let sealed = store.then(|| state.vault.seal(&context, &body));
        state
            .db
            .call(move |conn| {
                if !executed {
                    // Nothing ran: nothing commits, and the key stays free.
                    conn.execute_batch("ROLLBACK")?;
                    return Ok(());
                }
                if let Some(sealed) = sealed {
                    conn.execute(
                        "INSERT INTO http_idempotency (scope, key, request_hash, status, body, signature, created,
                                                       request_id)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![scope, key, hash, status, sealed, signature, real_now(), request_id],
                    )?;
                }
                conn.execute_batch("COMMIT")?;
                Ok(())
            })
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Response::from_parts(resp_parts, Body::from(body)))
    })
    .await
}

fn replay(
    status: u16,
    body: Vec<u8>,
    signature: Option<String>,
    request_id: Option<String>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(id) = request_id.and_then(|s| HeaderValue::from_str(&s).ok()) {
        headers.insert("original-request", id);
    }
    if let Some(sig) = signature.and_then(|s| HeaderValue::from_str(&s).ok()) {
        headers.insert(tierspay_core::auth::signature::HEADER, sig);
    }
    response
}

/// Deletes expired answers, a bounded batch at a time (the maintenance task calls it, never a
/// request). Returns how many rows went.
pub fn prune(conn: &rusqlite::Connection, now: i64, batch: u32) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM http_idempotency WHERE rowid IN (
             SELECT rowid FROM http_idempotency WHERE created < ?1 LIMIT ?2)",
        params![now - KEY_TTL_SECS, batch],
    )
}
