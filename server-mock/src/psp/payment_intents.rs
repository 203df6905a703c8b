//! PaymentIntents (`pi_…`): a payment from the member's saved card, as Stripe runs it. Confirmed
//! on the card network with Stripe's test-card outcomes (declines with their `decline_code`,
//! 3D Secure through the hosted challenge page unless the card was set up off-session), then
//! captured automatically or, with `capture_method=manual`, held (`requires_capture`,
//! `amount_capturable`) for 7 days of business time and captured for at most the amount held,
//! the rest released. A hold past its 7 days is canceled (`cancellation_reason=automatic`) the
//! next time anything reads or moves an intent. The money reaches the ledger only at capture.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use tierspay_core::auth::{random, sha256};

use super::balance::{self, MAX_AMOUNT};
use super::card_checks::{self, Decline, AUTHENTICATION_REQUIRED};
use super::challenges;
use super::charges::{self, charge_json, Attempt};
use super::customers::{customer_json, ensure_customer};
use super::events::{emit, emit_update};
use super::form::{invalid, Fields};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::payment_methods::{self, payment_method_json, PaymentMethodView, FINGERPRINT_PURPOSE};
use super::wire::{body_fields, query_fields, to_map, Psp, PspPublic};
use crate::http::ApiError;
use crate::state::AppState;

/// Stripe's smallest charge in eur (0.50).
pub const MIN_AMOUNT: i64 = 50;

/// A PaymentIntent to create.
#[derive(Debug, Clone, Default)]
pub struct NewPaymentIntent {
    /// Minor units, [`MIN_AMOUNT`] to [`MAX_AMOUNT`].
    pub amount: i64,
    /// `eur`.
    pub currency: String,
    /// `cus_…`
    pub customer: Option<String>,
    /// `pm_…` (or a test token).
    pub payment_method: Option<String>,
    /// `manual` holds the money until captured.
    pub manual_capture: bool,
    /// Confirm at once.
    pub confirm: bool,
    /// The customer is not there: no 3D Secure possible.
    pub off_session: bool,
    /// Ties charges and transfers of one visit.
    pub transfer_group: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: serde_json::Map<String, Value>,
    /// Where the challenge page sends the customer back.
    pub return_url: Option<String>,
}

/// What the platform reads of an intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentIntentView {
    /// `pi_…`
    pub id: String,
    /// Stripe's status.
    pub status: String,
    /// Minor units.
    pub amount: i64,
    /// Held and not captured yet.
    pub amount_capturable: i64,
    /// Captured.
    pub amount_received: i64,
    /// `ch_…` of the latest attempt.
    pub latest_charge: Option<String>,
    /// The last error's `code` (`card_declined`, `authentication_required`, …).
    pub last_error_code: Option<String>,
    /// The last error's `decline_code`.
    pub last_decline_code: Option<String>,
    /// The 3D Secure page to send the member to, in `requires_action`.
    pub redirect_url: Option<String>,
    /// Unix seconds: when a hold lapses.
    pub capture_before: Option<i64>,
}

/// A decline answered as Stripe does: 402 `card_error` whose error carries the intent (already
/// committed in its new state: the decline is an outcome, not a refusal).
#[derive(Debug, Clone)]
pub struct CardDeclined {
    /// The `error` object.
    pub error: Value,
}

impl IntoResponse for CardDeclined {
    fn into_response(self) -> Response {
        (
            StatusCode::PAYMENT_REQUIRED,
            Json(json!({ "error": self.error })),
        )
            .into_response()
    }
}

/// What a confirmation (or a completed challenge) ended in.
#[derive(Debug, Clone)]
pub enum Confirmed {
    /// The intent moved on (`succeeded`, `requires_capture`, `requires_action`).
    Ok(PaymentIntentView),
    /// Declined: the intent is back in `requires_payment_method` with `last_payment_error`.
    Declined(PaymentIntentView, CardDeclined),
}

impl Confirmed {
    /// The intent, declined or not.
    pub fn view(&self) -> &PaymentIntentView {
        match self {
            Self::Ok(v) | Self::Declined(v, _) => v,
        }
    }
}

