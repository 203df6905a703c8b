//! `/v1/test_helpers/…`: fixtures, time and the outbox, so tests and demos make their own data.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::http::{ApiError, ApiJson};
use crate::insurer::contracts::{self, CreatedContract, NewContract};
use crate::platform::notifications;
use crate::state::AppState;

/// Test-helper routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/test_helpers/contracts", post(create_contract))
        .route("/v1/test_helpers/outbox", get(outbox))
        .route("/v1/test_helpers/clock", get(clock))
        .route("/v1/test_helpers/clock/advance", post(advance_clock))
}

async fn create_contract(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewContract>,
) -> Result<Json<CreatedContract>, ApiError> {
    let now = state.clock.now();
    let today = OffsetDateTime::from_unix_timestamp(now)
        .map(|t| t.date())
        .map_err(|_| ApiError::internal("clock out of range"))?;
    let created = state
        .db
        .transaction(move |tx| contracts::create(tx, body, today, now))
        .await?;
    Ok(Json(created))
}

async fn outbox(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match query.get("limit") {
        None => 10,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| {
                ApiError::invalid_param("limit", "limit must be a whole number from 1 to 100.")
            })?,
    };
    let channel = query.get("channel").cloned();
    if let Some(c) = &channel {
        if !["sms", "email", "push"].contains(&c.as_str()) {
            return Err(ApiError::invalid_param(
                "channel",
                "channel must be sms, email or push.",
            ));
        }
    }
    let recipient = query.get("recipient").cloned();
    let messages = state
        .db
        .call(move |conn| {
            notifications::list(conn, channel.as_deref(), recipient.as_deref(), limit + 1)
        })
        .await?;
    let has_more = messages.len() > limit as usize;
    let data: Vec<_> = messages.into_iter().take(limit as usize).collect();
    Ok(Json(
        json!({"object": "list", "data": data, "has_more": has_more}),
    ))
}

fn clock_json(state: &AppState) -> Value {
    json!({"object": "test_clock", "now": state.clock.now(), "offset": state.clock.offset()})
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_json(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Advance>,
) -> Result<Json<Value>, ApiError> {
    if !(0..=10 * 365 * 24 * 3600).contains(&body.seconds) {
        return Err(ApiError::invalid_param(
            "seconds",
            "seconds must be between 0 and ten years.",
        ));
    }
    state.clock.advance(body.seconds);
    Ok(Json(clock_json(&state)))
}
