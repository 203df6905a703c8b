//! Credit notes (`cn_…`): how a finalized invoice is corrected, as Stripe does it. A credit
//! note first lowers what remains to pay (its `pre_payment_amount`, which lowers the invoice's
//! `amount_due`; an invoice credited to zero is paid); what exceeds that (`post_payment_amount`,
//! on an invoice already paid in part or whole) must be covered by `refund_amount` (a Refund of
//! the invoice's card payment, `refunds.rs`) plus `out_of_band_amount` (money given back outside
//! the PSP). Customer balance credit (`credit_amount`) is refused by name: the mock keeps no
//! customer balance. Voiding a credit note gives back what it took while its invoice still
//! collects, and never once it refunded money. The split is computed by `invoice_rules::credit`
//! (pure).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;

use super::events::{emit, emit_update};
use super::form::{invalid, Fields};
use super::invoice_rules as rules;
use super::invoices::{self, invoice_json, refused};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::payment_intents::text;
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The credit note tables (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_credit_notes (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        invoice             TEXT NOT NULL REFERENCES psp_invoices(id),
        customer            TEXT NOT NULL,
        number              TEXT NOT NULL UNIQUE,
        currency            TEXT NOT NULL,
        amount              INTEGER NOT NULL CHECK (amount > 0),
        pre_payment_amount  INTEGER NOT NULL CHECK (pre_payment_amount >= 0),
        post_payment_amount INTEGER NOT NULL CHECK (post_payment_amount >= 0),
        out_of_band_amount  INTEGER NOT NULL DEFAULT 0 CHECK (out_of_band_amount >= 0),
        reason              TEXT CHECK (reason IN ('duplicate', 'fraudulent', 'order_change', 'product_unsatisfactory')),
        memo                TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        status              TEXT NOT NULL CHECK (status IN ('issued', 'void')),
        voided_at           INTEGER,
        created             INTEGER NOT NULL,
        CHECK (pre_payment_amount + post_payment_amount = amount),
        CHECK (out_of_band_amount = post_payment_amount)
    );
    CREATE INDEX psp_credit_notes_invoice ON psp_credit_notes (invoice, seq);
    CREATE TABLE psp_credit_note_lines (
        seq               INTEGER PRIMARY KEY,
        id                TEXT NOT NULL UNIQUE,
        credit_note       TEXT NOT NULL REFERENCES psp_credit_notes(id),
        type              TEXT NOT NULL CHECK (type IN ('invoice_line_item', 'custom_line_item')),
        invoice_line_item TEXT,
        description       TEXT,
        quantity          INTEGER NOT NULL,
        unit_amount       INTEGER,
        amount            INTEGER NOT NULL CHECK (amount > 0)
    );
    CREATE INDEX psp_credit_note_lines_note ON psp_credit_note_lines (credit_note, seq);
    CREATE INDEX psp_credit_note_lines_item ON psp_credit_note_lines (invoice_line_item)
        WHERE invoice_line_item IS NOT NULL;
"#;

/// Refunds on credit notes (a later migration entry): `out_of_band_amount` keeps holding the
/// whole post-payment cover (its CHECK cannot change in SQLite), of which `refund_amount` went
/// back to the card through `refund` (`re_…`); the JSON shows the out-of-band part alone.
pub(super) const REFUNDS_MIGRATION: &str = r#"
    ALTER TABLE psp_credit_notes ADD COLUMN refund_amount INTEGER NOT NULL DEFAULT 0
        CHECK (refund_amount >= 0 AND refund_amount <= out_of_band_amount);
    ALTER TABLE psp_credit_notes ADD COLUMN refund TEXT;
"#;

/// Stripe's reasons.
pub const REASONS: &[&str] = &[
    "duplicate",
    "fraudulent",
    "order_change",
    "product_unsatisfactory",
];
/// Most lines a credit note holds.
pub const MAX_LINES: usize = 50;
/// Longest memo (Stripe's bound).
pub const MAX_MEMO: usize = 5000;

/// One line of a credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteLine {
    /// Credits part of an invoice line (`il_…`).
    InvoiceLine {
        /// `il_…` of the invoice.
        line: String,
        /// Minor units.
        amount: i64,
    },
    /// A line of its own.
    Custom {
        /// Shown on the note.
        description: String,
        /// Units.
        quantity: i64,
        /// Minor units per unit.
        unit_amount: i64,
    },
}

