//! Payment attempts of every channel (table `platform_invoice_attempts`, `pay_once.rs`). One
//! attempt per invoice may be active (`pending`: a payer has a way to pay open, the app's charge
//! or a card form; `processing`: a card was given and the PSP waits for 3-D Secure); the schema
//! refuses a second. Status moves only by compare-and-set on the status read.
//!
//! The PSP's card form and hosted invoice page move their intent without the platform, so
//! before any decision [`reconcile`] brings the invoice's active attempt in line with the
//! invoice's one live PaymentIntent: succeeded, canceled, or waiting for 3-D Secure; a live
//! intent in 3-D Secure that no attempt tracks (the PSP's own hosted invoice page) is adopted
//! as a `hosted_invoice` attempt, so the app cannot start a second payment under it.
//!
//! Nothing here reads a clock to release an attempt: an attempt ends when its intent does,
//! never because time passed, so a clock jump cannot unlock a second one.

use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::random;
use tierspay_core::wire::PaidVia;

use crate::http::ApiError;
use crate::platform::payments;

/// An attempt's status, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A way to pay is open (the app's charge running, a card form shown).
    Pending,
    /// A card was given; the PSP waits for 3-D Secure.
    Processing,
    /// Taken.
    Succeeded,
    /// Refused; nothing taken.
    Failed,
    /// Ended without money (voided invoice, superseded form).
    Canceled,
    /// Nothing taken: the invoice was already paid.
    AlreadyPaid,
}

impl Status {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::AlreadyPaid => "already_paid",
        }
    }
}

/// An active attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// `mip_…`
    pub id: String,
    /// `app`, `email`, `sms`, `push`, `app_link`, `hosted_invoice`.
    pub channel: String,
    /// Its intent at the PSP, once known.
    pub payment_intent: Option<String>,
    /// `pending` or `processing`.
    pub status: Status,
}

/// A new attempt.
#[derive(Debug, Clone)]
pub struct NewAttempt<'a> {
    /// `in_…`
    pub invoice_id: &'a str,
    /// `mbr_…`
    pub member_ref: &'a str,
    /// Where it comes from.
    pub channel: &'a str,
    /// Its intent, if known.
    pub payment_intent: Option<&'a str>,
    /// Minor units.
    pub amount: i64,
    /// Lower-case ISO 4217.
    pub currency: &'a str,
}

/// Why an attempt could not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Busy {
    /// Another attempt is active (the schema refused this one).
    InProgress,
}

/// The invoice's active attempt, if any.
pub fn active(conn: &Connection, invoice_id: &str) -> Result<Option<Active>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, channel, payment_intent, status FROM platform_invoice_attempts
             WHERE invoice_id = ?1 AND status IN ('pending', 'processing')",
        )?
        .query_row([invoice_id], |r| {
            let status: String = r.get(3)?;
            Ok(Active {
                id: r.get(0)?,
                channel: r.get(1)?,
                payment_intent: r.get(2)?,
                status: if status == "processing" {
                    Status::Processing
                } else {
                    Status::Pending
                },
            })
        })
        .optional()?)
}

/// Moves attempt `id` from `from` to `to` if it is still in `from`; whether it moved.
pub fn move_status(
    tx: &Connection,
    id: &str,
    from: Status,
    to: Status,
    failure_code: Option<&str>,
    now: i64,
) -> Result<bool, ApiError> {
    let n = tx
        .prepare_cached(
            "UPDATE platform_invoice_attempts SET status = ?3, failure_code = COALESCE(?4, failure_code),
                    updated = ?5
             WHERE id = ?1 AND status = ?2",
        )?
        .execute(params![id, from.as_str(), to.as_str(), failure_code, now])?;
    Ok(n == 1)
}

/// Records an attempt in `status`; [`Busy::InProgress`] if `status` is active and another
/// active attempt exists (the partial unique index refused it).
pub fn insert(
    tx: &Connection,
    a: &NewAttempt<'_>,
    status: Status,
    failure_code: Option<&str>,
    now: i64,
) -> Result<Result<String, Busy>, ApiError> {
    let id = random::id("mip");
    let done = tx
        .prepare_cached(
            "INSERT INTO platform_invoice_attempts
                 (id, invoice_id, member_ref, channel, payment_intent, status, amount, currency,
                  failure_code, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        )?
        .execute(params![
            id,
            a.invoice_id,
            a.member_ref,
            a.channel,
            a.payment_intent,
            status.as_str(),
            a.amount,
            a.currency,
            failure_code,
            now
        ]);
    match done {
        Ok(_) => Ok(Ok(id)),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(Err(Busy::InProgress))
        }
        Err(e) => Err(e.into()),
    }
}

