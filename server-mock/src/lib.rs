//! tierspay-mock: the insurer, the platform backend and (soon) a Stripe-like PSP, as one real
//! HTTP server over SQLite, for tests, demos and app development.
//!
//! Start it in-process with [`start`], or run the `tierspay-mock` binary.

// `ApiError` carries a whole Stripe error document by value; the error path of a mock server
// is not worth the indirection of boxing it everywhere.
#![allow(clippy::result_large_err)]

mod app;
mod clock;
mod db;
pub mod faults;
pub mod http;
pub mod insurer;
mod maintenance;
pub mod platform;
pub mod psp;
mod rate_limit;
mod serve;
mod state;
mod test_helpers;
mod vault;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use p256::ecdsa::SigningKey;
use rusqlite::OptionalExtension;
use tierspay_core::auth::{ecdsa, signature};
use tokio::sync::oneshot;

pub use state::Limits;

/// How to run the server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// The SQLite file (created if missing).
    pub db_path: PathBuf,
    /// Load the demo insurer.
    pub seed_demo: bool,
    /// Attempt limits and lifetimes.
    pub limits: Limits,
    /// The base URL clients use, when it differs from `http://{addr}` (behind a proxy, or
    /// listening on every interface). DPoP proofs must sign this URL: the `Host` header is
    /// never trusted for it.
    pub public_url: Option<String>,
    /// Proxies allowed to name the client in `X-Forwarded-For` (for rate limits).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve `/v1/test_helpers/*` (fixtures, clock, outbox, faults), to holders of a secret API
    /// key only. Off by default: the outbox shows one-time codes and the clock moves limits.
    pub test_helpers: bool,
}

