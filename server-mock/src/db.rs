//! The mock's SQLite file (WAL, so it survives a restart and readers never block), with
//! versioned migrations per module, and a way to run blocking SQLite work off the async threads.
//!
//! One connection serves every request, one query at a time (SQLite allows one writer anyway).
//! A request can also *hold* the connection for its whole run ([`Db::hold`]): every query it
//! makes then goes through the held connection, inside one transaction that the holder commits
//! or rolls back as a whole. The idempotency layer uses it so that a keyed POST's effect and its
//! stored answer commit together, or not at all.
//!
//! Transactions that queue for the connection commit as a group ([`Db::transaction`]): each
//! runs in a savepoint of one open transaction, the last in the queue commits it, and none of
//! them returns before that commit. A tap's three transactions each rewrote the last leaf of
//! about ten b-trees and page 1 (28 WAL frames a tap); a group rewrites them once.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::config::DbConfig;
use rusqlite::Connection;
use tokio::sync::{watch, OwnedMutexGuard};

use crate::http::ApiError;
use crate::vault::Vault;

/// A shared connection.
#[derive(Clone)]
pub struct Db {
    shared: Arc<Shared>,
}

struct Shared {
    conn: Arc<tokio::sync::Mutex<Inner>>,
    /// Callers waiting for the connection: while there are some, a transaction that ends
    /// leaves its group open for the next one to join instead of committing it.
    waiting: AtomicUsize,
    /// [`GROUP_FALLBACK`], longer in a test that must see a group still open.
    fallback: std::time::Duration,
}

/// The connection and the group transaction it may have open.
struct Inner {
    conn: Connection,
    group: Option<Group>,
    /// A transaction's work is running: a guard released meanwhile (a panic) rolls the group
    /// back instead of leaving it for the next caller.
    in_work: bool,
}

/// An open group transaction: how many transactions it holds, and where their callers learn
/// how its commit went.
struct Group {
    members: usize,
    done: watch::Sender<Option<Result<(), String>>>,
}

/// Transactions in one group at most: the first of a group waits for the others' work before
/// its commit, so the cap bounds that wait (16 × about 0.3 ms).
const MAX_GROUP: usize = 16;
/// How long a member waits for its group's commit before committing it itself: the caller that
/// was waiting for the connection may have gone away (a client that hung up) and left no one
/// to commit. Normally the next caller commits within a hold of the connection.
const GROUP_FALLBACK: std::time::Duration = std::time::Duration::from_millis(5);

/// Exclusive use of the connection. Released with a transaction still open (a client that went
/// away, a panic), it rolls that transaction back: nothing half-written ever commits.
pub struct Writer(OwnedMutexGuard<Inner>);

impl Drop for Writer {
    fn drop(&mut self) {
        let inner = &mut *self.0;
        // A group left open on purpose, between its members' transactions, stays open.
        if inner.group.is_some() && !inner.in_work && !inner.conn.is_autocommit() {
            return;
        }
        if !inner.conn.is_autocommit() {
            if let Err(e) = inner.conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback of an abandoned transaction failed: {e}");
            }
        }
        inner.in_work = false;
        if let Some(g) = inner.group.take() {
            let _ = g
                .done
                .send(Some(Err("the group transaction was rolled back".into())));
        }
    }
}

impl Writer {
    /// Commits the open group, if any, and tells its members how it went; afterwards the
    /// connection has no transaction open. Every use of the connection other than joining the
    /// group starts with it, so nothing reads, or writes around, uncommitted work.
    fn commit_group(&mut self) -> Result<(), ApiError> {
        let inner = &mut *self.0;
        let Some(g) = inner.group.take() else {
            return Ok(());
        };
        let out = if inner.conn.is_autocommit() {
            // SQLite rolled it back itself (a full disk, say).
            Err("the group transaction was rolled back".to_owned())
        } else {
            inner
                .conn
                .execute_batch("COMMIT")
                .map_err(|e| e.to_string())
        };
        if out.is_err() && !inner.conn.is_autocommit() {
            if let Err(e) = inner.conn.execute_batch("ROLLBACK") {
                tracing::error!("rollback of a failed group commit failed: {e}");
            }
        }
        let _ = g.done.send(Some(out.clone()));
        out.map_err(|e| {
            tracing::error!("group commit failed: {e}");
            ApiError::internal("commit failed")
        })
    }
}

impl std::ops::Deref for Writer {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.0.conn
    }
}

