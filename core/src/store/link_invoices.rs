//! What verified payment links said, kept so the invoice they name shows before the phone's
//! first sync (a member opening the email's link offline still sees what they owe). Only the
//! signed facts: never the token, which is a bearer for the invoice's page.

use rusqlite::params;

use super::Store;
use crate::error::Result;

/// Links kept; the oldest seen go first past it.
const KEPT_LINKS: i64 = 20;

/// An invoice as a verified link named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInvoice {
    /// The invoice's short number in the token.
    pub invoice_number: u32,
    /// Minor units the link asks.
    pub amount: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// `push`, `email`, `sms` or `app`.
    pub channel: String,
    /// Unix seconds from which the link is refused.
    pub expires_at: i64,
}

impl Store {
    /// Remembers a verified link's facts (the same number again replaces them).
    pub fn save_link_invoice(&self, link: &LinkInvoice, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO link_invoice
                 (invoice_number, amount, currency, channel, expires_at, seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                link.invoice_number,
                link.amount,
                link.currency,
                link.channel,
                link.expires_at,
                now
            ],
        )?;
        self.conn().execute(
            "DELETE FROM link_invoice WHERE invoice_number NOT IN
                 (SELECT invoice_number FROM link_invoice ORDER BY seen_at DESC LIMIT ?1)",
            [KEPT_LINKS],
        )?;
        Ok(())
    }

    /// The links' invoices not yet replaced by a sync, newest seen first.
    pub fn link_invoices(&self) -> Result<Vec<LinkInvoice>> {
        let mut stmt = self.conn().prepare(
            "SELECT invoice_number, amount, currency, channel, expires_at FROM link_invoice
             ORDER BY seen_at DESC, invoice_number DESC",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(LinkInvoice {
                    invoice_number: r.get(0)?,
                    amount: r.get(1)?,
                    currency: r.get(2)?,
                    channel: r.get(3)?,
                    expires_at: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_links_invoice_shows_until_a_sync_brings_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let link = LinkInvoice {
            invoice_number: 7,
            amount: 4250,
            currency: "EUR".into(),
            channel: "email".into(),
            expires_at: 99,
        };
        store.save_link_invoice(&link, 1).unwrap();
        store.save_link_invoice(&link, 2).unwrap();
        assert_eq!(store.link_invoices().unwrap(), vec![link]);
        store.replace_invoices(&[], 3).unwrap();
        assert!(store.link_invoices().unwrap().is_empty());
    }
}
