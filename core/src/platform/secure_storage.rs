use super::PlatformError;

/// Secret storage: the Keychain on iOS, EncryptedSharedPreferences / Keystore on Android.
/// Holds the refresh token, the access token and the software device key; nothing else.
#[uniffi::export(with_foreign)]
pub trait SecureStorage: Send + Sync {
    /// The value stored under `key`, if any.
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, PlatformError>;
    /// Stores `value` under `key`, replacing what was there.
    fn set(&self, key: String, value: Vec<u8>) -> Result<(), PlatformError>;
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: String) -> Result<(), PlatformError>;
}
