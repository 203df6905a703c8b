//! The member's virtual card, as the app reaches it: the platform maps a member to a
//! pseudonymous PSP cardholder and card (ids only) and relays to the PSP. Issued in the
//! enrollment transaction, so a confirmed member always has a card.

use axum::extract::State;
use axum::{Extension, Json};
use rusqlite::{params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use tierspay_core::auth::{b64url, sha256, signature};
use tierspay_core::wire::{
    ApplePayRequest, ApplePayResponse, CardControls, CardInfo, CardSecret, GooglePayRequest,
    GooglePayResponse, NetworkToken, SpendingLimit, WalletAddress,
};

use super::notifications;
use crate::http::{ApiError, ApiJson, Caller, Reexecute};
use crate::psp::api as psp;
use crate::state::AppState;

fn member_hash(member_ref: &str) -> String {
    b64url(sha256(member_ref.as_bytes()))
}

/// The card of a member, issuing one (with its pseudonymous cardholder) the first time.
pub fn issue_for(tx: &Connection, member_ref: &str, now: i64) -> Result<CardInfo, ApiError> {
    if let Some((_, card_id)) = ids(tx, member_ref)? {
        return info(tx, &card_id);
    }
    let hash = member_hash(member_ref);
    // The PSP sees a pseudonym and a hash, never who the member is.
    let pseudonym = format!("TP {}", &hash[..12]);
    let cardholder = psp::create_cardholder(tx, &pseudonym, &hash, now)?;
    let card = psp::issue_healthcare_card(tx, &cardholder, now)?;
    tx.execute(
        "INSERT INTO platform_cards (member_ref, cardholder_id, card_id, created) VALUES (?1, ?2, ?3, ?4)",
        params![member_ref, cardholder, card.id, now],
    )?;
    info(tx, &card.id)
}

fn ids(conn: &Connection, member_ref: &str) -> Result<Option<(String, String)>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT cardholder_id, card_id FROM platform_cards WHERE member_ref = ?1",
            [member_ref],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

fn ids_of(conn: &Connection, member_ref: &str) -> Result<(String, String), ApiError> {
    ids(conn, member_ref)?.ok_or_else(|| ApiError::not_found("card"))
}

/// The card's public facts and tokens, as the app reads them.
pub fn info(conn: &Connection, card_id: &str) -> Result<CardInfo, ApiError> {
    let card = psp::card(conn, card_id)?;
    let tokens = psp::tokens(conn, card_id)?;
    let controls = card.spending_controls;
    Ok(CardInfo {
        object: "card".into(),
        id: card.id,
        last4: card.last4,
        exp_month: u32::from(card.exp_month),
        exp_year: card.exp_year as u32,
        brand: card.brand.to_lowercase(),
        status: card.status,
        apple_pay_eligible: card.apple_pay_eligible,
        google_pay_eligible: card.google_pay_eligible,
        controls: CardControls {
            allowed_categories: controls.allowed_categories.unwrap_or_default(),
            allowed_merchant_countries: controls.allowed_merchant_countries.unwrap_or_default(),
            spending_limits: controls
                .spending_limits
                .into_iter()
                .map(|l| SpendingLimit {
                    amount: Decimal::new(l.amount, 2),
                    interval: l.interval,
                })
                .collect(),
        },
        tokens: tokens
            .into_iter()
            .filter(|t| t.status != "deleted")
            .map(|t| NetworkToken {
                id: t.id,
                wallet: t.wallet_provider,
                device_id: t.device_id,
                last4: t.last4,
                status: t.status,
            })
            .collect(),
    })
}

/// `GET /v1/card`
pub async fn get_card(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<CardInfo>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let card = state
        .db
        .call(move |conn| info(conn, &ids_of(conn, &member)?.1))
        .await?;
    Ok(Json(card))
}

async fn set_status(
    state: AppState,
    caller: Caller,
    status: &'static str,
) -> Result<Json<CardInfo>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let now = state.clock.now();
    let card = state
        .db
        .transaction(move |tx| {
            let (_, card_id) = ids_of(tx, &member)?;
            let before = psp::card(tx, &card_id)?.status;
            psp::set_card_status(tx, &card_id, status, now)?;
            if before != status {
                notifications::push_to_member(tx, &member, status_push(status), now)?;
            }
            info(tx, &card_id)
        })
        .await?;
    Ok(Json(card))
}

