//! Network tokens (`intok_…`): the card in one wallet on one device, with a device PAN of its own.
//! Provisioning creates them `requested`; the card network activates them (a test helper here,
//! checking the activation data or OPC the issuer handed out); Stripe's update suspends, resumes
//! or deletes them; the card's status changes move them too (see `cards`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use tierspay_core::auth::{b64url, random, sha256};
use tierspay_core::wire::codes;
use tierspay_wallet::{opc, pan};

use super::cards::{self, card_row, ensure_pai, provisionable, unused_number, CardRow};
use super::events::{emit, emit_update};
use super::form::invalid;
use super::model::{self, missing, refuse, wallet_error, Ctx, Paging, B64};
use super::wire::{body_fields, query_fields, rename_param, Psp};
use crate::http::ApiError;
use crate::state::AppState;

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

/// A token to create in `requested` state (provisioning).
pub(super) struct NewToken<'a> {
    /// Its card.
    pub(super) card: &'a CardRow,
    /// apple_pay | google_pay.
    pub(super) wallet_provider: &'a str,
    /// Google wallet account id.
    pub(super) wallet_account_id: Option<&'a str>,
    /// Google stable hardware id.
    pub(super) device_id: Option<&'a str>,
    /// Apple: the hash of the activation data handed out with the pass.
    pub(super) activation_hash: Option<String>,
}

/// Creates a `requested` token with a device PAN of its own (and the card's PassKit
/// identifier at its first token); emits `issuing_token.created`.
pub(super) fn insert_token(
    tx: &Connection,
    ctx: &Ctx,
    t: NewToken<'_>,
) -> Result<TokenRow, ApiError> {
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
    let token = token_row(tx, &id)?;
    emit(tx, ctx, "issuing_token.created", &token_json(&token), None)?;
    ensure_pai(tx, ctx, t.card)?;
    Ok(token)
}

/// The tokens of a card, newest first.
pub fn tokens(conn: &Connection, card_id: &str) -> Result<Vec<TokenView>, ApiError> {
    card_row(conn, card_id, "card")?;
    Ok(tokens_of(conn, card_id)?
        .iter()
        .map(TokenView::from_row)
        .collect())
}

/// Stripe's token update: `active` (from suspended, card active), `suspended` (from active),
/// `deleted` (from anything but deleted). A requested token becomes active only when the wallet
/// completes provisioning (the network's activation).
pub(crate) fn set_token_status(
    tx: &Connection,
    ctx: &Ctx,
    token_id: &str,
    status: &str,
) -> Result<TokenRow, ApiError> {
    let token = token_row(tx, token_id)?;
    let card = card_row(tx, &token.card_id, "card")?;
    let bad = |m: &str| refuse("token_status_transition_invalid", Some("status"), m);
    match (token.status.as_str(), status) {
        (from, to) if from == to => Ok(token),
        ("deleted", _) => Err(bad("This token is deleted; deleted tokens cannot change.")),
        (_, "deleted") => update_token(tx, ctx, &token, "deleted", "deleted", false),
        ("requested", _) => Err(bad(
            "A requested token becomes active when the wallet completes provisioning.",
        )),
        ("active", "suspended") => update_token(tx, ctx, &token, "suspended", "suspended", false),
        ("suspended", "active") if card.status != "active" => Err(refuse(
            codes::CARD_INACTIVE,
            Some("status"),
            "The card is not active; reactivate the card to resume its tokens.",
        )),
        ("suspended", "active") => update_token(tx, ctx, &token, "active", "active", false),
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
    let token = token_row(tx, token_id)?;
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
                    codes::ACTIVATION_DATA_INVALID,
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
            let (number, _) = cards::card_secret(tx, &card.id)?;
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
    update_token(tx, ctx, &token, "active", "active", false)
}

/// Puts a requested token in identity verification (test helper): the wallet shows "verify
/// your identity" and the app resumes it rather than pushing again.
pub(crate) fn require_identity_verification(
    tx: &Connection,
    ctx: &Ctx,
    token_id: &str,
) -> Result<TokenRow, ApiError> {
    let token = token_row(tx, token_id)?;
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
    update_token(
        tx,
        ctx,
        &token,
        "requested",
        "needs_identity_verification",
        false,
    )
}

// ------------------------------------------------------------------- rows and Stripe JSON

/// A network token's stored facts.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// `intok_…`
    pub id: String,
    /// `ic_…`
    pub card_id: String,
    /// apple_pay | google_pay.
    pub wallet_provider: String,
    /// requested | active | suspended | deleted.
    pub status: String,
    /// pending | needs_identity_verification | active | suspended | deleted.
    pub wallet_status: String,
    /// Suspended because its card was frozen (resumed when the card is reactivated).
    pub suspended_by_card: bool,
    /// Last four digits of the device PAN.
    pub last4: String,
    /// Apple: the device, when known; Google: the stable hardware id.
    pub device_fingerprint: Option<String>,
    /// Google wallet account id.
    pub wallet_account_id: Option<String>,
    /// Google stable hardware id.
    pub device_id: Option<String>,
    /// The network's token reference.
    pub network_token_ref: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds.
    pub updated: i64,
}

const TOKEN_COLUMNS: &str =
    "id, card_id, wallet_provider, status, wallet_status, suspended_by_card, last4,
    device_fingerprint, wallet_account_id, device_id, network_token_ref, created, updated";

fn token_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: r.get(0)?,
        card_id: r.get(1)?,
        wallet_provider: r.get(2)?,
        status: r.get(3)?,
        wallet_status: r.get(4)?,
        suspended_by_card: r.get(5)?,
        last4: r.get(6)?,
        device_fingerprint: r.get(7)?,
        wallet_account_id: r.get(8)?,
        device_id: r.get(9)?,
        network_token_ref: r.get(10)?,
        created: r.get(11)?,
        updated: r.get(12)?,
    })
}

