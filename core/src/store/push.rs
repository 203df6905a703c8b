//! The app's push token, and whether the platform has it yet.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::domain::push::PushService;
use crate::error::{Error, Result};

/// The push token the OS gave this app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushToken {
    /// APNs or FCM.
    pub service: PushService,
    /// The token, normalised.
    pub token: String,
    /// The platform has it for the current session.
    pub registered: bool,
}

impl Store {
    /// Replaces the push token (not yet registered).
    pub fn save_push_token(&self, service: PushService, token: &str) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO push_token (id, service, token, registered) VALUES (1, ?1, ?2, 0)",
            params![service.as_str(), token],
        )?;
        Ok(())
    }

    /// Marks `token` registered, unless another one replaced it meanwhile.
    pub fn mark_push_token_registered(&self, token: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE push_token SET registered = 1 WHERE id = 1 AND token = ?1",
            [token],
        )?;
        Ok(())
    }

    /// The push token, if the OS gave one.
    pub fn load_push_token(&self) -> Result<Option<PushToken>> {
        let row: Option<(String, String, bool)> = self
            .conn()
            .query_row(
                "SELECT service, token, registered FROM push_token WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        row.map(|(service, token, registered)| {
            Ok(PushToken {
                service: PushService::parse(&service)
                    .map_err(|_| Error::Internal("stored push service is unknown".into()))?,
                token,
                registered,
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_token_replaces_the_old_and_must_be_registered_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load_push_token().unwrap(), None);
        store.save_push_token(PushService::Fcm, "one").unwrap();
        store.mark_push_token_registered("one").unwrap();
        assert!(store.load_push_token().unwrap().unwrap().registered);
        store.save_push_token(PushService::Fcm, "two").unwrap();
        // A late answer for the old token does not mark the new one.
        store.mark_push_token_registered("one").unwrap();
        let token = store.load_push_token().unwrap().unwrap();
        assert_eq!((token.token.as_str(), token.registered), ("two", false));
        store.wipe().unwrap();
        assert_eq!(store.load_push_token().unwrap(), None);
    }
}
