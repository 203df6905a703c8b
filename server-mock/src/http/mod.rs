//! HTTP plumbing shared by every module: Stripe-style errors, request ids and logs, caller
//! authentication (DPoP), idempotency keys, and a JSON extractor whose errors name the field.

mod auth;
mod error;
mod idempotency;
mod json;
mod request_id;

pub use auth::{authenticate, Caller};
pub use error::ApiError;
pub use idempotency::idempotency;
pub use json::ApiJson;
pub use request_id::request_log;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Tables of the HTTP layer: stored idempotent answers, seen proof ids, server secrets.
pub const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE http_idempotency (
        scope           TEXT NOT NULL,
        key             TEXT NOT NULL,
        request_hash    TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('in_flight', 'done')),
        status          INTEGER,
        body            BLOB,
        signature       TEXT,
        created         INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
    );
    CREATE TABLE http_dpop_jti (
        jti     TEXT PRIMARY KEY,
        seen_at INTEGER NOT NULL
    );
    CREATE TABLE http_server_secrets (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
"#];
