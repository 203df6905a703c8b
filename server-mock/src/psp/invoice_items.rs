//! Invoice items (`ii_…`): what a customer owes, pending on the customer until a draft invoice
//! takes it (Stripe's way: `pending_invoice_items_behavior=include` at the invoice's creation,
//! or `invoice=in_…` to add it to a draft directly). Once its invoice is finalized an item is
//! frozen: a trigger refuses any change, and corrections are credit notes.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;

use super::events::{emit, emit_update};
use super::form::invalid;
use super::invoice_rules::{self as rules, Status};
use super::invoices::{self, invoice_json, refused};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::payment_intents::text;
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// Most an item's quantity may be.
const MAX_QUANTITY: i64 = 10_000;

/// An invoice item to create.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    /// `cus_…`
    pub customer: String,
    /// A draft of that customer to add it to; pending on the customer otherwise.
    pub invoice: Option<String>,
    /// Price of one unit, minor units.
    pub unit_amount: i64,
    /// Units (1 to 10,000).
    pub quantity: i64,
    /// `eur`.
    pub currency: String,
    /// Shown on the invoice line.
    pub description: Option<String>,
    /// What it covers, Unix seconds (`None`: now).
    pub period: Option<(i64, i64)>,
    /// Metadata.
    pub metadata: serde_json::Map<String, Value>,
}

/// Creates an invoice item; its id.
pub fn create_item(tx: &Connection, ctx: &Ctx, p: NewItem) -> Result<String, ApiError> {
    super::customers::ensure_customer(tx, &p.customer, "customer")?;
    super::balance::check_amount(p.unit_amount, "unit_amount")?;
    if !(1..=MAX_QUANTITY).contains(&p.quantity) {
        return Err(invalid(
            "quantity",
            format!("quantity must be between 1 and {MAX_QUANTITY}."),
        ));
    }
    let amount = p
        .unit_amount
        .checked_mul(p.quantity)
        .filter(|a| *a <= super::balance::MAX_AMOUNT)
        .ok_or_else(|| {
            refuse(
                "amount_too_large",
                Some("quantity"),
                format!(
                    "unit_amount × quantity must be no more than {}.",
                    super::balance::MAX_AMOUNT
                ),
            )
        })?;
    let (start, end) = p.period.unwrap_or((ctx.now, ctx.now));
    if start > end {
        return Err(invalid(
            "period[end]",
            "period[end] must not be before period[start].",
        ));
    }
    let before = match &p.invoice {
        Some(inv) => {
            let r = invoices::row(tx, inv, "invoice")?;
            rules::transition(r.status, rules::Action::Update)
                .map_err(|e| refused(e, Some("invoice")))?;
            if r.customer != p.customer {
                return Err(refuse(
                    "parameter_invalid",
                    Some("invoice"),
                    format!("The invoice {inv} belongs to another customer."),
                ));
            }
            if r.currency != p.currency {
                return Err(invalid(
                    "currency",
                    "The item's currency is not its invoice's.",
                ));
            }
            Some(invoice_json(tx, inv)?)
        }
        None => None,
    };
    let id = random::id("ii");
    tx.execute(
        "INSERT INTO psp_invoice_items (id, customer, amount, currency, description, quantity,
             unit_amount, period_start, period_end, metadata, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            id,
            p.customer,
            amount,
            p.currency,
            p.description,
            p.quantity,
            p.unit_amount,
            start,
            end,
            Value::Object(p.metadata).to_string(),
            ctx.now
        ],
    )?;
    if let (Some(inv), Some(before)) = (&p.invoice, before) {
        invoices::attach_item(tx, inv, &id)?;
        invoices::recompute_total(tx, inv)?;
        emit_update(tx, ctx, "invoice", &before, &invoice_json(tx, inv)?)?;
    }
    emit(tx, ctx, "invoiceitem.created", &item_json(tx, &id)?, None)?;
    Ok(id)
}

/// Deletes a pending item, or one on a draft (whose total follows).
pub fn delete_item(tx: &Connection, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    let doc = item_json(tx, id)?;
    if let Some(inv) = doc["invoice"].as_str() {
        let r = invoices::row(tx, inv, "invoice")?;
        if r.status != Status::Draft {
            return Err(refuse(
                "invoice_not_editable",
                Some("id"),
                format!("This invoice item is on the finalized invoice {inv}: issue a credit note instead."),
            ));
        }
        let before = invoice_json(tx, inv)?;
        tx.execute("DELETE FROM psp_invoice_items WHERE id = ?1", [id])?;
        invoices::recompute_total(tx, inv)?;
        emit_update(tx, ctx, "invoice", &before, &invoice_json(tx, inv)?)?;
    } else {
        tx.execute("DELETE FROM psp_invoice_items WHERE id = ?1", [id])?;
    }
    emit(tx, ctx, "invoiceitem.deleted", &doc, None)?;
    Ok(json!({ "id": id, "object": "invoiceitem", "deleted": true }))
}

