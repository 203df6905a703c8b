//! Incoming SEPA credit transfers (`sct_…`) and their reconciliation by RF creditor reference.
//! Not a Stripe resource: `POST /v1/test_helpers/bank_transfers` is what the PSP's bank tells
//! it when a member's transfer reaches the collection account (amount, remittance text, the
//! debtor's name and IBAN, SEPA's end-to-end id). Everything happens in that one transaction:
//!
//! 1. The money is booked: one ledger movement of type `payment` from `external:bank`. A credit
//!    that matches an invoice goes to the platform's payments balance (the invoices are the
//!    platform's, `psp_invoices.account`, as card payments for them are); one that does not
//!    goes to `acct_1TiersPayPlatform:unreconciled`, an internal sub-account in no balance:
//!    the money is here but belongs to no one until a person decides.
//! 2. The remittance text is read (`remittance_match.rs`, pure). Exactly one valid reference
//!    of a known, payable invoice: `invoices::apply_payment` (part payments lower
//!    `amount_remaining`; beyond it is `amount_overpaid`, with `invoice.overpaid`), and the
//!    applied part is passed on to the invoice's `transfer_data[destination]`, as for a card.
//!    Anything else (no reference, a checksum that fails, an unknown reference, several
//!    references, a void or draft invoice) goes to the review queue with its reason.
//! 3. What exceeds `amount_remaining` (a transfer after a card payment, or simply too much) is
//!    refunded to the debtor at once (`refunds.rs`, `destination_details.type =
//!    eu_bank_transfer`), never kept.
//!
//! The review queue: `GET /v1/test_helpers/bank_transfers/review`; a person then applies a
//! credit to the invoice it was meant for (`…/{id}/apply`, `invoice`) or returns it to the
//! debtor (`…/{id}/return`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;
use tierspay_core::domain::rf_reference::RfReference;

use super::balance::{self, Entry, PLATFORM_ACCOUNT};
use super::form::{invalid, Fields};
use super::invoices::{self, PaymentSource};
use super::model::{self, missing, refuse, Ctx, Paging};
use super::refunds::{self, Debtor};
use super::remittance_match::{self, Decision, Review, MAX_REMITTANCE_CHARS};
use super::transfers;
use super::wire::{body_fields, query_fields, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// Where credits wait while in review: the platform's internal sub-account, in no balance.
pub const UNRECONCILED: &str = "acct_1TiersPayPlatform:unreconciled";
/// Longest debtor name (SEPA: 70 characters).
const MAX_NAME: usize = 70;
/// Longest end-to-end id (SEPA: 35 characters).
const MAX_END_TO_END: usize = 35;

/// The table (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_bank_transfers (
        seq                    INTEGER PRIMARY KEY,
        id                     TEXT NOT NULL UNIQUE,
        amount                 INTEGER NOT NULL CHECK (amount > 0),
        currency               TEXT NOT NULL,
        remittance_information TEXT NOT NULL,
        debtor_name            TEXT NOT NULL,
        debtor_iban            TEXT,
        end_to_end_id          TEXT NOT NULL,
        status                 TEXT NOT NULL CHECK (status IN ('matched', 'review', 'returned')),
        reference              TEXT,
        invoice                TEXT REFERENCES psp_invoices(id),
        review_reason          TEXT,
        review_message         TEXT,
        amount_applied         INTEGER NOT NULL DEFAULT 0 CHECK (amount_applied >= 0),
        amount_overpaid        INTEGER NOT NULL DEFAULT 0 CHECK (amount_overpaid >= 0),
        balance_transaction    TEXT,
        resolved_at            INTEGER,
        created                INTEGER NOT NULL,
        CHECK (amount_applied + amount_overpaid <= amount),
        CHECK ((status = 'review') = (review_reason IS NOT NULL))
    );
    CREATE INDEX psp_bank_transfers_status ON psp_bank_transfers (status, seq);
    CREATE INDEX psp_bank_transfers_invoice ON psp_bank_transfers (invoice) WHERE invoice IS NOT NULL;
"#;

