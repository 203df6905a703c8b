//! The PSP's operations for the platform, which calls them inside its own database
//! transactions (business time as `now`). Errors are Stripe-style [`ApiError`]s whose `param`
//! names the field at fault; a refused call writes nothing.
//!
//! Only re-exports: each operation lives with its resource (`cardholders`, `cards`,
//! `provisioning`, `tokens`), beside that resource's endpoints, so this is the whole surface
//! the platform may use and nothing else of the PSP leaks to it.
//!
//! [`ApiError`]: crate::http::ApiError

pub use super::cardholders::{
    cardholder_by_member_ref_hash, create_cardholder, platform_billing_address, NewCardholder,
};
pub use super::cards::{
    card, cards_of_cardholder, ensure_card_of, issue_healthcare_card, reveal, set_card_status,
    CardSecret, CardView, NewCard, CARD_YEARS,
};
pub use super::provisioning::{
    apple_provisioning, apple_provisioning_for, apple_root, google_provisioning,
    google_provisioning_for, set_apple_root, ApplePayload, GooglePayload, UserAddress,
    OPC_TTL_SECS, TAP_AND_PAY_VISA,
};
pub use super::tokens::{tokens, ActivationProof, TokenView};

// Payments, Connect and the ledger (issue 10). The context carries business time and, from a
// request, its idempotency key and id (for events); `Ctx::at(now)` outside a request. Test
// tokens (`pm_card_visa`) need the fingerprint key: `fingerprint_key(&state.vault)`.
pub use super::accounts::{account, create_account, AccountView, NewAccount};
pub use super::balance::{
    balance, balance_of, fund_account, issuing_account, ledger_entries_for, unbalanced,
    BalanceType, Entry, LedgerEntry, MAX_AMOUNT, PLATFORM_ACCOUNT,
};
pub use super::customers::{create_customer, update_customer, CustomerFields};
pub use super::invoice_items::{create_item as create_invoice_item, NewItem as NewInvoiceItem};
pub use super::invoice_rules::Status as InvoiceStatus;
pub use super::invoices::{
    create_invoice, finalize_invoice, live_intent as invoice_live_intent,
    pay_invoice as pay_invoice_with, view as invoice, void_invoice, InvoiceView, LiveIntent,
    NewInvoice, PayOutcome as InvoicePayOutcome, PayWith as InvoicePayWith,
};
pub use super::model::Ctx;
pub use super::payment_intents::{
    cancel_payment_intent, capture_payment_intent, confirm_payment_intent, create_payment_intent,
    view as payment_intent, CardDeclined, Confirm, Confirmed, NewPaymentIntent, PaymentIntentView,
    MIN_AMOUNT,
};
pub use super::payment_methods::{
    attach_payment_method, detach_payment_method, fingerprint_key, view as payment_method,
    PaymentMethodView,
};
pub use super::setup_intents::{
    cancel_setup_intent, confirm_setup_intent, create_setup_intent, view as setup_intent,
    NewSetupIntent, SetupConfirmed, SetupIntentView,
};
pub use super::transfers::{create_transfer, NewTransfer, TransferView};
pub use super::webhook_endpoints::{platform_webhook_secret, PLATFORM_EVENTS_PATH};
// The support console's money actions (issue 14): credit notes, write-off, card refunds.
pub use super::credit_notes::{create_credit_note, NewCreditNote};
pub use super::invoices::mark_uncollectible;
pub use super::refunds::{refund_charge, NewRefund};
// The hosted payment page (issue 11): the PSP's own card form for an invoice, its receipt, and
// the account SEPA transfers go to.
pub use super::checkout_page::{
    invoice_card_attempt, invoice_receipt, open_for_invoice as open_invoice_checkout, CardAttempt,
    InvoiceReceipt, TRANSFER_BIC, TRANSFER_IBAN, TRANSFER_NAME,
};
