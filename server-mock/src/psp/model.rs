//! The PSP's rows and their Stripe JSON: cardholders, cards, tokens, events, lists, settings.
//! The full card number and CVC are read here only for `expand[]=number` / `expand[]=cvc` and
//! for wallet payloads; they never reach an event or a log.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use tierspay_core::domain::wallet::controls::SpendingControls;

use super::form::invalid;
use crate::http::ApiError;

/// Business time and request facts shared by every write.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Business time, Unix seconds.
    pub now: i64,
    /// The request's `Idempotency-Key`, echoed in events.
    pub idempotency_key: Option<String>,
}

impl Ctx {
    /// A context at `now` with no request (the Rust API).
    pub fn at(now: i64) -> Self {
        Self {
            now,
            idempotency_key: None,
        }
    }
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

pub(crate) fn missing(what: &str, param: &str, id: &str) -> ApiError {
    let mut e = ApiError::not_found(what);
    e.detail.message = format!("No such {what}: '{id}'");
    e.detail.param = Some(param.into());
    e
}

// ---------------------------------------------------------------- settings

/// A stored setting and where it came from (`api`, `env`, `generated`).
pub fn setting(conn: &Connection, name: &str) -> Result<Option<(Vec<u8>, String)>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT value, source FROM psp_settings WHERE name = ?1",
            [name],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Stores a setting.
pub fn set_setting(
    conn: &Connection,
    name: &str,
    value: &[u8],
    source: &str,
    now: i64,
) -> Result<(), ApiError> {
    conn.execute(
        "INSERT INTO psp_settings (name, value, source, updated) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET value = ?2, source = ?3, updated = ?4",
        params![name, value, source, now],
    )?;
    Ok(())
}

/// The key that seals Google opaque payment cards (made on first use, kept in the database).
pub fn opc_key(conn: &Connection, now: i64) -> Result<[u8; 32], ApiError> {
    let stored = match setting(conn, "opc_key")? {
        Some((v, _)) => v,
        None => {
            let v = tierspay_core::auth::random::bytes::<32>().to_vec();
            set_setting(conn, "opc_key", &v, "generated", now)?;
            v
        }
    };
    stored
        .try_into()
        .map_err(|_| ApiError::internal("stored OPC key is corrupt"))
}

// ---------------------------------------------------------------- events

/// Writes an event (`evt_…`) for an object change.
pub fn emit(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    object: &Value,
    previous: Option<Value>,
) -> Result<String, ApiError> {
    let id = tierspay_core::auth::random::id("evt");
    tx.execute(
        "INSERT INTO psp_events (id, type, created, object, previous_attributes, idempotency_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            kind,
            ctx.now,
            object.to_string(),
            previous.map(|p| p.to_string()),
            ctx.idempotency_key
        ],
    )?;
    Ok(id)
}

/// The top-level fields that changed between two renderings of an object, with old values.
pub fn previous_attributes(before: &Value, after: &Value) -> Option<Value> {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return None;
    };
    let changed: Map<String, Value> = b
        .iter()
        .filter(|(k, v)| a.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!changed.is_empty()).then_some(Value::Object(changed))
}

/// Emits `<kind>.updated` if the object changed.
pub fn emit_update(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    before: &Value,
    after: &Value,
) -> Result<(), ApiError> {
    if let Some(prev) = previous_attributes(before, after) {
        emit(tx, ctx, &format!("{kind}.updated"), after, Some(prev))?;
    }
    Ok(())
}

/// An event by id.
pub fn event_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, type, created, object, previous_attributes, idempotency_key FROM psp_events WHERE id = ?1",
        [id],
        |r| {
            let mut data = json!({ "object": parse_json(&r.get::<_, String>(3)?) });
            if let Some(prev) = r.get::<_, Option<String>>(4)? {
                data["previous_attributes"] = parse_json(&prev);
            }
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "event",
                "api_version": "2024-06-20",
                "type": r.get::<_, String>(1)?,
                "created": r.get::<_, i64>(2)?,
                "data": data,
                "livemode": false,
                "pending_webhooks": 0,
                "request": { "id": Value::Null, "idempotency_key": r.get::<_, Option<String>>(5)? },
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("event", "id", id))
}

