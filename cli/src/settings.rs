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

/// Remembers the settings for the next commands, in a file readable by its owner only (it says
/// which server this terminal's member uses). The core has created the folder (0700).
pub fn save(data_dir: &Path, settings: &Settings) -> Result<(), Failure> {
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path(data_dir))?;
        // An older file keeps its mode through `open`: set it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(&serde_json::to_vec_pretty(settings).unwrap_or_default())
    };
    write()
        .map_err(|e| Failure::internal(format!("cannot write {}: {e}", path(data_dir).display())))
}
