use std::sync::{Arc, Mutex};

use p256::ecdsa::SigningKey;

use super::{PlatformError, SecureStorage};
use crate::auth::ecdsa;

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

const STORAGE_KEY: &str = "tierspay.software_device_key";

/// A device key in software (the `p256` crate), its private half kept in a [`SecureStorage`]:
/// for tests and the terminal shell, where no secure hardware exists.
pub struct SoftwareDeviceKey {
    storage: Arc<dyn SecureStorage>,
    cached: Mutex<Option<SigningKey>>,
}

impl SoftwareDeviceKey {
    /// A key persisted in `storage` under a fixed name.
    pub fn new(storage: Arc<dyn SecureStorage>) -> Self {
        Self {
            storage,
            cached: Mutex::new(None),
        }
    }

    fn key(&self) -> Result<SigningKey, PlatformError> {
        let mut cached = self
            .cached
            .lock()
            .map_err(|_| PlatformError::failed("device key lock poisoned"))?;
        if let Some(key) = cached.as_ref() {
            return Ok(key.clone());
        }
        let key = match self.storage.get(STORAGE_KEY.into())? {
            Some(bytes) => SigningKey::from_slice(&bytes)
                .map_err(|_| PlatformError::failed("stored device key is corrupt"))?,
            None => {
                let key = ecdsa::generate_signing_key();
                self.storage
                    .set(STORAGE_KEY.into(), key.to_bytes().to_vec())?;
                key
            }
        };
        *cached = Some(key.clone());
        Ok(key)
    }
}

impl DeviceKey for SoftwareDeviceKey {
    fn public_key(&self) -> Result<Vec<u8>, PlatformError> {
        Ok(ecdsa::public_key_sec1(&self.key()?))
    }
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, PlatformError> {
        Ok(ecdsa::sign(&self.key()?, &message).to_vec())
    }
    fn delete(&self) -> Result<(), PlatformError> {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = None;
        }
        self.storage.delete(STORAGE_KEY.into())
    }
}

/// A software device key kept in `storage`, for tests and terminals without secure hardware.
#[uniffi::export]
pub fn software_device_key(storage: Arc<dyn SecureStorage>) -> Arc<dyn DeviceKey> {
    Arc::new(SoftwareDeviceKey::new(storage))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::MemorySecureStorage;

    #[test]
    fn the_key_persists_in_storage_and_is_replaced_after_delete() {
        let storage: Arc<dyn SecureStorage> = Arc::new(MemorySecureStorage::default());
        let key = SoftwareDeviceKey::new(storage.clone());
        let public = key.public_key().unwrap();
        let sig = key.sign(b"m".to_vec()).unwrap();
        ecdsa::verify(&public, b"m", &sig).unwrap();
        assert_eq!(
            SoftwareDeviceKey::new(storage.clone())
                .public_key()
                .unwrap(),
            public
        );
        key.delete().unwrap();
        assert_ne!(key.public_key().unwrap(), public);
    }
}
