//! Connect accounts (`acct_…`): the insurers' connected accounts (`type=custom`), created and
//! read by the platform. The platform's own account ([`PLATFORM_ACCOUNT`]) is implicit:
//! `GET /v1/account` shows it, and it is the account every request acts for unless it names a
//! connected one in `Stripe-Account`. Balances live in the ledger (`balance`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;

use super::balance::PLATFORM_ACCOUNT;
use super::events::emit;
use super::form::invalid;
use super::model::{self, missing, parse_json, Ctx, Paging};
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// A connected account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Two-letter country (`FR`).
    pub country: String,
    /// `business_profile[name]`.
    pub business_name: Option<String>,
    /// Contact email.
    pub email: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
}

/// What the platform keeps of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    /// `acct_…`
    pub id: String,
    /// `business_profile[name]`.
    pub business_name: Option<String>,
    /// `FR`.
    pub country: String,
}

/// Creates a custom connected account, able to receive transfers at once (the mock has no
/// onboarding: `charges_enabled` and `payouts_enabled` are true).
pub fn create_account(tx: &Connection, ctx: &Ctx, a: NewAccount) -> Result<AccountView, ApiError> {
    let id = format!(
        "acct_1{}",
        random::numeric_code(8) + &random::numeric_code(7)
    );
    let profile = json!({ "name": a.business_name, "mcc": Value::Null, "url": Value::Null });
    tx.execute(
        "INSERT INTO psp_accounts (id, type, country, email, business_profile, metadata, created)
         VALUES (?1, 'custom', ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            a.country,
            a.email,
            profile.to_string(),
            Value::Object(a.metadata).to_string(),
            ctx.now
        ],
    )?;
    let doc = account_json(tx, &id)?;
    emit(tx, ctx, "account.created", &doc, None)?;
    Ok(AccountView {
        id,
        business_name: a.business_name,
        country: a.country,
    })
}

/// An account as Stripe renders it (the platform's own too).
pub fn account_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    if id == PLATFORM_ACCOUNT {
        return Ok(json!({
            "id": PLATFORM_ACCOUNT,
            "object": "account",
            "business_profile": { "name": "TiersPay", "mcc": Value::Null, "url": Value::Null },
            "business_type": "company",
            "charges_enabled": true,
            "country": "FR",
            "created": 0,
            "default_currency": "eur",
            "details_submitted": true,
            "email": Value::Null,
            "metadata": {},
            "payouts_enabled": true,
            "type": "standard",
        }));
    }
    conn.query_row(
        "SELECT id, type, country, email, business_profile, metadata, created FROM psp_accounts WHERE id = ?1",
        [id],
        |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "account",
                "business_profile": parse_json(&r.get::<_, String>(4)?),
                "business_type": "company",
                "capabilities": { "card_payments": "active", "transfers": "active" },
                "charges_enabled": true,
                "country": r.get::<_, String>(2)?,
                "created": r.get::<_, i64>(6)?,
                "default_currency": "eur",
                "details_submitted": true,
                "email": r.get::<_, Option<String>>(3)?,
                "metadata": parse_json(&r.get::<_, String>(5)?),
                "payouts_enabled": true,
                "type": r.get::<_, String>(1)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("account", "account", id))
}

/// A connected account (not the platform), or 404 naming `param`.
pub fn account(conn: &Connection, id: &str, param: &str) -> Result<AccountView, ApiError> {
    conn.query_row(
        "SELECT id, country, business_profile FROM psp_accounts WHERE id = ?1",
        [id],
        |r| {
            Ok(AccountView {
                id: r.get(0)?,
                country: r.get(1)?,
                business_name: parse_json(&r.get::<_, String>(2)?)["name"]
                    .as_str()
                    .map(str::to_owned),
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("account", param, id))
}

// ------------------------------------------------------------------- endpoints

/// The account endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", axum::routing::post(create).get(list))
        .route("/v1/accounts/{id}", get(retrieve))
        .route("/v1/account", get(retrieve_own))
}

fn bounded(value: Option<String>, param: &str, max: usize) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > max => Err(invalid(
            param,
            format!("{param} has at most {max} characters."),
        )),
        other => Ok(other.filter(|v| !v.is_empty())),
    }
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if headers.contains_key("stripe-account") {
        return Err(invalid(
            "Stripe-Account",
            "Connected accounts are created by the platform, not on behalf of another account.",
        ));
    }
    let mut f = body_fields(&headers, &body)?;
    let kind = f.required("type")?;
    if kind != "custom" {
        return Err(invalid(
            "type",
            "Only custom connected accounts are created here (type=custom).",
        ));
    }
    let country = f
        .str("country")?
        .unwrap_or_else(|| "FR".into())
        .to_ascii_uppercase();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "country",
            "country is a two-letter ISO 3166-1 code.",
        ));
    }
    let email = bounded(f.str("email")?, "email", 512)?;
    let business_name = match f.map("business_profile")? {
        Some(mut bp) => {
            let name_param = bp.name("name");
            let name = bounded(bp.str("name")?, &name_param, 200)?;
            bp.finish()?;
            name
        }
        None => None,
    };
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let view = create_account(
                tx,
                &ctx,
                NewAccount {
                    country,
                    business_name,
                    email,
                    metadata,
                },
            )?;
            account_json(tx, &view.id)
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
        .call(move |conn| {
            account_json(conn, &id).map_err(|mut e| {
                e.detail.param = Some("account".into());
                e
            })
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve_own(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| {
            let id = super::balance::acting_account(conn, &headers)?;
            account_json(conn, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(conn, "psp_accounts", "1", &[], &paging)?;
            let data = ids
                .iter()
                .map(|id| account_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/accounts"))
        })
        .await?;
    Ok(Json(doc))
}
