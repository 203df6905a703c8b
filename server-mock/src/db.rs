//! The mock's SQLite file (WAL, so it survives a restart and readers never block), with
//! versioned migrations per module, and a way to run blocking SQLite work off the async threads.
//!
//! One connection serves every request, one query at a time (SQLite allows one writer anyway).
//! A request can also *hold* the connection for its whole run ([`Db::hold`]): every query it
//! makes then goes through the held connection, inside one transaction that the holder commits
//! or rolls back as a whole. The idempotency layer uses it so that a keyed POST's effect and its
//! stored answer commit together, or not at all.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::OwnedMutexGuard;

use crate::http::ApiError;
use crate::vault::Vault;

/// A shared connection.
#[derive(Clone)]
pub struct Db {
    conn: Arc<tokio::sync::Mutex<Connection>>,
}

/// Exclusive use of the connection. Released with a transaction still open (a client that went
/// away, a panic), it rolls that transaction back: nothing half-written ever commits.
pub struct Writer(OwnedMutexGuard<Connection>);

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            if let Err(e) = self.0.execute_batch("ROLLBACK") {
                tracing::error!("rollback of an abandoned transaction failed: {e}");
            }
        }
    }
}

impl std::ops::Deref for Writer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0
    }
}

/// Where a held connection waits between the queries of its request.
type Slot = Arc<Mutex<Option<Writer>>>;

tokio::task_local! {
    /// The connection the current request holds, if it holds one.
    static HELD: Slot;
}

/// WAL pages past which the writer checkpoints itself, while holding the connection. SQLite
/// counts every frame since the WAL last restarted, backfilled or not, and under load the WAL
/// rarely restarts: at 10,000 (about 40 MB) the request threads ran that checkpoint, fsyncs
/// included, every second or so at 200 taps/s (strace), stalling every request behind it.
const WAL_BACKSTOP_PAGES: i64 = 100_000;
/// Prepared statements kept by the connection (every statement of the hot paths, with room).
const STATEMENT_CACHE: usize = 256;

impl Db {
    /// Opens (or creates) the database file, registers the vault's SQL functions and runs
    /// every module's migrations.
    pub fn open(path: &Path, vault: Arc<Vault>) -> rusqlite::Result<Self> {
        let mut conn = Connection::open(path)?;
        register_vault(&conn, vault)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints run on a connection of their own (`checkpoint`), so no request waits for
        // the disk; this is only the backstop should that task fall behind (about 400 MB).
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // One connection serves every request: a tap alone runs some 20 distinct statements,
        // which rusqlite's default cache of 16 kept evicting and SQLite kept re-parsing.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Plans that do not depend on bound values: otherwise SQLite marks every statement
        // with a bound `LIMIT ?` (the velocity counts, the outbox poll) for re-preparation at
        // each bind, and the cache above saves nothing for them (sqlite3Reprepare was 7 % of
        // the server's CPU under make bench-auth).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (module, version))",
        )?;
        migrate(&mut conn, "http", crate::http::MIGRATIONS)?;
        migrate(&mut conn, "insurer", crate::insurer::MIGRATIONS)?;
        migrate(&mut conn, "platform", crate::platform::MIGRATIONS)?;
        migrate(&mut conn, "reminders", crate::platform::arrears::reminders::MIGRATIONS)?;
        migrate(&mut conn, "psp", crate::psp::MIGRATIONS)?;
        Ok(Self {
            conn: Arc::new(tokio::sync::Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection: the request's held connection when there is one,
    /// otherwise the shared one as soon as it is free. The work runs on the calling thread:
    /// queries here take microseconds, and a hop to the blocking pool for each one cost more
    /// than the query (and was paid while holding the connection). Work that takes long (bulk
    /// fixtures) goes through [`Db::call_long`].
    pub async fn call<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        if let Ok(slot) = HELD.try_with(Slot::clone) {
            let mut place = slot
                .lock()
                .map_err(|_| ApiError::internal("held connection poisoned"))?;
            let writer = place
                .as_mut()
                .ok_or_else(|| ApiError::internal("held connection released"))?;
            return work(writer);
        }
        let mut writer = Writer(self.conn.clone().lock_owned().await);
        work(&mut writer)
    }

    /// [`Db::call`] on the blocking pool, for work that takes long enough (seconds) to stall
    /// the other requests of an async worker thread.
    pub async fn call_long<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
    {
        if let Ok(slot) = HELD.try_with(Slot::clone) {
            let writer = slot
                .lock()
                .map_err(|_| ApiError::internal("held connection poisoned"))?
                .take()
                .ok_or_else(|| ApiError::internal("held connection used twice at once"))?;
            let (writer, out) = run_blocking(writer, work).await?;
            if let Ok(mut place) = slot.lock() {
                *place = Some(writer);
            }
            return out;
        }
        let writer = Writer(self.conn.clone().lock_owned().await);
        run_blocking(writer, work).await.and_then(|(_, out)| out)
    }

    /// Runs `work` inside one transaction: all of it commits, or none of it. Inside a held
    /// connection it is a savepoint of the request's transaction.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        self.call(move |conn| in_transaction(conn, work)).await
    }

    /// [`Db::transaction`] on the blocking pool (see [`Db::call_long`]).
    pub async fn transaction_long<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        self.call_long(move |conn| in_transaction(conn, work)).await
    }

