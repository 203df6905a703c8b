//! Transfers (`tr_…`): money between the platform's balance and a connected account's, as
//! Stripe's separate charges and transfers do it. From the platform to a connected account
//! (`destination=acct_…`), or back from a connected account to the platform (an account debit:
//! `Stripe-Account: acct_…` and `destination=` the platform's id); the platform uses the latter to
//! collect the insurer's share of a visit. Each transfer is one ledger movement.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;

use super::balance::{
    self, account_exists, acting_account, check_amount, ensure_funds, Entry, Movement,
    PLATFORM_ACCOUNT,
};
use super::events::emit;
use super::form::invalid;
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The transfers table (one migration entry of [`super::MIGRATIONS`], after the charges').
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_transfers (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        source_account      TEXT NOT NULL,
        destination         TEXT NOT NULL,
        amount              INTEGER NOT NULL CHECK (amount > 0),
        currency            TEXT NOT NULL,
        transfer_group      TEXT,
        source_transaction  TEXT REFERENCES psp_charges(id),
        description         TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        balance_transaction TEXT NOT NULL,
        destination_payment TEXT NOT NULL,
        created             INTEGER NOT NULL,
        CHECK (source_account <> destination)
    );
    CREATE INDEX psp_transfers_source ON psp_transfers (source_account, seq);
    CREATE INDEX psp_transfers_group ON psp_transfers (transfer_group) WHERE transfer_group IS NOT NULL;
    CREATE INDEX psp_transfers_charge ON psp_transfers (source_transaction)
        WHERE source_transaction IS NOT NULL;
"#;

/// A transfer to make.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// The account the money leaves: the platform, or a connected account (an account debit).
    pub from: String,
    /// The account it goes to: a connected account, or the platform when `from` is connected.
    pub destination: String,
    /// Minor units, 1 to [`balance::MAX_AMOUNT`].
    pub amount: i64,
    /// `eur`.
    pub currency: String,
    /// Ties it to a visit's charges.
    pub transfer_group: Option<String>,
    /// A platform charge (`ch_…`) the money comes from: the transfer may then exceed the
    /// balance, never what is left of the charge.
    pub source_transaction: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
}

/// What the platform keeps of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferView {
    /// `tr_…`
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// The account the money left.
    pub from: String,
    /// The account it reached.
    pub destination: String,
    /// The group.
    pub transfer_group: Option<String>,
    /// The source account's `txn_…`.
    pub balance_transaction: String,
}

/// Moves money between the platform and a connected account (either way). Refuses an unknown
/// account (404 `destination`), a transfer between two connected accounts or to oneself
/// (400 `destination`), more than the source's balance (400 `balance_insufficient`) or, with a
/// `source_transaction`, more than is left of that charge.
pub fn create_transfer(
    tx: &Connection,
    ctx: &Ctx,
    t: NewTransfer,
) -> Result<TransferView, ApiError> {
    check_amount(t.amount, "amount")?;
    if !account_exists(tx, &t.destination)? {
        return Err(missing("account", "destination", &t.destination));
    }
    if t.destination == t.from {
        return Err(refuse(
            "parameter_invalid",
            Some("destination"),
            "A transfer cannot go to the account it comes from.",
        ));
    }
    if t.from != PLATFORM_ACCOUNT && t.destination != PLATFORM_ACCOUNT {
        return Err(refuse(
            "parameter_invalid",
            Some("destination"),
            "A connected account can only transfer to its platform.",
        ));
    }
    match &t.source_transaction {
        Some(charge) => {
            if t.from != PLATFORM_ACCOUNT {
                return Err(refuse(
                    "parameter_invalid",
                    Some("source_transaction"),
                    "source_transaction is a charge of the platform.",
                ));
            }
            let row: Option<(i64, String, i64)> = tx
                .query_row(
                    "SELECT amount_captured, currency, captured FROM psp_charges WHERE id = ?1",
                    [charge],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((captured, currency, is_captured)) = row else {
                return Err(missing("charge", "source_transaction", charge));
            };
            if is_captured == 0 || currency != t.currency {
                return Err(refuse(
                    "parameter_invalid",
                    Some("source_transaction"),
                    "source_transaction must be a captured charge in the transfer's currency.",
                ));
            }
            let used: i64 = tx.query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM psp_transfers WHERE source_transaction = ?1",
                [charge],
                |r| r.get(0),
            )?;
            if used + t.amount > captured {
                return Err(refuse(
                    "parameter_invalid",
                    Some("amount"),
                    format!(
                        "Transfers from {charge} cannot exceed its captured {captured} ({used} already transferred)."
                    ),
                ));
            }
        }
        None => ensure_funds(tx, &t.from, &t.currency, t.amount, "amount")?,
    }
    let id = random::id("tr");
    let destination_payment = random::id("py");
    let description = t
        .description
        .clone()
        .or_else(|| Some(format!("Transfer to {}", t.destination)));
    let txns = balance::post(
        tx,
        ctx,
        &Movement {
            kind: "transfer",
            source: &id,
            description: description.as_deref(),
            entries: &[
                Entry::new(&t.from, -t.amount, &t.currency),
                Entry::new(&t.destination, t.amount, &t.currency),
            ],
            fee: None,
            transfer_group: t.transfer_group.as_deref(),
        },
    )?;
    let txn = txns
        .first()
        .cloned()
        .ok_or_else(|| ApiError::internal("transfer without balance transaction"))?;
    tx.execute(
        "INSERT INTO psp_transfers (id, source_account, destination, amount, currency, transfer_group,
             source_transaction, description, metadata, balance_transaction, destination_payment, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            t.from,
            t.destination,
            t.amount,
            t.currency,
            t.transfer_group,
            t.source_transaction,
            t.description,
            Value::Object(t.metadata).to_string(),
            txn,
            destination_payment,
            ctx.now
        ],
    )?;
    let doc = transfer_json(tx, &id)?;
    emit(tx, ctx, "transfer.created", &doc, None)?;
    Ok(TransferView {
        id,
        amount: t.amount,
        from: t.from,
        destination: t.destination,
        transfer_group: t.transfer_group,
        balance_transaction: txn,
    })
}

