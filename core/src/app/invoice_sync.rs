//! The invoices' incremental sync: `GET /v1/me/invoice_changes?after={cursor}`, each page
//! applied with its cursor in one transaction, while `has_more`, a bounded number of pages per
//! sync. Only what changed travels; a platform without the route (an older one) gets the full
//! list instead.

use reqwest::Method;

use super::arrears::stored;
use super::Core;
use crate::error::{Error, Result};
use crate::store::StoredInvoice;
use crate::wire::MemberInvoiceChanges;

/// Changes asked per page (the platform's most).
pub const PAGE_LIMIT: usize = 100;
/// Pages per sync: 10,000 changes, then the next sync goes on from the cursor.
pub const MAX_PAGES: u32 = 100;
/// Longest cursor kept (decimal digits today; opaque, but bounded and plain).
const MAX_CURSOR_CHARS: usize = 40;

/// What one incremental sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChangesReport {
    /// Pages asked.
    pub pages: u32,
    /// Invoices written.
    pub changed: u32,
    /// Bytes of the answers' bodies.
    pub bytes: u64,
    /// More changes wait past the page bound (the next sync goes on).
    pub more: bool,
}

/// A cursor the phone may store and send back in a query string.
fn cursor_ok(cursor: &str) -> bool {
    !cursor.is_empty()
        && cursor.len() <= MAX_CURSOR_CHARS
        && cursor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Reads one page of changes, refusing a page the phone cannot trust as a whole.
pub(crate) fn page(body: &[u8]) -> Result<(Vec<StoredInvoice>, String, bool)> {
    let changes: MemberInvoiceChanges = serde_json::from_slice(body)
        .map_err(|e| Error::Protocol(format!("unexpected invoice changes: {e}")))?;
    if changes.data.len() > PAGE_LIMIT {
        return Err(Error::Protocol(format!(
            "the server sent {} invoice changes in one page (asked {PAGE_LIMIT})",
            changes.data.len()
        )));
    }
    if !cursor_ok(&changes.cursor) {
        return Err(Error::Protocol(
            "the server's invoice cursor is malformed".into(),
        ));
    }
    let invoices = changes
        .data
        .into_iter()
        .map(stored)
        .collect::<Result<Vec<_>>>()?;
    Ok((invoices, changes.cursor, changes.has_more))
}

impl Core {
    /// Fetches the invoices changed since the stored cursor, page by page, each page and its
    /// cursor written together.
    pub async fn sync_invoice_changes(&self) -> Result<ChangesReport> {
        let mut report = ChangesReport::default();
        let mut cursor = self
            .store()?
            .invoice_cursor()?
            .unwrap_or_else(|| "0".into());
        loop {
            let path = format!("/v1/me/invoice_changes?after={cursor}&limit={PAGE_LIMIT}");
            let answer = self.authed(Method::GET, &path, None).await?;
            report.pages += 1;
            report.bytes += answer.body.len() as u64;
            let (invoices, next, has_more) = page(&answer.body)?;
            report.changed += invoices.len() as u32;
            self.store()?
                .apply_invoice_changes(&invoices, &next, crate::net::unix_now())?;
            // A server that sends `has_more` without moving on would loop: stop there.
            let moved = next != cursor;
            cursor = next;
            if !has_more || !moved {
                break;
            }
            if report.pages >= MAX_PAGES {
                report.more = true;
                break;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize, cursor: &str) -> Vec<u8> {
        let invoice = |i: usize| {
            serde_json::json!({
                "object": "member_invoice", "id": format!("in_{i}"), "number": null,
                "status": "paid", "source": "premium", "insurer": "ins_1",
                "contract_ref": "TP1000001", "visit_id": null, "description": null,
                "currency": "eur", "amount_due": 4250, "amount_paid": 4250,
                "amount_remaining": 0, "due_date": null, "rf_reference": null, "created": 1,
                "paid_at": 2, "paid_via": "email_link", "updated": 3,
                "history": [{"kind": "payment_succeeded", "channel": null, "via": "email_link",
                             "amount": 4250, "at": 2}]
            })
        };
        serde_json::to_vec(&serde_json::json!({
            "object": "member_invoice_changes",
            "data": (0..n).map(invoice).collect::<Vec<_>>(),
            "cursor": cursor, "has_more": false
        }))
        .unwrap()
    }

    #[test]
    fn a_page_keeps_how_an_invoice_was_paid_and_refuses_what_it_cannot_trust() {
        let (invoices, cursor, more) = page(&body(2, "17")).unwrap();
        assert_eq!((invoices.len(), cursor.as_str(), more), (2, "17", false));
        assert_eq!(
            invoices[0].extra.paid_via,
            Some(crate::wire::PaidVia::EmailLink)
        );
        assert_eq!(invoices[0].extra.history.len(), 1);
        assert!(
            page(&body(PAGE_LIMIT + 1, "17")).is_err(),
            "more than asked"
        );
        assert!(
            page(&body(1, "1&after=0")).is_err(),
            "a cursor that is a query"
        );
        assert!(page(&body(1, "")).is_err());
    }

    #[test]
    fn a_page_and_its_cursor_are_stored_together_and_upsert_whole_invoices() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(dir.path()).unwrap();
        let (invoices, cursor, _) = page(&body(3, "3")).unwrap();
        store.apply_invoice_changes(&invoices, &cursor, 10).unwrap();
        let (again, cursor, _) = page(&body(1, "4")).unwrap();
        store.apply_invoice_changes(&again, &cursor, 11).unwrap();
        drop(store);
        let store = crate::store::Store::open(dir.path()).unwrap();
        assert_eq!(store.invoice_cursor().unwrap().as_deref(), Some("4"));
        let (list, synced) = store.invoices().unwrap().unwrap();
        assert_eq!((list.len(), synced), (3, 11), "upserted, not appended");
        assert_eq!(list[0].extra.paid_at, Some(2));
    }
}
