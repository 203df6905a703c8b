//! The PSP's operations, for the HTTP endpoints and for the platform, which calls them inside its
//! own database transactions (business time as `now`). Errors are Stripe-style [`ApiError`]s
//! whose `param` names the field at fault; a refused call writes nothing.

use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tierspay_core::auth::signature::hex;
use tierspay_core::auth::{b64url, random, sha256};
use tierspay_core::domain::wallet::controls::SpendingControls;
use tierspay_core::domain::wallet::{applepay, chain, codes, opc, pan, WalletError};

use super::model::{self, card_row, emit, emit_update, missing, CardRow, Ctx, TokenRow};
use crate::http::ApiError;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// TapAndPay's constant for Visa, as network and as token service provider.
pub const TAP_AND_PAY_VISA: u8 = 4;
/// Lifetime of a Google opaque payment card, seconds.
pub const OPC_TTL_SECS: i64 = opc::DEFAULT_TTL_SECS;
/// Years a new card is valid.
pub const CARD_YEARS: i32 = 3;

/// The billing address of pseudonymous cardholders: the platform's card service, never the
/// member's own address (the PSP must not learn who the member is).
pub fn platform_billing_address() -> Value {
    json!({
        "city": "Paris",
        "country": "FR",
        "line1": "TiersPay – Service cartes",
        "line2": Value::Null,
        "postal_code": "75002",
        "state": Value::Null,
    })
}

/// What the platform may know of a card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardView {
    /// `ic_…`
    pub id: String,
    /// `ich_…`
    pub cardholder_id: String,
    /// Last four digits of the card number.
    pub last4: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// `Visa`.
    pub brand: String,
    /// active | inactive | canceled.
    pub status: String,
    /// Can go into Apple Wallet.
    pub apple_pay_eligible: bool,
    /// Can go into Google Wallet.
    pub google_pay_eligible: bool,
    /// PassKit's `primaryAccountIdentifier`, once the card was provisioned somewhere.
    pub primary_account_identifier: Option<String>,
    /// Stripe-shaped spending controls.
    pub spending_controls: SpendingControls,
}

impl CardView {
    fn from_row(row: &CardRow) -> Self {
        let (eligible, _) = model::wallet_eligibility(row);
        Self {
            id: row.id.clone(),
            cardholder_id: row.cardholder_id.clone(),
            last4: row.last4.clone(),
            exp_month: row.exp_month,
            exp_year: row.exp_year,
            brand: row.brand.clone(),
            status: row.status.clone(),
            apple_pay_eligible: eligible,
            google_pay_eligible: eligible,
            primary_account_identifier: row.primary_account_identifier.clone(),
            spending_controls: row.spending_controls.clone(),
        }
    }
}

/// The card's secrets, for the member's own eyes only (the app shows them on request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardSecret {
    /// The full number.
    pub number: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// Three digits.
    pub cvc: String,
}

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

/// A network token as the platform sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenView {
    /// `intok_…`
    pub id: String,
    /// `ic_…`
    pub card_id: String,
    /// apple_pay | google_pay.
    pub wallet_provider: String,
    /// Google's stable hardware id (None for Apple).
    pub device_id: Option<String>,
    /// Google wallet account id (None for Apple).
    pub wallet_account_id: Option<String>,
    /// Last four of the device PAN (differs from the card's).
    pub last4: String,
    /// requested | active | suspended | deleted.
    pub status: String,
    /// pending | needs_identity_verification | active | suspended | deleted.
    pub wallet_status: String,
}

impl TokenView {
    fn from_row(t: &TokenRow) -> Self {
        Self {
            id: t.id.clone(),
            card_id: t.card_id.clone(),
            wallet_provider: t.wallet_provider.clone(),
            device_id: t.device_id.clone(),
            wallet_account_id: t.wallet_account_id.clone(),
            last4: t.last4.clone(),
            status: t.status.clone(),
            wallet_status: t.wallet_status.clone(),
        }
    }
}

fn refuse(code: &str, param: Option<&str>, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::invalid(code, message);
    e.detail.param = param.map(str::to_owned);
    e
}

