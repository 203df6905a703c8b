//! The member's arrears invoices as last synced, for the list offline, and the refused payment
//! links waiting to be reported to the server. Neither table has a column for a link token
//! (a token is a bearer for the invoice's page) or a card: a report keeps a digest of the token.

use rusqlite::{params, OptionalExtension, Row};

use super::Store;
use crate::error::{Error, Result};
use crate::wire::{InvoiceHistoryEntry, PaidVia, MAX_HISTORY};

/// Invoices kept on the phone; the server keeps them all.
const KEPT_INVOICES: usize = 200;
/// Invoices kept by the incremental sync (a cache the list reads in a few milliseconds).
pub const KEPT_CACHE: i64 = 10_000;
/// Invoices one read of the list returns: a screen's worth, open ones first, so the list costs
/// the same with 10,000 kept as with 100 (further pages: [`Store::invoices_page`]).
pub const LIST_PAGE: u32 = 100;
/// Reports kept while the server cannot be reached; the oldest go first past it.
const KEPT_REPORTS: i64 = 100;

/// Where an invoice stands, as the phone keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredInvoiceStatus {
    /// Something is owed.
    Open,
    /// Settled.
    Paid,
    /// Cancelled.
    Void,
    /// Written off, still payable.
    Uncollectible,
}

impl StoredInvoiceStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
            Self::Uncollectible => "uncollectible",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "open" => Self::Open,
            "paid" => Self::Paid,
            "void" => Self::Void,
            "uncollectible" => Self::Uncollectible,
            other => return Err(Error::Internal(format!("stored invoice status {other:?}"))),
        })
    }
}

/// One invoice as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInvoice {
    /// The server's `in_…`.
    pub id: String,
    /// The number printed on letters.
    pub number: Option<String>,
    /// Where it stands.
    pub status: StoredInvoiceStatus,
    /// `premium` or `visit`.
    pub source: String,
    /// The creditor's free text.
    pub description: Option<String>,
    /// The member's contract reference.
    pub contract_ref: String,
    /// ISO 4217, upper case.
    pub currency: String,
    /// Owed after credit notes, minor units.
    pub amount_due: i64,
    /// Paid so far, minor units.
    pub amount_paid: i64,
    /// Still owed, minor units.
    pub amount_remaining: i64,
    /// Unix seconds.
    pub due_date: Option<i64>,
    /// The ISO 11649 reference, electronic form.
    pub rf_reference: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// How it was paid, its history and last change (issue 12).
    pub extra: StoredInvoiceExtra,
}

/// What issue 12 added to an invoice on the phone: how and when it was paid, what happened to
/// it, and the outbox row of the phone's own latest payment of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredInvoiceExtra {
    /// Unix seconds, once paid.
    pub paid_at: Option<i64>,
    /// How it was paid, once paid.
    pub paid_via: Option<PaidVia>,
    /// Oldest first, at most [`MAX_HISTORY`].
    pub history: Vec<InvoiceHistoryEntry>,
    /// The server's last change, Unix seconds.
    pub updated: i64,
    /// The `seq` of this phone's latest outbox row for it (`None`: never paid from here).
    pub outbox_seq: Option<i64>,
}

/// A refused link, written before its report is sent so the report keeps one key across retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLinkReport {
    /// The `Idempotency-Key` of its POST.
    pub idempotency_key: String,
    /// The JSON body.
    pub body: String,
}

fn invoice_of(r: &Row<'_>) -> rusqlite::Result<(StoredInvoice, String)> {
    Ok((
        StoredInvoice {
            id: r.get(0)?,
            number: r.get(1)?,
            // Replaced below: rusqlite's closure cannot return the core's error.
            status: StoredInvoiceStatus::Open,
            source: r.get(3)?,
            description: r.get(4)?,
            contract_ref: r.get(5)?,
            currency: r.get(6)?,
            amount_due: r.get(7)?,
            amount_paid: r.get(8)?,
            amount_remaining: r.get(9)?,
            due_date: r.get(10)?,
            rf_reference: r.get(11)?,
            created: r.get(12)?,
            extra: StoredInvoiceExtra {
                paid_at: r.get(13)?,
                // Written by this code from the wire's enums: a value it cannot read again is
                // shown as unknown rather than failing the whole list.
                paid_via: r
                    .get::<_, Option<String>>(14)?
                    .and_then(|v| serde_json::from_value(serde_json::Value::String(v)).ok()),
                history: serde_json::from_str(&r.get::<_, String>(15)?).unwrap_or_default(),
                updated: r.get(16)?,
                outbox_seq: r.get(17)?,
            },
        },
        r.get(2)?,
    ))
}