/// Counts a caller among those waiting for the connection until it has it (or gives up).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
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
/// rarely restarts: at 10,000 (40 MB at the 4 KB pages of the time) the request threads ran
/// that checkpoint, fsyncs included, every second or so at 200 taps/s (strace), stalling every
/// request behind it.
const WAL_BACKSTOP_PAGES: i64 = 100_000;
/// Bytes per database page. A commit writes every page it touched whole to the WAL, and a tap's
/// commits touch the last leaf of a dozen b-trees plus the overflow pages of three JSON copies
/// of the authorization: at 4 KB pages that was 36 pages (148 KB) a tap, 148 MB/s at 1,000
/// taps/s, more than this VM's disk sustains for a minute; at 1 KB it is about 47 pages (47 KB).
/// (`make bench-auth`, docs/benchmarks.md.)
const PAGE_SIZE: i64 = 1024;
/// Prepared statements kept by the connection (every statement of the hot paths, with room).
const STATEMENT_CACHE: usize = 256;

impl Db {
    /// Opens (or creates) the database file, registers the vault's SQL functions and runs
    /// every module's migrations.
    pub fn open(path: &Path, vault: Arc<Vault>) -> rusqlite::Result<Self> {
        let mut conn = Connection::open(path)?;
        register_vault(&conn, vault)?;
        crate::platform::arrears::member_events::register_wake(&conn)?;
        crate::platform::arrears::pay_once::register_functions(&conn)?;
        // Only a new, empty file takes it; an existing one keeps the size it was made with.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints run on a connection of their own (`Checkpointer`), so no request waits for
        // the disk, and `maintenance` lets the WAL start over; this is only the backstop should
        // that task fall behind (about 100 MB).
        conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // One connection serves every request: a tap alone runs some 20 distinct statements,
        // which rusqlite's default cache of 16 kept evicting and SQLite kept re-parsing.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Plans that do not depend on bound values: otherwise SQLite marks every statement
        // with a bound `LIMIT ?` (the velocity counts, the outbox poll) for re-preparation at
        // each bind, and the cache above saves nothing for them (sqlite3Reprepare was 7 % of
        // the server's CPU under make bench-auth).
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                module TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (module, version))",
        )?;
        migrate(&mut conn, "http", crate::http::MIGRATIONS)?;
        migrate(&mut conn, "insurer", crate::insurer::MIGRATIONS)?;
        migrate(&mut conn, "platform", crate::platform::MIGRATIONS)?;
        migrate(
            &mut conn,
            "reminders",
            crate::platform::arrears::reminders::MIGRATIONS,
        )?;
        migrate(
            &mut conn,
            "invoice_messages",
            crate::platform::invoice_messages::MIGRATIONS,
        )?;
        migrate(&mut conn, "psp", crate::psp::MIGRATIONS)?;
        // After the PSP's: its triggers watch the PSP's invoices and intents.
        migrate(
            &mut conn,
            "arrears_pay_once",
            crate::platform::arrears::pay_once::MIGRATIONS,
        )?;
        migrate(&mut conn, "console", crate::platform::console::MIGRATIONS)?;
        Ok(Self {
            shared: Arc::new(Shared {
                conn: Arc::new(tokio::sync::Mutex::new(Inner {
                    conn,
                    group: None,
                    in_work: false,
                })),
                waiting: AtomicUsize::new(0),
                fallback: GROUP_FALLBACK,
            }),
        })
    }

    /// The connection as soon as it is free, with its group transaction still open.
    async fn acquire(&self) -> Writer {
        self.shared.waiting.fetch_add(1, Ordering::SeqCst);
        let _counted = Waiting(&self.shared.waiting);
        Writer(self.shared.conn.clone().lock_owned().await)
    }

    /// The connection with no transaction open: the group, if one is open, committed first.
    async fn acquire_alone(&self) -> Writer {
        let mut writer = self.acquire().await;
        // A failed group commit is its members' error; this caller goes on with a connection
        // that has no transaction open either way.
        let _ = writer.commit_group();
        writer
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
        let mut writer = self.acquire_alone().await;
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
        let writer = self.acquire_alone().await;
        run_blocking(writer, work).await.and_then(|(_, out)| out)
    }

    /// Runs `work` inside one transaction: all of it commits, or none of it. Inside a held
    /// connection it is a savepoint of the request's transaction.
    ///
    /// Otherwise it joins the group transaction (a savepoint of it, rolled back alone if
    /// `work` fails) and returns only once the group has committed: when other callers are
    /// waiting for the connection, the group stays open for them and the last one, or the
    /// [`MAX_GROUP`]th, commits it. A caller that finds no one waiting commits at once, so an
    /// idle server answers as soon as before. What a successful `work` returns is therefore
    /// always committed, as the idempotency layer and the decision's answer need (ADR 0005).
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, ApiError> + Send + 'static,
    {
        if HELD.try_with(|_| ()).is_ok() {
            return self.call(move |conn| in_transaction(conn, work)).await;
        }
        let mut writer = self.acquire().await;
        let (out, done) = {
            let inner = &mut *writer.0;
            if inner.group.is_none() {
                if !inner.conn.is_autocommit() {
                    // Left open by a plain call: not ours to commit.
                    inner.conn.execute_batch("ROLLBACK")?;
                }
                inner.conn.execute_batch("BEGIN")?;
                inner.group = Some(Group {
                    members: 0,
                    done: watch::channel(None).0,
                });
            }
            inner.in_work = true;
            let out = run_savepoint(&mut inner.conn, work);
            inner.in_work = false;
            if inner.conn.is_autocommit() {
                // An error SQLite answers by rolling back the whole transaction (a full disk):
                // the group is gone, and its members learn it.
                writer.commit_group()?;
                return out;
            }
            let Some(group) = inner.group.as_mut() else {
                return Err(ApiError::internal("group transaction lost"));
            };
            group.members += 1;
            (out, (group.members, group.done.subscribe()))
        };
        let (members, mut done) = done;
        if self.shared.waiting.load(Ordering::SeqCst) == 0 || members >= MAX_GROUP {
            writer.commit_group()?;
            return out;
        }
        drop(writer);
        // A failed member's savepoint is rolled back: nothing of it waits for the commit.
        let value = out?;
        loop {
            // The borrow of the channel ends here: it must not live across an await.
            let waited = tokio::time::timeout(self.shared.fallback, done.wait_for(Option::is_some))
                .await
                .map(|r| r.map(|v| (*v).clone()));
            match waited {
                Ok(Ok(Some(Ok(())))) => return Ok(value),
                Ok(_) => return Err(ApiError::internal("commit failed")),
                // No one came to commit it: this member does.
                Err(_) => drop(self.acquire_alone().await),
            }
        }
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
        let writer = self.acquire_alone().await;
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

/// `work` in a savepoint of the open group transaction: released if it succeeds, rolled back
/// (that transaction alone) if it fails.
fn run_savepoint<T>(
    conn: &mut Connection,
    work: impl FnOnce(&Connection) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let sp = conn.savepoint()?;
    let out = work(&sp)?;
    sp.commit()?;
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

/// Where the WAL stands after a checkpoint pass: its frames, and how many of them are now in
/// the database file. When all are, the writer's next commit starts the WAL over from its
/// first frame instead of growing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalState {
    /// Frames in the WAL.
    pub frames: i64,
    /// Frames copied into the database file.
    pub backfilled: i64,
}

impl WalState {
    /// Frames not yet in the database file.
    pub fn lag(&self) -> i64 {
        self.frames.saturating_sub(self.backfilled)
    }
}

fn wal_checkpoint(conn: &Connection) -> rusqlite::Result<WalState> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok(WalState {
            frames: r.get(1)?,
            backfilled: r.get(2)?,
        })
    })
}

