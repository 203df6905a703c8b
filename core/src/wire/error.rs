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

/// Every error code the server sends and the core or a shell acts on: one list for the mock
/// (which writes them) and the core (which reads them). A code not in this list reads as
/// [`ErrorCode::Unknown`]; the shells match on these variants, never on free strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorCode {
    /// Contract number and birth date match no contract (deliberately vague).
    EnrollmentNotMatched,
    /// The contract is suspended or terminated: it cannot enroll a device.
    ContractInactive,
    /// This enrollment was already confirmed.
    EnrollmentUsed,
    /// The one-time code is wrong.
    CodeIncorrect,
    /// The one-time code expired (or a newer one was sent).
    CodeExpired,
    /// Too many wrong codes: the enrollment is closed.
    TooManyAttempts,
    /// Too many requests for this contract or client.
    RateLimited,
    /// The access token expired: refresh and retry.
    TokenExpired,
    /// The access or refresh token is unknown or revoked: enroll again.
    TokenRevoked,
    /// The DPoP proof was refused.
    InvalidDpopProof,
    /// A proof id was seen before.
    DpopProofReplayed,
    /// A request field is invalid (the error names it).
    ParameterInvalid,
    /// A request field is not known.
    ParameterUnknown,
    /// No such object (provider, card, preview…).
    ResourceMissing,
    /// An idempotency key was reused with other parameters.
    IdempotencyKeyReused,
    /// The first request with this idempotency key is still running.
    IdempotencyKeyInUse,
    /// The card is frozen: unfreeze it first.
    CardInactive,
    /// The card is canceled.
    CardCanceled,
    /// The cardholder is inactive.
    CardholderInactive,
    /// The wallet token is already active.
    TokenAlreadyActive,
    /// The wallet token is suspended: unfreeze the card.
    TokenSuspended,
    /// The wallet token waits for identity verification.
    TokenNeedsIdentityVerification,
    /// PassKit's certificate chain does not lead to the trusted root.
    CertificateChainInvalid,
    /// A certificate or a nonce has expired.
    Expired,
    /// A key of an unsupported algorithm or curve.
    UnsupportedKey,
    /// The nonce signature does not bind the request to the device.
    BindingMismatch,
    /// What the wallet sent cannot be decrypted.
    DecryptionFailed,
    /// The wallet's activation data is wrong.
    ActivationDataInvalid,
    /// The preview's figures no longer hold: the answer carries the server's.
    PreviewStale,
    /// Another visit is armed on this card: cancel it or let it expire first.
    VisitAlreadyArmed,
    /// The visit is past the point where it can be cancelled.
    VisitNotCancelable,
    /// No own card is saved for the member's share.
    PaymentMethodMissing,
    /// The own card waits for the bank's authentication.
    PaymentMethodRequiresAction,
    /// The bank refused the own card: save another one.
    PaymentMethodFailed,
    /// The member's own card was declined (`decline_code` says why).
    CardDeclined,
    /// The bank wants the member to authenticate this payment.
    AuthenticationRequired,
    /// A code this version of the core does not know.
    Unknown,
}

