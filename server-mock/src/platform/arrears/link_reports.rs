//! `POST /v1/me/link_reports`: the app tells the platform about a payment link it refused
//! (altered, truncated, expired, another member's, a look-alike host), so phishing campaigns
//! and cut SMS show up on the server. The app sends a digest of the token, never the token; the
//! report is written in the request's transaction, so the idempotency layer replays its answer
//! to a retry with the same key instead of recording it twice. `GET` lists the member's own.

use axum::extract::State;
use axum::{Extension, Json};
use rusqlite::params;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::{ApiError, ApiJson, Caller};
use crate::state::AppState;

/// The table, one migration of the platform's list.
pub const MIGRATION: &str = r#"
    CREATE TABLE platform_link_reports (
        id             TEXT PRIMARY KEY,
        member_ref     TEXT NOT NULL,
        device_id      TEXT NOT NULL,
        reason         TEXT NOT NULL,
        token_sha256   TEXT,
        foreign_host   TEXT,
        invoice_number INTEGER,
        channel        TEXT,
        seen_at        INTEGER NOT NULL,
        created        INTEGER NOT NULL
    );
    CREATE INDEX platform_link_reports_member ON platform_link_reports (member_ref, created);
"#;

/// The reasons the app's `LinkRefusal` codes.
const REASONS: &[&str] = &[
    "not_ours",
    "malformed",
    "truncated",
    "bad_signature",
    "expired",
    "other_member",
    "unsupported_version",
    "unknown_short_link",
];
const CHANNELS: &[&str] = &["push", "email", "sms", "app"];
/// Reports a member keeps listed; a phone cannot fill the table without bound.
const KEPT_PER_MEMBER: i64 = 500;

/// What the app sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkReportRequest {
    reason: String,
    token_sha256: Option<String>,
    foreign_host: Option<String>,
    invoice_number: Option<u32>,
    channel: Option<String>,
    seen_at: i64,
}

fn check(r: &LinkReportRequest) -> Result<(), ApiError> {
    if !REASONS.contains(&r.reason.as_str()) {
        return Err(ApiError::invalid_param("reason", "Unknown reason."));
    }
    if let Some(d) = &r.token_sha256 {
        if d.len() != 32 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::invalid_param(
                "token_sha256",
                "Must be 32 hexadecimal digits.",
            ));
        }
    }
    if let Some(h) = &r.foreign_host {
        let ok = !h.is_empty()
            && h.len() <= 253
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
        if !ok {
            return Err(ApiError::invalid_param(
                "foreign_host",
                "Must be a host name.",
            ));
        }
    }
    if let Some(c) = &r.channel {
        if !CHANNELS.contains(&c.as_str()) {
            return Err(ApiError::invalid_param("channel", "Unknown channel."));
        }
    }
    if r.seen_at < 0 {
        return Err(ApiError::invalid_param("seen_at", "Must be Unix seconds."));
    }
    Ok(())
}

fn report_json(
    id: &str,
    reason: &str,
    invoice_number: Option<u32>,
    channel: Option<&str>,
    seen_at: i64,
    created: i64,
) -> Value {
    json!({
        "object": "link_report",
        "id": id,
        "reason": reason,
        "invoice_number": invoice_number,
        "channel": channel,
        "seen_at": seen_at,
        "created": created,
    })
}

/// `POST /v1/me/link_reports`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<LinkReportRequest>,
) -> Result<Json<Value>, ApiError> {
    let device = caller.device()?.clone();
    check(&req)?;
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            let id = tierspay_core::auth::random::id("lrp");
            tx.execute(
                "INSERT INTO platform_link_reports (id, member_ref, device_id, reason,
                     token_sha256, foreign_host, invoice_number, channel, seen_at, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    device.member_ref,
                    device.device_id,
                    req.reason,
                    req.token_sha256,
                    req.foreign_host,
                    req.invoice_number,
                    req.channel,
                    req.seen_at,
                    now
                ],
            )?;
            tx.execute(
                "DELETE FROM platform_link_reports WHERE member_ref = ?1 AND id NOT IN
                     (SELECT id FROM platform_link_reports WHERE member_ref = ?1
                      ORDER BY created DESC, rowid DESC LIMIT ?2)",
                params![device.member_ref, KEPT_PER_MEMBER],
            )?;
            Ok(report_json(
                &id,
                &req.reason,
                req.invoice_number,
                req.channel.as_deref(),
                req.seen_at,
                now,
            ))
        })
        .await?;
    Ok(Json(answer))
}

/// `GET /v1/me/link_reports`: the member's reports, newest first.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let data = state
        .db
        .call(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, reason, invoice_number, channel, seen_at, created
                 FROM platform_link_reports WHERE member_ref = ?1
                 ORDER BY created DESC, rowid DESC LIMIT 100",
            )?;
            let rows = stmt
                .query_map([member], |r| {
                    Ok(report_json(
                        &r.get::<_, String>(0)?,
                        &r.get::<_, String>(1)?,
                        r.get(2)?,
                        r.get::<_, Option<String>>(3)?.as_deref(),
                        r.get(4)?,
                        r.get(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await?;
    Ok(Json(
        json!({ "object": "list", "data": data, "has_more": false }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(reason: &str) -> LinkReportRequest {
        LinkReportRequest {
            reason: reason.into(),
            token_sha256: Some("0123456789abcdef0123456789abcdef".into()),
            foreign_host: None,
            invoice_number: Some(7),
            channel: Some("sms".into()),
            seen_at: 1,
        }
    }

    #[test]
    fn only_known_reasons_digests_hosts_and_channels_are_recorded() {
        assert!(check(&req("bad_signature")).is_ok());
        assert!(check(&req("<script>")).is_err());
        let mut r = req("expired");
        r.token_sha256 = Some("the whole token".into());
        assert!(check(&r).is_err(), "a token is never taken for a digest");
        let mut r = req("not_ours");
        r.foreign_host = Some("evil.example/<b>".into());
        assert!(check(&r).is_err());
        let mut r = req("other_member");
        r.channel = Some("fax".into());
        assert!(check(&r).is_err());
    }
}
