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
        let mut cached = self
            .session
            .lock()
            .map_err(|_| Error::Internal("session cache lock poisoned".into()))?;
        if cached.is_none() {
            *cached = Some(self.store()?.load_session()?);
        }
        // A session row without tokens (secure storage wiped by the OS) is not a session.
        match cached.clone().flatten() {
            Some(s) if self.auth.has_tokens()? => Ok(Some(s)),
            _ => Ok(None),
        }
    }

    /// Writes the session to the store and the in-memory copy together.
    pub(crate) fn save_session(&self, session: &LocalSession) -> Result<()> {
        let mut cached = self
            .session
            .lock()
            .map_err(|_| Error::Internal("session cache lock poisoned".into()))?;
        *cached = None;
        self.store()?.save_session(session)?;
        *cached = Some(Some(session.clone()));
        Ok(())
    }

    /// Fetches member, contract and beneficiaries again and stores them.
    pub async fn refresh_profile(&self) -> Result<LocalSession> {
        let previous = self.session()?.ok_or(Error::NotEnrolled)?;
        let profile: Profile = self.authed(Method::GET, "/v1/me", None).await?.json()?;
        let session = LocalSession {
            device_id: profile.device_id,
            enrolled_at: previous.enrolled_at,
            server_url: previous.server_url.clone(),
            member: profile.member,
            contract: profile.contract,
            beneficiaries: profile.beneficiaries,
        };
        if session != previous {
            self.save_session(&session)?;
            self.events.emit(CoreEvent::ProfileUpdated);
        }
        Ok(session)
    }

    /// Signs out: tells the server to revoke this device (best effort: signing out works
    /// offline too, and with a changed server URL, which is not told), then wipes the local
    /// data, the tokens and the device key.
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

    /// Refuses to use the session with another server than the one it was enrolled with: a
    /// changed `server_url` (a relay, a typo, an override) must not receive its tokens and
    /// proofs. A session enrolled before the binding is bound now.
    pub(super) fn check_server(&self) -> Result<()> {
        let Some(session) = self.session()? else {
            return Ok(());
        };
        let configured = self.api.base_url();
        match session.server_url.as_deref() {
            Some(enrolled) if enrolled == configured => Ok(()),
            Some(enrolled) => Err(Error::ServerChanged {
                enrolled: enrolled.to_owned(),
                configured: configured.to_owned(),
            }),
            None => self.save_session(&LocalSession {
                server_url: Some(configured.to_owned()),
                ..session
            }),
        }
    }

    /// An authenticated request, to the session's own server only; a revoked session is wiped
    /// on the spot.
    pub(crate) async fn authed(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<crate::net::http::Response> {
        self.authed_keyed(method, path, body, None).await
    }

    /// [`Core::authed`] with the caller's `Idempotency-Key` (kept in the store before sending).
    pub(crate) async fn authed_keyed(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<String>,
    ) -> Result<crate::net::http::Response> {
        self.check_server()?;
        match self
            .auth
            .send_keyed(method, path, body, idempotency_key)
            .await
        {
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
        if let Ok(mut cached) = self.session.lock() {
            *cached = None;
        }
        self.store()?.wipe()?;
        if let Ok(mut cached) = self.session.lock() {
            *cached = Some(None);
        }
        if let Ok(mut cache) = self.coverage.lock() {
            *cache = Default::default();
        }
        self.auth.clear().await?;
        self.auth.key().delete()?;
        Ok(())
    }
}
