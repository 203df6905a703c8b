//! Two error types, as in application-services: a rich internal [`Error`] for the core's own
//! code and logs, and the small public `CoreError` (in `ffi`) that shells act on.

use crate::wire::ApiErrorDetail;

/// Everything that can go wrong inside the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input refused before any I/O.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The server answered with an error document.
    #[error("server refused ({status} {}): {}", .detail.code, .detail.message)]
    Api {
        /// HTTP status.
        status: u16,
        /// The error document (boxed: keeps every `Result` of the core small).
        detail: Box<ApiErrorDetail>,
        /// `Retry-After`, in seconds, when the server sent one.
        retry_after: Option<u64>,
        /// The document's members beside `error`, if any (boxed, as `detail`).
        extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    },
    /// The server could not be reached or the connection broke.
    #[error("network: {0}")]
    Network(String),
    /// The server answered something the core cannot read, or an unsigned/forged document.
    #[error("protocol: {0}")]
    Protocol(String),
    /// SQLite failed.
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A platform service (secure storage, device key) failed.
    #[error("platform: {0}")]
    Platform(String),
    /// The request needs an enrolled device.
    #[error("not enrolled")]
    NotEnrolled,
    /// Offline data (guarantees, tariffs) was never downloaded to this phone.
    #[error("coverage data not synced")]
    NotSynced,
    /// The server revoked this device (enrolled elsewhere, or signed out remotely).
    #[error("session ended by the server")]
    SessionRevoked,
    /// The session was enrolled with another server than the one configured now.
    #[error("enrolled with {enrolled}, configured for {configured}")]
    ServerChanged {
        /// The server URL of the enrollment.
        enrolled: String,
        /// The server URL of the configuration.
        configured: String,
    },
    /// A bug or broken invariant.
    #[error("internal: {0}")]
    Internal(String),
}

/// Result with the internal error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An input error for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The server's error code, if this is a server refusal.
    pub fn api_code(&self) -> Option<&str> {
        match self {
            Self::Api { detail, .. } => Some(&detail.code),
            _ => None,
        }
    }
}

impl From<crate::domain::enrollment::FieldError> for Error {
    fn from(e: crate::domain::enrollment::FieldError) -> Self {
        Self::invalid(e.field, e.message)
    }
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // The innermost cause says what happened ("Connection refused"); the URL is left out.
        let mut cause: &dyn std::error::Error = &e;
        while let Some(next) = cause.source() {
            cause = next;
        }
        let what = if e.is_timeout() {
            "the server did not answer in time".to_owned()
        } else if e.is_connect() {
            format!("cannot reach the server ({cause})")
        } else {
            format!("the connection failed ({cause})")
        };
        Self::Network(what)
    }
}
