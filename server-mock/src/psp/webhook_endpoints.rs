//! Webhook endpoints (`we_…`), as Stripe's `/v1/webhook_endpoints`: a URL, the event types it
//! receives (`*`, `issuing_authorization.request`, `payment_intent.*`…) and a signing secret
//! (`whsec_…`) shown once, in the answer to the create, and stored sealed with the vault (a copy
//! of the database alone does not reveal it). The platform's own endpoint is made at start-up
//! ([`ensure_platform_endpoint`]) and its secret handed over through
//! [`platform_webhook_secret`]. Sending is `webhook_delivery`'s job.
//!
//! Rolling a secret (`POST /v1/webhook_endpoints/{id}/roll_secret`, what Stripe's Dashboard
//! calls "Roll secret"): a new secret is made and shown once; the old one keeps signing beside
//! it for `expires_in` seconds (0 to 24 hours, as the Dashboard offers), so every delivery in
//! that window carries one `v1` per live secret and a receiver holding either accepts it.
//! Rolling again in the window drops the older secret at once. `GET …/{id}/deliveries` is the
//! endpoint's delivery log (`webhook_delivery`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;

use super::form::{self, invalid, Fields};
use super::model::{self, missing, parse_json, Paging};
use super::wire::{body_fields, query_fields, rename_param, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The platform's receiver of PSP events, under the server's public URL.
pub const PLATFORM_EVENTS_PATH: &str = "/v1/platform/psp_events";
/// What the platform's endpoint subscribes to: only what `platform/psp_events.rs` acts on. Each
/// subscribed event costs a delivery (an HTTP request and a transaction) per tap.
pub const PLATFORM_EVENTS: &[&str] = &[
    "issuing_authorization.request",
    "issuing_authorization.updated",
    "issuing_transaction.created",
];
/// The `psp_settings` name holding the platform endpoint's id.
const PLATFORM_SETTING: &str = "platform_webhook_endpoint";
/// Longest URL accepted.
const MAX_URL_BYTES: usize = 2048;
/// Most event types per endpoint.
const MAX_EVENTS: usize = 64;
/// Longest event type (Stripe's longest are about 60 characters).
const MAX_EVENT_BYTES: usize = 100;
/// Longest description.
const MAX_DESCRIPTION: usize = 5000;
/// The API version events are rendered in.
pub const API_VERSION: &str = "2024-06-20";

/// The tables (a PSP migration): endpoints, their secrets sealed with the vault, and the outbox
/// of deliveries written in the transaction of their event.
pub const MIGRATION: &str = r#"
    CREATE TABLE psp_webhook_endpoints (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,
        url            TEXT NOT NULL,
        description    TEXT,
        enabled_events TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
        api_version    TEXT,
        secret         BLOB NOT NULL,
        metadata       TEXT NOT NULL DEFAULT '{}',
        created        INTEGER NOT NULL
    );
    CREATE TABLE psp_webhook_deliveries (
        seq             INTEGER PRIMARY KEY,
        event_id        TEXT NOT NULL REFERENCES psp_events(id),
        endpoint_id     TEXT NOT NULL REFERENCES psp_webhook_endpoints(id),
        status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_status     INTEGER,
        last_error      TEXT,
        delivered_ms    INTEGER,
        created         INTEGER NOT NULL,
        UNIQUE (event_id, endpoint_id)
    );
    CREATE INDEX psp_webhook_deliveries_due ON psp_webhook_deliveries (next_attempt_ms)
        WHERE status = 'pending';
    CREATE INDEX psp_webhook_deliveries_endpoint ON psp_webhook_deliveries (endpoint_id);
"#;

/// The second migration: the rolled-over secret and its expiry (wall clock, milliseconds, as
/// the delivery schedule), and the log of every delivery attempt.
pub const ROLL_MIGRATION: &str = r#"
    ALTER TABLE psp_webhook_endpoints ADD COLUMN previous_secret BLOB;
    ALTER TABLE psp_webhook_endpoints ADD COLUMN previous_secret_expires_ms INTEGER;
    CREATE TABLE psp_webhook_attempts (
        seq             INTEGER PRIMARY KEY,
        delivery_seq    INTEGER NOT NULL REFERENCES psp_webhook_deliveries(seq),
        attempt         INTEGER NOT NULL CHECK (attempt >= 1),
        started_ms      INTEGER NOT NULL,
        duration_ms     INTEGER NOT NULL CHECK (duration_ms >= 0),
        status_code     INTEGER,
        error           TEXT,
        outcome         TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
        next_attempt_ms INTEGER,
        UNIQUE (delivery_seq, attempt)
    );
"#;

/// Longest overlap of an old secret with its successor, seconds (Stripe's Dashboard offers up
/// to 24 hours).
pub const MAX_ROLL_OVERLAP_SECS: i64 = 24 * 3600;

/// An endpoint as the sender needs it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// `we_…`
    pub id: String,
    /// Where events go.
    pub url: String,
    /// The signing secret, opened from the vault.
    pub secret: String,
    /// The secret it replaced, while it still signs (a roll's overlap).
    pub previous_secret: Option<String>,
    /// Event types (`*` and `prefix.*` patterns included).
    pub enabled_events: Vec<String>,
}

