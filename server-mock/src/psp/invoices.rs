//! Invoices (`in_…`), shaped as stripe-python and stripe-node type them: a draft gathers invoice
//! items (`ii_…`, `invoice_items.rs`), `/finalize` numbers it, makes its hosted link and its RF
//! creditor reference, and it is then immutable (corrections are credit notes, `cn_…`,
//! `credit_notes.rs`). The state machine and arithmetic are pure, in `invoice_rules.rs`.
//!
//! # For the rest of the mock (stable signatures)
//!
//! - [`apply_payment`]`(tx, invoice_id, amount, source, now) -> Result<Applied, ApiError>`:
//!   money that has arrived for an invoice (a SEPA transfer, a captured card). Compare-and-set
//!   on the status and amounts read; a part payment lowers `amount_remaining`, the invoice is
//!   `paid` at zero, anything beyond goes to `amount_overpaid` (and `Applied::overpaid`) for the
//!   caller to refund. It accepts an open, uncollectible or already paid invoice (a transfer
//!   after a card payment is wholly overpaid); a draft or a void one is refused
//!   (`invoice_unexpected_state`) and nothing is written. The same source (`PaymentSource`
//!   with an id) applied twice is applied once: the second call answers the first's `Applied`.
//!   Emits `invoice.updated` (with `previous_attributes`), `invoice.payment_succeeded`,
//!   `invoice.paid`, `invoice.overpaid` in the caller's transaction.
//! - [`find_by_reference`]`(conn, rf) -> Option<String>`: the invoice whose RF creditor
//!   reference this is, spaces and case tolerated; `None` when the checksum fails or nothing
//!   matches (the caller sends such a transfer to review, never guesses).
//!
//! At most one active payment attempt per invoice: a PaymentIntent made for an invoice carries
//! `invoice`, and a partial unique index refuses a second one that is not canceled.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;
use tierspay_core::domain::rf_reference::RfReference;

use super::events::{emit, emit_update};
use super::form::{invalid, Fields};
use super::invoice_rules::{self as rules, Amounts, PayMode, Status};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::payment_intents::{bool_param, text};
use super::payment_methods::FINGERPRINT_PURPOSE;
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The invoice tables (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_invoices (
        seq                   INTEGER PRIMARY KEY,
        id                    TEXT NOT NULL UNIQUE,
        account               TEXT NOT NULL,
        customer              TEXT NOT NULL REFERENCES psp_customers(id),
        status                TEXT NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
        number                TEXT UNIQUE,
        currency              TEXT NOT NULL,
        collection_method     TEXT NOT NULL CHECK (collection_method IN ('send_invoice')),
        days_until_due        INTEGER,
        due_date              INTEGER,
        description           TEXT,
        footer                TEXT,
        total                 INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
        pre_payment_credit    INTEGER NOT NULL DEFAULT 0 CHECK (pre_payment_credit >= 0),
        post_payment_credit   INTEGER NOT NULL DEFAULT 0 CHECK (post_payment_credit >= 0),
        amount_paid           INTEGER NOT NULL DEFAULT 0 CHECK (amount_paid >= 0),
        amount_overpaid       INTEGER NOT NULL DEFAULT 0 CHECK (amount_overpaid >= 0),
        paid_out_of_band      INTEGER NOT NULL DEFAULT 0,
        rf_reference          TEXT UNIQUE,
        hosted_url            TEXT,
        hosted_token_hash     TEXT UNIQUE,
        transfer_destination  TEXT,
        on_behalf_of          TEXT,
        metadata              TEXT NOT NULL DEFAULT '{}',
        finalized_at          INTEGER,
        marked_uncollectible_at INTEGER,
        paid_at               INTEGER,
        voided_at             INTEGER,
        created               INTEGER NOT NULL,
        -- What remains is never negative: money beyond it is amount_overpaid.
        CHECK (amount_paid + pre_payment_credit <= total),
        CHECK (pre_payment_credit + post_payment_credit <= total),
        CHECK (status = 'draft' OR number IS NOT NULL)
    );
    CREATE INDEX psp_invoices_customer ON psp_invoices (customer, seq);
    CREATE INDEX psp_invoices_status ON psp_invoices (status, seq);
    -- A finalized invoice's lines and total never change (corrections are credit notes).
    CREATE TRIGGER psp_invoices_immutable BEFORE UPDATE OF total, currency, customer ON psp_invoices
        WHEN OLD.status <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'finalized invoice is immutable'); END;

    CREATE TABLE psp_invoice_numbering (
        account TEXT PRIMARY KEY,
        prefix  TEXT NOT NULL UNIQUE,
        next    INTEGER NOT NULL
    );

    CREATE TABLE psp_invoice_items (
        seq          INTEGER PRIMARY KEY,
        id           TEXT NOT NULL UNIQUE,
        line_id      TEXT UNIQUE,
        customer     TEXT NOT NULL REFERENCES psp_customers(id),
        invoice      TEXT REFERENCES psp_invoices(id),
        amount       INTEGER NOT NULL CHECK (amount > 0),
        currency     TEXT NOT NULL,
        description  TEXT,
        quantity     INTEGER NOT NULL DEFAULT 1,
        unit_amount  INTEGER NOT NULL,
        period_start INTEGER NOT NULL,
        period_end   INTEGER NOT NULL,
        metadata     TEXT NOT NULL DEFAULT '{}',
        created      INTEGER NOT NULL
    );
    CREATE INDEX psp_invoice_items_invoice ON psp_invoice_items (invoice, seq);
    CREATE INDEX psp_invoice_items_pending ON psp_invoice_items (customer, seq) WHERE invoice IS NULL;
    CREATE TRIGGER psp_invoice_items_frozen BEFORE UPDATE ON psp_invoice_items
        WHEN OLD.invoice IS NOT NULL
             AND (SELECT status FROM psp_invoices WHERE id = OLD.invoice) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'invoice item of a finalized invoice'); END;
    CREATE TRIGGER psp_invoice_items_kept BEFORE DELETE ON psp_invoice_items
        WHEN OLD.invoice IS NOT NULL
             AND (SELECT status FROM psp_invoices WHERE id = OLD.invoice) <> 'draft'
        BEGIN SELECT RAISE(ABORT, 'invoice item of a finalized invoice'); END;

    -- Every payment applied to an invoice, with what it lowered and what it overpaid.
    CREATE TABLE psp_invoice_payments (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        invoice     TEXT NOT NULL REFERENCES psp_invoices(id),
        source_kind TEXT NOT NULL CHECK (source_kind IN ('out_of_band', 'payment_intent', 'bank_transfer')),
        source_id   TEXT,
        amount      INTEGER NOT NULL CHECK (amount > 0),
        applied     INTEGER NOT NULL CHECK (applied >= 0),
        overpaid    INTEGER NOT NULL CHECK (overpaid >= 0),
        created     INTEGER NOT NULL,
        CHECK (applied + overpaid = amount)
    );
    CREATE INDEX psp_invoice_payments_invoice ON psp_invoice_payments (invoice, seq);
    CREATE UNIQUE INDEX psp_invoice_payments_source ON psp_invoice_payments (source_kind, source_id)
        WHERE source_id IS NOT NULL;

    -- At most one live payment attempt per invoice: a second intent for the same invoice is
    -- refused by the schema unless the first was canceled.
    ALTER TABLE psp_payment_intents ADD COLUMN invoice TEXT;
    CREATE UNIQUE INDEX psp_payment_intents_one_per_invoice ON psp_payment_intents (invoice)
        WHERE invoice IS NOT NULL AND status <> 'canceled';
"#;

/// Most lines an invoice holds (Stripe's limit).
pub const MAX_LINES: i64 = 250;

// ------------------------------------------------------------------- for other modules

