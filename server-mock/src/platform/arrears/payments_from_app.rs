//! `POST /v1/me/invoices/{id}/payments`: the member pays an invoice from the app with the
//! saved card (issue 10's default payment method), off-session, through the PSP invoice's own
//! pay path. An `Idempotency-Key` is required: the idempotency layer holds the connection, so
//! the attempt, the charge and the stored answer commit together and a retry replays the
//! answer, never the charge (ADR 0005).
//!
//! In that one transaction: the invoice's active attempt is reconciled with its PaymentIntent
//! (`attempts::reconcile`); a paid invoice answers `already_paid` and a void one `canceled`,
//! nothing charged; otherwise an attempt is inserted `pending` (the partial unique index
//! refuses it while another channel's 3-D Secure is under way: 409 `payment_in_progress`), moved
//! to `processing` and then to `succeeded` or `failed` by compare-and-set around the charge. A
//! card form of a link that is open but has no card yet does not block the app: its attempt is
//! superseded, and the form, which pays the same one live intent, then finds it paid.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use tierspay_core::wire::{
    MemberInvoicePayment, MemberInvoicePaymentRequest, MemberInvoiceStatus, MemberPaymentStatus,
};

use super::attempts::{self, Busy, NewAttempt, Status};
use super::invoices::{member_invoice, record};
use crate::http::{ApiError, Caller};
use crate::platform::payments::{self, CardPayment};
use crate::state::AppState;

/// 409 `payment_in_progress`: another channel's payment of this invoice is under way.
pub fn in_progress() -> ApiError {
    let mut e = ApiError::invalid(
        "payment_in_progress",
        "A payment of this invoice is in progress on another channel; nothing was charged. Look at the invoice again in a moment.",
    );
    e.status = StatusCode::CONFLICT;
    // Not stored with the key: once the other payment ends, the same key may pay.
    e.not_executed()
}

fn not_theirs() -> ApiError {
    let mut e = ApiError::not_found("invoice");
    e.detail.param = Some("id".into());
    e.not_executed()
}

/// The body, as JSON or as a form (`amount=…&currency=…`).
fn read_body(headers: &HeaderMap, body: &Bytes) -> Result<MemberInvoicePaymentRequest, ApiError> {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Strict {
            amount: i64,
            currency: String,
        }
        let s: Strict = serde_json::from_slice(body).map_err(|e| {
            let text = e.to_string();
            let param = if text.contains("currency") {
                "currency"
            } else {
                "amount"
            };
            ApiError::invalid_param(
                param,
                format!("The body must be JSON {{\"amount\", \"currency\"}}: {text}"),
            )
        })?;
        return Ok(MemberInvoicePaymentRequest {
            amount: s.amount,
            currency: s.currency,
        });
    }
    let (mut amount, mut currency) = (None, None);
    for (k, v) in form_urlencoded::parse(body) {
        let slot = match k.as_ref() {
            "amount" => &mut amount,
            "currency" => &mut currency,
            other => {
                let name: String = other.chars().take(40).collect();
                return Err(ApiError::invalid_param(
                    &name,
                    format!("Received unknown parameter: {name}"),
                ));
            }
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(ApiError::invalid_param(&k, format!("{k} is given twice.")));
        }
    }
    let amount = amount
        .ok_or_else(|| ApiError::invalid_param("amount", "Missing required param: amount."))?;
    let amount = amount
        .parse::<i64>()
        .ok()
        .filter(|_| amount.len() <= 20)
        .ok_or_else(|| ApiError::invalid_param("amount", "amount must be whole minor units."))?;
    let currency = currency
        .ok_or_else(|| ApiError::invalid_param("currency", "Missing required param: currency."))?;
    Ok(MemberInvoicePaymentRequest { amount, currency })
}

/// The member's saved card ready for off-session use (`pm_…`).
fn saved_card(conn: &Connection, member_ref: &str) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT payment_method FROM platform_payment_methods WHERE member_ref = ?1 AND status = 'active'",
        )?
        .query_row([member_ref], |r| r.get(0))
        .optional()?)
}

/// `POST /v1/me/invoices/{id}/payments`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<MemberInvoicePayment>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    if !headers.contains_key("idempotency-key") {
        let mut e = ApiError::invalid_param(
            "Idempotency-Key",
            "A payment needs an Idempotency-Key header, written before it is sent and the same on every retry.",
        );
        e.detail.code = "idempotency_key_missing".into();
        return Err(e.not_executed());
    }
    if id.len() > 64 || !id.starts_with("in_") {
        return Err(not_theirs());
    }
    let req = read_body(&headers, &body).map_err(ApiError::not_executed)?;
    let now = state.clock.now();
    let key = crate::psp::api::fingerprint_key(&state.vault);
    let answer = state
        .db
        .transaction(move |tx| pay(tx, &key, &member_ref, &id, &req, now))
        .await?;
    Ok(Json(answer))
}

