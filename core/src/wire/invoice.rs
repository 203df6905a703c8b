//! Arrears as the member sees them: `GET /v1/me/invoices` and `GET /v1/me/invoices/{id}`. The
//! platform builds these from the PSP's Stripe-shaped invoice and its own record of whom and
//! what the invoice is for; amounts are integer minor units with a lower-case ISO currency, as
//! on Stripe's wire.

use serde::{Deserialize, Serialize};

/// Where an invoice stands. A draft never reaches the member: the platform finalizes every
/// invoice it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberInvoiceStatus {
    /// Due: `amount_remaining` is still owed.
    Open,
    /// Settled (by card, transfer, out of band, or credited to zero).
    Paid,
    /// Cancelled: nothing is owed.
    Void,
    /// Written off by the insurer, still payable.
    Uncollectible,
}

/// What the debt comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberInvoiceSource {
    /// Premiums the insurer could not collect.
    Premium,
    /// The member's share of a visit that could not be taken from their card.
    Visit,
}

/// One invoice of the member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvoice {
    /// Always `"member_invoice"`.
    pub object: String,
    /// The PSP's `in_…`.
    pub id: String,
    /// The invoice number printed on letters (`TP1A2B3C-0001`).
    pub number: Option<String>,
    /// Where it stands.
    pub status: MemberInvoiceStatus,
    /// What it is for.
    pub source: MemberInvoiceSource,
    /// The insurer that is owed (its id at the platform).
    pub insurer: String,
    /// The member's contract.
    pub contract_ref: String,
    /// The visit whose remainder it is, for [`MemberInvoiceSource::Visit`].
    pub visit_id: Option<String>,
    /// Free text the creditor gave.
    pub description: Option<String>,
    /// Lower-case ISO 4217 (`eur`).
    pub currency: String,
    /// What is owed after credit notes, minor units.
    pub amount_due: i64,
    /// What was paid, minor units.
    pub amount_paid: i64,
    /// `amount_due − amount_paid`, never below 0.
    pub amount_remaining: i64,
    /// Unix seconds.
    pub due_date: Option<i64>,
    /// The ISO 11649 creditor reference (electronic form, `RF18539007547034`): the one a
    /// transfer quotes and every letter shows.
    pub rf_reference: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds, once paid.
    pub paid_at: Option<i64>,
    /// How it was paid, its history, its last change (issue 12; defaulted when absent).
    #[serde(flatten)]
    pub extra: MemberInvoiceExtra,
}

/// `GET /v1/me/invoices`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvoiceList {
    /// Always `"list"`.
    pub object: String,
    /// The invoices.
    pub data: Vec<MemberInvoice>,
    /// More follow past the last one.
    pub has_more: bool,
}

// ------------------------------------------------------------ issue 12: paying exactly once
//
// The contract between the phone and the platform for paying arrears from the app
// (docs/arrears.md, "Paying exactly once"). Fields added to [`MemberInvoice`] later than
// issue 11 live in [`MemberInvoiceExtra`], flattened in, so an older answer still reads.

/// Where a payment (or the payment that settled an invoice) came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaidVia {
    /// The member's saved card, from the app.
    App,
    /// By card, from the link of an email.
    EmailLink,
    /// By card, from the link of an SMS.
    SmsLink,
    /// By card, from the link of a push.
    PushLink,
    /// By card, on the PSP's hosted invoice page (no TiersPay link).
    HostedInvoice,
    /// A SEPA transfer matched by its RF reference.
    BankTransfer,
    /// Recorded by the insurer (`paid_out_of_band`).
    OutOfBand,
    /// Credit notes brought what is owed to zero.
    CreditNote,
}

/// What happened to an invoice, for the member's channel history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceHistoryKind {
    /// The invoice was issued.
    Created,
    /// A reminder went out on `channel`.
    ReminderSent,
    /// The link of `channel` was opened.
    LinkOpened,
    /// A payment attempt failed (declined, expired); nothing was taken.
    PaymentFailed,
    /// A payment was taken (`via` says how).
    PaymentSucceeded,
    /// A credit note lowered what is owed.
    Credited,
    /// The insurer voided the invoice.
    Voided,
}

