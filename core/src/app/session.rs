//! The enrolled session: status without the network, profile refresh, sign-out, and what
//! happens when the server ends the session.

use reqwest::Method;

use super::{Core, CoreEvent};
use crate::error::{Error, Result};
use crate::store::LocalSession;
use crate::wire::Profile;

impl Core {
    /// The session stored on this phone, if enrolled. No network.
    pub fn session(&self) -> Result<Option<LocalSession>> {
        let session = self.store()?.load_session()?;
        // A session row without tokens (secure storage wiped by the OS) is not a session.
        match session {
            Some(s) if self.auth.has_tokens()? => Ok(Some(s)),
            _ => Ok(None),
        }
    }

    /// Fetches member, contract and beneficiaries again and stores them.
    pub async fn refresh_profile(&self) -> Result<LocalSession> {
        let previous = self.session()?.ok_or(Error::NotEnrolled)?;
        let profile: Profile = self.authed(Method::GET, "/v1/me", None).await?.json()?;
        let session = LocalSession {
            device_id: profile.device_id,
            enrolled_at: previous.enrolled_at,
            member: profile.member,
            contract: profile.contract,
            beneficiaries: profile.beneficiaries,
        };
        if session != previous {
            self.store()?.save_session(&session)?;
            self.events.emit(CoreEvent::ProfileUpdated);
        }
        Ok(session)
    }

    /// Signs out: tells the server to revoke this device (best effort: signing out works
    /// offline too), then wipes the local data, the tokens and the device key.
    pub async fn sign_out(&self) -> Result<()> {
        if self.session()?.is_some() {
            if let Err(e) = self.authed(Method::POST, "/v1/session/revoke", None).await {
                tracing::warn!("server not told of sign-out: {e}");
            }
        }
        self.wipe_local().await?;
        self.events.emit(CoreEvent::SignedOut);
        Ok(())
    }

    /// An authenticated request; a revoked session is wiped on the spot.
    pub(crate) async fn authed(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<crate::net::http::Response> {
        match self.auth.send(method, path, body).await {
            Err(Error::SessionRevoked) => {
                tracing::info!("the server ended this device's session");
                self.wipe_local().await?;
                self.events.emit(CoreEvent::SessionEnded);
                Err(Error::SessionRevoked)
            }
            other => other,
        }
    }

    async fn wipe_local(&self) -> Result<()> {
        self.store()?.wipe()?;
        if let Ok(mut cache) = self.coverage.lock() {
            *cache = Default::default();
        }
        self.auth.clear().await?;
        self.auth.key().delete()?;
        Ok(())
    }
}
