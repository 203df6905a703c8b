//! The HTTP endpoints under `/v1/invoices`: each handler reads and bounds its form fields,
//! then runs the operation and renders the invoice in one database call.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use rusqlite::Connection;
use serde_json::{json, Value};

use crate::http::ApiError;
use crate::psp::form::{invalid, Fields};
use crate::psp::invoice_rules::Status;
use crate::psp::model::{self, Ctx, Paging};
use crate::psp::payment_intents::{bool_param, text};
use crate::psp::payment_methods::FINGERPRINT_PURPOSE;
use crate::psp::wire::{body_fields, query_fields, to_map, Psp};
use crate::state::AppState;

use super::input::bounded;
use super::lifecycle::{
    create_invoice, delete_invoice, finalize_invoice, mark_uncollectible, send_invoice,
    update_invoice, void_invoice, InvoiceChanges, NewInvoice, MAX_DESCRIPTION,
};
use super::object::{invoice_json, lines_json};
use super::pay::{pay_invoice, PayOutcome, PayWith};
use super::store::row;

/// The invoice endpoints.
pub(in crate::psp) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/invoices", post(create).get(list))
        .route(
            "/v1/invoices/{id}",
            get(retrieve).post(update).delete(delete),
        )
        .route("/v1/invoices/{id}/lines", get(lines))
        .route("/v1/invoices/{id}/finalize", verb_route(finalize_invoice))
        .route("/v1/invoices/{id}/pay", post(pay))
        .route("/v1/invoices/{id}/send", verb_route(send_invoice))
        .route("/v1/invoices/{id}/void", verb_route(void_invoice))
        .route(
            "/v1/invoices/{id}/mark_uncollectible",
            verb_route(mark_uncollectible),
        )
}

/// Stripe's id shape for an invoice (`in_…`), checked before any lookup.
fn check_id(id: &str) -> Result<(), ApiError> {
    super::check_id(id, "in_", "invoice")
}

fn read_expand(f: &mut Fields) -> Result<Vec<String>, ApiError> {
    let expand = f.expand()?;
    for e in &expand {
        if !matches!(e.as_str(), "customer" | "payment_intent") {
            return Err(invalid(
                "expand",
                format!("This property cannot be expanded ({e})."),
            ));
        }
    }
    Ok(expand)
}

/// The invoice, its `customer` or `payment_intent` expanded when asked.
fn render(conn: &Connection, id: &str, expand: &[String]) -> Result<Value, ApiError> {
    let mut doc = invoice_json(conn, id)?;
    for e in expand {
        if let Some(other) = doc[e.as_str()].as_str().map(str::to_owned) {
            doc[e.as_str()] = match e.as_str() {
                "customer" => crate::psp::customers::customer_json(conn, &other)?,
                _ => crate::psp::payment_intents::payment_intent_json(conn, &other, &[])?,
            };
        }
    }
    Ok(doc)
}

fn read_transfer_data(f: &mut Fields) -> Result<Option<String>, ApiError> {
    match f.map("transfer_data")? {
        Some(mut t) => {
            let d = text(&mut t, "destination", 255)?;
            let name = t.name("destination");
            t.finish()?;
            d.map(Some)
                .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))
        }
        None => Ok(None),
    }
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
    let currency = match f.str("currency")? {
        Some(c) if c.eq_ignore_ascii_case("eur") => "eur".to_owned(),
        Some(c) => {
            return Err(invalid(
                "currency",
                format!(
                    "Invalid currency: {}. This PSP's accounts hold eur only.",
                    c.chars().take(16).collect::<String>()
                ),
            ))
        }
        None => "eur".to_owned(),
    };
    if let Some(m) = f.one_of(
        "collection_method",
        &["send_invoice", "charge_automatically"],
    )? {
        if m != "send_invoice" {
            return Err(invalid(
                "collection_method",
                "Only collection_method=send_invoice is offered: members pay their invoices themselves.",
            ));
        }
    }
    if bool_param(&mut f, "auto_advance")? == Some(true) {
        return Err(invalid(
            "auto_advance",
            "auto_advance=true is not offered: finalize invoices with /finalize.",
        ));
    }
    let days_until_due = f.int("days_until_due")?;
    let due_date = f.int("due_date")?;
    let description = text(&mut f, "description", MAX_DESCRIPTION)?;
    let footer = text(&mut f, "footer", MAX_DESCRIPTION)?;
    let include_pending_items = f
        .one_of("pending_invoice_items_behavior", &["include", "exclude"])?
        .is_some_and(|b| b == "include");
    let transfer_destination = read_transfer_data(&mut f)?;
    let on_behalf_of = text(&mut f, "on_behalf_of", 255)?;
    let metadata = to_map(f.metadata()?);
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = create_invoice(
                tx,
                &ctx,
                NewInvoice {
                    customer,
                    currency,
                    days_until_due,
                    due_date,
                    description,
                    footer,
                    metadata,
                    include_pending_items,
                    transfer_destination,
                    on_behalf_of,
                },
            )?;
            render(tx, &id, &expand)
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
    check_id(&id)?;
    let mut f = query_fields(&uri)?;
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| render(conn, &id, &expand))
        .await?;
    Ok(Json(doc))
}

