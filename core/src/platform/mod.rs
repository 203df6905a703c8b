//! Platform services the shells provide (Keychain / Keystore storage, Secure Enclave / StrongBox
//! device key, event listeners), as foreign traits; with the `testing` feature, software
//! implementations for tests and the terminal shell.

mod device_key;
mod secure_storage;
#[cfg(feature = "testing")]
mod software;

pub use device_key::DeviceKey;
pub use secure_storage::SecureStorage;
#[cfg(feature = "testing")]
pub use software::{FileSecureStorage, MemorySecureStorage, SoftwareDeviceKey};

/// A platform service failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    /// The service reported a failure; `detail` says what, without personal data.
    #[error("{detail}")]
    Failed {
        /// What failed.
        detail: String,
    },
}

impl PlatformError {
    /// A failure with a description.
    pub fn failed(detail: impl Into<String>) -> Self {
        Self::Failed {
            detail: detail.into(),
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::failed(format!("platform callback failed: {}", e.reason))
    }
}

impl From<PlatformError> for crate::error::Error {
    fn from(e: PlatformError) -> Self {
        Self::Platform(e.to_string())
    }
}
