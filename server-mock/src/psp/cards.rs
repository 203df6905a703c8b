//! Virtual cards (`ic_…`): issuing (a number that is unused and Luhn-valid, the expiry, the
//! spending controls), status changes and their effect on the card's wallet tokens, the secrets
//! revealed to the member, and whether a card may go into a wallet. Only this resource's table
//! holds a card number and CVC.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;
use tierspay_core::wire::codes;
use tierspay_wallet::controls::{SpendingControls, SpendingLimit};
use tierspay_wallet::pan;

use super::cardholders::cardholder_json;
use super::events::{emit, emit_update};
use super::form::{self, invalid, Fields};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::tokens;
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// Years a new card is valid.
pub const CARD_YEARS: i32 = 3;

/// What the platform may know of a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardView {
    /// `ic_…`
    pub id: String,
    /// `ich_…`
    pub cardholder_id: String,
    /// Last four digits of the card number.
    pub last4: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// `Visa`.
    pub brand: String,
    /// active | inactive | canceled.
    pub status: String,
    /// Can go into Apple Wallet.
    pub apple_pay_eligible: bool,
    /// Can go into Google Wallet.
    pub google_pay_eligible: bool,
    /// PassKit's `primaryAccountIdentifier`, once the card was provisioned somewhere.
    pub primary_account_identifier: Option<String>,
    /// Stripe-shaped spending controls.
    pub spending_controls: SpendingControls,
}

impl CardView {
    fn from_row(row: &CardRow) -> Self {
        let (eligible, _) = wallet_eligibility(row);
        Self {
            id: row.id.clone(),
            cardholder_id: row.cardholder_id.clone(),
            last4: row.last4.clone(),
            exp_month: row.exp_month,
            exp_year: row.exp_year,
            brand: row.brand.clone(),
            status: row.status.clone(),
            apple_pay_eligible: eligible,
            google_pay_eligible: eligible,
            primary_account_identifier: row.primary_account_identifier.clone(),
            spending_controls: row.spending_controls.clone(),
        }
    }
}

/// The card's secrets, for the member's own eyes only (the app shows them on request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardSecret {
    /// The full number.
    pub number: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// Three digits.
    pub cvc: String,
}

/// A new card (HTTP or platform).
#[derive(Debug, Clone)]
pub struct NewCard {
    /// `ich_…`
    pub cardholder_id: String,
    /// active | inactive.
    pub status: String,
    /// Validated controls.
    pub spending_controls: SpendingControls,
    /// Metadata.
    pub metadata: Map<String, Value>,
}

/// A random number of `bin` not yet in `table.column` (cards and device PANs), optionally
/// avoiding a last four (a device PAN must not look like its card).
pub(super) fn unused_number(
    conn: &Connection,
    bin: &str,
    avoid_last4: Option<&str>,
    table: &str,
    column: &str,
) -> Result<String, ApiError> {
    for _ in 0..100 {
        let candidate = pan::random(bin).map_err(|e| ApiError::internal(&e.to_string()))?;
        if avoid_last4.is_some_and(|l| pan::last4(&candidate) == l) {
            continue;
        }
        let taken: bool = conn.query_row(
            &format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE {column} = ?1)"),
            [&candidate],
            |r| r.get(0),
        )?;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(ApiError::internal("card number range exhausted"))
}

fn expiry(now: i64) -> Result<(u8, i32), ApiError> {
    let date = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|_| ApiError::internal("clock out of range"))?;
    Ok((u8::from(date.month()), date.year() + CARD_YEARS))
}

