//! Wallet provisioning: Apple Pay in-app provisioning (PassKit's chain verified against the
//! trusted Apple root, the card encrypted for the leaf key, ECC_V2), Google Pay push
//! provisioning (an OPC bound to the wallet account and device), and the trusted Apple root
//! itself (test helper or `TIERSPAY_APPLE_ROOT`). Each creates or reuses a `requested` token.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{json, Value};
use tierspay_core::auth::signature::hex;
use tierspay_core::auth::{b64url, random, sha256};
use tierspay_core::wire::codes;
use tierspay_wallet::hex_decode;
use tierspay_wallet::{applepay, chain, opc};

use super::cardholders::holder;
use super::cards::{self, card_row, ensure_card_of, provisionable};
use super::form::{self, invalid, Fields};
use super::model::{self, refuse, wallet_error, Ctx, B64};
use super::tokens::{self, insert_token, NewToken};
use super::wire::{body_fields, query_fields, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// TapAndPay's constant for Visa, as network and as token service provider.
pub const TAP_AND_PAY_VISA: u8 = 4;

/// Lifetime of a Google opaque payment card, seconds.
pub const OPC_TTL_SECS: i64 = opc::DEFAULT_TTL_SECS;

/// The answer PassKit wants (base64): `encryptedPassData`, `activationData`,
/// `ephemeralPublicKey`; and the token it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplePayload {
    /// The `issuing.token` created in `requested` state.
    pub token_id: String,
    /// `encryptedPassData`, base64.
    pub contents: String,
    /// `activationData`, base64, one-time, for the card network.
    pub activation_data: String,
    /// `ephemeralPublicKey`, base64 of the 65-byte point.
    pub ephemeral_public_key: String,
}

/// TapAndPay's `userAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserAddress {
    /// The cardholder's (pseudonymous) name.
    pub name: String,
    /// Line 1.
    pub address1: String,
    /// Line 2.
    pub address2: String,
    /// City.
    pub locality: String,
    /// Region.
    pub administrative_area: String,
    /// ISO country.
    pub country_code: String,
    /// Postal code.
    pub postal_code: String,
    /// Phone, if any.
    pub phone_number: String,
}

/// What `pushTokenize` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GooglePayload {
    /// The `issuing.token` in `requested` state bound to this wallet and device.
    pub token_id: String,
    /// `opaquePaymentCard`, base64.
    pub opc: String,
    /// TapAndPay network constant (VISA = 4).
    pub network: u8,
    /// TapAndPay token service provider constant (VISA = 4).
    pub tsp: u8,
    /// `displayName`.
    pub display_name: String,
    /// `lastDigits`: the card's last four.
    pub last_digits: String,
    /// `userAddress`.
    pub user_address: UserAddress,
}

static ENV_ROOT: std::sync::OnceLock<Option<Result<Vec<u8>, String>>> = std::sync::OnceLock::new();

/// The root from `TIERSPAY_APPLE_ROOT` (a DER or PEM file), read once per process.
fn env_root() -> Option<Result<Vec<u8>, String>> {
    ENV_ROOT
        .get_or_init(|| {
            let path = std::env::var_os("TIERSPAY_APPLE_ROOT")?;
            let loaded = std::fs::read(&path)
                .map_err(|e| format!("TIERSPAY_APPLE_ROOT ({}): {e}", path.to_string_lossy()))
                .and_then(|bytes| {
                    chain::der_from_pem_or_der(&bytes).map_err(|e| {
                        format!("TIERSPAY_APPLE_ROOT ({}): {e}", path.to_string_lossy())
                    })
                });
            if let Err(e) = &loaded {
                tracing::warn!("{e}");
            }
            Some(loaded)
        })
        .clone()
}

