//! What the terminal remembers between commands (server URL and pinned key), next to the core's
//! data. Secrets are not here: they are in `secrets.json` (mode 0600) via FileSecureStorage.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::output::Failure;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub server: String,
    pub server_key: String,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("terminal.json")
}

/// Settings from the flags, else from the data directory.
pub fn resolve(
    data_dir: &Path,
    server: Option<&str>,
    server_key: Option<&str>,
) -> Result<Settings, Failure> {
    let saved: Option<Settings> = std::fs::read(path(data_dir))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let server = server
        .map(str::to_owned)
        .or_else(|| saved.as_ref().map(|s| s.server.clone()))
        .ok_or_else(|| Failure::input("server", "give --server URL (or TIERSPAY_SERVER)"))?;
    let server_key = server_key
        .map(str::to_owned)
        .or_else(|| saved.as_ref().map(|s| s.server_key.clone()))
        .ok_or_else(|| {
            Failure::input(
                "server_key",
                "give --server-key HEX (tierspay-mock prints it at start) or TIERSPAY_SERVER_KEY",
            )
        })?;
    Ok(Settings { server, server_key })
}

/// Remembers the settings for the next commands.
pub fn save(data_dir: &Path, settings: &Settings) -> Result<(), Failure> {
    std::fs::create_dir_all(data_dir)
        .and_then(|_| {
            std::fs::write(
                path(data_dir),
                serde_json::to_vec_pretty(settings).unwrap_or_default(),
            )
        })
        .map_err(|e| Failure::internal(format!("cannot write {}: {e}", path(data_dir).display())))
}
