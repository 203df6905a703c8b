//! Directory endpoints: search, one provider, and its desk QR code.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use qrcode::{render::svg, EcLevel, QrCode};
use tierspay_core::domain::provider_code;
use tierspay_core::wire::{Provider, ProviderList};

use super::directory::{self, SearchRequest};
use crate::http::{ApiError, Caller};
use crate::state::AppState;

/// `GET /v1/providers?q=&specialty=&city=&limit=`
pub async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ProviderList>, ApiError> {
    caller.device()?;
    let limit = match query.get("limit") {
        None => 10,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| {
                ApiError::invalid_param("limit", "limit must be a whole number from 1 to 100.")
            })?,
    };
    let text = query.get("q").cloned().unwrap_or_default();
    if text.len() > 200 {
        return Err(ApiError::invalid_param(
            "q",
            "q must be at most 200 characters.",
        ));
    }
    let req = SearchRequest {
        text,
        specialty: query.get("specialty").cloned(),
        city: query.get("city").cloned(),
        limit,
    };
    let (data, has_more) = state.providers.search(&req);
    Ok(Json(ProviderList {
        object: "list".into(),
        data,
        has_more,
    }))
}

async fn load(state: &AppState, id: String) -> Result<Provider, ApiError> {
    state
        .db
        .call(move |conn| directory::find(conn, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("provider"))
}

/// `GET /v1/providers/{id or code}`
pub async fn get(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Provider>, ApiError> {
    caller.device()?;
    let key = provider_code::normalize(&id).unwrap_or(id);
    Ok(Json(load(&state, key).await?))
}

/// `GET /v1/providers/{id}/qr.svg`: the desk poster's QR code (public, like the poster).
pub async fn qr(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let provider = load(&state, id).await?;
    let code =
        QrCode::with_error_correction_level(provider_code::qr_link(&provider.code), EcLevel::M)
            .map_err(|e| ApiError::internal(&format!("qr: {e}")))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .build();
    Ok(([("content-type", "image/svg+xml")], image))
}
