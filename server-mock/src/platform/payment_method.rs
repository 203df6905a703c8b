//! The member's own card, which pays what the insurers do not. The phone creates the payment
//! method at the PSP itself (publishable key, so the platform never sees the number) and hands
//! the platform its `pm_…`; the platform keeps one PSP customer per member, attaches the card and
//! sets it up for off-session use, so remainders can be held and captured at the desk without
//! the member. A new card replaces the old one.

use axum::extract::State;
use axum::{Extension, Json};
use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::wire::{
    MemberPaymentMethod, PaymentMethodStatus, PaymentSetup, SavePaymentMethodRequest,
};

use super::payments::{self, Setup};
use crate::http::{ApiError, ApiJson, Caller};
use crate::state::AppState;

/// Longest `pm_…` accepted (Stripe's ids are far shorter).
const MAX_ID: usize = 255;

/// `GET /v1/me/payment_setup`: where the phone registers the card, and with which key.
pub async fn setup(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<PaymentSetup>, ApiError> {
    caller.device()?;
    Ok(Json(PaymentSetup {
        object: "payment_setup".into(),
        psp_url: state.public_url.clone(),
        publishable_key: payments::PUBLISHABLE_KEY.into(),
    }))
}

fn status_text(setup: &Setup) -> (&'static str, Option<&str>, Option<&str>) {
    match setup {
        Setup::Succeeded => ("active", None, None),
        Setup::RequiresAction(url) => ("requires_action", url.as_deref(), None),
        Setup::Failed(code) => ("failed", None, Some(code.as_str())),
    }
}

fn read(conn: &Connection, member_ref: &str) -> Result<Option<MemberPaymentMethod>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT payment_method, status, brand, last4, exp_month, exp_year, setup_intent,
                    next_action_url, decline_code
             FROM platform_payment_methods WHERE member_ref = ?1",
        )?
        .query_row([member_ref], |r| {
            let status: String = r.get(1)?;
            Ok(MemberPaymentMethod {
                object: "member_payment_method".into(),
                payment_method: r.get(0)?,
                status: match status.as_str() {
                    "active" => PaymentMethodStatus::Active,
                    "requires_action" => PaymentMethodStatus::RequiresAction,
                    _ => PaymentMethodStatus::Failed,
                },
                brand: r.get(2)?,
                last4: r.get(3)?,
                exp_month: r.get(4)?,
                exp_year: r.get(5)?,
                setup_intent: r.get(6)?,
                next_action_url: r.get(7)?,
                decline_code: r.get(8)?,
            })
        })
        .optional()?)
}

fn set_status(tx: &Connection, member_ref: &str, setup: &Setup, now: i64) -> Result<(), ApiError> {
    let (status, url, decline) = status_text(setup);
    tx.prepare_cached(
        "UPDATE platform_payment_methods SET status = ?2, next_action_url = ?3, decline_code = ?4,
                updated = ?5 WHERE member_ref = ?1",
    )?
    .execute(params![member_ref, status, url, decline, now])?;
    Ok(())
}

/// `POST /v1/me/payment_method`: saves (or replaces) the member's card and answers where its
/// setup stands: `active`, `requires_action` (open `next_action_url`) or `failed`.
pub async fn save(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<SavePaymentMethodRequest>,
) -> Result<Json<MemberPaymentMethod>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let pm = body.payment_method;
    if !pm.starts_with("pm_") || pm.len() > MAX_ID || !pm.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_param(
            "payment_method",
            "payment_method must be a `pm_…` id made at the PSP.",
        )
        .not_executed());
    }
    let now = state.clock.now();
    let key = crate::psp::api::fingerprint_key(&state.vault);
    let saved = state
        .db
        .transaction(move |tx| {
            let customer = payments::customer_of(tx, &member, now)?;
            let saved = payments::save_card(tx, &key, &customer, &pm, now)?;
            let (status, url, decline) = status_text(&saved.setup);
            tx.prepare_cached(
                "INSERT INTO platform_payment_methods (member_ref, payment_method, setup_intent, status,
                    brand, last4, exp_month, exp_year, next_action_url, decline_code, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (member_ref) DO UPDATE SET payment_method = ?2, setup_intent = ?3,
                    status = ?4, brand = ?5, last4 = ?6, exp_month = ?7, exp_year = ?8,
                    next_action_url = ?9, decline_code = ?10, updated = ?11",
            )?
            .execute(params![
                member,
                pm,
                saved.setup_intent,
                status,
                saved.card.brand,
                saved.card.last4,
                saved.card.exp_month,
                saved.card.exp_year,
                url,
                decline,
                now
            ])?;
            read(tx, &member)?.ok_or_else(|| ApiError::internal("payment method vanished"))
        })
        .await?;
    tracing::info!(status = ?saved.status, "member card saved");
    Ok(Json(saved))
}

/// `GET /v1/me/payment_method`: the saved card; one waiting for the member's authentication is
/// read again from the PSP first.
pub async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<MemberPaymentMethod>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let now = state.clock.now();
    let method = state
        .db
        .transaction(move |tx| {
            let current =
                read(tx, &member)?.ok_or_else(|| ApiError::not_found("payment method"))?;
            if current.status != PaymentMethodStatus::RequiresAction {
                return Ok(current);
            }
            let setup = payments::setup_status(tx, &current.setup_intent)?;
            set_status(tx, &member, &setup, now)?;
            read(tx, &member)?.ok_or_else(|| ApiError::internal("payment method vanished"))
        })
        .await?;
    Ok(Json(method))
}