/// A second connection that copies the WAL back into the database file beside the writer: in
/// WAL mode a passive checkpoint runs while requests commit, its fsyncs included. It never
/// finishes under steady load, though (frames arrive while it copies), so the WAL would never
/// start over; [`Db::finish_checkpoint`] does the last, small part on the writer's connection.
pub struct Checkpointer {
    conn: Connection,
    db: std::path::PathBuf,
    wal: std::path::PathBuf,
}

impl Checkpointer {
    /// Opens the side connection on the database at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_millis(100))?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        Ok(Self {
            conn,
            db: path.to_owned(),
            wal: wal.into(),
        })
    }

    /// One passive pass: fsyncs the WAL, copies every frame no reader still needs, fsyncs the
    /// database file.
    pub fn pass(&self) -> rusqlite::Result<WalState> {
        wal_checkpoint(&self.conn)
    }

    /// Flushes the WAL's and the database file's dirty pages to disk, holding no SQLite lock,
    /// so that [`Db::finish_checkpoint`], which fsyncs both while every request waits, finds
    /// little left to write. The database file needs it most: a pass that does not reach the
    /// WAL's end copies pages into it but leaves the fsync to the checkpoint that does, and
    /// that one then flushed every page copied since the last restart (about 33 ms at 400
    /// taps/s; random 4 KB writes cost some 30 µs each on this disk).
    pub fn presync(&self) -> std::io::Result<()> {
        std::fs::File::open(&self.wal)?.sync_data()?;
        std::fs::File::open(&self.db)?.sync_data()
    }
}

