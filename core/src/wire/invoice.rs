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