/// Where money applied to an invoice came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentSource {
    /// Paid outside the PSP (`paid_out_of_band=true`): no money moved through the ledger.
    OutOfBand,
    /// A PaymentIntent (`pi_…`) that succeeded for this invoice.
    PaymentIntent(String),
    /// An incoming SEPA credit transfer, by its id at the PSP.
    BankTransfer(String),
}

impl PaymentSource {
    fn kind(&self) -> &'static str {
        match self {
            Self::OutOfBand => "out_of_band",
            Self::PaymentIntent(_) => "payment_intent",
            Self::BankTransfer(_) => "bank_transfer",
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Self::OutOfBand => None,
            Self::PaymentIntent(id) | Self::BankTransfer(id) => Some(id),
        }
    }
}

/// What [`apply_payment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `in_…`
    pub invoice: String,
    /// The invoice payment's id (`inpay_…`).
    pub payment: String,
    /// What lowered `amount_remaining`.
    pub applied: i64,
    /// Beyond what remained: added to `amount_overpaid`, for the caller to refund.
    pub overpaid: i64,
    /// `amount_remaining` after it.
    pub amount_remaining: i64,
    /// The invoice's status after it.
    pub status: Status,
    /// This payment made the invoice paid.
    pub settled: bool,
}

/// Applies money that has arrived for `invoice_id` (see the module's documentation).
pub(crate) fn apply_payment(
    tx: &Connection,
    invoice_id: &str,
    amount: i64,
    source: PaymentSource,
    now: i64,
) -> Result<Applied, ApiError> {
    apply(
        tx,
        &Ctx::at(now),
        invoice_id,
        amount,
        source,
        PayMode::Received,
    )
}

/// The invoice whose RF reference `rf` is (spaces and case tolerated, checksum verified).
pub(crate) fn find_by_reference(conn: &Connection, rf: &str) -> Option<String> {
    let rf = RfReference::parse(rf).ok()?;
    conn.prepare_cached("SELECT id FROM psp_invoices WHERE rf_reference = ?1")
        .ok()?
        .query_row([rf.as_str()], |r| r.get(0))
        .optional()
        .ok()
        .flatten()
}

// ------------------------------------------------------------------- rows

/// What the operations read of an invoice.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub id: String,
    pub customer: String,
    pub status: Status,
    pub currency: String,
    pub amounts: Amounts,
    pub number: Option<String>,
}

pub(super) fn row(conn: &Connection, id: &str, param: &str) -> Result<Row, ApiError> {
    conn.prepare_cached(
        "SELECT id, customer, status, currency, total, pre_payment_credit, post_payment_credit,
                amount_paid, amount_overpaid, number
         FROM psp_invoices WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(Row {
            id: r.get(0)?,
            customer: r.get(1)?,
            status: Status::parse(&r.get::<_, String>(2)?).unwrap_or(Status::Void),
            currency: r.get(3)?,
            amounts: Amounts {
                total: r.get(4)?,
                pre_payment_credit: r.get(5)?,
                post_payment_credit: r.get(6)?,
                paid: r.get(7)?,
                overpaid: r.get(8)?,
            },
            number: r.get(9)?,
        })
    })
    .optional()?
    .ok_or_else(|| missing("invoice", param, id))
}

/// A rule's refusal as Stripe's 400.
pub(super) fn refused(r: rules::Refusal, param: Option<&str>) -> ApiError {
    refuse(r.code, param, r.message)
}

/// Writes new amounts and status if the row still holds what `before` read (compare-and-set):
/// a concurrent change makes this a 409 and the caller's transaction rolls back.
pub(super) fn store_amounts(
    tx: &Connection,
    before: &Row,
    amounts: Amounts,
    status: Status,
    now: i64,
) -> Result<(), ApiError> {
    let changed = tx
        .prepare_cached(
            "UPDATE psp_invoices SET status = ?2, pre_payment_credit = ?3, post_payment_credit = ?4,
                 amount_paid = ?5, amount_overpaid = ?6,
                 paid_at = CASE WHEN ?2 = 'paid' AND status <> 'paid' THEN ?7 ELSE paid_at END
             WHERE id = ?1 AND status = ?8 AND amount_paid = ?9 AND amount_overpaid = ?10
                   AND pre_payment_credit = ?11 AND post_payment_credit = ?12",
        )?
        .execute(params![
            before.id,
            status.as_str(),
            amounts.pre_payment_credit,
            amounts.post_payment_credit,
            amounts.paid,
            amounts.overpaid,
            now,
            before.status.as_str(),
            before.amounts.paid,
            before.amounts.overpaid,
            before.amounts.pre_payment_credit,
            before.amounts.post_payment_credit,
        ])?;
    if changed != 1 {
        let mut e = ApiError::invalid(
            "invoice_changed",
            "The invoice changed while this request ran; retry it.",
        );
        e.status = StatusCode::CONFLICT;
        return Err(e);
    }
    Ok(())
}

/// Applies a payment through the rules, records it, and emits its events.
pub(super) fn apply(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: &str,
    amount: i64,
    source: PaymentSource,
    mode: PayMode,
) -> Result<Applied, ApiError> {
    if let Some(source_id) = source.id() {
        if let Some(earlier) = earlier_payment(tx, source.kind(), source_id)? {
            return Ok(earlier);
        }
    }
    let before_row = row(tx, invoice_id, "invoice")?;
    let (amounts, status, p) = rules::pay(before_row.status, before_row.amounts, amount, mode)
        .map_err(|r| {
            let param = r.code.starts_with("amount").then_some("amount");
            refused(r, param)
        })?;
    let before = invoice_json(tx, invoice_id)?;
    store_amounts(tx, &before_row, amounts, status, ctx.now)?;
    if source == PaymentSource::OutOfBand && p.settled {
        tx.execute(
            "UPDATE psp_invoices SET paid_out_of_band = 1 WHERE id = ?1",
            [invoice_id],
        )?;
    }
    let payment = random::id("inpay");
    tx.prepare_cached(
        "INSERT INTO psp_invoice_payments (id, invoice, source_kind, source_id, amount, applied, overpaid, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        payment,
        invoice_id,
        source.kind(),
        source.id(),
        amount,
        p.applied,
        p.overpaid,
        ctx.now
    ])?;
    let after = invoice_json(tx, invoice_id)?;
    emit_update(tx, ctx, "invoice", &before, &after)?;
    if p.applied > 0 {
        emit(tx, ctx, "invoice.payment_succeeded", &after, None)?;
    }
    if p.settled {
        emit(tx, ctx, "invoice.paid", &after, None)?;
    }
    if p.overpaid > 0 {
        emit(tx, ctx, "invoice.overpaid", &after, None)?;
    }
    Ok(Applied {
        invoice: invoice_id.to_owned(),
        payment,
        applied: p.applied,
        overpaid: p.overpaid,
        amount_remaining: amounts.remaining(),
        status,
        settled: p.settled,
    })
}

