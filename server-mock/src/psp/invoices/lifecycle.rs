//! An invoice's life before and around payment: create a draft, edit it, attach items and
//! total them, finalize it (number, RF reference, hosted link), send, void, mark
//! uncollectible, delete. Each step asks `invoice_rules` whether it is allowed, writes, and
//! emits its events in the caller's transaction.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;
use tierspay_core::domain::rf_reference::RfReference;

use crate::http::ApiError;
use crate::psp::events::{emit, emit_update};
use crate::psp::invoice_rules::{self as rules, Status};
use crate::psp::model::{missing, refuse, Ctx};

use super::object::invoice_json;
use super::refused;
use super::store::{active_intent, row, store_amounts, token_hash, Row};

/// Most lines an invoice holds (Stripe's limit).
pub const MAX_LINES: i64 = 250;

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
            if a == crate::psp::balance::PLATFORM_ACCOUNT
                || !crate::psp::balance::account_exists(tx, a)? =>
        {
            Err(missing("account", param, a))
        }
        _ => Ok(()),
    }
}

/// Creates a draft invoice; its id. A `send_invoice` invoice needs `days_until_due` or
/// `due_date`, as with Stripe.
pub fn create_invoice(tx: &Connection, ctx: &Ctx, p: NewInvoice) -> Result<String, ApiError> {
    crate::psp::customers::ensure_customer(tx, &p.customer, "customer")?;
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
            crate::psp::balance::PLATFORM_ACCOUNT,
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
pub(in crate::psp) fn attach_item(
    tx: &Connection,
    invoice: &str,
    item: &str,
) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE psp_invoice_items SET invoice = ?2, line_id = ?3 WHERE id = ?1",
        params![item, invoice, random::id("il")],
    )?;
    Ok(())
}

/// Sets a draft's total from its lines; refuses more than [`MAX_LINES`] lines or a total above
/// the largest amount.
pub(in crate::psp) fn recompute_total(tx: &Connection, invoice: &str) -> Result<(), ApiError> {
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
    if total > crate::psp::balance::MAX_AMOUNT {
        return Err(refuse(
            "amount_too_large",
            Some("amount"),
            format!(
                "An invoice's total must be no more than {}.",
                crate::psp::balance::MAX_AMOUNT
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
    pub metadata: Option<crate::psp::form::MetadataChanges>,
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
        crate::psp::form::merge_metadata(&mut meta, changes);
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
        let view = crate::psp::payment_intents::view(tx, &pi)?;
        if view.status != "succeeded" {
            crate::psp::payment_intents::cancel_payment_intent(tx, ctx, &pi, Some("void_invoice"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psp::invoices::test_support::*;

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
}
