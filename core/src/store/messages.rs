//! Invoice threads as last read, for reading offline, and the member's own messages waiting in
//! the outbox (`pending`) until the server's answer names them. A message the server knows is
//! kept under its `imsg_…`; one the member wrote keeps its local id (`lmsg_…`, the outbox row's
//! subject) and gains the server's id once sent, so a thread shows it once, before and after.

use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::Store;
use crate::error::{Error, Result};
use crate::wire::{InvoiceMessage, InvoiceMessageAuthorKind};

/// Messages kept per invoice on the phone (the server keeps them all, 500 at most).
pub const KEPT_PER_INVOICE: i64 = 500;

/// Where one of the member's messages stands on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredMessageState {
    /// Written, not yet accepted by the server (in the outbox).
    Pending,
    /// The server has it.
    Sent,
    /// The server refused it for good (its reason is on the outbox row).
    Failed,
}

impl StoredMessageState {
    fn parse(text: &str) -> Result<Self> {
        Ok(match text {
            "pending" => Self::Pending,
            "sent" => Self::Sent,
            "failed" => Self::Failed,
            other => return Err(Error::Internal(format!("stored message state {other:?}"))),
        })
    }
}

/// One message as the phone keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// `lmsg_…` for the member's own, else the server's `imsg_…`.
    pub local_id: String,
    /// The server's `imsg_…`, once it has it.
    pub server_id: Option<String>,
    /// The `in_…`.
    pub invoice_id: String,
    /// Written by support (else by the member).
    pub from_staff: bool,
    /// Support's display name.
    pub author_name: Option<String>,
    /// The text as written.
    pub text: String,
    /// The attachment's type, if any.
    pub attachment_type: Option<String>,
    /// The attachment's size in bytes.
    pub attachment_size: Option<i64>,
    /// Unix seconds: the server's time once sent, the phone's while pending.
    pub created: i64,
    /// Where it stands.
    pub state: StoredMessageState,
}

/// The cache's table, a migration entry of the phone's single list.
pub const MIGRATION: &str = r#"
    CREATE TABLE invoice_messages (
        local_id        TEXT PRIMARY KEY,
        server_id       TEXT UNIQUE,
        invoice_id      TEXT NOT NULL,
        from_staff      INTEGER NOT NULL CHECK (from_staff IN (0, 1)),
        author_name     TEXT,
        text            TEXT NOT NULL,
        attachment_type TEXT,
        attachment_size INTEGER,
        created         INTEGER NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
        seq             INTEGER NOT NULL
    );
    CREATE INDEX invoice_messages_thread ON invoice_messages (invoice_id, created, seq);
    -- `next_seq` reads MAX(seq) at every insert: from this index, not a scan of every thread.
    CREATE INDEX invoice_messages_seq ON invoice_messages (seq);
    -- Where the last read of each thread ended: the next asks for what came after it. Not the
    -- newest message the phone has: the member's own, sent meanwhile, may come after an answer
    -- of support's that the phone has not read yet.
    CREATE TABLE invoice_thread_read (
        invoice_id TEXT PRIMARY KEY,
        last_id    TEXT NOT NULL
    );
"#;

const COLUMNS: &str = "local_id, server_id, invoice_id, from_staff, author_name, text, \
                       attachment_type, attachment_size, created, state";

fn row_of(r: &Row<'_>) -> rusqlite::Result<(StoredMessage, String)> {
    let state: String = r.get(9)?;
    Ok((
        StoredMessage {
            local_id: r.get(0)?,
            server_id: r.get(1)?,
            invoice_id: r.get(2)?,
            from_staff: r.get::<_, i64>(3)? == 1,
            author_name: r.get(4)?,
            text: r.get(5)?,
            attachment_type: r.get(6)?,
            attachment_size: r.get(7)?,
            created: r.get(8)?,
            state: StoredMessageState::Sent,
        },
        state,
    ))
}

/// The next position in the phone's order (the server's order for what it sent, writing order
/// for the member's own).
fn next_seq(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM invoice_messages",
        [],
        |r| r.get(0),
    )?)
}