fn earlier_payment(
    conn: &Connection,
    kind: &str,
    source_id: &str,
) -> Result<Option<Applied>, ApiError> {
    let found: Option<(String, String, i64, i64)> = conn
        .prepare_cached(
            "SELECT id, invoice, applied, overpaid FROM psp_invoice_payments
             WHERE source_kind = ?1 AND source_id = ?2",
        )?
        .query_row(params![kind, source_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((payment, invoice, applied, overpaid)) = found else {
        return Ok(None);
    };
    let now = row(conn, &invoice, "invoice")?;
    Ok(Some(Applied {
        invoice,
        payment,
        applied,
        overpaid,
        amount_remaining: now.amounts.remaining(),
        status: now.status,
        settled: false,
    }))
}

// ------------------------------------------------------------------- JSON

/// The invoice's lines as Stripe's list of `line_item`s.
fn lines_json(conn: &Connection, invoice: &str) -> Result<Value, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT line_id, id, amount, currency, description, quantity, unit_amount, period_start,
                period_end, metadata
         FROM psp_invoice_items WHERE invoice = ?1 ORDER BY seq",
    )?;
    let data: Vec<Value> = stmt
        .query_map([invoice], |r| {
            let item: String = r.get(1)?;
            Ok(json!({
                "id": r.get::<_, Option<String>>(0)?.unwrap_or_else(|| item.clone()),
                "object": "line_item",
                "amount": r.get::<_, i64>(2)?,
                "amount_excluding_tax": r.get::<_, i64>(2)?,
                "currency": r.get::<_, String>(3)?,
                "description": r.get::<_, Option<String>>(4)?,
                "discount_amounts": [],
                "discountable": true,
                "discounts": [],
                "invoice": invoice,
                "invoice_item": item,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(9)?),
                "period": { "start": r.get::<_, i64>(7)?, "end": r.get::<_, i64>(8)? },
                "price": Value::Null,
                "proration": false,
                "quantity": r.get::<_, i64>(5)?,
                "tax_amounts": [],
                "tax_rates": [],
                "type": "invoiceitem",
                "unit_amount_excluding_tax": r.get::<_, i64>(6)?.to_string(),
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "total_count": data.len(),
        "url": format!("/v1/invoices/{invoice}/lines"),
    }))
}

/// The invoice's live payment attempt, if any.
pub(super) fn active_intent(conn: &Connection, invoice: &str) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM psp_payment_intents WHERE invoice = ?1 AND status <> 'canceled'",
        )?
        .query_row([invoice], |r| r.get(0))
        .optional()?)
}

/// The invoice a PaymentIntent was made for (its `invoice` field).
pub(super) fn invoice_of_intent(
    conn: &Connection,
    intent: &str,
) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached("SELECT invoice FROM psp_payment_intents WHERE id = ?1")?
        .query_row([intent], |r| r.get(0))
        .optional()?
        .flatten())
}

/// An invoice as Stripe renders it (API version 2024-06-20), plus `rf_reference`, the one
/// field Stripe has no place for (see docs/psp.md).
pub fn invoice_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    let mut doc = conn
        .prepare_cached(
            "SELECT id, account, customer, status, number, currency, days_until_due, due_date,
                    description, footer, total, pre_payment_credit, post_payment_credit, amount_paid,
                    amount_overpaid, paid_out_of_band, rf_reference, vault_open('in:' || id, hosted_url),
                    transfer_destination, on_behalf_of, metadata, finalized_at,
                    marked_uncollectible_at, paid_at, voided_at, created
             FROM psp_invoices WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let total: i64 = r.get(10)?;
            let a = Amounts {
                total,
                pre_payment_credit: r.get(11)?,
                post_payment_credit: r.get(12)?,
                paid: r.get(13)?,
                overpaid: r.get(14)?,
            };
            let status: String = r.get(3)?;
            let rf: Option<String> = r.get(16)?;
            let hosted_url: Option<String> = r.get(17)?;
            let destination: Option<String> = r.get(18)?;
            let customer: String = r.get(2)?;
            let mut doc = json!({
                "id": r.get::<_, String>(0)?,
                "object": "invoice",
                "account_country": "FR",
                "account_name": Value::Null,
                "amount_due": a.due(),
                "amount_paid": a.paid,
                "amount_overpaid": a.overpaid,
                "amount_remaining": a.remaining(),
                "amount_shipping": 0,
                "application": Value::Null,
                "attempt_count": 0,
                "attempted": status != "draft",
                "auto_advance": false,
                "automatic_tax": { "enabled": false, "liability": Value::Null, "status": Value::Null },
                "billing_reason": "manual",
                "collection_method": "send_invoice",
                "created": r.get::<_, i64>(25)?,
                "currency": r.get::<_, String>(5)?,
                "custom_fields": rf.as_ref().map(|rf| json!([{
                    "name": "RF creditor reference",
                    "value": RfReference::parse(rf).map(|x| x.grouped()).unwrap_or_else(|_| rf.clone()),
                }])),
                "customer": customer,
                "days_until_due": r.get::<_, Option<i64>>(6)?,
                "default_payment_method": Value::Null,
                "description": r.get::<_, Option<String>>(8)?,
                "discount": Value::Null,
                "discounts": [],
                "due_date": r.get::<_, Option<i64>>(7)?,
                "effective_at": r.get::<_, Option<i64>>(21)?,
                "ending_balance": if status == "draft" { Value::Null } else { json!(0) },
            });
            // Two halves: one json! of every field passes the macro's recursion limit.
            let rest = json!({
                "footer": r.get::<_, Option<String>>(9)?,
                "hosted_invoice_url": hosted_url,
                "invoice_pdf": Value::Null,
                "issuer": { "type": "self" },
                "last_finalization_error": Value::Null,
                "lines": Value::Null,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(20)?),
                "next_payment_attempt": Value::Null,
                "number": r.get::<_, Option<String>>(4)?,
                "on_behalf_of": r.get::<_, Option<String>>(19)?,
                "paid": status == "paid",
                "paid_out_of_band": r.get::<_, bool>(15)?,
                "payment_intent": Value::Null,
                "payment_settings": {
                    "default_mandate": Value::Null,
                    "payment_method_options": Value::Null,
                    "payment_method_types": Value::Null,
                },
                "period_end": r.get::<_, i64>(25)?,
                "period_start": r.get::<_, i64>(25)?,
                "post_payment_credit_notes_amount": a.post_payment_credit,
                "pre_payment_credit_notes_amount": a.pre_payment_credit,
                "receipt_number": Value::Null,
                "rf_reference": rf,
                "starting_balance": 0,
                "statement_descriptor": Value::Null,
                "status": status,
                "status_transitions": {
                    "finalized_at": r.get::<_, Option<i64>>(21)?,
                    "marked_uncollectible_at": r.get::<_, Option<i64>>(22)?,
                    "paid_at": r.get::<_, Option<i64>>(23)?,
                    "voided_at": r.get::<_, Option<i64>>(24)?,
                },
                "subscription": Value::Null,
                "subtotal": total,
                "subtotal_excluding_tax": total,
                "tax": Value::Null,
                "test_clock": Value::Null,
                "total": total,
                "total_discount_amounts": [],
                "total_excluding_tax": total,
                "total_tax_amounts": [],
                "transfer_data": destination.map(|d| json!({ "amount": Value::Null, "destination": d })),
                "webhooks_delivered_at": Value::Null,
            });
            if let (Value::Object(d), Value::Object(r)) = (&mut doc, rest) {
                d.extend(r);
            }
            Ok(doc)
        })
        .optional()?
        .ok_or_else(|| missing("invoice", "id", id))?;
    doc["lines"] = lines_json(conn, id)?;
    doc["payment_intent"] = json!(active_intent(conn, id)?);
    Ok(doc)
}

// ------------------------------------------------------------------- operations

/// Longest `description` (Stripe's bound) and `footer`.
pub const MAX_DESCRIPTION: usize = 1500;
/// Furthest due date: ten years of business time.
const MAX_DUE_SECS: i64 = 10 * 365 * 86_400;

/// An invoice to create (a draft).
#[derive(Debug, Clone, Default)]
pub struct NewInvoice {
    /// `cus_…`
    pub customer: String,
    /// `eur`.
    pub currency: String,
    /// Due this many days after finalization (1 to 3650).
    pub days_until_due: Option<i64>,
    /// Due at this Unix time (in the future).
    pub due_date: Option<i64>,
    /// Free text shown to the customer.
    pub description: Option<String>,
    /// Free text at the bottom.
    pub footer: Option<String>,
    /// Metadata (the platform's ids).
    pub metadata: serde_json::Map<String, Value>,
    /// Pull the customer's pending invoice items in (`pending_invoice_items_behavior=include`).
    pub include_pending_items: bool,
    /// A connected account (`acct_…`) that receives what is paid, as Stripe's
    /// `transfer_data[destination]`.
    pub transfer_destination: Option<String>,
    /// The connected account the invoice is issued for (`on_behalf_of`).
    pub on_behalf_of: Option<String>,
}