pub(crate) fn insert_card(tx: &Connection, ctx: &Ctx, c: NewCard) -> Result<CardRow, ApiError> {
    let holder_status: Option<String> = tx
        .query_row(
            "SELECT status FROM psp_cardholders WHERE id = ?1",
            [&c.cardholder_id],
            |r| r.get(0),
        )
        .optional()?;
    match holder_status.as_deref() {
        None => {
            return Err(missing(
                "issuing.cardholder",
                "cardholder",
                &c.cardholder_id,
            ))
        }
        Some("active") => {}
        Some(_) if c.status == "inactive" => {}
        Some(_) => {
            return Err(refuse(
                codes::CARDHOLDER_INACTIVE,
                Some("cardholder"),
                "Cards of an inactive or blocked cardholder cannot be active.",
            ))
        }
    }
    let number = unused_number(tx, pan::TEST_BIN, None, "psp_cards", "number")?;
    let cvc = random::numeric_code(3);
    let (exp_month, exp_year) = expiry(ctx.now)?;
    let id = random::id("ic");
    let controls = serde_json::to_string(&c.spending_controls)
        .map_err(|e| ApiError::internal(&e.to_string()))?;
    tx.execute(
        "INSERT INTO psp_cards (id, cardholder_id, number, cvc, exp_month, exp_year, last4, brand, currency, type,
                                status, spending_controls, metadata, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'Visa', 'eur', 'virtual', ?8, ?9, ?10, ?11)",
        params![
            id,
            c.cardholder_id,
            number,
            cvc,
            exp_month,
            exp_year,
            pan::last4(&number),
            c.status,
            controls,
            Value::Object(c.metadata).to_string(),
            ctx.now
        ],
    )?;
    let row = card_row(tx, &id, "card")?;
    emit(
        tx,
        ctx,
        "issuing_card.created",
        &card_json(tx, &row, &[])?,
        None,
    )?;
    Ok(row)
}

/// Issues TiersPay's virtual card: active, the 14 healthcare categories only, French merchants
/// only, 1,500 € per authorization and 3,000 € a day.
pub fn issue_healthcare_card(
    tx: &Connection,
    cardholder_id: &str,
    now: i64,
) -> Result<CardView, ApiError> {
    let row = insert_card(
        tx,
        &Ctx::at(now),
        NewCard {
            cardholder_id: cardholder_id.to_owned(),
            status: "active".into(),
            spending_controls: SpendingControls::healthcare(),
            metadata: Map::new(),
        },
    )?;
    Ok(CardView::from_row(&row))
}

/// A card.
pub fn card(conn: &Connection, card_id: &str) -> Result<CardView, ApiError> {
    Ok(CardView::from_row(&card_row(conn, card_id, "card")?))
}

