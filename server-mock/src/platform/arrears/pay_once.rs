//! The tables of paying arrears exactly once (issue 12, docs/arrears.md "Paying exactly once"),
//! registered in `db.rs` as the module `arrears_pay_once`, after the PSP's (the triggers watch
//! its invoices and intents).
//!
//! - `platform_invoice_attempts`: every payment attempt of every channel. A partial unique
//!   index allows one `pending` or `processing` attempt per invoice; status moves only by
//!   compare-and-set (`attempts.rs`).
//! - `platform_invoice_changes`: the per-platform change sequence. Triggers bump an invoice's
//!   row in the transaction of the change, whoever makes it (the platform, or the PSP's own
//!   pages and transfers, which never call the platform in process): created, reminder sent,
//!   link opened, attempt moved, intent moved, paid, credited, voided.
//! - `platform_member_events`: the member's stream, one `invoice.updated` per bump; its
//!   trigger wakes the long-polling readers (`member_event_wake()`, `member_events.rs`).
//! - `platform_link_opens`: a payment link opened in a browser, one row per invoice, channel
//!   and day.
//! - On paid, the push "paid" joins the outbox in the same transaction, for every active
//!   device with a push token (ids `msg_paid_{invoice}_{device}`: an invoice is paid once).
//!
//! Triggers rather than calls because the PSP's card form, hosted invoice page and transfer
//! matching pay invoices in transactions the platform's code never runs in; a trigger is the
//! only way "in the same transaction" holds for every channel.

/// Registers `paid_push_data(service, invoice)` on the connection: the push's data object as
/// JSON text, for the paid trigger. Written in Rust because the SQLite we ship has no JSON
/// functions (`.cargo/config.toml`), and serde escapes what string concatenation would not.
pub fn register_functions(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "paid_push_data",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let service: String = ctx.get(0)?;
            let invoice: String = ctx.get(1)?;
            Ok(paid_push_data(&service, &invoice))
        },
    )
}

/// The data of the push "paid": what the app opens, for which service.
fn paid_push_data(service: &str, invoice: &str) -> String {
    serde_json::json!({
        "kind": "invoice_paid",
        "link": format!("tierspay://invoices/{invoice}"),
        "service": service,
        "invoice": invoice,
    })
    .to_string()
}

