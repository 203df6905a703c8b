//! The offline cache of coverage data (synced sections kept whole, with their etags) and the
//! providers this phone has used.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, Result};
use crate::wire::Provider;

/// A synced section.
pub enum Section {
    /// Contract data.
    Contract,
    /// Tariff catalogue.
    Tariffs,
}

impl Section {
    fn name(&self) -> &'static str {
        match self {
            Self::Contract => "contract",
            Self::Tariffs => "tariffs",
        }
    }
}

fn corrupt(e: serde_json::Error) -> Error {
    Error::Internal(format!("cached data is unreadable: {e}"))
}

impl Store {
    /// Replaces a section.
    pub fn save_section(&self, section: Section, etag: &str, body: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO coverage_cache (section, etag, body, synced_at) VALUES (?1, ?2, ?3, ?4)",
            params![section.name(), etag, body, now],
        )?;
        Ok(())
    }

    /// A section's etag and body.
    pub fn load_section(&self, section: Section) -> Result<Option<(String, String)>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT etag, body FROM coverage_cache WHERE section = ?1",
                [section.name()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// Remembers a provider the member used (or looked at).
    pub fn remember_provider(&self, provider: &Provider, now: i64) -> Result<()> {
        let body = serde_json::to_string(provider).map_err(corrupt)?;
        self.conn().execute(
            "INSERT INTO provider (id, code, body, last_used) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET body = ?3, last_used = ?4, uses = uses + 1",
            params![provider.id, provider.code, body, now],
        )?;
        Ok(())
    }

    /// A cached provider by id or code.
    pub fn cached_provider(&self, id_or_code: &str) -> Result<Option<Provider>> {
        let body: Option<String> = self
            .conn()
            .query_row(
                "SELECT body FROM provider WHERE id = ?1 OR code = ?1",
                [id_or_code],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(corrupt))
            .transpose()
    }

    /// Cached providers, most recently used first.
    pub fn cached_providers(&self) -> Result<Vec<Provider>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT body FROM provider ORDER BY last_used DESC, uses DESC")?;
        let bodies = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies
            .iter()
            .map(|b| serde_json::from_str(b).map_err(corrupt))
            .collect()
    }
}
