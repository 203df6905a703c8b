//! Software stand-ins for the platform services, only with the `testing` feature: secure
//! storage in memory or in a 0600 file, and a P-256 device key in software. For the tests, the
//! terminal shell and the Kotlin and Swift test suites; an app uses the Keychain / Keystore and
//! the Secure Enclave / StrongBox, so the library it ships has none of these.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use p256::ecdsa::SigningKey;

use super::{DeviceKey, PlatformError, SecureStorage};
use crate::auth::ecdsa;

/// Secure storage held in memory only: for tests.
#[derive(Debug, Default)]
pub struct MemorySecureStorage {
    values: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemorySecureStorage {
    fn map(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>>, PlatformError> {
        self.values
            .lock()
            .map_err(|_| PlatformError::failed("memory storage poisoned"))
    }
}

impl SecureStorage for MemorySecureStorage {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, PlatformError> {
        Ok(self.map()?.get(&key).cloned())
    }
    fn set(&self, key: String, value: Vec<u8>) -> Result<(), PlatformError> {
        self.map()?.insert(key, value);
        Ok(())
    }
    fn delete(&self, key: String) -> Result<(), PlatformError> {
        self.map()?.remove(&key);
        Ok(())
    }
}

/// Secure storage in a file readable by its owner only (mode 0600): the terminal shell's
/// stand-in for a Keychain. Written atomically (temporary file, then rename).
#[derive(Debug)]
pub struct FileSecureStorage {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSecureStorage {
    /// Storage kept in the file at `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    fn read(&self) -> Result<HashMap<String, String>, PlatformError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|_| PlatformError::failed("secure storage file is corrupt")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
            Err(e) => Err(PlatformError::failed(format!(
                "cannot read secure storage: {e}"
            ))),
        }
    }

    fn write(&self, map: &HashMap<String, String>) -> Result<(), PlatformError> {
        let tmp = self.path.with_extension("tmp");
        let bytes = serde_json::to_vec(map).map_err(|e| PlatformError::failed(e.to_string()))?;
        let io =
            |e: std::io::Error| PlatformError::failed(format!("cannot write secure storage: {e}"));
        {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp).map_err(io)?;
            // A leftover temporary file keeps its old mode through `open`: set it.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
            file.write_all(&bytes).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)
    }

    fn update(
        &self,
        change: impl FnOnce(&mut HashMap<String, String>),
    ) -> Result<(), PlatformError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| PlatformError::failed("secure storage lock poisoned"))?;
        let mut map = self.read()?;
        change(&mut map);
        self.write(&map)
    }
}

impl SecureStorage for FileSecureStorage {
    fn get(&self, key: String) -> Result<Option<Vec<u8>>, PlatformError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| PlatformError::failed("secure storage lock poisoned"))?;
        self.read()?
            .get(&key)
            .map(|v| {
                crate::auth::b64url_decode(v)
                    .map_err(|_| PlatformError::failed("secure storage value is corrupt"))
            })
            .transpose()
    }
    fn set(&self, key: String, value: Vec<u8>) -> Result<(), PlatformError> {
        self.update(|map| {
            map.insert(key, crate::auth::b64url(value));
        })
    }
    fn delete(&self, key: String) -> Result<(), PlatformError> {
        self.update(|map| {
            map.remove(&key);
        })
    }
}

/// A new in-memory secure storage, for tests of the shells.
#[uniffi::export]
pub fn memory_secure_storage() -> Arc<dyn SecureStorage> {
    Arc::new(MemorySecureStorage::default())
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

    #[test]
    fn file_storage_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let store = FileSecureStorage::new(&path);
        assert_eq!(store.get("a".into()).unwrap(), None);
        store.set("a".into(), vec![1, 2, 3]).unwrap();
        assert_eq!(
            FileSecureStorage::new(&path).get("a".into()).unwrap(),
            Some(vec![1, 2, 3])
        );
        store.delete("a".into()).unwrap();
        store.delete("a".into()).unwrap();
        assert_eq!(store.get("a".into()).unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"not json").unwrap();
        assert!(store.get("a".into()).is_err());
    }

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