impl Db {
    /// Runs a passive checkpoint on the writer's own connection, between requests: nothing can
    /// commit meanwhile, so it copies the last frames and the WAL restarts at the next commit.
    /// Requests wait while it runs; it is meant to follow a [`Checkpointer`] pass and a
    /// [`Checkpointer::presync`], which leave it a few hundred pages and a small fsync.
    /// Returns how long it held the connection.
    pub async fn finish_checkpoint(&self) -> Result<(WalState, std::time::Duration), ApiError> {
        let writer = self.acquire_alone().await;
        // On the blocking pool: its fsyncs would otherwise stall a runtime thread's other
        // tasks too, not only those waiting for the connection.
        let (_, out) = run_blocking(writer, |conn| {
            let held = std::time::Instant::now();
            let wal = wal_checkpoint(conn)?;
            Ok((wal, held.elapsed()))
        })
        .await?;
        out
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frames_now(conn: &Connection) -> i64 {
        wal_checkpoint(conn).unwrap().frames
    }

    fn rows(path: &Path) -> Vec<i64> {
        let side = Connection::open(path).unwrap();
        let mut q = side.prepare("SELECT v FROM g ORDER BY v").unwrap();
        let out = q.query_map([], |r| r.get(0)).unwrap();
        out.map(Result::unwrap).collect()
    }

    async fn grouped(path: &Path) -> Db {
        let db = Db::open(path, Arc::new(Vault::from_key([1; 32]))).unwrap();
        db.call(|c| Ok(c.execute_batch("CREATE TABLE g (v INTEGER)")?))
            .await
            .unwrap();
        db
    }

    fn insert(db: &Db, v: i64) -> impl std::future::Future<Output = Result<(), ApiError>> {
        let db = db.clone();
        async move {
            db.transaction(move |tx| {
                tx.execute("INSERT INTO g VALUES (?1)", [v])?;
                Ok(())
            })
            .await
        }
    }

    #[tokio::test]
    async fn a_transaction_with_callers_waiting_returns_only_once_its_group_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut db = grouped(&path).await;
        // No fallback commit while the test looks.
        Arc::get_mut(&mut db.shared).unwrap().fallback = std::time::Duration::from_secs(60);
        // Someone waits for the connection: the first transaction leaves its group open.
        db.shared.waiting.fetch_add(1, Ordering::SeqCst);
        let first = tokio::spawn(insert(&db, 1));
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        assert!(!first.is_finished(), "answered before its commit");
        assert_eq!(rows(&path), Vec::<i64>::new(), "committed alone");
        // The waiter arrives: its transaction joins the group and, no one else waiting, commits.
        db.shared.waiting.fetch_sub(1, Ordering::SeqCst);
        insert(&db, 2).await.unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(rows(&path), vec![1, 2]);
    }

    #[tokio::test]
    async fn a_failed_member_rolls_back_alone_and_a_waiter_that_never_comes_commits_nothing_twice()
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = grouped(&path).await;
        db.shared.waiting.fetch_add(1, Ordering::SeqCst);
        let first = tokio::spawn(insert(&db, 1));
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        let failed = db
            .transaction(|tx| {
                tx.execute("INSERT INTO g VALUES (3)", [])?;
                Err::<(), _>(ApiError::internal("refused"))
            })
            .await;
        assert!(failed.is_err());
        // The counted waiter went away: the open group is committed by its member itself.
        db.shared.waiting.fetch_sub(1, Ordering::SeqCst);
        first.await.unwrap().unwrap();
        assert_eq!(rows(&path), vec![1]);
        // A plain call after a group finds no transaction open.
        let open = db.call(|c| Ok(c.is_autocommit())).await.unwrap();
        assert!(open);
    }

    #[tokio::test]
    async fn a_finished_checkpoint_lets_the_wal_start_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Db::open(&path, Arc::new(Vault::from_key([1; 32]))).unwrap();
        let write = |n: i64| {
            db.call(move |conn| {
                conn.execute_batch("CREATE TABLE IF NOT EXISTS t (v BLOB)")?;
                for _ in 0..n {
                    conn.execute("INSERT INTO t VALUES (zeroblob(3000))", [])?;
                }
                Ok(())
            })
        };
        write(200).await.unwrap();
        let side = Checkpointer::open(&path).unwrap();
        let pass = side.pass().unwrap();
        assert!(pass.frames >= 200, "{pass:?}");
        side.presync().unwrap();
        // Frames written after the pass, as under load: the writer's connection copies them.
        write(5).await.unwrap();
        let (after, _) = db.finish_checkpoint().await.unwrap();
        assert_eq!(after.lag(), 0, "{after:?}");
        write(1).await.unwrap();
        let restarted = db.call(|conn| Ok(frames_now(conn))).await.unwrap();
        assert!(
            restarted < 10,
            "the WAL went on from frame {}",
            after.frames
        );
    }
}