/// An incoming credit as the bank reports it.
#[derive(Debug, Clone)]
pub struct IncomingCredit {
    /// Minor units.
    pub amount: i64,
    /// `eur`.
    pub currency: String,
    /// SEPA's unstructured remittance (at most 140 characters).
    pub remittance_information: String,
    /// At most 70 characters.
    pub debtor_name: String,
    /// Electronic form (upper case, no spaces), checked.
    pub debtor_iban: Option<String>,
    /// SEPA's end-to-end id (`NOTPROVIDED` is common: not unique).
    pub end_to_end_id: String,
}

/// Checks an IBAN (ISO 13616: country letters, check digits, mod 97 = 1); its electronic form.
pub fn normalize_iban(raw: &str) -> Option<String> {
    let iban: String = raw
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = iban.as_bytes();
    if !(15..=34).contains(&b.len())
        || !b[..2].iter().all(u8::is_ascii_uppercase)
        || !b[2..4].iter().all(u8::is_ascii_digit)
        || !b.iter().all(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let mut n: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        n = if c.is_ascii_digit() {
            (n * 10 + u32::from(c - b'0')) % 97
        } else {
            (n * 100 + u32::from(c - b'A' + 10)) % 97
        };
    }
    (n == 1).then_some(iban)
}

/// Whether `text` has a control or invisible formatting character (which could hide or
/// reorder what a reviewer reads).
fn has_hidden(text: &str) -> bool {
    text.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}')
    })
}

fn read_text(
    f: &mut Fields,
    key: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>, ApiError> {
    let v = if required {
        Some(f.required(key)?)
    } else {
        f.str(key)?
    };
    let Some(v) = v else { return Ok(None) };
    if v.chars().count() > max {
        return Err(invalid(key, format!("{key} has at most {max} characters.")));
    }
    if has_hidden(&v) {
        return Err(invalid(
            key,
            format!("{key} may not hold control or invisible characters."),
        ));
    }
    Ok(Some(v))
}

/// Reads the test helper's parameters.
fn read_credit(f: &mut Fields) -> Result<IncomingCredit, ApiError> {
    let amount = f
        .int("amount")?
        .ok_or_else(|| invalid("amount", "Missing required param: amount."))?;
    balance::check_amount(amount, "amount").map_err(ApiError::not_executed)?;
    let currency = balance::read_currency(f, "currency")?;
    let remittance_information =
        read_text(f, "remittance_information", MAX_REMITTANCE_CHARS, false)?.unwrap_or_default();
    let debtor_name = read_text(f, "debtor_name", MAX_NAME, true)?.unwrap_or_default();
    if debtor_name.trim().is_empty() {
        return Err(invalid("debtor_name", "debtor_name may not be empty."));
    }
    let debtor_iban = match read_text(f, "debtor_iban", 42, false)? {
        Some(raw) => Some(normalize_iban(&raw).ok_or_else(|| {
            invalid(
                "debtor_iban",
                "Invalid IBAN: its country, length or check digits are wrong.",
            )
        })?),
        None => None,
    };
    let end_to_end_id = read_text(f, "end_to_end_id", MAX_END_TO_END, true)?.unwrap_or_default();
    if end_to_end_id.is_empty() || !end_to_end_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "end_to_end_id",
            "end_to_end_id is 1 to 35 visible ASCII characters.",
        ));
    }
    Ok(IncomingCredit {
        amount,
        currency,
        remittance_information,
        debtor_name,
        debtor_iban,
        end_to_end_id,
    })
}

/// Why a credit waits for a person, beyond what the matcher says.
fn invoice_refusal(status: &str) -> Option<(&'static str, &'static str)> {
    match status {
        "void" => Some((
            "invoice_void",
            "The reference is a void invoice's: it cannot be paid.",
        )),
        "draft" => Some((
            "invoice_draft",
            "The reference is a draft invoice's: it cannot be paid yet.",
        )),
        _ => None,
    }
}

/// The invoice a reference belongs to, and its status.
fn invoice_of(conn: &Connection, rf: &RfReference) -> Result<Option<(String, String)>, ApiError> {
    let Some(id) = invoices::find_by_reference(conn, rf.as_str()) else {
        return Ok(None);
    };
    let status: String = conn.query_row(
        "SELECT status FROM psp_invoices WHERE id = ?1",
        [&id],
        |r| r.get(0),
    )?;
    Ok(Some((id, status)))
}

