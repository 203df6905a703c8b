//! The router: each module's routes behind the shared layers.

use axum::extract::Request;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::Router;

use crate::http::{self, ApiError};
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
        // Outermost last: request log → injected faults → caller authentication → idempotency →
        // handler.
        .layer(from_fn_with_state(state.clone(), http::idempotency))
        .layer(from_fn_with_state(state.clone(), http::authenticate))
        .layer(from_fn_with_state(state.clone(), crate::faults::inject))
        .layer(axum::middleware::from_fn(http::request_log))
        .with_state(state)
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
