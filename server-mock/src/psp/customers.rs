//! Customers (`cus_…`): who a saved card belongs to, with its default payment method
//! (`invoice_settings[default_payment_method]`). The platform creates one per member, known to
//! the PSP only by the pseudonymous name and metadata it is given.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;

use super::events::{emit, emit_update};
use super::form::{self, invalid, Fields};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The customers table (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_customers (
        seq                    INTEGER PRIMARY KEY,
        id                     TEXT NOT NULL UNIQUE,
        email                  TEXT,
        name                   TEXT,
        description            TEXT,
        default_payment_method TEXT,
        metadata               TEXT NOT NULL DEFAULT '{}',
        created                INTEGER NOT NULL
    );
    CREATE INDEX psp_customers_email ON psp_customers (email) WHERE email IS NOT NULL;
"#;

/// A customer to create, or the changes of an update (`None`: unchanged; `Some("")` clears).
#[derive(Debug, Clone, Default)]
pub struct CustomerFields {
    /// Email.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `pm_…` attached to this customer.
    pub default_payment_method: Option<String>,
    /// Metadata changes.
    pub metadata: Option<form::MetadataChanges>,
}

/// Creates a customer; its id.
pub fn create_customer(tx: &Connection, ctx: &Ctx, c: CustomerFields) -> Result<String, ApiError> {
    if c.default_payment_method.is_some() {
        return Err(refuse(
            "parameter_invalid",
            Some("invoice_settings[default_payment_method]"),
            "A new customer has no attached payment method yet: attach one, then set it as default.",
        ));
    }
    let id = random::id("cus");
    let metadata = to_map(c.metadata);
    tx.execute(
        "INSERT INTO psp_customers (id, email, name, description, metadata, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            c.email.filter(|s| !s.is_empty()),
            c.name.filter(|s| !s.is_empty()),
            c.description.filter(|s| !s.is_empty()),
            Value::Object(metadata).to_string(),
            ctx.now
        ],
    )?;
    emit(tx, ctx, "customer.created", &customer_json(tx, &id)?, None)?;
    Ok(id)
}

/// Applies changes to a customer; the default payment method must be attached to it.
pub fn update_customer(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    c: CustomerFields,
) -> Result<(), ApiError> {
    let before = customer_json(tx, id)?;
    let set = |column: &str, value: &Option<String>| -> Result<(), ApiError> {
        if let Some(v) = value {
            tx.execute(
                &format!("UPDATE psp_customers SET {column} = ?2 WHERE id = ?1"),
                params![id, (!v.is_empty()).then_some(v)],
            )?;
        }
        Ok(())
    };
    set("email", &c.email)?;
    set("name", &c.name)?;
    set("description", &c.description)?;
    if let Some(pm) = &c.default_payment_method {
        if !pm.is_empty() {
            let owner: Option<Option<String>> = tx
                .query_row(
                    "SELECT customer FROM psp_payment_methods WHERE id = ?1",
                    [pm],
                    |r| r.get(0),
                )
                .optional()?;
            match owner {
                None => {
                    return Err(missing(
                        "payment_method",
                        "invoice_settings[default_payment_method]",
                        pm,
                    ))
                }
                Some(Some(owner)) if owner == id => {}
                Some(_) => {
                    return Err(refuse(
                        "payment_method_not_attached",
                        Some("invoice_settings[default_payment_method]"),
                        format!("The payment method {pm} is not attached to customer {id}."),
                    ))
                }
            }
        }
        set("default_payment_method", &c.default_payment_method)?;
    }
    if let Some(changes) = c.metadata {
        let mut meta = before["metadata"].as_object().cloned().unwrap_or_default();
        form::merge_metadata(&mut meta, changes);
        tx.execute(
            "UPDATE psp_customers SET metadata = ?2 WHERE id = ?1",
            params![id, Value::Object(meta).to_string()],
        )?;
    }
    let after = customer_json(tx, id)?;
    emit_update(tx, ctx, "customer", &before, &after)
}

/// Refuses (404 naming `param`) an unknown customer.
pub fn ensure_customer(conn: &Connection, id: &str, param: &str) -> Result<(), ApiError> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM psp_customers WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(missing("customer", param, id))
    }
}

/// A customer as Stripe renders it.
pub fn customer_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, email, name, description, default_payment_method, metadata, created
         FROM psp_customers WHERE id = ?1",
        [id],
        |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "customer",
                "address": Value::Null,
                "balance": 0,
                "created": r.get::<_, i64>(6)?,
                "currency": Value::Null,
                "default_source": Value::Null,
                "delinquent": false,
                "description": r.get::<_, Option<String>>(3)?,
                "email": r.get::<_, Option<String>>(1)?,
                "invoice_settings": {
                    "custom_fields": Value::Null,
                    "default_payment_method": r.get::<_, Option<String>>(4)?,
                    "footer": Value::Null,
                    "rendering_options": Value::Null,
                },
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(5)?),
                "name": r.get::<_, Option<String>>(2)?,
                "phone": Value::Null,
                "preferred_locales": [],
                "shipping": Value::Null,
                "tax_exempt": "none",
                "test_clock": Value::Null,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("customer", "id", id))
}

// ------------------------------------------------------------------- endpoints

/// The customer endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/customers", axum::routing::post(create).get(list))
        .route("/v1/customers/{id}", get(retrieve).post(update))
}

fn text(f: &mut Fields, key: &str, max: usize) -> Result<Option<String>, ApiError> {
    let name = f.name(key);
    match f.str(key)? {
        Some(v) if v.chars().count() > max => Err(invalid(
            &name,
            format!("{name} has at most {max} characters."),
        )),
        other => Ok(other),
    }
}

fn read(f: &mut Fields) -> Result<CustomerFields, ApiError> {
    let email = text(f, "email", 512)?;
    let name = text(f, "name", 256)?;
    let description = text(f, "description", 350)?;
    let default_payment_method = match f.map("invoice_settings")? {
        Some(mut s) => {
            let pm = text(&mut s, "default_payment_method", 255)?;
            s.finish()?;
            pm
        }
        None => None,
    };
    let metadata = f.metadata()?;
    Ok(CustomerFields {
        email,
        name,
        description,
        default_payment_method,
        metadata,
    })
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let c = read(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = create_customer(tx, &ctx, c)?;
            customer_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state.db.call(move |conn| customer_json(conn, &id)).await?;
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
    let c = read(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            update_customer(tx, &ctx, &id, c)?;
            customer_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let email = f.str("email")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_customers",
                "?1 IS NULL OR email = ?1",
                &[&email],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| customer_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/customers"))
        })
        .await?;
    Ok(Json(doc))
}
