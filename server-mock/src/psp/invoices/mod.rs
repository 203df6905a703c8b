//! Invoices (`in_…`), shaped as stripe-python and stripe-node type them: a draft gathers invoice
//! items (`ii_…`, `invoice_items.rs`), `/finalize` numbers it, makes its hosted link and its RF
//! creditor reference, and it is then immutable (corrections are credit notes, `cn_…`,
//! `credit_notes.rs`). The state machine and arithmetic are pure, in `invoice_rules.rs`.
//!
//! # For the rest of the mock (stable signatures)
//!
//! - [`apply_payment`]`(tx, invoice_id, amount, source, now) -> Result<Applied, ApiError>`:
//!   money that has arrived for an invoice (a SEPA transfer, a captured card). Compare-and-set
//!   on the status and amounts read; a part payment lowers `amount_remaining`, the invoice is
//!   `paid` at zero, anything beyond goes to `amount_overpaid` (and `Applied::overpaid`) for the
//!   caller to refund. It accepts an open, uncollectible or already paid invoice (a transfer
//!   after a card payment is wholly overpaid); a draft or a void one is refused
//!   (`invoice_unexpected_state`) and nothing is written. The same source (`PaymentSource`
//!   with an id) applied twice is applied once: the second call answers the first's `Applied`.
//!   Emits `invoice.updated` (with `previous_attributes`), `invoice.payment_succeeded`,
//!   `invoice.paid`, `invoice.overpaid` in the caller's transaction.
//! - [`find_by_reference`]`(conn, rf) -> Option<String>`: the invoice whose RF creditor
//!   reference this is, spaces and case tolerated; `None` when the checksum fails or nothing
//!   matches (the caller sends such a transfer to review, never guesses).
//!
//! At most one active payment attempt per invoice: a PaymentIntent made for an invoice carries
//! `invoice`, and a partial unique index refuses a second one that is not canceled.
//!
//! # Modules
//!
//! - `store`: the tables, the `Row` the operations read, the compare-and-set amounts write.
//! - `object`: the Stripe JSON ([`invoice_json`]) and the platform's [`InvoiceView`].
//! - `lifecycle`: draft, edit, finalize, send, void, uncollectible, delete.
//! - `payments`: [`apply_payment`], [`find_by_reference`], [`intent_succeeded`].
//! - `pay`: `/pay` out of band or by card ([`payment_intent_for`]).
//! - `routes`: the HTTP handlers and [`router`].
//! - `input`: the id and text checks the invoice and credit note endpoints share.

mod input;
mod lifecycle;
mod object;
mod pay;
mod payments;
mod routes;
mod store;
#[cfg(test)]
mod test_support;

use crate::http::ApiError;
use crate::psp::invoice_rules as rules;
use crate::psp::model::refuse;

pub(super) use input::{bounded, check_id};
pub(super) use lifecycle::{attach_item, recompute_total};
pub use lifecycle::{
    create_invoice, finalize_invoice, mark_uncollectible, void_invoice, NewInvoice, MAX_DESCRIPTION,
};
pub use object::{invoice_json, view, InvoiceView};
pub(crate) use pay::payment_intent_for;
pub use pay::{live_intent, pay_invoice, LiveIntent, PayOutcome, PayWith};
pub(super) use payments::intent_succeeded;
pub use payments::PaymentSource;
pub(crate) use payments::{apply_payment, find_by_reference};
pub(super) use routes::router;
pub(super) use store::{
    active_intent, invoice_of_intent, row, store_amounts, token_hash, MIGRATION,
};

/// A rule's refusal as Stripe's 400.
pub(super) fn refused(r: rules::Refusal, param: Option<&str>) -> ApiError {
    refuse(r.code, param, r.message)
}
