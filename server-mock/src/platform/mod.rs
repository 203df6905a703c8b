//! The platform backend: enrollment (its orchestration), devices and their tokens, push tokens,
//! the notification outbox, the member's card, and (later) visits and arrears. It knows members
//! only by the insurer's reference, and calls the insurer and the PSP, never the reverse.

pub mod card;
pub mod devices;
mod enrollment;
pub mod notifications;
pub mod push;
mod routes;

pub use routes::router;

/// The platform's tables.
pub const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE platform_devices (
        id           TEXT PRIMARY KEY,
        member_ref   TEXT NOT NULL,
        contract_ref TEXT NOT NULL,
        jkt          TEXT NOT NULL,
        public_key   BLOB NOT NULL,
        name         TEXT,
        status       TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
        created      INTEGER NOT NULL,
        revoked_at   INTEGER
    );
    CREATE INDEX platform_devices_member ON platform_devices (member_ref, status);
    CREATE TABLE platform_tokens (
        hash       TEXT PRIMARY KEY,
        device_id  TEXT NOT NULL REFERENCES platform_devices(id),
        kind       TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),
        expires_at INTEGER NOT NULL,
        used       INTEGER NOT NULL DEFAULT 0,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_tokens_device ON platform_tokens (device_id);
    CREATE TABLE platform_outbox (
        id        TEXT PRIMARY KEY,
        seq       INTEGER NOT NULL UNIQUE,
        channel   TEXT NOT NULL CHECK (channel IN ('sms', 'email', 'push')),
        recipient TEXT NOT NULL,
        subject   TEXT,
        body      TEXT NOT NULL,
        created   INTEGER NOT NULL
    );
"#,
    // 2: which PSP card is whose. The platform keeps ids only, never a card number.
    r#"
    CREATE TABLE platform_cards (
        member_ref    TEXT PRIMARY KEY,
        cardholder_id TEXT NOT NULL,
        card_id       TEXT NOT NULL,
        created       INTEGER NOT NULL
    );
"#,
    // 3: each device's push token (one, replaced when the OS rotates it), and the data payload
    // of a push (the link it opens).
    r#"
    CREATE TABLE platform_push_tokens (
        device_id TEXT PRIMARY KEY REFERENCES platform_devices(id),
        service   TEXT NOT NULL CHECK (service IN ('apns', 'fcm')),
        token     TEXT NOT NULL UNIQUE,
        created   INTEGER NOT NULL,
        updated   INTEGER NOT NULL
    );
    ALTER TABLE platform_outbox ADD COLUMN data TEXT;
"#,
];
