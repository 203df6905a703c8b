//! Events (`evt_…`): every write of another resource emits one (`<object>.created`,
//! `<object>.updated` with the previous values of what changed), and `/v1/events` lists them as
//! Stripe does. Events never carry a card number or CVC.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};

use super::model::{self, missing, parse_json, Ctx, Paging};
use super::wire::{query_fields, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// Writes an event (`evt_…`) for an object change, and queues it for the webhook endpoints
/// subscribed to its type (same transaction: it is sent if and only if it commits).
pub fn emit(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    object: &Value,
    previous: Option<Value>,
) -> Result<String, ApiError> {
    emit_rendered(tx, ctx, kind, &object.to_string(), previous)
}

/// [`emit`] of an object the caller already rendered (`object_json`, its JSON text): a hot path
/// that also sends or stores the same text renders it once.
pub fn emit_rendered(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    object_json: &str,
    previous: Option<Value>,
) -> Result<String, ApiError> {
    let id = record_rendered(tx, ctx, kind, object_json, previous)?;
    super::webhook_delivery::enqueue(tx, &id, kind, ctx.now)?;
    Ok(id)
}

/// Writes an event without queueing it, its object already rendered (`object_json`, its JSON
/// text): for events the caller delivers itself (the synchronous
/// `issuing_authorization.request`).
pub fn record_rendered(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    object_json: &str,
    previous: Option<Value>,
) -> Result<String, ApiError> {
    let id = tierspay_core::auth::random::id("evt");
    tx.prepare_cached(
        "INSERT INTO psp_events (id, type, created, object, previous_attributes, idempotency_key,
                                 request_id, api_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        kind,
        ctx.now,
        object_json,
        previous.map(|p| p.to_string()),
        ctx.idempotency_key,
        ctx.request_id,
        ctx.api_version
    ])?;
    Ok(id)
}

/// The top-level fields that changed between two renderings of an object, with old values.
pub fn previous_attributes(before: &Value, after: &Value) -> Option<Value> {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return None;
    };
    let changed: Map<String, Value> = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!changed.is_empty()).then_some(Value::Object(changed))
}

/// Emits `<kind>.updated` if the object changed.
pub fn emit_update(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    before: &Value,
    after: &Value,
) -> Result<(), ApiError> {
    if let Some(prev) = previous_attributes(before, after) {
        emit(tx, ctx, &format!("{kind}.updated"), after, Some(prev))?;
    }
    Ok(())
}

/// An event by id.
pub fn event_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.prepare_cached("SELECT id, type, created, object, previous_attributes, idempotency_key, request_id, api_version
         FROM psp_events WHERE id = ?1")?.query_row(
        [id],
        |r| {
            Ok(event_doc(
                &r.get::<_, String>(0)?,
                &r.get::<_, String>(1)?,
                r.get(2)?,
                parse_json(&r.get::<_, String>(3)?),
                r.get::<_, Option<String>>(4)?.map(|p| parse_json(&p)),
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        },
    )
    .optional()?
    .ok_or_else(|| missing("event", "id", id))
}

/// The event `id` just written by [`record_rendered`] under `ctx`, as [`event_json`] reads it back, from
/// the object in hand instead of a read and a parse of the stored text.
pub fn event_of(ctx: &Ctx, id: &str, kind: &str, object: Value, previous: Option<Value>) -> Value {
    event_doc(
        id,
        kind,
        ctx.now,
        object,
        previous,
        ctx.idempotency_key.clone(),
        ctx.request_id.clone(),
        ctx.api_version.clone(),
    )
}

/// An event as Stripe renders it.
#[allow(clippy::too_many_arguments)]
fn event_doc(
    id: &str,
    kind: &str,
    created: i64,
    object: Value,
    previous: Option<Value>,
    idempotency_key: Option<String>,
    request_id: Option<String>,
    api_version: Option<String>,
) -> Value {
    let mut data = json!({ "object": object });
    if let Some(prev) = previous {
        data["previous_attributes"] = prev;
    }
    json!({
        "id": id,
        "object": "event",
        // The version the request named (`Stripe-Version`), else the account's.
        "api_version": api_version.unwrap_or_else(|| model::API_VERSION.to_owned()),
        "type": kind,
        "created": created,
        "data": data,
        "livemode": false,
        "pending_webhooks": 0,
        "request": {
            "id": request_id,
            "idempotency_key": idempotency_key,
        },
    })
}

// ------------------------------------------------------------------- endpoints

/// The event endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/events", get(list))
        .route("/v1/events/{id}", get(retrieve))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    // `type=issuing_card.*` matches every issuing_card event, as Stripe's filter does.
    let kind = f.str("type")?.map(|t| t.replace('*', "%"));
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_events",
                "?1 IS NULL OR type LIKE ?1",
                &[&kind],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| event_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/events"))
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state.db.call(move |conn| event_json(conn, &id)).await?;
    Ok(Json(doc))
}