impl ErrorCode {
    /// The code as it appears in the JSON error body.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EnrollmentNotMatched => "enrollment_not_matched",
            Self::ContractInactive => "contract_inactive",
            Self::EnrollmentUsed => "enrollment_used",
            Self::CodeIncorrect => "code_incorrect",
            Self::CodeExpired => "code_expired",
            Self::TooManyAttempts => "too_many_attempts",
            Self::RateLimited => "rate_limited",
            Self::TokenExpired => "token_expired",
            Self::TokenRevoked => "token_revoked",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::DpopProofReplayed => "dpop_proof_replayed",
            Self::ParameterInvalid => "parameter_invalid",
            Self::ParameterUnknown => "parameter_unknown",
            Self::ResourceMissing => "resource_missing",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::IdempotencyKeyInUse => "idempotency_key_in_use",
            Self::CardInactive => "card_inactive",
            Self::CardCanceled => "card_canceled",
            Self::CardholderInactive => "cardholder_inactive",
            Self::TokenAlreadyActive => "token_already_active",
            Self::TokenSuspended => "token_suspended",
            Self::TokenNeedsIdentityVerification => "token_needs_identity_verification",
            Self::CertificateChainInvalid => "certificate_chain_invalid",
            Self::Expired => "expired",
            Self::UnsupportedKey => "unsupported_key",
            Self::BindingMismatch => "binding_mismatch",
            Self::DecryptionFailed => "decryption_failed",
            Self::ActivationDataInvalid => "activation_data_invalid",
            Self::PreviewStale => "preview_stale",
            Self::VisitAlreadyArmed => "visit_already_armed",
            Self::VisitNotCancelable => "visit_not_cancelable",
            Self::PaymentMethodMissing => "payment_method_missing",
            Self::PaymentMethodRequiresAction => "payment_method_requires_action",
            Self::PaymentMethodFailed => "payment_method_failed",
            Self::CardDeclined => "card_declined",
            Self::AuthenticationRequired => "authentication_required",
            Self::Unknown => "unknown",
        }
    }

    /// Reads a code of an error body; unknown codes are [`ErrorCode::Unknown`].
    pub fn parse(code: &str) -> Self {
        match code {
            "enrollment_not_matched" => Self::EnrollmentNotMatched,
            "contract_inactive" => Self::ContractInactive,
            "enrollment_used" => Self::EnrollmentUsed,
            "code_incorrect" => Self::CodeIncorrect,
            "code_expired" => Self::CodeExpired,
            "too_many_attempts" => Self::TooManyAttempts,
            "rate_limited" => Self::RateLimited,
            "token_expired" => Self::TokenExpired,
            "token_revoked" => Self::TokenRevoked,
            "invalid_dpop_proof" => Self::InvalidDpopProof,
            "dpop_proof_replayed" => Self::DpopProofReplayed,
            "parameter_invalid" => Self::ParameterInvalid,
            "parameter_unknown" => Self::ParameterUnknown,
            "resource_missing" => Self::ResourceMissing,
            "idempotency_key_reused" => Self::IdempotencyKeyReused,
            "idempotency_key_in_use" => Self::IdempotencyKeyInUse,
            "card_inactive" => Self::CardInactive,
            "card_canceled" => Self::CardCanceled,
            "cardholder_inactive" => Self::CardholderInactive,
            "token_already_active" => Self::TokenAlreadyActive,
            "token_suspended" => Self::TokenSuspended,
            "token_needs_identity_verification" => Self::TokenNeedsIdentityVerification,
            "certificate_chain_invalid" => Self::CertificateChainInvalid,
            "expired" => Self::Expired,
            "unsupported_key" => Self::UnsupportedKey,
            "binding_mismatch" => Self::BindingMismatch,
            "decryption_failed" => Self::DecryptionFailed,
            "activation_data_invalid" => Self::ActivationDataInvalid,
            "preview_stale" => Self::PreviewStale,
            "visit_already_armed" => Self::VisitAlreadyArmed,
            "visit_not_cancelable" => Self::VisitNotCancelable,
            "payment_method_missing" => Self::PaymentMethodMissing,
            "payment_method_requires_action" => Self::PaymentMethodRequiresAction,
            "payment_method_failed" => Self::PaymentMethodFailed,
            "card_declined" => Self::CardDeclined,
            "authentication_required" => Self::AuthenticationRequired,
            _ => Self::Unknown,
        }
    }

    /// Every known code (for tests and shells' tables).
    pub const ALL: &'static [ErrorCode] = &[
        Self::EnrollmentNotMatched,
        Self::ContractInactive,
        Self::EnrollmentUsed,
        Self::CodeIncorrect,
        Self::CodeExpired,
        Self::TooManyAttempts,
        Self::RateLimited,
        Self::TokenExpired,
        Self::TokenRevoked,
        Self::InvalidDpopProof,
        Self::DpopProofReplayed,
        Self::ParameterInvalid,
        Self::ParameterUnknown,
        Self::ResourceMissing,
        Self::IdempotencyKeyReused,
        Self::IdempotencyKeyInUse,
        Self::CardInactive,
        Self::CardCanceled,
        Self::CardholderInactive,
        Self::TokenAlreadyActive,
        Self::TokenSuspended,
        Self::TokenNeedsIdentityVerification,
        Self::CertificateChainInvalid,
        Self::Expired,
        Self::UnsupportedKey,
        Self::BindingMismatch,
        Self::DecryptionFailed,
        Self::ActivationDataInvalid,
        Self::PreviewStale,
        Self::VisitAlreadyArmed,
        Self::VisitNotCancelable,
        Self::PaymentMethodMissing,
        Self::PaymentMethodRequiresAction,
        Self::PaymentMethodFailed,
        Self::CardDeclined,
        Self::AuthenticationRequired,
    ];
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The codes of [`ErrorCode`] as string constants, for code that builds error bodies.
pub mod codes {
    use super::ErrorCode;

