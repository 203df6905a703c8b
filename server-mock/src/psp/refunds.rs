//! Refunds (`re_…`), as Stripe's `/v1/refunds`: money given back, for a captured card charge
//! (`charge` or `payment_intent`) or for an incoming SEPA credit (`bank_transfers.rs`: an
//! overpayment sent back to the debtor's account, or a credit returned from review).
//!
//! Every refund that succeeds is one ledger movement of type `refund` (`balance.rs`): from the
//! platform's payments balance back to `external:card_network` for a card, or to
//! `external:bank` for a transfer, so the balance transaction's `amount` and `net` are negative.
//! As with Stripe, the card fee is not given back and a refund may take the balance below zero.
//! Bad input gets Stripe's errors: `amount_too_large` past what was captured and not yet
//! refunded, `charge_already_refunded` when nothing is left, `charge_not_refundable` for an
//! authorization never captured (cancel the PaymentIntent instead).
//!
//! A bank transfer refund's `destination_details` is `{type: "eu_bank_transfer",
//! eu_bank_transfer: {reference, reference_status, iban_last4}}` (Stripe's shape for bank
//! refunds, `iban_last4` the mock's addition) and it names its credit in `bank_transfer` (the
//! mock's field). Without a debtor IBAN the refund waits in `requires_action`, as Stripe's bank
//! refunds wait for the customer's bank details: no money moves until then.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;

use super::balance::{self, Entry, PLATFORM_ACCOUNT};
use super::charges::charge_json;
use super::events::emit;
use super::form::invalid;
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// Stripe's refund reasons.
pub const REASONS: &[&str] = &["duplicate", "fraudulent", "requested_by_customer"];

/// The refunds table (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_refunds (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        amount              INTEGER NOT NULL CHECK (amount > 0),
        currency            TEXT NOT NULL,
        charge              TEXT REFERENCES psp_charges(id),
        payment_intent      TEXT,
        bank_transfer       TEXT,
        reason              TEXT CHECK (reason IN ('duplicate', 'fraudulent', 'requested_by_customer')),
        status              TEXT NOT NULL CHECK (status IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled')),
        destination_type    TEXT NOT NULL CHECK (destination_type IN ('card', 'eu_bank_transfer')),
        iban_last4          TEXT,
        reference           TEXT NOT NULL,
        balance_transaction TEXT,
        description         TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        created             INTEGER NOT NULL,
        -- A refund gives back a card charge or a bank transfer, never both or neither.
        CHECK ((charge IS NULL) <> (bank_transfer IS NULL))
    );
    CREATE INDEX psp_refunds_charge ON psp_refunds (charge, seq) WHERE charge IS NOT NULL;
    CREATE INDEX psp_refunds_intent ON psp_refunds (payment_intent, seq) WHERE payment_intent IS NOT NULL;
    CREATE INDEX psp_refunds_transfer ON psp_refunds (bank_transfer, seq) WHERE bank_transfer IS NOT NULL;
"#;

/// What a refund is for.
#[derive(Debug, Clone)]
pub struct NewRefund {
    /// Minor units; `None`: everything left.
    pub amount: Option<i64>,
    /// One of [`REASONS`].
    pub reason: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
}

/// A reference the receiving bank shows (Stripe's acquirer reference number, or the SEPA
/// return's reference): 16 random digits.
fn reference() -> String {
    format!("{}{}", random::numeric_code(8), random::numeric_code(8))
}

fn euros(minor: i64) -> String {
    format!("€{}.{:02}", minor / 100, minor % 100)
}

