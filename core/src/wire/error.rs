//! Stripe-style error bodies: `{"error": {"type", "code", "message", "param"}}`.

use serde::{Deserialize, Serialize};

/// The error envelope every non-2xx answer carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ApiErrorDetail,
}

/// One error, as Stripe shapes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorDetail {
    /// `api_error`, `card_error`, `idempotency_error` or `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A stable machine-readable code, e.g. `code_incorrect`.
    pub code: String,
    /// A message for a person; never carries personal data.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Card declines only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

/// Error codes shared by server and core: the core acts on some of them.
pub mod codes {
    /// Contract number and birth date match no contract (deliberately vague).
    pub const ENROLLMENT_NOT_MATCHED: &str = "enrollment_not_matched";
    /// The one-time code is wrong.
    pub const CODE_INCORRECT: &str = "code_incorrect";
    /// The one-time code expired.
    pub const CODE_EXPIRED: &str = "code_expired";
    /// Too many wrong codes: the enrollment is closed.
    pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";
    /// Too many requests for this contract or client.
    pub const RATE_LIMITED: &str = "rate_limited";
    /// The access token expired: refresh and retry.
    pub const TOKEN_EXPIRED: &str = "token_expired";
    /// The access or refresh token is unknown or revoked: enroll again.
    pub const TOKEN_REVOKED: &str = "token_revoked";
    /// The DPoP proof was refused.
    pub const INVALID_DPOP_PROOF: &str = "invalid_dpop_proof";
    /// A proof id was seen before.
    pub const DPOP_REPLAY: &str = "dpop_proof_replayed";
}
