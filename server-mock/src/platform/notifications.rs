//! The outbox: every SMS, email and push the platform sends is recorded here, where test
//! helpers and the demo read it. Nothing is delivered for real.

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;
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
    /// Phone number, email address or device id.
    pub recipient: String,
    /// Email subject or push title.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// Unix seconds.
    pub created: i64,
}

/// Records an SMS.
pub fn send_sms(tx: &Transaction<'_>, to: &str, body: &str, now: i64) -> Result<String, ApiError> {
    let id = random::id("msg");
    tx.execute(
        "INSERT INTO platform_outbox (id, seq, channel, recipient, subject, body, created)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM platform_outbox), 'sms', ?2, NULL, ?3, ?4)",
        params![id, to, body, now],
    )?;
    Ok(id)
}

/// Messages, newest first, optionally of one channel and recipient.
pub fn list(
    conn: &Connection,
    channel: Option<&str>,
    recipient: Option<&str>,
    limit: u32,
) -> Result<Vec<OutboxMessage>, ApiError> {
    let mut stmt = conn.prepare(
        "SELECT id, channel, recipient, subject, body, created FROM platform_outbox
         WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR recipient = ?2)
         ORDER BY seq DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![channel, recipient, limit], |r| {
            Ok(OutboxMessage {
                id: r.get(0)?,
                object: "outbox_message",
                channel: r.get(1)?,
                recipient: r.get(2)?,
                subject: r.get(3)?,
                body: r.get(4)?,
                created: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
