//! Issuing transactions (`ipi_…`): what a captured authorization became, as Stripe's
//! `issuing.transaction` (type `capture`, a negative `amount`: money that left the Issuing
//! balance for the card network). Written by `authorizations`; read here.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use super::authorizations::{read_created, AuthRow};
use super::model::{self, missing, parse_json, Ctx, Paging};
use super::wire::{query_fields, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// A transaction to write.
pub struct NewTransaction<'a> {
    /// `ipi_…` (chosen by the caller: its ledger movement names it).
    pub id: &'a str,
    /// The authorization it settles.
    pub authorization: &'a AuthRow,
    /// capture | refund.
    pub kind: &'a str,
    /// Signed minor units (negative for a capture).
    pub amount: i64,
    /// Its `txn_…`.
    pub balance_transaction: Option<&'a str>,
}

/// Writes a transaction; its JSON.
pub fn insert(tx: &Connection, ctx: &Ctx, t: NewTransaction<'_>) -> Result<Value, ApiError> {
    let a = t.authorization;
    tx.prepare_cached(
        "INSERT INTO psp_issuing_transactions (id, authorization_id, card_id, cardholder_id, token_id, type,
             amount, currency, merchant_data, wallet, balance_transaction, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        t.id,
        a.id,
        a.card_id,
        a.cardholder_id,
        a.token_id,
        t.kind,
        t.amount,
        a.currency,
        a.merchant_data.to_string(),
        a.wallet,
        t.balance_transaction,
        ctx.now
    ])?;
    transaction_json(tx, t.id, "id")
}

/// A transaction as Stripe renders it.
pub fn transaction_json(conn: &Connection, id: &str, param: &str) -> Result<Value, ApiError> {
    conn.prepare_cached(
        "SELECT id, authorization_id, card_id, cardholder_id, token_id, type, amount, currency,
                merchant_data, wallet, balance_transaction, metadata, created
         FROM psp_issuing_transactions WHERE id = ?1",
    )?
    .query_row([id], |r| {
        let amount: i64 = r.get(6)?;
        let currency: String = r.get(7)?;
        Ok(json!({
            "id": r.get::<_, String>(0)?,
            "object": "issuing.transaction",
            "amount": amount,
            "amount_details": { "atm_fee": Value::Null, "cashback_amount": Value::Null },
            "authorization": r.get::<_, Option<String>>(1)?,
            "balance_transaction": r.get::<_, Option<String>>(10)?,
            "card": r.get::<_, String>(2)?,
            "cardholder": r.get::<_, String>(3)?,
            "created": r.get::<_, i64>(12)?,
            "currency": currency,
            "dispute": Value::Null,
            "livemode": false,
            "merchant_amount": amount,
            "merchant_currency": currency,
            "merchant_data": parse_json(&r.get::<_, String>(8)?),
            "metadata": parse_json(&r.get::<_, String>(11)?),
            "network_data": Value::Null,
            "token": r.get::<_, Option<String>>(4)?,
            "type": r.get::<_, String>(5)?,
            "wallet": r.get::<_, Option<String>>(9)?,
        }))
    })
    .optional()?
    .ok_or_else(|| missing("issuing.transaction", param, id))
}

/// The transactions of an authorization, oldest first.
pub fn of_authorization(conn: &Connection, authorization: &str) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM psp_issuing_transactions WHERE authorization_id = ?1 ORDER BY seq",
        )?
        .query_map([authorization], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter()
        .map(|id| transaction_json(conn, id, "id"))
        .collect()
}

/// The transaction routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/issuing/transactions", get(list))
        .route("/v1/issuing/transactions/{id}", get(retrieve))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let _ = f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| transaction_json(conn, &id, "id"))
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let card = f.str("card")?;
    let cardholder = f.str("cardholder")?;
    let kind = f.one_of("type", &["capture", "refund"])?;
    let (lo, hi) = read_created(&mut f)?;
    let _ = f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_issuing_transactions",
                "(?1 IS NULL OR card_id = ?1) AND (?2 IS NULL OR cardholder_id = ?2) AND (?3 IS NULL OR type = ?3)
                 AND created BETWEEN ?4 AND ?5",
                &[&card, &cardholder, &kind, &lo, &hi],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| transaction_json(conn, id, "id"))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/transactions"))
        })
        .await?;
    Ok(Json(doc))
}