/// Writes the member's message as pending, in the caller's transaction (the outbox's, so the
/// row to send and the message shown are written together).
pub fn insert_pending(
    tx: &Transaction<'_>,
    local_id: &str,
    invoice_id: &str,
    text: &str,
    now: i64,
) -> Result<()> {
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO invoice_messages (local_id, invoice_id, from_staff, text, created, state, seq)
         VALUES (?1, ?2, 0, ?3, ?4, 'pending', ?5)",
        params![local_id, invoice_id, text, now, seq],
    )?;
    Ok(())
}

fn upsert_server(tx: &Transaction<'_>, m: &InvoiceMessage, local_id: Option<&str>) -> Result<()> {
    let staff = m.author.kind == InvoiceMessageAuthorKind::Staff;
    let (kind, size) = match &m.attachment {
        Some(a) => (Some(a.content_type.as_str()), Some(a.size)),
        None => (None, None),
    };
    // The member's own message, sent from this phone: it becomes the server's version.
    if let Some(local) = local_id {
        // A read may have brought the server's copy in first (the answer to the send was lost,
        // the read was not): that copy goes, and the member's row takes its id.
        tx.execute(
            "DELETE FROM invoice_messages WHERE server_id = ?1 AND local_id <> ?2",
            params![m.id, local],
        )?;
        let updated = tx.execute(
            "UPDATE invoice_messages SET server_id = ?2, text = ?3, created = ?4, state = 'sent',
                 attachment_type = ?5, attachment_size = ?6
             WHERE local_id = ?1",
            params![local, m.id, m.text, m.created, kind, size],
        )?;
        if updated == 1 {
            return Ok(());
        }
    }
    let known: Option<String> = tx
        .query_row(
            "SELECT local_id FROM invoice_messages WHERE server_id = ?1",
            [&m.id],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_some() {
        return Ok(());
    }
    let seq = next_seq(tx)?;
    tx.execute(
        "INSERT INTO invoice_messages (local_id, server_id, invoice_id, from_staff, author_name,
             text, attachment_type, attachment_size, created, state, seq)
         VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'sent', ?9)",
        params![
            m.id,
            m.invoice_id,
            i64::from(staff),
            m.author.name,
            m.text,
            kind,
            size,
            m.created,
            seq
        ],
    )?;
    Ok(())
}

/// Marks the member's message as refused for good, in the caller's transaction (the outbox
/// row's, so the row and the message end together).
pub fn mark_failed(tx: &Transaction<'_>, local_id: &str) -> Result<()> {
    tx.execute(
        "UPDATE invoice_messages SET state = 'failed' WHERE local_id = ?1 AND state = 'pending'",
        [local_id],
    )?;
    Ok(())
}

/// The server's answer to the member's message, in the caller's transaction (the outbox
/// row's).
pub fn mark_sent(tx: &Transaction<'_>, local_id: &str, m: &InvoiceMessage) -> Result<()> {
    upsert_server(tx, m, Some(local_id))
}

