//! The platform backend: enrollment (its orchestration), devices and their tokens, push tokens,
//! the notification outbox, the member's card, the member's own card, visits (authorization,
//! the real-time decision on a tap, settlement), arrears and brokers. It knows members
//! only by the insurer's reference, and calls the insurer and the PSP, never the reverse.

pub mod arrears;
pub mod brokers;
pub mod card;
pub mod console;
pub mod devices;
mod enrollment;
pub mod invoice_messages;
pub mod notifications;
mod payment_method;
pub mod payments;
mod psp_events;
pub mod push;
mod routes;
pub mod settlement;
pub mod visit_decision;
pub mod visits;

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
    // 4: paying at the doctor. The member's PSP customer and own card (ids and public facts
    // only); visits, at most one armed per card (the partial unique index); every tap decided
    // (velocity, replays); PSP events already handled (at-least-once delivery); what the member
    // still owes; the insurers' connected accounts.
    r#"
    CREATE TABLE platform_customers (
        member_ref  TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL UNIQUE,
        created     INTEGER NOT NULL
    );
    CREATE TABLE platform_payment_methods (
        member_ref      TEXT PRIMARY KEY,
        payment_method  TEXT NOT NULL,
        setup_intent    TEXT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('active', 'requires_action', 'failed')),
        brand           TEXT NOT NULL,
        last4           TEXT NOT NULL,
        exp_month       INTEGER NOT NULL,
        exp_year        INTEGER NOT NULL,
        next_action_url TEXT,
        decline_code    TEXT,
        updated         INTEGER NOT NULL
    );
    CREATE TABLE platform_visits (
        seq             INTEGER PRIMARY KEY,
        id              TEXT NOT NULL UNIQUE,
        member_ref      TEXT NOT NULL,
        contract_ref    TEXT NOT NULL,
        card_id         TEXT NOT NULL,
        beneficiary_id  TEXT NOT NULL,
        provider_id     TEXT NOT NULL,
        provider_name   TEXT NOT NULL,
        network_id      TEXT NOT NULL,
        provider_city   TEXT NOT NULL,
        act_code        TEXT NOT NULL,
        date            TEXT NOT NULL,
        currency        TEXT NOT NULL,
        price           INTEGER NOT NULL CHECK (price > 0),
        amo             INTEGER NOT NULL CHECK (amo >= 0),
        amc             INTEGER NOT NULL CHECK (amc >= 0),
        member          INTEGER NOT NULL CHECK (member >= 0),
        hold            INTEGER NOT NULL CHECK (hold >= 0),
        pf              INTEGER NOT NULL DEFAULT 0,
        franchise       INTEGER NOT NULL DEFAULT 0,
        ceiling_category TEXT,
        preview_id      TEXT NOT NULL,
        payment_intent  TEXT,
        authorization   TEXT UNIQUE,
        status          TEXT NOT NULL CHECK (status IN
                            ('armed', 'authorized', 'paid', 'canceled', 'expired', 'reversed')),
        created         INTEGER NOT NULL,
        expires_at      INTEGER NOT NULL,
        authorized_at   INTEGER,
        last_decline    TEXT,
        provider_paid   INTEGER,
        member_captured INTEGER,
        arrears         INTEGER,
        settled_at      INTEGER,
        CHECK (amo + amc + member = price)
    );
    CREATE UNIQUE INDEX platform_visits_one_armed ON platform_visits (card_id) WHERE status = 'armed';
    CREATE INDEX platform_visits_member ON platform_visits (member_ref, seq);
    CREATE INDEX platform_visits_card ON platform_visits (card_id, seq);
    CREATE INDEX platform_visits_contract ON platform_visits (contract_ref, status);
    CREATE INDEX platform_visits_expiry ON platform_visits (expires_at) WHERE status = 'armed';
    CREATE TABLE platform_taps (
        authorization TEXT PRIMARY KEY,
        event_id      TEXT NOT NULL,
        card_id       TEXT NOT NULL,
        visit_id      TEXT,
        approved      INTEGER NOT NULL,
        reason        TEXT,
        amount        INTEGER NOT NULL,
        created       INTEGER NOT NULL
    );
    CREATE INDEX platform_taps_card ON platform_taps (card_id, created);
    CREATE TABLE platform_psp_events (
        id       TEXT PRIMARY KEY,
        type     TEXT NOT NULL,
        answer   TEXT,
        received INTEGER NOT NULL
    );
    CREATE TABLE platform_arrears (
        id         TEXT PRIMARY KEY,
        visit_id   TEXT NOT NULL UNIQUE REFERENCES platform_visits(id),
        member_ref TEXT NOT NULL,
        amount     INTEGER NOT NULL CHECK (amount > 0),
        currency   TEXT NOT NULL,
        reason     TEXT NOT NULL,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_arrears_member ON platform_arrears (member_ref);
    CREATE TABLE platform_insurer_accounts (
        role       TEXT PRIMARY KEY CHECK (role IN ('amo', 'amc')),
        account_id TEXT NOT NULL UNIQUE,
        created    INTEGER NOT NULL
    );
"#,
    // 5: which invoice is whose and what for (the PSP knows only its customer).
    arrears::invoices::MIGRATION,
    // 6: payment links the app refused, reported by it (a digest of the token, never the
    // token).
    arrears::link_reports::MIGRATION,
    // 7: fresh links sent from expired-link pages (bounded per invoice and day).
    arrears::hosted_page::MIGRATION,
    // 8: the SMS's short codes, each resolving to its signed token.
    arrears::short_links::MIGRATION,
    // 9: brokers, their keys (hashes only), the contracts they brought, the links they made.
    brokers::MIGRATION,
];
