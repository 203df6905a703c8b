//! Charges (`ch_…`): one attempt of a PaymentIntent on the card network: failed (a decline),
//! authorized (manual capture: `captured=false`, held until `capture_before`, 7 days) or
//! captured (the money reaches the platform's balance, with its `balance_transaction`). Created
//! and moved only by `payment_intents`; `GET /v1/charges` reads them.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;

use super::balance::{self, card_fee, Entry, Fee, Movement, PLATFORM_ACCOUNT};
use super::card_checks::Decline;
use super::events::emit;
use super::model::{self, missing, Ctx, Paging};
use super::payment_methods::payment_method_json;
use super::wire::{query_fields, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// How long a card-not-present authorization is held: then the intent is canceled.
pub const HOLD_SECS: i64 = 7 * 24 * 3600;

/// The intents' and charges' tables (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_payment_intents (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        client_secret       BLOB NOT NULL,
        amount              INTEGER NOT NULL CHECK (amount > 0),
        currency            TEXT NOT NULL,
        customer            TEXT REFERENCES psp_customers(id),
        payment_method      TEXT REFERENCES psp_payment_methods(id),
        capture_method      TEXT NOT NULL CHECK (capture_method IN ('automatic', 'manual')),
        status              TEXT NOT NULL CHECK (status IN ('requires_payment_method', 'requires_confirmation',
                                'requires_action', 'processing', 'requires_capture', 'canceled', 'succeeded')),
        amount_capturable   INTEGER NOT NULL DEFAULT 0,
        amount_received     INTEGER NOT NULL DEFAULT 0,
        off_session         INTEGER NOT NULL DEFAULT 0,
        transfer_group      TEXT,
        description         TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        latest_charge       TEXT,
        last_payment_error  TEXT,
        next_action         TEXT,
        return_url          TEXT,
        capture_before      INTEGER,
        cancellation_reason TEXT,
        canceled_at         INTEGER,
        created             INTEGER NOT NULL,
        CHECK (amount_capturable BETWEEN 0 AND amount),
        CHECK (amount_received BETWEEN 0 AND amount)
    );
    CREATE INDEX psp_payment_intents_customer ON psp_payment_intents (customer, seq);
    CREATE INDEX psp_payment_intents_hold ON psp_payment_intents (capture_before)
        WHERE status = 'requires_capture';
    CREATE TABLE psp_charges (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        payment_intent      TEXT NOT NULL REFERENCES psp_payment_intents(id),
        payment_method      TEXT NOT NULL REFERENCES psp_payment_methods(id),
        customer            TEXT,
        amount              INTEGER NOT NULL,
        amount_captured     INTEGER NOT NULL DEFAULT 0,
        amount_refunded     INTEGER NOT NULL DEFAULT 0,
        currency            TEXT NOT NULL,
        status              TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
        captured            INTEGER NOT NULL DEFAULT 0,
        refunded            INTEGER NOT NULL DEFAULT 0,
        failure_code        TEXT,
        decline_code        TEXT,
        failure_message     TEXT,
        balance_transaction TEXT,
        capture_before      INTEGER,
        three_d_secure      INTEGER NOT NULL DEFAULT 0,
        transfer_group      TEXT,
        description         TEXT,
        created             INTEGER NOT NULL,
        -- One capture, at most what was authorized.
        CHECK (amount_captured BETWEEN 0 AND amount)
    );
    CREATE INDEX psp_charges_intent ON psp_charges (payment_intent);
"#;

/// A new attempt: declined (`decline`) or authorized.
pub(super) struct Attempt<'a> {
    /// `pi_…`
    pub intent: &'a str,
    /// `pm_…`
    pub payment_method: &'a str,
    /// `cus_…`
    pub customer: Option<&'a str>,
    /// Minor units.
    pub amount: i64,
    /// `eur`.
    pub currency: &'a str,
    /// The decline, if the network refused.
    pub decline: Option<Decline>,
    /// Whether 3D Secure ran.
    pub three_d_secure: bool,
    /// Copied from the intent.
    pub transfer_group: Option<&'a str>,
    /// Copied from the intent.
    pub description: Option<&'a str>,
}

