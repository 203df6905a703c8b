//! The member's virtual card as the app sees it (never its number, except in the one-time
//! reveal), and the wallet provisioning exchanges.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `GET /v1/card`: the card's public facts and its network tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardInfo {
    /// Always `"card"`.
    pub object: String,
    /// The issuer's card id.
    pub id: String,
    /// Last four digits.
    pub last4: String,
    /// Expiry month, 1–12.
    pub exp_month: u32,
    /// Expiry year, four digits.
    pub exp_year: u32,
    /// `visa`, `mastercard`.
    pub brand: String,
    /// `active`, `inactive` (frozen) or `canceled`.
    pub status: String,
    /// Apple Pay can add this card.
    pub apple_pay_eligible: bool,
    /// Google Pay can add this card.
    pub google_pay_eligible: bool,
    /// Where and how much the card may pay.
    pub controls: CardControls,
    /// Wallet tokens of this card.
    pub tokens: Vec<NetworkToken>,
}

/// Spending controls, Stripe-shaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardControls {
    /// Merchant categories allowed (all others are blocked).
    pub allowed_categories: Vec<String>,
    /// ISO country codes allowed.
    pub allowed_merchant_countries: Vec<String>,
    /// Spending limits.
    pub spending_limits: Vec<SpendingLimit>,
}

/// A spending limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendingLimit {
    /// Euros.
    pub amount: Decimal,
    /// `per_authorization`, `daily`, `weekly`, `monthly`, `yearly`, `all_time`.
    pub interval: String,
}

/// A device token (DPAN) of the card in a wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkToken {
    /// The issuer's token id.
    pub id: String,
    /// `apple_pay` or `google_pay`.
    pub wallet: String,
    /// The device it lives on, when known.
    pub device_id: Option<String>,
    /// Last four digits of the device number (not the card's).
    pub last4: String,
    /// `requested`, `active`, `suspended` or `deleted`.
    pub status: String,
}

/// `POST /v1/card/reveal`: the full number, once, for manual entry. Never stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSecret {
    /// Full card number.
    pub number: String,
    /// Expiry month.
    pub exp_month: u32,
    /// Expiry year.
    pub exp_year: u32,
    /// Security code.
    pub cvc: String,
}

impl std::fmt::Debug for CardSecret {
    // A card number never reaches a log, not even through a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardSecret { .. }")
    }
}

/// `POST /v1/card/wallets/apple_pay`: what PassKit handed the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplePayRequest {
    /// DER certificates, base64, leaf first.
    pub certificates: Vec<String>,
    /// Hex.
    pub nonce: String,
    /// Hex.
    pub nonce_signature: String,
}

/// What PassKit needs back (`PKAddPaymentPassRequest`), base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplePayResponse {
    /// Encrypted pass data.
    pub encrypted_pass_data: String,
    /// Activation data for the card network.
    pub activation_data: String,
    /// Ephemeral public key, 65 bytes.
    pub ephemeral_public_key: String,
    /// The card with its new (requested) token, so the app needs no second request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardInfo>,
}

/// `POST /v1/card/wallets/google_pay`: the wallet and device the OPC is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GooglePayRequest {
    /// `getActiveWalletId()`.
    pub wallet_account_id: String,
    /// `getStableHardwareId()`.
    pub device_id: String,
}

/// What `PushTokenizeRequest` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GooglePayResponse {
    /// The Opaque Payment Card, base64; the app passes it through untouched.
    pub opaque_payment_card: String,
    /// TapAndPay network constant (VISA = 4, MASTERCARD = 3).
    pub network: u32,
    /// TapAndPay token service provider constant.
    pub token_service_provider: u32,
    /// Name shown in the wallet.
    pub display_name: String,
    /// Last four digits of the card.
    pub last_digits: String,
    /// Cardholder address for the wallet.
    pub user_address: WalletAddress,
    /// The card with its new (requested) token, so the app needs no second request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardInfo>,
}

/// `UserAddress` of TapAndPay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletAddress {
    /// Name.
    pub name: String,
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