impl NoteLine {
    fn amount(&self) -> Option<i64> {
        match self {
            Self::InvoiceLine { amount, .. } => Some(*amount),
            Self::Custom {
                quantity,
                unit_amount,
                ..
            } => unit_amount.checked_mul(*quantity),
        }
    }
}

/// A credit note to issue.
#[derive(Debug, Clone, Default)]
pub struct NewCreditNote {
    /// `in_…`
    pub invoice: String,
    /// The whole amount (exactly one of `amount` and `lines`).
    pub amount: Option<i64>,
    /// Its lines.
    pub lines: Vec<NoteLine>,
    /// Money given back outside the PSP.
    pub out_of_band_amount: i64,
    /// Refunded to the invoice's card payment; with `out_of_band_amount`, the post-payment part.
    pub refund_amount: i64,
    /// Stripe's reason.
    pub reason: Option<String>,
    /// Free text.
    pub memo: Option<String>,
    /// Metadata.
    pub metadata: serde_json::Map<String, Value>,
}

/// Issues a credit note on a finalized invoice; its id.
pub fn create_credit_note(
    tx: &Connection,
    ctx: &Ctx,
    p: NewCreditNote,
) -> Result<String, ApiError> {
    let inv = invoices::row(tx, &p.invoice, "invoice")?;
    let amount = match (p.amount, p.lines.is_empty()) {
        (Some(_), false) => {
            return Err(invalid(
                "amount",
                "You may only specify one of these parameters: amount, lines.",
            ))
        }
        (None, true) => {
            return Err(invalid(
                "amount",
                "Missing required param: amount (or lines).",
            ))
        }
        (Some(a), true) => a,
        (None, false) => lines_total(tx, &p.invoice, &p.lines)?,
    };
    super::balance::check_amount(amount, "amount")?;
    let (amounts, status, split) = rules::credit(
        inv.status,
        inv.amounts,
        amount,
        p.out_of_band_amount + p.refund_amount,
    )
    .map_err(|r| {
        let param = match r.code {
            "credit_note_amounts_mismatch" => Some("out_of_band_amount"),
            c if c.starts_with("amount") => Some("amount"),
            _ => Some("invoice"),
        };
        refused(r, param)
    })?;
    let before = invoice_json(tx, &p.invoice)?;
    invoices::store_amounts(tx, &inv, amounts, status, ctx.now)?;
    let count: i64 = tx.query_row(
        "SELECT COUNT(*) FROM psp_credit_notes WHERE invoice = ?1",
        [&p.invoice],
        |r| r.get(0),
    )?;
    let number = format!(
        "{}-CN-{:02}",
        inv.number.as_deref().unwrap_or(&inv.id),
        count + 1
    );
    let id = random::id("cn");
    tx.execute(
        "INSERT INTO psp_credit_notes (id, invoice, customer, number, currency, amount,
             pre_payment_amount, post_payment_amount, out_of_band_amount, reason, memo, metadata,
             status, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'issued', ?13)",
        params![
            id,
            p.invoice,
            inv.customer,
            number,
            inv.currency,
            amount,
            split.pre_payment,
            split.post_payment,
            p.out_of_band_amount + p.refund_amount,
            p.reason,
            p.memo,
            Value::Object(p.metadata).to_string(),
            ctx.now
        ],
    )?;
    let lines = if p.lines.is_empty() {
        vec![NoteLine::Custom {
            description: p.memo.clone().unwrap_or_else(|| "Credit".into()),
            quantity: 1,
            unit_amount: amount,
        }]
    } else {
        p.lines
    };
    for line in &lines {
        let (kind, item, description, quantity, unit) = match line {
            NoteLine::InvoiceLine { line, .. } => {
                ("invoice_line_item", Some(line.as_str()), None, 1, None)
            }
            NoteLine::Custom {
                description,
                quantity,
                unit_amount,
            } => (
                "custom_line_item",
                None,
                Some(description.as_str()),
                *quantity,
                Some(*unit_amount),
            ),
        };
        tx.execute(
            "INSERT INTO psp_credit_note_lines (id, credit_note, type, invoice_line_item, description,
                 quantity, unit_amount, amount)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                random::id("cnli"),
                id,
                kind,
                item,
                description,
                quantity,
                unit,
                line.amount()
            ],
        )?;
    }
    if p.refund_amount > 0 {
        let refund = refund_card_payment(
            tx,
            ctx,
            &p.invoice,
            &id,
            p.refund_amount,
            p.reason.as_deref(),
        )?;
        tx.execute(
            "UPDATE psp_credit_notes SET refund_amount = ?2, refund = ?3 WHERE id = ?1",
            params![id, p.refund_amount, refund],
        )?;
    }
    if split.settled {
        // Nothing is owed any more: a card attempt still waiting would take money for nothing.
        cancel_waiting_intent(tx, ctx, &p.invoice)?;
    }
    let after = invoice_json(tx, &p.invoice)?;
    emit(
        tx,
        ctx,
        "credit_note.created",
        &credit_note_json(tx, &id)?,
        None,
    )?;
    emit_update(tx, ctx, "invoice", &before, &after)?;
    if split.settled {
        emit(tx, ctx, "invoice.paid", &after, None)?;
    }
    Ok(id)
}

