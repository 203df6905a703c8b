//! What `benches/invoices.rs` measures, reachable from outside the crate: the phone's invoice
//! cache as the incremental sync fills it and the list reads it. Not part of the API the shells
//! see (nothing here is exported through uniffi).

use std::path::Path;

use crate::error::Result;
use crate::store::Store;

/// The phone's store, for the invoice benchmarks.
pub struct InvoiceCache(Store);

impl InvoiceCache {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        Store::open(dir).map(Self)
    }

    /// Reads one `GET /v1/me/invoice_changes` answer and applies it as the sync does (the
    /// invoices and the cursor in one transaction). Returns how many invoices it carried.
    pub fn apply_page(&mut self, body: &[u8], now: i64) -> Result<usize> {
        let (invoices, cursor, _) = crate::app::invoice_sync::page(body)?;
        self.0.apply_invoice_changes(&invoices, &cursor, now)?;
        Ok(invoices.len())
    }

    /// What the list screen reads: the first page of the invoices, ordered, with the phone's
    /// payments of them and how many invoices there are. Returns that page's length.
    pub fn list(&self) -> Result<usize> {
        let (list, _) = self.0.invoices()?.unwrap_or_default();
        let payments = self.0.invoice_payments()?;
        std::hint::black_box((&payments, self.0.invoice_count()?));
        Ok(list.len())
    }

    /// Every invoice, page after page as a list scrolled to its end reads them. Returns how
    /// many.
    pub fn list_all(&self) -> Result<usize> {
        let mut read = 0;
        loop {
            let (page, _) = self
                .0
                .invoices_page(read as u32, crate::store::LIST_PAGE)?
                .unwrap_or_default();
            if page.is_empty() {
                return Ok(read);
            }
            read += page.len();
        }
    }

    /// How many invoices the cache holds.
    pub fn count(&self) -> Result<u32> {
        self.0.invoice_count()
    }
}
