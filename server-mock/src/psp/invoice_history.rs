//! What the PSP recorded about one invoice's money, for the platform's support console: card
//! attempts and their outcome, money applied, transfers to the insurer, refunds, credit notes
//! and the status changes; what an overpayment refund could still give back; and a fingerprint
//! that changes when any of it does. The console reads the PSP through these functions, not
//! its tables, so the PSP's schema stays the PSP's own. Read-only, in the caller's connection:
//! one query per kind keeps a 200-event view fast (docs/console.md).

use rusqlite::{params, Connection, OptionalExtension};

use crate::http::ApiError;

/// What happened to the money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Money {
    /// A card payment attempt: succeeded, or failed with its decline code.
    CardAttempt(Result<(), String>),
    /// Money applied to the invoice, by source (`payment_intent`, `bank_transfer`,
    /// `out_of_band`), with what was beyond the amount due.
    Payment {
        /// The source's kind.
        source: String,
        /// Beyond what was due.
        overpaid: i64,
    },
    /// Money passed on to the insurer's account (the invoice is the transfer group).
    Transfer,
    /// Money given back: its status.
    Refund(String),
    /// A credit note: its number.
    CreditNote(String),
    /// Marked uncollectible.
    Uncollectible,
    /// Voided.
    Voided,
    /// Paid in full.
    Paid,
}

impl Money {
    /// A stable word for tests and the console page's data attributes.
    pub fn code(&self) -> &'static str {
        match self {
            Money::CardAttempt(_) => "card_attempt",
            Money::Payment { .. } => "payment",
            Money::Transfer => "transfer",
            Money::Refund(_) => "refund",
            Money::CreditNote(_) => "credit_note",
            Money::Uncollectible => "uncollectible",
            Money::Voided => "voided",
            Money::Paid => "paid",
        }
    }
}

/// One money event of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoneyEvent {
    /// Unix seconds.
    pub at: i64,
    /// What.
    pub money: Money,
    /// Minor units, when money moved.
    pub amount: Option<i64>,
}

fn push_rows<P: rusqlite::Params>(
    conn: &Connection,
    out: &mut Vec<MoneyEvent>,
    limit: usize,
    sql: &str,
    p: P,
    make: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<MoneyEvent>,
) -> Result<(), ApiError> {
    let mut stmt = conn.prepare_cached(sql)?;
    for row in stmt.query_map(p, make)? {
        out.push(row?);
        if out.len() >= limit {
            // Bounded work on a pathological invoice.
            break;
        }
    }
    Ok(())
}

