//! The invoice tables and the reads and writes on them that several operations share: the
//! schema (one partial unique index keeps one live PaymentIntent per invoice), the [`Row`] the
//! operations read, the compare-and-set amounts write, the links to PaymentIntents, and the
//! hosted token's stored hash. Kept apart so the SQL that guards concurrency is in one place.

use axum::http::StatusCode;
use rusqlite::{params, Connection, OptionalExtension};

use crate::http::ApiError;
use crate::psp::invoice_rules::{Amounts, Status};
use crate::psp::model::missing;

/// The invoice tables (one migration entry of [`crate::psp::MIGRATIONS`]).
pub(in crate::psp) const MIGRATION: &str = r#"
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

/// What the operations read of an invoice.
#[derive(Debug, Clone)]
pub(in crate::psp) struct Row {
    pub id: String,
    pub customer: String,
    pub status: Status,
    pub currency: String,
    pub amounts: Amounts,
    pub number: Option<String>,
}

pub(in crate::psp) fn row(conn: &Connection, id: &str, param: &str) -> Result<Row, ApiError> {
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

/// Writes new amounts and status if the row still holds what `before` read (compare-and-set):
/// a concurrent change makes this a 409 and the caller's transaction rolls back.
pub(in crate::psp) fn store_amounts(
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

/// The invoice's live payment attempt, if any.
pub(in crate::psp) fn active_intent(
    conn: &Connection,
    invoice: &str,
) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM psp_payment_intents WHERE invoice = ?1 AND status <> 'canceled'",
        )?
        .query_row([invoice], |r| r.get(0))
        .optional()?)
}

/// The invoice a PaymentIntent was made for (its `invoice` field).
pub(in crate::psp) fn invoice_of_intent(
    conn: &Connection,
    intent: &str,
) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached("SELECT invoice FROM psp_payment_intents WHERE id = ?1")?
        .query_row([intent], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The stored hash of a hosted page token.
pub(in crate::psp) fn token_hash(token: &str) -> String {
    tierspay_core::auth::b64url(tierspay_core::auth::sha256(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psp::invoices::payment_intent_for;
    use crate::psp::invoices::test_support::*;
    use crate::psp::model::Ctx;

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
