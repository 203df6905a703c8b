use crate::error::Error;
use crate::wire::{codes, ErrorCode};

/// The errors a shell acts on, each differently. Messages carry no personal data and can be
/// shown as they are.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CoreError {
    /// The member typed something invalid; `field` names it.
    #[error("{field}: {detail}")]
    InvalidInput {
        /// The field at fault (`contract_number`, `birth_date`, `code`, …).
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// The server refused the request; `code` says why (`CodeIncorrect`, `CardInactive`, …).
    #[error("{detail}")]
    Rejected {
        /// Machine-readable reason.
        code: ErrorCode,
        /// What to tell the member.
        detail: String,
    },
    /// Too many attempts: wait before trying again.
    #[error("too many attempts; try again in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_seconds: u64,
    },
    /// The server could not be reached; nothing was lost, try again later.
    #[error("network unavailable: {detail}")]
    Network {
        /// What failed.
        detail: String,
    },
    /// This needs an enrolled device.
    #[error("this device is not enrolled")]
    NotEnrolled,
    /// The contract's guarantees and tariffs are not on this phone yet: sync once online.
    #[error("{detail}")]
    NotSynced {
        /// What to tell the member.
        detail: String,
    },
    /// The server ended this device's session; local data was wiped, enroll again.
    #[error("the session ended: {detail}")]
    SessionEnded {
        /// Why.
        detail: String,
    },
    /// Secure storage or the device key failed.
    #[error("platform service failed: {detail}")]
    Platform {
        /// What failed.
        detail: String,
    },
    /// A bug, or a server answer that cannot be trusted or read.
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
}

impl From<Error> for CoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidInput { field, message } => Self::InvalidInput {
                field,
                detail: message,
            },
            Error::Api {
                status,
                detail,
                retry_after,
                ..
            } => {
                let detail = *detail;
                if status == 429 || detail.code == codes::RATE_LIMITED {
                    Self::RateLimited {
                        retry_after_seconds: retry_after.unwrap_or(60),
                    }
                } else if status >= 500 {
                    Self::Network {
                        detail: detail.message,
                    }
                } else if detail.code == codes::TOKEN_REVOKED {
                    Self::SessionEnded {
                        detail: detail.message,
                    }
                } else if status == 400
                    && detail.param.is_some()
                    && detail.code.starts_with("parameter_")
                {
                    // Stripe's convention: `parameter_*` codes are input the member can fix;
                    // other codes with a param (a frozen `card`) are refusals of a state.
                    Self::InvalidInput {
                        field: detail.param.unwrap_or_default(),
                        detail: detail.message,
                    }
                } else {
                    Self::Rejected {
                        code: ErrorCode::parse(&detail.code),
                        detail: detail.message,
                    }
                }
            }
            Error::Network(detail) => Self::Network { detail },
            Error::NotEnrolled => Self::NotEnrolled,
            Error::NotSynced => Self::NotSynced {
                detail: "Your contract's guarantees are not on this phone yet; connect once to download them.".into(),
            },
            Error::SessionRevoked => Self::SessionEnded {
                detail: "this device was signed out by the server; enroll again".into(),
            },
            Error::ServerChanged {
                enrolled,
                configured,
            } => Self::InvalidInput {
                field: "server_url".into(),
                detail: format!(
                    "this device is enrolled with {enrolled}, not {configured}; sign out first to \
                     use another server"
                ),
            },
            Error::Platform(detail) => Self::Platform { detail },
            Error::Protocol(detail) | Error::Internal(detail) => Self::Internal { detail },
            Error::Storage(e) => Self::Internal {
                detail: format!("local database: {e}"),
            },
        }
    }
}

/// An error code as the server writes it (`card_inactive`): for shells that show or log it.
#[uniffi::export]
pub fn error_code_text(code: ErrorCode) -> String {
    code.as_str().to_owned()
}
