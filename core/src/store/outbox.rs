//! The outbox: requests that must reach the server exactly once, each written with its
//! idempotency key and body before anything is sent, in the transaction that records the local
//! state it stands for (an invoice's "payment queued"). Generic by `kind`; rows are ordered by
//! `seq`, never by a clock (the phone's may be set back). At most one unfinished row per
//! `(kind, subject)` is enforced by a partial unique index, so a second tap cannot queue twice.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::invoices::upsert_in;
use super::{Store, StoredInvoice};
use crate::error::{Error, Result};

/// The kind of a payment of an invoice from the app (`POST /v1/me/invoices/{id}/payments`).
pub const INVOICE_PAYMENT: &str = "invoice_payment";
/// The kind of a member's message on an invoice (`POST /v1/me/invoices/{id}/messages`); its
/// subject is `{in_…}:{lmsg_…}`, one per message.
pub const INVOICE_MESSAGE: &str = "invoice_message";
/// Longest error text kept on a row.
const MAX_ERROR_CHARS: usize = 300;

/// Where an outbox row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    /// Written, not sent yet (or sent, and to be sent again with its key).
    Queued,
    /// Being sent; a row left so by a crash is queued again at the next start.
    Sending,
    /// The server answered and the local state follows its answer.
    Done,
    /// Nothing to do any more (already paid elsewhere, voided): explained, never sent again.
    Canceled,
    /// The server refused it for good (a 4xx, a decline); a new request needs a new key.
    Failed,
    /// Unreadable (bad JSON, unknown kind, no key): kept for a look, never sent.
    Quarantined,
}

impl OutboxState {
    /// The text stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Done => "done",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
            Self::Quarantined => "quarantined",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "done" => Self::Done,
            "canceled" => Self::Canceled,
            "failed" => Self::Failed,
            // The schema's CHECK allows nothing else; anything read otherwise is not sendable.
            _ => Self::Quarantined,
        }
    }

    /// Still to be sent.
    pub fn unfinished(self) -> bool {
        matches!(self, Self::Queued | Self::Sending)
    }
}

/// One row of the outbox, as stored (not yet trusted: see `app::outbox`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// The order rows are sent in.
    pub seq: i64,
    /// What it is ([`INVOICE_PAYMENT`]).
    pub kind: String,
    /// What it is about (the `in_…` of a payment).
    pub subject: String,
    /// The `Idempotency-Key` every attempt carries.
    pub idempotency_key: Option<String>,
    /// The JSON body.
    pub body: String,
    /// Minor units, for a payment.
    pub amount: Option<i64>,
    /// ISO 4217 upper case, for a payment.
    pub currency: Option<String>,
    /// Where it stands.
    pub state: OutboxState,
    /// Times it was sent.
    pub attempts: i64,
    /// Why the last attempt did not finish it, or why it was refused or canceled.
    pub last_error: Option<String>,
    /// The server's final answer (JSON), once there is one.
    pub answer: Option<String>,
    /// Unix seconds, phone clock (shown only; never used to order or to decide).
    pub created_at: i64,
    /// Unix seconds, phone clock.
    pub updated_at: i64,
}

/// What writing a request to the outbox did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enqueued {
    /// Written: it will be sent.
    Queued(OutboxRow),
    /// The same subject already has an unfinished row: that one stands, nothing was written.
    AlreadyQueued(OutboxRow),
}

const COLUMNS: &str = "seq, kind, subject, idempotency_key, body, amount, currency, state, \
                       attempts, last_error, answer, created_at, updated_at";