fn check_due(ctx: &Ctx, days: Option<i64>, date: Option<i64>) -> Result<(), ApiError> {
    if days.is_some() && date.is_some() {
        return Err(refuse(
            "parameter_invalid",
            Some("due_date"),
            "You may only specify one of these parameters: days_until_due, due_date.",
        ));
    }
    if let Some(d) = days {
        if !(1..=3650).contains(&d) {
            return Err(refuse(
                "parameter_invalid_integer",
                Some("days_until_due"),
                "days_until_due must be between 1 and 3650.",
            ));
        }
    }
    if let Some(d) = date {
        if d <= ctx.now || d > ctx.now + MAX_DUE_SECS {
            return Err(refuse(
                "parameter_invalid_integer",
                Some("due_date"),
                "due_date must be in the future and within ten years.",
            ));
        }
    }
    Ok(())
}

fn check_connected(tx: &Connection, id: &Option<String>, param: &str) -> Result<(), ApiError> {
    match id {
        Some(a)
            if a == super::balance::PLATFORM_ACCOUNT || !super::balance::account_exists(tx, a)? =>
        {
            Err(missing("account", param, a))
        }
        _ => Ok(()),
    }
}

/// Creates a draft invoice; its id. A `send_invoice` invoice needs `days_until_due` or
/// `due_date`, as with Stripe.
pub fn create_invoice(tx: &Connection, ctx: &Ctx, p: NewInvoice) -> Result<String, ApiError> {
    super::customers::ensure_customer(tx, &p.customer, "customer")?;
    if p.days_until_due.is_none() && p.due_date.is_none() {
        return Err(refuse(
            "parameter_missing",
            Some("days_until_due"),
            "Invoices with collection_method=send_invoice must have either days_until_due or due_date set.",
        ));
    }
    check_due(ctx, p.days_until_due, p.due_date)?;
    check_connected(tx, &p.transfer_destination, "transfer_data[destination]")?;
    check_connected(tx, &p.on_behalf_of, "on_behalf_of")?;
    let id = random::id("in");
    tx.execute(
        "INSERT INTO psp_invoices (id, account, customer, status, currency, collection_method,
             days_until_due, due_date, description, footer, transfer_destination, on_behalf_of,
             metadata, created)
         VALUES (?1, ?2, ?3, 'draft', ?4, 'send_invoice', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            id,
            super::balance::PLATFORM_ACCOUNT,
            p.customer,
            p.currency,
            p.days_until_due,
            p.due_date,
            p.description,
            p.footer,
            p.transfer_destination,
            p.on_behalf_of,
            Value::Object(p.metadata).to_string(),
            ctx.now
        ],
    )?;
    if p.include_pending_items {
        let pending: i64 = tx.query_row(
            "SELECT COUNT(*) FROM psp_invoice_items WHERE customer = ?1 AND invoice IS NULL",
            [&p.customer],
            |r| r.get(0),
        )?;
        if pending > MAX_LINES {
            return Err(refuse(
                "invoice_too_many_lines",
                Some("pending_invoice_items_behavior"),
                format!("An invoice holds at most {MAX_LINES} lines; this customer has {pending} pending invoice items."),
            ));
        }
        let items: Vec<String> = tx
            .prepare(
                "SELECT id FROM psp_invoice_items WHERE customer = ?1 AND invoice IS NULL
                 AND currency = ?2 ORDER BY seq",
            )?
            .query_map(params![p.customer, p.currency], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for item in items {
            attach_item(tx, &id, &item)?;
        }
    }
    recompute_total(tx, &id)?;
    emit(tx, ctx, "invoice.created", &invoice_json(tx, &id)?, None)?;
    Ok(id)
}

/// Puts an invoice item on a draft as one of its lines.
pub(super) fn attach_item(tx: &Connection, invoice: &str, item: &str) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE psp_invoice_items SET invoice = ?2, line_id = ?3 WHERE id = ?1",
        params![item, invoice, random::id("il")],
    )?;
    Ok(())
}

/// Sets a draft's total from its lines; refuses more than [`MAX_LINES`] lines or a total above
/// the largest amount.
pub(super) fn recompute_total(tx: &Connection, invoice: &str) -> Result<(), ApiError> {
    let (count, total): (i64, i64) = tx.query_row(
        "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM psp_invoice_items WHERE invoice = ?1",
        [invoice],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if count > MAX_LINES {
        return Err(refuse(
            "invoice_too_many_lines",
            Some("invoice"),
            format!("An invoice holds at most {MAX_LINES} lines."),
        ));
    }
    if total > super::balance::MAX_AMOUNT {
        return Err(refuse(
            "amount_too_large",
            Some("amount"),
            format!(
                "An invoice's total must be no more than {}.",
                super::balance::MAX_AMOUNT
            ),
        ));
    }
    tx.execute(
        "UPDATE psp_invoices SET total = ?2 WHERE id = ?1 AND status = 'draft'",
        params![invoice, total],
    )?;
    Ok(())
}

/// What an update may change (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct InvoiceChanges {
    /// Free text.
    pub description: Option<String>,
    /// Free text at the bottom.
    pub footer: Option<String>,
    /// Days after finalization.
    pub days_until_due: Option<i64>,
    /// Unix time.
    pub due_date: Option<i64>,
    /// Metadata changes (allowed at any status, as with Stripe).
    pub metadata: Option<super::form::MetadataChanges>,
}