struct Row {
    id: String,
    amount: i64,
    currency: String,
    customer: Option<String>,
    payment_method: Option<String>,
    manual: bool,
    status: String,
    amount_capturable: i64,
    off_session: bool,
    transfer_group: Option<String>,
    description: Option<String>,
    latest_charge: Option<String>,
    return_url: Option<String>,
    capture_before: Option<i64>,
}

fn row(conn: &Connection, id: &str, param: &str) -> Result<Row, ApiError> {
    conn.query_row(
        "SELECT id, amount, currency, customer, payment_method, capture_method, status, amount_capturable,
                off_session, transfer_group, description, latest_charge, return_url, capture_before
         FROM psp_payment_intents WHERE id = ?1",
        [id],
        |r| {
            Ok(Row {
                id: r.get(0)?,
                amount: r.get(1)?,
                currency: r.get(2)?,
                customer: r.get(3)?,
                payment_method: r.get(4)?,
                manual: r.get::<_, String>(5)? == "manual",
                status: r.get(6)?,
                amount_capturable: r.get(7)?,
                off_session: r.get(8)?,
                transfer_group: r.get(9)?,
                description: r.get(10)?,
                latest_charge: r.get(11)?,
                return_url: r.get(12)?,
                capture_before: r.get(13)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("payment_intent", param, id))
}

/// The intent's view for the platform.
pub fn view(conn: &Connection, id: &str) -> Result<PaymentIntentView, ApiError> {
    let doc = payment_intent_json(conn, id, &[])?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(PaymentIntentView {
        id: id.to_owned(),
        status: text(&doc["status"]).unwrap_or_default(),
        amount: doc["amount"].as_i64().unwrap_or_default(),
        amount_capturable: doc["amount_capturable"].as_i64().unwrap_or_default(),
        amount_received: doc["amount_received"].as_i64().unwrap_or_default(),
        latest_charge: text(&doc["latest_charge"]),
        last_error_code: text(&doc["last_payment_error"]["code"]),
        last_decline_code: text(&doc["last_payment_error"]["decline_code"]),
        redirect_url: text(&doc["next_action"]["redirect_to_url"]["url"]),
        capture_before: row(conn, id, "id")?.capture_before,
    })
}

/// Refuses an amount outside [`MIN_AMOUNT`]..=[`MAX_AMOUNT`] (400 naming `param`).
pub fn check_charge_amount(amount: i64, param: &str) -> Result<(), ApiError> {
    balance::check_amount(amount, param)?;
    if amount < MIN_AMOUNT {
        return Err(refuse(
            "amount_too_small",
            Some(param),
            format!("Amount must be at least {MIN_AMOUNT} cents (0.50 eur)."),
        ));
    }
    Ok(())
}

fn unexpected_state(id: &str, status: &str, action: &str) -> ApiError {
    refuse(
        "payment_intent_unexpected_state",
        None,
        format!("You cannot {action} the PaymentIntent {id} because it has a status of {status}."),
    )
}

/// Creates an intent (and confirms it when asked). The fingerprint key is the vault's subkey
/// (for Stripe's test tokens used as `payment_method`).
pub fn create_payment_intent(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    p: NewPaymentIntent,
) -> Result<Confirmed, ApiError> {
    check_charge_amount(p.amount, "amount")?;
    if let Some(c) = &p.customer {
        ensure_customer(tx, c, "customer")?;
    }
    if p.off_session && !p.confirm {
        return Err(refuse(
            "parameter_invalid",
            Some("off_session"),
            "off_session can only be set when confirm=true.",
        ));
    }
    let pm = match &p.payment_method {
        Some(id) => Some(usable_method(
            tx,
            ctx,
            fingerprint_key,
            id,
            p.customer.as_deref(),
        )?),
        None => None,
    };
    let id = random::id("pi");
    let secret = format!("{id}_secret_{}", random::secret("s"));
    let status = if pm.is_some() {
        "requires_confirmation"
    } else {
        "requires_payment_method"
    };
    tx.execute(
        "INSERT INTO psp_payment_intents (id, client_secret, amount, currency, customer, payment_method, capture_method,
             status, off_session, transfer_group, description, metadata, return_url, created)
         VALUES (?1, vault_seal('pi:' || ?1, ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            id,
            secret,
            p.amount,
            p.currency,
            p.customer,
            pm.as_ref().map(|m| m.id.clone()),
            if p.manual_capture { "manual" } else { "automatic" },
            status,
            p.off_session,
            p.transfer_group,
            p.description,
            Value::Object(p.metadata).to_string(),
            p.return_url,
            ctx.now
        ],
    )?;
    emit(
        tx,
        ctx,
        "payment_intent.created",
        &payment_intent_json(tx, &id, &[])?,
        None,
    )?;
    if p.confirm {
        return confirm_payment_intent(
            tx,
            ctx,
            fingerprint_key,
            &id,
            Confirm {
                payment_method: None,
                off_session: Some(p.off_session),
                return_url: None,
            },
        );
    }
    Ok(Confirmed::Ok(view(tx, &id)?))
}

/// A payment method the intent may use: a test token becomes a fresh method; one attached to
/// another customer is refused.
fn usable_method(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    id: &str,
    customer: Option<&str>,
) -> Result<PaymentMethodView, ApiError> {
    let pm = payment_methods::resolve(tx, ctx, fingerprint_key, id, "payment_method")?;
    match (&pm.customer, customer) {
        (Some(owner), Some(c)) if owner != c => Err(refuse(
            "parameter_invalid",
            Some("payment_method"),
            format!(
                "The PaymentMethod {} does not belong to the Customer {c}.",
                pm.id
            ),
        )),
        (Some(_), None) => Err(refuse(
            "parameter_invalid",
            Some("customer"),
            "This PaymentMethod is attached to a Customer: pass that customer too.",
        )),
        _ => Ok(pm),
    }
}

/// What a confirmation may change.
#[derive(Debug, Clone, Default)]
pub struct Confirm {
    /// Another payment method.
    pub payment_method: Option<String>,
    /// The customer is not there.
    pub off_session: Option<bool>,
    /// Where the challenge page sends the customer back.
    pub return_url: Option<String>,
}

const EXPIRED: Decline = Decline {
    code: "expired_card",
    decline_code: "expired_card",
    message: "Your card has expired.",
};

/// Confirms an intent: authentication if the card asks for it (a challenge page, or
/// `authentication_required` off-session), then the card network's answer.
pub fn confirm_payment_intent(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    id: &str,
    c: Confirm,
) -> Result<Confirmed, ApiError> {
    expire_due(tx, ctx)?;
    let before = payment_intent_json(tx, id, &[])?;
    let pi = row(tx, id, "intent")?;
    if !matches!(
        pi.status.as_str(),
        "requires_payment_method" | "requires_confirmation" | "requires_action"
    ) {
        return Err(unexpected_state(id, &pi.status, "confirm"));
    }
    let pm_id = match (&c.payment_method, &pi.payment_method) {
        (Some(new), _) => usable_method(tx, ctx, fingerprint_key, new, pi.customer.as_deref())?.id,
        (None, Some(old)) if pi.status != "requires_payment_method" => old.clone(),
        _ => {
            return Err(refuse(
                "payment_intent_unexpected_state",
                Some("payment_method"),
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
            ))
        }
    };
    let off_session = c.off_session.unwrap_or(pi.off_session);
    tx.execute(
        "UPDATE psp_payment_intents SET payment_method = ?2, off_session = ?3, status = 'processing',
             return_url = COALESCE(?4, return_url), last_payment_error = NULL, next_action = NULL
         WHERE id = ?1",
        params![id, pm_id, off_session, c.return_url],
    )?;
    challenges::cancel_pending(tx, id)?;
    let pm = payment_methods::view(tx, &pm_id, "payment_method")?;
    let number = payment_methods::number(tx, &pm_id)?;
    let behaviour = card_checks::behaviour(&number);
    let (year, month) = payment_methods::today(ctx.now)?;
    if (pm.exp_year, pm.exp_month) < (year, month) {
        return authorize(tx, ctx, id, &pm_id, Some(EXPIRED), false);
    }
    if card_checks::needs_authentication(&behaviour, off_session, pm.off_session_ready) {
        if off_session {
            // Refused before reaching the network: no charge.
            return fail(tx, ctx, id, &pm_id, None, AUTHENTICATION_REQUIRED);
        }
        let return_url = c.return_url.or(pi.return_url.clone());
        let next_action = challenges::start(
            tx,
            ctx,
            id,
            challenges::Kind::PaymentIntent,
            return_url.as_deref(),
        )?;
        tx.execute(
            "UPDATE psp_payment_intents SET status = 'requires_action', next_action = ?2 WHERE id = ?1",
            params![id, next_action.to_string()],
        )?;
        let after = payment_intent_json(tx, id, &[])?;
        emit(tx, ctx, "payment_intent.requires_action", &after, None)?;
        emit_update(tx, ctx, "payment_intent", &before, &after)?;
        return Ok(Confirmed::Ok(view(tx, id)?));
    }
    authorize(tx, ctx, id, &pm_id, behaviour.charge_decline, false)
}

/// The network's answer after confirmation or a completed challenge.
fn authorize(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    pm_id: &str,
    decline: Option<Decline>,
    three_d_secure: bool,
) -> Result<Confirmed, ApiError> {
    let pi = row(tx, id, "intent")?;
    let charge = charges::record_attempt(
        tx,
        ctx,
        &Attempt {
            intent: id,
            payment_method: pm_id,
            customer: pi.customer.as_deref(),
            amount: pi.amount,
            currency: &pi.currency,
            decline,
            three_d_secure,
            transfer_group: pi.transfer_group.as_deref(),
            description: pi.description.as_deref(),
        },
    )?;
    tx.execute(
        "UPDATE psp_payment_intents SET latest_charge = ?2 WHERE id = ?1",
        params![id, charge],
    )?;
    payment_methods::set_cvc_check(tx, pm_id, decline.is_none_or(|d| d.code != "incorrect_cvc"))?;
    if let Some(d) = decline {
        return fail(tx, ctx, id, pm_id, Some(&charge), d);
    }
    let before = payment_intent_json(tx, id, &[])?;
    if pi.manual {
        tx.execute(
            "UPDATE psp_payment_intents SET status = 'requires_capture', amount_capturable = amount,
                 capture_before = ?2, next_action = NULL WHERE id = ?1",
            params![id, ctx.now + charges::HOLD_SECS],
        )?;
        let after = payment_intent_json(tx, id, &[])?;
        emit(
            tx,
            ctx,
            "payment_intent.amount_capturable_updated",
            &after,
            None,
        )?;
        emit_update(tx, ctx, "payment_intent", &before, &after)?;
    } else {
        charges::capture(tx, ctx, &charge, pi.amount)?;
        tx.execute(
            "UPDATE psp_payment_intents SET status = 'succeeded', amount_received = amount, next_action = NULL
             WHERE id = ?1",
            [id],
        )?;
        let after = payment_intent_json(tx, id, &[])?;
        emit(tx, ctx, "payment_intent.succeeded", &after, None)?;
        super::invoices::intent_succeeded(tx, ctx, id)?;
    }
    Ok(Confirmed::Ok(view(tx, id)?))
}

/// Back to `requires_payment_method` with `last_payment_error`; the 402 to answer.
fn fail(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    pm_id: &str,
    charge: Option<&str>,
    d: Decline,
) -> Result<Confirmed, ApiError> {
    let error = json!({
        "type": "card_error",
        "code": d.code,
        "decline_code": d.decline_code,
        "message": d.message,
        "charge": charge,
        "doc_url": format!("https://stripe.com/docs/error-codes/{}", d.code.replace('_', "-")),
        "payment_method": payment_method_json(tx, pm_id)?,
    });
    tx.execute(
        "UPDATE psp_payment_intents SET status = 'requires_payment_method', last_payment_error = ?2,
             next_action = NULL WHERE id = ?1",
        params![id, error.to_string()],
    )?;
    let doc = payment_intent_json(tx, id, &[])?;
    emit(tx, ctx, "payment_intent.payment_failed", &doc, None)?;
    let mut answer = error;
    answer["payment_intent"] = doc;
    Ok(Confirmed::Declined(
        view(tx, id)?,
        CardDeclined { error: answer },
    ))
}

/// After the challenge page: on success the network's answer (an authenticated card may still
/// be declined: 4000008260003178), on failure `payment_intent_authentication_failure`.
pub(super) fn after_authentication(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    succeeded: bool,
) -> Result<Confirmed, ApiError> {
    let pi = row(tx, id, "intent")?;
    if pi.status != "requires_action" {
        return Err(unexpected_state(id, &pi.status, "authenticate"));
    }
    let pm_id = pi
        .payment_method
        .ok_or_else(|| ApiError::internal("intent in requires_action without payment method"))?;
    if !succeeded {
        let d = Decline {
            code: "payment_intent_authentication_failure",
            decline_code: "authentication_failure",
            message: "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
        };
        return fail(tx, ctx, id, &pm_id, None, d);
    }
    let number = payment_methods::number(tx, &pm_id)?;
    let decline = card_checks::behaviour(&number).charge_decline;
    authorize(tx, ctx, id, &pm_id, decline, true)
}

/// Captures at most the amount held; the rest is released. Refuses an intent that is not
/// `requires_capture` (an expired hold is canceled first) and an amount above the capturable.
pub fn capture_payment_intent(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    amount_to_capture: Option<i64>,
) -> Result<PaymentIntentView, ApiError> {
    expire_due(tx, ctx)?;
    let pi = row(tx, id, "intent")?;
    if pi.status != "requires_capture" {
        return Err(unexpected_state(id, &pi.status, "capture"));
    }
    let amount = amount_to_capture.unwrap_or(pi.amount_capturable);
    if amount <= 0 {
        return Err(refuse(
            "parameter_invalid_integer",
            Some("amount_to_capture"),
            "amount_to_capture must be at least 1.",
        ));
    }
    if amount > pi.amount_capturable {
        return Err(refuse(
            "amount_too_large",
            Some("amount_to_capture"),
            format!(
                "The amount_to_capture ({amount}) is greater than the amount_capturable ({}).",
                pi.amount_capturable
            ),
        ));
    }
    let charge = pi
        .latest_charge
        .ok_or_else(|| ApiError::internal("held intent without charge"))?;
    charges::capture(tx, ctx, &charge, amount)?;
    tx.execute(
        "UPDATE psp_payment_intents SET status = 'succeeded', amount_received = ?2, amount_capturable = 0
         WHERE id = ?1",
        params![id, amount],
    )?;
    emit(
        tx,
        ctx,
        "payment_intent.succeeded",
        &payment_intent_json(tx, id, &[])?,
        None,
    )?;
    super::invoices::intent_succeeded(tx, ctx, id)?;
    view(tx, id)
}

/// Stripe's reasons a client may give.
pub const CANCELLATION_REASONS: &[&str] = &[
    "duplicate",
    "fraudulent",
    "requested_by_customer",
    "abandoned",
];

/// Cancels an intent that has not succeeded; a hold is released (nothing reaches the ledger).
pub fn cancel_payment_intent(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    reason: Option<&str>,
) -> Result<PaymentIntentView, ApiError> {
    expire_due(tx, ctx)?;
    let pi = row(tx, id, "intent")?;
    if matches!(pi.status.as_str(), "succeeded" | "canceled") {
        return Err(unexpected_state(id, &pi.status, "cancel"));
    }
    cancel(tx, ctx, &pi, reason, false)?;
    view(tx, id)
}

fn cancel(
    tx: &Connection,
    ctx: &Ctx,
    pi: &Row,
    reason: Option<&str>,
    expired: bool,
) -> Result<(), ApiError> {
    if pi.status == "requires_capture" {
        if let Some(charge) = &pi.latest_charge {
            charges::release(tx, ctx, charge, expired)?;
        }
    }
    challenges::cancel_pending(tx, &pi.id)?;
    tx.execute(
        "UPDATE psp_payment_intents SET status = 'canceled', amount_capturable = 0, cancellation_reason = ?2,
             canceled_at = ?3, next_action = NULL WHERE id = ?1",
        params![pi.id, reason, ctx.now],
    )?;
    emit(
        tx,
        ctx,
        "payment_intent.canceled",
        &payment_intent_json(tx, &pi.id, &[])?,
        None,
    )?;
    Ok(())
}

/// Cancels holds past their 7 days (`cancellation_reason=automatic`), a bounded batch through
/// the index on `capture_before`. Every read and write of an intent runs it first.
pub fn expire_due(tx: &Connection, ctx: &Ctx) -> Result<usize, ApiError> {
    let ids: Vec<String> = tx
        .prepare_cached(
            "SELECT id FROM psp_payment_intents WHERE status = 'requires_capture' AND capture_before <= ?1
             ORDER BY capture_before LIMIT 100",
        )?
        .query_map([ctx.now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        let pi = row(tx, id, "id")?;
        cancel(tx, ctx, &pi, Some("automatic"), true)?;
    }
    Ok(ids.len())
}

/// Whether `secret` is the intent's client secret (compared as hashes: no timing to learn).
pub(super) fn secret_matches(conn: &Connection, id: &str, secret: &str) -> Result<bool, ApiError> {
    let stored: Option<Option<String>> = conn
        .query_row(
            "SELECT vault_open('pi:' || id, client_secret) FROM psp_payment_intents WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(stored
        .flatten()
        .is_some_and(|s| sha256(s.as_bytes()) == sha256(secret.as_bytes())))
}

/// An intent as Stripe renders it; `expand` may hold `latest_charge`,
/// `latest_charge.balance_transaction`, `payment_method`, `customer`.
pub fn payment_intent_json(
    conn: &Connection,
    id: &str,
    expand: &[String],
) -> Result<Value, ApiError> {
    let mut doc = conn
        .query_row(
            "SELECT id, vault_open('pi:' || id, client_secret), amount, currency, customer, payment_method,
                    capture_method, status, amount_capturable, amount_received, transfer_group, description,
                    metadata, latest_charge, last_payment_error, next_action, cancellation_reason, canceled_at,
                    created
             FROM psp_payment_intents WHERE id = ?1",
            [id],
            |r| {
                let json_col = |i: usize| -> rusqlite::Result<Value> {
                    Ok(r.get::<_, Option<String>>(i)?
                        .map_or(Value::Null, |s| parse_json(&s)))
                };
                Ok(json!({
                    "id": r.get::<_, String>(0)?,
                    "object": "payment_intent",
                    "amount": r.get::<_, i64>(2)?,
                    "amount_capturable": r.get::<_, i64>(8)?,
                    "amount_details": { "tip": {} },
                    "amount_received": r.get::<_, i64>(9)?,
                    "application": Value::Null,
                    "application_fee_amount": Value::Null,
                    "automatic_payment_methods": Value::Null,
                    "canceled_at": r.get::<_, Option<i64>>(17)?,
                    "cancellation_reason": r.get::<_, Option<String>>(16)?,
                    "capture_method": r.get::<_, String>(6)?,
                    "client_secret": r.get::<_, Option<String>>(1)?,
                    "confirmation_method": "automatic",
                    "created": r.get::<_, i64>(18)?,
                    "currency": r.get::<_, String>(3)?,
                    "customer": r.get::<_, Option<String>>(4)?,
                    "description": r.get::<_, Option<String>>(11)?,
                    "last_payment_error": json_col(14)?,
                    "latest_charge": r.get::<_, Option<String>>(13)?,
                    "livemode": false,
                    "metadata": parse_json(&r.get::<_, String>(12)?),
                    "next_action": json_col(15)?,
                    "on_behalf_of": Value::Null,
                    "payment_method": r.get::<_, Option<String>>(5)?,
                    "payment_method_options": { "card": { "request_three_d_secure": "automatic" } },
                    "payment_method_types": ["card"],
                    "processing": Value::Null,
                    "receipt_email": Value::Null,
                    "setup_future_usage": Value::Null,
                    "status": r.get::<_, String>(7)?,
                    "transfer_data": Value::Null,
                    "transfer_group": r.get::<_, Option<String>>(10)?,
                }))
            },
        )
        .optional()?
        .ok_or_else(|| missing("payment_intent", "intent", id))?;
    doc["invoice"] = json!(super::invoices::invoice_of_intent(conn, id)?);
    for field in expand {
        match field.as_str() {
            "latest_charge" | "latest_charge.balance_transaction" => {
                if let Some(ch) = doc["latest_charge"].as_str().map(str::to_owned) {
                    let inner: Vec<String> = if field.contains('.') {
                        vec!["balance_transaction".into()]
                    } else {
                        vec![]
                    };
                    doc["latest_charge"] = charge_json(conn, &ch, &inner)?;
                }
            }
            "payment_method" => {
                if let Some(pm) = doc["payment_method"].as_str().map(str::to_owned) {
                    doc["payment_method"] = payment_method_json(conn, &pm)?;
                }
            }
            "customer" => {
                if let Some(c) = doc["customer"].as_str().map(str::to_owned) {
                    doc["customer"] = customer_json(conn, &c)?;
                }
            }
            other => {
                return Err(invalid(
                    "expand",
                    format!("This property cannot be expanded ({other})."),
                ))
            }
        }
    }
    Ok(doc)
}

// ------------------------------------------------------------------- endpoints

/// The PaymentIntent endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/payment_intents", post(create).get(list))
        .route("/v1/payment_intents/{id}", get(retrieve))
        .route("/v1/payment_intents/{id}/confirm", post(confirm))
        .route("/v1/payment_intents/{id}/capture", post(capture))
        .route("/v1/payment_intents/{id}/cancel", post(cancel_endpoint))
}

/// A `true` / `false` parameter.
pub(super) fn bool_param(f: &mut Fields, key: &str) -> Result<Option<bool>, ApiError> {
    let name = f.name(key);
    match f.str(key)?.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => Err(invalid(&name, format!("Invalid boolean: {other}"))),
    }
}

/// A bounded text parameter (empty reads as absent).
pub(super) fn text(f: &mut Fields, key: &str, max: usize) -> Result<Option<String>, ApiError> {
    let name = f.name(key);
    match f.str(key)? {
        Some(v) if v.chars().count() > max => Err(invalid(
            &name,
            format!("{name} has at most {max} characters."),
        )),
        other => Ok(other.filter(|v| !v.is_empty())),
    }
}

/// A `return_url`: http(s), bounded, nothing that could break out of an HTML attribute.
pub(super) fn return_url(f: &mut Fields) -> Result<Option<String>, ApiError> {
    let url = text(f, "return_url", 2048)?;
    if let Some(u) = &url {
        if !(u.starts_with("https://") || u.starts_with("http://"))
            || u.bytes()
                .any(|b| b.is_ascii_control() || b == b'"' || b == b'<' || b == b'>' || b == b' ')
        {
            return Err(invalid("return_url", "return_url must be an http(s) URL."));
        }
    }
    Ok(url)
}

fn check_expand(expand: &[String]) -> Result<(), ApiError> {
    for e in expand {
        if !matches!(
            e.as_str(),
            "latest_charge" | "latest_charge.balance_transaction" | "payment_method" | "customer"
        ) {
            return Err(invalid(
                "expand",
                format!("This property cannot be expanded ({e})."),
            ));
        }
    }
    Ok(())
}

type Answer = Result<Value, CardDeclined>;

/// The answer of a confirmation: the intent, or Stripe's 402 for a decline (committed).
fn answer(conn: &Connection, c: Confirmed, expand: &[String]) -> Result<Answer, ApiError> {
    match c {
        Confirmed::Ok(v) => Ok(Ok(payment_intent_json(conn, &v.id, expand)?)),
        Confirmed::Declined(_, e) => Ok(Err(e)),
    }
}

fn respond(r: Answer) -> Response {
    match r {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let amount = f
        .int("amount")?
        .ok_or_else(|| invalid("amount", "Missing required param: amount."))?;
    check_charge_amount(amount, "amount").map_err(ApiError::not_executed)?;
    let currency = balance::read_currency(&mut f, "currency")?;
    let customer = text(&mut f, "customer", 255)?;
    let payment_method = text(&mut f, "payment_method", 255)?;
    let manual_capture = f
        .one_of(
            "capture_method",
            &["automatic", "automatic_async", "manual"],
        )?
        .is_some_and(|m| m == "manual");
    let confirm = bool_param(&mut f, "confirm")?.unwrap_or(false);
    let off_session = bool_param(&mut f, "off_session")?.unwrap_or(false);
    let transfer_group = text(&mut f, "transfer_group", 255)?;
    let description = text(&mut f, "description", 1000)?;
    let return_url = return_url(&mut f)?;
    if let Some(types) = f.strings("payment_method_types")? {
        if types.iter().any(|t| t != "card") {
            return Err(invalid(
                "payment_method_types",
                "Only card payments exist here (payment_method_types[]=card).",
            ));
        }
    }
    let metadata = to_map(f.metadata()?);
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let out = state
        .db
        .transaction(move |tx| {
            let c = create_payment_intent(
                tx,
                &ctx,
                &key,
                NewPaymentIntent {
                    amount,
                    currency,
                    customer,
                    payment_method,
                    manual_capture,
                    confirm,
                    off_session,
                    transfer_group,
                    description,
                    metadata,
                    return_url,
                },
            )?;
            answer(tx, c, &expand)
        })
        .await?;
    Ok(respond(out))
}

/// A publishable key must present the intent's client secret (else the intent does not exist
/// for it).
fn check_client_secret(
    conn: &Connection,
    id: &str,
    publishable: bool,
    secret: Option<&str>,
) -> Result<(), ApiError> {
    if !publishable {
        return Ok(());
    }
    match secret {
        Some(s) if secret_matches(conn, id, s)? => Ok(()),
        _ => Err(missing("payment_intent", "intent", id)),
    }
}

async fn retrieve(
    State(state): State<AppState>,
    psp: PspPublic,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let secret = f.str("client_secret")?;
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let publishable = psp.publishable;
    let doc = state
        .db
        .transaction(move |tx| {
            expire_due(tx, &ctx)?;
            check_client_secret(tx, &id, publishable, secret.as_deref())?;
            payment_intent_json(tx, &id, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn confirm(
    State(state): State<AppState>,
    psp: PspPublic,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let secret = f.str("client_secret")?;
    let payment_method = text(&mut f, "payment_method", 255)?;
    let off_session = bool_param(&mut f, "off_session")?;
    let return_url = return_url(&mut f)?;
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let publishable = psp.publishable;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let out = state
        .db
        .transaction(move |tx| {
            check_client_secret(tx, &id, publishable, secret.as_deref())?;
            let c = confirm_payment_intent(
                tx,
                &ctx,
                &key,
                &id,
                Confirm {
                    payment_method,
                    off_session,
                    return_url,
                },
            )?;
            answer(tx, c, &expand)
        })
        .await?;
    Ok(respond(out))
}

async fn capture(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let amount = f.int("amount_to_capture")?;
    if amount.is_some_and(|a| !(1..=MAX_AMOUNT).contains(&a)) {
        return Err(invalid(
            "amount_to_capture",
            format!("amount_to_capture must be from 1 to {MAX_AMOUNT}."),
        ));
    }
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            capture_payment_intent(tx, &ctx, &id, amount)?;
            payment_intent_json(tx, &id, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn cancel_endpoint(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let reason = f.one_of("cancellation_reason", CANCELLATION_REASONS)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            cancel_payment_intent(tx, &ctx, &id, reason.as_deref())?;
            payment_intent_json(tx, &id, &[])
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let customer = f.str("customer")?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            expire_due(tx, &ctx)?;
            let (ids, more) = model::page(
                tx,
                "psp_payment_intents",
                "?1 IS NULL OR customer = ?1",
                &[&customer],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| payment_intent_json(tx, id, &[]))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/payment_intents"))
        })
        .await?;
    Ok(Json(doc))
}
