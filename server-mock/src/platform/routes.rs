//! Session endpoints: token refresh, the profile, sign-out, the push token; and the routes of
//! enrollment and of the card.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use tierspay_core::wire::{Profile, RefreshRequest, TokenGrant};

use super::devices;
use crate::http::{ApiError, ApiJson, Caller};
use crate::state::AppState;

/// Routes of the platform module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/enrollments", post(super::enrollment::start))
        .route(
            "/v1/enrollments/{id}/confirm",
            post(super::enrollment::confirm),
        )
        .route("/v1/oauth/token", post(refresh))
        .route("/v1/me", get(me))
        .route("/v1/session/revoke", post(sign_out))
        .route("/v1/devices/push_token", post(super::push::register))
        .route("/v1/card", get(super::card::get_card))
        .route("/v1/card/freeze", post(super::card::freeze))
        .route("/v1/card/unfreeze", post(super::card::unfreeze))
        .route("/v1/card/reveal", post(super::card::reveal))
        .route("/v1/card/wallets/apple_pay", post(super::card::apple_pay))
        .route("/v1/card/wallets/google_pay", post(super::card::google_pay))
        .route("/v1/me/payment_setup", get(super::payment_method::setup))
        .route(
            "/v1/me/payment_method",
            get(super::payment_method::retrieve).post(super::payment_method::save),
        )
        .route(
            "/v1/visits",
            get(super::visits::list).post(super::visits::create),
        )
        .route("/v1/visits/{id}", get(super::visits::retrieve))
        .route(
            "/v1/me/link_reports",
            get(super::arrears::link_reports::list).post(super::arrears::link_reports::create),
        )
        .route("/v1/visits/{id}/cancel", post(super::visits::cancel))
        .route(super::psp_events::PATH, post(super::psp_events::receive))
        .merge(super::arrears::invoices::router())
        .merge(super::arrears::reminders::router())
        .merge(super::arrears::hosted_page::router())
        .merge(super::console::router())
        .merge(super::brokers::router())
        .merge(super::invoice_messages::router())
}

async fn refresh(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenGrant>, ApiError> {
    let (jkt, _) = caller.key_holder()?;
    if body.grant_type != "refresh_token" {
        return Err(ApiError::invalid_param(
            "grant_type",
            "grant_type must be `refresh_token`.",
        ));
    }
    let jkt = jkt.to_owned();
    let now = state.clock.now();
    let limits = state.limits.clone();
    let grant = state
        .db
        .transaction(move |tx| devices::refresh(tx, &body.refresh_token, &jkt, now, &limits))
        .await??;
    Ok(Json(grant))
}

async fn me(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Profile>, ApiError> {
    let device = caller.device()?.clone();
    let profile = state
        .db
        .call(move |conn| crate::insurer::profile(conn, &device.member_ref, &device.device_id))
        .await?;
    Ok(Json(profile))
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let device_id = caller.device()?.device_id.clone();
    let now = state.clock.now();
    let id = device_id.clone();
    state
        .db
        .transaction(move |tx| devices::revoke(tx, &id, now))
        .await?;
    Ok(Json(
        serde_json::json!({"object": "device", "id": device_id, "status": "revoked"}),
    ))
}