/// A wallet error as an API error, its field renamed by `rename`.
pub(crate) fn wallet_error(e: WalletError, rename: impl Fn(&str) -> String) -> ApiError {
    let param = rename(&e.field);
    let code = match e.code {
        codes::CHAIN_INVALID => "certificate_chain_invalid",
        codes::EXPIRED => "expired",
        codes::UNSUPPORTED_ALGORITHM => "unsupported_key",
        codes::BINDING_MISMATCH => "binding_mismatch",
        codes::DECRYPTION_FAILED => "decryption_failed",
        _ => "parameter_invalid",
    };
    refuse(code, Some(&param), format!("{param}: {}.", e.message))
}

// ------------------------------------------------------------------- cardholders

/// A new cardholder (HTTP or platform).
#[derive(Debug, Clone)]
pub struct NewCardholder {
    /// Name on the card (a pseudonym for the platform).
    pub name: String,
    /// Optional.
    pub email: Option<String>,
    /// Optional.
    pub phone_number: Option<String>,
    /// individual | company.
    pub kind: String,
    /// active | inactive.
    pub status: String,
    /// Billing address object.
    pub billing_address: Value,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// The platform's hash of the member reference.
    pub member_ref_hash: Option<String>,
}

pub(crate) fn insert_cardholder(
    tx: &Connection,
    ctx: &Ctx,
    c: NewCardholder,
) -> Result<String, ApiError> {
    let id = random::id("ich");
    tx.execute(
        "INSERT INTO psp_cardholders (id, name, email, phone_number, type, status, billing, metadata, member_ref_hash, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            c.name,
            c.email,
            c.phone_number,
            c.kind,
            c.status,
            c.billing_address.to_string(),
            Value::Object(c.metadata).to_string(),
            c.member_ref_hash,
            ctx.now
        ],
    )?;
    emit(
        tx,
        ctx,
        "issuing_cardholder.created",
        &model::cardholder_json(tx, &id)?,
        None,
    )?;
    Ok(id)
}

/// Creates a pseudonymous cardholder for a member (or returns the one already made for the
/// same `member_ref_hash`). The PSP learns a pseudonym and a hash, nothing else.
pub fn create_cardholder(
    tx: &Connection,
    pseudonym: &str,
    member_ref_hash: &str,
    now: i64,
) -> Result<String, ApiError> {
    let name = pseudonym.trim();
    if name.is_empty() || name.chars().count() > 24 {
        return Err(refuse(
            "parameter_invalid",
            Some("name"),
            "name must be 1 to 24 characters.",
        ));
    }
    if member_ref_hash.is_empty() || member_ref_hash.len() > 128 {
        return Err(refuse(
            "parameter_invalid",
            Some("member_ref_hash"),
            "member_ref_hash must be 1 to 128 characters.",
        ));
    }
    if let Some(id) = cardholder_by_member_ref_hash(tx, member_ref_hash)? {
        return Ok(id);
    }
    let mut metadata = Map::new();
    metadata.insert(
        "member_ref_hash".into(),
        Value::String(member_ref_hash.into()),
    );
    insert_cardholder(
        tx,
        &Ctx::at(now),
        NewCardholder {
            name: name.to_owned(),
            email: None,
            phone_number: None,
            kind: "individual".into(),
            status: "active".into(),
            billing_address: platform_billing_address(),
            metadata,
            member_ref_hash: Some(member_ref_hash.to_owned()),
        },
    )
}

/// The cardholder made for a member, if any.
pub fn cardholder_by_member_ref_hash(
    conn: &Connection,
    member_ref_hash: &str,
) -> Result<Option<String>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT id FROM psp_cardholders WHERE member_ref_hash = ?1",
            [member_ref_hash],
            |r| r.get(0),
        )
        .optional()?)
}

// ------------------------------------------------------------------- cards

/// A new card (HTTP or platform).
#[derive(Debug, Clone)]
pub struct NewCard {
    /// `ich_…`
    pub cardholder_id: String,
    /// active | inactive.
    pub status: String,
    /// Validated controls.
    pub spending_controls: SpendingControls,
    /// Metadata.
    pub metadata: Map<String, Value>,
}

