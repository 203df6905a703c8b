//! What every PSP endpoint reads the same way: the `Psp` extractor (a secret key, business
//! time, the idempotency key) and the request's parameters, form-encoded in the body or the query
//! string (parsed by [`super::form`]).

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use serde_json::{Map, Value};
use tierspay_core::wire::codes;

use super::form::{self, Fields};
use super::model::Ctx;
use crate::http::{ApiError, Caller};
use crate::state::AppState;

/// An authenticated PSP request: a known secret key (checked by the authentication layer),
/// business time, the idempotency key.
pub struct Psp {
    /// Business time and the idempotency key, for the operation.
    pub(super) ctx: Ctx,
}

impl FromRequestParts<AppState> for Psp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(Caller::ApiKey { key }) = parts.extensions.get::<Caller>().cloned() else {
            return Err(ApiError::unauthorized(
                "api_key_missing",
                "You did not provide an API key. Send it as `Authorization: Bearer sk_test_…`.",
            ));
        };
        // The authentication layer refused unknown keys already; a publishable key is known
        // but cannot call the issuer's secret endpoints.
        if !key.starts_with("sk_") {
            return Err(ApiError::unauthorized(
                "secret_key_required",
                "This API call cannot be made with a publishable or restricted API key; use a secret key (sk_…).",
            ));
        }
        let idempotency_key = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            ctx: Ctx {
                now: state.clock.now(),
                idempotency_key,
            },
        })
    }
}

/// The body's parameters. JSON is refused: Stripe's API takes form-encoded bodies only.
pub(super) fn body_fields(headers: &HeaderMap, body: &Bytes) -> Result<Fields, ApiError> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json && !body.is_empty() {
        return Err(ApiError::invalid(
            "content_type_invalid",
            "Send parameters form-encoded (application/x-www-form-urlencoded), as Stripe's API expects.",
        )
        .not_executed());
    }
    form::parse(body)
}

/// The query string's parameters.
pub(super) fn query_fields(uri: &Uri) -> Result<Fields, ApiError> {
    form::parse(uri.query().unwrap_or_default().as_bytes())
}

/// The metadata of a new object, from its changes (removals are no-ops: there is nothing yet).
pub(super) fn to_map(changes: Option<form::MetadataChanges>) -> Map<String, Value> {
    let mut m = Map::new();
    form::merge_metadata(&mut m, changes.unwrap_or_default());
    m
}

/// A 404 naming `param` (the path's `id`) instead of the field the operation knows.
pub(super) fn rename_param(mut e: ApiError, param: &str) -> ApiError {
    if e.detail.code == codes::RESOURCE_MISSING {
        e.detail.param = Some(param.into());
    }
    e
}