impl Endpoint {
    /// The live secrets, current first: one `v1` each in `Stripe-Signature`.
    pub fn secrets(&self) -> Vec<&str> {
        std::iter::once(self.secret.as_str())
            .chain(self.previous_secret.as_deref().filter(|s| !s.is_empty()))
            .collect()
    }
}

/// Whether `kind` is among `enabled`: exact, `*`, or `resource.*`.
pub fn subscribed(enabled: &[String], kind: &str) -> bool {
    enabled.iter().any(|e| {
        e == "*"
            || e == kind
            || e.strip_suffix(".*").is_some_and(|prefix| {
                kind.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
    })
}

/// The enabled endpoints receiving `kind`, with their secrets.
pub fn endpoints_for(conn: &Connection, kind: &str) -> Result<Vec<Endpoint>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, url, vault_open('webhook_endpoint:' || id, secret), enabled_events,
                CASE WHEN previous_secret_expires_ms > ?1
                     THEN vault_open('webhook_endpoint:' || id, previous_secret) END
         FROM psp_webhook_endpoints WHERE status = 'enabled' ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([super::webhook_delivery::now_ms()], |r| {
            Ok(Endpoint {
                id: r.get(0)?,
                url: r.get(1)?,
                secret: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                previous_secret: r.get(4)?,
                enabled_events: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // An endpoint whose secret does not open (database moved without its vault) cannot sign:
    // it is skipped rather than sent unsigned.
    Ok(rows
        .into_iter()
        .filter(|e| !e.secret.is_empty() && subscribed(&e.enabled_events, kind))
        .collect())
}

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Where events go.
    pub url: String,
    /// Event types.
    pub enabled_events: Vec<String>,
    /// Free text.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// The API version events are rendered in (echoed).
    pub api_version: Option<String>,
}

/// Creates an endpoint; its JSON with the secret (the only time it is shown).
pub fn create_endpoint(tx: &Connection, now: i64, e: NewEndpoint) -> Result<Value, ApiError> {
    let id = random::id("we");
    let secret = random::secret("whsec");
    tx.execute(
        "INSERT INTO psp_webhook_endpoints (id, url, description, enabled_events, status, api_version,
                                            secret, metadata, created)
         VALUES (?1, ?2, ?3, ?4, 'enabled', ?5, vault_seal('webhook_endpoint:' || ?1, ?6), ?7, ?8)",
        params![
            id,
            e.url,
            e.description,
            Value::from(e.enabled_events).to_string(),
            e.api_version,
            secret,
            Value::Object(e.metadata).to_string(),
            now
        ],
    )?;
    let mut doc = endpoint_json(tx, &id, "id")?;
    doc["secret"] = Value::String(secret);
    Ok(doc)
}

/// An endpoint as Stripe renders it (no secret).
pub fn endpoint_json(conn: &Connection, id: &str, param: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, url, description, enabled_events, status, api_version, metadata, created,
                CASE WHEN previous_secret_expires_ms > ?2 THEN previous_secret_expires_ms / 1000 END
         FROM psp_webhook_endpoints WHERE id = ?1",
        params![id, super::webhook_delivery::now_ms()],
        |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "webhook_endpoint",
                "api_version": r.get::<_, Option<String>>(5)?,
                "application": Value::Null,
                "created": r.get::<_, i64>(7)?,
                "description": r.get::<_, Option<String>>(2)?,
                "enabled_events": parse_json(&r.get::<_, String>(3)?),
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(6)?),
                // Not Stripe's (its Dashboard shows it): when the rolled-over secret stops
                // signing, null outside an overlap.
                "previous_secret_expires_at": r.get::<_, Option<i64>>(8)?,
                "status": r.get::<_, String>(4)?,
                "url": r.get::<_, String>(1)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("webhook_endpoint", param, id))
}

/// Makes sure the platform's endpoint exists and points at `{public_url}/v1/platform/psp_events`
/// (its URL follows a changed public URL; a disabled endpoint stays disabled). Returns its id.
pub(crate) fn ensure_platform_endpoint(
    conn: &Connection,
    public_url: &str,
    now: i64,
) -> Result<String, ApiError> {
    let url = format!("{}{PLATFORM_EVENTS_PATH}", public_url.trim_end_matches('/'));
    let existing = model::setting(conn, PLATFORM_SETTING)?
        .and_then(|(v, _)| String::from_utf8(v).ok())
        .filter(|id| {
            conn.query_row(
                "SELECT 1 FROM psp_webhook_endpoints WHERE id = ?1",
                [id],
                |_| Ok(()),
            )
            .optional()
            .ok()
            .flatten()
            .is_some()
        });
    let events = Value::from(PLATFORM_EVENTS.to_vec()).to_string();
    if let Some(id) = existing {
        // A database made by an older version follows the current URL and subscriptions.
        conn.execute(
            "UPDATE psp_webhook_endpoints SET url = ?2, enabled_events = ?3
             WHERE id = ?1 AND (url <> ?2 OR enabled_events <> ?3)",
            params![id, url, events],
        )?;
        return Ok(id);
    }
    let doc = create_endpoint(
        conn,
        now,
        NewEndpoint {
            url,
            enabled_events: PLATFORM_EVENTS.iter().map(|s| (*s).to_owned()).collect(),
            description: Some("TiersPay platform".into()),
            metadata: Map::new(),
            api_version: Some(API_VERSION.into()),
        },
    )?;
    let id = doc["id"].as_str().unwrap_or_default().to_owned();
    model::set_setting(conn, PLATFORM_SETTING, id.as_bytes(), "generated", now)?;
    Ok(id)
}

/// The platform endpoint's signing secret (what its receiver verifies `Stripe-Signature`
/// with), once [`ensure_platform_endpoint`] made it.
pub fn platform_webhook_secret(conn: &Connection) -> Result<Option<String>, ApiError> {
    let Some(id) =
        model::setting(conn, PLATFORM_SETTING)?.and_then(|(v, _)| String::from_utf8(v).ok())
    else {
        return Ok(None);
    };
    Ok(conn
        .prepare_cached(
            "SELECT vault_open('webhook_endpoint:' || id, secret) FROM psp_webhook_endpoints WHERE id = ?1",
        )?
        .query_row([id], |r| r.get::<_, Option<String>>(0)
        )
        .optional()?
        .flatten())
}

// ------------------------------------------------------------------- validation

fn read_url(f: &mut Fields, required: bool) -> Result<Option<String>, ApiError> {
    let url = if required {
        Some(f.required("url")?)
    } else {
        f.str("url")?
    };
    let Some(url) = url else { return Ok(None) };
    if url.len() > MAX_URL_BYTES {
        return Err(invalid(
            "url",
            format!("url has at most {MAX_URL_BYTES} characters."),
        ));
    }
    let ok = url
        .parse::<Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
    if ok.is_none() {
        return Err(invalid(
            "url",
            "Invalid URL: url must be an absolute http(s) URL.",
        ));
    }
    Ok(Some(url))
}

fn read_events(f: &mut Fields, required: bool) -> Result<Option<Vec<String>>, ApiError> {
    let events = f.strings("enabled_events")?;
    let Some(events) = events else {
        if required {
            return Err(invalid(
                "enabled_events",
                "Missing required param: enabled_events.",
            ));
        }
        return Ok(None);
    };
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(invalid(
            "enabled_events",
            format!("enabled_events takes 1 to {MAX_EVENTS} event types."),
        ));
    }
    for (i, e) in events.iter().enumerate() {
        let well_formed = e == "*"
            || (e.len() <= MAX_EVENT_BYTES
                && e.contains('.')
                && !e.starts_with('.')
                && e.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.' || b == b'*')
                && e.find('*')
                    .is_none_or(|p| p == e.len() - 1 && e.ends_with(".*")));
        if !well_formed {
            return Err(invalid(
                &format!("enabled_events[{i}]"),
                format!(
                    "Invalid event type: {}.",
                    e.chars().take(MAX_EVENT_BYTES).collect::<String>()
                ),
            ));
        }
    }
    Ok(Some(events))
}