fn unused_number(
    conn: &Connection,
    bin: &str,
    avoid_last4: Option<&str>,
    table: &str,
    column: &str,
) -> Result<String, ApiError> {
    for _ in 0..100 {
        let candidate = pan::random(bin).map_err(|e| ApiError::internal(&e.to_string()))?;
        if avoid_last4.is_some_and(|l| pan::last4(&candidate) == l) {
            continue;
        }
        let taken: bool = conn.query_row(
            &format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE {column} = ?1)"),
            [&candidate],
            |r| r.get(0),
        )?;
        if !taken {
            return Ok(candidate);
        }
    }
    Err(ApiError::internal("card number range exhausted"))
}

fn expiry(now: i64) -> Result<(u8, i32), ApiError> {
    let date = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|_| ApiError::internal("clock out of range"))?;
    Ok((u8::from(date.month()), date.year() + CARD_YEARS))
}

pub(crate) fn insert_card(tx: &Connection, ctx: &Ctx, c: NewCard) -> Result<CardRow, ApiError> {
    let holder_status: Option<String> = tx
        .query_row(
            "SELECT status FROM psp_cardholders WHERE id = ?1",
            [&c.cardholder_id],
            |r| r.get(0),
        )
        .optional()?;
    match holder_status.as_deref() {
        None => {
            return Err(missing(
                "issuing.cardholder",
                "cardholder",
                &c.cardholder_id,
            ))
        }
        Some("active") => {}
        Some(_) if c.status == "inactive" => {}
        Some(_) => {
            return Err(refuse(
                "cardholder_inactive",
                Some("cardholder"),
                "Cards of an inactive or blocked cardholder cannot be active.",
            ))
        }
    }
    let number = unused_number(tx, pan::TEST_BIN, None, "psp_cards", "number")?;
    let cvc = random::numeric_code(3);
    let (exp_month, exp_year) = expiry(ctx.now)?;
    let id = random::id("ic");
    let controls = serde_json::to_string(&c.spending_controls)
        .map_err(|e| ApiError::internal(&e.to_string()))?;
    tx.execute(
        "INSERT INTO psp_cards (id, cardholder_id, number, cvc, exp_month, exp_year, last4, brand, currency, type,
                                status, spending_controls, metadata, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'Visa', 'eur', 'virtual', ?8, ?9, ?10, ?11)",
        params![
            id,
            c.cardholder_id,
            number,
            cvc,
            exp_month,
            exp_year,
            pan::last4(&number),
            c.status,
            controls,
            Value::Object(c.metadata).to_string(),
            ctx.now
        ],
    )?;
    let row = card_row(tx, &id, "card")?;
    emit(
        tx,
        ctx,
        "issuing_card.created",
        &model::card_json(tx, &row, &[])?,
        None,
    )?;
    Ok(row)
}

/// Issues TiersPay's virtual card: active, the 14 healthcare categories only, French merchants
/// only, 1,500 € per authorization and 3,000 € a day.
pub fn issue_healthcare_card(
    tx: &Connection,
    cardholder_id: &str,
    now: i64,
) -> Result<CardView, ApiError> {
    let row = insert_card(
        tx,
        &Ctx::at(now),
        NewCard {
            cardholder_id: cardholder_id.to_owned(),
            status: "active".into(),
            spending_controls: SpendingControls::healthcare(),
            metadata: Map::new(),
        },
    )?;
    Ok(CardView::from_row(&row))
}

/// A card.
pub fn card(conn: &Connection, card_id: &str) -> Result<CardView, ApiError> {
    Ok(CardView::from_row(&card_row(conn, card_id, "card")?))
}

