//! `/pay`: out of band (recorded through [`super::payments`]) or by card through the
//! invoice's one live PaymentIntent ([`payment_intent_for`], also used by the hosted payment
//! page), whose success applies the money.

use rusqlite::{params, Connection};
use serde_json::json;

use crate::http::ApiError;
use crate::psp::events::emit;
use crate::psp::invoice_rules::{self as rules, PayMode};
use crate::psp::model::{refuse, Ctx};

use super::object::invoice_json;
use super::payments::{apply, PaymentSource};
use super::refused;
use super::store::{active_intent, row, Row};

/// How `/pay` pays.
#[derive(Debug, Clone)]
pub enum PayWith {
    /// `paid_out_of_band=true`: recorded, no money through the PSP. `amount` (a mock
    /// extension) records a part payment; at most `amount_remaining`, all of it by default.
    OutOfBand {
        /// Minor units.
        amount: Option<i64>,
    },
    /// A card: this payment method, else the customer's default one.
    Card {
        /// `pm_…` (or a test token).
        payment_method: Option<String>,
        /// The customer is not there (Stripe's default for `/pay`).
        off_session: bool,
    },
}

/// What `/pay` ended in.
#[derive(Debug)]
pub enum PayOutcome {
    /// The invoice took the payment (paid, or partly paid out of band).
    Done,
    /// The card asks for 3D Secure: Stripe's 402 `invoice_payment_intent_requires_action`.
    RequiresAction(String),
    /// The card was declined: Stripe's 402 card error (the intent's state is committed).
    Declined(crate::psp::payment_intents::CardDeclined),
}

/// Pays an invoice out of band or by card (through a PaymentIntent that carries `invoice`; its
/// success applies the payment).
pub fn pay_invoice(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    id: &str,
    with: PayWith,
) -> Result<PayOutcome, ApiError> {
    let r = row(tx, id, "id")?;
    match with {
        PayWith::OutOfBand { amount } => {
            let amount = amount.unwrap_or(r.amounts.remaining());
            apply(
                tx,
                ctx,
                id,
                amount,
                PaymentSource::OutOfBand,
                PayMode::Exact,
            )?;
            Ok(PayOutcome::Done)
        }
        PayWith::Card {
            payment_method,
            off_session,
        } => pay_by_card(tx, ctx, fingerprint_key, &r, payment_method, off_session),
    }
}

fn pay_by_card(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    r: &Row,
    payment_method: Option<String>,
    off_session: bool,
) -> Result<PayOutcome, ApiError> {
    use crate::psp::payment_intents::{self as pis, Confirm, Confirmed};
    let remaining = r.amounts.remaining();
    rules::pay(r.status, r.amounts, remaining.max(1), PayMode::Exact)
        .map_err(|e| refused(e, None))?;
    let pm = match payment_method {
        Some(pm) => pm,
        None => crate::psp::customers::customer_json(tx, &r.customer)?["invoice_settings"]
            ["default_payment_method"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                refuse(
                    "invoice_no_payment_method",
                    Some("payment_method"),
                    "This invoice cannot be paid: pass payment_method, or set the customer's invoice_settings[default_payment_method].",
                )
            })?,
    };
    let intent = payment_intent_for(tx, ctx, fingerprint_key, r)?;
    let confirmed = pis::confirm_payment_intent(
        tx,
        ctx,
        fingerprint_key,
        &intent,
        Confirm {
            payment_method: Some(pm),
            off_session: Some(off_session),
            return_url: None,
        },
    )?;
    match confirmed {
        Confirmed::Declined(_, e) => {
            emit(
                tx,
                ctx,
                "invoice.payment_failed",
                &invoice_json(tx, &r.id)?,
                None,
            )?;
            Ok(PayOutcome::Declined(e))
        }
        Confirmed::Ok(v) if v.status == "requires_action" => {
            emit(
                tx,
                ctx,
                "invoice.payment_action_required",
                &invoice_json(tx, &r.id)?,
                None,
            )?;
            Ok(PayOutcome::RequiresAction(v.id))
        }
        Confirmed::Ok(_) => Ok(PayOutcome::Done),
    }
}

/// The invoice's one live PaymentIntent for what remains: the existing one if it still
/// waits for a card and asks that amount, else a new one (a stale one is canceled first). For
/// `/pay` and for any page that takes a card for the invoice.
pub(crate) fn payment_intent_for(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    r: &Row,
) -> Result<String, ApiError> {
    use crate::psp::payment_intents as pis;
    let remaining = r.amounts.remaining();
    if let Some(pi) = active_intent(tx, &r.id)? {
        let v = pis::view(tx, &pi)?;
        let waiting = matches!(
            v.status.as_str(),
            "requires_payment_method" | "requires_confirmation" | "requires_action"
        );
        if waiting && v.amount == remaining {
            return Ok(pi);
        }
        if !waiting {
            return Err(refuse(
                "invoice_payment_in_progress",
                None,
                format!(
                    "This invoice already has a payment in progress ({pi}, status {}).",
                    v.status
                ),
            ));
        }
        pis::cancel_payment_intent(tx, ctx, &pi, Some("abandoned"))?;
    }
    pis::check_charge_amount(remaining, "amount_remaining")?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("invoice".into(), json!(r.id));
    let created = pis::create_payment_intent(
        tx,
        ctx,
        fingerprint_key,
        pis::NewPaymentIntent {
            amount: remaining,
            currency: r.currency.clone(),
            customer: Some(r.customer.clone()),
            description: Some(format!(
                "Payment for Invoice {}",
                r.number.as_deref().unwrap_or(&r.id)
            )),
            metadata,
            ..Default::default()
        },
    )?;
    let pi = created.view().id.clone();
    // The partial unique index refuses a second live attempt for the invoice.
    tx.execute(
        "UPDATE psp_payment_intents SET invoice = ?2 WHERE id = ?1",
        params![pi, r.id],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            refuse(
                "invoice_payment_in_progress",
                None,
                "This invoice already has a payment in progress.",
            )
        }
        other => other.into(),
    })?;
    Ok(pi)
}

/// The invoice's live (not canceled) PaymentIntent, as a payer's channel sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveIntent {
    /// `pi_…`
    pub id: String,
    /// Stripe's status (`requires_payment_method`, `requires_action`, `processing`,
    /// `succeeded`…).
    pub status: String,
    /// Minor units asked.
    pub amount: i64,
}

/// The invoice's one live PaymentIntent, if any: what a platform checks before it lets a
/// second channel start paying (a 3-D Secure page still open means a payment is under way).
pub fn live_intent(conn: &Connection, invoice: &str) -> Result<Option<LiveIntent>, ApiError> {
    let Some(id) = active_intent(conn, invoice)? else {
        return Ok(None);
    };
    let v = crate::psp::payment_intents::view(conn, &id)?;
    Ok(Some(LiveIntent {
        id,
        status: v.status,
        amount: v.amount,
    }))
}
