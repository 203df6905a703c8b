//! PaymentMethods (`pm_…`): the member's own card, sent by the phone straight to the PSP with
//! the publishable key (`POST /v1/payment_methods` is the one endpoint a `pk_` key may call),
//! then attached to a customer. The number and CVC are checked (Luhn, length, expiry on the
//! business clock, CVC) and stored sealed with the vault (`vault_seal`), bound to the method's
//! id: never in clear, never in an event or a stored idempotent answer, which show only
//! `card{brand, last4, exp_month, exp_year, fingerprint, funding, country, checks}`. Stripe's test
//! tokens (`pm_card_visa`, `pm_card_chargeDeclined`, …) stand for a fresh method of their card
//! wherever a payment method id is read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use tierspay_core::auth::{b64url, random};

use super::card_checks::{self, CardRefusal};
use super::customers::ensure_customer;
use super::events::emit;
use super::form::invalid;
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::wire::{body_fields, query_fields, to_map, Psp, PspPublic};
use crate::http::ApiError;
use crate::state::AppState;

/// The payment methods table (one migration entry of [`super::MIGRATIONS`]). `number` and `cvc`
/// are sealed: `vault_seal('pm:' || id, …)`.
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_payment_methods (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        customer            TEXT REFERENCES psp_customers(id),
        number              BLOB NOT NULL,
        cvc                 BLOB,
        brand               TEXT NOT NULL,
        last4               TEXT NOT NULL,
        exp_month           INTEGER NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
        exp_year            INTEGER NOT NULL,
        fingerprint         TEXT NOT NULL,
        country             TEXT NOT NULL,
        cvc_check           TEXT CHECK (cvc_check IN ('pass', 'fail', 'unchecked')),
        off_session_ready   INTEGER NOT NULL DEFAULT 0,
        billing_details     TEXT NOT NULL DEFAULT '{}',
        metadata            TEXT NOT NULL DEFAULT '{}',
        created             INTEGER NOT NULL
    );
    CREATE INDEX psp_payment_methods_customer ON psp_payment_methods (customer, seq)
        WHERE customer IS NOT NULL;
"#;

/// A card as typed, checked. Its `Debug` shows nothing of the number or CVC.
#[derive(Clone)]
pub struct CardInput {
    /// Digits only, Luhn-valid.
    pub number: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// 3 or 4 digits; `None` for a test token.
    pub cvc: Option<String>,
}

impl std::fmt::Debug for CardInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardInput { .. }")
    }
}

/// A payment method's public facts, for the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentMethodView {
    /// `pm_…`
    pub id: String,
    /// `cus_…` once attached.
    pub customer: Option<String>,
    /// `visa`, `mastercard`…
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// Same card, same fingerprint.
    pub fingerprint: String,
    /// Set up for off-session payments by a succeeded SetupIntent.
    pub off_session_ready: bool,
}

/// A card refusal as Stripe answers it: 402 `card_error` naming the field.
pub(super) fn card_error(r: CardRefusal) -> ApiError {
    let mut e = refuse(r.code, Some(r.param), r.message);
    e.status = StatusCode::PAYMENT_REQUIRED;
    e.detail.kind = "card_error".into();
    e
}

/// The card's issuing country: Stripe's 3D Secure test cards carry it (ISO numeric 250, 276,
/// 826 after `400000`); the other test cards are American.
fn country(number: &str) -> &'static str {
    match number.get(..9) {
        Some("400000250") => "FR",
        Some("400000276") => "DE",
        Some("400000826") => "GB",
        _ => "US",
    }
}

/// The fingerprint of a number: a keyed hash (the vault's subkey, not in the database), so the
/// column cannot be brute-forced back to a number from a copy of the file.
pub(super) fn fingerprint(key: &[u8; 32], number: &str) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        number.as_bytes(),
    );
    b64url(&tag.as_ref()[..12])
}

/// The vault subkey purpose of card fingerprints.
pub(super) const FINGERPRINT_PURPOSE: &str = "psp card fingerprint";

