//! Application services: each journey step orchestrates the pure domain, the store and the
//! network. No FFI types here; the `ffi` facade maps these to what shells see.

pub(crate) mod arrears;
mod card;
mod coverage;
mod enrollment;
mod events;
pub mod flows;
pub(crate) mod invoice_sync;
pub(crate) mod member_events;
pub(crate) mod messages;
pub(crate) mod outbox;
mod payment_method;
pub(crate) mod payment_text;
mod push;
mod session;
mod visits;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use arrears::{InvoiceLink, LinkOpening, LinkRefusal};
pub use card::GooglePayPlan;
pub use coverage::PricedPreview;
pub use events::{CoreEvent, Events};
pub use visits::AuthorizeRefusal;

use crate::error::{Error, Result};
use crate::net::{auth::Auth, http::Api};
use crate::platform::{DeviceKey, SecureStorage};
use crate::store::Store;

/// How the core is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL of the TiersPay server.
    pub server_url: String,
    /// Folder for the SQLite database.
    pub data_dir: PathBuf,
    /// The server's public key (SEC1 uncompressed), pinned in the app.
    pub server_key: Vec<u8>,
    /// The key payment links are checked with, offline (never one fetched when a link opens).
    pub link_key: crate::domain::payment_link::PinnedLinkKey,
    /// A label for this device.
    pub device_name: Option<String>,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl Settings {
    /// The timeout of one HTTP request: long enough for a slow mobile network, short enough
    /// for a member waiting at the doctor's desk.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

    /// The id payment links carry when the shell pins no link key of its own: the server's
    /// pinned key signs them (docs/arrears.md), under its first id.
    pub const DEFAULT_LINK_KEY_ID: u8 = 1;

    /// Settings from what a shell configures: the pinned key as hex of the uncompressed P-256
    /// point, a non-empty data folder; the default request timeout. Payment links are checked
    /// with `link_key_hex` (a hex point) when given, else with the server's pinned key; under
    /// `link_key_id`, or [`Self::DEFAULT_LINK_KEY_ID`].
    pub fn from_config(
        server_url: String,
        data_dir: &str,
        server_public_key_hex: &str,
        link_key_id: Option<u8>,
        link_key_hex: Option<&str>,
        device_name: Option<String>,
    ) -> Result<Self> {
        let server_key =
            crate::auth::signature::parse_pinned_key(server_public_key_hex).map_err(|_| {
                Error::invalid(
                    "server_public_key",
                    "must be the hex of an uncompressed P-256 point (130 hex digits)",
                )
            })?;
        let link_point = match link_key_hex {
            Some(hex) => crate::auth::signature::parse_pinned_key(hex).map_err(|_| {
                Error::invalid(
                    "link_public_key",
                    "must be the hex of an uncompressed P-256 point (130 hex digits)",
                )
            })?,
            None => server_key.clone(),
        };
        let link_key_id = link_key_id.unwrap_or(Self::DEFAULT_LINK_KEY_ID);
        let link_key = crate::domain::payment_link::PinnedLinkKey::new(link_key_id, &link_point)
            .map_err(|_| Error::invalid("link_public_key", "is not a P-256 public key"))?;
        if data_dir.trim().is_empty() {
            return Err(Error::invalid("data_dir", "is required"));
        }
        Ok(Self {
            server_url,
            data_dir: PathBuf::from(data_dir),
            server_key,
            link_key,
            device_name,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        })
    }
}

/// The core of one app instance: settings, store, network and event fan-out.
pub struct Core {
    settings: Settings,
    api: Arc<Api>,
    auth: Auth,
    store: Mutex<Store>,
    events: Events,
    coverage: Mutex<coverage::CoverageCache>,
    /// The session as last read or written: `status()` runs on every screen, and needs no
    /// SQLite read when nothing changed. `None` means not read yet.
    session: Mutex<Option<Option<crate::store::LocalSession>>>,
    /// One outbox sender at a time: rows go in `seq` order, each once per pass.
    outbox_sender: tokio::sync::Mutex<()>,
    /// Crash points of the outbox's steps, for tests only.
    #[cfg(feature = "failpoints")]
    pub(crate) failpoints: crate::failpoints::Failpoints,
}

impl Core {
    /// Opens the store (running migrations) and prepares the network client. No network I/O:
    /// an app that starts offline knows at once whether it is enrolled.
    pub fn open(
        settings: Settings,
        secrets: Arc<dyn SecureStorage>,
        device_key: Arc<dyn DeviceKey>,
    ) -> Result<Self> {
        let api = Arc::new(Api::new(&settings.server_url, settings.request_timeout)?);
        let store = Store::open(&settings.data_dir)?;
        // A row a crash left mid-send is queued again: it is resent with its key, and the
        // server replays its answer if it had committed. Sending waits for the network.
        let resumed = store.outbox_resume()?;
        if resumed > 0 {
            tracing::info!(resumed, "outbox rows resumed after an interrupted send");
        }
        Ok(Self {
            auth: Auth::new(api.clone(), device_key, secrets),
            api,
            store: Mutex::new(store),
            events: Events::default(),
            coverage: Mutex::default(),
            session: Mutex::default(),
            outbox_sender: tokio::sync::Mutex::new(()),
            #[cfg(feature = "failpoints")]
            failpoints: crate::failpoints::Failpoints::from_env(),
            settings,
        })
    }

    /// Event fan-out to the shells' listeners.
    pub fn events(&self) -> &Events {
        &self.events
    }

    /// HTTP requests sent since start (a diagnostic for the journey figures).
    pub fn round_trips(&self) -> u64 {
        self.api.round_trips()
    }

    fn store(&self) -> Result<MutexGuard<'_, Store>> {
        self.store
            .lock()
            .map_err(|_| Error::Internal("store lock poisoned".into()))
    }
}
