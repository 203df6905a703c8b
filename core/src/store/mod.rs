//! The phone's SQLite database: versioned migrations and one repository per area. Secrets are
//! never written here (they live in secure storage), nor any card number.

mod card;
pub mod coverage;
mod invoices;
mod link_invoices;
pub mod messages;
mod migrations;
pub mod outbox;
mod payment;
mod pending;
mod push;
mod session;

use std::path::Path;

use rusqlite::Connection;

pub use invoices::{StoredInvoice, StoredInvoiceExtra, StoredInvoiceStatus, LIST_PAGE};
pub use link_invoices::LinkInvoice;
pub use outbox::{OutboxRow, OutboxState};
pub use session::LocalSession;

use crate::error::Result;

/// File name of the database inside the data directory.
pub const FILE_NAME: &str = "tierspay.sqlite3";

/// SQLite's answers when the folder or file cannot be written (read-only folder or file
/// system, no permission, a file that cannot be created).
fn is_not_writable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(
        e.sqlite_error_code(),
        Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied | C::DiskFull)
    )
}

/// What to tell when the data folder cannot be written: which folder, and why the app needs it.
fn not_writable(data_dir: &Path, cause: &str) -> crate::error::Error {
    crate::error::Error::invalid(
        "data_dir",
        format!(
            "cannot write to the data directory {}: TiersPay keeps its database there and needs \
             to write it (is it read-only, or full?) ({cause})",
            data_dir.display()
        ),
    )
}

/// Creates the folder private to its owner; an existing one loses any group and other access
/// (owner bits are left as they are: a folder made read-only on purpose stays so).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Creates the database file readable by its owner only before SQLite does (SQLite would
/// follow the umask, usually 0644); an existing one, and its `-wal` and `-shm`, are made 0600.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            match std::fs::metadata(&file) {
                Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// An open, migrated database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the database in `data_dir` and runs pending migrations. The folder is
    /// private to the app's user (0700 on unix) and the database file 0600, which SQLite gives
    /// its `-wal` and `-shm` files too: it holds names and birth dates.
    pub fn open(data_dir: &Path) -> Result<Self> {
        private_dir(data_dir).map_err(|e| {
            crate::error::Error::invalid(
                "data_dir",
                format!("cannot create {}: {e}", data_dir.display()),
            )
        })?;
        let path = data_dir.join(FILE_NAME);
        private_file(&path).map_err(|e| not_writable(data_dir, &e.to_string()))?;
        Self::open_file(&path).map_err(|e| match e {
            crate::error::Error::Storage(ref sqlite) if is_not_writable(sqlite) => {
                not_writable(data_dir, &sqlite.to_string())
            }
            other => other,
        })
    }

    fn open_file(path: &Path) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        // WAL: readers never wait on the writer; NORMAL is durable across app crashes and only
        // risks the last transaction on power loss, which the server state makes good again.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::run(&mut conn)?;
        Ok(Self { conn })
    }

    /// The connection, for the repositories.
    fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Deletes every row of member data (sign-out, or a session ended by the server).
    pub fn wipe(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM session; DELETE FROM beneficiary; DELETE FROM contract; DELETE FROM member;
             DELETE FROM coverage_cache; DELETE FROM provider; DELETE FROM card;
             DELETE FROM push_token; DELETE FROM payment_method; DELETE FROM visit;
             DELETE FROM pending_request; DELETE FROM member_invoice;
             DELETE FROM member_invoice_sync; DELETE FROM link_report;
             DELETE FROM outbox; DELETE FROM link_invoice;",
        )?;
        tx.commit()?;
        // Reclaim the pages so deleted personal data does not linger in the file.
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_folder_and_every_database_file_are_private() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("app").join("data");
        let store = Store::open(&dir).unwrap();
        store
            .save_push_token(crate::domain::push::PushService::Fcm, "t")
            .unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&parent.path().join("app")), 0o700);
        // While the connection is open, the WAL and its index exist beside the file.
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.join(format!("{FILE_NAME}{suffix}"));
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        drop(store);

        // Files left 0644 by an older version, and an open folder, are tightened.
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.join(format!("{FILE_NAME}{suffix}"));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let _store = Store::open(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(FILE_NAME)), 0o600);
    }

    #[test]
    fn an_unwritable_folder_is_named() {
        let parent = tempfile::tempdir().unwrap();
        // A file where the folder should be: nothing can be created in it, even by root.
        let dir = parent.path().join("not-a-folder");
        std::fs::write(&dir, b"").unwrap();
        match Store::open(&dir.join("data")) {
            Err(crate::error::Error::InvalidInput { field, message }) => {
                assert_eq!(field, "data_dir");
                assert!(message.contains("not-a-folder"), "{message}");
            }
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("opened"),
        }
    }
}