/// Refunds `amount` of the invoice's card payment for credit note `note`; the `re_…`.
fn refund_card_payment(
    tx: &Connection,
    ctx: &Ctx,
    invoice: &str,
    note: &str,
    amount: i64,
    reason: Option<&str>,
) -> Result<String, ApiError> {
    let charge: Option<String> = tx
        .query_row(
            "SELECT latest_charge FROM psp_payment_intents WHERE invoice = ?1 AND status = 'succeeded'",
            [invoice],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(charge) = charge else {
        return Err(refuse(
            "parameter_invalid",
            Some("refund_amount"),
            format!("The invoice {invoice} was not paid by card here: give the money back with out_of_band_amount."),
        ));
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("credit_note".into(), json!(note));
    // Stripe's refund reasons are fewer than a credit note's.
    let reason = reason
        .filter(|r| matches!(*r, "duplicate" | "fraudulent"))
        .unwrap_or("requested_by_customer");
    super::refunds::refund_charge(
        tx,
        ctx,
        &charge,
        super::refunds::NewRefund {
            amount: Some(amount),
            reason: Some(reason.to_owned()),
            metadata,
        },
    )
    .map_err(|mut e| {
        e.detail.param = Some("refund_amount".into());
        e
    })
}

fn cancel_waiting_intent(tx: &Connection, ctx: &Ctx, invoice: &str) -> Result<(), ApiError> {
    if let Some(pi) = invoices::active_intent(tx, invoice)? {
        let v = super::payment_intents::view(tx, &pi)?;
        if v.status != "succeeded" {
            super::payment_intents::cancel_payment_intent(tx, ctx, &pi, Some("abandoned"))?;
        }
    }
    Ok(())
}

/// The total of `lines`: each invoice line credited at most its amount over every issued note.
fn lines_total(tx: &Connection, invoice: &str, lines: &[NoteLine]) -> Result<i64, ApiError> {
    let mut total: i64 = 0;
    for (i, line) in lines.iter().enumerate() {
        let amount = line
            .amount()
            .filter(|a| *a > 0 && *a <= super::balance::MAX_AMOUNT)
            .ok_or_else(|| {
                invalid(
                    &format!("lines[{i}][amount]"),
                    format!(
                        "Each line's amount must be 1 to {}.",
                        super::balance::MAX_AMOUNT
                    ),
                )
            })?;
        if let NoteLine::InvoiceLine { line: il, .. } = line {
            let found: Option<i64> = tx
                .query_row(
                    "SELECT amount FROM psp_invoice_items WHERE line_id = ?1 AND invoice = ?2",
                    params![il, invoice],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(line_amount) = found else {
                return Err(missing(
                    "invoice line item",
                    &format!("lines[{i}][invoice_line_item]"),
                    il,
                ));
            };
            let credited: i64 = tx.query_row(
                "SELECT COALESCE(SUM(l.amount), 0) FROM psp_credit_note_lines l
                 JOIN psp_credit_notes n ON n.id = l.credit_note
                 WHERE l.invoice_line_item = ?1 AND n.status = 'issued'",
                [il],
                |r| r.get(0),
            )?;
            let here: i64 = lines[..i]
                .iter()
                .filter_map(|l| match l {
                    NoteLine::InvoiceLine { line, amount } if line == il => Some(*amount),
                    _ => None,
                })
                .sum();
            if credited + here + amount > line_amount {
                return Err(refuse(
                    "amount_too_large",
                    Some(&format!("lines[{i}][amount]")),
                    format!(
                        "The invoice line {il} has {} left to credit.",
                        line_amount - credited - here
                    ),
                ));
            }
        }
        total = total.saturating_add(amount);
    }
    Ok(total)
}

/// Voids an issued credit note: the invoice gets back what it took (while it still collects).
pub fn void_credit_note(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let (invoice, status, pre, post, refunded): (String, String, i64, i64, i64) = tx
        .query_row(
            "SELECT invoice, status, pre_payment_amount, post_payment_amount, refund_amount
             FROM psp_credit_notes WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?
        .ok_or_else(|| missing("credit_note", "id", id))?;
    if status != "issued" {
        return Err(refuse(
            "credit_note_unexpected_state",
            None,
            "This credit note is already void.",
        ));
    }
    if refunded > 0 {
        return Err(refuse(
            "credit_note_unexpected_state",
            None,
            "This credit note refunded money to the card: a refund cannot be undone, so the note cannot be voided.",
        ));
    }
    let inv = invoices::row(tx, &invoice, "invoice")?;
    let amounts =
        rules::void_credit(inv.status, inv.amounts, pre, post).map_err(|r| refused(r, None))?;
    let before = invoice_json(tx, &invoice)?;
    invoices::store_amounts(tx, &inv, amounts, inv.status, ctx.now)?;
    tx.execute(
        "UPDATE psp_credit_notes SET status = 'void', voided_at = ?2 WHERE id = ?1 AND status = 'issued'",
        params![id, ctx.now],
    )?;
    emit(
        tx,
        ctx,
        "credit_note.voided",
        &credit_note_json(tx, id)?,
        None,
    )?;
    emit_update(tx, ctx, "invoice", &before, &invoice_json(tx, &invoice)?)
}

/// Changes a credit note's memo or metadata (all Stripe lets change).
pub fn update_credit_note(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    memo: Option<String>,
    metadata: Option<super::form::MetadataChanges>,
) -> Result<(), ApiError> {
    let before = credit_note_json(tx, id)?;
    if let Some(m) = memo {
        tx.execute(
            "UPDATE psp_credit_notes SET memo = ?2 WHERE id = ?1",
            params![id, (!m.is_empty()).then_some(m)],
        )?;
    }
    if let Some(changes) = metadata {
        let mut meta = before["metadata"].as_object().cloned().unwrap_or_default();
        super::form::merge_metadata(&mut meta, changes);
        tx.execute(
            "UPDATE psp_credit_notes SET metadata = ?2 WHERE id = ?1",
            params![id, Value::Object(meta).to_string()],
        )?;
    }
    emit_update(tx, ctx, "credit_note", &before, &credit_note_json(tx, id)?)
}

fn lines_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    let data: Vec<Value> = conn
        .prepare_cached(
            "SELECT id, type, invoice_line_item, description, quantity, unit_amount, amount
             FROM psp_credit_note_lines WHERE credit_note = ?1 ORDER BY seq",
        )?
        .query_map([id], |r| {
            let amount: i64 = r.get(6)?;
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "credit_note_line_item",
                "amount": amount,
                "amount_excluding_tax": amount,
                "description": r.get::<_, Option<String>>(3)?,
                "discount_amount": 0,
                "discount_amounts": [],
                "invoice_line_item": r.get::<_, Option<String>>(2)?,
                "livemode": false,
                "quantity": r.get::<_, i64>(4)?,
                "tax_amounts": [],
                "tax_rates": [],
                "type": r.get::<_, String>(1)?,
                "unit_amount": r.get::<_, Option<i64>>(5)?,
                "unit_amount_decimal": r.get::<_, Option<i64>>(5)?.map(|u| u.to_string()),
                "unit_amount_excluding_tax": r.get::<_, Option<i64>>(5)?.map(|u| u.to_string()),
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "url": format!("/v1/credit_notes/{id}/lines"),
    }))
}

/// A credit note as Stripe renders it.
pub fn credit_note_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    let mut doc = conn
        .prepare_cached(
            "SELECT id, invoice, customer, number, currency, amount, pre_payment_amount,
                    post_payment_amount, out_of_band_amount, reason, memo, metadata, status,
                    voided_at, created, refund_amount, refund
             FROM psp_credit_notes WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let amount: i64 = r.get(5)?;
            let pre: i64 = r.get(6)?;
            let post: i64 = r.get(7)?;
            let split = rules::Credit {
                pre_payment: pre,
                post_payment: post,
                settled: false,
            };
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "credit_note",
                "amount": amount,
                "amount_shipping": 0,
                "created": r.get::<_, i64>(14)?,
                "currency": r.get::<_, String>(4)?,
                "customer": r.get::<_, String>(2)?,
                "customer_balance_transaction": Value::Null,
                "discount_amount": 0,
                "discount_amounts": [],
                "effective_at": r.get::<_, i64>(14)?,
                "invoice": r.get::<_, String>(1)?,
                "lines": Value::Null,
                "livemode": false,
                "memo": r.get::<_, Option<String>>(10)?,
                "metadata": parse_json(&r.get::<_, String>(11)?),
                "number": r.get::<_, String>(3)?,
                "out_of_band_amount": r.get::<_, i64>(8)? - r.get::<_, i64>(15)?,
                "pdf": Value::Null,
                "post_payment_amount": post,
                "pre_payment_amount": pre,
                "reason": r.get::<_, Option<String>>(9)?,
                "refund": r.get::<_, Option<String>>(16)?,
                "refunds": match r.get::<_, Option<String>>(16)? {
                    Some(re) => json!([{ "amount_refunded": r.get::<_, i64>(15)?, "refund": re }]),
                    None => json!([]),
                },
                "shipping_cost": Value::Null,
                "status": r.get::<_, String>(12)?,
                "subtotal": amount,
                "subtotal_excluding_tax": amount,
                "tax_amounts": [],
                "total": amount,
                "total_excluding_tax": amount,
                "type": split.kind(),
                "voided_at": r.get::<_, Option<i64>>(13)?,
            }))
        })
        .optional()?
        .ok_or_else(|| missing("credit_note", "id", id))?;
    doc["lines"] = lines_json(conn, id)?;
    Ok(doc)
}