const COLUMNS: &str = "id, number, status, source, description, contract_ref, currency, \
                       amount_due, amount_paid, amount_remaining, due_date, rf_reference, created, \
                       paid_at, paid_via, history, updated, outbox_seq";

/// Changes one page may carry: the server's own limit.
pub const MAX_CHANGES_PER_PAGE: usize = 100;

fn paid_via_code(v: Option<PaidVia>) -> Option<String> {
    v.and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// Writes one invoice whole (insert or replace), keeping the phone's own `outbox_seq`.
fn upsert(tx: &rusqlite::Transaction<'_>, i: &StoredInvoice, now: i64) -> Result<()> {
    // The newest lines only: a hostile server cannot grow one row without bound.
    let skip = i.extra.history.len().saturating_sub(MAX_HISTORY);
    let history = serde_json::to_string(&i.extra.history[skip..])
        .map_err(|e| Error::Internal(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO member_invoice (id, number, status, source, description, contract_ref,
             currency, amount_due, amount_paid, amount_remaining, due_date, rf_reference, created,
             synced_at, paid_at, paid_via, history, updated, outbox_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             (SELECT MAX(seq) FROM outbox WHERE kind = 'invoice_payment' AND subject = ?1))
         ON CONFLICT (id) DO UPDATE SET number = excluded.number, status = excluded.status,
             source = excluded.source, description = excluded.description,
             contract_ref = excluded.contract_ref, currency = excluded.currency,
             amount_due = excluded.amount_due, amount_paid = excluded.amount_paid,
             amount_remaining = excluded.amount_remaining, due_date = excluded.due_date,
             rf_reference = excluded.rf_reference, created = excluded.created,
             synced_at = excluded.synced_at, paid_at = excluded.paid_at,
             paid_via = excluded.paid_via, history = excluded.history,
             updated = excluded.updated, outbox_seq = excluded.outbox_seq",
    )?
    .execute(params![
        i.id,
        i.number,
        i.status.as_str(),
        i.source,
        i.description,
        i.contract_ref,
        i.currency,
        i.amount_due,
        i.amount_paid,
        i.amount_remaining,
        i.due_date,
        i.rf_reference,
        i.created,
        now,
        i.extra.paid_at,
        paid_via_code(i.extra.paid_via),
        history,
        i.extra.updated,
    ])?;
    Ok(())
}

/// Writes one invoice whole inside the caller's transaction (the outbox's answer).
pub(super) fn upsert_in(tx: &rusqlite::Transaction<'_>, i: &StoredInvoice, now: i64) -> Result<()> {
    upsert(tx, i, now)
}

impl Store {
    /// Replaces every invoice with the server's list (the newest [`KEPT_INVOICES`]) and notes
    /// the sync time: an invoice the server no longer lists is gone from the phone too, and an
    /// empty list is still a synced one.
    pub fn replace_invoices(&mut self, invoices: &[StoredInvoice], now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM member_invoice", [])?;
        for i in invoices.iter().take(KEPT_INVOICES) {
            upsert(&tx, i, now)?;
        }
        // A full list replaces what links told before the first sync.
        tx.execute("DELETE FROM link_invoice", [])?;
        tx.execute(
            "INSERT INTO member_invoice_sync (id, synced_at) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET synced_at = excluded.synced_at",
            [now],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Applies one page of `GET /v1/me/invoice_changes`: each invoice written whole, and the
    /// cursor after them, in one transaction (a crash keeps both or neither, so the next page
    /// asked is always the one after what is stored). Past [`KEPT_CACHE`] the oldest settled
    /// invoices go.
    pub fn apply_invoice_changes(
        &mut self,
        invoices: &[StoredInvoice],
        cursor: &str,
        now: i64,
    ) -> Result<()> {
        if invoices.len() > MAX_CHANGES_PER_PAGE {
            return Err(Error::Protocol(format!(
                "the server sent {} changes in one page (at most {MAX_CHANGES_PER_PAGE})",
                invoices.len()
            )));
        }
        let tx = self.conn.transaction()?;
        for i in invoices {
            upsert(&tx, i, now)?;
        }
        tx.execute(
            "INSERT INTO member_invoice_sync (id, synced_at, cursor) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET synced_at = excluded.synced_at,
                 cursor = excluded.cursor",
            params![now, cursor],
        )?;
        if !invoices.is_empty() {
            tx.execute("DELETE FROM link_invoice", [])?;
        }
        let count: i64 = tx.query_row("SELECT COUNT(*) FROM member_invoice", [], |r| r.get(0))?;
        if count > KEPT_CACHE {
            tx.execute(
                "DELETE FROM member_invoice WHERE id NOT IN (SELECT id FROM member_invoice
                     ORDER BY status NOT IN ('open', 'uncollectible'), created DESC, id DESC
                     LIMIT ?1)",
                [KEPT_CACHE],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The invoice cursor to ask changes after; `None` before the first incremental sync.
    pub fn invoice_cursor(&self) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT cursor FROM member_invoice_sync WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The last member event seen (`0`: none yet).
    pub fn events_after(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row(
                "SELECT events_after FROM member_invoice_sync WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Notes the last member event seen once the invoices were synced; it only moves forward.
    pub fn set_events_after(&self, seq: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE member_invoice_sync SET events_after = MAX(events_after, ?1) WHERE id = 1",
            [seq],
        )?;
        Ok(())
    }

    /// The first page of the invoices as last synced ([`LIST_PAGE`], open ones first, then
    /// newest first); `None` if never synced.
    pub fn invoices(&self) -> Result<Option<(Vec<StoredInvoice>, i64)>> {
        self.invoices_page(0, LIST_PAGE)
    }

    /// How many invoices the phone holds.
    pub fn invoice_count(&self) -> Result<u32> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM member_invoice", [], |r| r.get(0))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// `limit` invoices (at most [`LIST_PAGE`]) after the first `offset`, in the list's order
    /// (open ones first, then newest first; the `member_invoice_list` index holds that order,
    /// so no page sorts the table); `None` if never synced.
    pub fn invoices_page(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Option<(Vec<StoredInvoice>, i64)>> {
        let synced: Option<i64> = self
            .conn()
            .query_row(
                "SELECT synced_at FROM member_invoice_sync WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let Some(synced) = synced else {
            return Ok(None);
        };
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM member_invoice
             ORDER BY status NOT IN ('open', 'uncollectible'), created DESC, id DESC
             LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt
            .query_map([limit.min(LIST_PAGE), offset], invoice_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let list = rows
            .into_iter()
            .map(|(mut i, status)| {
                i.status = StoredInvoiceStatus::parse(&status)?;
                Ok(i)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((list, synced)))
    }

    /// One invoice as last synced.
    pub fn invoice(&self, id: &str) -> Result<Option<StoredInvoice>> {
        let row = self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM member_invoice WHERE id = ?1"),
                [id],
                invoice_of,
            )
            .optional()?;
        row.map(|(mut i, status)| {
            i.status = StoredInvoiceStatus::parse(&status)?;
            Ok(i)
        })
        .transpose()
    }

    /// Queues a report with its key; past [`KEPT_REPORTS`] the oldest are dropped (a phone
    /// offline for long and shown many bad links must not grow without bound).
    pub fn queue_link_report(&self, idempotency_key: &str, body: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO link_report (idempotency_key, body, created_at)
             VALUES (?1, ?2, ?3)",
            params![idempotency_key, body, now],
        )?;
        self.conn().execute(
            "DELETE FROM link_report WHERE rowid NOT IN
                 (SELECT rowid FROM link_report ORDER BY created_at DESC, rowid DESC LIMIT ?1)",
            [KEPT_REPORTS],
        )?;
        Ok(())
    }

    /// The reports not yet accepted by the server, oldest first.
    pub fn pending_link_reports(&self) -> Result<Vec<PendingLinkReport>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT idempotency_key, body FROM link_report ORDER BY created_at, rowid")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PendingLinkReport {
                    idempotency_key: r.get(0)?,
                    body: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The server has the report: it is not sent again.
    pub fn finish_link_report(&self, idempotency_key: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM link_report WHERE idempotency_key = ?1",
            [idempotency_key],
        )?;
        Ok(())
    }
}

#[cfg(test)]
impl StoredInvoice {
    /// An open premium invoice of 42,50 € for the demo contract, for other modules' tests.
    pub(crate) fn open_for_tests(id: &str) -> Self {
        Self {
            id: id.into(),
            number: None,
            status: StoredInvoiceStatus::Open,
            source: "premium".into(),
            description: None,
            contract_ref: "TP1000001".into(),
            currency: "EUR".into(),
            amount_due: 4250,
            amount_paid: 0,
            amount_remaining: 4250,
            due_date: None,
            rf_reference: None,
            created: 1,
            extra: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(id: &str, status: StoredInvoiceStatus, created: i64) -> StoredInvoice {
        StoredInvoice {
            id: id.into(),
            number: Some(format!("TP-{id}")),
            status,
            source: "premium".into(),
            description: None,
            contract_ref: "TP1000001".into(),
            currency: "EUR".into(),
            amount_due: 4250,
            amount_paid: 0,
            amount_remaining: 4250,
            due_date: Some(1_798_675_200),
            rf_reference: Some("RF18539007547034".into()),
            created,
            extra: Default::default(),
        }
    }

    #[test]
    fn invoices_are_replaced_listed_open_first_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.invoices().unwrap(), None, "never synced");
        store
            .replace_invoices(
                &[
                    invoice("in_a", StoredInvoiceStatus::Paid, 30),
                    invoice("in_b", StoredInvoiceStatus::Open, 10),
                    invoice("in_c", StoredInvoiceStatus::Uncollectible, 20),
                ],
                100,
            )
            .unwrap();
        drop(store);
        let mut store = Store::open(dir.path()).unwrap();
        let (list, synced) = store.invoices().unwrap().unwrap();
        let ids: Vec<_> = list.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["in_c", "in_b", "in_a"]);
        assert_eq!(synced, 100);
        assert_eq!(
            store.invoice("in_a").unwrap().unwrap().status,
            StoredInvoiceStatus::Paid
        );
        store
            .replace_invoices(&[invoice("in_b", StoredInvoiceStatus::Paid, 10)], 200)
            .unwrap();
        assert_eq!(
            store.invoice("in_a").unwrap(),
            None,
            "gone from the server's list"
        );
        store.wipe().unwrap();
        assert_eq!(store.invoices().unwrap(), None, "sign-out forgets them");
    }

    #[test]
    fn the_list_is_read_a_page_at_a_time_open_ones_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        // 250 invoices, every tenth open, written as the incremental sync writes them.
        for page in 0..3 {
            let invoices: Vec<_> = (0..100)
                .map(|i| page * 100 + i)
                .filter(|&n| n < 250)
                .map(|n| {
                    let status = if n % 10 == 0 {
                        StoredInvoiceStatus::Open
                    } else {
                        StoredInvoiceStatus::Paid
                    };
                    invoice(&format!("in_{n:04}"), status, n)
                })
                .collect();
            store
                .apply_invoice_changes(&invoices, &format!("c{page}"), 7)
                .unwrap();
        }
        assert_eq!(store.invoice_count().unwrap(), 250);
        let (first, synced) = store.invoices().unwrap().unwrap();
        assert_eq!((first.len(), synced), (LIST_PAGE as usize, 7));
        // The 25 open ones lead, newest first, then the paid ones, newest first.
        assert!(first[..25]
            .iter()
            .all(|i| i.status == StoredInvoiceStatus::Open));
        assert_eq!(
            (first[0].id.as_str(), first[24].id.as_str()),
            ("in_0240", "in_0000")
        );
        assert_eq!(first[25].id, "in_0249");
        let mut seen: Vec<String> = first.iter().map(|i| i.id.clone()).collect();
        for offset in [100, 200] {
            let (page, _) = store.invoices_page(offset, 100).unwrap().unwrap();
            seen.extend(page.iter().map(|i| i.id.clone()));
        }
        assert_eq!(seen.len(), 250);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 250, "every invoice once, none twice");
        assert_eq!(store.invoices_page(250, 100).unwrap().unwrap().0.len(), 0);
        // A page is never more than LIST_PAGE, whatever is asked.
        let (capped, _) = store.invoices_page(0, u32::MAX).unwrap().unwrap();
        assert_eq!(capped.len(), LIST_PAGE as usize);
    }

    #[test]
    fn reports_keep_their_key_until_finished_and_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.queue_link_report("lrk_1", "{1}", 1).unwrap();
        store.queue_link_report("lrk_1", "{other}", 2).unwrap();
        let pending = store.pending_link_reports().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].body, "{1}", "the first body stays with its key");
        store.finish_link_report("lrk_1").unwrap();
        assert!(store.pending_link_reports().unwrap().is_empty());
        for n in 0..(KEPT_REPORTS + 5) {
            store
                .queue_link_report(&format!("lrk_{n}"), "{}", n)
                .unwrap();
        }
        let pending = store.pending_link_reports().unwrap();
        assert_eq!(pending.len() as i64, KEPT_REPORTS);
        assert_eq!(pending[0].idempotency_key, "lrk_5", "the oldest went first");
    }
}
