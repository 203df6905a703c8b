//! The session's tokens: kept in secure storage only, refreshed by the core itself (once, even
//! when several requests find the access token expired together), and wiped when the server
//! says the device was revoked.

use std::sync::Arc;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::http::{Api, Request, Response};
use crate::error::{Error, Result};
use crate::platform::{DeviceKey, SecureStorage};
use crate::wire::{codes, RefreshRequest, TokenGrant};

const TOKENS_KEY: &str = "tierspay.tokens";
/// Refresh this long before the access token expires, to absorb clock skew and latency.
const EARLY_REFRESH_SECS: i64 = 30;

#[derive(Clone, Serialize, Deserialize)]
struct Tokens {
    access: String,
    access_expires_at: i64,
    refresh: String,
}

impl Tokens {
    fn from_grant(grant: &TokenGrant, now: i64) -> Self {
        Self {
            access: grant.access_token.clone(),
            access_expires_at: now + grant.expires_in,
            refresh: grant.refresh_token.clone(),
        }
    }
}

/// Authenticated requests for the enrolled device.
pub struct Auth {
    api: Arc<Api>,
    key: Arc<dyn DeviceKey>,
    secrets: Arc<dyn SecureStorage>,
    tokens: tokio::sync::Mutex<Option<Tokens>>,
    /// Whether secure storage holds tokens, once read: `status()` is called on every screen and
    /// a Keystore read costs a decryption. 0 unknown, 1 no, 2 yes.
    present: std::sync::atomic::AtomicU8,
}

impl Auth {
    /// Token handling over `api`, signing with `key`, storing in `secrets`.
    pub fn new(api: Arc<Api>, key: Arc<dyn DeviceKey>, secrets: Arc<dyn SecureStorage>) -> Self {
        Self {
            api,
            key,
            secrets,
            tokens: tokio::sync::Mutex::new(None),
            present: std::sync::atomic::AtomicU8::new(0),
        }
    }

    /// The device key.
    pub fn key(&self) -> &Arc<dyn DeviceKey> {
        &self.key
    }

    /// Whether secure storage holds a refresh token (an enrolled device), without the network.
    pub fn has_tokens(&self) -> Result<bool> {
        use std::sync::atomic::Ordering;
        match self.present.load(Ordering::Acquire) {
            1 => Ok(false),
            2 => Ok(true),
            _ => {
                let present = self.secrets.get(TOKENS_KEY.into())?.is_some();
                self.present
                    .store(if present { 2 } else { 1 }, Ordering::Release);
                Ok(present)
            }
        }
    }

    /// Stores a fresh grant (after enrollment).
    pub async fn store_grant(&self, grant: &TokenGrant) -> Result<()> {
        let tokens = Tokens::from_grant(grant, super::unix_now());
        self.persist(&tokens)?;
        *self.tokens.lock().await = Some(tokens);
        Ok(())
    }

    /// Forgets the tokens, in memory and in secure storage.
    pub async fn clear(&self) -> Result<()> {
        *self.tokens.lock().await = None;
        self.present.store(0, std::sync::atomic::Ordering::Release);
        self.secrets.delete(TOKENS_KEY.into())?;
        self.present.store(1, std::sync::atomic::Ordering::Release);
        Ok(())
    }

    /// Sends an authenticated request, refreshing the access token once if it expired; a POST
    /// carries the caller's `Idempotency-Key` when given (the same key on the request sent again
    /// after a refresh), a fresh one otherwise.
    pub async fn send_keyed(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<String>,
    ) -> Result<Response> {
        let tokens = self.current().await?;
        match self
            .send_with(
                &tokens.access,
                method.clone(),
                path,
                body.clone(),
                idempotency_key.clone(),
            )
            .await
        {
            Err(Error::Api {
                status: 401,
                detail,
                ..
            }) if detail.code == codes::TOKEN_EXPIRED => {
                let tokens = self.refresh(&tokens.access).await?;
                self.send_with(&tokens.access, method, path, body, idempotency_key)
                    .await
            }
            other => other,
        }
    }

    async fn send_with(
        &self,
        access: &str,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<String>,
    ) -> Result<Response> {
        let mut req = Request::new(method, path)
            .token(access)
            .proof(&self.key)
            .idempotency_key(idempotency_key);
        req.body = body;
        self.api.send(req).await.map_err(revoked)
    }

    async fn current(&self) -> Result<Tokens> {
        let loaded = {
            let mut guard = self.tokens.lock().await;
            if guard.is_none() {
                *guard = self.load()?;
            }
            guard.clone().ok_or(Error::NotEnrolled)?
        };
        if loaded.access_expires_at - EARLY_REFRESH_SECS <= super::unix_now() {
            return self.refresh(&loaded.access).await;
        }
        Ok(loaded)
    }

    /// Refreshes unless another task already replaced `stale_access` (single flight).
    async fn refresh(&self, stale_access: &str) -> Result<Tokens> {
        let mut guard = self.tokens.lock().await;
        let current = match guard.clone() {
            Some(t) => t,
            None => self.load()?.ok_or(Error::NotEnrolled)?,
        };
        if current.access != stale_access {
            return Ok(current);
        }
        let body = RefreshRequest {
            grant_type: "refresh_token".into(),
            refresh_token: current.refresh.clone(),
        };
        let req = Request::new(Method::POST, "/v1/oauth/token")
            .json(&body)?
            .proof(&self.key);
        let grant: TokenGrant = self.api.send(req).await.map_err(revoked)?.json()?;
        let tokens = Tokens::from_grant(&grant, super::unix_now());
        self.persist(&tokens)?;
        *guard = Some(tokens.clone());
        tracing::debug!("access token refreshed");
        Ok(tokens)
    }

    fn load(&self) -> Result<Option<Tokens>> {
        self.secrets
            .get(TOKENS_KEY.into())?
            .map(|bytes| {
                serde_json::from_slice(&bytes)
                    .map_err(|_| Error::Platform("stored tokens are corrupt".into()))
            })
            .transpose()
    }

    fn persist(&self, tokens: &Tokens) -> Result<()> {
        let bytes = serde_json::to_vec(tokens).map_err(|e| Error::Internal(e.to_string()))?;
        self.present.store(0, std::sync::atomic::Ordering::Release);
        self.secrets.set(TOKENS_KEY.into(), bytes)?;
        self.present.store(2, std::sync::atomic::Ordering::Release);
        Ok(())
    }
}

/// A 401 that says the token or device is gone means the session has ended.
fn revoked(e: Error) -> Error {
    match e {
        Error::Api {
            status: 401,
            ref detail,
            ..
        } if detail.code == codes::TOKEN_REVOKED => Error::SessionRevoked,
        other => other,
    }
}