/// The key of card fingerprints, derived from the server's vault.
pub fn fingerprint_key(vault: &crate::vault::Vault) -> [u8; 32] {
    vault.subkey(FINGERPRINT_PURPOSE)
}

/// Stores a checked card as a new payment method; its id.
pub fn insert_payment_method(
    tx: &Connection,
    ctx: &Ctx,
    card: &CardInput,
    fingerprint: &str,
    billing_details: Value,
    metadata: serde_json::Map<String, Value>,
) -> Result<String, ApiError> {
    let id = random::id("pm");
    let brand = card_checks::brand(&card.number);
    tx.execute(
        "INSERT INTO psp_payment_methods (id, number, cvc, brand, last4, exp_month, exp_year, fingerprint,
             country, cvc_check, billing_details, metadata, created)
         VALUES (?1, vault_seal('pm:' || ?1, ?2), vault_seal('pm:' || ?1, ?3), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            id,
            card.number,
            card.cvc,
            brand,
            &card.number[card.number.len() - 4..],
            card.exp_month,
            card.exp_year,
            fingerprint,
            country(&card.number),
            card.cvc.as_ref().map(|_| "unchecked"),
            billing_details.to_string(),
            Value::Object(metadata).to_string(),
            ctx.now
        ],
    )?;
    Ok(id)
}

/// `(year, month)` of business time.
pub(super) fn today(now: i64) -> Result<(i32, u8), ApiError> {
    let date = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|_| ApiError::internal("clock out of range"))?;
    Ok((date.year(), u8::from(date.month())))
}

/// The payment method `id`, or a fresh one for one of Stripe's test tokens (`pm_card_visa`, …),
/// or 404 naming `param`.
pub fn resolve(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    id: &str,
    param: &str,
) -> Result<PaymentMethodView, ApiError> {
    if let Some(number) = card_checks::token_number(id) {
        let (year, month) = today(ctx.now)?;
        let card = CardInput {
            number: number.to_owned(),
            exp_month: month,
            exp_year: year + 3,
            cvc: None,
        };
        let fp = fingerprint(fingerprint_key, number);
        let new_id = insert_payment_method(tx, ctx, &card, &fp, json!({}), serde_json::Map::new())?;
        return view(tx, &new_id, param);
    }
    view(tx, id, param)
}