fn read_description(f: &mut Fields) -> Result<Option<String>, ApiError> {
    let d = f.str("description")?;
    if d.as_ref().is_some_and(|d| d.len() > MAX_DESCRIPTION) {
        return Err(invalid(
            "description",
            format!("description has at most {MAX_DESCRIPTION} characters."),
        ));
    }
    Ok(d)
}

/// `true` / `false`, as Stripe's clients send booleans.
pub(super) fn read_bool(f: &mut Fields, key: &str) -> Result<Option<bool>, ApiError> {
    let name = f.name(key);
    match f.str(key)?.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(invalid(
            &name,
            format!("Invalid boolean: {name} must be true or false."),
        )),
    }
}

// ------------------------------------------------------------------- endpoints

/// The webhook endpoint routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook_endpoints", post(create).get(list))
        .route(
            "/v1/webhook_endpoints/{id}",
            get(retrieve).post(update).delete(delete),
        )
        .route("/v1/webhook_endpoints/{id}/roll_secret", post(roll_secret))
        .route(
            "/v1/webhook_endpoints/{id}/deliveries",
            get(super::webhook_delivery::list_deliveries),
        )
}

/// Replaces `id`'s secret with a new one (returned) and lets the old one sign beside it until
/// `now_ms + overlap_secs` (none when 0). A roll during an overlap drops the older secret.
pub fn roll(
    tx: &Connection,
    id: &str,
    overlap_secs: i64,
) -> Result<(String, Option<i64>), ApiError> {
    let secret = random::secret("whsec");
    let expires_ms = (overlap_secs > 0).then(|| {
        super::webhook_delivery::now_ms().saturating_add(overlap_secs.saturating_mul(1000))
    });
    let n = tx.execute(
        "UPDATE psp_webhook_endpoints
         SET previous_secret = CASE WHEN ?3 IS NULL THEN NULL ELSE secret END,
             previous_secret_expires_ms = ?3,
             secret = vault_seal('webhook_endpoint:' || id, ?2)
         WHERE id = ?1",
        params![id, secret, expires_ms],
    )?;
    if n == 0 {
        return Err(missing("webhook_endpoint", "id", id));
    }
    Ok((secret, expires_ms.map(|ms| ms / 1000)))
}