// ---------------------------------------------------------------- lists

/// `limit`, `starting_after`, `ending_before`.
#[derive(Debug, Clone)]
pub struct Paging {
    /// 1–100.
    pub limit: i64,
    /// Objects older than this id.
    pub starting_after: Option<String>,
    /// Objects newer than this id.
    pub ending_before: Option<String>,
}

impl Paging {
    /// Reads the list parameters.
    pub fn read(f: &mut super::form::Fields) -> Result<Self, ApiError> {
        let limit = f.int("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit", "This value must be between 1 and 100."));
        }
        let starting_after = f.str("starting_after")?.filter(|s| !s.is_empty());
        let ending_before = f.str("ending_before")?.filter(|s| !s.is_empty());
        if starting_after.is_some() && ending_before.is_some() {
            return Err(invalid(
                "ending_before",
                "You may only specify one of these parameters: ending_before, starting_after.",
            ));
        }
        Ok(Self {
            limit,
            starting_after,
            ending_before,
        })
    }
}

/// Ids of one page, newest first, and whether more follow. `filter` is SQL over the table's
/// columns (`1` for none) with positional parameters `args`.
pub fn page(
    conn: &Connection,
    table: &str,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
    paging: &Paging,
) -> Result<(Vec<String>, bool), ApiError> {
    let cursor = |param: &str, id: &str| -> Result<i64, ApiError> {
        conn.query_row(
            &format!("SELECT seq FROM {table} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| invalid(param, format!("No such object: '{id}'")))
    };
    let (bound, order, ascending) = match (&paging.starting_after, &paging.ending_before) {
        (Some(id), _) => (Some(("<", cursor("starting_after", id)?)), "DESC", false),
        (None, Some(id)) => (Some((">", cursor("ending_before", id)?)), "ASC", true),
        _ => (None, "DESC", false),
    };
    let mut sql = format!("SELECT id FROM {table} WHERE ({filter})");
    if let Some((op, seq)) = bound {
        sql.push_str(&format!(" AND seq {op} {seq}"));
    }
    sql.push_str(&format!(" ORDER BY seq {order} LIMIT {}", paging.limit + 1));
    let mut ids: Vec<String> = conn
        .prepare(&sql)?
        .query_map(args, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = ids.len() as i64 > paging.limit;
    ids.truncate(paging.limit as usize);
    if ascending {
        ids.reverse();
    }
    Ok((ids, has_more))
}

/// `{"object": "list", …}`.
pub fn list_json(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

// ---------------------------------------------------------------- cardholders

/// A cardholder as Stripe renders it.
pub fn cardholder_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, name, email, phone_number, type, status, billing, metadata, created
         FROM psp_cardholders WHERE id = ?1",
        [id],
        |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "issuing.cardholder",
                "billing": { "address": parse_json(&r.get::<_, String>(6)?) },
                "company": Value::Null,
                "created": r.get::<_, i64>(8)?,
                "email": r.get::<_, Option<String>>(2)?,
                "individual": Value::Null,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(7)?),
                "name": r.get::<_, String>(1)?,
                "phone_number": r.get::<_, Option<String>>(3)?,
                "preferred_locales": [],
                "requirements": { "disabled_reason": Value::Null, "past_due": [] },
                "spending_controls": Value::Null,
                "status": r.get::<_, String>(5)?,
                "type": r.get::<_, String>(4)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("issuing.cardholder", "cardholder", id))
}

// ---------------------------------------------------------------- cards

/// A card's stored facts (the number and CVC stay out of it).
#[derive(Debug, Clone)]
pub struct CardRow {
    /// `ic_…`
    pub id: String,
    /// `ich_…`
    pub cardholder_id: String,
    /// Last four digits.
    pub last4: String,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// `Visa`.
    pub brand: String,
    /// `eur`.
    pub currency: String,
    /// `virtual`.
    pub kind: String,
    /// active | inactive | canceled.
    pub status: String,
    /// lost | stolen | null.
    pub cancellation_reason: Option<String>,
    /// Stripe-shaped controls.
    pub spending_controls: SpendingControls,
    /// Metadata object.
    pub metadata: Value,
    /// Set at the first wallet provisioning.
    pub primary_account_identifier: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// A card's row, or 404 naming `param`.
pub fn card_row(conn: &Connection, id: &str, param: &str) -> Result<CardRow, ApiError> {
    conn.query_row(
        "SELECT id, cardholder_id, last4, exp_month, exp_year, brand, currency, type, status,
                cancellation_reason, spending_controls, metadata, primary_account_identifier, created
         FROM psp_cards WHERE id = ?1",
        [id],
        |r| {
            Ok(CardRow {
                id: r.get(0)?,
                cardholder_id: r.get(1)?,
                last4: r.get(2)?,
                exp_month: r.get(3)?,
                exp_year: r.get(4)?,
                brand: r.get(5)?,
                currency: r.get(6)?,
                kind: r.get(7)?,
                status: r.get(8)?,
                cancellation_reason: r.get(9)?,
                spending_controls: serde_json::from_str(&r.get::<_, String>(10)?).unwrap_or_default(),
                metadata: parse_json(&r.get::<_, String>(11)?),
                primary_account_identifier: r.get(12)?,
                created: r.get(13)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("issuing.card", param, id))
}

/// The number, expiry and CVC: PSP tables only.
pub fn card_secret(conn: &Connection, id: &str) -> Result<(String, String), ApiError> {
    conn.query_row(
        "SELECT number, cvc FROM psp_cards WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| missing("issuing.card", "card", id))
}

/// Whether a card can go into a wallet, and why not.
pub fn wallet_eligibility(card: &CardRow) -> (bool, Option<&'static str>) {
    if card.status == "canceled" {
        // Stripe has no reason for this; the mock names it.
        (false, Some("card_canceled"))
    } else {
        (true, None)
    }
}

/// A card as Stripe renders it; `expand` may hold `cardholder`, `number`, `cvc`.
pub fn card_json(conn: &Connection, card: &CardRow, expand: &[String]) -> Result<Value, ApiError> {
    let (eligible, reason) = wallet_eligibility(card);
    let wallet = json!({ "eligible": eligible, "ineligible_reason": reason });
    let mut doc = json!({
        "id": card.id,
        "object": "issuing.card",
        "brand": card.brand,
        "cancellation_reason": card.cancellation_reason,
        "cardholder": card.cardholder_id,
        "created": card.created,
        "currency": card.currency,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "last4": card.last4,
        "livemode": false,
        "metadata": card.metadata,
        "replaced_by": Value::Null,
        "replacement_for": Value::Null,
        "replacement_reason": Value::Null,
        "shipping": Value::Null,
        "spending_controls": card.spending_controls,
        "status": card.status,
        "type": card.kind,
        "wallets": {
            "apple_pay": wallet,
            "google_pay": wallet,
            "primary_account_identifier": card.primary_account_identifier,
        },
    });
    for field in expand {
        match field.as_str() {
            "cardholder" => doc["cardholder"] = cardholder_json(conn, &card.cardholder_id)?,
            "number" | "cvc" => {
                let (number, cvc) = card_secret(conn, &card.id)?;
                doc[field.as_str()] = Value::String(if field == "number" { number } else { cvc });
            }
            other => {
                return Err(invalid(
                    "expand",
                    format!("This property cannot be expanded ({other}). Expandable: cardholder, number, cvc."),
                ))
            }
        }
    }
    Ok(doc)
}

// ---------------------------------------------------------------- tokens

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
