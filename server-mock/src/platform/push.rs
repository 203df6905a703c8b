//! Push tokens: one per device, given by the app after enrollment and replaced when the OS
//! rotates it. The outbox addresses pushes to it; revoking the device deletes it.

use axum::extract::State;
use axum::{Extension, Json};
use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::domain::push::{self as rules, PushService};
use tierspay_core::wire::{PushTokenInfo, PushTokenRequest};

use crate::http::{ApiError, ApiJson, Caller};
use crate::state::AppState;

/// The service (`apns`, `fcm`) and token a device registered, if any.
pub fn token_of(conn: &Connection, device_id: &str) -> Result<Option<(String, String)>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT service, token FROM platform_push_tokens WHERE device_id = ?1",
            [device_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Forgets a device's push token (sign-out, revocation).
pub fn forget(tx: &Connection, device_id: &str) -> Result<(), ApiError> {
    tx.execute(
        "DELETE FROM platform_push_tokens WHERE device_id = ?1",
        [device_id],
    )?;
    Ok(())
}

fn store(
    tx: &Connection,
    device_id: &str,
    service: PushService,
    token: &str,
    now: i64,
) -> Result<(), ApiError> {
    // A token addresses one app on one phone: held by another signed-in device, it is not this
    // device's to take (that would divert the other device's notifications).
    let holder: Option<String> = tx
        .query_row(
            "SELECT device_id FROM platform_push_tokens WHERE token = ?1",
            [token],
            |r| r.get(0),
        )
        .optional()?;
    if holder.is_some_and(|h| h != device_id) {
        return Err(ApiError::invalid_param(
            "token",
            "This push token is registered to another device.",
        ));
    }
    tx.execute(
        "INSERT INTO platform_push_tokens (device_id, service, token, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (device_id) DO UPDATE SET service = ?2, token = ?3, updated = ?4",
        params![device_id, service.as_str(), token, now],
    )?;
    Ok(())
}

/// `POST /v1/devices/push_token`: the device's APNs or FCM token, replacing an earlier one.
pub async fn register(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<PushTokenRequest>,
) -> Result<Json<PushTokenInfo>, ApiError> {
    let device_id = caller.device()?.device_id.clone();
    let invalid = |e: tierspay_core::domain::enrollment::FieldError| {
        ApiError::invalid_param(e.field, format!("{}: {}.", e.field, e.message)).not_executed()
    };
    let service = PushService::parse(&body.service).map_err(invalid)?;
    let token = rules::normalize_token(service, &body.token).map_err(invalid)?;
    let now = state.clock.now();
    let id = device_id.clone();
    state
        .db
        .transaction(move |tx| store(tx, &id, service, &token, now))
        .await?;
    tracing::info!(device = %device_id, service = service.as_str(), "push token registered");
    Ok(Json(PushTokenInfo {
        object: "push_token".into(),
        device_id,
        service: service.as_str().into(),
        updated: now,
    }))
}
