//! An invoice's history, oldest first, gathered from the tables that already record it: the
//! platform's (created, reminders sent, fresh links, links the app reported) and the PSP's
//! (card attempts and their outcome, money applied, transfers to the insurer, refunds, credit
//! notes, the status changes). Nothing is recorded twice for the console.
//!
//! The PSP's side comes from the PSP's own read functions (`psp::invoice_history`), never its
//! tables, so its schema stays its own.

use rusqlite::Connection;

use crate::http::ApiError;
use crate::psp::{self, invoice_history::Money};

/// Most events a view shows (the newest are kept when there are more).
pub const MAX_EVENTS: usize = 500;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The invoice was opened (`premium` or `visit`).
    Created(String),
    /// A reminder step ran: its channel (`push`, `email`, `sms`, `notice`) and outcome (`sent`,
    /// `no_recipient`, `skipped`).
    Reminder(String, String),
    /// A fresh link went out on a channel (the hosted page or the console).
    LinkSent(String),
    /// The app refused a link for this invoice and reported it (the reason).
    LinkReported(String),
    /// What the PSP recorded about the money: attempts, payments, transfers, refunds, credit
    /// notes and the status changes.
    Money(Money),
}

impl Kind {
    /// A stable word for tests and the page's data attributes.
    pub fn code(&self) -> &'static str {
        match self {
            Kind::Created(_) => "created",
            Kind::Reminder(..) => "reminder",
            Kind::LinkSent(_) => "link_sent",
            Kind::LinkReported(_) => "link_reported",
            Kind::Money(money) => money.code(),
        }
    }
}

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Unix seconds.
    pub at: i64,
    /// What.
    pub kind: Kind,
    /// Minor units, when money moved.
    pub amount: Option<i64>,
}

fn push_rows<P: rusqlite::Params>(
    conn: &Connection,
    out: &mut Vec<Event>,
    sql: &str,
    p: P,
    make: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Event>,
) -> Result<(), ApiError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(p, make)?;
    for r in rows {
        out.push(r?);
        if out.len() > 4 * MAX_EVENTS {
            // Bounded work on a pathological invoice; the sort below keeps the newest.
            break;
        }
    }
    Ok(())
}

/// The history of `invoice` (a platform invoice), oldest first, at most [`MAX_EVENTS`].
pub fn of_invoice(conn: &Connection, invoice: &str) -> Result<Vec<Event>, ApiError> {
    let mut out = Vec::new();
    push_rows(
        conn,
        &mut out,
        "SELECT created, source FROM platform_invoices WHERE invoice_id = ?1",
        [invoice],
        |r| {
            Ok(Event {
                at: r.get(0)?,
                kind: Kind::Created(r.get(1)?),
                amount: None,
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        "SELECT sent_at, step, outcome FROM platform_reminder_sends WHERE invoice_id = ?1",
        [invoice],
        |r| {
            let step: String = r.get(1)?;
            let channel = step.split_once(':').map_or(step.as_str(), |(_, c)| c);
            Ok(Event {
                at: r.get(0)?,
                kind: Kind::Reminder(channel.to_owned(), r.get(2)?),
                amount: None,
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        "SELECT created, channel FROM platform_link_resends WHERE invoice_id = ?1",
        [invoice],
        |r| {
            Ok(Event {
                at: r.get(0)?,
                kind: Kind::LinkSent(r.get(1)?),
                amount: None,
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        "SELECT l.seen_at, l.reason FROM platform_link_reports l
         JOIN platform_invoices p ON p.seq = l.invoice_number AND p.member_ref = l.member_ref
         WHERE p.invoice_id = ?1",
        [invoice],
        |r| {
            Ok(Event {
                at: r.get(0)?,
                kind: Kind::LinkReported(r.get(1)?),
                amount: None,
            })
        },
    )?;
    for e in psp::invoice_history::of_invoice(conn, invoice, 4 * MAX_EVENTS)? {
        out.push(Event {
            at: e.at,
            kind: Kind::Money(e.money),
            amount: e.amount,
        });
    }
    // Stable: events of one second keep the order the queries gave (created first).
    out.sort_by_key(|e| e.at);
    if out.len() > MAX_EVENTS {
        out.drain(..out.len() - MAX_EVENTS);
    }
    Ok(out)
}

/// A fingerprint of what the invoice view shows, cheap to compute: the event stream compares it
/// every second and tells the page to refresh when it changes.
pub fn version(conn: &Connection, invoice: &str) -> Result<String, ApiError> {
    let money = psp::invoice_history::version(conn, invoice)?;
    let ours: String = conn
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM platform_reminder_sends WHERE invoice_id = ?1)
                    || ':' || (SELECT COUNT(*) FROM platform_link_resends WHERE invoice_id = ?1)
                    || ':' || (SELECT COUNT(*) FROM console_audit WHERE invoice = ?1)
                    || ':' || (SELECT COUNT(*) FROM invoice_messages WHERE invoice_id = ?1)",
        )?
        .query_row([invoice], |r| r.get(0))?;
    Ok(format!("{money}:{ours}"))
}