impl InvoiceChanges {
    /// The first field that only a draft may change, for the error's `param`.
    fn draft_only_field(&self) -> Option<&'static str> {
        [
            (self.description.is_some(), "description"),
            (self.footer.is_some(), "footer"),
            (self.days_until_due.is_some(), "days_until_due"),
            (self.due_date.is_some(), "due_date"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }
}

/// Updates an invoice: everything on a draft; on a finalized invoice only its metadata (a
/// finalized invoice is immutable, corrected with credit notes).
pub fn update_invoice(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    c: InvoiceChanges,
) -> Result<(), ApiError> {
    let r = row(tx, id, "id")?;
    if let Some(field) = c.draft_only_field() {
        rules::transition(r.status, rules::Action::Update).map_err(|e| refused(e, Some(field)))?;
    }
    let before = invoice_json(tx, id)?;
    if c.days_until_due.is_some() || c.due_date.is_some() {
        check_due(ctx, c.days_until_due, c.due_date)?;
        // One of the two: setting one clears the other.
        tx.execute(
            "UPDATE psp_invoices SET days_until_due = ?2, due_date = ?3 WHERE id = ?1",
            params![id, c.days_until_due, c.due_date],
        )?;
    }
    for (column, value) in [("description", &c.description), ("footer", &c.footer)] {
        if let Some(v) = value {
            tx.execute(
                &format!("UPDATE psp_invoices SET {column} = ?2 WHERE id = ?1"),
                params![id, (!v.is_empty()).then_some(v)],
            )?;
        }
    }
    if let Some(changes) = c.metadata {
        let mut meta = before["metadata"].as_object().cloned().unwrap_or_default();
        super::form::merge_metadata(&mut meta, changes);
        tx.execute(
            "UPDATE psp_invoices SET metadata = ?2 WHERE id = ?1",
            params![id, Value::Object(meta).to_string()],
        )?;
    }
    emit_update(tx, ctx, "invoice", &before, &invoice_json(tx, id)?)
}

/// The next number of the account's sequence (`PREFIX-0001`) and its RF reference base.
fn next_number(tx: &Connection, account: &str) -> Result<(String, String), ApiError> {
    let found: Option<(String, i64)> = tx
        .query_row(
            "SELECT prefix, next FROM psp_invoice_numbering WHERE account = ?1",
            [account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (prefix, n) = match found {
        Some(f) => f,
        None => {
            // Stripe's prefixes are 3 to 12 letters and digits, unique per account.
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            let prefix: String = random::bytes::<8>()
                .iter()
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            tx.execute(
                "INSERT INTO psp_invoice_numbering (account, prefix, next) VALUES (?1, ?2, 1)",
                params![account, prefix],
            )?;
            (prefix, 1)
        }
    };
    tx.execute(
        "UPDATE psp_invoice_numbering SET next = next + 1 WHERE account = ?1",
        [account],
    )?;
    Ok((format!("{prefix}-{n:04}"), format!("{prefix}{n:04}")))
}

/// Finalizes a draft: its number (the account's next), its RF creditor reference, its hosted
/// link and due date; it is `open` from now on, or `paid` at once when nothing is due.
pub fn finalize_invoice(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let r = row(tx, id, "id")?;
    let next =
        rules::transition(r.status, rules::Action::Finalize).map_err(|e| refused(e, None))?;
    let before = invoice_json(tx, id)?;
    let account: String = tx.query_row(
        "SELECT account FROM psp_invoices WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    let (number, base) = next_number(tx, &account)?;
    let rf = RfReference::make(&base)
        .map_err(|_| ApiError::internal("invoice number is not an RF base"))?;
    // The hosted page's address is a bearer secret: sealed at rest, found by its hash.
    let token = random::secret("test");
    let base_url = ctx.base_url.clone().unwrap_or_default();
    let url = format!("{base_url}/i/{token}");
    let changed = tx.execute(
        "UPDATE psp_invoices SET status = ?2, number = ?3, rf_reference = ?4,
             hosted_url = vault_seal('in:' || id, ?5), hosted_token_hash = ?6, finalized_at = ?7,
             due_date = COALESCE(due_date, ?7 + days_until_due * 86400)
         WHERE id = ?1 AND status = 'draft'",
        params![
            id,
            next.as_str(),
            number,
            rf.as_str(),
            url,
            token_hash(&token),
            ctx.now
        ],
    )?;
    if changed != 1 {
        return Err(ApiError::internal("invoice changed during finalization"));
    }
    let after = invoice_json(tx, id)?;
    emit(tx, ctx, "invoice.finalized", &after, None)?;
    emit_update(tx, ctx, "invoice", &before, &after)?;
    if r.amounts.due() == 0 {
        // Stripe marks a finalized invoice with nothing due paid at once.
        let open = row(tx, id, "id")?;
        store_amounts(tx, &open, open.amounts, Status::Paid, ctx.now)?;
        let paid = invoice_json(tx, id)?;
        emit(tx, ctx, "invoice.paid", &paid, None)?;
        emit_update(tx, ctx, "invoice", &after, &paid)?;
    }
    Ok(())
}

/// The stored hash of a hosted page token.
pub(super) fn token_hash(token: &str) -> String {
    tierspay_core::auth::b64url(tierspay_core::auth::sha256(token.as_bytes()))
}

/// `/send`: Stripe emails the invoice; the mock records the event (the platform's reminders
/// are what reach the member).
pub fn send_invoice(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let r = row(tx, id, "id")?;
    rules::transition(r.status, rules::Action::Send).map_err(|e| refused(e, None))?;
    emit(tx, ctx, "invoice.sent", &invoice_json(tx, id)?, None)?;
    Ok(())
}

/// Voids an open or uncollectible invoice; its live payment attempt is canceled
/// (`cancellation_reason=void_invoice`, as Stripe does).
pub fn void_invoice(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let r = row(tx, id, "id")?;
    let next = rules::transition(r.status, rules::Action::Void).map_err(|e| refused(e, None))?;
    let before = invoice_json(tx, id)?;
    if let Some(pi) = active_intent(tx, id)? {
        let view = super::payment_intents::view(tx, &pi)?;
        if view.status != "succeeded" {
            super::payment_intents::cancel_payment_intent(tx, ctx, &pi, Some("void_invoice"))?;
        }
    }
    set_status(tx, &r, next, "voided_at", ctx.now)?;
    let after = invoice_json(tx, id)?;
    emit(tx, ctx, "invoice.voided", &after, None)?;
    emit_update(tx, ctx, "invoice", &before, &after)
}

/// Marks an open invoice uncollectible (it can still be paid).
pub fn mark_uncollectible(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let r = row(tx, id, "id")?;
    let next = rules::transition(r.status, rules::Action::MarkUncollectible)
        .map_err(|e| refused(e, None))?;
    let before = invoice_json(tx, id)?;
    set_status(tx, &r, next, "marked_uncollectible_at", ctx.now)?;
    let after = invoice_json(tx, id)?;
    emit(tx, ctx, "invoice.marked_uncollectible", &after, None)?;
    emit_update(tx, ctx, "invoice", &before, &after)
}

/// Moves the status by compare-and-set and stamps `at_column`.
fn set_status(
    tx: &Connection,
    r: &Row,
    next: Status,
    at_column: &str,
    now: i64,
) -> Result<(), ApiError> {
    let changed = tx.execute(
        &format!(
            "UPDATE psp_invoices SET status = ?2, {at_column} = ?3 WHERE id = ?1 AND status = ?4"
        ),
        params![r.id, next.as_str(), now, r.status.as_str()],
    )?;
    if changed != 1 {
        return Err(ApiError::internal(
            "invoice changed under its own transaction",
        ));
    }
    Ok(())
}

/// Deletes a draft; its invoice items become pending on the customer again (Stripe keeps
/// them for the next invoice).
pub fn delete_invoice(tx: &Connection, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    let r = row(tx, id, "id")?;
    rules::transition(r.status, rules::Action::Delete).map_err(|e| refused(e, None))?;
    let doc = invoice_json(tx, id)?;
    tx.execute(
        "UPDATE psp_invoice_items SET invoice = NULL, line_id = NULL WHERE invoice = ?1",
        [id],
    )?;
    tx.execute(
        "DELETE FROM psp_invoices WHERE id = ?1 AND status = 'draft'",
        [id],
    )?;
    emit(tx, ctx, "invoice.deleted", &doc, None)?;
    Ok(json!({ "id": id, "object": "invoice", "deleted": true }))
}

/// How `/pay` pays.
#[derive(Debug, Clone)]
pub enum PayWith {
    /// `paid_out_of_band=true`: recorded, no money through the PSP. `amount` (a mock
    /// extension) records a part payment; at most `amount_remaining`, all of it by default.
    OutOfBand {
        /// Minor units.
        amount: Option<i64>,
    },
    /// A card: this payment method, else the customer's default one.
    Card {
        /// `pm_…` (or a test token).
        payment_method: Option<String>,
        /// The customer is not there (Stripe's default for `/pay`).
        off_session: bool,
    },
}

/// What `/pay` ended in.
#[derive(Debug)]
pub enum PayOutcome {
    /// The invoice took the payment (paid, or partly paid out of band).
    Done,
    /// The card asks for 3D Secure: Stripe's 402 `invoice_payment_intent_requires_action`.
    RequiresAction(String),
    /// The card was declined: Stripe's 402 card error (the intent's state is committed).
    Declined(super::payment_intents::CardDeclined),
}

/// Pays an invoice out of band or by card (through a PaymentIntent that carries `invoice`; its
/// success applies the payment).
pub fn pay_invoice(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    id: &str,
    with: PayWith,
) -> Result<PayOutcome, ApiError> {
    let r = row(tx, id, "id")?;
    match with {
        PayWith::OutOfBand { amount } => {
            let amount = amount.unwrap_or(r.amounts.remaining());
            apply(
                tx,
                ctx,
                id,
                amount,
                PaymentSource::OutOfBand,
                PayMode::Exact,
            )?;
            Ok(PayOutcome::Done)
        }
        PayWith::Card {
            payment_method,
            off_session,
        } => pay_by_card(tx, ctx, fingerprint_key, &r, payment_method, off_session),
    }
}

fn pay_by_card(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    r: &Row,
    payment_method: Option<String>,
    off_session: bool,
) -> Result<PayOutcome, ApiError> {
    use super::payment_intents::{self as pis, Confirm, Confirmed};
    let remaining = r.amounts.remaining();
    rules::pay(r.status, r.amounts, remaining.max(1), PayMode::Exact)
        .map_err(|e| refused(e, None))?;
    let pm = match payment_method {
        Some(pm) => pm,
        None => super::customers::customer_json(tx, &r.customer)?["invoice_settings"]
            ["default_payment_method"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                refuse(
                    "invoice_no_payment_method",
                    Some("payment_method"),
                    "This invoice cannot be paid: pass payment_method, or set the customer's invoice_settings[default_payment_method].",
                )
            })?,
    };
    let intent = payment_intent_for(tx, ctx, fingerprint_key, r)?;
    let confirmed = pis::confirm_payment_intent(
        tx,
        ctx,
        fingerprint_key,
        &intent,
        Confirm {
            payment_method: Some(pm),
            off_session: Some(off_session),
            return_url: None,
        },
    )?;
    match confirmed {
        Confirmed::Declined(_, e) => {
            emit(
                tx,
                ctx,
                "invoice.payment_failed",
                &invoice_json(tx, &r.id)?,
                None,
            )?;
            Ok(PayOutcome::Declined(e))
        }
        Confirmed::Ok(v) if v.status == "requires_action" => {
            emit(
                tx,
                ctx,
                "invoice.payment_action_required",
                &invoice_json(tx, &r.id)?,
                None,
            )?;
            Ok(PayOutcome::RequiresAction(v.id))
        }
        Confirmed::Ok(_) => Ok(PayOutcome::Done),
    }
}

/// The invoice's one live PaymentIntent for what remains: the existing one if it still
/// waits for a card and asks that amount, else a new one (a stale one is canceled first). For
/// `/pay` and for any page that takes a card for the invoice.
pub(crate) fn payment_intent_for(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    r: &Row,
) -> Result<String, ApiError> {
    use super::payment_intents as pis;
    let remaining = r.amounts.remaining();
    if let Some(pi) = active_intent(tx, &r.id)? {
        let v = pis::view(tx, &pi)?;
        let waiting = matches!(
            v.status.as_str(),
            "requires_payment_method" | "requires_confirmation" | "requires_action"
        );
        if waiting && v.amount == remaining {
            return Ok(pi);
        }
        if !waiting {
            return Err(refuse(
                "invoice_payment_in_progress",
                None,
                format!(
                    "This invoice already has a payment in progress ({pi}, status {}).",
                    v.status
                ),
            ));
        }
        pis::cancel_payment_intent(tx, ctx, &pi, Some("abandoned"))?;
    }
    pis::check_charge_amount(remaining, "amount_remaining")?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("invoice".into(), json!(r.id));
    let created = pis::create_payment_intent(
        tx,
        ctx,
        fingerprint_key,
        pis::NewPaymentIntent {
            amount: remaining,
            currency: r.currency.clone(),
            customer: Some(r.customer.clone()),
            description: Some(format!(
                "Payment for Invoice {}",
                r.number.as_deref().unwrap_or(&r.id)
            )),
            metadata,
            ..Default::default()
        },
    )?;
    let pi = created.view().id.clone();
    // The partial unique index refuses a second live attempt for the invoice.
    tx.execute(
        "UPDATE psp_payment_intents SET invoice = ?2 WHERE id = ?1",
        params![pi, r.id],
    )
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            refuse(
                "invoice_payment_in_progress",
                None,
                "This invoice already has a payment in progress.",
            )
        }
        other => other.into(),
    })?;
    Ok(pi)
}

