//! Push: the app's APNs or FCM token, kept on the phone and registered with the platform for
//! the enrolled device. A token the OS gives before enrollment waits for it; a new token
//! (rotation) replaces the old one on the server; sign-out forgets it.

use reqwest::Method;

use super::Core;
use crate::domain::push::{self, PushService};
use crate::error::{Error, Result};
use crate::wire::{PushTokenInfo, PushTokenRequest};

impl Core {
    /// Stores the push token and, when enrolled, registers it. The same token registered
    /// already costs no request: shells hand it over on every app start.
    pub async fn register_push_token(&self, service: PushService, raw: &str) -> Result<()> {
        let token = push::normalize_token(service, raw)?;
        {
            let store = self.store()?;
            let current = store.load_push_token()?;
            if current.is_some_and(|c| c.registered && c.service == service && c.token == token) {
                return Ok(());
            }
            store.save_push_token(service, &token)?;
        }
        if self.session()?.is_none() {
            tracing::debug!("push token kept until enrollment");
            return Ok(());
        }
        self.send_push_token().await
    }

    /// Registers the stored push token if the platform does not have it yet.
    pub(crate) async fn send_push_token(&self) -> Result<()> {
        let Some(pending) = self.store()?.load_push_token()? else {
            return Ok(());
        };
        if pending.registered {
            return Ok(());
        }
        let body = PushTokenRequest {
            service: pending.service.as_str().into(),
            token: pending.token.clone(),
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| Error::Internal(e.to_string()))?;
        let _: PushTokenInfo = self
            .authed(Method::POST, "/v1/devices/push_token", Some(bytes))
            .await?
            .json()?;
        self.store()?.mark_push_token_registered(&pending.token)?;
        tracing::info!(service = pending.service.as_str(), "push token registered");
        Ok(())
    }
}