/// Records an attempt: a failed charge, or an authorized one held for [`HOLD_SECS`]. Emits
/// `charge.failed` or `charge.succeeded`. Returns the `ch_…` id.
pub(super) fn record_attempt(
    tx: &Connection,
    ctx: &Ctx,
    a: &Attempt<'_>,
) -> Result<String, ApiError> {
    let id = random::id("ch");
    let (status, code, decline_code, message) = match &a.decline {
        Some(d) => (
            "failed",
            Some(d.code),
            Some(d.decline_code),
            Some(d.message),
        ),
        None => ("succeeded", None, None, None),
    };
    let capture_before = a.decline.is_none().then_some(ctx.now + HOLD_SECS);
    tx.execute(
        "INSERT INTO psp_charges (id, payment_intent, payment_method, customer, amount, currency, status,
             failure_code, decline_code, failure_message, capture_before, three_d_secure, transfer_group,
             description, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            id,
            a.intent,
            a.payment_method,
            a.customer,
            a.amount,
            a.currency,
            status,
            code,
            decline_code,
            message,
            capture_before,
            a.three_d_secure,
            a.transfer_group,
            a.description,
            ctx.now
        ],
    )?;
    let kind = if a.decline.is_some() {
        "charge.failed"
    } else {
        "charge.succeeded"
    };
    emit(tx, ctx, kind, &charge_json(tx, &id, &[])?, None)?;
    Ok(id)
}

/// Captures `amount` of an authorized charge: one ledger movement from the card network to the
/// platform's balance, less the PSP's card fee. Emits `charge.captured`. Returns the `txn_…`.
pub(super) fn capture(
    tx: &Connection,
    ctx: &Ctx,
    charge: &str,
    amount: i64,
) -> Result<String, ApiError> {
    let (currency, transfer_group, captured): (String, Option<String>, bool) = tx.query_row(
        "SELECT currency, transfer_group, captured FROM psp_charges WHERE id = ?1",
        [charge],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if captured {
        return Err(ApiError::internal("charge captured twice"));
    }
    let txns = balance::post(
        tx,
        ctx,
        &Movement {
            kind: "charge",
            source: charge,
            description: Some("Card payment"),
            entries: &[
                Entry::new("external:card_network", -amount, &currency),
                Entry::new(PLATFORM_ACCOUNT, amount, &currency),
            ],
            fee: Some(Fee {
                account: PLATFORM_ACCOUNT.into(),
                amount_minor: card_fee(amount),
            }),
            transfer_group: transfer_group.as_deref(),
        },
    )?;
    let txn = txns
        .first()
        .cloned()
        .ok_or_else(|| ApiError::internal("charge without balance transaction"))?;
    tx.execute(
        "UPDATE psp_charges SET captured = 1, amount_captured = ?2, balance_transaction = ?3 WHERE id = ?1",
        params![charge, amount, txn],
    )?;
    emit(
        tx,
        ctx,
        "charge.captured",
        &charge_json(tx, charge, &[])?,
        None,
    )?;
    Ok(txn)
}

/// Releases an authorized charge that will not be captured: canceled (`charge.refunded`, the
/// whole amount given back) or past its hold (`charge.expired`).
pub(super) fn release(
    tx: &Connection,
    ctx: &Ctx,
    charge: &str,
    expired: bool,
) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE psp_charges SET refunded = 1, amount_refunded = amount WHERE id = ?1 AND captured = 0 AND status = 'succeeded'",
        [charge],
    )?;
    let kind = if expired {
        "charge.expired"
    } else {
        "charge.refunded"
    };
    emit(tx, ctx, kind, &charge_json(tx, charge, &[])?, None)?;
    Ok(())
}

