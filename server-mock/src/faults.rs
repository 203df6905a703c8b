//! Fault injection for tests: fail the next N requests of a route, delay them, or drop their
//! answer after the endpoint committed (the client sees the connection break and must retry
//! with the same idempotency key). Set through `POST /v1/test_helpers/faults`.

use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::ApiError;
use crate::state::AppState;

/// What to do to matching requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultMode {
    /// Answer 503 without running the endpoint.
    Fail,
    /// Run the endpoint, then break the connection instead of answering.
    DropAfterCommit,
    /// Wait `delay_ms`, then run the endpoint.
    Delay,
}

/// A fault armed for the next `count` requests whose method and path match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path prefix, e.g. `/v1/enrollments/` (every confirm) or an exact path.
    pub path_prefix: String,
    /// What to do.
    pub mode: FaultMode,
    /// How many requests it hits.
    pub count: u32,
    /// For `delay`.
    #[serde(default)]
    pub delay_ms: u64,
}

/// Armed faults.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Arms a fault.
    pub fn arm(&self, fault: Fault) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.push(fault);
        }
    }

    /// Takes one hit of the first fault matching the request, if any.
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut armed = self.armed.lock().ok()?;
        let index = armed.iter().position(|f| {
            f.count > 0 && f.method.eq_ignore_ascii_case(method) && path.starts_with(&f.path_prefix)
        })?;
        armed[index].count -= 1;
        let fault = armed[index].clone();
        armed.retain(|f| f.count > 0);
        Some(fault)
    }
}

/// Middleware applying armed faults (never to the test helpers themselves).
pub async fn inject(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/v1/test_helpers/") {
        return next.run(req).await;
    }
    let Some(fault) = state.faults.take(req.method().as_str(), &path) else {
        return next.run(req).await;
    };
    tracing::info!(path, mode = ?fault.mode, "injecting a fault");
    match fault.mode {
        FaultMode::Fail => {
            let mut e = ApiError::internal("injected fault");
            e.status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
            e.detail.code = "service_unavailable".into();
            e.detail.message =
                "The service is temporarily unavailable; retry with the same Idempotency-Key."
                    .into();
            e.not_executed().into_response()
        }
        FaultMode::Delay => {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.min(30_000))).await;
            next.run(req).await
        }
        FaultMode::DropAfterCommit => {
            let response = next.run(req).await;
            let (parts, _) = response.into_parts();
            // A body that fails while streaming: hyper aborts the connection mid-answer.
            let broken = futures_util::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                    "injected: answer dropped after commit",
                ))
            });
            Response::from_parts(parts, Body::from_stream(broken))
        }
    }
}
