use std::sync::Arc;

use super::runtime::CoreRuntime;
use super::values::{CardStatus, TokenStatus, Wallet};
use super::{CoreError, Explanation};
use crate::app::{Core, GooglePayPlan};
use crate::domain::card_rules::{self, GooglePayStep as Step, WalletToken};
use crate::wire;

/// A wallet token of the card.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CardToken {
    /// Issuer's token id.
    pub id: String,
    /// Which wallet.
    pub wallet: Wallet,
    /// Device, when known.
    pub device_id: Option<String>,
    /// Last four digits of the device number.
    pub last4: String,
    /// Where provisioning stands.
    pub status: TokenStatus,
}

/// The virtual card's public facts; never its number.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CardInfo {
    /// Issuer's card id.
    pub id: String,
    /// Last four digits.
    pub last4: String,
    /// Expiry, `MM/YY`.
    pub expiry: String,
    /// `visa`, …
    pub brand: String,
    /// Active, inactive (frozen) or canceled.
    pub status: CardStatus,
    /// Frozen by the member.
    pub frozen: bool,
    /// Apple Pay can add it.
    pub apple_pay_eligible: bool,
    /// Google Pay can add it.
    pub google_pay_eligible: bool,
    /// The controls in words ("Only at doctors, pharmacies…").
    pub controls: Vec<Explanation>,
    /// Wallet tokens.
    pub tokens: Vec<CardToken>,
}

/// The full card details, for manual entry; show them once and forget them.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct CardDetails {
    /// Full card number.
    pub number: String,
    /// Expiry, `MM/YY`.
    pub expiry: String,
    /// Security code.
    pub cvc: String,
}

impl std::fmt::Debug for CardDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardDetails { .. }")
    }
}

/// What PassKit's `PKAddPaymentPassRequest` needs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApplePayPassData {
    /// `encryptedPassData`.
    pub encrypted_pass_data: Vec<u8>,
    /// `activationData`.
    pub activation_data: Vec<u8>,
    /// `ephemeralPublicKey` (65 bytes).
    pub ephemeral_public_key: Vec<u8>,
}

/// A token TapAndPay's `listTokens()` returned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TapAndPayToken {
    /// `issuerTokenId`.
    pub token_id: String,
    /// `fpanLastFour`.
    pub fpan_last4: String,
    /// `tokenState` (1 untokenized … 5 active).
    pub state: i32,
}

/// What `PushTokenizeRequest` needs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushTokenizeData {
    /// `opaquePaymentCard`, passed through untouched.
    pub opaque_payment_card: Vec<u8>,
    /// `network` (VISA = 4).
    pub network: i32,
    /// `tokenServiceProvider` (VISA = 4).
    pub token_service_provider: i32,
    /// `displayName`.
    pub display_name: String,
    /// `lastDigits`.
    pub last_digits: String,
    /// `userAddress`: name, address1, locality, postal code, country code, phone number.
    pub address_name: String,
    /// Street.
    pub address1: String,
    /// City.
    pub locality: String,
    /// Postcode.
    pub postal_code: String,
    /// ISO country code.
    pub country_code: String,
    /// Phone, E.164.
    pub phone_number: String,
}

/// What to do for Google Pay.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum GooglePayAction {
    /// Call `pushTokenize` with this data.
    Push {
        /// The request's data.
        data: PushTokenizeData,
    },
    /// Call `tokenize(tokenId)`: identity verification is pending.
    Resume {
        /// The token to resume.
        token_id: String,
    },
    /// The card is already in Google Pay.
    AlreadyAdded,
    /// Tokenization is under way.
    InProgress,
    /// The wallet token is suspended: unfreeze the card.
    Suspended,
}

fn decode(text: &str, what: &str) -> crate::error::Result<Vec<u8>> {
    crate::auth::b64_decode(text)
        .map_err(|_| crate::error::Error::Protocol(format!("the issuer's {what} is not base64")))
}

impl From<wire::CardInfo> for CardInfo {
    fn from(c: wire::CardInfo) -> Self {
        Self {
            expiry: card_rules::expiry(c.exp_month, c.exp_year),
            frozen: card_rules::is_frozen(&c.status),
            controls: card_rules::describe(&c.controls)
                .into_iter()
                .map(|s| Explanation { fr: s.fr, en: s.en })
                .collect(),
            tokens: c
                .tokens
                .into_iter()
                .map(|t| CardToken {
                    id: t.id,
                    wallet: Wallet::from_wire(&t.wallet),
                    device_id: t.device_id,
                    last4: t.last4,
                    status: TokenStatus::from_wire(&t.status),
                })
                .collect(),
            id: c.id,
            last4: c.last4,
            brand: c.brand,
            status: CardStatus::from_wire(&c.status),
            apple_pay_eligible: c.apple_pay_eligible,
            google_pay_eligible: c.google_pay_eligible,
        }
    }
}