/// Applies `amount` of credit `id` (already on the platform's balance) to `invoice`: the
/// invoice's payment, the pass-on to its destination, the refund of any excess. Returns what
/// was applied and overpaid.
fn settle(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    invoice: &str,
    amount: i64,
    currency: &str,
    iban: Option<&str>,
) -> Result<(i64, i64), ApiError> {
    let applied = invoices::apply_payment(
        tx,
        invoice,
        amount,
        PaymentSource::BankTransfer(id.to_owned()),
        ctx.now,
    )?;
    let destination: Option<String> = tx.query_row(
        "SELECT transfer_destination FROM psp_invoices WHERE id = ?1",
        [invoice],
        |r| r.get(0),
    )?;
    if let (Some(destination), true) = (destination, applied.applied > 0) {
        transfers::create_transfer(
            tx,
            ctx,
            transfers::NewTransfer {
                from: PLATFORM_ACCOUNT.to_owned(),
                destination,
                amount: applied.applied,
                currency: currency.to_owned(),
                transfer_group: Some(invoice.to_owned()),
                source_transaction: None,
                description: Some(format!("Invoice {invoice}")),
                metadata: serde_json::Map::new(),
            },
        )?;
    }
    if applied.overpaid > 0 {
        refunds::refund_bank_transfer(
            tx,
            ctx,
            Debtor {
                bank_transfer: id,
                from_account: PLATFORM_ACCOUNT,
                iban,
                currency,
            },
            applied.overpaid,
            Some("duplicate"),
            &format!("Overpayment of invoice {invoice}"),
        )?;
    }
    Ok((applied.applied, applied.overpaid))
}

/// Why a credit waits: the review queue's code and sentence.
type ReviewReason = (String, String);

/// Books and reconciles an incoming credit (see the module's documentation); its `sct_…` id.
pub fn receive(tx: &Connection, ctx: &Ctx, c: IncomingCredit) -> Result<String, ApiError> {
    let id = random::id("sct");
    // The matcher asks which references are invoices; remember the answers for the decision.
    let decision = remittance_match::decide(&c.remittance_information, |rf| {
        invoice_of(tx, rf).ok().flatten().is_some()
    });
    let (target, review): (Option<(RfReference, String)>, Option<ReviewReason>) = match decision {
        Decision::Matched(rf) => match invoice_of(tx, &rf)? {
            Some((invoice, status)) => match invoice_refusal(&status) {
                Some((code, message)) => (Some((rf, invoice)), Some((code.into(), message.into()))),
                None => (Some((rf, invoice)), None),
            },
            None => {
                let r = Review::Unknown(rf);
                (None, Some((r.code().into(), r.message())))
            }
        },
        Decision::Review(r) => (None, Some((r.code().into(), r.message()))),
    };
    let account = if review.is_some() {
        UNRECONCILED
    } else {
        PLATFORM_ACCOUNT
    };
    let txns = balance::post_movement(
        tx,
        ctx,
        &[
            Entry::new("external:bank", -c.amount, &c.currency),
            Entry::new(account, c.amount, &c.currency),
        ],
        "payment",
        &id,
        Some("SEPA credit transfer"),
    )?;
    let (reference, invoice) = match &target {
        Some((rf, inv)) => (Some(rf.as_str().to_owned()), Some(inv.clone())),
        None => (None, None),
    };
    tx.execute(
        "INSERT INTO psp_bank_transfers (id, amount, currency, remittance_information, debtor_name,
             debtor_iban, end_to_end_id, status, reference, invoice, review_reason, review_message,
             balance_transaction, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            id,
            c.amount,
            c.currency,
            c.remittance_information,
            c.debtor_name,
            c.debtor_iban,
            c.end_to_end_id,
            if review.is_some() {
                "review"
            } else {
                "matched"
            },
            reference,
            invoice,
            review.as_ref().map(|r| &r.0),
            review.as_ref().map(|r| &r.1),
            txns.first(),
            ctx.now
        ],
    )?;
    if let (None, Some(inv)) = (&review, &invoice) {
        let (applied, overpaid) = settle(
            tx,
            ctx,
            &id,
            inv,
            c.amount,
            &c.currency,
            c.debtor_iban.as_deref(),
        )?;
        record_settled(tx, &id, applied, overpaid, None)?;
    }
    Ok(id)
}

