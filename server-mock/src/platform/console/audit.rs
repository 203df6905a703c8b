//! The console's audit trail: every action and every refusal, appended, never updated. Who
//! (staff id and email), what (the action's name), which invoice, the outcome (`done`, or the
//! refusal's code), a short detail (amounts, the channel) and when. Never a password, a session
//! id, a CSRF token or a member's contact: the detail is built by this module's callers from
//! fixed words and numbers only.

use rusqlite::{params, Connection};
use serde::Serialize;

use crate::http::ApiError;

/// The audit table (a migration of the console's). `action_key` makes a confirmed form that
/// is submitted twice (a double click, a resent POST) act once: the second finds the first.
pub const MIGRATION: &str = r#"
    CREATE TABLE console_audit (
        seq         INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        staff_id    TEXT,
        staff_email TEXT,
        action      TEXT NOT NULL,
        invoice     TEXT,
        outcome     TEXT NOT NULL,
        detail      TEXT NOT NULL DEFAULT '',
        client      TEXT NOT NULL DEFAULT '',
        action_key  TEXT UNIQUE
    );
    CREATE INDEX console_audit_invoice ON console_audit (invoice, seq) WHERE invoice IS NOT NULL;
"#;

/// Longest detail kept.
const MAX_DETAIL: usize = 200;

/// One line of the trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Unix seconds.
    pub at: i64,
    /// `stf_…`, none for a sign-in that named no known account.
    pub staff_id: Option<String>,
    /// The email used (known accounts only: an unknown one is not written down).
    pub staff_email: Option<String>,
    /// `sign_in`, `credit_note`, `void`, …
    pub action: String,
    /// `in_…`, when the action names one.
    pub invoice: Option<String>,
    /// `done`, or why it was refused.
    pub outcome: String,
    /// Fixed words and numbers.
    pub detail: String,
    /// The client address.
    pub client: String,
}

/// Appends `e` (with the form's one-time key, for confirmed actions).
pub fn append(conn: &Connection, e: &Entry, action_key: Option<&str>) -> Result<(), ApiError> {
    let detail: String = e.detail.chars().take(MAX_DETAIL).collect();
    conn.prepare_cached(
        "INSERT INTO console_audit (at, staff_id, staff_email, action, invoice, outcome, detail, client, action_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        e.at,
        e.staff_id,
        e.staff_email,
        e.action,
        e.invoice,
        e.outcome,
        detail,
        e.client,
        action_key
    ])?;
    Ok(())
}

/// The outcome already recorded for a form's one-time key, if it was submitted before.
pub fn outcome_of_key(conn: &Connection, action_key: &str) -> Result<Option<String>, ApiError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT outcome FROM console_audit WHERE action_key = ?1")?
        .query_row([action_key], |r| r.get(0))
        .optional()?)
}

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        at: r.get(0)?,
        staff_id: r.get(1)?,
        staff_email: r.get(2)?,
        action: r.get(3)?,
        invoice: r.get(4)?,
        outcome: r.get(5)?,
        detail: r.get(6)?,
        client: r.get(7)?,
    })
}

/// The invoice's entries, newest first, at most `limit`.
pub fn of_invoice(conn: &Connection, invoice: &str, limit: u32) -> Result<Vec<Entry>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, staff_id, staff_email, action, invoice, outcome, detail, client
         FROM console_audit WHERE invoice = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![invoice, limit], read)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The newest entries of the whole trail, at most `limit` (the admin's page).
pub fn latest(conn: &Connection, limit: u32) -> Result<Vec<Entry>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, staff_id, staff_email, action, invoice, outcome, detail, client
         FROM console_audit ORDER BY seq DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], read)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