impl ServerConfig {
    /// Loopback on a free port, with the given database file.
    pub fn loopback(db_path: impl Into<PathBuf>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_path: db_path.into(),
            seed_demo: false,
            limits: Limits::default(),
            public_url: None,
            trusted_proxies: Vec::new(),
            test_helpers: false,
        }
    }

    /// [`ServerConfig::loopback`] with the test helpers on, as tests and demos run it.
    pub fn for_tests(db_path: impl Into<PathBuf>) -> Self {
        Self {
            test_helpers: true,
            ..Self::loopback(db_path)
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database {path}: {source}")]
    Database {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Seeding failed.
    #[error("seed: {0}")]
    Seed(String),
    /// The vault file (the key that seals stored answers) could not be read or created.
    #[error("vault {path}: {source}")]
    Vault {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The configuration cannot work.
    #[error("{0}")]
    Config(String),
}

impl StartError {
    /// A failed start-up step, naming its cause (an internal error's body never does).
    fn seed(e: http::ApiError) -> Self {
        Self::Seed(e.cause.unwrap_or(e.detail.message))
    }
}

/// A running server; [`RunningServer::stop`] shuts it down gracefully.
pub struct RunningServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// The server's signing key (hex of the SEC1 point): pin it in the app's configuration.
    pub public_key_hex: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting, finishes requests in flight, and returns when done.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops (it stops when the process gets Ctrl-C or SIGTERM only if
    /// the caller arranges it; the binary does).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }

    /// A sender that stops the server, for signal handlers.
    pub fn take_shutdown(&mut self) -> Option<oneshot::Sender<()>> {
        self.shutdown.take()
    }
}

/// A server secret kept in `http_server_secrets`, sealed with the vault key (a copy of the
/// database file alone never yields the key the app pins). A value stored in clear by an older
/// version (the raw 32-byte key) is sealed in place on first read.
fn secret(
    conn: &rusqlite::Connection,
    vault: &vault::Vault,
    name: &str,
    make: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>, String> {
    let context = secret_context(name);
    let sql = |e: rusqlite::Error| e.to_string();
    let existing: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM http_server_secrets WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()
        .map_err(sql)?;
    let (value, store) = match existing {
        Some(v) if v.len() == 32 => (v, true),
        Some(v) => {
            let plain = vault
                .open(context.as_bytes(), &v)
                .map_err(|_| format!("stored {name} cannot be opened with this vault"))?;
            (plain, false)
        }
        None => (make(), true),
    };
    if store {
        conn.execute(
            "INSERT INTO http_server_secrets (name, value) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            rusqlite::params![name, vault.seal(context.as_bytes(), &value)],
        )
        .map_err(sql)?;
    }
    Ok(value)
}

/// What a sealed server secret is bound to: its row's name.
fn secret_context(name: &str) -> String {
    format!("http_server_secrets:{name}")
}

/// The signing key a stopped or running mock keeps in its database (sealed with the vault file
/// beside it): for tools and tests that sign as this server does, e.g. the terminal's tests of
/// payment links. Reads only; refuses when the vault or the key is missing.
pub fn stored_signing_key(db_path: &Path) -> Result<SigningKey, String> {
    let vault_path = vault::Vault::path_for(db_path);
    if !vault_path.exists() {
        return Err(format!("no vault at {}", vault_path.display()));
    }
    let vault = vault::Vault::open_or_create(&vault_path).map_err(|e| e.to_string())?;
    let conn =
        rusqlite::Connection::open_with_flags(db_path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
    let sealed: Vec<u8> = conn
        .query_row(
            "SELECT value FROM http_server_secrets WHERE name = 'signing_key'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    let plain = vault
        .open(secret_context("signing_key").as_bytes(), &sealed)
        .map_err(|_| "the signing key cannot be opened with this vault".to_owned())?;
    SigningKey::from_slice(&plain).map_err(|_| "the stored signing key is corrupt".to_owned())
}

/// Opens the database, seeds it if asked, binds the address and serves in the background.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let db_err = |source| StartError::Database {
        path: config.db_path.clone(),
        source,
    };
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.addr,
        source,
    })?;
    let public_url =
        match &config.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if addr.ip().is_unspecified() => return Err(StartError::Config(
                "listening on every interface needs --public-url: DPoP proofs sign the URL the \
                 phone uses, and the server never takes it from the Host header"
                    .into(),
            )),
            None => format!("http://{addr}"),
        };
    let vault_path = vault::Vault::path_for(&config.db_path);
    let vault = vault::Vault::open_or_create(&vault_path).map_err(|source| StartError::Vault {
        path: vault_path.clone(),
        source,
    })?;
    let vault = Arc::new(vault);
    let db = db::Db::open(&config.db_path, vault.clone()).map_err(db_err)?;
    // The signing key persists with the data: the app pins it.
    let sealing = vault.clone();
    let (key_bytes, api_keys) = db
        .call(move |conn| {
            let key = secret(conn, &sealing, "signing_key", || {
                ecdsa::generate_signing_key().to_bytes().to_vec()
            })
            .map_err(|e| http::ApiError::internal(&e))?;
            let mut stmt = conn.prepare("SELECT key FROM psp_api_keys")?;
            let keys = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<std::collections::HashSet<_>>>()?;
            Ok((key, keys))
        })
        .await
        .map_err(StartError::seed)?;
    let signing_key = SigningKey::from_slice(&key_bytes)
        .map_err(|_| StartError::Seed("stored signing key is corrupt".into()))?;
    let code_key = vault.subkey("one-time-code-mac");

    let clock = clock::Clock::default();
    if config.seed_demo {
        let now = clock.now();
        let today = time::OffsetDateTime::from_unix_timestamp(now)
            .map(|t| t.date())
            .map_err(|e| StartError::Seed(e.to_string()))?;
        let created = db
            .transaction(move |tx| insurer::seed::load_demo(tx, today, now))
            .await
            .map_err(StartError::seed)?;
        tracing::info!(created, "demo seed loaded");
    }
    let providers = insurer::directory::Index::default();
    providers.add(
        db.call(|conn| insurer::directory::all(conn))
            .await
            .map_err(StartError::seed)?,
    );
    // The platform's webhook endpoint follows the public URL; its secret is the platform's to
    // verify what the PSP sends it.
    let (url, now) = (public_url.clone(), clock.now());
    db.transaction(move |tx| psp::webhook_endpoints::ensure_platform_endpoint(tx, &url, now))
        .await
        .map_err(StartError::seed)?;
    let public_key_hex = signature::hex(&ecdsa::public_key_sec1(&signing_key));
    let state = state::AppState(Arc::new(state::Inner {
        db,
        clock,
        signing_key,
        code_secret: code_key,
        vault,
        limits: config.limits.clone(),
        public_url,
        api_keys,
        trusted_proxies: config.trusted_proxies.clone(),
        test_helpers: config.test_helpers,
        providers,
        faults: Default::default(),
        webhooks: Default::default(),
        resolve_access: platform::devices::resolve_access,
        resolve_broker: platform::brokers::keys::resolve,
    }));
    let (tx, rx) = oneshot::channel::<()>();
    let maintenance = tokio::spawn(maintenance::run(state.clone(), config.db_path.clone()));
    let deliveries = tokio::spawn(psp::webhook_delivery::run(state.clone()));
    let reminders = tokio::spawn(platform::arrears::reminders::run(state.clone()));
    let db = state.db.clone();
    let router = app::router(state);
    let task = tokio::spawn(async move {
        serve::serve(listener, router, rx).await;
        for background in [maintenance, deliveries, reminders] {
            background.abort();
            let _ = background.await;
        }
        // Work those tasks had handed to the blocking pool (a checkpoint, a reminder pass) runs
        // on past the abort with the writer held. Take the writer once, so `stop` returns only
        // when nothing of this server still writes: a server started next on the same file
        // would otherwise wait out its busy timeout and fail to start.
        let _ = db.call(|_| Ok(())).await;
    });
    Ok(RunningServer {
        url: format!("http://{addr}"),
        addr,
        public_key_hex,
        shutdown: Some(tx),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::{secret, vault::Vault};

    fn table() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE http_server_secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);",
        )
        .unwrap();
        conn
    }

    fn stored(conn: &rusqlite::Connection) -> Vec<u8> {
        conn.query_row("SELECT value FROM http_server_secrets", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn the_signing_key_is_stored_sealed_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open_or_create(&dir.path().join("v.vault")).unwrap();
        let conn = table();
        let key = secret(&conn, &vault, "signing_key", || vec![7; 32]).unwrap();
        assert_eq!(key, vec![7; 32]);
        let sealed = stored(&conn);
        assert!(sealed.len() > 32 && !sealed.windows(32).any(|w| w == [7; 32]));
        let again = secret(&conn, &vault, "signing_key", || unreachable!()).unwrap();
        assert_eq!(again, key, "the same key after a restart");
        let other = Vault::open_or_create(&dir.path().join("other.vault")).unwrap();
        assert!(secret(&conn, &other, "signing_key", || unreachable!()).is_err());
    }

    #[test]
    fn a_key_stored_in_clear_by_an_older_version_is_sealed_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open_or_create(&dir.path().join("v.vault")).unwrap();
        let conn = table();
        conn.execute(
            "INSERT INTO http_server_secrets (name, value) VALUES ('signing_key', ?1)",
            [vec![9u8; 32]],
        )
        .unwrap();
        let key = secret(&conn, &vault, "signing_key", || unreachable!()).unwrap();
        assert_eq!(key, vec![9; 32]);
        assert_ne!(stored(&conn), vec![9; 32]);
        assert_eq!(
            secret(&conn, &vault, "signing_key", || unreachable!()).unwrap(),
            key
        );
    }
}