/// The trusted Apple root. One set through the test helper wins; otherwise the file named by
/// `TIERSPAY_APPLE_ROOT` (stored so it survives restarts); otherwise provisioning is refused.
pub fn apple_root(conn: &Connection, now: i64) -> Result<Vec<u8>, ApiError> {
    let stored = model::setting(conn, "apple_root")?;
    match (stored, env_root()) {
        (Some((der, source)), _) if source == "api" => Ok(der),
        (stored, Some(Ok(der))) => {
            if stored.as_ref().map(|(d, _)| d) != Some(&der) {
                model::set_setting(conn, "apple_root", &der, "env", now)?;
            }
            Ok(der)
        }
        (_, Some(Err(e))) => Err(refuse("apple_root_invalid", None, format!("The Apple root could not be loaded: {e}"))),
        (Some((der, _)), None) => Ok(der),
        (None, None) => Err(refuse(
            "apple_root_missing",
            None,
            "No Apple root certificate is configured, so PassKit chains cannot be verified. Set one with \
             POST /v1/test_helpers/issuing/apple_root or the TIERSPAY_APPLE_ROOT environment variable.",
        )),
    }
}

/// Sets the trusted Apple root (DER or PEM); returns its SHA-256 fingerprint (hex).
pub fn set_apple_root(conn: &Connection, certificate: &[u8], now: i64) -> Result<String, ApiError> {
    let der = chain::der_from_pem_or_der(certificate)
        .map_err(|e| wallet_error(e, |_| "certificate".into()))?;
    model::set_setting(conn, "apple_root", &der, "api", now)?;
    Ok(hex(&sha256(&der)))
}

fn ios_param(field: &str) -> String {
    match field {
        "nonce" => "ios[nonce]".into(),
        "nonce_signature" => "ios[nonce_signature]".into(),
        "certificates" => "ios[certificates]".into(),
        f if f.starts_with("certificates[") => format!("ios[{}", f.replacen('[', "][", 1)),
        other => other.into(),
    }
}

pub(crate) fn apple(
    tx: &Connection,
    ctx: &Ctx,
    card_id: &str,
    certificates: &[Vec<u8>],
    nonce: &[u8],
    nonce_signature: &[u8],
) -> Result<ApplePayload, ApiError> {
    let card = card_row(tx, card_id, "card")?;
    provisionable(&card)?;
    applepay::validate_nonce(nonce, nonce_signature).map_err(|e| wallet_error(e, ios_param))?;
    let root = apple_root(tx, ctx.now)?;
    let leaf_key = chain::verify(certificates, &root, ctx.now).map_err(|e| {
        if e.field == chain::ROOT_FIELD {
            refuse(
                "apple_root_invalid",
                None,
                format!("The configured Apple root {}.", e.message),
            )
        } else {
            wallet_error(e, ios_param)
        }
    })?;
    let (number, _) = cards::card_secret(tx, card_id)?;
    let (name, _, _) = holder(tx, &card.cardholder_id)?;
    let plaintext = applepay::pass_plaintext(
        &number,
        card.exp_month,
        card.exp_year,
        &name,
        nonce,
        nonce_signature,
    )
    .map_err(|e| wallet_error(e, ios_param))?;
    let encrypted = applepay::encrypt_pass_data(&leaf_key, &plaintext)
        .map_err(|e| wallet_error(e, ios_param))?;
    let activation = random::bytes::<32>();
    let token = insert_token(
        tx,
        ctx,
        NewToken {
            card: &card,
            wallet_provider: "apple_pay",
            wallet_account_id: None,
            device_id: None,
            activation_hash: Some(b64url(sha256(activation))),
        },
    )?;
    Ok(ApplePayload {
        token_id: token.id,
        contents: B64.encode(&encrypted.ciphertext),
        activation_data: B64.encode(activation),
        ephemeral_public_key: B64.encode(&encrypted.ephemeral_public_key),
    })
}

/// Apple Pay in-app provisioning: verifies PassKit's chain against the trusted root, encrypts
/// the card for the leaf key (ECC_V2), and creates a `requested` token. Refuses (param
/// `ios[certificates][i]`, `ios[nonce]`, `ios[nonce_signature]`, `card`) a chain that does not
/// verify, a leaf key that is not P-256, bad nonce lengths, a frozen or canceled card.
pub fn apple_provisioning(
    tx: &Connection,
    card_id: &str,
    certificates: &[Vec<u8>],
    nonce: &[u8],
    nonce_signature: &[u8],
    now: i64,
) -> Result<ApplePayload, ApiError> {
    apple(
        tx,
        &Ctx::at(now),
        card_id,
        certificates,
        nonce,
        nonce_signature,
    )
}

