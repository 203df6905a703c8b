//! The mock's SQLite file (WAL, so it survives a restart and readers never block), with
//! versioned migrations per module, and a way to run blocking SQLite work off the async threads.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::http::ApiError;

/// A shared connection. One writer at a time is what SQLite allows anyway.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (or creates) the database file and runs every module's migrations.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (module, version))",
        )?;
        migrate(&mut conn, "http", crate::http::MIGRATIONS)?;
        migrate(&mut conn, "insurer", crate::insurer::MIGRATIONS)?;
        migrate(&mut conn, "platform", crate::platform::MIGRATIONS)?;
        migrate(&mut conn, "psp", crate::psp::MIGRATIONS)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    pub async fn call<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| ApiError::internal("database lock poisoned"))?;
            work(&mut guard)
        })
        .await
        .map_err(|_| ApiError::internal("database task failed"))?
    }

    /// Runs `work` inside one transaction: all of it commits, or none of it.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, ApiError> + Send + 'static,
    {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let out = work(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }
}

fn migrate(conn: &mut Connection, module: &str, migrations: &[&str]) -> rusqlite::Result<()> {
    let done: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE module = ?1",
        [module],
        |r| r.get(0),
    )?;
    for (i, sql) in migrations.iter().enumerate().skip(done as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (module, version) VALUES (?1, ?2)",
            rusqlite::params![module, i as i64 + 1],
        )?;
        tx.commit()?;
    }
    Ok(())
}