/// Refunds `amount` (all that is left when `None`) of a captured charge: the charge's
/// `amount_refunded` grows (compare-and-set on what was left), one `refund` movement goes back
/// to the card network, `charge.refunded` and `refund.created` are emitted. Returns the `re_…`.
pub fn refund_charge(
    tx: &Connection,
    ctx: &Ctx,
    charge: &str,
    r: NewRefund,
) -> Result<String, ApiError> {
    let row: Option<(String, bool, String, i64, i64, String)> = tx
        .query_row(
            "SELECT payment_intent, captured, status, amount_captured, amount_refunded, currency
             FROM psp_charges WHERE id = ?1",
            [charge],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let Some((intent, captured, status, captured_amount, refunded, currency)) = row else {
        return Err(missing("charge", "charge", charge));
    };
    if status != "succeeded" || !captured {
        return Err(refuse(
            "charge_not_refundable",
            Some("charge"),
            format!(
                "Charge {charge} has not been captured and cannot be refunded: cancel its PaymentIntent ({intent}) to release the authorization instead."
            ),
        ));
    }
    let left = captured_amount - refunded;
    if left <= 0 {
        return Err(refuse(
            "charge_already_refunded",
            Some("charge"),
            format!("Charge {charge} has already been refunded."),
        ));
    }
    let amount = r.amount.unwrap_or(left);
    balance::check_amount(amount, "amount")?;
    if amount > left {
        return Err(refuse(
            "amount_too_large",
            Some("amount"),
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
                euros(amount),
                euros(left)
            ),
        ));
    }
    let changed = tx.execute(
        "UPDATE psp_charges SET amount_refunded = amount_refunded + ?2,
             refunded = (amount_refunded + ?2 = amount_captured)
         WHERE id = ?1 AND amount_captured - amount_refunded = ?3",
        params![charge, amount, left],
    )?;
    if changed != 1 {
        return Err(ApiError::internal("charge changed during its refund"));
    }
    let id = random::id("re");
    let txn = post_refund(tx, ctx, &id, "external:card_network", amount, &currency)?;
    tx.execute(
        "INSERT INTO psp_refunds (id, amount, currency, charge, payment_intent, reason, status,
             destination_type, reference, balance_transaction, metadata, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'succeeded', 'card', ?7, ?8, ?9, ?10)",
        params![
            id,
            amount,
            currency,
            charge,
            intent,
            r.reason,
            reference(),
            txn,
            Value::Object(r.metadata).to_string(),
            ctx.now
        ],
    )?;
    emit(
        tx,
        ctx,
        "charge.refunded",
        &charge_json(tx, charge, &[])?,
        None,
    )?;
    emit(tx, ctx, "refund.created", &refund_json(tx, &id)?, None)?;
    Ok(id)
}

/// The debtor a bank transfer refund goes back to.
#[derive(Debug, Clone)]
pub struct Debtor<'a> {
    /// `sct_…`: the incoming credit refunded.
    pub bank_transfer: &'a str,
    /// The account the refund leaves (the one the credit was booked to).
    pub from_account: &'a str,
    /// The debtor's IBAN; without it the refund waits (`requires_action`).
    pub iban: Option<&'a str>,
    /// `eur`.
    pub currency: &'a str,
}

/// Refunds `amount` of an incoming credit to its debtor (an overpayment, or a credit returned
/// from review): one `refund` movement from `from_account` to `external:bank` when the debtor's
/// IBAN is known (`succeeded`), else a `requires_action` refund and no movement yet. Emits
/// `refund.created`. Returns the `re_…`.
pub fn refund_bank_transfer(
    tx: &Connection,
    ctx: &Ctx,
    debtor: Debtor<'_>,
    amount: i64,
    reason: Option<&str>,
    description: &str,
) -> Result<String, ApiError> {
    balance::check_amount(amount, "amount")?;
    let id = random::id("re");
    let (status, txn) = match debtor.iban {
        Some(_) => (
            "succeeded",
            post_refund_from(
                tx,
                ctx,
                &id,
                debtor.from_account,
                "external:bank",
                amount,
                debtor.currency,
            )?,
        ),
        None => ("requires_action", None),
    };
    let last4 = debtor.iban.map(|i| {
        i.chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
    });
    tx.execute(
        "INSERT INTO psp_refunds (id, amount, currency, bank_transfer, reason, status, destination_type,
             iban_last4, reference, balance_transaction, description, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'eu_bank_transfer', ?7, ?8, ?9, ?10, ?11)",
        params![
            id,
            amount,
            debtor.currency,
            debtor.bank_transfer,
            reason,
            status,
            last4,
            reference(),
            txn,
            description,
            ctx.now
        ],
    )?;
    emit(tx, ctx, "refund.created", &refund_json(tx, &id)?, None)?;
    Ok(id)
}

fn post_refund(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    to: &str,
    amount: i64,
    currency: &str,
) -> Result<Option<String>, ApiError> {
    post_refund_from(tx, ctx, id, PLATFORM_ACCOUNT, to, amount, currency)
}

fn post_refund_from(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    from: &str,
    to: &str,
    amount: i64,
    currency: &str,
) -> Result<Option<String>, ApiError> {
    let txns = balance::post_movement(
        tx,
        ctx,
        &[
            Entry::new(from, -amount, currency),
            Entry::new(to, amount, currency),
        ],
        "refund",
        id,
        Some("Refund"),
    )?;
    Ok(txns.into_iter().next())
}