/// A transfer as Stripe renders it.
pub fn transfer_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, amount, currency, destination, transfer_group, source_transaction, description,
                metadata, balance_transaction, destination_payment, created
         FROM psp_transfers WHERE id = ?1",
        [id],
        |r| {
            let id: String = r.get(0)?;
            Ok(json!({
                "id": id,
                "object": "transfer",
                "amount": r.get::<_, i64>(1)?,
                "amount_reversed": 0,
                "balance_transaction": r.get::<_, String>(8)?,
                "created": r.get::<_, i64>(10)?,
                "currency": r.get::<_, String>(2)?,
                "description": r.get::<_, Option<String>>(6)?,
                "destination": r.get::<_, String>(3)?,
                "destination_payment": r.get::<_, String>(9)?,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(7)?),
                "reversals": {
                    "object": "list", "data": [], "has_more": false,
                    "url": format!("/v1/transfers/{id}/reversals"),
                },
                "reversed": false,
                "source_transaction": r.get::<_, Option<String>>(5)?,
                "source_type": "card",
                "transfer_group": r.get::<_, Option<String>>(4)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("transfer", "id", id))
}

// ------------------------------------------------------------------- endpoints

/// The transfer endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/transfers", axum::routing::post(create).get(list))
        .route("/v1/transfers/{id}", get(retrieve))
}

fn text(value: Option<String>, param: &str, max: usize) -> Result<Option<String>, ApiError> {
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
    let mut f = body_fields(&headers, &body)?;
    let amount = f
        .int("amount")?
        .ok_or_else(|| invalid("amount", "Missing required param: amount."))?;
    check_amount(amount, "amount").map_err(ApiError::not_executed)?;
    let currency = balance::read_currency(&mut f, "currency")?;
    let destination = f.required("destination")?;
    let transfer_group = text(f.str("transfer_group")?, "transfer_group", 255)?;
    let source_transaction = text(f.str("source_transaction")?, "source_transaction", 255)?;
    let description = text(f.str("description")?, "description", 500)?;
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let from = acting_account(tx, &headers)?;
            let view = create_transfer(
                tx,
                &ctx,
                NewTransfer {
                    from,
                    destination,
                    amount,
                    currency,
                    transfer_group,
                    source_transaction,
                    description,
                    metadata,
                },
            )?;
            transfer_json(tx, &view.id)
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            let visible: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM psp_transfers WHERE id = ?1 AND (source_account = ?2 OR destination = ?2))",
                params![id, account],
                |r| r.get(0),
            )?;
            if !visible {
                return Err(missing("transfer", "id", &id));
            }
            transfer_json(conn, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let destination = f.str("destination")?;
    let transfer_group = f.str("transfer_group")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            let (ids, more) = model::page(
                conn,
                "psp_transfers",
                "source_account = ?1 AND (?2 IS NULL OR destination = ?2) AND (?3 IS NULL OR transfer_group = ?3)",
                &[&account, &destination, &transfer_group],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| transfer_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/transfers"))
        })
        .await?;
    Ok(Json(doc))
}
