//! The outbox: every SMS, email and push the platform sends is recorded here, where test
//! helpers and the demo read it. Nothing is delivered for real. A push is addressed to the
//! device's registered APNs or FCM token, the way a real sender calls APNs or FCM. Bodies carry
//! one-time codes, so they are sealed with the vault key (`vault_seal` in SQL): the file alone
//! never shows a code.

use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;
use tierspay_core::auth::random;

use crate::http::ApiError;

/// A message sent.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    /// `msg_…`
    pub id: String,
    /// Always `"outbox_message"`.
    pub object: &'static str,
    /// `sms`, `email` or `push`.
    pub channel: String,
    /// Phone number, email address or push token.
    pub recipient: String,
    /// Email subject or push title.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// A push's data payload (string values, e.g. `link`), which the app hands to the core's
    /// `route_for_push`.
    pub data: Option<Value>,
    /// Unix seconds.
    pub created: i64,
    /// An email's whole MIME message (RFC 5322), when its sender built one; sealed at rest like
    /// the body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

fn record(
    tx: &Connection,
    channel: &str,
    to: &str,
    subject: Option<&str>,
    body: &str,
    data: Option<&Value>,
    now: i64,
) -> Result<String, ApiError> {
    let id = random::id("msg");
    tx.execute(
        "INSERT INTO platform_outbox (id, seq, channel, recipient, subject, body, data, created)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM platform_outbox), ?2, ?3, ?4,
                 vault_seal('outbox:' || ?1, ?5), ?6, ?7)",
        params![
            id,
            channel,
            to,
            subject,
            body,
            data.map(Value::to_string),
            now
        ],
    )?;
    Ok(id)
}

/// Records an email with its whole MIME message (`raw`, sealed like the body); `text` is its
/// text alternative, what the outbox shows as the body.
pub fn send_mime_email(
    tx: &Connection,
    to: &str,
    subject: &str,
    text: &str,
    raw: &str,
    now: i64,
) -> Result<String, ApiError> {
    let id = record(tx, "email", to, Some(subject), text, None, now)?;
    tx.prepare_cached(
        "UPDATE platform_outbox SET raw = vault_seal('outbox-raw:' || id, ?2) WHERE id = ?1",
    )?
    .execute(params![id, raw])?;
    Ok(id)
}

/// Records an SMS.
pub fn send_sms(tx: &Connection, to: &str, body: &str, now: i64) -> Result<String, ApiError> {
    record(tx, "sms", to, None, body, None, now)
}

/// A push message: a title, a text and the link it opens.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// What it is about, for the outbox's readers and the payload (`card_frozen`, …).
    pub kind: &'a str,
    /// The notification's title.
    pub title: &'a str,
    /// Its text.
    pub body: &'a str,
    /// A TiersPay link the app routes (`tierspay://card`).
    pub link: &'a str,
}

/// Pushes to one device, at the token it registered; `None` when it has none (nothing sent).
pub fn push_to_device(
    tx: &Connection,
    device_id: &str,
    push: Push<'_>,
    now: i64,
) -> Result<Option<String>, ApiError> {
    push_with_data(tx, device_id, push, &[], now)
}

/// [`push_to_device`] with more string values in the data payload (`summary`, `invoice`); the
/// payload's own keys (`kind`, `link`, `service`) cannot be replaced.
fn push_with_data(
    tx: &Connection,
    device_id: &str,
    push: Push<'_>,
    extra: &[(&str, &str)],
    now: i64,
) -> Result<Option<String>, ApiError> {
    let Some((service, token)) = super::push::token_of(tx, device_id)? else {
        return Ok(None);
    };
    let mut data = serde_json::json!({"kind": push.kind, "link": push.link, "service": service});
    if let Some(map) = data.as_object_mut() {
        for (k, v) in extra {
            map.entry(*k).or_insert_with(|| Value::from(*v));
        }
    }
    record(
        tx,
        "push",
        &token,
        Some(push.title),
        push.body,
        Some(&data),
        now,
    )
    .map(Some)
}

/// Pushes to every signed-in device of a member (one, since a new phone signs the old out).
pub fn push_to_member(
    tx: &Connection,
    member_ref: &str,
    push: Push<'_>,
    now: i64,
) -> Result<usize, ApiError> {
    push_to_member_with(tx, member_ref, push, &[], now)
}

/// [`push_to_member`] with more string values in the data payload; how many devices it reached.
pub fn push_to_member_with(
    tx: &Connection,
    member_ref: &str,
    push: Push<'_>,
    extra: &[(&str, &str)],
    now: i64,
) -> Result<usize, ApiError> {
    let devices: Vec<String> = tx
        .prepare_cached(
            "SELECT id FROM platform_devices WHERE member_ref = ?1 AND status = 'active'",
        )?
        .query_map([member_ref], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut sent = 0;
    for device in devices {
        sent += usize::from(push_with_data(tx, &device, push, extra, now)?.is_some());
    }
    Ok(sent)
}

/// Messages, newest first, optionally of one channel and recipient.
pub fn list(
    conn: &Connection,
    channel: Option<&str>,
    recipient: Option<&str>,
    limit: u32,
) -> Result<Vec<OutboxMessage>, ApiError> {
    let mut stmt = conn.prepare(
        "SELECT id, channel, recipient, subject, COALESCE(vault_open('outbox:' || id, body), ''), data, created,
                vault_open('outbox-raw:' || id, raw)
         FROM platform_outbox
         WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR recipient = ?2)
         ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![channel, recipient, limit], |r| {
            let data: Option<String> = r.get(5)?;
            Ok(OutboxMessage {
                id: r.get(0)?,
                object: "outbox_message",
                channel: r.get(1)?,
                recipient: r.get(2)?,
                subject: r.get(3)?,
                body: r.get(4)?,
                data: data.and_then(|d| serde_json::from_str(&d).ok()),
                created: r.get(6)?,
                raw: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
