use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::ApiError;

/// A JSON body whose errors are Stripe-style and name the field at fault.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::invalid(
                "content_type_invalid",
                "Send the body as JSON with Content-Type: application/json.",
            )
            .not_executed());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::too_large())?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses JSON, turning serde's message into an error naming the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        let text = e.to_string();
        // serde says "unknown field `x`", "missing field `x`" or "invalid type: … at line …".
        let field = text
            .split('`')
            .nth(1)
            .filter(|_| text.contains("field"))
            .map(str::to_owned);
        let message = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("The body is not valid JSON ({text}).")
            }
            _ => format!("The body does not have the expected fields: {text}."),
        };
        match field {
            Some(field) => ApiError::invalid_param(&field, message).not_executed(),
            None => ApiError::invalid("body_invalid", message).not_executed(),
        }
    })
}
