//! The card's public facts. The type has no field for a card number, so none can be stored.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, Result};
use crate::wire::CardInfo;

impl Store {
    /// Replaces the cached card.
    pub fn save_card(&self, card: &CardInfo, now: i64) -> Result<()> {
        let body = serde_json::to_string(card).map_err(|e| Error::Internal(e.to_string()))?;
        self.conn().execute(
            "INSERT OR REPLACE INTO card (id, body, synced_at) VALUES (1, ?1, ?2)",
            params![body, now],
        )?;
        Ok(())
    }

    /// The cached card, if any.
    pub fn load_card(&self) -> Result<Option<CardInfo>> {
        let body: Option<String> = self
            .conn()
            .query_row("SELECT body FROM card WHERE id = 1", [], |r| r.get(0))
            .optional()?;
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| Error::Internal(format!("cached card: {e}")))
        })
        .transpose()
    }
}