/// The money events of `invoice` (an `in_…`), by kind and unsorted, at most about `limit`.
pub fn of_invoice(
    conn: &Connection,
    invoice: &str,
    limit: usize,
) -> Result<Vec<MoneyEvent>, ApiError> {
    let mut out = Vec::new();
    push_rows(
        conn,
        &mut out,
        limit,
        "SELECT c.created, c.status, COALESCE(c.decline_code, c.failure_code, ''), c.amount
         FROM psp_charges c JOIN psp_payment_intents pi ON pi.id = c.payment_intent
         WHERE pi.invoice = ?1",
        [invoice],
        |r| {
            let status: String = r.get(1)?;
            Ok(MoneyEvent {
                at: r.get(0)?,
                money: Money::CardAttempt(if status == "succeeded" {
                    Ok(())
                } else {
                    Err(r.get(2)?)
                }),
                amount: Some(r.get(3)?),
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        limit,
        "SELECT created, source_kind, amount, overpaid FROM psp_invoice_payments WHERE invoice = ?1",
        [invoice],
        |r| {
            Ok(MoneyEvent {
                at: r.get(0)?,
                money: Money::Payment {
                    source: r.get(1)?,
                    overpaid: r.get(3)?,
                },
                amount: Some(r.get(2)?),
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        limit,
        "SELECT created, amount FROM psp_transfers WHERE transfer_group = ?1",
        [invoice],
        |r| {
            Ok(MoneyEvent {
                at: r.get(0)?,
                money: Money::Transfer,
                amount: Some(r.get(1)?),
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        limit,
        "SELECT r.created, r.status, r.amount FROM psp_refunds r
         WHERE r.charge IN (SELECT c.id FROM psp_charges c
                            JOIN psp_payment_intents pi ON pi.id = c.payment_intent
                            WHERE pi.invoice = ?1)
            OR r.bank_transfer IN (SELECT id FROM psp_bank_transfers WHERE invoice = ?1)",
        [invoice],
        |r| {
            Ok(MoneyEvent {
                at: r.get(0)?,
                money: Money::Refund(r.get(1)?),
                amount: Some(r.get(2)?),
            })
        },
    )?;
    push_rows(
        conn,
        &mut out,
        limit,
        "SELECT created, number, amount FROM psp_credit_notes WHERE invoice = ?1",
        [invoice],
        |r| {
            Ok(MoneyEvent {
                at: r.get(0)?,
                money: Money::CreditNote(r.get(1)?),
                amount: Some(r.get(2)?),
            })
        },
    )?;
    let times: Option<(Option<i64>, Option<i64>, Option<i64>)> = conn
        .prepare_cached(
            "SELECT marked_uncollectible_at, voided_at, paid_at FROM psp_invoices WHERE id = ?1",
        )?
        .query_row(params![invoice], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (uncollectible, voided, paid) = times.ok_or_else(|| ApiError::not_found("invoice"))?;
    for (at, money) in [
        (uncollectible, Money::Uncollectible),
        (voided, Money::Voided),
        (paid, Money::Paid),
    ] {
        if let Some(at) = at {
            out.push(MoneyEvent {
                at,
                money,
                amount: None,
            });
        }
    }
    Ok(out)
}

/// The credit notes issued on `invoice`, in minor units.
pub fn credited(conn: &Connection, invoice: &str) -> Result<i64, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(amount), 0) FROM psp_credit_notes
             WHERE invoice = ?1 AND status = 'issued'",
        )?
        .query_row([invoice], |r| r.get(0))?)
}

/// What an overpayment refund would give back now: received beyond what was due, less what
/// was already refunded as such (the automatic refunds say `duplicate`), and the card charge
/// it would go back to.
pub fn overpayment_left(
    conn: &Connection,
    invoice: &str,
) -> Result<(i64, Option<String>), ApiError> {
    let overpaid: i64 = conn
        .prepare_cached("SELECT amount_overpaid FROM psp_invoices WHERE id = ?1")?
        .query_row([invoice], |r| r.get(0))
        .optional()?
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    let refunded: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(r.amount), 0) FROM psp_refunds r
             WHERE r.reason = 'duplicate' AND r.status NOT IN ('failed', 'canceled')
               AND (r.charge IN (SELECT c.id FROM psp_charges c
                                 JOIN psp_payment_intents pi ON pi.id = c.payment_intent
                                 WHERE pi.invoice = ?1)
                    OR r.bank_transfer IN (SELECT id FROM psp_bank_transfers WHERE invoice = ?1))",
        )?
        .query_row([invoice], |r| r.get(0))?;
    let charge: Option<String> = conn
        .prepare_cached(
            "SELECT c.id FROM psp_charges c JOIN psp_payment_intents pi ON pi.id = c.payment_intent
             WHERE pi.invoice = ?1 AND c.status = 'succeeded' AND c.captured = 1
               AND c.amount_captured > c.amount_refunded
             ORDER BY c.seq DESC LIMIT 1",
        )?
        .query_row([invoice], |r| r.get(0))
        .optional()?;
    Ok(((overpaid - refunded).max(0), charge))
}

/// A fingerprint of the invoice's money as the PSP has it (status, amounts, payment intents,
/// credit notes), cheap to compute: it changes whenever what [`of_invoice`] shows does.
pub fn version(conn: &Connection, invoice: &str) -> Result<String, ApiError> {
    conn.prepare_cached(
        "SELECT i.status || ':' || i.amount_paid || ':' || i.pre_payment_credit
                || ':' || i.post_payment_credit || ':' || i.amount_overpaid
                || ':' || (SELECT COUNT(*) FROM psp_payment_intents WHERE invoice = ?1)
                || ':' || (SELECT COUNT(*) FROM psp_credit_notes WHERE invoice = ?1)
         FROM psp_invoices i WHERE i.id = ?1",
    )?
    .query_row([invoice], |r| r.get(0))
    .optional()?
    .ok_or_else(|| ApiError::not_found("invoice"))
}