/// A PaymentIntent succeeded: if it was made for an invoice, its money is applied there (and
/// passed on to the invoice's `transfer_data[destination]`). Called by `payment_intents.rs`.
pub(super) fn intent_succeeded(tx: &Connection, ctx: &Ctx, intent: &str) -> Result<(), ApiError> {
    let Some(invoice) = invoice_of_intent(tx, intent)? else {
        return Ok(());
    };
    let (received, charge): (i64, Option<String>) = tx.query_row(
        "SELECT amount_received, latest_charge FROM psp_payment_intents WHERE id = ?1",
        [intent],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if received <= 0 {
        return Ok(());
    }
    let applied = apply(
        tx,
        ctx,
        &invoice,
        received,
        PaymentSource::PaymentIntent(intent.to_owned()),
        PayMode::Received,
    )?;
    let destination: Option<String> = tx.query_row(
        "SELECT transfer_destination FROM psp_invoices WHERE id = ?1",
        [&invoice],
        |r| r.get(0),
    )?;
    if let (Some(destination), true) = (destination, applied.applied > 0) {
        let currency = row(tx, &invoice, "invoice")?.currency;
        super::transfers::create_transfer(
            tx,
            ctx,
            super::transfers::NewTransfer {
                from: super::balance::PLATFORM_ACCOUNT.to_owned(),
                destination,
                amount: applied.applied,
                currency,
                transfer_group: Some(invoice.clone()),
                source_transaction: charge.clone(),
                description: Some(format!("Invoice {invoice}")),
                metadata: serde_json::Map::new(),
            },
        )?;
    }
    // Beyond what was due (the invoice was paid meanwhile, by a transfer): back to the card at
    // once, never kept.
    if let (Some(charge), true) = (charge, applied.overpaid > 0) {
        super::refunds::refund_charge(
            tx,
            ctx,
            &charge,
            super::refunds::NewRefund {
                amount: Some(applied.overpaid),
                reason: Some("duplicate".into()),
                metadata: serde_json::Map::new(),
            },
        )?;
    }
    Ok(())
}

/// What the platform reads of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceView {
    /// `in_…`
    pub id: String,
    /// `cus_…`
    pub customer: String,
    /// Stripe's status.
    pub status: Status,
    /// Set at finalization.
    pub number: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `eur`.
    pub currency: String,
    /// Minor units.
    pub amount_due: i64,
    /// Minor units.
    pub amount_paid: i64,
    /// Minor units.
    pub amount_remaining: i64,
    /// Minor units, to refund.
    pub amount_overpaid: i64,
    /// Unix seconds.
    pub due_date: Option<i64>,
    /// ISO 11649, electronic form.
    pub rf_reference: Option<String>,
    /// The PSP's page for it.
    pub hosted_invoice_url: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds.
    pub paid_at: Option<i64>,
}

/// The invoice's view for the platform.
pub fn view(conn: &Connection, id: &str) -> Result<InvoiceView, ApiError> {
    let doc = invoice_json(conn, id)?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let int = |v: &Value| v.as_i64().unwrap_or_default();
    Ok(InvoiceView {
        id: id.to_owned(),
        customer: text(&doc["customer"]).unwrap_or_default(),
        status: doc["status"]
            .as_str()
            .and_then(Status::parse)
            .ok_or_else(|| ApiError::internal("invoice without status"))?,
        number: text(&doc["number"]),
        description: text(&doc["description"]),
        currency: text(&doc["currency"]).unwrap_or_default(),
        amount_due: int(&doc["amount_due"]),
        amount_paid: int(&doc["amount_paid"]),
        amount_remaining: int(&doc["amount_remaining"]),
        amount_overpaid: int(&doc["amount_overpaid"]),
        due_date: doc["due_date"].as_i64(),
        rf_reference: text(&doc["rf_reference"]),
        hosted_invoice_url: text(&doc["hosted_invoice_url"]),
        created: int(&doc["created"]),
        paid_at: doc["status_transitions"]["paid_at"].as_i64(),
    })
}

// ------------------------------------------------------------------- endpoints

/// The invoice endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/invoices", post(create).get(list))
        .route(
            "/v1/invoices/{id}",
            get(retrieve).post(update).delete(delete),
        )
        .route("/v1/invoices/{id}/lines", get(lines))
        .route("/v1/invoices/{id}/finalize", post(finalize))
        .route("/v1/invoices/{id}/pay", post(pay))
        .route("/v1/invoices/{id}/send", post(send))
        .route("/v1/invoices/{id}/void", post(void))
        .route("/v1/invoices/{id}/mark_uncollectible", post(uncollectible))
}

