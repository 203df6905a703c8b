//! The virtual card: its public facts cached for offline display, freeze and unfreeze, the
//! number shown once (never stored), and wallet provisioning, where the core only relays what
//! PassKit or TapAndPay give and take.

use reqwest::Method;

use super::{Core, CoreEvent};
use crate::auth::signature;
use crate::domain::card_rules::{self, GooglePayStep, WalletToken};
use crate::error::{Error, Result};
use crate::wire::{
    ApplePayRequest, ApplePayResponse, CardInfo, CardSecret, GooglePayRequest, GooglePayResponse,
};

/// What the Android shell should do for Google Pay, with the push payload when it must push.
pub enum GooglePayPlan {
    /// Nothing to push; see the step.
    Step(GooglePayStep),
    /// Push with this payload.
    Push(Box<GooglePayResponse>),
}

impl Core {
    /// The card as last synced, offline.
    pub fn card(&self) -> Result<Option<CardInfo>> {
        self.store()?.load_card()
    }

    /// Stores a card; tells listeners when it changed (status or wallet tokens) and `notify`
    /// (enrollment stores the first card silently: `Enrolled` already says it all).
    pub(crate) fn remember_card(&self, card: &CardInfo, notify: bool) -> Result<()> {
        let store = self.store()?;
        let changed = store.load_card()?.as_ref() != Some(card);
        store.save_card(card, crate::net::unix_now())?;
        drop(store);
        if changed && notify {
            self.events.emit(CoreEvent::CardUpdated);
        }
        Ok(())
    }

    async fn card_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<CardInfo> {
        let card: CardInfo = self.authed(method, path, body).await?.json()?;
        self.remember_card(&card, true)?;
        Ok(card)
    }

    /// Fetches the card and its tokens again.
    pub async fn refresh_card(&self) -> Result<CardInfo> {
        self.card_call(Method::GET, "/v1/card", None).await
    }

    /// Freezes (`true`: payments refused, wallet tokens suspended) or unfreezes the card.
    pub async fn set_card_frozen(&self, frozen: bool) -> Result<CardInfo> {
        let path = if frozen {
            "/v1/card/freeze"
        } else {
            "/v1/card/unfreeze"
        };
        self.card_call(Method::POST, path, None).await
    }

    async fn remember_provisioned_card(&self, card: Option<&CardInfo>, wallet: &str) {
        let result = match card {
            Some(card) => self.remember_card(card, true),
            None => self.refresh_card().await.map(|_| ()),
        };
        if let Err(e) = result {
            tracing::warn!("card not updated after {wallet} provisioning: {e}");
        }
    }

    /// The full card number, fetched with a fresh proof, for manual entry; never stored.
    pub async fn reveal_card(&self) -> Result<CardSecret> {
        self.authed(Method::POST, "/v1/card/reveal", None)
            .await?
            .json()
    }

    /// Apple Pay in-app provisioning: relays PassKit's certificates, nonce and nonce signature
    /// to the issuer, returns what `PKAddPaymentPassRequest` needs.
    pub async fn apple_pay_provisioning(
        &self,
        certificates: &[Vec<u8>],
        nonce: &[u8],
        nonce_signature: &[u8],
    ) -> Result<ApplePayResponse> {
        if certificates.is_empty()
            || certificates.len() > 4
            || certificates
                .iter()
                .any(|c| c.is_empty() || c.len() > 16 * 1024)
        {
            return Err(Error::invalid(
                "certificates",
                "PassKit gives one to four DER certificates, leaf first",
            ));
        }
        let body = ApplePayRequest {
            certificates: certificates.iter().map(crate::auth::b64).collect(),
            nonce: signature::hex(nonce),
            nonce_signature: signature::hex(nonce_signature),
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| Error::Internal(e.to_string()))?;
        let answer: ApplePayResponse = self
            .authed(Method::POST, "/v1/card/wallets/apple_pay", Some(bytes))
            .await?
            .json()?;
        // The new token (requested) shows up in the card's wallet list; the answer carries the
        // card, and an older server that does not is asked once more.
        self.remember_provisioned_card(answer.card.as_ref(), "Apple Pay")
            .await;
        Ok(answer)
    }

    /// Google Pay push provisioning: decides from TapAndPay's token list whether to push,
    /// resume identity verification, or do nothing; asks the issuer for an OPC bound to this
    /// wallet and device only when pushing.
    pub async fn google_pay_provisioning(
        &self,
        wallet_account_id: &str,
        device_id: &str,
        wallet_tokens: &[WalletToken],
    ) -> Result<GooglePayPlan> {
        for (field, value) in [
            ("wallet_account_id", wallet_account_id),
            ("device_id", device_id),
        ] {
            if value.trim().is_empty() || value.len() > 256 {
                return Err(Error::invalid(
                    field,
                    "is required (from TapAndPay), at most 256 characters",
                ));
            }
        }
        let card = match self.card()? {
            Some(card) => card,
            None => self.refresh_card().await?,
        };
        match card_rules::google_pay_step(&card.last4, wallet_tokens) {
            GooglePayStep::Push => {}
            step => return Ok(GooglePayPlan::Step(step)),
        }
        let body = GooglePayRequest {
            wallet_account_id: wallet_account_id.to_owned(),
            device_id: device_id.to_owned(),
        };
        let bytes = serde_json::to_vec(&body).map_err(|e| Error::Internal(e.to_string()))?;
        let answer: GooglePayResponse = self
            .authed(Method::POST, "/v1/card/wallets/google_pay", Some(bytes))
            .await?
            .json()?;
        self.remember_provisioned_card(answer.card.as_ref(), "Google Pay")
            .await;
        Ok(GooglePayPlan::Push(Box::new(answer)))
    }
}