/// Cards of a cardholder, newest first.
pub fn cards_of_cardholder(
    conn: &Connection,
    cardholder_id: &str,
) -> Result<Vec<CardView>, ApiError> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM psp_cards WHERE cardholder_id = ?1 ORDER BY seq DESC")?
        .query_map([cardholder_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter().map(|id| card(conn, id)).collect()
}

/// Refuses (404, param `card`, as if it did not exist) a card that is not `cardholder_id`'s.
pub fn ensure_card_of(
    conn: &Connection,
    card_id: &str,
    cardholder_id: &str,
) -> Result<(), ApiError> {
    let row = card_row(conn, card_id, "card")?;
    if row.cardholder_id != cardholder_id {
        return Err(missing("issuing.card", "card", card_id));
    }
    Ok(())
}

/// Changes a card's status with its effects on tokens: freezing (`inactive`) suspends active
/// tokens, reactivating resumes the ones the freeze suspended, canceling deletes them all.
pub(crate) fn change_card_status(
    tx: &Connection,
    ctx: &Ctx,
    card: &CardRow,
    status: &str,
    cancellation_reason: Option<&str>,
) -> Result<(), ApiError> {
    if card.status == status {
        return Ok(());
    }
    if card.status == "canceled" {
        return Err(refuse(
            codes::CARD_CANCELED,
            Some("status"),
            "This card is canceled; a canceled card cannot be changed. Issue a new card.",
        ));
    }
    tx.execute(
        "UPDATE psp_cards SET status = ?2, cancellation_reason = ?3 WHERE id = ?1",
        params![card.id, status, cancellation_reason],
    )?;
    for token in tokens::tokens_of(tx, &card.id)? {
        match (status, token.status.as_str()) {
            ("inactive", "active") => {
                tokens::update_token(tx, ctx, &token, "suspended", "suspended", true)?;
            }
            ("active", "suspended") if token.suspended_by_card => {
                tokens::update_token(tx, ctx, &token, "active", "active", false)?;
            }
            ("canceled", s) if s != "deleted" => {
                tokens::update_token(tx, ctx, &token, "deleted", "deleted", false)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Freezes (`inactive`) or unfreezes (`active`) a card; tokens follow.
pub fn set_card_status(
    tx: &Connection,
    card_id: &str,
    status: &str,
    now: i64,
) -> Result<CardView, ApiError> {
    if !matches!(status, "active" | "inactive") {
        return Err(refuse(
            "parameter_invalid",
            Some("status"),
            "status must be active or inactive.",
        ));
    }
    let ctx = Ctx::at(now);
    let before = card_row(tx, card_id, "card")?;
    change_card_status(tx, &ctx, &before, status, None)?;
    let after = card_row(tx, card_id, "card")?;
    emit_update(
        tx,
        &ctx,
        "issuing_card",
        &card_json(tx, &before, &[])?,
        &card_json(tx, &after, &[])?,
    )?;
    Ok(CardView::from_row(&after))
}

/// The full number, expiry and CVC.
pub fn reveal(conn: &Connection, card_id: &str) -> Result<CardSecret, ApiError> {
    let row = card_row(conn, card_id, "card")?;
    let (number, cvc) = card_secret(conn, card_id)?;
    Ok(CardSecret {
        number,
        exp_month: row.exp_month,
        exp_year: row.exp_year,
        cvc,
    })
}

/// Refuses a frozen or canceled card for a wallet (param `card`).
pub(super) fn provisionable(card: &CardRow) -> Result<(), ApiError> {
    match card.status.as_str() {
        "active" => Ok(()),
        "inactive" => Err(refuse(
            codes::CARD_INACTIVE,
            Some("card"),
            "This card is frozen (inactive); unfreeze it before adding it to a wallet.",
        )),
        _ => Err(refuse(
            codes::CARD_CANCELED,
            Some("card"),
            "This card is canceled; it cannot be added to a wallet.",
        )),
    }
}

/// Gives the card its PassKit `primaryAccountIdentifier` at its first wallet token.
pub(super) fn ensure_pai(tx: &Connection, ctx: &Ctx, card: &CardRow) -> Result<(), ApiError> {
    if card.primary_account_identifier.is_some() {
        return Ok(());
    }
    let pai = format!(
        "V-{}",
        random::numeric_code(9) + &random::numeric_code(9) + &random::numeric_code(4)
    );
    tx.execute(
        "UPDATE psp_cards SET primary_account_identifier = ?2 WHERE id = ?1",
        params![card.id, pai],
    )?;
    let after = card_row(tx, &card.id, "card")?;
    emit_update(
        tx,
        ctx,
        "issuing_card",
        &card_json(tx, card, &[])?,
        &card_json(tx, &after, &[])?,
    )
}

// ------------------------------------------------------------------- rows and Stripe JSON

/// A card's stored facts (the number and CVC stay out of it).
#[derive(Debug, Clone)]
pub struct CardRow {
    /// `ic_…`
    pub id: String,
    /// `ich_…`
    pub cardholder_id: String,
    /// Last four digits.
    pub last4: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// `Visa`.
    pub brand: String,
    /// `eur`.
    pub currency: String,
    /// `virtual`.
    pub kind: String,
    /// active | inactive | canceled.
    pub status: String,
    /// lost | stolen | null.
    pub cancellation_reason: Option<String>,
    /// Stripe-shaped controls.
    pub spending_controls: SpendingControls,
    /// Metadata object.
    pub metadata: Value,
    /// Set at the first wallet provisioning.
    pub primary_account_identifier: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// A card's row, or 404 naming `param`.
pub fn card_row(conn: &Connection, id: &str, param: &str) -> Result<CardRow, ApiError> {
    conn.prepare_cached("SELECT id, cardholder_id, last4, exp_month, exp_year, brand, currency, type, status,
                cancellation_reason, spending_controls, metadata, primary_account_identifier, created
         FROM psp_cards WHERE id = ?1")?.query_row(
        [id],
        |r| {
            Ok(CardRow {
                id: r.get(0)?,
                cardholder_id: r.get(1)?,
                last4: r.get(2)?,
                exp_month: r.get(3)?,
                exp_year: r.get(4)?,
                brand: r.get(5)?,
                currency: r.get(6)?,
                kind: r.get(7)?,
                status: r.get(8)?,
                cancellation_reason: r.get(9)?,
                spending_controls: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
                metadata: parse_json(&r.get::<_, String>(11)?),
                primary_account_identifier: r.get(12)?,
                created: r.get(13)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("issuing.card", param, id))
}

/// The number, expiry and CVC: PSP tables only.
pub fn card_secret(conn: &Connection, id: &str) -> Result<(String, String), ApiError> {
    conn.query_row(
        "SELECT number, cvc FROM psp_cards WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| missing("issuing.card", "card", id))
}

/// Whether a card can go into a wallet, and why not.
pub fn wallet_eligibility(card: &CardRow) -> (bool, Option<&'static str>) {
    if card.status == "canceled" {
        // Stripe has no reason for this; the mock names it.
        (false, Some(codes::CARD_CANCELED))
    } else {
        (true, None)
    }
}

/// A card as Stripe renders it; `expand` may hold `cardholder`, `number`, `cvc`.
pub fn card_json(conn: &Connection, card: &CardRow, expand: &[String]) -> Result<Value, ApiError> {
    let (eligible, reason) = wallet_eligibility(card);
    let wallet = json!({ "eligible": eligible, "ineligible_reason": reason });
    let mut doc = json!({
        "id": card.id,
        "object": "issuing.card",
        "brand": card.brand,
        "cancellation_reason": card.cancellation_reason,
        // Stripe embeds the whole cardholder in a card (it is not expandable).
        "cardholder": cardholder_json(conn, &card.cardholder_id)?,
        "created": card.created,
        "currency": card.currency,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "last4": card.last4,
        "livemode": false,
        "metadata": card.metadata,
        "replaced_by": Value::Null,
        "replacement_for": Value::Null,
        "replacement_reason": Value::Null,
        "shipping": Value::Null,
        "spending_controls": card.spending_controls,
        "status": card.status,
        "type": card.kind,
        "wallets": {
            "apple_pay": wallet,
            "google_pay": wallet,
            "primary_account_identifier": card.primary_account_identifier,
        },
    });
    for field in expand {
        match field.as_str() {
            // Accepted for clients written against older API versions: already embedded.
            "cardholder" => {}
            "number" | "cvc" => {
                let (number, cvc) = card_secret(conn, &card.id)?;
                doc[field.as_str()] = Value::String(if field == "number" { number } else { cvc });
            }
            other => {
                return Err(invalid(
                    "expand",
                    format!("This property cannot be expanded ({other}). Expandable: cardholder, number, cvc."),
                ))
            }
        }
    }
    Ok(doc)
}

// ------------------------------------------------------------------- endpoints

/// The card endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/issuing/cards", post(create).get(list))
        .route("/v1/issuing/cards/{id}", get(retrieve).post(update))
}

fn read_controls(
    fields: Option<Fields>,
    base: SpendingControls,
) -> Result<SpendingControls, ApiError> {
    let Some(mut sc) = fields else {
        return Ok(base);
    };
    let mut c = base;
    let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
    if let Some(v) = sc.strings("allowed_categories")? {
        c.allowed_categories = some(v);
    }
    if let Some(v) = sc.strings("blocked_categories")? {
        c.blocked_categories = some(v);
    }
    if let Some(v) = sc.strings("allowed_merchant_countries")? {
        c.allowed_merchant_countries = some(v);
    }
    if let Some(v) = sc.strings("blocked_merchant_countries")? {
        c.blocked_merchant_countries = some(v);
    }
    if let Some(items) = sc.list("spending_limits")? {
        let mut limits = Vec::with_capacity(items.len());
        for item in items {
            let mut m = Fields::item_map(item)?;
            let amount_name = m.name("amount");
            let amount = m.int("amount")?.ok_or_else(|| {
                invalid(
                    &amount_name,
                    format!("Missing required param: {amount_name}."),
                )
            })?;
            let categories = m.strings("categories")?.filter(|v| !v.is_empty());
            let interval = m.required("interval")?;
            m.finish()?;
            limits.push(SpendingLimit {
                amount,
                categories,
                interval,
            });
        }
        c.spending_limits = limits;
    }
    if let Some(cur) = sc.str("spending_limits_currency")? {
        c.spending_limits_currency = (!cur.is_empty()).then_some(cur);
    }
    sc.finish()?;
    if !c.spending_limits.is_empty() && c.spending_limits_currency.is_none() {
        c.spending_limits_currency = Some("eur".into());
    }
    c.validate("spending_controls")
        .map_err(|e| invalid(&e.field, format!("{}: {}.", e.field, e.message)))?;
    Ok(c)
}

fn check_expand(expand: &[String]) -> Result<(), ApiError> {
    for e in expand {
        if !matches!(e.as_str(), "cardholder" | "number" | "cvc") {
            return Err(invalid(
                "expand",
                format!(
                    "This property cannot be expanded ({e}). Expandable: cardholder, number, cvc."
                ),
            ));
        }
    }
    Ok(())
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let cardholder_id = f.required("cardholder")?;
    let currency = f.required("currency")?;
    if !currency.eq_ignore_ascii_case("eur") {
        return Err(invalid("currency", "Cards of this issuer are in eur only."));
    }
    let kind = f.required("type")?;
    if kind != "virtual" {
        return Err(invalid(
            "type",
            "Only virtual cards are issued here (type=virtual).",
        ));
    }
    let status = f
        .one_of("status", &["active", "inactive"])?
        .unwrap_or_else(|| "inactive".into());
    let spending_controls =
        read_controls(f.map("spending_controls")?, SpendingControls::default())?;
    let metadata = to_map(f.metadata()?);
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let new = NewCard {
        cardholder_id,
        status,
        spending_controls,
        metadata,
    };
    let doc = state
        .db
        .transaction(move |tx| {
            let row = insert_card(tx, &ctx, new)?;
            card_json(tx, &row, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let row = card_row(conn, &id, "id")?;
            card_json(conn, &row, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn update(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let status = f.one_of("status", &["active", "inactive", "canceled"])?;
    let reason = f.one_of("cancellation_reason", &["lost", "stolen"])?;
    if reason.is_some() && status.as_deref() != Some("canceled") {
        return Err(invalid(
            "cancellation_reason",
            "cancellation_reason can only be set with status=canceled.",
        ));
    }
    let controls_fields = f.map("spending_controls")?;
    let metadata = f.metadata()?;
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let before = card_row(tx, &id, "id")?;
            if controls_fields.is_some() {
                let controls = read_controls(controls_fields, before.spending_controls.clone())?;
                if before.status == "canceled" {
                    return Err(ApiError::invalid(
                        codes::CARD_CANCELED,
                        "This card is canceled; it cannot be changed.",
                    ));
                }
                tx.execute(
                    "UPDATE psp_cards SET spending_controls = ?2 WHERE id = ?1",
                    rusqlite::params![
                        id,
                        serde_json::to_string(&controls)
                            .map_err(|e| ApiError::internal(&e.to_string()))?
                    ],
                )?;
            }
            if let Some(changes) = metadata {
                let mut meta = before.metadata.as_object().cloned().unwrap_or_default();
                form::merge_metadata(&mut meta, changes);
                tx.execute(
                    "UPDATE psp_cards SET metadata = ?2 WHERE id = ?1",
                    rusqlite::params![id, Value::Object(meta).to_string()],
                )?;
            }
            if let Some(status) = &status {
                change_card_status(tx, &ctx, &before, status, reason.as_deref())?;
            }
            let after = card_row(tx, &id, "id")?;
            emit_update(
                tx,
                &ctx,
                "issuing_card",
                &card_json(tx, &before, &[])?,
                &card_json(tx, &after, &[])?,
            )?;
            card_json(tx, &after, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let cardholder = f.str("cardholder")?;
    let status = f.one_of("status", &["active", "inactive", "canceled"])?;
    let kind = f.one_of("type", &["virtual", "physical"])?;
    let last4 = f.str("last4")?;
    let exp_month = f.int("exp_month")?;
    let exp_year = f.int("exp_year")?;
    let expand = f.expand()?;
    let data_expand: Vec<String> = expand
        .iter()
        .filter_map(|e| e.strip_prefix("data.").map(str::to_owned))
        .collect();
    if data_expand.len() != expand.len() {
        return Err(invalid(
            "expand",
            "In a list, expand fields of its items as data.<field>.",
        ));
    }
    check_expand(&data_expand)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_cards",
                "(?1 IS NULL OR cardholder_id = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR type = ?3)
                 AND (?4 IS NULL OR last4 = ?4) AND (?5 IS NULL OR exp_month = ?5) AND (?6 IS NULL OR exp_year = ?6)",
                &[&cardholder, &status, &kind, &last4, &exp_month, &exp_year],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| card_row(conn, id, "id").and_then(|row| card_json(conn, &row, &data_expand)))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/cards"))
        })
        .await?;
    Ok(Json(doc))
}