/// A token's row, or 404.
pub fn token_row(conn: &Connection, id: &str) -> Result<TokenRow, ApiError> {
    conn.query_row(
        &format!("SELECT {TOKEN_COLUMNS} FROM psp_tokens WHERE id = ?1"),
        [id],
        token_from,
    )
    .optional()?
    .ok_or_else(|| missing("issuing.token", "token", id))
}

/// Tokens of a card, newest first.
pub fn tokens_of(conn: &Connection, card_id: &str) -> Result<Vec<TokenRow>, ApiError> {
    Ok(conn
        .prepare(&format!(
            "SELECT {TOKEN_COLUMNS} FROM psp_tokens WHERE card_id = ?1 ORDER BY seq DESC"
        ))?
        .query_map([card_id], token_from)?
        .collect::<rusqlite::Result<_>>()?)
}

/// A token as Stripe renders it. `network_data.wallet_status` is the mock's addition: the
/// wallet-side state (TapAndPay: pending = PENDING 2, needs_identity_verification =
/// NEEDS_IDENTITY_VERIFICATION 3, suspended = SUSPENDED 4, active = ACTIVE 5).
pub fn token_json(t: &TokenRow) -> Value {
    let requestor = if t.wallet_provider == "apple_pay" {
        "40010030273"
    } else {
        "40010075001"
    };
    json!({
        "id": t.id,
        "object": "issuing.token",
        "card": t.card_id,
        "created": t.created,
        "device_fingerprint": t.device_fingerprint,
        "last4": t.last4,
        "livemode": false,
        "network": "visa",
        "network_data": {
            "device": {
                "device_fingerprint": t.device_fingerprint,
                "type": "phone",
            },
            "type": "visa",
            "visa": {
                "document_upload_reference_id": Value::Null,
                "token_reference_id": t.network_token_ref,
                "token_requestor_id": requestor,
                "token_risk_score": Value::Null,
            },
            "wallet_provider": {
                "account_id": t.wallet_account_id,
                "card_number_source": "app",
            },
            "wallet_status": t.wallet_status,
        },
        "network_updated_at": t.updated,
        "status": t.status,
        "wallet_provider": t.wallet_provider,
    })
}

/// Moves a token to `status` / `wallet_status`; emits `issuing_token.updated`.
pub fn update_token(
    tx: &Connection,
    ctx: &Ctx,
    token: &TokenRow,
    status: &str,
    wallet_status: &str,
    suspended_by_card: bool,
) -> Result<TokenRow, ApiError> {
    tx.execute(
        "UPDATE psp_tokens SET status = ?2, wallet_status = ?3, suspended_by_card = ?4, updated = ?5,
           activation_hash = CASE WHEN ?2 = 'requested' THEN activation_hash ELSE NULL END
         WHERE id = ?1",
        params![token.id, status, wallet_status, suspended_by_card, ctx.now],
    )?;
    let after = token_row(tx, &token.id)?;
    emit_update(
        tx,
        ctx,
        "issuing_token",
        &token_json(token),
        &token_json(&after),
    )?;
    Ok(after)
}

// ------------------------------------------------------------------- endpoints

/// The token endpoints and the network's test helpers.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/issuing/tokens", get(list))
        .route("/v1/issuing/tokens/{id}", get(retrieve).post(update))
        .route(
            "/v1/test_helpers/issuing/tokens/{id}/activate",
            post(helper_activate),
        )
        .route(
            "/v1/test_helpers/issuing/tokens/{id}/require_identity_verification",
            post(helper_require_identity_verification),
        )
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let card = f.required("card")?;
    let status = f.one_of("status", &["requested", "active", "suspended", "deleted"])?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            card_row(conn, &card, "card")?;
            let (ids, more) = model::page(
                conn,
                "psp_tokens",
                "card_id = ?1 AND (?2 IS NULL OR status = ?2)",
                &[&card, &status],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| token_row(conn, id).map(|t| token_json(&t)))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/tokens"))
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            token_row(conn, &id)
                .map(|t| token_json(&t))
                .map_err(|e| rename_param(e, "id"))
        })
        .await?;
    Ok(Json(doc))
}

async fn update(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let status = f
        .one_of("status", &["active", "suspended", "deleted"])?
        .ok_or_else(|| invalid("status", "Missing required param: status."))?;
    f.expand()?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let t = set_token_status(tx, &ctx, &id, &status).map_err(|e| rename_param(e, "id"))?;
            Ok(token_json(&t))
        })
        .await?;
    Ok(Json(doc))
}

async fn helper_activate(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let activation_data = f.str("activation_data")?;
    let opc = f.str("opaque_payment_card")?;
    let proof = match (activation_data, opc) {
        (Some(activation_data), None) => ActivationProof::Apple { activation_data },
        (None, Some(opaque_payment_card)) => ActivationProof::Google {
            opaque_payment_card,
            wallet_account_id: f.required("wallet_account_id")?,
            device_id: f.required("device_id")?,
        },
        _ => {
            return Err(invalid(
                "activation_data",
                "Send activation_data (Apple Pay) or opaque_payment_card with wallet_account_id and device_id (Google Pay).",
            ))
        }
    };
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let t = activate_token(tx, &ctx, &id, proof).map_err(|e| rename_param(e, "id"))?;
            Ok(token_json(&t))
        })
        .await?;
    Ok(Json(doc))
}

async fn helper_require_identity_verification(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let t =
                require_identity_verification(tx, &ctx, &id).map_err(|e| rename_param(e, "id"))?;
            Ok(token_json(&t))
        })
        .await?;
    Ok(Json(doc))
}