/// A refund as Stripe renders it.
pub fn refund_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.prepare_cached(
        "SELECT id, amount, currency, charge, payment_intent, bank_transfer, reason, status,
                destination_type, iban_last4, reference, balance_transaction, description, metadata, created
         FROM psp_refunds WHERE id = ?1",
    )?
    .query_row([id], |r| {
        let kind: String = r.get(8)?;
        let status: String = r.get(7)?;
        let reference: String = r.get(10)?;
        let reference_status = if status == "succeeded" { "available" } else { "pending" };
        let destination = if kind == "card" {
            json!({ "type": "card", "card": {
                "reference": reference,
                "reference_status": reference_status,
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            }})
        } else {
            json!({ "type": "eu_bank_transfer", "eu_bank_transfer": {
                "reference": reference,
                "reference_status": reference_status,
                "iban_last4": r.get::<_, Option<String>>(9)?,
            }})
        };
        Ok(json!({
            "id": r.get::<_, String>(0)?,
            "object": "refund",
            "amount": r.get::<_, i64>(1)?,
            "balance_transaction": r.get::<_, Option<String>>(11)?,
            "bank_transfer": r.get::<_, Option<String>>(5)?,
            "charge": r.get::<_, Option<String>>(3)?,
            "created": r.get::<_, i64>(14)?,
            "currency": r.get::<_, String>(2)?,
            "description": r.get::<_, Option<String>>(12)?,
            "destination_details": destination,
            "metadata": parse_json(&r.get::<_, String>(13)?),
            "payment_intent": r.get::<_, Option<String>>(4)?,
            "reason": r.get::<_, Option<String>>(6)?,
            "receipt_number": Value::Null,
            "source_transfer_reversal": Value::Null,
            "status": status,
            "transfer_reversal": Value::Null,
        }))
    })
    .optional()?
    .ok_or_else(|| missing("refund", "id", id))
}

// ------------------------------------------------------------------- endpoints

/// The refund routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/refunds", post(create).get(list))
        .route("/v1/refunds/{id}", get(retrieve))
}

/// The charge a refund request names: `charge`, or the latest charge of `payment_intent`; both
/// must agree when both are given.
fn target_charge(
    conn: &Connection,
    charge: Option<String>,
    intent: Option<String>,
) -> Result<String, ApiError> {
    let of_intent = match &intent {
        Some(pi) => {
            let row: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT status, latest_charge FROM psp_payment_intents WHERE id = ?1",
                    [pi],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((status, latest)) = row else {
                return Err(missing("payment_intent", "payment_intent", pi));
            };
            match (status.as_str(), latest) {
                ("succeeded", Some(ch)) => Some(ch),
                ("requires_capture", _) => {
                    return Err(refuse(
                        "charge_not_refundable",
                        Some("payment_intent"),
                        format!("PaymentIntent {pi} has not been captured: cancel it to release the authorization instead of refunding it."),
                    ))
                }
                (status, _) => {
                    return Err(refuse(
                        "charge_not_refundable",
                        Some("payment_intent"),
                        format!("PaymentIntent {pi} has no successful charge to refund (its status is {status})."),
                    ))
                }
            }
        }
        None => None,
    };
    match (charge, of_intent) {
        (Some(c), Some(i)) if c != i => Err(invalid(
            "charge",
            format!(
                "Charge {c} does not belong to PaymentIntent {}.",
                intent.unwrap_or_default()
            ),
        )),
        (Some(c), _) => Ok(c),
        (None, Some(i)) => Ok(i),
        (None, None) => Err(invalid(
            "charge",
            "Missing required param: one of charge or payment_intent.",
        )),
    }
}

fn read_id(
    f: &mut super::form::Fields,
    key: &str,
    prefix: &str,
) -> Result<Option<String>, ApiError> {
    let v = f.str(key)?;
    if let Some(v) = &v {
        if v.len() > 255 || !v.starts_with(prefix) {
            return Err(invalid(
                key,
                format!("Invalid {key}: expected an id starting with {prefix}."),
            ));
        }
    }
    Ok(v)
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let charge = read_id(&mut f, "charge", "ch_")?;
    let intent = read_id(&mut f, "payment_intent", "pi_")?;
    let amount = f.int("amount")?;
    if let Some(a) = amount {
        balance::check_amount(a, "amount").map_err(ApiError::not_executed)?;
    }
    let reason = f.one_of("reason", REASONS)?;
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let charge = target_charge(tx, charge, intent)?;
            let id = refund_charge(
                tx,
                &ctx,
                &charge,
                NewRefund {
                    amount,
                    reason,
                    metadata,
                },
            )?;
            refund_json(tx, &id)
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
    query_fields(&uri)?.finish()?;
    let doc = state.db.call(move |conn| refund_json(conn, &id)).await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let charge = read_id(&mut f, "charge", "ch_")?;
    let intent = read_id(&mut f, "payment_intent", "pi_")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_refunds",
                "(?1 IS NULL OR charge = ?1) AND (?2 IS NULL OR payment_intent = ?2)",
                &[&charge, &intent],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| refund_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/refunds"))
        })
        .await?;
    Ok(Json(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_sixteen_digits() {
        let r = reference();
        assert_eq!(r.len(), 16, "{r}");
        assert!(r.bytes().all(|b| b.is_ascii_digit()));
        assert_ne!(reference(), r);
    }

    #[test]
    fn amounts_in_messages_are_euros() {
        assert_eq!(euros(2500), "€25.00");
        assert_eq!(euros(5), "€0.05");
    }
}
