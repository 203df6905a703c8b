//! Brokers (issue 14, item 3; docs/console.md, "Brokers"): an intermediary who brought
//! members to the insurer gets API keys scoped to its own clients. With one it lists its
//! clients' open invoices, creates a payment link for one of them (the same signed link a
//! reminder carries, paid through the same hosted page and attempts), and reads the link and
//! the invoice later.
//! Any other invoice is a 404 exactly like an unknown id. Answers carry the invoice's reference,
//! amounts, status, due date and the link, never the member's name, birth date or contact:
//! the member's identity stays with the insurer, and the PSP still sees only the pseudonymous
//! customer.
//!
//! - [`keys`]: keys stored as SHA-256 only, issued, rotated and revoked; the resolver the HTTP
//!   layer calls (rate limit per key, refusals audited).
//! - [`admin`]: the insurer's back office (its secret key) creates brokers, their keys, and
//!   assigns contracts: `/v1/insurer/brokers/…`.
//! - [`clients`]: the broker's own routes, `/v1/broker/…`.
//!
//! Every action and every refusal goes to the console's audit trail (`console_audit`), with the
//! broker's id as the actor, so staff see a broker's links on the invoice's page.

pub mod admin;
pub mod clients;
pub mod keys;

use axum::routing::{get, post};
use axum::Router;
use rusqlite::Connection;

use crate::http::ApiError;
use crate::platform::console::audit::{self, Entry};
use crate::state::AppState;

/// The brokers' tables (a migration entry of the platform's).
pub const MIGRATION: &str = r#"
    CREATE TABLE platform_brokers (
        id      TEXT PRIMARY KEY,
        name    TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    -- Keys: the SHA-256 of the secret only; `display` is the prefix and four characters.
    CREATE TABLE platform_broker_keys (
        id         TEXT PRIMARY KEY,
        broker_id  TEXT NOT NULL REFERENCES platform_brokers(id),
        hash       TEXT NOT NULL UNIQUE,
        display    TEXT NOT NULL,
        created    INTEGER NOT NULL,
        revoked_at INTEGER,
        replaced_by TEXT
    );
    CREATE INDEX platform_broker_keys_broker ON platform_broker_keys (broker_id, created);
    -- Which contracts (and so which members) each broker brought: one broker per contract.
    CREATE TABLE platform_broker_contracts (
        contract_ref TEXT PRIMARY KEY,
        member_ref   TEXT NOT NULL,
        broker_id    TEXT NOT NULL REFERENCES platform_brokers(id),
        assigned     INTEGER NOT NULL
    );
    CREATE INDEX platform_broker_contracts_broker ON platform_broker_contracts (broker_id);
    -- A broker's invoices are found by contract.
    CREATE INDEX platform_invoices_contract ON platform_invoices (contract_ref, seq);
    -- The links brokers created: the token sealed by the vault (a bearer link), as short links.
    CREATE TABLE platform_broker_links (
        seq        INTEGER PRIMARY KEY,
        id         TEXT NOT NULL UNIQUE,
        broker_id  TEXT NOT NULL REFERENCES platform_brokers(id),
        key_id     TEXT NOT NULL,
        invoice_id TEXT NOT NULL,
        channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
        token      BLOB NOT NULL,
        short_code TEXT,
        amount     INTEGER NOT NULL,
        currency   TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_broker_links_invoice ON platform_broker_links (invoice_id, seq);
"#;

/// The routes of brokers and of their administration.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/broker/invoices", get(clients::list))
        .route("/v1/broker/invoices/{id}", get(clients::retrieve))
        .route(
            "/v1/broker/invoices/{id}/payment_links",
            post(clients::create_link),
        )
        .route("/v1/broker/payment_links/{id}", get(clients::retrieve_link))
        .route("/v1/insurer/brokers", post(admin::create))
        .route("/v1/insurer/brokers/{id}/keys", post(admin::issue_key))
        .route(
            "/v1/insurer/brokers/{id}/keys/{key}/rotate",
            post(admin::rotate_key),
        )
        .route(
            "/v1/insurer/brokers/{id}/keys/{key}/revoke",
            post(admin::revoke_key),
        )
        .route("/v1/insurer/brokers/{id}/contracts", post(admin::assign))
}

/// The actor the audit trail names for the insurer's back office (its secret key).
pub const BACK_OFFICE: &str = "insurer_back_office";

/// One line of the audit trail for a broker action or refusal; `detail` is built from ids,
/// fixed words and numbers only.
#[allow(clippy::too_many_arguments)]
pub fn audit(
    tx: &Connection,
    at: i64,
    actor: &str,
    action: &str,
    invoice: Option<&str>,
    outcome: &str,
    detail: &str,
    client: &str,
) -> Result<(), ApiError> {
    audit::append(
        tx,
        &Entry {
            at,
            staff_id: Some(actor.to_owned()),
            staff_email: None,
            action: action.to_owned(),
            invoice: invoice.map(str::to_owned),
            outcome: outcome.to_owned(),
            detail: detail.to_owned(),
            client: client.to_owned(),
        },
        None,
    )
}

/// The client address the authentication layer found.
fn client_of(ext: Option<&crate::http::ClientAddr>) -> String {
    ext.map(|a| a.0.to_string()).unwrap_or_default()
}
