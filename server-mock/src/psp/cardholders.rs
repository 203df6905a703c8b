//! Cardholders (`ich_…`): created over Stripe's API, or by the platform as a pseudonym for a
//! member (a name and a hash of the member reference, the platform's address for billing: the
//! PSP must not learn who the member is).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;

use super::events::{emit, emit_update};
use super::form::{self, invalid, Fields};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::wire::{body_fields, query_fields, rename_param, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The billing address of pseudonymous cardholders: the platform's card service, never the
/// member's own address (the PSP must not learn who the member is).
pub fn platform_billing_address() -> Value {
    json!({
        "city": "Paris",
        "country": "FR",
        "line1": "TiersPay – Service cartes",
        "line2": Value::Null,
        "postal_code": "75002",
        "state": Value::Null,
    })
}

/// A new cardholder (HTTP or platform).
#[derive(Debug, Clone)]
pub struct NewCardholder {
    /// Name on the card (a pseudonym for the platform).
    pub name: String,
    /// Optional.
    pub email: Option<String>,
    /// Optional.
    pub phone_number: Option<String>,
    /// individual | company.
    pub kind: String,
    /// active | inactive.
    pub status: String,
    /// Billing address object.
    pub billing_address: Value,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// The platform's hash of the member reference.
    pub member_ref_hash: Option<String>,
}

pub(crate) fn insert_cardholder(
    tx: &Connection,
    ctx: &Ctx,
    c: NewCardholder,
) -> Result<String, ApiError> {
    let id = random::id("ich");
    tx.execute(
        "INSERT INTO psp_cardholders (id, name, email, phone_number, type, status, billing, metadata, member_ref_hash, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            c.name,
            c.email,
            c.phone_number,
            c.kind,
            c.status,
            c.billing_address.to_string(),
            Value::Object(c.metadata).to_string(),
            c.member_ref_hash,
            ctx.now
        ],
    )?;
    emit(
        tx,
        ctx,
        "issuing_cardholder.created",
        &cardholder_json(tx, &id)?,
        None,
    )?;
    Ok(id)
}

/// Creates a pseudonymous cardholder for a member (or returns the one already made for the
/// same `member_ref_hash`). The PSP learns a pseudonym and a hash, nothing else.
pub fn create_cardholder(
    tx: &Connection,
    pseudonym: &str,
    member_ref_hash: &str,
    now: i64,
) -> Result<String, ApiError> {
    let name = pseudonym.trim();
    if name.is_empty() || name.chars().count() > 24 {
        return Err(refuse(
            "parameter_invalid",
            Some("name"),
            "name must be 1 to 24 characters.",
        ));
    }
    if member_ref_hash.is_empty() || member_ref_hash.len() > 128 {
        return Err(refuse(
            "parameter_invalid",
            Some("member_ref_hash"),
            "member_ref_hash must be 1 to 128 characters.",
        ));
    }
    if let Some(id) = cardholder_by_member_ref_hash(tx, member_ref_hash)? {
        return Ok(id);
    }
    let mut metadata = Map::new();
    metadata.insert(
        "member_ref_hash".into(),
        Value::String(member_ref_hash.into()),
    );
    insert_cardholder(
        tx,
        &Ctx::at(now),
        NewCardholder {
            name: name.to_owned(),
            email: None,
            phone_number: None,
            kind: "individual".into(),
            status: "active".into(),
            billing_address: platform_billing_address(),
            metadata,
            member_ref_hash: Some(member_ref_hash.to_owned()),
        },
    )
}

/// The cardholder made for a member, if any.
pub fn cardholder_by_member_ref_hash(
    conn: &Connection,
    member_ref_hash: &str,
) -> Result<Option<String>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT id FROM psp_cardholders WHERE member_ref_hash = ?1",
            [member_ref_hash],
            |r| r.get(0),
        )
        .optional()?)
}

/// The cardholder's name, for wallet payloads.
pub(super) fn holder(
    conn: &Connection,
    id: &str,
) -> Result<(String, Value, Option<String>), ApiError> {
    conn.query_row(
        "SELECT name, billing, phone_number FROM psp_cardholders WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or(Value::Null),
                r.get(2)?,
            ))
        },
    )
    .optional()?
    .ok_or_else(|| missing("issuing.cardholder", "cardholder", id))
}

// ------------------------------------------------------------------- Stripe JSON

/// A cardholder as Stripe renders it.
pub fn cardholder_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.prepare_cached(
        "SELECT id, name, email, phone_number, type, status, billing, metadata, created
         FROM psp_cardholders WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(json!({
            "id": r.get::<_, String>(0)?,
            "object": "issuing.cardholder",
            "billing": { "address": parse_json(&r.get::<_, String>(6)?) },
            "company": Value::Null,
            "created": r.get::<_, i64>(8)?,
            "email": r.get::<_, Option<String>>(2)?,
            "individual": Value::Null,
            "livemode": false,
            "metadata": parse_json(&r.get::<_, String>(7)?),
            "name": r.get::<_, String>(1)?,
            "phone_number": r.get::<_, Option<String>>(3)?,
            "preferred_locales": [],
            "requirements": { "disabled_reason": Value::Null, "past_due": [] },
            "spending_controls": Value::Null,
            "status": r.get::<_, String>(5)?,
            "type": r.get::<_, String>(4)?,
        }))
    })
    .optional()?
    .ok_or_else(|| missing("issuing.cardholder", "cardholder", id))
}