/// Stripe's id shape, checked before any lookup: a bad id is a 404 naming `id`, never a query
/// with a megabyte of text.
fn check_id(id: &str) -> Result<(), ApiError> {
    if id.len() > 64 || !id.starts_with("in_") {
        return Err(missing(
            "invoice",
            "id",
            &id.chars().take(64).collect::<String>(),
        ));
    }
    Ok(())
}

fn read_expand(f: &mut Fields) -> Result<Vec<String>, ApiError> {
    let expand = f.expand()?;
    for e in &expand {
        if !matches!(e.as_str(), "customer" | "payment_intent") {
            return Err(invalid(
                "expand",
                format!("This property cannot be expanded ({e})."),
            ));
        }
    }
    Ok(expand)
}

/// The invoice, its `customer` or `payment_intent` expanded when asked.
fn render(conn: &Connection, id: &str, expand: &[String]) -> Result<Value, ApiError> {
    let mut doc = invoice_json(conn, id)?;
    for e in expand {
        if let Some(other) = doc[e.as_str()].as_str().map(str::to_owned) {
            doc[e.as_str()] = match e.as_str() {
                "customer" => super::customers::customer_json(conn, &other)?,
                _ => super::payment_intents::payment_intent_json(conn, &other, &[])?,
            };
        }
    }
    Ok(doc)
}

fn read_transfer_data(f: &mut Fields) -> Result<Option<String>, ApiError> {
    match f.map("transfer_data")? {
        Some(mut t) => {
            let d = text(&mut t, "destination", 255)?;
            let name = t.name("destination");
            t.finish()?;
            d.map(Some)
                .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))
        }
        None => Ok(None),
    }
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let customer = text(&mut f, "customer", 255)?
        .ok_or_else(|| invalid("customer", "Missing required param: customer."))?;
    let currency = match f.str("currency")? {
        Some(c) if c.eq_ignore_ascii_case("eur") => "eur".to_owned(),
        Some(c) => {
            return Err(invalid(
                "currency",
                format!(
                    "Invalid currency: {}. This PSP's accounts hold eur only.",
                    c.chars().take(16).collect::<String>()
                ),
            ))
        }
        None => "eur".to_owned(),
    };
    if let Some(m) = f.one_of(
        "collection_method",
        &["send_invoice", "charge_automatically"],
    )? {
        if m != "send_invoice" {
            return Err(invalid(
                "collection_method",
                "Only collection_method=send_invoice is offered: members pay their invoices themselves.",
            ));
        }
    }
    if bool_param(&mut f, "auto_advance")? == Some(true) {
        return Err(invalid(
            "auto_advance",
            "auto_advance=true is not offered: finalize invoices with /finalize.",
        ));
    }
    let days_until_due = f.int("days_until_due")?;
    let due_date = f.int("due_date")?;
    let description = text(&mut f, "description", MAX_DESCRIPTION)?;
    let footer = text(&mut f, "footer", MAX_DESCRIPTION)?;
    let include_pending_items = f
        .one_of("pending_invoice_items_behavior", &["include", "exclude"])?
        .is_some_and(|b| b == "include");
    let transfer_destination = read_transfer_data(&mut f)?;
    let on_behalf_of = text(&mut f, "on_behalf_of", 255)?;
    let metadata = to_map(f.metadata()?);
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = create_invoice(
                tx,
                &ctx,
                NewInvoice {
                    customer,
                    currency,
                    days_until_due,
                    due_date,
                    description,
                    footer,
                    metadata,
                    include_pending_items,
                    transfer_destination,
                    on_behalf_of,
                },
            )?;
            render(tx, &id, &expand)
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
    check_id(&id)?;
    let mut f = query_fields(&uri)?;
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| render(conn, &id, &expand))
        .await?;
    Ok(Json(doc))
}

async fn lines(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let doc = state
        .db
        .call(move |conn| {
            row(conn, &id, "id")?;
            lines_json(conn, &id)
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
    check_id(&id)?;
    let mut f = body_fields(&headers, &body)?;
    let c = InvoiceChanges {
        description: f
            .str("description")?
            .map(|d| bounded(d, "description"))
            .transpose()?,
        footer: f.str("footer")?.map(|d| bounded(d, "footer")).transpose()?,
        days_until_due: f.int("days_until_due")?,
        due_date: f.int("due_date")?,
        metadata: f.metadata()?,
    };
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            update_invoice(tx, &ctx, &id, c)?;
            render(tx, &id, &expand)
        })
        .await?;
    Ok(Json(doc))
}

fn bounded(v: String, param: &str) -> Result<String, ApiError> {
    if v.chars().count() > MAX_DESCRIPTION {
        return Err(invalid(
            param,
            format!("{param} has at most {MAX_DESCRIPTION} characters."),
        ));
    }
    Ok(v)
}

async fn delete(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| delete_invoice(tx, &ctx, &id))
        .await?;
    Ok(Json(doc))
}

/// The shape of the one-verb endpoints (`/finalize`, `/send`, `/void`, `/mark_uncollectible`):
/// only `expand[]` (and Stripe's `auto_advance` on finalize) in the body.
async fn verb(
    state: AppState,
    psp: Psp,
    id: String,
    headers: HeaderMap,
    body: Bytes,
    op: fn(&Connection, &Ctx, &str) -> Result<(), ApiError>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let mut f = body_fields(&headers, &body)?;
    if bool_param(&mut f, "auto_advance")? == Some(true) {
        return Err(invalid(
            "auto_advance",
            "auto_advance=true is not offered: the mock never collects automatically.",
        ));
    }
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            op(tx, &ctx, &id)?;
            render(tx, &id, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn finalize(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    verb(state, psp, id, headers, body, finalize_invoice).await
}

async fn send(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    verb(state, psp, id, headers, body, send_invoice).await
}

async fn void(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    verb(state, psp, id, headers, body, void_invoice).await
}

async fn uncollectible(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    verb(state, psp, id, headers, body, mark_uncollectible).await
}

/// Stripe's 402 when the card must authenticate first: the intent carries the challenge.
fn requires_action(conn: &Connection, invoice: &str, intent: &str) -> Result<Response, ApiError> {
    let pi = super::payment_intents::payment_intent_json(conn, intent, &[])?;
    Ok((
        StatusCode::PAYMENT_REQUIRED,
        Json(json!({ "error": {
            "type": "invalid_request_error",
            "code": "invoice_payment_intent_requires_action",
            "message": format!("Payment for this invoice requires a customer action: confirm the PaymentIntent {intent} (3D Secure)."),
            "param": Value::Null,
            "payment_intent": pi,
            "invoice": invoice,
        }})),
    )
        .into_response())
}

async fn pay(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_id(&id)?;
    let mut f = body_fields(&headers, &body)?;
    let out_of_band = bool_param(&mut f, "paid_out_of_band")?.unwrap_or(false);
    let payment_method = text(&mut f, "payment_method", 255)?;
    let off_session = bool_param(&mut f, "off_session")?.unwrap_or(true);
    let amount = f.int("amount")?;
    let expand = read_expand(&mut f)?;
    f.finish()?;
    let with = if out_of_band {
        if payment_method.is_some() {
            return Err(invalid(
                "payment_method",
                "You may only specify one of these parameters: paid_out_of_band, payment_method.",
            ));
        }
        if let Some(a) = amount {
            super::balance::check_amount(a, "amount").map_err(ApiError::not_executed)?;
        }
        PayWith::OutOfBand { amount }
    } else {
        if amount.is_some() {
            return Err(invalid(
                "amount",
                "amount is only taken with paid_out_of_band=true: a card pays what remains.",
            ));
        }
        PayWith::Card {
            payment_method,
            off_session,
        }
    };
    let ctx = psp.ctx;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let response = state
        .db
        .transaction(move |tx| match pay_invoice(tx, &ctx, &key, &id, with)? {
            PayOutcome::Done => Ok(Json(render(tx, &id, &expand)?).into_response()),
            PayOutcome::RequiresAction(pi) => requires_action(tx, &id, &pi),
            PayOutcome::Declined(e) => Ok(e.into_response()),
        })
        .await?;
    Ok(response)
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let customer = text(&mut f, "customer", 255)?;
    let status = f.one_of("status", &Status::ALL)?;
    let expand = read_expand_list(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_invoices",
                "(?1 IS NULL OR customer = ?1) AND (?2 IS NULL OR status = ?2)",
                &[&customer, &status],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| render(conn, id, &expand))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/invoices"))
        })
        .await?;
    Ok(Json(doc))
}