fn record_settled(
    tx: &Connection,
    id: &str,
    applied: i64,
    overpaid: i64,
    resolved_at: Option<i64>,
) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE psp_bank_transfers SET amount_applied = ?2, amount_overpaid = ?3, status = 'matched',
             review_reason = NULL, review_message = NULL, resolved_at = COALESCE(?4, resolved_at)
         WHERE id = ?1",
        params![id, applied, overpaid, resolved_at],
    )?;
    Ok(())
}

struct Row {
    amount: i64,
    currency: String,
    status: String,
    iban: Option<String>,
}

fn row(conn: &Connection, id: &str) -> Result<Row, ApiError> {
    conn.query_row(
        "SELECT amount, currency, status, debtor_iban FROM psp_bank_transfers WHERE id = ?1",
        [id],
        |r| {
            Ok(Row {
                amount: r.get(0)?,
                currency: r.get(1)?,
                status: r.get(2)?,
                iban: r.get(3)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("bank_transfer", "id", id))
}

fn ensure_in_review(id: &str, r: &Row) -> Result<(), ApiError> {
    if r.status != "review" {
        return Err(refuse(
            "bank_transfer_unexpected_state",
            None,
            format!("Bank transfer {id} is {}, not in review.", r.status),
        ));
    }
    Ok(())
}

/// A person applies a credit in review to `invoice`: the money leaves the unreconciled
/// sub-account for the platform's balance, then is settled as a matched credit.
pub fn apply_reviewed(tx: &Connection, ctx: &Ctx, id: &str, invoice: &str) -> Result<(), ApiError> {
    let r = row(tx, id)?;
    ensure_in_review(id, &r)?;
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM psp_invoices WHERE id = ?1",
            [invoice],
            |r| r.get(0),
        )
        .optional()?;
    let status = status.ok_or_else(|| missing("invoice", "invoice", invoice))?;
    if let Some((code, message)) = invoice_refusal(&status) {
        return Err(refuse(code, Some("invoice"), message));
    }
    balance::post_movement(
        tx,
        ctx,
        &[
            Entry::new(UNRECONCILED, -r.amount, &r.currency),
            Entry::new(PLATFORM_ACCOUNT, r.amount, &r.currency),
        ],
        "payment",
        id,
        Some("SEPA credit transfer, reconciled by hand"),
    )?;
    let reference: Option<String> = tx.query_row(
        "SELECT rf_reference FROM psp_invoices WHERE id = ?1",
        [invoice],
        |r| r.get(0),
    )?;
    tx.execute(
        "UPDATE psp_bank_transfers SET invoice = ?2, reference = ?3 WHERE id = ?1",
        params![id, invoice, reference],
    )?;
    let (applied, overpaid) = settle(
        tx,
        ctx,
        id,
        invoice,
        r.amount,
        &r.currency,
        r.iban.as_deref(),
    )?;
    record_settled(tx, id, applied, overpaid, Some(ctx.now))
}

/// A person sends a credit in review back to its debtor: a refund of the whole amount from the
/// unreconciled sub-account.
pub fn return_reviewed(tx: &Connection, ctx: &Ctx, id: &str) -> Result<(), ApiError> {
    let r = row(tx, id)?;
    ensure_in_review(id, &r)?;
    refunds::refund_bank_transfer(
        tx,
        ctx,
        Debtor {
            bank_transfer: id,
            from_account: UNRECONCILED,
            iban: r.iban.as_deref(),
            currency: &r.currency,
        },
        r.amount,
        None,
        "Returned to the debtor after review",
    )?;
    tx.execute(
        "UPDATE psp_bank_transfers SET status = 'returned', review_reason = NULL, resolved_at = ?2 WHERE id = ?1",
        params![id, ctx.now],
    )?;
    Ok(())
}

/// A credit as the test helpers show it.
pub fn bank_transfer_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    let doc = conn
        .query_row(
            "SELECT id, amount, currency, remittance_information, debtor_name, debtor_iban, end_to_end_id,
                    status, reference, invoice, review_reason, review_message, amount_applied,
                    amount_overpaid, balance_transaction, resolved_at, created
             FROM psp_bank_transfers WHERE id = ?1",
            [id],
            |r| {
                let iban: Option<String> = r.get(5)?;
                let reason: Option<String> = r.get(10)?;
                Ok(json!({
                    "id": r.get::<_, String>(0)?,
                    "object": "bank_transfer",
                    "amount": r.get::<_, i64>(1)?,
                    "currency": r.get::<_, String>(2)?,
                    "remittance_information": r.get::<_, String>(3)?,
                    "debtor": {
                        "name": r.get::<_, String>(4)?,
                        "iban_last4": iban.as_ref().map(|i| i[i.len().saturating_sub(4)..].to_owned()),
                    },
                    "end_to_end_id": r.get::<_, String>(6)?,
                    "status": r.get::<_, String>(7)?,
                    "reference": r.get::<_, Option<String>>(8)?,
                    "invoice": r.get::<_, Option<String>>(9)?,
                    "review": reason.map(|code| json!({ "reason": code, "message": r.get::<_, Option<String>>(11).ok().flatten() })),
                    "amount_applied": r.get::<_, i64>(12)?,
                    "amount_overpaid": r.get::<_, i64>(13)?,
                    "balance_transaction": r.get::<_, Option<String>>(14)?,
                    "resolved_at": r.get::<_, Option<i64>>(15)?,
                    "created": r.get::<_, i64>(16)?,
                    "livemode": false,
                }))
            },
        )
        .optional()?;
    let mut doc = doc.ok_or_else(|| missing("bank_transfer", "id", id))?;
    let refunds: Vec<Value> = conn
        .prepare_cached("SELECT id FROM psp_refunds WHERE bank_transfer = ?1 ORDER BY seq")?
        .query_map([id], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(Value::String)
        .collect();
    doc["refunds"] = Value::Array(refunds);
    Ok(doc)
}

// ------------------------------------------------------------------- endpoints

/// The test helper routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/test_helpers/bank_transfers", post(create).get(list))
        .route("/v1/test_helpers/bank_transfers/review", get(review_queue))
        .route("/v1/test_helpers/bank_transfers/{id}", get(retrieve))
        .route("/v1/test_helpers/bank_transfers/{id}/apply", post(apply))
        .route(
            "/v1/test_helpers/bank_transfers/{id}/return",
            post(give_back),
        )
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let credit = read_credit(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = receive(tx, &ctx, credit)?;
            bank_transfer_json(tx, &id)
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
    let doc = state
        .db
        .call(move |conn| bank_transfer_json(conn, &id))
        .await?;
    Ok(Json(doc))
}

async fn apply(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let invoice = f.required("invoice")?;
    if invoice.len() > 255 || !invoice.starts_with("in_") {
        return Err(invalid("invoice", "invoice is an invoice id (in_…)."));
    }
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            apply_reviewed(tx, &ctx, &id, &invoice)?;
            bank_transfer_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn give_back(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    body_fields(&headers, &body)?.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            return_reviewed(tx, &ctx, &id)?;
            bank_transfer_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn page(
    state: AppState,
    status: Option<String>,
    paging: Paging,
    url: &'static str,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_bank_transfers",
                "?1 IS NULL OR status = ?1",
                &[&status],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| bank_transfer_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, url))
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let status = f.one_of("status", &["matched", "review", "returned"])?;
    f.finish()?;
    page(state, status, paging, "/v1/test_helpers/bank_transfers").await
}

async fn review_queue(
    State(state): State<AppState>,
    _psp: Psp,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    f.finish()?;
    page(
        state,
        Some("review".into()),
        paging,
        "/v1/test_helpers/bank_transfers/review",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked() {
        assert_eq!(
            normalize_iban("fr76 3000 6000 0112 3456 7890 189").as_deref(),
            Some("FR7630006000011234567890189")
        );
        for bad in [
            "FR7630006000011234567890188",
            "FR76",
            "7630006000011234567890189FR",
            "FR76 3000 6000 0112 3456 7890 18!",
            "",
        ] {
            assert_eq!(normalize_iban(bad), None, "{bad}");
        }
    }

    #[test]
    fn hidden_characters_are_found() {
        assert!(has_hidden("a\u{202E}b"));
        assert!(has_hidden("a\nb"));
        assert!(has_hidden("a\u{200B}b"));
        assert!(!has_hidden("Facture RF18 5390 0754 7034, merci"));
    }
}
