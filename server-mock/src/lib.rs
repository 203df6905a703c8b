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
pub mod platform;
pub mod psp;
mod rate_limit;
mod state;
mod test_helpers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use p256::ecdsa::SigningKey;
use rusqlite::OptionalExtension;
use tierspay_core::auth::{ecdsa, random, signature};
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
    /// The base URL clients use, when it differs from `http://{Host}` (behind a proxy).
    pub public_url: Option<String>,
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

fn secret(
    conn: &rusqlite::Connection,
    name: &str,
    make: impl FnOnce() -> Vec<u8>,
) -> rusqlite::Result<Vec<u8>> {
    let existing: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM http_server_secrets WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(v) = existing {
        return Ok(v);
    }
    let value = make();
    conn.execute(
        "INSERT INTO http_server_secrets (name, value) VALUES (?1, ?2)",
        rusqlite::params![name, value],
    )?;
    Ok(value)
}

/// Opens the database, seeds it if asked, binds the address and serves in the background.
pub async fn start(config: ServerConfig) -> Result<RunningServer, StartError> {
    let db_err = |source| StartError::Database {
        path: config.db_path.clone(),
        source,
    };
    let db = db::Db::open(&config.db_path).map_err(db_err)?;
    // The signing key and code secret persist with the data: the app pins the key.
    let (key_bytes, code_secret) = db
        .call(|conn| {
            let key = secret(conn, "signing_key", || {
                ecdsa::generate_signing_key().to_bytes().to_vec()
            })?;
            let code = secret(conn, "code_secret", || random::bytes::<32>().to_vec())?;
            Ok((key, code))
        })
        .await
        .map_err(|e| StartError::Seed(e.detail.message))?;
    let signing_key = SigningKey::from_slice(&key_bytes)
        .map_err(|_| StartError::Seed("stored signing key is corrupt".into()))?;
    let mut code_key = [0u8; 32];
    code_key.copy_from_slice(&code_secret[..32.min(code_secret.len())]);

    let clock = clock::Clock::default();
    if config.seed_demo {
        let now = clock.now();
        let today = time::OffsetDateTime::from_unix_timestamp(now)
            .map(|t| t.date())
            .map_err(|e| StartError::Seed(e.to_string()))?;
        let created = db
            .transaction(move |tx| insurer::seed::load_demo(tx, today, now))
            .await
            .map_err(|e| StartError::Seed(e.detail.message))?;
        tracing::info!(created, "demo seed loaded");
    }
    let providers = insurer::directory::Index::default();
    providers.add(
        db.call(|conn| insurer::directory::all(conn))
            .await
            .map_err(|e| StartError::Seed(e.detail.message))?,
    );
    let public_key_hex = signature::hex(&ecdsa::public_key_sec1(&signing_key));
    let state = state::AppState(Arc::new(state::Inner {
        db,
        clock,
        signing_key,
        code_secret: code_key,
        limits: config.limits.clone(),
        rate_limiter: Default::default(),
        public_url: config.public_url.clone(),
        providers,
        faults: Default::default(),
    }));
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
    let (tx, rx) = oneshot::channel::<()>();
    let router = app::router(state);
    let task = tokio::spawn(async move {
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!("server stopped: {e}");
        }
    });
    Ok(RunningServer {
        url: format!("http://{addr}"),
        addr,
        public_key_hex,
        shutdown: Some(tx),
        task,
    })
}
