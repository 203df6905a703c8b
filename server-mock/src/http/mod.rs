//! HTTP plumbing shared by every module: Stripe-style errors, request ids and logs, request
//! size limits, caller authentication (DPoP, API keys, broker keys), idempotency keys, and a
//! JSON extractor whose errors name the field.

pub mod accept_language;
mod auth;
pub mod broker_key;
mod error;
pub mod idempotency;
mod json;
mod limits;
mod peer;
mod request_id;
pub mod webhook_signature;

pub use auth::{
    authenticate, prune_proof_ids, BrokerAttempt, BrokerRefusal, BrokerSession, Caller,
    DeviceSession, ResolveAccess, ResolveBroker, BROKER_ROUTES,
};
pub use error::ApiError;
pub use idempotency::{idempotency, Reexecute};
pub use json::{parse as parse_json, ApiJson};
pub use limits::{check_request, MAX_HEADERS, MAX_HEADER_BYTES, MAX_PATH_SEGMENTS};
pub use peer::{client_addr, ClientAddr};
pub use request_id::request_log;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Tables of the HTTP layer: stored idempotent answers, seen proof ids, server secrets, and
/// (version 2) attempt counters.
pub const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    // Version 2: answers are stored with their effect and sealed (the old table held bodies in
    // clear and could be left "in flight"); expiry and proof ids are indexed so pruning does not
    // scan; attempt counters survive restarts; the code secret moves to the vault file.
    r#"
    DROP TABLE http_idempotency;
    CREATE TABLE http_idempotency (
        scope           TEXT NOT NULL,
        key             TEXT NOT NULL,
        request_hash    TEXT NOT NULL,
        status          INTEGER NOT NULL,
        body            BLOB NOT NULL,
        signature       TEXT,
        created         INTEGER NOT NULL,
        PRIMARY KEY (scope, key)
    );
    CREATE INDEX http_idempotency_created ON http_idempotency (created);
    CREATE INDEX http_dpop_jti_seen ON http_dpop_jti (seen_at);
    CREATE TABLE http_rate_hits (
        key TEXT NOT NULL,
        at  INTEGER NOT NULL
    );
    CREATE INDEX http_rate_hits_key ON http_rate_hits (key, at);
    CREATE INDEX http_rate_hits_at ON http_rate_hits (at);
    DELETE FROM http_server_secrets WHERE name = 'code_secret';
"#,
    // Version 3: the first request's id, answered as `Original-Request` on replays (Stripe).
    "ALTER TABLE http_idempotency ADD COLUMN request_id TEXT;",
];