/// An invoice item as Stripe renders it.
pub fn item_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.prepare_cached(
        "SELECT id, customer, invoice, amount, currency, description, quantity, unit_amount,
                period_start, period_end, metadata, created
         FROM psp_invoice_items WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(json!({
            "id": r.get::<_, String>(0)?,
            "object": "invoiceitem",
            "amount": r.get::<_, i64>(3)?,
            "currency": r.get::<_, String>(4)?,
            "customer": r.get::<_, String>(1)?,
            "date": r.get::<_, i64>(11)?,
            "description": r.get::<_, Option<String>>(5)?,
            "discountable": true,
            "discounts": [],
            "invoice": r.get::<_, Option<String>>(2)?,
            "livemode": false,
            "metadata": parse_json(&r.get::<_, String>(10)?),
            "period": { "start": r.get::<_, i64>(8)?, "end": r.get::<_, i64>(9)? },
            "price": Value::Null,
            "proration": false,
            "quantity": r.get::<_, i64>(6)?,
            "subscription": Value::Null,
            "tax_rates": [],
            "test_clock": Value::Null,
            "unit_amount": r.get::<_, i64>(7)?,
            "unit_amount_decimal": r.get::<_, i64>(7)?.to_string(),
        }))
    })
    .optional()?
    .ok_or_else(|| missing("invoiceitem", "id", id))
}

// ------------------------------------------------------------------- endpoints

/// The invoice item endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/invoiceitems", post(create).get(list))
        .route("/v1/invoiceitems/{id}", get(retrieve).delete(delete))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    if id.len() > 64 || !id.starts_with("ii_") {
        return Err(missing(
            "invoiceitem",
            "id",
            &id.chars().take(64).collect::<String>(),
        ));
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
    let customer = text(&mut f, "customer", 255)?
        .ok_or_else(|| invalid("customer", "Missing required param: customer."))?;
    let invoice = text(&mut f, "invoice", 255)?;
    let amount = f.int("amount")?;
    let unit = f.int("unit_amount")?;
    let quantity = f.int("quantity")?;
    let (unit_amount, quantity) = match (amount, unit) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "unit_amount",
                "You may only specify one of these parameters: amount, unit_amount.",
            ))
        }
        (Some(a), None) => {
            if quantity.is_some_and(|q| q != 1) {
                return Err(invalid(
                    "quantity",
                    "quantity needs unit_amount (amount is the whole line).",
                ));
            }
            (a, 1)
        }
        (None, Some(u)) => (u, quantity.unwrap_or(1)),
        (None, None) => {
            return Err(invalid("amount", "Missing required param: amount."));
        }
    };
    let currency = super::balance::read_currency(&mut f, "currency")?;
    let description = text(&mut f, "description", invoices::MAX_DESCRIPTION)?;
    let period = match f.map("period")? {
        Some(mut p) => {
            let start = p.int("start")?;
            let end = p.int("end")?;
            p.finish()?;
            match (start, end) {
                (Some(s), Some(e)) => Some((s, e)),
                _ => {
                    return Err(invalid(
                        "period",
                        "period needs both period[start] and period[end].",
                    ))
                }
            }
        }
        None => None,
    };
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = create_item(
                tx,
                &ctx,
                NewItem {
                    customer,
                    invoice,
                    unit_amount,
                    quantity,
                    currency,
                    description,
                    period,
                    metadata,
                },
            )?;
            item_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let doc = state.db.call(move |conn| item_json(conn, &id)).await?;
    Ok(Json(doc))
}

async fn delete(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| delete_item(tx, &ctx, &id))
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let customer = text(&mut f, "customer", 255)?;
    let invoice = text(&mut f, "invoice", 255)?;
    let pending = super::payment_intents::bool_param(&mut f, "pending")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_invoice_items",
                "(?1 IS NULL OR customer = ?1) AND (?2 IS NULL OR invoice = ?2)
                 AND (?3 IS NULL OR (?3 = 1) = (invoice IS NULL))",
                &[&customer, &invoice, &pending],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| item_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/invoiceitems"))
        })
        .await?;
    Ok(Json(doc))
}
