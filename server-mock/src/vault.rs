//! Secrets that must not sit in the database: a 32-byte master key in a file of its own beside
//! the SQLite file (mode 0600), from which each use derives its own key. A copy of the database
//! alone (a backup, a support dump) then reveals no stored answer, message or code.
//!
//! - [`Vault::seal`] / [`Vault::open`]: AES-256-GCM with a random nonce and the row's identity
//!   as associated data, so a sealed value cannot be moved to another row.
//! - [`Vault::subkey`]: an HMAC-derived key for one purpose (the one-time code MAC).

use std::io::Write;
use std::path::{Path, PathBuf};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hmac;
use tierspay_core::auth::random;

/// The master key and what derives from it.
pub struct Vault {
    master: [u8; 32],
    sealing: LessSafeKey,
}

/// A sealed value did not open: another vault file, or a tampered row.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value does not open with this server's vault key")]
pub struct Unsealable;

impl Vault {
    /// The vault file for a database file: `mock.db` → `mock.db.vault`.
    pub fn path_for(db_path: &Path) -> PathBuf {
        let mut name = db_path.as_os_str().to_owned();
        name.push(".vault");
        PathBuf::from(name)
    }

    /// Reads the key file, creating it (0600, new random key) when missing.
    pub fn open_or_create(path: &Path) -> std::io::Result<Self> {
        let master = match std::fs::read(path) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} must hold exactly 32 bytes", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random::bytes::<32>();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path)?;
                file.write_all(&key)?;
                file.sync_all()?;
                key
            }
            Err(e) => return Err(e),
        };
        Ok(Self::from_key(master))
    }

    /// A vault over a given key (tests).
    pub fn from_key(master: [u8; 32]) -> Self {
        let sealing_key = Self::derive(&master, "seal");
        let sealing = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &sealing_key).expect("32 bytes is an AES-256 key"),
        );
        Self { master, sealing }
    }

    fn derive(master: &[u8; 32], purpose: &str) -> [u8; 32] {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, master),
            purpose.as_bytes(),
        );
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// A key for one purpose, independent of every other purpose's.
    pub fn subkey(&self, purpose: &str) -> [u8; 32] {
        Self::derive(&self.master, purpose)
    }

    /// Encrypts `plain`, bound to `context` (which must be given again to open it).
    pub fn seal(&self, context: &[u8], plain: &[u8]) -> Vec<u8> {
        let nonce = random::bytes::<NONCE_LEN>();
        let mut sealed = plain.to_vec();
        self.sealing
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .expect("AES-GCM seals any input under 64 GB");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`Vault::seal`] made for the same `context`.
    pub fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut buf = body.to_vec();
        let plain = self
            .sealing
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| Unsealable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_with_their_key() {
        let vault = Vault::from_key([7; 32]);
        let sealed = vault.seal(b"row-1", b"{\"number\":\"4000\"}");
        assert!(!sealed.windows(4).any(|w| w == b"4000"));
        assert_eq!(
            vault.open(b"row-1", &sealed).unwrap(),
            b"{\"number\":\"4000\"}"
        );
        assert!(vault.open(b"row-2", &sealed).is_err());
        assert!(Vault::from_key([8; 32]).open(b"row-1", &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(vault.open(b"row-1", &tampered).is_err());
        assert!(vault.open(b"row-1", &sealed[..5]).is_err());
        assert_ne!(vault.subkey("a"), vault.subkey("b"));
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = Vault::path_for(&dir.path().join("mock.db"));
        let first = Vault::open_or_create(&path).unwrap();
        let again = Vault::open_or_create(&path).unwrap();
        let sealed = first.seal(b"c", b"x");
        assert_eq!(again.open(b"c", &sealed).unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(Vault::open_or_create(&path).is_err());
    }
}
