use super::PlatformError;

/// The device key that signs every request (DPoP): a P-256 key in the Secure Enclave on iOS,
/// StrongBox or the TEE on Android. The private half never leaves the platform.
#[uniffi::export(with_foreign)]
pub trait DeviceKey: Send + Sync {
    /// The public key as an uncompressed SEC1 point (65 bytes); creates the key on first use.
    fn public_key(&self) -> Result<Vec<u8>, PlatformError>;
    /// ES256 signature of `message` (SHA-256, then ECDSA P-256), raw `r||s` or DER.
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError>;
    /// Destroys the key; the next `public_key` creates a fresh one.
    fn delete(&self) -> Result<(), PlatformError>;
}