async fn lines(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let doc = state
        .db
        .call(move |conn| {
            row(conn, &id, "id")?;
            lines_json(conn, &id)
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
    check_id(&id)?;
    let mut f = body_fields(&headers, &body)?;
    let c = InvoiceChanges {
        description: f
            .str("description")?
            .map(|d| bounded(d, "description", MAX_DESCRIPTION))
            .transpose()?,
        footer: f
            .str("footer")?
            .map(|d| bounded(d, "footer", MAX_DESCRIPTION))
            .transpose()?,
        days_until_due: f.int("days_until_due")?,
        due_date: f.int("due_date")?,
        metadata: f.metadata()?,
    };
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            update_invoice(tx, &ctx, &id, c)?;
            render(tx, &id, &expand)
        })
        .await?;
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
        .transaction(move |tx| delete_invoice(tx, &ctx, &id))
        .await?;
    Ok(Json(doc))
}

/// An invoice operation a one-verb endpoint runs.
type Verb = fn(&Connection, &Ctx, &str) -> Result<(), ApiError>;

/// The route of a one-verb endpoint (`/finalize`, `/send`, `/void`, `/mark_uncollectible`):
/// `POST` running `op` through [`verb`].
fn verb_route(op: Verb) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              psp: Psp,
              Path(id): Path<String>,
              headers: HeaderMap,
              body: Bytes| verb(state, psp, id, headers, body, op),
    )
}

/// The shape of the one-verb endpoints: only `expand[]` (and Stripe's `auto_advance` on
/// finalize) in the body.
async fn verb(
    state: AppState,
    psp: Psp,
    id: String,
    headers: HeaderMap,
    body: Bytes,
    op: Verb,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let mut f = body_fields(&headers, &body)?;
    if bool_param(&mut f, "auto_advance")? == Some(true) {
        return Err(invalid(
            "auto_advance",
            "auto_advance=true is not offered: the mock never collects automatically.",
        ));
    }
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            op(tx, &ctx, &id)?;
            render(tx, &id, &expand)
        })
        .await?;
    Ok(Json(doc))
}

/// Stripe's 402 when the card must authenticate first: the intent carries the challenge.
fn requires_action(conn: &Connection, invoice: &str, intent: &str) -> Result<Response, ApiError> {
    let pi = crate::psp::payment_intents::payment_intent_json(conn, intent, &[])?;
    Ok((
        StatusCode::PAYMENT_REQUIRED,
        Json(json!({ "error": {
            "type": "invalid_request_error",
            "code": "invoice_payment_intent_requires_action",
            "message": format!("Payment for this invoice requires a customer action: confirm the PaymentIntent {intent} (3D Secure)."),
            "param": Value::Null,
            "payment_intent": pi,
            "invoice": invoice,
        }})),
    )
        .into_response())
}

async fn pay(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let mut f = body_fields(&headers, &body)?;
    let out_of_band = bool_param(&mut f, "paid_out_of_band")?.unwrap_or(false);
    let payment_method = text(&mut f, "payment_method", 255)?;
    let off_session = bool_param(&mut f, "off_session")?.unwrap_or(true);
    let amount = f.int("amount")?;
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let with = if out_of_band {
        if payment_method.is_some() {
            return Err(invalid(
                "payment_method",
                "You may only specify one of these parameters: paid_out_of_band, payment_method.",
            ));
        }
        if let Some(a) = amount {
            crate::psp::balance::check_amount(a, "amount").map_err(ApiError::not_executed)?;
        }
        PayWith::OutOfBand { amount }
    } else {
        if amount.is_some() {
            return Err(invalid(
                "amount",
                "amount is only taken with paid_out_of_band=true: a card pays what remains.",
            ));
        }
        PayWith::Card {
            payment_method,
            off_session,
        }
    };
    let ctx = psp.ctx;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let response = state
        .db
        .transaction(move |tx| match pay_invoice(tx, &ctx, &key, &id, with)? {
            PayOutcome::Done => Ok(Json(render(tx, &id, &expand)?).into_response()),
            PayOutcome::RequiresAction(pi) => requires_action(tx, &id, &pi),
            PayOutcome::Declined(e) => Ok(e.into_response()),
        })
        .await?;
    Ok(response)
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let customer = text(&mut f, "customer", 255)?;
    let status = f.one_of("status", &Status::ALL)?;
    let expand = read_expand_list(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_invoices",
                "(?1 IS NULL OR customer = ?1) AND (?2 IS NULL OR status = ?2)",
                &[&customer, &status],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| render(conn, id, &expand))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/invoices"))
        })
        .await?;
    Ok(Json(doc))
}

/// `expand[]=data.customer` on a list, as Stripe spells it.
fn read_expand_list(f: &mut Fields) -> Result<Vec<String>, ApiError> {
    let expand = f.expand()?;
    expand
        .into_iter()
        .map(|e| match e.strip_prefix("data.") {
            Some(inner @ ("customer" | "payment_intent")) => Ok(inner.to_owned()),
            _ => Err(invalid(
                "expand",
                format!("This property cannot be expanded ({e})."),
            )),
        })
        .collect()
}
