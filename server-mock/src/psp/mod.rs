//! The payment service provider: a Stripe Issuing–like issuer (cardholders, virtual cards,
//! spending controls, wallet provisioning, network tokens, events). It knows members only by a
//! pseudonymous cardholder and is the only module that ever holds a card number. It depends on
//! nothing of the insurer or the platform.
//!
//! One file per resource, each with its operations, its rows and Stripe JSON, and its route
//! table beside its handlers (named after Stripe's verbs: `create`, `retrieve`, `update`,
//! `list`; test helpers `helper_…`): `cardholders`, `cards`, `provisioning`, `tokens`,
//! `events`. A new resource (payment intents, authorizations…) is a new file merged into
//! [`router`]. Shared by all of them: `model` (request context, refusals, settings, lists),
//! `wire` (the authenticated request and its parameters) and `form` (Stripe's bracket notation).
//!
//! - [`api`]: the operations the platform calls, inside its own transactions (re-exports only).
//! - The endpoints speak Stripe's wire format (form-encoded, `sk_test_…` keys, `expand[]`, lists).
//!
//! Accepted secret keys live in `psp_api_keys`; the migration seeds `sk_test_tierspay`
//! ([`DEFAULT_API_KEY`]). Any other key gets a 401, as with Stripe.
//!
//! The trusted Apple root (standing in for Apple's, to verify PassKit chains) is set by
//! `POST /v1/test_helpers/issuing/apple_root` (`certificate` = base64 DER or PEM) or read from the
//! file named by `TIERSPAY_APPLE_ROOT` (DER or PEM) at the first Apple provisioning of the
//! process; either is stored in `psp_settings` and survives restarts, and one set through the
//! test helper wins over the environment. Without a root, Apple provisioning is refused
//! (`apple_root_missing`).

use axum::Router;

use crate::state::AppState;

mod accounts;
pub mod api;
pub mod authorization_rules;
mod authorizations;
mod balance;
mod bank_transfers;
mod card_checks;
mod cardholders;
mod cards;
mod challenges;
mod charges;
mod checkout_page;
mod credit_notes;
mod customers;
mod events;
mod form;
mod hosted_invoice;
pub mod invoice_history;
mod invoice_items;
mod invoice_rules;
mod invoices;
mod issuing_transactions;
mod model;
mod payment_intents;
mod payment_methods;
mod provisioning;
mod refunds;
mod remittance_match;
mod setup_intents;
mod tokens;
mod transfers;
pub(crate) mod webhook_delivery;
pub(crate) mod webhook_endpoints;
mod wire;

/// The PSP routes: every resource's table, merged.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(cardholders::router())
        .merge(cards::router())
        .merge(provisioning::router())
        .merge(tokens::router())
        .merge(events::router())
        .merge(webhook_endpoints::router())
        .merge(authorizations::router())
        .merge(issuing_transactions::router())
        .merge(balance::router())
        .merge(accounts::router())
        .merge(customers::router())
        .merge(payment_methods::router())
        .merge(setup_intents::router())
        .merge(payment_intents::router())
        .merge(charges::router())
        .merge(challenges::router())
        .merge(checkout_page::router())
        .merge(transfers::router())
        .merge(refunds::router())
        .merge(bank_transfers::router())
        .merge(invoices::router())
        .merge(invoice_items::router())
        .merge(credit_notes::router())
        .merge(hosted_invoice::router())
}

/// The secret key every new database accepts.
pub const DEFAULT_API_KEY: &str = "sk_test_tierspay";
/// The publishable key every new database accepts: the phone sends the member's card with it
/// (`POST /v1/payment_methods`, the only endpoint, with reading and confirming an intent by its
/// client secret, that a publishable key may call).
pub const PUBLISHABLE_KEY: &str = "pk_test_tierspay";
/// A restricted key with no permission: every endpoint refuses it (403 `permission_denied`).
pub const RESTRICTED_KEY: &str = "rk_test_tierspay";

/// The publishable and restricted keys (a migration entry of their own, after the ledger's).
const KEYS_MIGRATION: &str = r#"
    INSERT INTO psp_api_keys (key, created) VALUES ('pk_test_tierspay', 0), ('rk_test_tierspay', 0);
    ALTER TABLE psp_events ADD COLUMN request_id TEXT;
    ALTER TABLE psp_events ADD COLUMN api_version TEXT;
"#;