/// A payment method's public facts, or 404 naming `param`.
pub fn view(conn: &Connection, id: &str, param: &str) -> Result<PaymentMethodView, ApiError> {
    conn.query_row(
        "SELECT id, customer, brand, last4, exp_month, exp_year, fingerprint, off_session_ready
         FROM psp_payment_methods WHERE id = ?1",
        [id],
        |r| {
            Ok(PaymentMethodView {
                id: r.get(0)?,
                customer: r.get(1)?,
                brand: r.get(2)?,
                last4: r.get(3)?,
                exp_month: r.get(4)?,
                exp_year: r.get(5)?,
                fingerprint: r.get(6)?,
                off_session_ready: r.get(7)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("payment_method", param, id))
}

/// The card number, opened from the vault (PSP only: it decides what the card network says).
pub(super) fn number(conn: &Connection, id: &str) -> Result<String, ApiError> {
    conn.query_row(
        "SELECT vault_open('pm:' || id, number) FROM psp_payment_methods WHERE id = ?1",
        [id],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()?
    .flatten()
    .ok_or_else(|| ApiError::internal("payment method number does not open"))
}

/// Records the outcome of a CVC check (a setup or a payment that reached the network).
pub(super) fn set_cvc_check(conn: &Connection, id: &str, pass: bool) -> Result<(), ApiError> {
    conn.execute(
        "UPDATE psp_payment_methods SET cvc_check = ?2 WHERE id = ?1 AND cvc_check IS NOT NULL",
        params![id, if pass { "pass" } else { "fail" }],
    )?;
    Ok(())
}

/// Marks a payment method as set up for off-session payments.
pub(super) fn set_off_session_ready(conn: &Connection, id: &str) -> Result<(), ApiError> {
    conn.execute(
        "UPDATE psp_payment_methods SET off_session_ready = 1 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

/// Attaches a payment method to a customer. Refuses one attached to another customer
/// (Stripe's rule: detach first).
pub fn attach_payment_method(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    customer: &str,
) -> Result<PaymentMethodView, ApiError> {
    ensure_customer(tx, customer, "customer")?;
    let pm = view(tx, id, "payment_method")?;
    match pm.customer.as_deref() {
        Some(c) if c == customer => return Ok(pm),
        Some(_) => {
            return Err(refuse(
                "payment_method_unexpected_state",
                Some("payment_method"),
                "This PaymentMethod is attached to another customer; detach it first.",
            ))
        }
        None => {}
    }
    tx.execute(
        "UPDATE psp_payment_methods SET customer = ?2 WHERE id = ?1",
        params![id, customer],
    )?;
    emit(
        tx,
        ctx,
        "payment_method.attached",
        &payment_method_json(tx, id)?,
        None,
    )?;
    view(tx, id, "payment_method")
}

/// Detaches a payment method from its customer (and clears it as the customer's default). A
/// detached method cannot be used again, as with Stripe.
pub fn detach_payment_method(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let pm = view(tx, id, "payment_method")?;
    let Some(customer) = pm.customer else {
        return Err(refuse(
            "payment_method_unexpected_state",
            Some("payment_method"),
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        ));
    };
    let before = payment_method_json(tx, id)?;
    tx.execute(
        "UPDATE psp_payment_methods SET customer = NULL WHERE id = ?1",
        [id],
    )?;
    tx.execute(
        "UPDATE psp_customers SET default_payment_method = NULL WHERE id = ?1 AND default_payment_method = ?2",
        params![customer, id],
    )?;
    emit(
        tx,
        ctx,
        "payment_method.detached",
        &payment_method_json(tx, id)?,
        Some(json!({ "customer": before["customer"] })),
    )?;
    Ok(())
}

/// A payment method as Stripe renders it: never the number or CVC.
pub fn payment_method_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, customer, brand, last4, exp_month, exp_year, fingerprint, country, cvc_check,
                billing_details, metadata, created
         FROM psp_payment_methods WHERE id = ?1",
        [id],
        |r| {
            let brand: String = r.get(2)?;
            let billing = parse_json(&r.get::<_, String>(9)?);
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "payment_method",
                "allow_redisplay": "unspecified",
                "billing_details": {
                    "address": {
                        "city": Value::Null, "country": Value::Null, "line1": Value::Null,
                        "line2": Value::Null, "postal_code": Value::Null, "state": Value::Null,
                    },
                    "email": billing["email"],
                    "name": billing["name"],
                    "phone": billing["phone"],
                },
                "card": {
                    "brand": brand,
                    "checks": {
                        "address_line1_check": Value::Null,
                        "address_postal_code_check": Value::Null,
                        "cvc_check": r.get::<_, Option<String>>(8)?,
                    },
                    "country": r.get::<_, String>(7)?,
                    "display_brand": brand,
                    "exp_month": r.get::<_, i64>(4)?,
                    "exp_year": r.get::<_, i64>(5)?,
                    "fingerprint": r.get::<_, String>(6)?,
                    "funding": "credit",
                    "generated_from": Value::Null,
                    "last4": r.get::<_, String>(3)?,
                    "networks": { "available": [brand], "preferred": Value::Null },
                    "three_d_secure_usage": { "supported": true },
                    "wallet": Value::Null,
                },
                "created": r.get::<_, i64>(11)?,
                "customer": r.get::<_, Option<String>>(1)?,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(10)?),
                "type": "card",
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("payment_method", "id", id))
}

/// Reads and checks `card[…]` (number, expiry on `now`, CVC).
pub(super) fn read_card(f: &mut super::form::Fields, now: i64) -> Result<CardInput, ApiError> {
    let Some(mut c) = f.map("card")? else {
        return Err(invalid("card", "Missing required param: card."));
    };
    let raw = c.required("number")?;
    let number = card_checks::check_number(&raw).map_err(card_error)?;
    let month = c.int("exp_month")?.ok_or_else(|| {
        invalid(
            "card[exp_month]",
            "Missing required param: card[exp_month].",
        )
    })?;
    let year = c
        .int("exp_year")?
        .ok_or_else(|| invalid("card[exp_year]", "Missing required param: card[exp_year]."))?;
    let cvc = c.str("cvc")?;
    c.finish()?;
    let exp_year = card_checks::check_expiry(month, year, today(now)?).map_err(card_error)?;
    if let Some(cvc) = &cvc {
        card_checks::check_cvc(cvc, card_checks::brand(&number)).map_err(card_error)?;
    }
    Ok(CardInput {
        number,
        exp_month: month as u8,
        exp_year,
        cvc,
    })
}

// ------------------------------------------------------------------- endpoints

/// The payment method endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/payment_methods", post(create).get(list))
        .route("/v1/payment_methods/{id}", get(retrieve))
        .route("/v1/payment_methods/{id}/attach", post(attach))
        .route("/v1/payment_methods/{id}/detach", post(detach))
        .route("/v1/customers/{id}/payment_methods", get(list_of_customer))
}

async fn create(
    State(state): State<AppState>,
    psp: PspPublic,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let kind = f.required("type")?;
    if kind != "card" {
        return Err(invalid(
            "type",
            "Only card payment methods exist here (type=card).",
        ));
    }
    // Card refusals are decided before anything runs: they store nothing against the key.
    let card = read_card(&mut f, psp.ctx.now).map_err(ApiError::not_executed)?;
    let billing = match f.map("billing_details")? {
        Some(mut b) => {
            let mut doc = serde_json::Map::new();
            for key in ["name", "email", "phone"] {
                let name = b.name(key);
                if let Some(v) = b.str(key)? {
                    if v.chars().count() > 256 {
                        return Err(invalid(
                            &name,
                            format!("{name} has at most 256 characters."),
                        ));
                    }
                    doc.insert(key.into(), Value::String(v));
                }
            }
            b.finish()?;
            Value::Object(doc)
        }
        None => json!({}),
    };
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let fp = fingerprint(&state.vault.subkey(FINGERPRINT_PURPOSE), &card.number);
    let doc = state
        .db
        .transaction(move |tx| {
            let id = insert_payment_method(tx, &ctx, &card, &fp, billing, metadata)?;
            payment_method_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| payment_method_json(conn, &id))
        .await?;
    Ok(Json(doc))
}

async fn attach(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let customer = f.required("customer")?;
    f.finish()?;
    let ctx = psp.ctx;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let doc = state
        .db
        .transaction(move |tx| {
            let pm = resolve(tx, &ctx, &key, &id, "payment_method")?;
            attach_payment_method(tx, &ctx, &pm.id, &customer)?;
            payment_method_json(tx, &pm.id)
        })
        .await?;
    Ok(Json(doc))
}

async fn detach(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    body_fields(&headers, &body)?.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            detach_payment_method(tx, &ctx, &id)?;
            payment_method_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn list_filtered(
    state: AppState,
    customer: Option<String>,
    uri: Uri,
    url: String,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let customer = match customer {
        Some(c) => Some(c),
        None => f.str("customer")?,
    };
    if let Some(kind) = f.str("type")? {
        if kind != "card" {
            return Err(invalid(
                "type",
                "Only card payment methods exist here (type=card).",
            ));
        }
    }
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let Some(customer) = customer else {
                return Err(invalid("customer", "Missing required param: customer."));
            };
            ensure_customer(conn, &customer, "customer")?;
            let (ids, more) = model::page(
                conn,
                "psp_payment_methods",
                "customer = ?1",
                &[&customer],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| payment_method_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, &url))
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    list_filtered(state, None, uri, "/v1/payment_methods".into()).await
}

async fn list_of_customer(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let url = format!("/v1/customers/{id}/payment_methods");
    list_filtered(state, Some(id), uri, url).await
}
