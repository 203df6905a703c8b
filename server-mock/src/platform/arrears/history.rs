//! What happened to an invoice, for the member's channel history ([`MemberInvoiceExtra`]):
//! issued, reminders sent, links opened, payment attempts and payments, credit notes, void.
//! Read from the tables that record each (reminders, link opens, attempts, the PSP's payments
//! and credit notes), oldest first, the newest [`MAX_HISTORY`] kept.

use rusqlite::{Connection, OptionalExtension};
use tierspay_core::wire::{
    InvoiceHistoryEntry, InvoiceHistoryKind, MemberInvoiceExtra, PaidVia, MAX_HISTORY,
};

use super::attempts;
use crate::http::ApiError;

fn entry(
    kind: InvoiceHistoryKind,
    channel: Option<String>,
    via: Option<PaidVia>,
    amount: Option<i64>,
    at: i64,
) -> InvoiceHistoryEntry {
    InvoiceHistoryEntry {
        kind,
        channel,
        via,
        amount,
        at,
    }
}

/// The channel of a reminder step (`d3-push`, `d30-notice`: the notice is an email).
fn step_channel(step: &str) -> String {
    match step.rsplit('-').next() {
        Some("notice") | None => "email".into(),
        Some(c) => c.into(),
    }
}

/// The channel a link attempt names in history: the link's own, `app` for the app's.
fn attempt_channel(channel: &str) -> Option<String> {
    match channel {
        "hosted_invoice" => None,
        "app_link" => Some("app".into()),
        c => Some(c.into()),
    }
}

/// The extra fields of an invoice: how it was paid, its history, its last change.
pub fn extra(
    conn: &Connection,
    invoice_id: &str,
    created: i64,
    paid: bool,
    amount_paid: i64,
) -> Result<MemberInvoiceExtra, ApiError> {
    let voided_at: Option<i64> = conn
        .prepare_cached("SELECT voided_at FROM psp_invoices WHERE id = ?1")?
        .query_row([invoice_id], |r| r.get(0))
        .optional()?
        .flatten();
    let mut h = vec![entry(
        InvoiceHistoryKind::Created,
        None,
        None,
        None,
        created,
    )];
    let mut stmt = conn.prepare_cached(
        "SELECT step, sent_at FROM platform_reminder_sends WHERE invoice_id = ?1 AND outcome = 'sent'",
    )?;
    for r in stmt.query_map([invoice_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (step, at) = r?;
        h.push(entry(
            InvoiceHistoryKind::ReminderSent,
            Some(step_channel(&step)),
            None,
            None,
            at,
        ));
    }
    let mut stmt =
        conn.prepare_cached("SELECT channel, at FROM platform_link_opens WHERE invoice_id = ?1")?;
    for r in stmt.query_map([invoice_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (channel, at) = r?;
        h.push(entry(
            InvoiceHistoryKind::LinkOpened,
            Some(channel),
            None,
            None,
            at,
        ));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT channel, status, amount, updated FROM platform_invoice_attempts
         WHERE invoice_id = ?1 AND status IN ('succeeded', 'failed')",
    )?;
    for r in stmt.query_map([invoice_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })? {
        let (channel, status, amount, at) = r?;
        let kind = if status == "succeeded" {
            InvoiceHistoryKind::PaymentSucceeded
        } else {
            InvoiceHistoryKind::PaymentFailed
        };
        h.push(entry(
            kind,
            attempt_channel(&channel),
            Some(attempts::via_of_channel(Some(&channel))),
            Some(amount),
            at,
        ));
    }
    // Money no attempt carried: transfers, out of band, the PSP's hosted page without one.
    let mut stmt = conn.prepare_cached(
        "SELECT p.source_kind, p.applied, p.created FROM psp_invoice_payments p
         WHERE p.invoice = ?1 AND p.applied > 0 AND NOT EXISTS (
             SELECT 1 FROM platform_invoice_attempts a
             WHERE a.payment_intent = p.source_id AND a.status = 'succeeded')",
    )?;
    for r in stmt.query_map([invoice_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (kind, amount, at) = r?;
        let via = match kind.as_str() {
            "bank_transfer" => PaidVia::BankTransfer,
            "out_of_band" => PaidVia::OutOfBand,
            _ => PaidVia::HostedInvoice,
        };
        h.push(entry(
            InvoiceHistoryKind::PaymentSucceeded,
            None,
            Some(via),
            Some(amount),
            at,
        ));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT amount, created FROM psp_credit_notes WHERE invoice = ?1 AND status = 'issued'",
    )?;
    for r in stmt.query_map([invoice_id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (amount, at) = r?;
        h.push(entry(
            InvoiceHistoryKind::Credited,
            None,
            None,
            Some(amount),
            at,
        ));
    }
    if let Some(at) = voided_at {
        h.push(entry(InvoiceHistoryKind::Voided, None, None, None, at));
    }
    // Stable: same-second lines keep the order above (issued before anything else).
    h.sort_by_key(|e| e.at);
    let updated = h.iter().map(|e| e.at).max().unwrap_or(created);
    if h.len() > MAX_HISTORY {
        h.drain(..h.len() - MAX_HISTORY);
    }
    Ok(MemberInvoiceExtra {
        paid_via: if paid {
            Some(attempts::paid_via(conn, invoice_id, amount_paid)?)
        } else {
            None
        },
        history: h,
        updated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_names_its_channel() {
        assert_eq!(step_channel("d3-push"), "push");
        assert_eq!(step_channel("d10-sms"), "sms");
        assert_eq!(step_channel("d30-notice"), "email");
        assert_eq!(attempt_channel("app_link").as_deref(), Some("app"));
        assert_eq!(attempt_channel("hosted_invoice"), None);
    }
}