async fn roll_secret(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let overlap = f.int("expires_in")?.unwrap_or(MAX_ROLL_OVERLAP_SECS);
    if !(0..=MAX_ROLL_OVERLAP_SECS).contains(&overlap) {
        return Err(invalid(
            "expires_in",
            format!("expires_in is 0 to {MAX_ROLL_OVERLAP_SECS} seconds (24 hours)."),
        ));
    }
    f.finish()?;
    let doc = state
        .db
        .transaction(move |tx| {
            let (secret, _) = roll(tx, &id, overlap)?;
            let mut doc = endpoint_json(tx, &id, "id")?;
            doc["secret"] = Value::String(secret);
            Ok(doc)
        })
        .await?;
    Ok(Json(doc))
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let url = read_url(&mut f, true)?.unwrap_or_default();
    let enabled_events = read_events(&mut f, true)?.unwrap_or_default();
    let description = read_description(&mut f)?;
    let api_version = f.str("api_version")?;
    if api_version.as_ref().is_some_and(|v| v.len() > 32) {
        return Err(invalid("api_version", "Invalid api_version."));
    }
    // Stripe's `connect` flag: there is no Connect here, so only its default is accepted.
    if read_bool(&mut f, "connect")? == Some(true) {
        return Err(invalid("connect", "This mock has no Connect endpoints."));
    }
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let now = psp.ctx.now;
    let new = NewEndpoint {
        url,
        enabled_events,
        description,
        metadata,
        api_version,
    };
    let doc = state
        .db
        .transaction(move |tx| create_endpoint(tx, now, new))
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    query_fields(&uri)?.finish()?;
    let doc = state
        .db
        .call(move |conn| endpoint_json(conn, &id, "id"))
        .await?;
    Ok(Json(doc))
}