// ------------------------------------------------------------------- endpoints

/// The cardholder endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/issuing/cardholders", post(create).get(list))
        .route("/v1/issuing/cardholders/{id}", get(retrieve).post(update))
}

fn read_address(
    billing: Option<Fields>,
    current: Option<Value>,
) -> Result<Option<Value>, ApiError> {
    let Some(mut billing) = billing else {
        return Ok(None);
    };
    let mut address = billing.map("address")?.ok_or_else(|| {
        invalid(
            "billing[address]",
            "Missing required param: billing[address].",
        )
    })?;
    let mut out = current.unwrap_or_else(|| json!({"line2": null, "state": null}));
    for key in ["line1", "line2", "city", "state", "postal_code", "country"] {
        if let Some(v) = address.str(key)? {
            if v.chars().count() > 200 {
                return Err(invalid(
                    &address.name(key),
                    "Must be at most 200 characters.",
                ));
            }
            out[key] = if v.is_empty() {
                Value::Null
            } else {
                Value::String(v)
            };
        }
    }
    for key in ["line1", "city", "postal_code", "country"] {
        if out.get(key).and_then(Value::as_str).is_none() {
            let name = address.name(key);
            return Err(invalid(&name, format!("Missing required param: {name}.")));
        }
    }
    let country = out["country"].as_str().unwrap_or_default();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            &address.name("country"),
            "Must be an ISO 3166-1 alpha-2 country code such as FR.",
        ));
    }
    address.finish()?;
    billing.finish()?;
    Ok(Some(out))
}

fn check_contact(f: &mut Fields) -> Result<(Option<String>, Option<String>), ApiError> {
    let email = f.str("email")?;
    if let Some(e) = &email {
        if !e.is_empty() && (!e.contains('@') || e.len() > 800) {
            return Err(invalid("email", "Invalid email address."));
        }
    }
    let phone = f.str("phone_number")?;
    if let Some(p) = &phone {
        let digits = p.strip_prefix('+').unwrap_or(p);
        if !p.is_empty()
            && (!p.starts_with('+')
                || !(6..=15).contains(&digits.len())
                || !digits.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "phone_number",
                "Must be in E.164 format, such as +33612345678.",
            ));
        }
    }
    Ok((email, phone))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 24 {
        return Err(invalid(
            "name",
            "The name must be 1 to 24 characters (it is printed on cards).",
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
    let name = f.required("name")?;
    check_name(&name)?;
    let (email, phone_number) = check_contact(&mut f)?;
    let kind = f
        .one_of("type", &["individual", "company"])?
        .unwrap_or_else(|| "individual".into());
    let status = f
        .one_of("status", &["active", "inactive"])?
        .unwrap_or_else(|| "active".into());
    let billing_address = read_address(f.map("billing")?, None)?
        .ok_or_else(|| invalid("billing", "Missing required param: billing."))?;
    let metadata = to_map(f.metadata()?);
    let expand = f.expand()?;
    if !expand.is_empty() {
        return Err(invalid("expand", "This object has no expandable fields."));
    }
    f.finish()?;
    let new = NewCardholder {
        name,
        email: email.filter(|e| !e.is_empty()),
        phone_number: phone_number.filter(|p| !p.is_empty()),
        kind,
        status,
        billing_address,
        metadata,
        member_ref_hash: None,
    };
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = insert_cardholder(tx, &ctx, new)?;
            cardholder_json(tx, &id)
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
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| cardholder_json(conn, &id).map_err(|e| rename_param(e, "id")))
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
    let name = f.str("name")?;
    if let Some(n) = &name {
        check_name(n)?;
    }
    let (email, phone) = check_contact(&mut f)?;
    let status = f.one_of("status", &["active", "inactive"])?;
    let billing_fields = f.map("billing")?;
    let metadata = f.metadata()?;
    f.expand()?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let before = cardholder_json(tx, &id).map_err(|e| rename_param(e, "id"))?;
            let billing = read_address(billing_fields, Some(before["billing"]["address"].clone()))?;
            let mut meta = before["metadata"].as_object().cloned().unwrap_or_default();
            form::merge_metadata(&mut meta, metadata.unwrap_or_default());
            tx.execute(
                "UPDATE psp_cardholders SET
                   name = COALESCE(?2, name),
                   email = CASE WHEN ?3 IS NULL THEN email WHEN ?3 = '' THEN NULL ELSE ?3 END,
                   phone_number = CASE WHEN ?4 IS NULL THEN phone_number WHEN ?4 = '' THEN NULL ELSE ?4 END,
                   status = COALESCE(?5, status),
                   billing = COALESCE(?6, billing),
                   metadata = ?7
                 WHERE id = ?1",
                rusqlite::params![
                    id,
                    name,
                    email,
                    phone,
                    status,
                    billing.map(|b| b.to_string()),
                    Value::Object(meta).to_string()
                ],
            )?;
            let after = cardholder_json(tx, &id)?;
            emit_update(tx, &ctx, "issuing_cardholder", &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let status = f.one_of("status", &["active", "inactive", "blocked"])?;
    let kind = f.one_of("type", &["individual", "company"])?;
    let email = f.str("email")?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_cardholders",
                "(?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR email = ?3)",
                &[&status, &kind, &email],
                &paging,
            )?;
            let data = ids.iter().map(|id| cardholder_json(conn, id)).collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/cardholders"))
        })
        .await?;
    Ok(Json(doc))
}