/// Sets the intent of an attempt that had none yet.
pub fn set_intent(tx: &Connection, id: &str, payment_intent: &str) -> Result<(), ApiError> {
    tx.prepare_cached(
        "UPDATE platform_invoice_attempts SET payment_intent = ?2 WHERE id = ?1 AND payment_intent IS NULL",
    )?
    .execute(params![id, payment_intent])?;
    Ok(())
}

/// Brings the invoice's active attempt in line with its live PaymentIntent (see the module's
/// documentation); the active attempt after it.
pub fn reconcile(
    tx: &Connection,
    invoice_id: &str,
    member_ref: &str,
    currency: &str,
    now: i64,
) -> Result<Option<Active>, ApiError> {
    let live = payments::invoice_live_intent(tx, invoice_id)?;
    let current = active(tx, invoice_id)?;
    let Some(a) = current else {
        // A 3-D Secure under way that no attempt tracks: the PSP's own hosted invoice page.
        if let Some(pi) = live.filter(|pi| in_authentication(&pi.status)) {
            let new = NewAttempt {
                invoice_id,
                member_ref,
                channel: "hosted_invoice",
                payment_intent: Some(&pi.id),
                amount: pi.amount,
                currency,
            };
            // A concurrent adoption lost to the index changes nothing.
            let _ = insert(tx, &new, Status::Processing, None, now)?;
        }
        return active(tx, invoice_id);
    };
    let intent_status = match (&a.payment_intent, &live) {
        (Some(mine), Some(pi)) if *mine == pi.id => Some(pi.status.as_str()),
        // Its intent is no longer the live one: canceled or replaced.
        (Some(_), _) => Some("canceled"),
        (None, _) => None,
    };
    let next = match intent_status {
        Some("succeeded") => Some((Status::Succeeded, None)),
        Some("canceled") => Some((Status::Canceled, None)),
        Some(s) if in_authentication(s) => {
            (a.status == Status::Pending).then_some((Status::Processing, None))
        }
        // Back to the form after a refused 3-D Secure: the form is open again.
        Some(_) => (a.status == Status::Processing).then_some((Status::Pending, None)),
        None => None,
    };
    if let Some((to, code)) = next {
        move_status(tx, &a.id, a.status, to, code, now)?;
    }
    active(tx, invoice_id)
}

fn in_authentication(status: &str) -> bool {
    matches!(status, "requires_action" | "processing")
}

/// How the invoice's money came, once paid: the last payment applied at the PSP and, for a
/// card, the attempt that carried its intent.
pub fn paid_via(
    conn: &Connection,
    invoice_id: &str,
    amount_paid: i64,
) -> Result<PaidVia, ApiError> {
    let last: Option<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT source_kind, source_id FROM psp_invoice_payments
             WHERE invoice = ?1 AND applied > 0 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([invoice_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kind, source)) = last.filter(|_| amount_paid > 0) else {
        return Ok(PaidVia::CreditNote);
    };
    Ok(match kind.as_str() {
        "bank_transfer" => PaidVia::BankTransfer,
        "out_of_band" => PaidVia::OutOfBand,
        _ => {
            let channel: Option<String> = conn
                .prepare_cached(
                    "SELECT channel FROM platform_invoice_attempts
                     WHERE payment_intent = ?1 ORDER BY (status = 'succeeded') DESC, seq DESC LIMIT 1",
                )?
                .query_row([source.unwrap_or_default()], |r| r.get(0))
                .optional()?;
            via_of_channel(channel.as_deref())
        }
    })
}

/// The [`PaidVia`] of an attempt's channel.
pub fn via_of_channel(channel: Option<&str>) -> PaidVia {
    match channel {
        Some("app") => PaidVia::App,
        Some("email") => PaidVia::EmailLink,
        Some("sms") => PaidVia::SmsLink,
        Some("push") | Some("app_link") => PaidVia::PushLink,
        _ => PaidVia::HostedInvoice,
    }
}