    /// Contract number and birth date match no contract (deliberately vague).
    pub const ENROLLMENT_NOT_MATCHED: &str = ErrorCode::EnrollmentNotMatched.as_str();
    /// The contract is suspended or terminated: it cannot enroll a device.
    pub const CONTRACT_INACTIVE: &str = ErrorCode::ContractInactive.as_str();
    /// This enrollment was already confirmed.
    pub const ENROLLMENT_USED: &str = ErrorCode::EnrollmentUsed.as_str();
    /// The one-time code is wrong.
    pub const CODE_INCORRECT: &str = ErrorCode::CodeIncorrect.as_str();
    /// The one-time code expired (or a newer one was sent).
    pub const CODE_EXPIRED: &str = ErrorCode::CodeExpired.as_str();
    /// Too many wrong codes: the enrollment is closed.
    pub const TOO_MANY_ATTEMPTS: &str = ErrorCode::TooManyAttempts.as_str();
    /// Too many requests for this contract or client.
    pub const RATE_LIMITED: &str = ErrorCode::RateLimited.as_str();
    /// The access token expired: refresh and retry.
    pub const TOKEN_EXPIRED: &str = ErrorCode::TokenExpired.as_str();
    /// The access or refresh token is unknown or revoked: enroll again.
    pub const TOKEN_REVOKED: &str = ErrorCode::TokenRevoked.as_str();
    /// The DPoP proof was refused.
    pub const INVALID_DPOP_PROOF: &str = ErrorCode::InvalidDpopProof.as_str();
    /// A proof id was seen before.
    pub const DPOP_PROOF_REPLAYED: &str = ErrorCode::DpopProofReplayed.as_str();
    /// A request field is invalid (the error names it).
    pub const PARAMETER_INVALID: &str = ErrorCode::ParameterInvalid.as_str();
    /// A request field is not known.
    pub const PARAMETER_UNKNOWN: &str = ErrorCode::ParameterUnknown.as_str();
    /// No such object (provider, card, preview…).
    pub const RESOURCE_MISSING: &str = ErrorCode::ResourceMissing.as_str();
    /// An idempotency key was reused with other parameters.
    pub const IDEMPOTENCY_KEY_REUSED: &str = ErrorCode::IdempotencyKeyReused.as_str();
    /// The first request with this idempotency key is still running.
    pub const IDEMPOTENCY_KEY_IN_USE: &str = ErrorCode::IdempotencyKeyInUse.as_str();
    /// The card is frozen: unfreeze it first.
    pub const CARD_INACTIVE: &str = ErrorCode::CardInactive.as_str();
    /// The card is canceled.
    pub const CARD_CANCELED: &str = ErrorCode::CardCanceled.as_str();
    /// The cardholder is inactive.
    pub const CARDHOLDER_INACTIVE: &str = ErrorCode::CardholderInactive.as_str();
    /// The wallet token is already active.
    pub const TOKEN_ALREADY_ACTIVE: &str = ErrorCode::TokenAlreadyActive.as_str();
    /// The wallet token is suspended: unfreeze the card.
    pub const TOKEN_SUSPENDED: &str = ErrorCode::TokenSuspended.as_str();
    /// The wallet token waits for identity verification.
    pub const TOKEN_NEEDS_IDENTITY_VERIFICATION: &str =
        ErrorCode::TokenNeedsIdentityVerification.as_str();
    /// PassKit's certificate chain does not lead to the trusted root.
    pub const CERTIFICATE_CHAIN_INVALID: &str = ErrorCode::CertificateChainInvalid.as_str();
    /// A certificate or a nonce has expired.
    pub const EXPIRED: &str = ErrorCode::Expired.as_str();
    /// A key of an unsupported algorithm or curve.
    pub const UNSUPPORTED_KEY: &str = ErrorCode::UnsupportedKey.as_str();
    /// The nonce signature does not bind the request to the device.
    pub const BINDING_MISMATCH: &str = ErrorCode::BindingMismatch.as_str();
    /// What the wallet sent cannot be decrypted.
    pub const DECRYPTION_FAILED: &str = ErrorCode::DecryptionFailed.as_str();
    /// The wallet's activation data is wrong.
    pub const ACTIVATION_DATA_INVALID: &str = ErrorCode::ActivationDataInvalid.as_str();
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_reads_back_as_itself() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), *code);
        }
        assert_eq!(ErrorCode::parse("something_new"), ErrorCode::Unknown);
    }
}
