//! The outbox and payments of invoices for the shells: records only, converted from the core's
//! rows; what each state says and whether the pay button shows are decided in
//! `app::payment_text`.

use super::values::Amount;
use crate::app::payment_text::{self, PaymentProgress};
use crate::store::{OutboxRow, StoredInvoice};

/// One request of the outbox (today: a payment of an invoice from the app), as shown.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutboxEntry {
    /// Its order on this phone (rows are sent in this order, never by time).
    pub seq: i64,
    /// What it is: `invoice_payment`.
    pub kind: String,
    /// The invoice it pays (`in_…`).
    pub invoice_id: String,
    /// The amount it pays, when it is a payment.
    pub amount: Option<Amount>,
    /// Where it stands.
    pub progress: PaymentProgress,
    /// Still to be sent (queued or sending).
    pub pending: bool,
    /// Times it was sent.
    pub attempts: u32,
    /// What to tell a French reader.
    pub message_fr: String,
    /// What to tell an English reader.
    pub message_en: String,
    /// Unix seconds it was written, phone clock (shown only).
    pub created_at: i64,
}

pub(crate) fn entry(row: &OutboxRow, invoice: Option<&StoredInvoice>) -> OutboxEntry {
    let (progress, words) = payment_text::progress(row, invoice);
    OutboxEntry {
        seq: row.seq,
        kind: row.kind.clone(),
        invoice_id: row.subject.clone(),
        amount: row
            .amount
            .map(|a| Amount::minor(a, row.currency.as_deref().unwrap_or("EUR"))),
        progress,
        pending: row.state.unfinished(),
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        message_fr: words.fr,
        message_en: words.en,
        created_at: row.created_at,
    }
}

/// What an invoice's pay button does: the shells draw it as told.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PayButton {
    /// It shows.
    pub shows: bool,
    /// It can be tapped (greyed while a payment is queued).
    pub enabled: bool,
    /// Its label for a French reader.
    pub label_fr: String,
    /// Its label for an English reader.
    pub label_en: String,
}

impl From<payment_text::PayButton> for PayButton {
    fn from(b: payment_text::PayButton) -> Self {
        Self {
            shows: b.shows,
            enabled: b.enabled,
            label_fr: b.label.fr,
            label_en: b.label.en,
        }
    }
}

/// What tapping "pay" did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PayOutcome {
    /// The payment as it stands now (queued offline, paid, already paid…).
    pub entry: OutboxEntry,
    /// A payment of this invoice was already queued: that one stands, nothing new was written.
    pub already_queued: bool,
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct OutboxSendReport {
    /// Rows the server answered for good.
    pub finished: u32,
    /// Rows still waiting for the network or the server.
    pub waiting: u32,
    /// Unreadable rows set aside, never sent.
    pub quarantined: u32,
}

impl From<crate::app::outbox::SendReport> for OutboxSendReport {
    fn from(r: crate::app::outbox::SendReport) -> Self {
        Self {
            finished: r.finished,
            waiting: r.waiting,
            quarantined: r.quarantined,
        }
    }
}

/// An invoice as a verified link named it, shown before the first sync brings it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkedInvoice {
    /// The invoice's short number in the link.
    pub invoice_number: u32,
    /// The amount the link asks.
    pub amount: Amount,
    /// `push`, `email`, `sms` or `app`.
    pub channel: String,
    /// Unix seconds from which the link is refused.
    pub expires_at: i64,
    /// What to tell a French reader (it can be paid once synced, or from the link's page).
    pub note_fr: String,
    /// What to tell an English reader.
    pub note_en: String,
}

impl From<crate::store::LinkInvoice> for LinkedInvoice {
    fn from(l: crate::store::LinkInvoice) -> Self {
        Self {
            invoice_number: l.invoice_number,
            amount: Amount::minor(l.amount, &l.currency),
            channel: l.channel,
            expires_at: l.expires_at,
            note_fr: "D'après le lien vérifié. Le paiement depuis l'application sera possible \
                      après la première synchronisation."
                .into(),
            note_en: "From the verified link. Paying from the app is possible after the first \
                      sync."
                .into(),
        }
    }
}