/// The module's migrations (append-only).
pub const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE platform_invoice_attempts (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,
        invoice_id     TEXT NOT NULL,
        member_ref     TEXT NOT NULL,
        channel        TEXT NOT NULL CHECK (channel IN ('app', 'email', 'sms', 'push', 'app_link', 'hosted_invoice')),
        payment_intent TEXT,
        status         TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'succeeded', 'failed', 'canceled', 'already_paid')),
        amount         INTEGER NOT NULL,
        currency       TEXT NOT NULL,
        failure_code   TEXT,
        created        INTEGER NOT NULL,
        updated        INTEGER NOT NULL
    );
    -- At most one active payment attempt per invoice, whatever the channel.
    CREATE UNIQUE INDEX platform_invoice_attempts_one_active ON platform_invoice_attempts (invoice_id)
        WHERE status IN ('pending', 'processing');
    CREATE INDEX platform_invoice_attempts_invoice ON platform_invoice_attempts (invoice_id, seq);
    CREATE INDEX platform_invoice_attempts_intent ON platform_invoice_attempts (payment_intent)
        WHERE payment_intent IS NOT NULL;

    CREATE TABLE platform_invoice_changes (
        invoice_id TEXT PRIMARY KEY,
        member_ref TEXT NOT NULL,
        seq        INTEGER NOT NULL UNIQUE
    );
    CREATE INDEX platform_invoice_changes_member ON platform_invoice_changes (member_ref, seq);

    CREATE TABLE platform_member_events (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        member_ref TEXT NOT NULL,
        kind       TEXT NOT NULL,
        invoice_id TEXT,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_member_events_member ON platform_member_events (member_ref, seq);

    CREATE TABLE platform_link_opens (
        invoice_id TEXT NOT NULL,
        channel    TEXT NOT NULL,
        day        INTEGER NOT NULL,
        at         INTEGER NOT NULL,
        PRIMARY KEY (invoice_id, channel, day)
    ) WITHOUT ROWID;

    -- Every change of a platform invoice moves it to the end of the sequence and tells the
    -- member (one event per change; the phone fetches the invoice by the change cursor).
    CREATE TRIGGER platform_invoice_changes_event AFTER UPDATE OF seq ON platform_invoice_changes
    BEGIN
        INSERT INTO platform_member_events (member_ref, kind, invoice_id, created)
        VALUES (NEW.member_ref, 'invoice.updated', NEW.invoice_id, unixepoch());
        SELECT member_event_wake();
    END;
    CREATE TRIGGER platform_invoice_changes_first AFTER INSERT ON platform_invoice_changes
    BEGIN
        INSERT INTO platform_member_events (member_ref, kind, invoice_id, created)
        VALUES (NEW.member_ref, 'invoice.updated', NEW.invoice_id, unixepoch());
        SELECT member_event_wake();
    END;

    CREATE TRIGGER platform_invoices_created AFTER INSERT ON platform_invoices
    BEGIN
        INSERT INTO platform_invoice_changes (invoice_id, member_ref, seq)
        VALUES (NEW.invoice_id, NEW.member_ref,
                (SELECT COALESCE(MAX(seq), 0) + 1 FROM platform_invoice_changes));
    END;

    CREATE TRIGGER platform_invoice_changes_psp AFTER UPDATE OF status, amount_paid, pre_payment_credit, post_payment_credit ON psp_invoices
        WHEN NEW.status IS NOT OLD.status OR NEW.amount_paid IS NOT OLD.amount_paid
          OR NEW.pre_payment_credit IS NOT OLD.pre_payment_credit
          OR NEW.post_payment_credit IS NOT OLD.post_payment_credit
    BEGIN
        UPDATE platform_invoice_changes
        SET seq = (SELECT MAX(seq) + 1 FROM platform_invoice_changes)
        WHERE invoice_id = NEW.id;
    END;

    CREATE TRIGGER platform_invoice_paid_push AFTER UPDATE OF status ON psp_invoices
        WHEN NEW.status = 'paid' AND OLD.status <> 'paid'
    BEGIN
        INSERT INTO platform_outbox (id, seq, channel, recipient, subject, body, data, created)
        SELECT 'msg_paid_' || NEW.id || '_' || d.id,
               (SELECT COALESCE(MAX(seq), 0) FROM platform_outbox) + row_number() OVER (ORDER BY d.id),
               'push', t.token, 'Facture réglée',
               vault_seal('outbox:msg_paid_' || NEW.id || '_' || d.id,
                          'Votre facture ' || COALESCE(NEW.number, NEW.id) || ' est réglée.'),
               paid_push_data(t.service, NEW.id),
               COALESCE(NEW.paid_at, unixepoch())
        FROM platform_invoices p
        JOIN platform_devices d ON d.member_ref = p.member_ref AND d.status = 'active'
        JOIN platform_push_tokens t ON t.device_id = d.id
        WHERE p.invoice_id = NEW.id;
    END;

    CREATE TRIGGER platform_invoice_changes_intent AFTER UPDATE OF status ON psp_payment_intents
        WHEN NEW.invoice IS NOT NULL AND NEW.status IS NOT OLD.status
    BEGIN
        UPDATE platform_invoice_changes
        SET seq = (SELECT MAX(seq) + 1 FROM platform_invoice_changes)
        WHERE invoice_id = NEW.invoice;
    END;

    CREATE TRIGGER platform_invoice_changes_reminder AFTER INSERT ON platform_reminder_sends
        WHEN NEW.outcome = 'sent'
    BEGIN
        UPDATE platform_invoice_changes
        SET seq = (SELECT MAX(seq) + 1 FROM platform_invoice_changes)
        WHERE invoice_id = NEW.invoice_id;
    END;

    CREATE TRIGGER platform_invoice_changes_link AFTER INSERT ON platform_link_opens
    BEGIN
        UPDATE platform_invoice_changes
        SET seq = (SELECT MAX(seq) + 1 FROM platform_invoice_changes)
        WHERE invoice_id = NEW.invoice_id;
    END;

    CREATE TRIGGER platform_invoice_changes_attempt AFTER INSERT ON platform_invoice_attempts
    BEGIN
        UPDATE platform_invoice_changes
        SET seq = (SELECT MAX(seq) + 1 FROM platform_invoice_changes)
        WHERE invoice_id = NEW.invoice_id;
    END;
    CREATE TRIGGER platform_invoice_changes_attempt_moved AFTER UPDATE OF status ON platform_invoice_attempts
        WHEN NEW.status IS NOT OLD.status
    BEGIN
        UPDATE platform_invoice_changes
        SET seq = (SELECT MAX(seq) + 1 FROM platform_invoice_changes)
        WHERE invoice_id = NEW.invoice_id;
    END;

    -- Invoices made before this migration join the sequence once.
    INSERT INTO platform_invoice_changes (invoice_id, member_ref, seq)
    SELECT invoice_id, member_ref, row_number() OVER (ORDER BY seq) FROM platform_invoices;
"#];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paid_push_data_is_json_whatever_the_service_says() {
        let data: serde_json::Value =
            serde_json::from_str(&paid_push_data("fcm\"}", "in_1")).unwrap();
        assert_eq!(data["kind"], "invoice_paid");
        assert_eq!(data["link"], "tierspay://invoices/in_1");
        assert_eq!(data["service"], "fcm\"}");
        assert_eq!(data["invoice"], "in_1");
    }
}