async fn update(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let url = read_url(&mut f, false)?;
    let events = read_events(&mut f, false)?;
    let description = read_description(&mut f)?;
    let disabled = read_bool(&mut f, "disabled")?;
    let metadata = f.metadata()?;
    f.finish()?;
    let doc = state
        .db
        .transaction(move |tx| {
            let before = endpoint_json(tx, &id, "id")?;
            if let Some(url) = url {
                tx.execute(
                    "UPDATE psp_webhook_endpoints SET url = ?2 WHERE id = ?1",
                    params![id, url],
                )?;
            }
            if let Some(events) = events {
                tx.execute(
                    "UPDATE psp_webhook_endpoints SET enabled_events = ?2 WHERE id = ?1",
                    params![id, Value::from(events).to_string()],
                )?;
            }
            if let Some(d) = description {
                tx.execute(
                    "UPDATE psp_webhook_endpoints SET description = ?2 WHERE id = ?1",
                    params![id, d],
                )?;
            }
            if let Some(disabled) = disabled {
                tx.execute(
                    "UPDATE psp_webhook_endpoints SET status = ?2 WHERE id = ?1",
                    params![id, if disabled { "disabled" } else { "enabled" }],
                )?;
            }
            if let Some(changes) = metadata {
                let mut meta = before["metadata"].as_object().cloned().unwrap_or_default();
                form::merge_metadata(&mut meta, changes);
                tx.execute(
                    "UPDATE psp_webhook_endpoints SET metadata = ?2 WHERE id = ?1",
                    params![id, Value::Object(meta).to_string()],
                )?;
            }
            endpoint_json(tx, &id, "id")
        })
        .await?;
    Ok(Json(doc))
}

async fn delete(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .transaction(move |tx| {
            // Undelivered events to it go with it; delivered ones' log rows too.
            tx.execute(
                "DELETE FROM psp_webhook_attempts WHERE delivery_seq IN
                     (SELECT seq FROM psp_webhook_deliveries WHERE endpoint_id = ?1)",
                [&id],
            )?;
            tx.execute(
                "DELETE FROM psp_webhook_deliveries WHERE endpoint_id = ?1",
                [&id],
            )?;
            let n = tx.execute("DELETE FROM psp_webhook_endpoints WHERE id = ?1", [&id])?;
            if n == 0 {
                return Err(missing("webhook_endpoint", "id", &id));
            }
            Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
        })
        .await
        .map_err(|e| rename_param(e, "id"))?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(conn, "psp_webhook_endpoints", "1", &[], &paging)?;
            let data = ids
                .iter()
                .map(|id| endpoint_json(conn, id, "id"))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/webhook_endpoints"))
        })
        .await?;
    Ok(Json(doc))
}

#[cfg(test)]
mod tests {
    use super::subscribed;

    #[test]
    fn patterns_match_as_stripe_does() {
        let e = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(subscribed(&e(&["*"]), "issuing_authorization.request"));
        assert!(subscribed(
            &e(&["payment_intent.*"]),
            "payment_intent.succeeded"
        ));
        assert!(!subscribed(&e(&["payment_intent.*"]), "payment_intents.x"));
        assert!(!subscribed(&e(&["payment_intent.*"]), "payment_intent"));
        assert!(subscribed(
            &e(&["issuing_authorization.request"]),
            "issuing_authorization.request"
        ));
        assert!(!subscribed(
            &e(&["issuing_authorization.created"]),
            "issuing_authorization.request"
        ));
    }
}
