//! The platform's receiver of PSP events (`POST /v1/platform/psp_events`), authenticated by
//! Stripe's webhook signature, not by an API key or a device: the raw body is checked against
//! `Stripe-Signature` with the endpoint's `whsec_…` secret, in constant time, and a timestamp
//! more than 300 s away is refused.
//!
//! - `issuing_authorization.request` (synchronous: the PSP waits at most 2 s): the card's latest
//!   visit and its history are read, [`visit_decision::decide`] decides, the decision is recorded
//!   (on the visit and in `platform_taps`) and answered `{"approved", "metadata": {"reason"}}`,
//!   all in one short transaction of prepared statements.
//! - `issuing_transaction.created` (a capture): the visit is settled ([`settlement::settle`]).
//! - `issuing_authorization.updated` to `reversed` or `expired`: the member's hold is released.
//!
//! Events arrive at least once: each id is handled once, and a redelivered authorization request
//! gets the answer already given. An authorization asked about again under another event is
//! approved again if it was approved (the PSP's first wait died), and otherwise declined as
//! `replayed_authorization`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::domain::enrollment::parse_date;

use super::visit_decision::{
    self, Decision, History, Input, Policy, Reason, Requote, Tap, VisitState, VisitTerms,
};
use super::{payments, settlement, visits};
use crate::clock::real_now;
use crate::http::webhook_signature::{self, DEFAULT_TOLERANCE_SECS};
use crate::http::{ApiError, MAX_BODY_BYTES};
use crate::insurer::directory;
use crate::psp::api as psp;
use crate::state::AppState;

/// The route's path (where the PSP's platform endpoint points).
pub const PATH: &str = psp::PLATFORM_EVENTS_PATH;
const DAY: i64 = 24 * 3600;
/// Longest id or short text taken from an event.
const MAX_TEXT: usize = 255;

fn refused(code: &str, message: &str) -> ApiError {
    ApiError::invalid(code, message.to_owned()).not_executed()
}

/// Reads a bounded string at `pointer`.
fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| s.len() <= MAX_TEXT)
        .unwrap_or("")
}

/// A field that is an id or an expanded object with an id (Stripe's `card`, `authorization`).
fn id_of<'a>(v: &'a Value, pointer: &str) -> &'a str {
    match v.pointer(pointer) {
        Some(Value::String(s)) if s.len() <= MAX_TEXT => s,
        Some(Value::Object(o)) => o
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| s.len() <= MAX_TEXT)
            .unwrap_or(""),
        _ => "",
    }
}

/// The decision thresholds from the server's limits.
pub fn policy(state: &AppState) -> Policy {
    let l = &state.limits;
    Policy {
        amount_tolerance: l.tap_amount_tolerance,
        max_taps_per_day: l.taps_per_card_per_day,
        max_visits_per_day: l.visits_per_card_per_day,
        merchant_countries: l.merchant_countries.clone(),
        far_km: l.far_from_usual_city_km,
    }
}

/// `POST /v1/platform/psp_events`
pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(state, headers, body).await {
        Ok(answer) => (StatusCode::OK, Json(answer)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(state: AppState, headers: HeaderMap, body: Bytes) -> Result<Value, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large());
    }
    let signature = headers
        .get(webhook_signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| refused("signature_missing", "Stripe-Signature is required."))?
        .to_owned();
    // The secret is read on its own and the body checked before it is parsed: nothing from an
    // unsigned request reaches the JSON parser, and the connection every tap waits for is not
    // held while the HMAC is computed.
    let secret = state
        .db
        .call(|conn| payments::webhook_secret(conn))
        .await?
        .ok_or_else(|| refused("signature_invalid", "No endpoint secret is set."))?;
    webhook_signature::verify(
        &signature,
        &body,
        &secret,
        real_now(),
        DEFAULT_TOLERANCE_SECS,
    )
    .map_err(|e| refused("signature_invalid", &e.to_string()))?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| refused("event_invalid", "The body is not a JSON event."))?;
    let policy = policy(&state);
    let now = state.clock.now();
    state
        .db
        .transaction(move |tx| dispatch(tx, &event, &policy, now))
        .await
}