/// Cards of a cardholder, newest first.
pub fn cards_of_cardholder(
    conn: &Connection,
    cardholder_id: &str,
) -> Result<Vec<CardView>, ApiError> {
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM psp_cards WHERE cardholder_id = ?1 ORDER BY seq DESC")?
        .query_map([cardholder_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter().map(|id| card(conn, id)).collect()
}

/// Refuses (404, param `card`, as if it did not exist) a card that is not `cardholder_id`'s.
pub fn ensure_card_of(
    conn: &Connection,
    card_id: &str,
    cardholder_id: &str,
) -> Result<(), ApiError> {
    let row = card_row(conn, card_id, "card")?;
    if row.cardholder_id != cardholder_id {
        return Err(missing("issuing.card", "card", card_id));
    }
    Ok(())
}

/// Changes a card's status with its effects on tokens: freezing (`inactive`) suspends active
/// tokens, reactivating resumes the ones the freeze suspended, canceling deletes them all.
pub(crate) fn change_card_status(
    tx: &Connection,
    ctx: &Ctx,
    card: &CardRow,
    status: &str,
    cancellation_reason: Option<&str>,
) -> Result<(), ApiError> {
    if card.status == status {
        return Ok(());
    }
    if card.status == "canceled" {
        return Err(refuse(
            "card_canceled",
            Some("status"),
            "This card is canceled; a canceled card cannot be changed. Issue a new card.",
        ));
    }
    tx.execute(
        "UPDATE psp_cards SET status = ?2, cancellation_reason = ?3 WHERE id = ?1",
        params![card.id, status, cancellation_reason],
    )?;
    for token in model::tokens_of(tx, &card.id)? {
        match (status, token.status.as_str()) {
            ("inactive", "active") => {
                model::update_token(tx, ctx, &token, "suspended", "suspended", true)?;
            }
            ("active", "suspended") if token.suspended_by_card => {
                model::update_token(tx, ctx, &token, "active", "active", false)?;
            }
            ("canceled", s) if s != "deleted" => {
                model::update_token(tx, ctx, &token, "deleted", "deleted", false)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Freezes (`inactive`) or unfreezes (`active`) a card; tokens follow.
pub fn set_card_status(
    tx: &Connection,
    card_id: &str,
    status: &str,
    now: i64,
) -> Result<CardView, ApiError> {
    if !matches!(status, "active" | "inactive") {
        return Err(refuse(
            "parameter_invalid",
            Some("status"),
            "status must be active or inactive.",
        ));
    }
    let ctx = Ctx::at(now);
    let before = card_row(tx, card_id, "card")?;
    change_card_status(tx, &ctx, &before, status, None)?;
    let after = card_row(tx, card_id, "card")?;
    emit_update(
        tx,
        &ctx,
        "issuing_card",
        &model::card_json(tx, &before, &[])?,
        &model::card_json(tx, &after, &[])?,
    )?;
    Ok(CardView::from_row(&after))
}

/// The full number, expiry and CVC.
pub fn reveal(conn: &Connection, card_id: &str) -> Result<CardSecret, ApiError> {
    let row = card_row(conn, card_id, "card")?;
    let (number, cvc) = model::card_secret(conn, card_id)?;
    Ok(CardSecret {
        number,
        exp_month: row.exp_month,
        exp_year: row.exp_year,
        cvc,
    })
}

// ------------------------------------------------------------------- provisioning

fn provisionable(card: &CardRow) -> Result<(), ApiError> {
    match card.status.as_str() {
        "active" => Ok(()),
        "inactive" => Err(refuse(
            "card_inactive",
            Some("card"),
            "This card is frozen (inactive); unfreeze it before adding it to a wallet.",
        )),
        _ => Err(refuse(
            "card_canceled",
            Some("card"),
            "This card is canceled; it cannot be added to a wallet.",
        )),
    }
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

fn ensure_pai(tx: &Connection, ctx: &Ctx, card: &CardRow) -> Result<(), ApiError> {
    if card.primary_account_identifier.is_some() {
        return Ok(());
    }
    let pai = format!(
        "V-{}",
        random::numeric_code(9) + &random::numeric_code(9) + &random::numeric_code(4)
    );
    tx.execute(
        "UPDATE psp_cards SET primary_account_identifier = ?2 WHERE id = ?1",
        params![card.id, pai],
    )?;
    let after = card_row(tx, &card.id, "card")?;
    emit_update(
        tx,
        ctx,
        "issuing_card",
        &model::card_json(tx, card, &[])?,
        &model::card_json(tx, &after, &[])?,
    )
}

struct NewToken<'a> {
    card: &'a CardRow,
    wallet_provider: &'a str,
    wallet_account_id: Option<&'a str>,
    device_id: Option<&'a str>,
    activation_hash: Option<String>,
}

fn insert_token(tx: &Connection, ctx: &Ctx, t: NewToken<'_>) -> Result<TokenRow, ApiError> {
    let dpan = unused_number(
        tx,
        pan::TOKEN_BIN,
        Some(&t.card.last4),
        "psp_tokens",
        "dpan",
    )?;
    let id = random::id("intok");
    tx.execute(
        "INSERT INTO psp_tokens (id, card_id, wallet_provider, status, wallet_status, dpan, last4, device_fingerprint,
                                 wallet_account_id, device_id, activation_hash, network_token_ref, created, updated)
         VALUES (?1, ?2, ?3, 'requested', 'pending', ?4, ?5, ?6, ?7, ?6, ?8, ?9, ?10, ?10)",
        params![
            id,
            t.card.id,
            t.wallet_provider,
            dpan,
            pan::last4(&dpan),
            t.device_id,
            t.wallet_account_id,
            t.activation_hash,
            format!("DNITHE{}", random::numeric_code(9) + &random::numeric_code(9)),
            ctx.now
        ],
    )?;
    let token = model::token_row(tx, &id)?;
    emit(
        tx,
        ctx,
        "issuing_token.created",
        &model::token_json(&token),
        None,
    )?;
    ensure_pai(tx, ctx, t.card)?;
    Ok(token)
}

/// The cardholder's name, for wallet payloads.
fn holder(conn: &Connection, id: &str) -> Result<(String, Value, Option<String>), ApiError> {
    conn.query_row(
        "SELECT name, billing, phone_number FROM psp_cardholders WHERE id = ?1",
        [id],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or(Value::Null),
                r.get(2)?,
            ))
        },
    )
    .optional()?
    .ok_or_else(|| missing("issuing.cardholder", "cardholder", id))
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
    let (number, _) = model::card_secret(tx, card_id)?;
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
    let existing = model::tokens_of(tx, card_id)?.into_iter().find(|t| {
        t.wallet_provider == "google_pay"
            && t.status != "deleted"
            && t.wallet_account_id.as_deref() == Some(wallet_account_id)
            && t.device_id.as_deref() == Some(device_id)
    });
    let token = match existing {
        Some(t) if t.status == "active" => {
            return Err(refuse(
                "token_already_active",
                Some("card"),
                format!("This card is already active in this Google wallet on this device (token {}); do not push it again.", t.id),
            ))
        }
        Some(t) if t.status == "suspended" => {
            return Err(refuse(
                "token_suspended",
                Some("card"),
                format!("This card is in this Google wallet but suspended (token {}); resume the token instead.", t.id),
            ))
        }
        Some(t) if t.wallet_status == "needs_identity_verification" => {
            return Err(refuse(
                "token_needs_identity_verification",
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
    let (number, _) = model::card_secret(tx, card_id)?;
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

/// The tokens of a card, newest first.
pub fn tokens(conn: &Connection, card_id: &str) -> Result<Vec<TokenView>, ApiError> {
    card_row(conn, card_id, "card")?;
    Ok(model::tokens_of(conn, card_id)?
        .iter()
        .map(TokenView::from_row)
        .collect())
}

// ------------------------------------------------------------------- token lifecycle

/// Stripe's token update: `active` (from suspended, card active), `suspended` (from active),
/// `deleted` (from anything but deleted). A requested token becomes active only when the wallet
/// completes provisioning (the network's activation).
pub(crate) fn set_token_status(
    tx: &Connection,
    ctx: &Ctx,
    token_id: &str,
    status: &str,
) -> Result<TokenRow, ApiError> {
    let token = model::token_row(tx, token_id)?;
    let card = card_row(tx, &token.card_id, "card")?;
    let bad = |m: &str| refuse("token_status_transition_invalid", Some("status"), m);
    match (token.status.as_str(), status) {
        (from, to) if from == to => Ok(token),
        ("deleted", _) => Err(bad("This token is deleted; deleted tokens cannot change.")),
        (_, "deleted") => model::update_token(tx, ctx, &token, "deleted", "deleted", false),
        ("requested", _) => Err(bad(
            "A requested token becomes active when the wallet completes provisioning.",
        )),
        ("active", "suspended") => {
            model::update_token(tx, ctx, &token, "suspended", "suspended", false)
        }
        ("suspended", "active") if card.status != "active" => Err(refuse(
            "card_inactive",
            Some("status"),
            "The card is not active; reactivate the card to resume its tokens.",
        )),
        ("suspended", "active") => model::update_token(tx, ctx, &token, "active", "active", false),
        _ => Err(bad("status must be active, suspended or deleted.")),
    }
}

/// What the card network checks when a wallet activates a token.
#[derive(Debug, Clone)]
pub enum ActivationProof {
    /// Apple: the `activationData` the issuer returned with the pass.
    Apple {
        /// Base64.
        activation_data: String,
    },
    /// Google: the OPC as the wallet handed it on, with the wallet and device it came from.
    Google {
        /// Base64 OPC.
        opaque_payment_card: String,
        /// The wallet account.
        wallet_account_id: String,
        /// The device.
        device_id: String,
    },
}

/// The network's activation of a `requested` token (test helper): checks the proof, then
/// requested → active.
pub(crate) fn activate_token(
    tx: &Connection,
    ctx: &Ctx,
    token_id: &str,
    proof: ActivationProof,
) -> Result<TokenRow, ApiError> {
    let token = model::token_row(tx, token_id)?;
    if token.status != "requested" {
        return Err(refuse(
            "token_status_transition_invalid",
            None,
            format!(
                "Only a requested token can be activated; this one is {}.",
                token.status
            ),
        ));
    }
    let card = card_row(tx, &token.card_id, "card")?;
    provisionable(&card)?;
    match (token.wallet_provider.as_str(), proof) {
        ("apple_pay", ActivationProof::Apple { activation_data }) => {
            let stored: Option<String> = tx.query_row(
                "SELECT activation_hash FROM psp_tokens WHERE id = ?1",
                [token_id],
                |r| r.get(0),
            )?;
            let given = B64
                .decode(activation_data.trim())
                .map(sha256)
                .map(b64url)
                .ok();
            let matches = match (stored.as_deref(), given.as_deref()) {
                // Hashes are compared, not secrets: timing reveals nothing useful.
                (Some(s), Some(g)) => s == g,
                _ => false,
            };
            if !matches {
                return Err(refuse(
                    "activation_data_invalid",
                    Some("activation_data"),
                    "activation_data does not match the one issued with this token's pass.",
                ));
            }
        }
        (
            "google_pay",
            ActivationProof::Google {
                opaque_payment_card,
                wallet_account_id,
                device_id,
            },
        ) => {
            let key = model::opc_key(tx, ctx.now)?;
            let payload = opc::open(
                &key,
                &opaque_payment_card,
                &wallet_account_id,
                &device_id,
                ctx.now,
            )
            .map_err(|e| wallet_error(e, str::to_owned))?;
            let (number, _) = model::card_secret(tx, &card.id)?;
            if token.wallet_account_id.as_deref() != Some(&payload.wallet_account_id)
                || token.device_id.as_deref() != Some(&payload.device_id)
                || payload.pan != number
            {
                return Err(refuse(
                    "binding_mismatch",
                    Some("opaque_payment_card"),
                    "This opaque payment card was issued for another token.",
                ));
            }
        }
        (provider, _) => {
            return Err(refuse(
                "parameter_invalid",
                None,
                format!(
                    "This is a {provider} token: send {}.",
                    if provider == "apple_pay" {
                        "activation_data"
                    } else {
                        "opaque_payment_card, wallet_account_id and device_id"
                    }
                ),
            ))
        }
    }
    model::update_token(tx, ctx, &token, "active", "active", false)
}

/// Puts a requested token in identity verification (test helper): the wallet shows "verify
/// your identity" and the app resumes it rather than pushing again.
pub(crate) fn require_identity_verification(
    tx: &Connection,
    ctx: &Ctx,
    token_id: &str,
) -> Result<TokenRow, ApiError> {
    let token = model::token_row(tx, token_id)?;
    if token.status != "requested" {
        return Err(refuse(
            "token_status_transition_invalid",
            None,
            format!(
                "Only a requested token can need identity verification; this one is {}.",
                token.status
            ),
        ));
    }
    model::update_token(
        tx,
        ctx,
        &token,
        "requested",
        "needs_identity_verification",
        false,
    )
}
