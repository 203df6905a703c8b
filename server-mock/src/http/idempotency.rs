//! `Idempotency-Key` on POST, as Stripe does it: the first answer is stored once the endpoint
//! has started executing (errors included) and replayed for retries with the same key; the same
//! key with another body is a 400, and a key whose first request still runs is a 409. Keys are
//! scoped to the authenticated caller and kept 48 hours.

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

const KEY_TTL_SECS: i64 = 48 * 3600;
const MAX_KEY_LEN: usize = 255;

enum Slot {
    Reserved,
    Replay {
        status: u16,
        body: Vec<u8>,
        signature: Option<String>,
    },
}

/// Middleware: reserves, replays or refuses by idempotency key; reads the body (bounded).
pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match run(state, req, next).await {
        Ok(r) | Err(r) => r,
    }
}

async fn run(state: AppState, req: Request, next: Next) -> Result<Response, Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::too_large().into_response())?;
    let key = parts
        .headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned));
    let key = match (parts.method == Method::POST, key) {
        (true, Some(Ok(key))) if !key.is_empty() && key.len() <= MAX_KEY_LEN => Some(key),
        (true, Some(_)) => {
            return Err(ApiError::idempotency(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters."
            ))
            .into_response())
        }
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
    let slot = reserve(&state, &scope, &key, &hash)
        .await
        .map_err(IntoResponse::into_response)?;
    if let Slot::Replay {
        status,
        body,
        signature,
    } = slot
    {
        return Ok(replay(status, body, signature));
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let executed = response.extensions().get::<NotExecuted>().is_none();
    let (resp_parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let signature = resp_parts
        .headers
        .get(tierspay_core::auth::signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = resp_parts.status.as_u16();
    let stored = body.to_vec();
    let result = state
        .db
        .call(move |conn| {
            if executed {
                conn.execute(
                    "UPDATE http_idempotency SET state = 'done', status = ?3, body = ?4, signature = ?5
                     WHERE scope = ?1 AND key = ?2",
                    params![scope, key, status, stored, signature],
                )?;
            } else {
                conn.execute(
                    "DELETE FROM http_idempotency WHERE scope = ?1 AND key = ?2",
                    params![scope, key],
                )?;
            }
            Ok(())
        })
        .await;
    if let Err(e) = result {
        tracing::error!("idempotency record not saved: {}", e.detail.message);
    }
    Ok(Response::from_parts(resp_parts, Body::from(body)))
}

async fn reserve(state: &AppState, scope: &str, key: &str, hash: &str) -> Result<Slot, ApiError> {
    let (scope, key, hash) = (scope.to_owned(), key.to_owned(), hash.to_owned());
    state
        .db
        .transaction(move |tx| {
            let now = real_now();
            tx.execute(
                "DELETE FROM http_idempotency WHERE created < ?1",
                [now - KEY_TTL_SECS],
            )?;
            let existing = tx
                .query_row(
                    "SELECT request_hash, state, status, body, signature FROM http_idempotency
                     WHERE scope = ?1 AND key = ?2",
                    params![scope, key],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<u16>>(2)?,
                            r.get::<_, Option<Vec<u8>>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                        ))
                    },
                )
                .optional()?;
            match existing {
                None => {
                    tx.execute(
                        "INSERT INTO http_idempotency (scope, key, request_hash, state, created)
                         VALUES (?1, ?2, ?3, 'in_flight', ?4)",
                        params![scope, key, hash, now],
                    )?;
                    Ok(Slot::Reserved)
                }
                Some((stored_hash, _, _, _, _)) if stored_hash != hash => Err(ApiError::idempotency(
                    "This Idempotency-Key was used with other parameters; use a new key for a new request.",
                )),
                Some((_, state, ..)) if state == "in_flight" => Err(ApiError::key_in_use()),
                Some((_, _, status, body, signature)) => Ok(Slot::Replay {
                    status: status.unwrap_or(500),
                    body: body.unwrap_or_default(),
                    signature,
                }),
            }
        })
        .await
}

fn replay(status: u16, body: Vec<u8>, signature: Option<String>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(sig) = signature.and_then(|s| HeaderValue::from_str(&s).ok()) {
        headers.insert(tierspay_core::auth::signature::HEADER, sig);
    }
    response
}
