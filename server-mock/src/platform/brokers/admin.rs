//! The insurer's back office (its secret key, as for `POST /v1/insurer/arrears`) manages
//! brokers: creates one, issues, rotates and revokes its keys, and assigns it a contract. Each
//! action is audited with the back office as the actor.
//!
//! The answers that carry a clear key are never stored for `Idempotency-Key` replay
//! ([`Reexecute`]): the clear key exists only in that one answer. A retried rotation finds the
//! old key revoked and says so; a retried issue makes another key (revoke the unused one).

use axum::extract::{Path, State};
use axum::{Extension, Json};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use tierspay_core::auth::random;

use super::{audit, client_of, keys, BACK_OFFICE};
use crate::http::{ApiError, ApiJson, Caller, ClientAddr, Reexecute};
use crate::state::AppState;

/// Longest broker name.
pub const MAX_NAME: usize = 100;

/// Only the insurer's secret key manages brokers.
fn back_office(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::ApiKey { key } if key.starts_with("sk_") => Ok(()),
        _ => Err(ApiError::unauthorized(
            "api_key_missing",
            "This endpoint is the insurer's: send its secret key as `Authorization: Bearer sk_…`.",
        )),
    }
}

/// An id of ours has a prefix and at most 64 characters; anything else is no broker.
fn plausible(id: &str, prefix: &str) -> bool {
    id.len() <= 64 && id.starts_with(prefix)
}

fn no_broker() -> ApiError {
    let mut e = ApiError::not_found("broker");
    e.detail.param = Some("id".into());
    e
}

fn broker_exists(tx: &Connection, id: &str) -> Result<bool, ApiError> {
    Ok(tx
        .prepare_cached("SELECT 1 FROM platform_brokers WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// `POST /v1/insurer/brokers` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBroker {
    /// The broker's trading name, 1 to [`MAX_NAME`] characters on one line.
    pub name: String,
}

/// `POST /v1/insurer/brokers`: a broker, without keys or clients yet.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    ApiJson(body): ApiJson<NewBroker>,
) -> Result<Json<Value>, ApiError> {
    back_office(&caller)?;
    let name = body.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::invalid_param(
            "name",
            format!("name must be 1 to {MAX_NAME} characters, on one line."),
        )
        .not_executed());
    }
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            let id = random::id("brk");
            tx.prepare_cached(
                "INSERT INTO platform_brokers (id, name, created) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, name, now])?;
            audit(
                tx,
                now,
                BACK_OFFICE,
                "broker_create",
                None,
                "done",
                &format!("broker {id}"),
                &client,
            )?;
            Ok(json!({"object": "broker", "id": id, "name": name, "created": now}))
        })
        .await?;
    Ok(Json(answer))
}

fn key_answer(view: &keys::KeyView, clear: &str, revoked: Option<&keys::KeyView>) -> Value {
    json!({
        "object": "broker_key",
        "id": view.id,
        "broker": view.broker,
        "secret": clear,
        "display": view.display,
        "created": view.created,
        "revoked_at": Value::Null,
        "rotated_from": revoked.map(|r| json!({"id": r.id, "revoked_at": r.revoked_at})),
    })
}

/// `POST /v1/insurer/brokers/{id}/keys`: a new key; its clear value is in this answer only.
pub async fn issue_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path(broker_id): Path<String>,
) -> Result<(Extension<Reexecute>, Json<Value>), ApiError> {
    back_office(&caller)?;
    if !plausible(&broker_id, "brk_") {
        return Err(no_broker());
    }
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            if !broker_exists(tx, &broker_id)? {
                return Err(no_broker());
            }
            let (view, issued) = keys::issue(tx, &broker_id, now)?;
            audit(
                tx,
                now,
                BACK_OFFICE,
                "broker_key_issue",
                None,
                "done",
                &format!("broker {broker_id}, key {}", view.id),
                &client,
            )?;
            Ok(key_answer(&view, &issued.clear, None))
        })
        .await?;
    Ok((Extension(Reexecute), Json(answer)))
}

fn no_key() -> ApiError {
    let mut e = ApiError::not_found("broker_key");
    e.detail.param = Some("key".into());
    e
}

fn key_revoked() -> ApiError {
    let mut e = ApiError::invalid("broker_key_revoked", "This key is already revoked.");
    e.detail.param = Some("key".into());
    e
}

