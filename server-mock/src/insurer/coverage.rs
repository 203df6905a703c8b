//! Sync of what the phone caches for offline previews, and the authoritative recomputation of a
//! preview with the same core code.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::{Extension, Json};
use tierspay_core::domain::coverage::QuoteError;
use tierspay_core::domain::enrollment::parse_date;
use tierspay_core::domain::money::check_price;
use tierspay_core::domain::preview::{self, PreviewInput};
use tierspay_core::wire::{PreviewCheck, PreviewRequest, SyncResponse};

use super::{catalogue, directory};
use crate::http::{ApiError, ApiJson, Caller};
use crate::state::AppState;

fn field_error(e: QuoteError) -> ApiError {
    ApiError::invalid_param(&e.field, format!("{}: {}", e.field, e.message))
}

/// `GET /v1/sync?contract_etag=…&tariffs_etag=…`
pub async fn sync(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SyncResponse>, ApiError> {
    let contract_id = caller.device()?.contract_ref.clone();
    let (contract, tariffs) = state
        .db
        .call(move |conn| {
            Ok((
                catalogue::contract_data(conn, &contract_id)?,
                catalogue::tariff_catalogue(conn)?,
            ))
        })
        .await?;
    let changed = |etag: &str, key: &str| query.get(key).map(String::as_str) != Some(etag);
    Ok(Json(SyncResponse {
        object: "sync".into(),
        contract: changed(&contract.etag, "contract_etag").then_some(contract),
        tariffs: changed(&tariffs.etag, "tariffs_etag").then_some(tariffs),
    }))
}

/// `POST /v1/previews`: recomputes the phone's preview and says whether it still holds.
pub async fn check(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewCheck>, ApiError> {
    let contract_id = caller.device()?.contract_ref.clone();
    let date =
        parse_date(&req.date, "date").map_err(|e| ApiError::invalid_param(e.field, e.message))?;
    // The amount's grammar was checked as the body was read; its range is the phone's too.
    check_price(req.price).map_err(|e| {
        ApiError::invalid_param(
            e.field,
            format!("price {}: from 0.01 to 100000 euros.", e.message),
        )
    })?;
    let (contract, tariffs, provider) = state
        .db
        .call(move |conn| {
            let provider = directory::find(conn, &req.provider_id)?
                .ok_or_else(|| ApiError::invalid_param("provider_id", "No such provider."))?;
            Ok((
                catalogue::contract_data(conn, &contract_id)?,
                catalogue::tariff_catalogue(conn)?,
                (provider, req),
            ))
        })
        .await?;
    let (provider, req) = provider;
    let input = PreviewInput {
        contract: &contract,
        tariffs: &tariffs,
        provider: &provider,
        beneficiary_id: &req.beneficiary_id,
        act_code: &req.act_code,
        price: req.price,
        date,
    };
    let server = preview::preview(&input).map_err(field_error)?;
    Ok(Json(PreviewCheck {
        object: "preview_check".into(),
        holds: server.id == req.preview_id,
        preview_id: server.id,
        amo: server.quote.amo,
        amc: server.quote.amc,
        member: server.quote.member,
    }))
}
