//! Requests that must not run twice, by purpose (`visit.authorize`): the idempotency key and
//! the body are written before the request is sent, so a retry after a crash or a restart
//! sends the same key and the server replays its first answer instead of acting again.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::Result;

/// A request written before it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRequest {
    /// The `Idempotency-Key` it goes with.
    pub idempotency_key: String,
    /// Its JSON body.
    pub body: String,
}

impl Store {
    /// The key to send `body` for `purpose` with: the pending one when it is the same body (a
    /// retry), a new one from `fresh` otherwise (replacing a different pending request).
    pub fn pending_key(
        &self,
        purpose: &str,
        body: &str,
        fresh: impl FnOnce() -> String,
        now: i64,
    ) -> Result<String> {
        if let Some(p) = self.pending_request(purpose)? {
            if p.body == body {
                return Ok(p.idempotency_key);
            }
        }
        let key = fresh();
        self.conn().execute(
            "INSERT OR REPLACE INTO pending_request (purpose, idempotency_key, body, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![purpose, key, body, now],
        )?;
        Ok(key)
    }

    /// The request pending for `purpose`, if any.
    pub fn pending_request(&self, purpose: &str) -> Result<Option<PendingRequest>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT idempotency_key, body FROM pending_request WHERE purpose = ?1",
                [purpose],
                |r| {
                    Ok(PendingRequest {
                        idempotency_key: r.get(0)?,
                        body: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// The server answered `purpose`'s request for good: its key is not needed any more.
    pub fn finish_pending(&self, purpose: &str, idempotency_key: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM pending_request WHERE purpose = ?1 AND idempotency_key = ?2",
            params![purpose, idempotency_key],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_body_gets_the_same_key_across_a_reopen_and_another_body_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = store
            .pending_key("visit.authorize", "{a}", || "idk_1".into(), 1)
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let again = store
            .pending_key("visit.authorize", "{a}", || "idk_2".into(), 2)
            .unwrap();
        assert_eq!((first.as_str(), again.as_str()), ("idk_1", "idk_1"));
        let other = store
            .pending_key("visit.authorize", "{b}", || "idk_3".into(), 3)
            .unwrap();
        assert_eq!(other, "idk_3");
        store.finish_pending("visit.authorize", "idk_1").unwrap();
        assert!(
            store.pending_request("visit.authorize").unwrap().is_some(),
            "an older key's answer leaves the newer request alone"
        );
        store.finish_pending("visit.authorize", "idk_3").unwrap();
        assert!(store.pending_request("visit.authorize").unwrap().is_none());
    }
}
