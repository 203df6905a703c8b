use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tierspay_core::wire::{codes, ApiErrorDetail, ErrorBody};

/// A Stripe-style error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// The body.
    pub detail: ApiErrorDetail,
    /// Seconds for `Retry-After`.
    pub retry_after: Option<u64>,
    /// False when the endpoint never started executing (bad parameters, rate limits, conflicts):
    /// such answers are not stored against an idempotency key, as with Stripe.
    pub executed: bool,
    /// What went wrong inside, for an internal error: logged and kept for the server's own
    /// callers (start-up names it), never sent in the body.
    pub cause: Option<String>,
}

/// Marks a response whose request never reached the endpoint's logic.
#[derive(Debug, Clone, Copy)]
pub struct NotExecuted;

impl ApiError {
    fn new(status: StatusCode, kind: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            detail: ApiErrorDetail {
                kind: kind.into(),
                code: code.into(),
                message: message.into(),
                param: None,
                decline_code: None,
            },
            retry_after: None,
            executed: true,
            cause: None,
        }
    }

    /// 400 naming the field at fault.
    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            codes::PARAMETER_INVALID,
            message,
        );
        e.detail.param = Some(param.into());
        e
    }

    /// 400 with a specific code and no field.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            code,
            message,
        )
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            codes::RESOURCE_MISSING,
            format!("No such {what}."),
        )
    }

    /// 401 with a code telling the client what to do.
    pub fn unauthorized(code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            code,
            message,
        )
        .not_executed()
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "invalid_request_error",
            codes::RATE_LIMITED,
            "Too many attempts. Wait a few minutes before trying again.",
        );
        e.retry_after = Some(retry_after.max(1));
        e.not_executed()
    }

    /// 400 `idempotency_error`.
    pub fn idempotency(message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "idempotency_error",
            codes::IDEMPOTENCY_KEY_REUSED,
            message,
        );
        e.detail.param = Some("Idempotency-Key".into());
        e.not_executed()
    }

    /// 409: the first request with this key is still running.
    pub fn key_in_use() -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "invalid_request_error",
            codes::IDEMPOTENCY_KEY_IN_USE,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )
        .not_executed()
    }

    /// 413.
    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "body_too_large",
            format!(
                "The request body is larger than {} bytes.",
                super::MAX_BODY_BYTES
            ),
        )
        .not_executed()
    }

    /// 500; the cause goes to the log only.
    pub fn internal(cause: &str) -> Self {
        tracing::error!("internal error: {cause}");
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "internal_error",
            "An internal error occurred; nothing was changed. Retry later.",
        );
        error.cause = Some(cause.to_owned());
        error
    }

    /// Marks the error as raised before the endpoint ran.
    pub fn not_executed(mut self) -> Self {
        self.executed = false;
        self
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        Self::internal(&format!("sqlite: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.detail };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        if !self.executed {
            response.extensions_mut().insert(NotExecuted);
        }
        response
    }
}