/// One line of an invoice's history, oldest first. The platform sends at most
/// [`MAX_HISTORY`] of them, the newest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceHistoryEntry {
    /// What happened.
    pub kind: InvoiceHistoryKind,
    /// `push`, `email`, `sms` or `app`, for reminders and links.
    pub channel: Option<String>,
    /// How a payment came, for payments.
    pub via: Option<PaidVia>,
    /// Minor units moved, for payments and credits.
    pub amount: Option<i64>,
    /// Unix seconds.
    pub at: i64,
}

/// Most history lines one invoice carries on the wire.
pub const MAX_HISTORY: usize = 50;

/// The fields of a [`MemberInvoice`] added for issue 12, all defaulted when absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvoiceExtra {
    /// How it was settled, once paid.
    #[serde(default)]
    pub paid_via: Option<PaidVia>,
    /// What happened to it, oldest first, at most [`MAX_HISTORY`].
    #[serde(default)]
    pub history: Vec<InvoiceHistoryEntry>,
    /// Unix seconds of its last change.
    #[serde(default)]
    pub updated: i64,
}

/// `GET /v1/me/invoice_changes?after={cursor}&limit={1..=100}`: every invoice of the member
/// that changed after `cursor` (all of them for `after=0` or none given), whole, oldest
/// change first. The phone keeps `cursor` and asks again while `has_more`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvoiceChanges {
    /// Always `"member_invoice_changes"`.
    pub object: String,
    /// The invoices as they are now.
    pub data: Vec<MemberInvoice>,
    /// Opaque (decimal digits today): the position after the last change in `data`.
    pub cursor: String,
    /// More changes follow.
    pub has_more: bool,
}

/// `POST /v1/me/invoices/{id}/payments` with an `Idempotency-Key`: pay with the member's
/// saved card (the default payment method from issue 10). Form or JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvoicePaymentRequest {
    /// Minor units, 1 to the invoice's `amount_remaining` (more is refused, `param: amount`).
    pub amount: i64,
    /// Lower-case ISO 4217; must be the invoice's.
    pub currency: String,
}

/// How a payment from the app ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberPaymentStatus {
    /// Taken from the saved card.
    Succeeded,
    /// Declined; nothing taken (`failure_code` says why).
    Failed,
    /// Nothing taken: the invoice was already paid (the invoice says by what, and when).
    AlreadyPaid,
    /// Nothing taken: the invoice was voided.
    Canceled,
}

/// The answer to a payment from the app. A retry with the same key gets this same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInvoicePayment {
    /// Always `"member_invoice_payment"`.
    pub object: String,
    /// `mip_…`.
    pub id: String,
    /// The `in_…` paid.
    pub invoice_id: String,
    /// How it ended.
    pub status: MemberPaymentStatus,
    /// Minor units asked.
    pub amount: i64,
    /// Lower-case ISO 4217.
    pub currency: String,
    /// A Stripe decline code (`card_declined`, `insufficient_funds`…), when failed.
    pub failure_code: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// The invoice after the attempt.
    pub invoice: MemberInvoice,
}

/// One event of the member's stream (`GET /v1/me/events?after={seq}&wait={0..=30}`, long
/// polling: answers at once when events are waiting, else after the first one or `wait`
/// seconds with none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEvent {
    /// Always `"member_event"`.
    pub object: String,
    /// Increasing per platform; ask again with `after` = the last one seen.
    pub seq: i64,
    /// `invoice.updated` (its changes are fetched with the invoice cursor), more later.
    #[serde(rename = "type")]
    pub kind: String,
    /// The invoice concerned, for `invoice.*`.
    pub invoice_id: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// `GET /v1/me/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEventList {
    /// Always `"list"`.
    pub object: String,
    /// Oldest first.
    pub data: Vec<MemberEvent>,
    /// The `seq` to ask after next time (the last of `data`, or the one asked).
    pub next_after: i64,
}
