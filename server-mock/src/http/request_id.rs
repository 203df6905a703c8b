use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

/// Gives each request a `Request-Id` and logs one line when it ends: method, path (ids only,
/// never the query string, which could carry personal data), status and duration. The id is
/// also set as the request's own `Request-Id` header (replacing any the client sent), so the
/// layers and handlers inside read it there (events, idempotent replays' `Original-Request`).
pub async fn request_log(mut req: Request, next: Next) -> Response {
    let id = tierspay_core::auth::random::id("req");
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("request-id", v);
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            %method,
            path,
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "request"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("request-id", v);
    }
    response
}