// ------------------------------------------------------------------- endpoints

/// The credit note endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/credit_notes", post(create).get(list))
        .route("/v1/credit_notes/{id}", get(retrieve).post(update))
        .route("/v1/credit_notes/{id}/lines", get(lines))
        .route("/v1/credit_notes/{id}/void", post(void))
}

/// Stripe's id shape for a credit note (`cn_…`), checked before any lookup.
fn check_id(id: &str) -> Result<(), ApiError> {
    invoices::check_id(id, "cn_", "credit_note")
}

fn read_lines(f: &mut Fields) -> Result<Vec<NoteLine>, ApiError> {
    let Some(items) = f.list("lines")? else {
        return Ok(vec![]);
    };
    if items.len() > MAX_LINES {
        return Err(invalid(
            "lines",
            format!("A credit note has at most {MAX_LINES} lines."),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let mut l = Fields::item_map(item)?;
        let kind = l
            .one_of("type", &["invoice_line_item", "custom_line_item"])?
            .ok_or_else(|| {
                let name = l.name("type");
                invalid(&name, format!("Missing required param: {name}."))
            })?;
        let line = if kind == "invoice_line_item" {
            let name = l.name("invoice_line_item");
            let il = text(&mut l, "invoice_line_item", 64)?
                .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))?;
            let name = l.name("amount");
            let amount = l
                .int("amount")?
                .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))?;
            NoteLine::InvoiceLine { line: il, amount }
        } else {
            let name = l.name("description");
            let description = text(&mut l, "description", 500)?
                .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))?;
            let name = l.name("unit_amount");
            let unit_amount = l
                .int("unit_amount")?
                .ok_or_else(|| invalid(&name, format!("Missing required param: {name}.")))?;
            let quantity = l.int("quantity")?.unwrap_or(1);
            if !(1..=10_000).contains(&quantity) {
                return Err(invalid(
                    &l.name("quantity"),
                    "quantity must be between 1 and 10000.",
                ));
            }
            NoteLine::Custom {
                description,
                quantity,
                unit_amount,
            }
        };
        l.finish()?;
        out.push(line);
    }
    Ok(out)
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let invoice = text(&mut f, "invoice", 64)?
        .ok_or_else(|| invalid("invoice", "Missing required param: invoice."))?;
    let amount = f.int("amount")?;
    let lines = read_lines(&mut f)?;
    let out_of_band_amount = f.int("out_of_band_amount")?.unwrap_or(0);
    if !(0..=super::balance::MAX_AMOUNT).contains(&out_of_band_amount) {
        return Err(invalid(
            "out_of_band_amount",
            "out_of_band_amount must be 0 or more, at most the largest amount.",
        ));
    }
    let refund_amount = f.int("refund_amount")?.unwrap_or(0);
    if !(0..=super::balance::MAX_AMOUNT).contains(&refund_amount) {
        return Err(invalid(
            "refund_amount",
            "refund_amount must be 0 or more, at most the largest amount.",
        ));
    }
    for unsupported in ["credit_amount", "refund", "refunds"] {
        if f.str(unsupported)?.is_some() {
            return Err(invalid(
                unsupported,
                format!("{unsupported} is not offered: give money back with refund_amount or out_of_band_amount."),
            ));
        }
    }
    let reason = f.one_of("reason", REASONS)?;
    let memo = text(&mut f, "memo", MAX_MEMO)?;
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = create_credit_note(
                tx,
                &ctx,
                NewCreditNote {
                    invoice,
                    amount,
                    lines,
                    out_of_band_amount,
                    refund_amount,
                    reason,
                    memo,
                    metadata,
                },
            )?;
            credit_note_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    let doc = state
        .db
        .call(move |conn| credit_note_json(conn, &id))
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
            credit_note_json(conn, &id)?;
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
    let memo = f
        .str("memo")?
        .map(|m| invoices::bounded(m, "memo", MAX_MEMO))
        .transpose()?;
    let metadata = f.metadata()?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            update_credit_note(tx, &ctx, &id, memo, metadata)?;
            credit_note_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn void(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    check_id(&id)?;
    body_fields(&headers, &body)?.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            void_credit_note(tx, &ctx, &id)?;
            credit_note_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let invoice = text(&mut f, "invoice", 64)?;
    let customer = text(&mut f, "customer", 255)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_credit_notes",
                "(?1 IS NULL OR invoice = ?1) AND (?2 IS NULL OR customer = ?2)",
                &[&invoice, &customer],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| credit_note_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/credit_notes"))
        })
        .await?;
    Ok(Json(doc))
}