/// A charge as Stripe renders it; `expand` may hold `balance_transaction`.
pub fn charge_json(conn: &Connection, id: &str, expand: &[String]) -> Result<Value, ApiError> {
    let doc = conn
        .query_row(
            "SELECT id, payment_intent, payment_method, customer, amount, amount_captured, amount_refunded,
                    currency, status, captured, refunded, failure_code, decline_code, failure_message,
                    balance_transaction, capture_before, three_d_secure, transfer_group, description, created
             FROM psp_charges WHERE id = ?1",
            [id],
            |r| {
                let status: String = r.get(8)?;
                let decline_code: Option<String> = r.get(12)?;
                let failed = status == "failed";
                Ok((
                    json!({
                        "id": r.get::<_, String>(0)?,
                        "object": "charge",
                        "amount": r.get::<_, i64>(4)?,
                        "amount_captured": r.get::<_, i64>(5)?,
                        "amount_refunded": r.get::<_, i64>(6)?,
                        "balance_transaction": r.get::<_, Option<String>>(14)?,
                        "captured": r.get::<_, bool>(9)?,
                        "created": r.get::<_, i64>(19)?,
                        "currency": r.get::<_, String>(7)?,
                        "customer": r.get::<_, Option<String>>(3)?,
                        "description": r.get::<_, Option<String>>(18)?,
                        "disputed": false,
                        "failure_code": r.get::<_, Option<String>>(11)?,
                        "failure_message": r.get::<_, Option<String>>(13)?,
                        "livemode": false,
                        "metadata": {},
                        "outcome": {
                            "network_status": if failed { "declined_by_network" } else { "approved_by_network" },
                            "reason": decline_code,
                            "risk_level": "normal",
                            "seller_message": if failed { "The bank did not return any further details with this decline." } else { "Payment complete." },
                            "type": if failed { "issuer_declined" } else { "authorized" },
                        },
                        "paid": !failed,
                        "payment_intent": r.get::<_, String>(1)?,
                        "payment_method": r.get::<_, String>(2)?,
                        "refunded": r.get::<_, bool>(10)?,
                        "status": status,
                        "transfer_group": r.get::<_, Option<String>>(17)?,
                    }),
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<i64>>(15)?,
                    r.get::<_, bool>(16)?,
                ))
            },
        )
        .optional()?;
    let Some((mut doc, pm, capture_before, three_ds)) = doc else {
        return Err(missing("charge", "id", id));
    };
    let method = payment_method_json(conn, &pm)?;
    let mut card = method["card"].clone();
    if let Some(obj) = card.as_object_mut() {
        obj.insert("capture_before".into(), json!(capture_before));
        obj.insert("network".into(), method["card"]["brand"].clone());
        obj.insert(
            "three_d_secure".into(),
            if three_ds {
                json!({ "authentication_flow": "challenge", "result": "authenticated", "version": "2.2.0" })
            } else {
                Value::Null
            },
        );
        obj.remove("networks");
        obj.remove("three_d_secure_usage");
        obj.remove("generated_from");
        obj.remove("display_brand");
    }
    doc["payment_method_details"] = json!({ "card": card, "type": "card" });
    doc["billing_details"] = method["billing_details"].clone();
    for field in expand {
        match field.as_str() {
            "balance_transaction" => {
                if let Some(txn) = doc["balance_transaction"].as_str().map(str::to_owned) {
                    doc["balance_transaction"] =
                        balance::balance_transaction_json(conn, PLATFORM_ACCOUNT, &txn)?;
                }
            }
            other => {
                return Err(super::form::invalid(
                    "expand",
                    format!(
                    "This property cannot be expanded ({other}). Expandable: balance_transaction."
                ),
                ))
            }
        }
    }
    Ok(doc)
}

// ------------------------------------------------------------------- endpoints

/// The charge endpoints (read only: charges are made by PaymentIntents).
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/charges", get(list))
        .route("/v1/charges/{id}", get(retrieve))
}

fn read_expand(f: &mut super::form::Fields, prefix: &str) -> Result<Vec<String>, ApiError> {
    let expand = f.expand()?;
    expand
        .into_iter()
        .map(|e| {
            e.strip_prefix(prefix).map(str::to_owned).ok_or_else(|| {
                super::form::invalid("expand", format!("This property cannot be expanded ({e})."))
            })
        })
        .collect()
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let expand = read_expand(&mut f, "")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| charge_json(conn, &id, &expand))
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let intent = f.str("payment_intent")?;
    let customer = f.str("customer")?;
    let transfer_group = f.str("transfer_group")?;
    let expand = read_expand(&mut f, "data.")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_charges",
                "(?1 IS NULL OR payment_intent = ?1) AND (?2 IS NULL OR customer = ?2) AND (?3 IS NULL OR transfer_group = ?3)",
                &[&intent, &customer, &transfer_group],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| charge_json(conn, id, &expand))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/charges"))
        })
        .await?;
    Ok(Json(doc))
}