/// The virtual card: public facts offline, freeze, one-time reveal, wallet provisioning.
#[derive(uniffi::Object)]
pub struct Card {
    pub(crate) core: Arc<Core>,
    pub(crate) runtime: Arc<CoreRuntime>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Card {
    /// The card as last synced (offline); `None` before one was issued.
    pub fn info(&self) -> Result<Option<CardInfo>, CoreError> {
        Ok(self.core.card()?.map(Into::into))
    }

    /// Fetches the card and its wallet tokens again.
    pub async fn refresh(&self) -> Result<CardInfo, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.refresh_card().await.map(Into::into) })
            .await
    }

    /// Freezes the card: payments are refused and wallet tokens suspended.
    pub async fn freeze(&self) -> Result<CardInfo, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.set_card_frozen(true).await.map(Into::into) })
            .await
    }

    /// Unfreezes the card and resumes its wallet tokens.
    pub async fn unfreeze(&self) -> Result<CardInfo, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.set_card_frozen(false).await.map(Into::into) })
            .await
    }

    /// The full number, expiry and code, fetched now and never stored: for manual entry.
    pub async fn reveal(&self) -> Result<CardDetails, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let s = core.reveal_card().await?;
                Ok(CardDetails {
                    number: s.number.clone(),
                    expiry: card_rules::expiry(s.exp_month, s.exp_year),
                    cvc: s.cvc.clone(),
                })
            })
            .await
    }

    /// Apple Pay: hand over what PassKit's delegate received; give the answer back to PassKit.
    pub async fn apple_pay_pass_data(
        &self,
        certificates: Vec<Vec<u8>>,
        nonce: Vec<u8>,
        nonce_signature: Vec<u8>,
    ) -> Result<ApplePayPassData, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let a = core
                    .apple_pay_provisioning(&certificates, &nonce, &nonce_signature)
                    .await?;
                Ok(ApplePayPassData {
                    encrypted_pass_data: decode(&a.encrypted_pass_data, "encrypted pass data")?,
                    activation_data: decode(&a.activation_data, "activation data")?,
                    ephemeral_public_key: decode(&a.ephemeral_public_key, "ephemeral key")?,
                })
            })
            .await
    }

    /// Google Pay: given `getActiveWalletId()`, `getStableHardwareId()` and `listTokens()`,
    /// says whether to push (with the data), resume, or leave things as they are.
    pub async fn google_pay_action(
        &self,
        wallet_account_id: String,
        stable_hardware_id: String,
        wallet_tokens: Vec<TapAndPayToken>,
    ) -> Result<GooglePayAction, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let tokens: Vec<WalletToken> = wallet_tokens
                    .into_iter()
                    .map(|t| WalletToken {
                        token_id: t.token_id,
                        fpan_last4: t.fpan_last4,
                        state: t.state,
                    })
                    .collect();
                let plan = core
                    .google_pay_provisioning(&wallet_account_id, &stable_hardware_id, &tokens)
                    .await?;
                Ok(match plan {
                    GooglePayPlan::Push(p) => GooglePayAction::Push {
                        data: PushTokenizeData {
                            opaque_payment_card: decode(&p.opaque_payment_card, "OPC")?,
                            network: p.network as i32,
                            token_service_provider: p.token_service_provider as i32,
                            display_name: p.display_name,
                            last_digits: p.last_digits,
                            address_name: p.user_address.name,
                            address1: p.user_address.address1,
                            locality: p.user_address.locality,
                            postal_code: p.user_address.postal_code,
                            country_code: p.user_address.country_code,
                            phone_number: p.user_address.phone_number,
                        },
                    },
                    GooglePayPlan::Step(Step::Resume { token_id }) => {
                        GooglePayAction::Resume { token_id }
                    }
                    GooglePayPlan::Step(Step::AlreadyAdded) => GooglePayAction::AlreadyAdded,
                    GooglePayPlan::Step(Step::InProgress) => GooglePayAction::InProgress,
                    GooglePayPlan::Step(Step::Suspended) => GooglePayAction::Suspended,
                    GooglePayPlan::Step(Step::Push) => {
                        return Err(crate::error::Error::Internal("push without payload".into()))
                    }
                })
            })
            .await
    }
}
