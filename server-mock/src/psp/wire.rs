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

/// A PSP request that a publishable key (`pk_…`) may also make, as Stripe allows from a phone or
/// a browser: creating a PaymentMethod, and reading or confirming an intent with its
/// `client_secret`.
pub struct PspPublic {
    /// Business time and the idempotency key, for the operation.
    pub(super) ctx: Ctx,
    /// Whether the caller used a publishable key (then it may only touch what its client
    /// secret opens).
    pub(super) publishable: bool,
}

/// Stripe's answer to a publishable key on an endpoint that needs a secret one.
fn publishable_refused() -> ApiError {
    let mut e = ApiError::unauthorized(
        "secret_key_required",
        "This API call cannot be made with a publishable API key. Please use a secret API key (sk_…).",
    );
    e.status = axum::http::StatusCode::FORBIDDEN;
    e
}

/// Stripe's answer to a restricted key without the permission (the mock's restricted keys have
/// none).
fn restricted_refused(key: &str) -> ApiError {
    let shown: String = key.chars().take(8).collect();
    let mut e = ApiError::unauthorized(
        "permission_denied",
        format!(
            "The provided key '{shown}***' does not have the required permissions for this endpoint on account '{}'.",
            super::balance::PLATFORM_ACCOUNT
        ),
    );
    e.status = axum::http::StatusCode::FORBIDDEN;
    e
}

/// The caller's key (`sk_`, or `pk_` when `publishable_ok`) and the request's context.
fn authenticated(
    parts: &Parts,
    state: &AppState,
    publishable_ok: bool,
) -> Result<(Ctx, bool), ApiError> {
    let Some(Caller::ApiKey { key }) = parts.extensions.get::<Caller>().cloned() else {
        return Err(ApiError::unauthorized(
            "api_key_missing",
            "You did not provide an API key. Send it as `Authorization: Bearer sk_test_…`.",
        ));
    };
    // The authentication layer refused unknown keys already; a publishable or restricted key
    // is known but cannot call the secret endpoints.
    let publishable = key.starts_with("pk_");
    if key.starts_with("rk_") {
        return Err(restricted_refused(&key));
    }
    if publishable && !publishable_ok {
        return Err(publishable_refused());
    }
    if !publishable && !key.starts_with("sk_") {
        return Err(publishable_refused());
    }
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let api_version = header("stripe-version").filter(|v| {
        v.len() <= 64
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    });
    Ok((
        Ctx {
            now: state.clock.now(),
            idempotency_key: header("idempotency-key"),
            request_id: header("request-id"),
            api_version,
            base_url: Some(state.public_url.trim_end_matches('/').to_owned()),
        },
        publishable,
    ))
}

impl FromRequestParts<AppState> for Psp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (ctx, _) = authenticated(parts, state, false)?;
        Ok(Self { ctx })
    }
}

impl FromRequestParts<AppState> for PspPublic {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (ctx, publishable) = authenticated(parts, state, true)?;
        Ok(Self { ctx, publishable })
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
