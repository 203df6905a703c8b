//! The phone's SQLite database: versioned migrations and one repository per area. Secrets are
//! never written here (they live in secure storage), nor any card number.

mod card;
pub mod coverage;
mod migrations;
mod push;
mod session;

use std::path::Path;

use rusqlite::Connection;

pub use session::LocalSession;

use crate::error::Result;

/// File name of the database inside the data directory.
pub const FILE_NAME: &str = "tierspay.sqlite3";

/// An open, migrated database.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (or creates) the database in `data_dir` and runs pending migrations.
    pub fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            crate::error::Error::invalid("data_dir", format!("cannot create it: {e}"))
        })?;
        let mut conn = Connection::open(data_dir.join(FILE_NAME))?;
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
             DELETE FROM push_token;",
        )?;
        tx.commit()?;
        // Reclaim the pages so deleted personal data does not linger in the file.
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
        Ok(())
    }
}
