//! The router: each module's routes behind the shared layers.

use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::http::{self, ApiError, Caller};
use crate::state::AppState;

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::insurer::router())
        .merge(crate::platform::router())
        .merge(crate::psp::router())
        .merge(crate::test_helpers::router())
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        // Outermost last: request log → size limits → injected faults → caller authentication
        // → test-helper guard → idempotency → handler.
        .layer(from_fn_with_state(state.clone(), http::idempotency))
        .layer(from_fn_with_state(state.clone(), guard_test_helpers))
        .layer(from_fn_with_state(state.clone(), http::authenticate))
        .layer(from_fn_with_state(state.clone(), crate::faults::inject))
        .layer(axum::middleware::from_fn(http::check_request))
        .layer(axum::middleware::from_fn(http::request_log))
        .with_state(state)
}

/// `/v1/test_helpers/*` does not exist unless the server was started with test helpers, and
/// even then answers only holders of a secret API key: the outbox shows one-time codes, and the
/// clock and fixtures move limits and balances.
async fn guard_test_helpers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with("/v1/test_helpers/") {
        return next.run(req).await;
    }
    if !state.test_helpers {
        return unknown_route(req).await.into_response();
    }
    match req.extensions().get::<Caller>() {
        Some(Caller::ApiKey { key }) if key.starts_with("sk_") => next.run(req).await,
        _ => ApiError::unauthorized(
            "api_key_required",
            "Test helpers need a secret API key: `Authorization: Bearer sk_test_…`.",
        )
        .into_response(),
    }
}

async fn unknown_route(req: Request) -> impl IntoResponse {
    let mut e = ApiError::not_found("route");
    e.detail.code = "route_unknown".into();
    e.detail.message = format!(
        "Unrecognized request URL ({}: {}).",
        req.method(),
        req.uri().path()
    );
    e.not_executed()
}

async fn wrong_method(req: Request) -> impl IntoResponse {
    let mut e = ApiError::invalid(
        "method_not_allowed",
        format!("{} is not allowed on {}.", req.method(), req.uri().path()),
    );
    e.status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    e.not_executed()
}