/// [`apple_provisioning`] on behalf of a cardholder: another cardholder's card is refused as
/// unknown (404, param `card`).
pub fn apple_provisioning_for(
    tx: &Connection,
    cardholder_id: &str,
    card_id: &str,
    certificates: &[Vec<u8>],
    nonce: &[u8],
    nonce_signature: &[u8],
    now: i64,
) -> Result<ApplePayload, ApiError> {
    ensure_card_of(tx, card_id, cardholder_id)?;
    apple_provisioning(tx, card_id, certificates, nonce, nonce_signature, now)
}

fn check_wallet_id(value: &str, param: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > 128 || value.chars().any(char::is_control) {
        return Err(refuse(
            "parameter_invalid",
            Some(param),
            format!("{param} must be 1 to 128 visible characters."),
        ));
    }
    Ok(())
}

pub(crate) fn google(
    tx: &Connection,
    ctx: &Ctx,
    card_id: &str,
    wallet_account_id: &str,
    device_id: &str,
) -> Result<GooglePayload, ApiError> {
    check_wallet_id(wallet_account_id, "wallet_account_id")?;
    check_wallet_id(device_id, "device_id")?;
    let card = card_row(tx, card_id, "card")?;
    provisionable(&card)?;
    let existing = tokens::tokens_of(tx, card_id)?.into_iter().find(|t| {
        t.wallet_provider == "google_pay"
            && t.status != "deleted"
            && t.wallet_account_id.as_deref() == Some(wallet_account_id)
            && t.device_id.as_deref() == Some(device_id)
    });
    let token = match existing {
        Some(t) if t.status == "active" => {
            return Err(refuse(
                codes::TOKEN_ALREADY_ACTIVE,
                Some("card"),
                format!("This card is already active in this Google wallet on this device (token {}); do not push it again.", t.id),
            ))
        }
        Some(t) if t.status == "suspended" => {
            return Err(refuse(
                codes::TOKEN_SUSPENDED,
                Some("card"),
                format!("This card is in this Google wallet but suspended (token {}); resume the token instead.", t.id),
            ))
        }
        Some(t) if t.wallet_status == "needs_identity_verification" => {
            return Err(refuse(
                codes::TOKEN_NEEDS_IDENTITY_VERIFICATION,
                Some("card"),
                format!("Token {} waits for identity verification; resume it with tokenize instead of pushing again.", t.id),
            ))
        }
        // A push that never completed: same token, a fresh OPC.
        Some(t) => t,
        None => insert_token(
            tx,
            ctx,
            NewToken {
                card: &card,
                wallet_provider: "google_pay",
                wallet_account_id: Some(wallet_account_id),
                device_id: Some(device_id),
                activation_hash: None,
            },
        )?,
    };
    let (number, _) = cards::card_secret(tx, card_id)?;
    let key = model::opc_key(tx, ctx.now)?;
    let payload = opc::OpcPayload::new(
        &number,
        card.exp_month,
        card.exp_year,
        wallet_account_id,
        device_id,
        ctx.now,
        OPC_TTL_SECS,
    );
    let (name, billing, phone) = holder(tx, &card.cardholder_id)?;
    let field = |k: &str| {
        billing
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(GooglePayload {
        token_id: token.id,
        opc: opc::seal(&key, &payload),
        network: TAP_AND_PAY_VISA,
        tsp: TAP_AND_PAY_VISA,
        display_name: "TiersPay Santé".into(),
        last_digits: card.last4.clone(),
        user_address: UserAddress {
            name,
            address1: field("line1"),
            address2: field("line2"),
            locality: field("city"),
            administrative_area: field("state"),
            country_code: field("country"),
            postal_code: field("postal_code"),
            phone_number: phone.unwrap_or_default(),
        },
    })
}

/// Google Pay push provisioning: an OPC bound to this wallet account and device, valid
/// [`OPC_TTL_SECS`], and a `requested` token. Refuses a frozen or canceled card, a card already
/// active on that wallet and device (`token_already_active`), and one whose token waits for
/// identity verification (`token_needs_identity_verification`: resume, do not push again).
pub fn google_provisioning(
    tx: &Connection,
    card_id: &str,
    wallet_account_id: &str,
    device_id: &str,
    now: i64,
) -> Result<GooglePayload, ApiError> {
    google(tx, &Ctx::at(now), card_id, wallet_account_id, device_id)
}

/// [`google_provisioning`] on behalf of a cardholder.
pub fn google_provisioning_for(
    tx: &Connection,
    cardholder_id: &str,
    card_id: &str,
    wallet_account_id: &str,
    device_id: &str,
    now: i64,
) -> Result<GooglePayload, ApiError> {
    ensure_card_of(tx, card_id, cardholder_id)?;
    google_provisioning(tx, card_id, wallet_account_id, device_id, now)
}

// ------------------------------------------------------------------- endpoints

/// The provisioning endpoints and the Apple root test helper.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/issuing/cards/{id}/push_provisioning_details",
            get(push_provisioning_details),
        )
        .route(
            "/v1/issuing/cards/{id}/google_pay_provisioning",
            post(google_pay_provisioning),
        )
        .route(
            "/v1/test_helpers/issuing/apple_root",
            post(helper_set_apple_root),
        )
}