/// The payment itself, in the request's transaction (see the module's documentation).
pub fn pay(
    tx: &Connection,
    fingerprint_key: &[u8; 32],
    member_ref: &str,
    invoice_id: &str,
    req: &MemberInvoicePaymentRequest,
    now: i64,
) -> Result<MemberInvoicePayment, ApiError> {
    let p = record(tx, invoice_id)?
        .filter(|p| p.member_ref == member_ref)
        .ok_or_else(not_theirs)?;
    let before = member_invoice(tx, &p)?;
    let currency = req.currency.to_ascii_lowercase();
    let active = attempts::reconcile(tx, invoice_id, member_ref, &before.currency, now)?;
    let new = NewAttempt {
        invoice_id,
        member_ref,
        channel: "app",
        payment_intent: None,
        amount: req.amount,
        currency: &currency,
    };
    // Paid or void already: nothing is charged, and the answer says why.
    let settled = match before.status {
        MemberInvoiceStatus::Paid => Some((Status::AlreadyPaid, MemberPaymentStatus::AlreadyPaid)),
        MemberInvoiceStatus::Void => Some((Status::Canceled, MemberPaymentStatus::Canceled)),
        _ => None,
    };
    if let Some((stored, status)) = settled {
        let id = match attempts::insert(tx, &new, stored, None, now)? {
            Ok(id) => id,
            Err(Busy::InProgress) => unreachable_busy()?,
        };
        return answer(tx, &p, id, status, req.amount, currency, None, now);
    }
    if currency != before.currency {
        return Err(ApiError::invalid_param(
            "currency",
            format!("currency must be the invoice's ({}).", before.currency),
        ));
    }
    if req.amount <= 0 || req.amount > before.amount_remaining {
        return Err(ApiError::invalid_param(
            "amount",
            format!(
                "amount must be 1 to the invoice's amount_remaining ({}).",
                before.amount_remaining
            ),
        ));
    }
    if req.amount != before.amount_remaining {
        // The PSP keeps one live intent per invoice, and a succeeded one stays live: a part
        // payment by card would leave the rest unpayable by card.
        return Err(ApiError::invalid_param(
            "amount",
            format!(
                "A card payment pays what remains ({}); pay by transfer to pay part of it.",
                before.amount_remaining
            ),
        ));
    }
    let Some(pm) = saved_card(tx, member_ref)? else {
        return Err(ApiError::invalid_param(
            "payment_method",
            "No saved card is ready to pay: add one in the app first.",
        )
        .not_executed());
    };
    if let Some(a) = active {
        if a.status == Status::Processing {
            return Err(in_progress());
        }
        // A form open with no card given: it pays the same live intent as the app would, so
        // superseding it cannot charge twice.
        attempts::move_status(tx, &a.id, Status::Pending, Status::Canceled, None, now)?;
    }
    let id = match attempts::insert(tx, &new, Status::Pending, None, now)? {
        Ok(id) => id,
        Err(Busy::InProgress) => return Err(in_progress()),
    };
    if !attempts::move_status(tx, &id, Status::Pending, Status::Processing, None, now)? {
        return Err(in_progress());
    }
    let outcome = payments::pay_invoice_off_session(tx, fingerprint_key, invoice_id, &pm, now)?;
    if let Some(pi) = payments::invoice_live_intent(tx, invoice_id)? {
        attempts::set_intent(tx, &id, &pi.id)?;
    }
    let (to, status, code) = match outcome {
        CardPayment::Succeeded => (Status::Succeeded, MemberPaymentStatus::Succeeded, None),
        CardPayment::Declined(code) => (Status::Failed, MemberPaymentStatus::Failed, Some(code)),
    };
    if !attempts::move_status(tx, &id, Status::Processing, to, code.as_deref(), now)? {
        return Err(ApiError::internal(
            "payment attempt moved under its own charge",
        ));
    }
    answer(tx, &p, id, status, req.amount, currency, code, now)
}

fn unreachable_busy() -> Result<String, ApiError> {
    // A settled attempt is never active, so the index cannot refuse it.
    Err(ApiError::internal("settled attempt refused as active"))
}

#[allow(clippy::too_many_arguments)]
fn answer(
    tx: &Connection,
    p: &super::invoices::PlatformInvoice,
    id: String,
    status: MemberPaymentStatus,
    amount: i64,
    currency: String,
    failure_code: Option<String>,
    now: i64,
) -> Result<MemberInvoicePayment, ApiError> {
    Ok(MemberInvoicePayment {
        object: "member_invoice_payment".into(),
        id,
        invoice_id: p.invoice_id.clone(),
        status,
        amount,
        currency,
        failure_code,
        created: now,
        invoice: member_invoice(tx, p)?,
    })
}
