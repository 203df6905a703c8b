//! Versioned migrations, tracked with `PRAGMA user_version`. Append only: a released migration
//! is never edited; a change is a new entry.

use rusqlite::Connection;

use crate::error::Result;

const MIGRATIONS: &[&str] = &[
    // 1: the enrolled session, its member, contract and beneficiaries.
    r#"
    CREATE TABLE member (
        id           TEXT PRIMARY KEY,
        first_name   TEXT NOT NULL,
        last_name    TEXT NOT NULL,
        phone_masked TEXT NOT NULL,
        email_masked TEXT NOT NULL
    );
    CREATE TABLE contract (
        id           TEXT PRIMARY KEY,
        number       TEXT NOT NULL,
        insurer_name TEXT NOT NULL,
        product_name TEXT NOT NULL,
        start_date   TEXT NOT NULL,
        status       TEXT NOT NULL
    );
    CREATE TABLE beneficiary (
        id           TEXT PRIMARY KEY,
        contract_id  TEXT NOT NULL REFERENCES contract(id) ON DELETE CASCADE,
        first_name   TEXT NOT NULL,
        last_name    TEXT NOT NULL,
        birth_date   TEXT NOT NULL,
        relationship TEXT NOT NULL,
        position     INTEGER NOT NULL
    );
    CREATE TABLE session (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        device_id   TEXT NOT NULL,
        member_id   TEXT NOT NULL REFERENCES member(id),
        contract_id TEXT NOT NULL REFERENCES contract(id),
        enrolled_at INTEGER NOT NULL
    );
    "#,
    // 2: what offline previews need (synced sections, each with its etag) and providers seen.
    r#"
    CREATE TABLE coverage_cache (
        section   TEXT PRIMARY KEY CHECK (section IN ('contract', 'tariffs')),
        etag      TEXT NOT NULL,
        body      TEXT NOT NULL,
        synced_at INTEGER NOT NULL
    );
    CREATE TABLE provider (
        id        TEXT PRIMARY KEY,
        code      TEXT NOT NULL UNIQUE,
        body      TEXT NOT NULL,
        last_used INTEGER NOT NULL,
        uses      INTEGER NOT NULL DEFAULT 1
    );
    "#,
    // 3: the virtual card's public facts (last 4, status, controls, wallet tokens): never its
    // number, which the phone only ever shows once and does not store.
    r#"
    CREATE TABLE card (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        body      TEXT NOT NULL,
        synced_at INTEGER NOT NULL
    );
    "#,
    // 4: this app's push token (APNs or FCM), kept until it reached the platform: a token the
    // OS gives before enrollment is registered right after it.
    r#"
    CREATE TABLE push_token (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        service    TEXT NOT NULL CHECK (service IN ('apns', 'fcm')),
        token      TEXT NOT NULL,
        registered INTEGER NOT NULL DEFAULT 0
    );
    "#,
    // 5: the server a session was enrolled with: its tokens are sent there and nowhere else.
    // Sessions enrolled before this have none, and are bound at their next request.
    r#"
    ALTER TABLE session ADD COLUMN server_url TEXT;
    "#,
    // 6: paying at the doctor. The member's own card as public facts only (no column could
    // hold a number or a code); every visit the phone learned of, for the history offline;
    // and the idempotency keys of requests that must not run twice, written before they are
    // sent so a retry after a crash reuses them.
    r#"
    CREATE TABLE payment_method (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        payment_method  TEXT NOT NULL,
        status          TEXT NOT NULL,
        brand           TEXT NOT NULL,
        last4           TEXT NOT NULL CHECK (length(last4) = 4),
        exp_month       INTEGER NOT NULL,
        exp_year        INTEGER NOT NULL,
        setup_intent    TEXT NOT NULL,
        next_action_url TEXT,
        decline_code    TEXT,
        synced_at       INTEGER NOT NULL
    );
    CREATE TABLE visit (
        id        TEXT PRIMARY KEY,
        created   INTEGER NOT NULL,
        status    TEXT NOT NULL,
        body      TEXT NOT NULL,
        synced_at INTEGER NOT NULL
    );
    CREATE INDEX visit_newest ON visit (created DESC, id DESC);
    CREATE TABLE pending_request (
        purpose         TEXT PRIMARY KEY,
        idempotency_key TEXT NOT NULL,
        body            TEXT NOT NULL,
        created_at      INTEGER NOT NULL
    );
    "#,
    // 7: arrears invoices as listed offline (no link token, no card), and refused payment
    // links waiting to be reported, each with the idempotency key it is sent with.
    r#"
    CREATE TABLE member_invoice (
        id               TEXT PRIMARY KEY,
        number           TEXT,
        status           TEXT NOT NULL,
        source           TEXT NOT NULL,
        description      TEXT,
        contract_ref     TEXT NOT NULL,
        currency         TEXT NOT NULL,
        amount_due       INTEGER NOT NULL,
        amount_paid      INTEGER NOT NULL,
        amount_remaining INTEGER NOT NULL,
        due_date         INTEGER,
        rf_reference     TEXT,
        created          INTEGER NOT NULL,
        synced_at        INTEGER NOT NULL
    );
    CREATE TABLE member_invoice_sync (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        synced_at INTEGER NOT NULL
    );
    CREATE TABLE link_report (
        idempotency_key TEXT PRIMARY KEY,
        body            TEXT NOT NULL,
        created_at      INTEGER NOT NULL
    );
    "#,
    // 8: paying arrears exactly once (issue 12). Invoices sync by cursor and keep how they were
    // paid and their history; the outbox holds every request that must reach the server once,
    // written with its idempotency key before it is sent, in the transaction that changes the
    // local state it stands for. `seq` orders it (never a clock: the phone's may be set back),
    // and at most one unfinished row per subject is the schema's rule, not the code's.
    r#"
    ALTER TABLE member_invoice ADD COLUMN paid_at INTEGER;
    ALTER TABLE member_invoice ADD COLUMN paid_via TEXT;
    ALTER TABLE member_invoice ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE member_invoice ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE member_invoice ADD COLUMN outbox_seq INTEGER;
    ALTER TABLE member_invoice_sync ADD COLUMN cursor TEXT;
    ALTER TABLE member_invoice_sync ADD COLUMN events_after INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE outbox (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        kind            TEXT NOT NULL,
        subject         TEXT NOT NULL,
        idempotency_key TEXT,
        body            TEXT NOT NULL,
        amount          INTEGER,
        currency        TEXT,
        state           TEXT NOT NULL CHECK (state IN
                            ('queued', 'sending', 'done', 'canceled', 'failed', 'quarantined')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        answer          TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX outbox_one_unfinished ON outbox (kind, subject)
        WHERE state IN ('queued', 'sending');
    CREATE UNIQUE INDEX outbox_key ON outbox (idempotency_key);
    CREATE INDEX member_invoice_list
        ON member_invoice (status NOT IN ('open', 'uncollectible'), created DESC, id DESC);
    CREATE TABLE link_invoice (
        invoice_number INTEGER PRIMARY KEY,
        amount         INTEGER NOT NULL,
        currency       TEXT NOT NULL,
        channel        TEXT NOT NULL,
        expires_at     INTEGER NOT NULL,
        seen_at        INTEGER NOT NULL
    );
    "#,
    // The invoices with a payment from this phone, without reading the other 10,000 rows: the
    // list asks for their payments on every read.
    r#"
    CREATE INDEX member_invoice_outbox ON member_invoice (outbox_seq)
        WHERE outbox_seq IS NOT NULL;
    "#,
    // Invoice threads as last read, and the member's messages waiting in the outbox.
    super::messages::MIGRATION,
];

/// Brings the schema to the latest version, each step in its own transaction.
pub fn run(conn: &mut Connection) -> Result<()> {
    let current: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > MIGRATIONS.len() {
        return Err(crate::error::Error::Internal(format!(
            "database schema {current} is newer than this app ({})",
            MIGRATIONS.len()
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_refuse_a_newer_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn).unwrap();
        run(&mut conn).unwrap();
        let v: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len());
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(run(&mut conn).is_err());
    }
}