fn decode_b64(text: &str, param: &str) -> Result<Vec<u8>, ApiError> {
    // A `+` left unescaped in a query string arrives as a space: put it back.
    let t = text.trim().replace(' ', "+");
    let t = t.as_str();
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        })
        .map_err(|_| invalid(param, format!("{param} must be base64.")))
}

async fn push_provisioning_details(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let mut ios = f.map("ios")?.ok_or_else(|| {
        invalid(
            "ios",
            "Missing required param: ios (certificates, nonce, nonce_signature).",
        )
    })?;
    let certificates = ios
        .list("certificates")?
        .ok_or_else(|| {
            invalid(
                "ios[certificates]",
                "Missing required param: ios[certificates].",
            )
        })?
        .into_iter()
        .map(|(name, node)| match node {
            form::Node::Str(s) => decode_b64(&s, &name),
            _ => Err(invalid(
                &name,
                format!("{name} must be a base64 DER certificate."),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let hex = |ios: &mut Fields, key: &str| -> Result<Vec<u8>, ApiError> {
        let name = ios.name(key);
        let text = ios.required(key)?;
        hex_decode(&text).ok_or_else(|| invalid(&name, format!("{name} must be hexadecimal.")))
    };
    let nonce = hex(&mut ios, "nonce")?;
    let nonce_signature = hex(&mut ios, "nonce_signature")?;
    ios.finish()?;
    f.expand()?;
    f.finish()?;
    let ctx = psp.ctx;
    let card = id.clone();
    let payload = state
        .db
        .transaction(move |tx| apple(tx, &ctx, &id, &certificates, &nonce, &nonce_signature))
        .await?;
    Ok(Json(json!({
        "object": "issuing.push_provisioning_details",
        "card": card,
        "contents": payload.contents,
        "activation_data": payload.activation_data,
        "ephemeral_public_key": payload.ephemeral_public_key,
        "token": payload.token_id,
    })))
}

async fn google_pay_provisioning(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let wallet_account_id = f.required("wallet_account_id")?;
    let device_id = f.required("device_id")?;
    f.finish()?;
    let ctx = psp.ctx;
    let card = id.clone();
    let p = state
        .db
        .transaction(move |tx| google(tx, &ctx, &id, &wallet_account_id, &device_id))
        .await?;
    Ok(Json(json!({
        "object": "issuing.google_pay_provisioning",
        "card": card,
        "opaque_payment_card": p.opc,
        "network": p.network,
        "network_name": "VISA",
        "token_service_provider": p.tsp,
        "display_name": p.display_name,
        "last_digits": p.last_digits,
        "user_address": p.user_address,
        "token": p.token_id,
        "expires_in": OPC_TTL_SECS,
    })))
}

async fn helper_set_apple_root(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let certificate = f.required("certificate")?;
    f.finish()?;
    let bytes = if certificate.contains("-----BEGIN") {
        certificate.into_bytes()
    } else {
        decode_b64(&certificate, "certificate")?
    };
    let now = psp.ctx.now;
    let fingerprint = state
        .db
        .transaction(move |tx| set_apple_root(tx, &bytes, now))
        .await?;
    Ok(Json(
        json!({ "object": "apple_root", "fingerprint_sha256": fingerprint, "source": "api" }),
    ))
}