/// What the member's phone is told when the card's status changes (from this phone or any
/// other channel), opening the card screen.
fn status_push(status: &str) -> notifications::Push<'static> {
    if status == "inactive" {
        notifications::Push {
            kind: "card_frozen",
            title: "Card frozen",
            body: "Your TiersPay card is frozen: payments are refused until you unfreeze it.",
            link: "tierspay://card",
        }
    } else {
        notifications::Push {
            kind: "card_active",
            title: "Card active again",
            body: "Your TiersPay card works again, in your wallets too.",
            link: "tierspay://card",
        }
    }
}

/// `POST /v1/card/freeze`: payments refused, wallet tokens suspended.
pub async fn freeze(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<CardInfo>, ApiError> {
    set_status(state, caller, "inactive").await
}

/// `POST /v1/card/unfreeze`: the card and its wallet tokens work again.
pub async fn unfreeze(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<CardInfo>, ApiError> {
    set_status(state, caller, "active").await
}

/// `POST /v1/card/reveal`: the number, once, to the device that proved its key just now. A
/// safe read: never stored for replay (a retry reads it again), so no copy of the number sits
/// in the idempotency store.
pub async fn reveal(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<(Extension<Reexecute>, Json<CardSecret>), ApiError> {
    let member = caller.device()?.member_ref.clone();
    let secret = state
        .db
        .call(move |conn| {
            let (_, card_id) = ids_of(conn, &member)?;
            psp::reveal(conn, &card_id)
        })
        .await?;
    tracing::info!("card details revealed to the member's device");
    Ok((
        Extension(Reexecute),
        Json(CardSecret {
            number: secret.number,
            exp_month: u32::from(secret.exp_month),
            exp_year: secret.exp_year as u32,
            cvc: secret.cvc,
        }),
    ))
}

fn std_b64(text: &str, param: &str) -> Result<Vec<u8>, ApiError> {
    tierspay_core::auth::b64_decode(text)
        .map_err(|_| ApiError::invalid_param(param, format!("{param} must be base64.")))
}

/// `POST /v1/card/wallets/apple_pay`: PassKit's certificates, nonce and nonce signature.
pub async fn apple_pay(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<ApplePayRequest>,
) -> Result<Json<ApplePayResponse>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    if body.certificates.is_empty() || body.certificates.len() > 4 {
        return Err(ApiError::invalid_param(
            "certificates",
            "certificates must hold 1 to 4 DER certificates, leaf first.",
        ));
    }
    let certificates = body
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| std_b64(c, &format!("certificates[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let nonce = signature::hex_decode(&body.nonce)
        .ok_or_else(|| ApiError::invalid_param("nonce", "nonce must be hex."))?;
    let nonce_signature = signature::hex_decode(&body.nonce_signature).ok_or_else(|| {
        ApiError::invalid_param("nonce_signature", "nonce_signature must be hex.")
    })?;
    let now = state.clock.now();
    let payload = state
        .db
        .transaction(move |tx| {
            let (cardholder, card_id) = ids_of(tx, &member)?;
            let payload = psp::apple_provisioning_for(
                tx,
                &cardholder,
                &card_id,
                &certificates,
                &nonce,
                &nonce_signature,
                now,
            )?;
            Ok((payload, info(tx, &card_id)?))
        })
        .await?;
    let (payload, card) = payload;
    Ok(Json(ApplePayResponse {
        encrypted_pass_data: payload.contents,
        activation_data: payload.activation_data,
        ephemeral_public_key: payload.ephemeral_public_key,
        card: Some(card),
    }))
}

/// `POST /v1/card/wallets/google_pay`: an OPC bound to this wallet and device.
pub async fn google_pay(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<GooglePayRequest>,
) -> Result<Json<GooglePayResponse>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let now = state.clock.now();
    let (payload, (name, phone), card) = state
        .db
        .transaction(move |tx| {
            let (cardholder, card_id) = ids_of(tx, &member)?;
            let payload = psp::google_provisioning_for(
                tx,
                &cardholder,
                &card_id,
                &body.wallet_account_id,
                &body.device_id,
                now,
            )?;
            let contact = crate::insurer::contracts::wallet_contact(tx, &member)?;
            Ok((payload, contact, info(tx, &card_id)?))
        })
        .await?;
    let a = payload.user_address;
    Ok(Json(GooglePayResponse {
        opaque_payment_card: payload.opc,
        network: u32::from(payload.network),
        token_service_provider: u32::from(payload.tsp),
        display_name: payload.display_name,
        last_digits: payload.last_digits,
        user_address: WalletAddress {
            name,
            address1: a.address1,
            locality: a.locality,
            postal_code: a.postal_code,
            country_code: a.country_code,
            phone_number: phone,
        },
        card: Some(card),
    }))
}