impl Store {
    /// Adds the messages of a thread the server gave (oldest first) that the phone does not
    /// have yet, and keeps the newest [`KEPT_PER_INVOICE`] of the invoice.
    pub fn save_thread(&mut self, invoice_id: &str, messages: &[InvoiceMessage]) -> Result<()> {
        let tx = self.conn.transaction()?;
        let mine: Vec<&InvoiceMessage> = messages
            .iter()
            .filter(|m| m.invoice_id == invoice_id)
            .collect();
        for m in &mine {
            upsert_server(&tx, m, None)?;
        }
        if let Some(last) = mine.last() {
            tx.execute(
                "INSERT INTO invoice_thread_read (invoice_id, last_id) VALUES (?1, ?2)
                 ON CONFLICT (invoice_id) DO UPDATE SET last_id = excluded.last_id",
                params![invoice_id, last.id],
            )?;
        }
        tx.execute(
            "DELETE FROM invoice_messages WHERE invoice_id = ?1 AND state = 'sent' AND seq NOT IN (
                 SELECT seq FROM invoice_messages WHERE invoice_id = ?1
                 ORDER BY seq DESC LIMIT ?2)",
            params![invoice_id, KEPT_PER_INVOICE],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// An invoice's thread as the phone has it, in time order (the server's time once sent,
    /// the phone's while pending), then in the order the phone learnt of them.
    pub fn thread(&self, invoice_id: &str) -> Result<Vec<StoredMessage>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM invoice_messages WHERE invoice_id = ?1 ORDER BY created, seq"
        ))?;
        let rows = stmt
            .query_map([invoice_id], row_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(mut m, state)| {
                m.state = StoredMessageState::parse(&state)?;
                Ok(m)
            })
            .collect()
    }

    /// Where the last read of an invoice's thread ended (an `imsg_…`), for the next read to
    /// start after; `None` before the first.
    pub fn last_server_message(&self, invoice_id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_id FROM invoice_thread_read WHERE invoice_id = ?1",
                [invoice_id],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::InvoiceMessageAuthor;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn server(id: &str, staff: bool, text: &str, created: i64) -> InvoiceMessage {
        InvoiceMessage {
            object: "invoice_message".into(),
            id: id.into(),
            invoice_id: "in_1".into(),
            author: InvoiceMessageAuthor {
                kind: if staff {
                    InvoiceMessageAuthorKind::Staff
                } else {
                    InvoiceMessageAuthorKind::Member
                },
                name: staff.then(|| "Claire".into()),
            },
            text: text.into(),
            attachment: None,
            created,
        }
    }

    #[test]
    fn a_pending_message_becomes_the_servers_once_and_a_thread_read_adds_the_rest() {
        let (_dir, mut s) = store();
        let tx = s.conn.transaction().unwrap();
        insert_pending(&tx, "lmsg_1", "in_1", "bonjour", 100).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            s.thread("in_1").unwrap()[0].state,
            StoredMessageState::Pending
        );
        let sent = server("imsg_a", false, "bonjour", 120);
        let tx = s.conn.transaction().unwrap();
        mark_sent(&tx, "lmsg_1", &sent).unwrap();
        tx.commit().unwrap();
        // Sending is not reading: support may have answered before it, unread yet.
        assert_eq!(s.last_server_message("in_1").unwrap(), None);
        // The thread read later holds the same message and the answer: one of each.
        s.save_thread("in_1", &[sent, server("imsg_b", true, "merci", 200)])
            .unwrap();
        let t = s.thread("in_1").unwrap();
        assert_eq!(t.len(), 2, "{t:?}");
        assert_eq!(
            (
                t[0].local_id.as_str(),
                t[0].server_id.as_deref(),
                t[0].state
            ),
            ("lmsg_1", Some("imsg_a"), StoredMessageState::Sent)
        );
        assert_eq!(
            (t[1].from_staff, t[1].author_name.as_deref()),
            (true, Some("Claire"))
        );
        assert_eq!(
            s.last_server_message("in_1").unwrap().as_deref(),
            Some("imsg_b")
        );
        // Another invoice's thread is not this one's.
        assert!(s.thread("in_2").unwrap().is_empty());
    }

    #[test]
    fn a_read_that_came_before_the_lost_answer_leaves_one_message() {
        let (_dir, mut s) = store();
        let tx = s.conn.transaction().unwrap();
        insert_pending(&tx, "lmsg_1", "in_1", "bonjour", 100).unwrap();
        tx.commit().unwrap();
        // The server committed, its answer was lost; a read brings the message in meanwhile.
        let sent = server("imsg_a", false, "bonjour", 120);
        s.save_thread("in_1", std::slice::from_ref(&sent)).unwrap();
        assert_eq!(
            s.thread("in_1").unwrap().len(),
            2,
            "for now: pending and read"
        );
        // The resend's replayed answer makes them one again, under the member's own id.
        let tx = s.conn.transaction().unwrap();
        mark_sent(&tx, "lmsg_1", &sent).unwrap();
        tx.commit().unwrap();
        let t = s.thread("in_1").unwrap();
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(
            (
                t[0].local_id.as_str(),
                t[0].server_id.as_deref(),
                t[0].state
            ),
            ("lmsg_1", Some("imsg_a"), StoredMessageState::Sent)
        );
    }

    #[test]
    fn a_refused_message_stays_shown_as_failed() {
        let (_dir, mut s) = store();
        let tx = s.conn.transaction().unwrap();
        insert_pending(&tx, "lmsg_1", "in_1", "x", 100).unwrap();
        mark_failed(&tx, "lmsg_1").unwrap();
        tx.commit().unwrap();
        assert_eq!(
            s.thread("in_1").unwrap()[0].state,
            StoredMessageState::Failed
        );
    }
}