/// The PSP's tables. The card number and CVC exist only in `psp_cards`; device PANs only in
/// `psp_tokens`.
pub const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE psp_api_keys (
        key     TEXT PRIMARY KEY,
        created INTEGER NOT NULL
    );
    INSERT INTO psp_api_keys (key, created) VALUES ('sk_test_tierspay', 0);
    CREATE TABLE psp_settings (
        name    TEXT PRIMARY KEY,
        value   BLOB NOT NULL,
        source  TEXT NOT NULL CHECK (source IN ('api', 'env', 'generated')),
        updated INTEGER NOT NULL
    );
    CREATE TABLE psp_cardholders (
        seq             INTEGER PRIMARY KEY,
        id              TEXT NOT NULL UNIQUE,
        name            TEXT NOT NULL,
        email           TEXT,
        phone_number    TEXT,
        type            TEXT NOT NULL CHECK (type IN ('individual', 'company')),
        status          TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'blocked')),
        billing         TEXT NOT NULL,
        metadata        TEXT NOT NULL DEFAULT '{}',
        member_ref_hash TEXT UNIQUE,
        created         INTEGER NOT NULL
    );
    CREATE TABLE psp_cards (
        seq                        INTEGER PRIMARY KEY,
        id                         TEXT NOT NULL UNIQUE,
        cardholder_id              TEXT NOT NULL REFERENCES psp_cardholders(id),
        number                     TEXT NOT NULL UNIQUE,
        cvc                        TEXT NOT NULL,
        exp_month                  INTEGER NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
        exp_year                   INTEGER NOT NULL,
        last4                      TEXT NOT NULL,
        brand                      TEXT NOT NULL,
        currency                   TEXT NOT NULL,
        type                       TEXT NOT NULL CHECK (type IN ('virtual', 'physical')),
        status                     TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'canceled')),
        cancellation_reason        TEXT CHECK (cancellation_reason IN ('lost', 'stolen')),
        spending_controls          TEXT NOT NULL,
        metadata                   TEXT NOT NULL DEFAULT '{}',
        primary_account_identifier TEXT UNIQUE,
        created                    INTEGER NOT NULL
    );
    CREATE INDEX psp_cards_cardholder ON psp_cards (cardholder_id);
    CREATE TABLE psp_tokens (
        seq               INTEGER PRIMARY KEY,
        id                TEXT NOT NULL UNIQUE,
        card_id           TEXT NOT NULL REFERENCES psp_cards(id),
        wallet_provider   TEXT NOT NULL CHECK (wallet_provider IN ('apple_pay', 'google_pay')),
        status            TEXT NOT NULL CHECK (status IN ('requested', 'active', 'suspended', 'deleted')),
        wallet_status     TEXT NOT NULL CHECK (wallet_status IN
                              ('pending', 'needs_identity_verification', 'active', 'suspended', 'deleted')),
        suspended_by_card INTEGER NOT NULL DEFAULT 0,
        dpan              TEXT NOT NULL UNIQUE,
        last4             TEXT NOT NULL,
        device_fingerprint TEXT,
        wallet_account_id TEXT,
        device_id         TEXT,
        activation_hash   TEXT,
        network_token_ref TEXT NOT NULL,
        created           INTEGER NOT NULL,
        updated           INTEGER NOT NULL
    );
    CREATE INDEX psp_tokens_card ON psp_tokens (card_id);
    -- One live Google token per card, wallet account and device: a second push is refused.
    CREATE UNIQUE INDEX psp_tokens_one_per_device ON psp_tokens (card_id, wallet_account_id, device_id)
        WHERE device_id IS NOT NULL AND status <> 'deleted';
    CREATE TABLE psp_events (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        type                TEXT NOT NULL,
        created             INTEGER NOT NULL,
        object              TEXT NOT NULL,
        previous_attributes TEXT,
        idempotency_key     TEXT
    );
    CREATE INDEX psp_events_type ON psp_events (type, seq);
"#,
    balance::MIGRATION,
    webhook_endpoints::MIGRATION,
    authorizations::MIGRATION,
    KEYS_MIGRATION,
    customers::MIGRATION,
    payment_methods::MIGRATION,
    setup_intents::MIGRATION,
    charges::MIGRATION,
    transfers::MIGRATION,
    challenges::MIGRATION,
    authorizations::BALANCES_MIGRATION,
    invoices::MIGRATION,
    credit_notes::MIGRATION,
    webhook_endpoints::ROLL_MIGRATION,
    refunds::MIGRATION,
    bank_transfers::MIGRATION,
    credit_notes::REFUNDS_MIGRATION,
    checkout_page::MIGRATION,
];