fn dispatch(tx: &Connection, event: &Value, policy: &Policy, now: i64) -> Result<Value, ApiError> {
    let id = text(event, "/id");
    let kind = text(event, "/type");
    if id.is_empty() || kind.is_empty() {
        return Err(refused("event_invalid", "An event has an id and a type."));
    }
    let seen: Option<Option<String>> = tx
        .prepare_cached("SELECT answer FROM platform_psp_events WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    if let Some(answer) = seen {
        return Ok(answer
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_else(|| json!({"received": true})));
    }
    let object = event.pointer("/data/object").unwrap_or(&Value::Null);
    let answer = match kind {
        "issuing_authorization.request" => {
            Some(authorization_request(tx, id, object, policy, now)?)
        }
        "issuing_transaction.created" => {
            transaction_created(tx, object, now)?;
            None
        }
        "issuing_authorization.updated" => {
            authorization_updated(tx, object, now)?;
            None
        }
        _ => None,
    };
    tx.prepare_cached(
        "INSERT INTO platform_psp_events (id, type, answer, received) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        id,
        kind,
        answer.as_ref().map(Value::to_string),
        now
    ])?;
    Ok(answer.unwrap_or_else(|| json!({"received": true})))
}

fn count(tx: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<u32, ApiError> {
    Ok(tx.prepare_cached(sql)?.query_row(p, |r| r.get(0))?)
}

/// Decides a tap and records the decision.
fn authorization_request(
    tx: &Connection,
    event_id: &str,
    auth: &Value,
    policy: &Policy,
    now: i64,
) -> Result<Value, ApiError> {
    let authorization = text(auth, "/id");
    let card_id = id_of(auth, "/card");
    if authorization.is_empty() || card_id.is_empty() {
        return Err(refused(
            "event_invalid",
            "An authorization names its id and card.",
        ));
    }
    let amount = auth
        .pointer("/pending_request/amount")
        .or_else(|| auth.pointer("/amount"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let currency = match text(auth, "/pending_request/currency") {
        "" => text(auth, "/currency"),
        c => c,
    };
    let card_active = match auth.pointer("/card/status").and_then(Value::as_str) {
        Some(status) => status == "active",
        None => psp::card(tx, card_id)
            .map(|c| c.status == "active")
            .unwrap_or(false),
    };
    let tap = Tap {
        authorization,
        amount,
        currency,
        network_id: text(auth, "/merchant_data/network_id"),
        mcc: text(auth, "/merchant_data/category_code"),
        country: text(auth, "/merchant_data/country"),
        city: text(auth, "/merchant_data/city"),
        card_active,
    };
    let earlier: Option<(bool, Option<String>)> = tx
        .prepare_cached("SELECT approved, visit_id FROM platform_taps WHERE authorization = ?1")?
        .query_row([authorization], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((true, visit_id)) = &earlier {
        // The PSP asking again about a tap it was already told to approve (its first wait died):
        // the same answer, and nothing moves twice.
        return Ok(json!({"approved": true, "metadata": {"visit": visit_id}}));
    }
    let authorization_seen = earlier.is_some();
    let visit = visits::latest_of_card(tx, card_id)?;
    let usual_city: Option<String> = match &visit {
        None => None,
        Some(v) => tx
            .prepare_cached(
                "SELECT provider_city FROM platform_visits WHERE contract_ref = ?1 AND status = 'paid'
                 GROUP BY provider_city ORDER BY COUNT(*) DESC, MAX(seq) DESC LIMIT 1",
            )?
            .query_row([&v.contract_ref], |r| r.get(0))
            .optional()?,
    };
    let history = History {
        authorization_seen,
        // Counted only up to the limit the rule compares with: a card hammered by taps must not
        // make each decision slower than the last.
        taps_last_day: count(
            tx,
            "SELECT COUNT(*) FROM (SELECT 1 FROM platform_taps
             WHERE card_id = ?1 AND created > ?2 LIMIT ?3)",
            params![card_id, now - DAY, policy.max_taps_per_day],
        )?,
        visits_last_day: count(
            tx,
            "SELECT COUNT(*) FROM (SELECT 1 FROM platform_visits
             WHERE card_id = ?1 AND authorized_at > ?2 LIMIT ?3)",
            params![card_id, now - DAY, policy.max_visits_per_day],
        )?,
        provider_used_before: match &visit {
            None => false,
            Some(v) => tx
                .prepare_cached(
                    "SELECT 1 FROM platform_visits WHERE contract_ref = ?1 AND network_id = ?2
                     AND status = 'paid'",
                )?
                .exists(params![v.contract_ref, tap.network_id])?,
        },
        usual_city: usual_city.as_deref(),
    };
    let terms = visit.as_ref().map(|v| VisitTerms {
        id: &v.id,
        state: match v.status.as_str() {
            "armed" => VisitState::Armed,
            "authorized" | "paid" => VisitState::Used,
            "expired" => VisitState::Expired,
            _ => VisitState::Closed,
        },
        expires_at: v.expires_at,
        network_id: &v.network_id,
        currency: &v.currency,
        price: v.price,
        hold: v.hold,
    });
    let input = Input {
        policy,
        tap,
        visit: terms,
        history,
        now,
    };
    let mut decision = visit_decision::decide(&input, None);
    let mut requoted_figures = None;
    if let (Decision::NeedsRequote { amount }, Some(v)) = (decision, &visit) {
        let figures = requote(tx, v, amount);
        let q = figures.as_ref().map(|f| Requote {
            price: f.price,
            amo: f.amo,
            amc: f.amc,
            member: f.member,
        });
        decision = visit_decision::decide(&input, Some(q));
        requoted_figures = figures;
    }
    let (approved, reason) = match decision {
        Decision::Approve(_) => (true, None),
        Decision::Decline(r) => (false, Some(r)),
        // Only reachable without a visit, which is declined before any amount is read.
        Decision::NeedsRequote { .. } => (false, Some(Reason::AmountMismatch)),
    };
    let visit_id = visit.as_ref().map(|v| v.id.as_str());
    tx.prepare_cached(
        "INSERT OR IGNORE INTO platform_taps (authorization, event_id, card_id, visit_id, approved, reason, amount, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        authorization,
        event_id,
        card_id,
        visit_id,
        approved,
        reason.map(Reason::as_str),
        amount,
        now
    ])?;
    if let Some(v) = &visit {
        if approved {
            let f = requoted_figures.unwrap_or(visits::Figures {
                preview_id: v.preview_id.clone(),
                price: v.price,
                amo: v.amo,
                amc: v.amc,
                member: v.member,
                pf: v.pf,
                franchise: v.franchise,
                ceiling_category: v.ceiling_category.clone(),
            });
            tx.prepare_cached(
                "UPDATE platform_visits SET status = 'authorized', authorization = ?2, authorized_at = ?3,
                    last_decline = NULL, price = ?4, amo = ?5, amc = ?6, member = ?7, pf = ?8,
                    franchise = ?9, ceiling_category = ?10
                 WHERE id = ?1 AND status = 'armed'",
            )?
            .execute(params![
                v.id,
                authorization,
                now,
                f.price,
                f.amo,
                f.amc,
                f.member,
                f.pf,
                f.franchise,
                f.ceiling_category
            ])?;
        } else if let Some(reason) = reason {
            tx.prepare_cached("UPDATE platform_visits SET last_decline = ?2 WHERE id = ?1")?
                .execute(params![v.id, reason.as_str()])?;
            if reason == Reason::VisitExpired {
                visits::close(tx, v, "expired", now)?;
            }
        }
    }
    tracing::info!(
        authorization,
        approved,
        reason = reason.map(Reason::as_str),
        "tap decided"
    );
    let mut metadata = serde_json::Map::new();
    if let Some(reason) = reason {
        metadata.insert("reason".into(), reason.as_str().into());
    }
    if let Some(id) = visit_id {
        metadata.insert("visit".into(), id.into());
    }
    Ok(json!({"approved": approved, "metadata": metadata}))
}

/// The engine's figures at another amount; `None` when it cannot price it.
fn requote(tx: &Connection, visit: &visits::VisitRow, amount: i64) -> Option<visits::Figures> {
    let provider = directory::find(tx, &visit.provider_id).ok()??;
    let date = parse_date(&visit.date, "date").ok()?;
    visits::price_visit(
        tx,
        &visit.contract_ref,
        &visit.beneficiary_id,
        &provider,
        &visit.act_code,
        amount,
        date,
    )
    .ok()
}

/// A capture: settles its visit. A refund, or a capture of a tap the platform never approved,
/// changes nothing here.
fn transaction_created(tx: &Connection, txn: &Value, now: i64) -> Result<(), ApiError> {
    if text(txn, "/type") != "capture" {
        return Ok(());
    }
    let authorization = id_of(txn, "/authorization");
    let amount = txn
        .pointer("/amount")
        .and_then(Value::as_i64)
        .map(i64::abs)
        .unwrap_or(0);
    let Some(visit) = visits::by_authorization(tx, authorization)? else {
        tracing::warn!(authorization, "capture of an authorization with no visit");
        return Ok(());
    };
    if amount <= 0 {
        return Ok(());
    }
    settlement::settle(tx, &visit, amount, now)?;
    Ok(())
}

/// A tap reversed by the terminal or expired uncaptured: the member's hold is released.
fn authorization_updated(tx: &Connection, auth: &Value, now: i64) -> Result<(), ApiError> {
    let status = text(auth, "/status");
    if status != "reversed" && status != "expired" {
        return Ok(());
    }
    if let Some(visit) = visits::by_authorization(tx, text(auth, "/id"))? {
        if visit.status == "authorized" {
            visits::close(tx, &visit, "reversed", now)?;
        }
    }
    Ok(())
}