    /// Takes the connection for the rest of a request: `body` runs with every query of this
    /// task going through it. The caller begins and ends the transaction itself; whatever is
    /// still open when `body` ends or is dropped is rolled back. Every other request waits
    /// meanwhile, so a held request must never wait on another request to this server (a
    /// webhook it calls, say): such a handler commits its pending state first, then waits.
    pub async fn hold<F: std::future::Future>(&self, body: F) -> F::Output {
        let writer = Writer(self.conn.clone().lock_owned().await);
        HELD.scope(Arc::new(Mutex::new(Some(writer))), body).await
    }
}

/// A savepoint inside a transaction already open (a held request's), a transaction of its own
/// otherwise.
fn in_transaction<T>(
    conn: &mut Connection,
    work: impl FnOnce(&Connection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    if !conn.is_autocommit() {
        let sp = conn.savepoint()?;
        let out = work(&sp)?;
        sp.commit()?;
        return Ok(out);
    }
    let tx = conn.transaction()?;
    let out = work(&tx)?;
    tx.commit()?;
    Ok(out)
}

async fn run_blocking<T, F>(
    mut writer: Writer,
    work: F,
) -> Result<(Writer, Result<T, ApiError>), ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Connection) -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let out = work(&mut writer);
        (writer, out)
    })
    .await
    .map_err(|_| ApiError::internal("database task failed"))
}

/// Copies the WAL back into the database file from a second connection: in WAL mode a passive
/// checkpoint runs beside the writer instead of inside one request's commit.
pub fn checkpoint(path: &Path) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_millis(100))?;
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

/// `vault_seal(context, text)` and `vault_open(context, sealed)` in SQL: a module stores a
/// secret column sealed (`INSERT … VALUES (vault_seal('outbox:' || ?1, ?2))`) without holding
/// the key, and reads it back the same way. A value that does not open reads as NULL.
fn register_vault(conn: &Connection, vault: Arc<Vault>) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8;
    let sealer = vault.clone();
    conn.create_scalar_function("vault_seal", 2, flags, move |ctx| {
        let context: String = ctx.get(0)?;
        let plain: Option<String> = ctx.get(1)?;
        Ok(plain.map(|p| sealer.seal(context.as_bytes(), p.as_bytes())))
    })?;
    conn.create_scalar_function(
        "vault_open",
        2,
        flags | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let context: String = ctx.get(0)?;
            let sealed: Option<Vec<u8>> = ctx.get(1)?;
            Ok(sealed.and_then(|s| {
                vault
                    .open(context.as_bytes(), &s)
                    .ok()
                    .and_then(|p| String::from_utf8(p).ok())
            }))
        },
    )
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