/// `POST /v1/insurer/brokers/{id}/keys/{key}/rotate`: a new key, and the old one revoked in the
/// same transaction (both audited).
pub async fn rotate_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path((broker_id, key_id)): Path<(String, String)>,
) -> Result<(Extension<Reexecute>, Json<Value>), ApiError> {
    back_office(&caller)?;
    if !plausible(&broker_id, "brk_") {
        return Err(no_broker());
    }
    if !plausible(&key_id, "bkk_") {
        return Err(no_key());
    }
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            let old = keys::key(tx, &broker_id, &key_id)?.ok_or_else(no_key)?;
            if old.revoked_at.is_some() {
                return Err(key_revoked());
            }
            let (view, issued) = keys::issue(tx, &broker_id, now)?;
            if !keys::revoke(tx, &old.id, Some(&view.id), now)? {
                return Err(key_revoked());
            }
            let old = keys::key(tx, &broker_id, &key_id)?.ok_or_else(no_key)?;
            for (action, key) in [
                ("broker_key_issue", &view.id),
                ("broker_key_revoke", &old.id),
            ] {
                audit(
                    tx,
                    now,
                    BACK_OFFICE,
                    action,
                    None,
                    "done",
                    &format!("broker {broker_id}, key {key}, rotation"),
                    &client,
                )?;
            }
            Ok(key_answer(&view, &issued.clear, Some(&old)))
        })
        .await?;
    Ok((Extension(Reexecute), Json(answer)))
}

/// `POST /v1/insurer/brokers/{id}/keys/{key}/revoke`: the key stops working at once.
pub async fn revoke_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path((broker_id, key_id)): Path<(String, String)>,
) -> Result<Json<keys::KeyView>, ApiError> {
    back_office(&caller)?;
    if !plausible(&broker_id, "brk_") {
        return Err(no_broker());
    }
    if !plausible(&key_id, "bkk_") {
        return Err(no_key());
    }
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    let view = state
        .db
        .transaction(move |tx| {
            keys::key(tx, &broker_id, &key_id)?.ok_or_else(no_key)?;
            if !keys::revoke(tx, &key_id, None, now)? {
                return Err(key_revoked());
            }
            audit(
                tx,
                now,
                BACK_OFFICE,
                "broker_key_revoke",
                None,
                "done",
                &format!("broker {broker_id}, key {key_id}"),
                &client,
            )?;
            keys::key(tx, &broker_id, &key_id)?.ok_or_else(no_key)
        })
        .await?;
    Ok(Json(view))
}

/// `POST /v1/insurer/brokers/{id}/contracts` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The contract the broker brought (`ctr_…` or its number).
    pub contract: String,
}

/// `POST /v1/insurer/brokers/{id}/contracts`: the contract (and so its member) is this
/// broker's client from now on; a contract has one broker, so this replaces any earlier one.
pub async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path(broker_id): Path<String>,
    ApiJson(body): ApiJson<Assignment>,
) -> Result<Json<Value>, ApiError> {
    back_office(&caller)?;
    if !plausible(&broker_id, "brk_") {
        return Err(no_broker());
    }
    if body.contract.is_empty() || body.contract.len() > 64 {
        return Err(ApiError::invalid_param(
            "contract",
            "contract must be a contract id or number.",
        )
        .not_executed());
    }
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            if !broker_exists(tx, &broker_id)? {
                return Err(no_broker());
            }
            let (contract_ref, member_ref, _) =
                crate::insurer::contracts::owner_of(tx, &body.contract)?.ok_or_else(|| {
                    let mut e = ApiError::not_found("contract");
                    e.detail.param = Some("contract".into());
                    e
                })?;
            let previous: Option<String> = tx
                .prepare_cached(
                    "SELECT broker_id FROM platform_broker_contracts WHERE contract_ref = ?1",
                )?
                .query_row([&contract_ref], |r| r.get(0))
                .optional()?;
            tx.prepare_cached(
                "INSERT INTO platform_broker_contracts (contract_ref, member_ref, broker_id, assigned)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (contract_ref) DO UPDATE SET broker_id = ?3, assigned = ?4",
            )?
            .execute(params![contract_ref, member_ref, broker_id, now])?;
            let detail = match &previous {
                Some(p) => format!("broker {broker_id}, contract {contract_ref}, from {p}"),
                None => format!("broker {broker_id}, contract {contract_ref}"),
            };
            audit(
                tx,
                now,
                BACK_OFFICE,
                "broker_assign",
                None,
                "done",
                &detail,
                &client,
            )?;
            Ok(json!({
                "object": "broker_assignment",
                "broker": broker_id,
                "contract": contract_ref,
                "previous_broker": previous,
                "assigned": now,
            }))
        })
        .await?;
    Ok(Json(answer))
}