fn row_of(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        seq: r.get(0)?,
        kind: r.get(1)?,
        subject: r.get(2)?,
        idempotency_key: r.get(3)?,
        body: r.get(4)?,
        amount: r.get(5)?,
        currency: r.get(6)?,
        state: OutboxState::parse(&r.get::<_, String>(7)?),
        attempts: r.get(8)?,
        last_error: r.get(9)?,
        answer: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

fn bounded(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

fn unfinished_of(tx: &Transaction<'_>, kind: &str, subject: &str) -> Result<Option<OutboxRow>> {
    Ok(tx
        .query_row(
            &format!(
                "SELECT {COLUMNS} FROM outbox WHERE kind = ?1 AND subject = ?2
                 AND state IN ('queued', 'sending')"
            ),
            params![kind, subject],
            row_of,
        )
        .optional()?)
}

/// A request to write to the outbox.
#[derive(Debug, Clone)]
pub struct NewOutboxRow<'a> {
    /// What it is.
    pub kind: &'a str,
    /// What it is about.
    pub subject: &'a str,
    /// Its key, made by the caller.
    pub idempotency_key: &'a str,
    /// Its JSON body.
    pub body: &'a str,
    /// Minor units, for a payment.
    pub amount: Option<i64>,
    /// ISO 4217, for a payment.
    pub currency: Option<&'a str>,
}

impl Store {
    /// Writes `new` as queued and runs `local` (the local state it stands for) in the same
    /// transaction. A subject with an unfinished row already gets that row back and nothing is
    /// written: the partial unique index decides, so two taps racing cannot both queue.
    pub fn enqueue(
        &mut self,
        new: &NewOutboxRow<'_>,
        now: i64,
        local: impl FnOnce(&Transaction<'_>, i64) -> Result<()>,
    ) -> Result<Enqueued> {
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO outbox (kind, subject, idempotency_key, body, amount, currency, state,
                 created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7)",
            params![
                new.kind,
                new.subject,
                new.idempotency_key,
                new.body,
                new.amount,
                new.currency,
                now
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
                let existing = unfinished_of(&tx, new.kind, new.subject)?.ok_or_else(|| {
                    Error::Internal("outbox constraint without an unfinished row".into())
                })?;
                return Ok(Enqueued::AlreadyQueued(existing));
            }
            Err(e) => return Err(e.into()),
        }
        let seq = tx.last_insert_rowid();
        local(&tx, seq)?;
        let row = tx.query_row(
            &format!("SELECT {COLUMNS} FROM outbox WHERE seq = ?1"),
            [seq],
            row_of,
        )?;
        tx.commit()?;
        Ok(Enqueued::Queued(row))
    }

    /// Queues a payment of `invoice_id` and marks the invoice as paid from here (its
    /// `outbox_seq`), in one transaction.
    pub fn enqueue_invoice_payment(
        &mut self,
        new: &NewOutboxRow<'_>,
        now: i64,
    ) -> Result<Enqueued> {
        let subject = new.subject.to_owned();
        self.enqueue(new, now, move |tx, seq| {
            let changed = tx.execute(
                "UPDATE member_invoice SET outbox_seq = ?1 WHERE id = ?2",
                params![seq, subject],
            )?;
            if changed != 1 {
                return Err(Error::invalid(
                    "invoice_id",
                    "no such invoice on this phone; sync",
                ));
            }
            Ok(())
        })
    }

    /// The rows still to send, in the order they were written.
    pub fn outbox_unfinished(&self) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE state IN ('queued', 'sending') ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map([], row_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The newest `limit` rows of `kind`, newest first.
    pub fn outbox_entries(&self, kind: &str, limit: u32) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE kind = ?1 ORDER BY seq DESC LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(params![kind, limit], row_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The latest row of each invoice the phone paid (the one its `outbox_seq` names).
    pub fn invoice_payments(&self) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE seq IN
                 (SELECT outbox_seq FROM member_invoice WHERE outbox_seq IS NOT NULL)
             ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map([], row_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// One row.
    pub fn outbox_row(&self, seq: i64) -> Result<Option<OutboxRow>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM outbox WHERE seq = ?1"),
                [seq],
                row_of,
            )
            .optional()?)
    }

    /// Marks an unfinished row as being sent and counts the attempt; `false` when it is no
    /// longer unfinished (another task finished it).
    pub fn outbox_sending(&self, seq: i64, now: i64) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?2
             WHERE seq = ?1 AND state IN ('queued', 'sending')",
            params![seq, now],
        )? == 1)
    }

    /// The attempt met the network or a server error: queued again, same key, with why.
    pub fn outbox_requeue(&self, seq: i64, error: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'queued', last_error = ?2, updated_at = ?3
             WHERE seq = ?1 AND state IN ('queued', 'sending')",
            params![seq, bounded(error), now],
        )?;
        Ok(())
    }

    /// The answer and its local effect together: the row ends as `state` with the answer and
    /// why, and `invoice` (the server's, after the attempt) is written, in one transaction.
    /// `false` when the row was no longer unfinished (nothing written).
    pub fn outbox_finish(
        &mut self,
        seq: i64,
        state: OutboxState,
        last_error: Option<&str>,
        answer: Option<&str>,
        invoice: Option<&StoredInvoice>,
        now: i64,
    ) -> Result<bool> {
        self.outbox_finish_with(seq, state, last_error, answer, now, |tx| match invoice {
            Some(invoice) => upsert_in(tx, invoice, now),
            None => Ok(()),
        })
    }

    /// [`Store::outbox_finish`] with any local effect: `effect` runs in the transaction that
    /// ends the row, and only if the row was still unfinished.
    pub fn outbox_finish_with(
        &mut self,
        seq: i64,
        state: OutboxState,
        last_error: Option<&str>,
        answer: Option<&str>,
        now: i64,
        effect: impl FnOnce(&Transaction<'_>) -> Result<()>,
    ) -> Result<bool> {
        if state.unfinished() {
            return Err(Error::Internal(
                "an outbox row cannot finish as unfinished".into(),
            ));
        }
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE outbox SET state = ?2, last_error = ?3, answer = ?4, updated_at = ?5
             WHERE seq = ?1 AND state IN ('queued', 'sending')",
            params![seq, state.as_str(), last_error.map(bounded), answer, now],
        )?;
        if changed != 1 {
            return Ok(false);
        }
        effect(&tx)?;
        tx.commit()?;
        Ok(true)
    }

    /// Sets an unreadable row aside: never sent, kept with why.
    pub fn outbox_quarantine(&self, seq: i64, why: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'quarantined', last_error = ?2, updated_at = ?3
             WHERE seq = ?1",
            params![seq, bounded(why), now],
        )?;
        Ok(())
    }

    /// At start: a row a crash left `sending` is queued again (it is resent with its key, and
    /// the server replays its answer if it had committed). Returns how many.
    pub fn outbox_resume(&self) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE outbox SET state = 'queued' WHERE state = 'sending'",
            [],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoredInvoiceStatus;

    fn invoice(id: &str) -> StoredInvoice {
        StoredInvoice::open_for_tests(id)
    }

    fn payment<'a>(subject: &'a str, key: &'a str) -> NewOutboxRow<'a> {
        NewOutboxRow {
            kind: INVOICE_PAYMENT,
            subject,
            idempotency_key: key,
            body: r#"{"amount":4250,"currency":"eur"}"#,
            amount: Some(4250),
            currency: Some("EUR"),
        }
    }

    #[test]
    fn a_second_payment_of_the_same_invoice_gets_the_first_row_back_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.replace_invoices(&[invoice("in_a")], 1).unwrap();
        let Enqueued::Queued(first) = store
            .enqueue_invoice_payment(&payment("in_a", "idk_1"), 2)
            .unwrap()
        else {
            panic!("queued");
        };
        let again = store
            .enqueue_invoice_payment(&payment("in_a", "idk_2"), 3)
            .unwrap();
        assert_eq!(again, Enqueued::AlreadyQueued(first.clone()));
        assert_eq!(store.outbox_entries(INVOICE_PAYMENT, 10).unwrap().len(), 1);
        assert_eq!(
            store.invoice("in_a").unwrap().unwrap().extra.outbox_seq,
            Some(first.seq)
        );
        // Finished, the invoice may be paid again (a decline): a new row, a new key.
        assert!(store
            .outbox_finish(
                first.seq,
                OutboxState::Failed,
                Some("card_declined"),
                None,
                None,
                4
            )
            .unwrap());
        assert!(matches!(
            store
                .enqueue_invoice_payment(&payment("in_a", "idk_3"), 5)
                .unwrap(),
            Enqueued::Queued(_)
        ));
    }

    #[test]
    fn a_payment_of_an_invoice_the_phone_does_not_have_writes_no_row() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let Err(Error::InvalidInput { field, .. }) =
            store.enqueue_invoice_payment(&payment("in_zz", "idk_1"), 1)
        else {
            panic!("refused");
        };
        assert_eq!(field, "invoice_id");
        assert!(
            store
                .outbox_entries(INVOICE_PAYMENT, 10)
                .unwrap()
                .is_empty(),
            "rolled back with the invoice"
        );
    }

    #[test]
    fn a_row_left_sending_by_a_crash_is_queued_again_with_its_key_in_seq_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .replace_invoices(&[invoice("in_a"), invoice("in_b")], 1)
            .unwrap();
        // The clock goes back between the two: seq, not time, keeps the order.
        store
            .enqueue_invoice_payment(&payment("in_a", "idk_a"), 100)
            .unwrap();
        store
            .enqueue_invoice_payment(&payment("in_b", "idk_b"), 50)
            .unwrap();
        let first = store.outbox_unfinished().unwrap()[0].seq;
        assert!(store.outbox_sending(first, 101).unwrap());
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.outbox_resume().unwrap(), 1);
        let rows = store.outbox_unfinished().unwrap();
        let keys: Vec<_> = rows
            .iter()
            .map(|r| r.idempotency_key.clone().unwrap())
            .collect();
        assert_eq!(keys, ["idk_a", "idk_b"]);
        assert_eq!((rows[0].state, rows[0].attempts), (OutboxState::Queued, 1));
    }

    #[test]
    fn the_answer_and_the_invoice_are_written_together_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.replace_invoices(&[invoice("in_a")], 1).unwrap();
        store
            .enqueue_invoice_payment(&payment("in_a", "idk_a"), 2)
            .unwrap();
        let seq = store.outbox_unfinished().unwrap()[0].seq;
        let mut paid = invoice("in_a");
        paid.status = StoredInvoiceStatus::Paid;
        paid.amount_remaining = 0;
        assert!(store
            .outbox_finish(seq, OutboxState::Done, None, Some("{}"), Some(&paid), 3)
            .unwrap());
        let stored = store.invoice("in_a").unwrap().unwrap();
        assert_eq!(stored.status, StoredInvoiceStatus::Paid);
        assert_eq!(
            stored.extra.outbox_seq,
            Some(seq),
            "the invoice keeps its row"
        );
        assert!(
            !store
                .outbox_finish(seq, OutboxState::Failed, None, None, None, 4)
                .unwrap(),
            "a finished row is never finished again"
        );
        assert_eq!(
            store.outbox_row(seq).unwrap().unwrap().state,
            OutboxState::Done
        );
    }
}