/// `expand[]=data.customer` on a list, as Stripe spells it.
fn read_expand_list(f: &mut Fields) -> Result<Vec<String>, ApiError> {
    let expand = f.expand()?;
    expand
        .into_iter()
        .map(|e| match e.strip_prefix("data.") {
            Some(inner @ ("customer" | "payment_intent")) => Ok(inner.to_owned()),
            _ => Err(invalid(
                "expand",
                format!("This property cannot be expanded ({e})."),
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::db::Db;
    use crate::psp::customers::{create_customer, CustomerFields};
    use crate::psp::invoice_items::{create_item, NewItem};
    use crate::vault::Vault;

    const NOW: i64 = 1_780_000_000;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            &dir.path().join("t.sqlite"),
            Arc::new(Vault::from_key([7; 32])),
        )
        .unwrap();
        (dir, db)
    }

    /// An open invoice of `amount` for a new customer; its id and RF reference.
    fn open_invoice(tx: &Connection, amount: i64) -> (String, String) {
        let ctx = Ctx::at(NOW);
        let customer = create_customer(tx, &ctx, CustomerFields::default()).unwrap();
        let id = create_invoice(
            tx,
            &ctx,
            NewInvoice {
                customer: customer.clone(),
                currency: "eur".into(),
                days_until_due: Some(30),
                ..Default::default()
            },
        )
        .unwrap();
        create_item(
            tx,
            &ctx,
            NewItem {
                customer,
                invoice: Some(id.clone()),
                unit_amount: amount,
                quantity: 1,
                currency: "eur".into(),
                ..Default::default()
            },
        )
        .unwrap();
        finalize_invoice(tx, &ctx, &id).unwrap();
        let rf = invoice_json(tx, &id).unwrap()["rf_reference"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, rf)
    }

    fn events(tx: &Connection, kind: &str) -> i64 {
        tx.query_row(
            "SELECT COUNT(*) FROM psp_events WHERE type = ?1",
            [kind],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn transfers_pay_in_part_then_settle_then_overpay() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 4250);
            let a = apply_payment(
                tx,
                &id,
                1000,
                PaymentSource::BankTransfer("sct_1".into()),
                NOW,
            )?;
            assert_eq!(
                (a.applied, a.overpaid, a.amount_remaining, a.status),
                (1000, 0, 3250, Status::Open)
            );
            let b = apply_payment(
                tx,
                &id,
                4000,
                PaymentSource::BankTransfer("sct_2".into()),
                NOW,
            )?;
            assert_eq!(
                (
                    b.applied,
                    b.overpaid,
                    b.amount_remaining,
                    b.status,
                    b.settled
                ),
                (3250, 750, 0, Status::Paid, true)
            );
            // A late transfer on a paid invoice is wholly overpaid, never dropped.
            let c = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_3".into()),
                NOW,
            )?;
            assert_eq!(
                (c.applied, c.overpaid, c.status, c.settled),
                (0, 500, Status::Paid, false)
            );
            let doc = invoice_json(tx, &id)?;
            assert_eq!(
                (doc["amount_paid"].as_i64(), doc["amount_overpaid"].as_i64()),
                (Some(4250), Some(1250))
            );
            assert_eq!(doc["status_transitions"]["paid_at"], NOW);
            assert_eq!(events(tx, "invoice.paid"), 1);
            assert_eq!(events(tx, "invoice.overpaid"), 2);
            assert_eq!(events(tx, "invoice.payment_succeeded"), 2);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn the_same_transfer_applied_twice_counts_once() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 2000);
            let first = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_x".into()),
                NOW,
            )?;
            let again = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_x".into()),
                NOW,
            )?;
            assert_eq!(first.payment, again.payment);
            assert_eq!(invoice_json(tx, &id)?["amount_remaining"], 1500);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_void_invoice_refuses_money_and_nothing_is_written() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 2000);
            void_invoice(tx, &Ctx::at(NOW), &id)?;
            let e = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_v".into()),
                NOW,
            )
            .unwrap_err();
            assert_eq!(e.detail.code, "invoice_unexpected_state");
            let payments: i64 =
                tx.query_row("SELECT COUNT(*) FROM psp_invoice_payments", [], |r| {
                    r.get(0)
                })?;
            assert_eq!(payments, 0);
            assert!(apply_payment(tx, "in_nope", 500, PaymentSource::OutOfBand, NOW).is_err());
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_reference_is_found_with_spaces_and_lower_case_and_only_with_its_checksum() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, rf) = open_invoice(tx, 900);
            assert!(RfReference::parse(&rf).is_ok(), "{rf}");
            let spaced = RfReference::parse(&rf).unwrap().grouped().to_lowercase();
            assert_eq!(find_by_reference(tx, &rf), Some(id.clone()));
            assert_eq!(find_by_reference(tx, &spaced), Some(id));
            // One character changed: the checksum fails before any lookup.
            let mut typo: Vec<char> = rf.chars().collect();
            let last = typo.len() - 1;
            typo[last] = if typo[last] == '1' { '2' } else { '1' };
            assert_eq!(
                find_by_reference(tx, &typo.iter().collect::<String>()),
                None
            );
            assert_eq!(find_by_reference(tx, "RF18539007547034"), None);
            assert_eq!(find_by_reference(tx, &"RF".repeat(500)), None);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn numbers_follow_the_accounts_sequence_and_references_differ() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (a, ra) = open_invoice(tx, 100);
            let (b, rb) = open_invoice(tx, 100);
            let na = invoice_json(tx, &a)?["number"].as_str().unwrap().to_owned();
            let nb = invoice_json(tx, &b)?["number"].as_str().unwrap().to_owned();
            assert!(na.ends_with("-0001") && nb.ends_with("-0002"), "{na} {nb}");
            assert_eq!(na[..na.len() - 5], nb[..nb.len() - 5]);
            assert_ne!(ra, rb);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn the_schema_refuses_a_second_live_attempt_and_a_changed_total() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 5000);
            let key = [1u8; 32];
            let r = row(tx, &id, "id")?;
            let pi = payment_intent_for(tx, &Ctx::at(NOW), &key, &r)?;
            // The same call answers the same attempt.
            assert_eq!(payment_intent_for(tx, &Ctx::at(NOW), &key, &r)?, pi);
            let other = crate::psp::payment_intents::create_payment_intent(
                tx,
                &Ctx::at(NOW),
                &key,
                crate::psp::payment_intents::NewPaymentIntent {
                    amount: 5000,
                    currency: "eur".into(),
                    ..Default::default()
                },
            )?;
            let second = tx.execute(
                "UPDATE psp_payment_intents SET invoice = ?2 WHERE id = ?1",
                params![other.view().id, id],
            );
            assert!(second.is_err(), "a second live attempt was accepted");
            let changed = tx.execute("UPDATE psp_invoices SET total = 1 WHERE id = ?1", [&id]);
            assert!(changed.is_err(), "a finalized total changed");
            Ok(())
        })
        .await
        .unwrap();
    }
}
