//! The tables of invoice threads and what reads and writes them: messages (text sealed with the
//! vault key, as outbox bodies are: a member may write about their health), their attachments
//! (sealed bytes with their SHA-256), and the push a staff answer queues.

use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::{random, sha256};
use tierspay_core::wire::{
    check_attachment, check_text, InvoiceMessage, InvoiceMessageAttachment, InvoiceMessageAuthor,
    InvoiceMessageAuthorKind, MessageRefusal,
};

use crate::http::ApiError;
use crate::platform::arrears::invoices::{self, PlatformInvoice};
use crate::platform::notifications::{self, Push};
use crate::vault::Vault;

/// The module's migrations (`migrate(&mut conn, "invoice_messages", …)` in `db.rs`).
pub const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE invoice_messages (
        seq         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        invoice_id  TEXT NOT NULL,
        author_kind TEXT NOT NULL CHECK (author_kind IN ('member', 'staff')),
        author_id   TEXT NOT NULL,
        author_name TEXT,
        body        BLOB NOT NULL,
        created     INTEGER NOT NULL,
        CHECK ((author_kind = 'staff') = (author_name IS NOT NULL))
    );
    CREATE INDEX invoice_messages_thread ON invoice_messages (invoice_id, seq);
    CREATE TABLE invoice_message_attachments (
        message_id   TEXT PRIMARY KEY REFERENCES invoice_messages(id),
        content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'application/pdf')),
        size         INTEGER NOT NULL CHECK (size > 0),
        sha256       TEXT NOT NULL,
        data         BLOB NOT NULL
    );
"#];

/// Most messages one invoice's thread may hold: a thread is read whole by the console, and a
/// script must not grow one without bound.
pub const MAX_MESSAGES_PER_INVOICE: i64 = 500;
/// Longest staff display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 80;

/// A support agent, as a message shows them.
#[derive(Debug, Clone, Copy)]
pub struct Staff<'a> {
    /// The console's id for the agent (kept, never shown to the member).
    pub id: &'a str,
    /// The name the member reads (never the login).
    pub display_name: &'a str,
}

/// An attachment to store: its declared type and decoded bytes, checked by [`post_member`].
#[derive(Debug, Clone, Copy)]
pub struct Attachment<'a> {
    /// One of `ATTACHMENT_TYPES`.
    pub content_type: &'a str,
    /// The bytes.
    pub bytes: &'a [u8],
}

fn refused(r: MessageRefusal) -> ApiError {
    ApiError::invalid_param(r.param, r.message)
}

fn context(id: &str) -> String {
    format!("invoice-message:{id}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The platform's row of an invoice, or a 404 naming `id` (the same answer whether it does not
/// exist or is someone else's).
pub fn invoice_of(
    conn: &Connection,
    invoice_id: &str,
    member_ref: Option<&str>,
) -> Result<PlatformInvoice, ApiError> {
    let not_found = || {
        let mut e = ApiError::not_found("invoice");
        e.detail.param = Some("id".into());
        e
    };
    if invoice_id.len() > 64 || !invoice_id.starts_with("in_") {
        return Err(not_found());
    }
    invoices::record(conn, invoice_id)?
        .filter(|p| member_ref.is_none_or(|m| p.member_ref == m))
        .ok_or_else(not_found)
}

const SELECT: &str = "SELECT m.id, m.invoice_id, m.author_kind, m.author_name,
        vault_open('invoice-message:' || m.id, m.body), m.created,
        a.content_type, a.size, a.sha256
    FROM invoice_messages m LEFT JOIN invoice_message_attachments a ON a.message_id = m.id";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<InvoiceMessage> {
    let kind: String = r.get(2)?;
    let content_type: Option<String> = r.get(6)?;
    Ok(InvoiceMessage {
        object: "invoice_message".into(),
        id: r.get(0)?,
        invoice_id: r.get(1)?,
        author: InvoiceMessageAuthor {
            kind: if kind == "staff" {
                InvoiceMessageAuthorKind::Staff
            } else {
                InvoiceMessageAuthorKind::Member
            },
            name: r.get(3)?,
        },
        // A body that does not open (another vault) reads as empty rather than failing the page.
        text: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
        attachment: match content_type {
            Some(content_type) => Some(InvoiceMessageAttachment {
                content_type,
                size: r.get(7)?,
                sha256: r.get(8)?,
            }),
            None => None,
        },
        created: r.get(5)?,
    })
}

/// One message by id, within its invoice.
pub fn message(
    conn: &Connection,
    invoice_id: &str,
    message_id: &str,
) -> Result<Option<InvoiceMessage>, ApiError> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE m.invoice_id = ?1 AND m.id = ?2"))?
        .query_row(params![invoice_id, message_id], from_row)
        .optional()?)
}

/// An invoice's thread, oldest first: at most `limit` messages after `starting_after` (a
/// message id of this thread) if given, and whether more follow. The caller has checked who
/// may read the invoice; a `starting_after` not in this thread is a 400 naming it.
pub fn thread(
    conn: &Connection,
    invoice_id: &str,
    limit: u32,
    starting_after: Option<&str>,
) -> Result<(Vec<InvoiceMessage>, bool), ApiError> {
    let after: i64 = match starting_after {
        None => 0,
        Some(id) => conn
            .prepare_cached("SELECT seq FROM invoice_messages WHERE invoice_id = ?1 AND id = ?2")?
            .query_row(params![invoice_id, id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                ApiError::invalid_param(
                    "starting_after",
                    "starting_after is not a message of this invoice.",
                )
            })?,
    };
    let mut rows: Vec<InvoiceMessage> = conn
        .prepare_cached(&format!(
            "{SELECT} WHERE m.invoice_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3"
        ))?
        .query_map(params![invoice_id, after, i64::from(limit) + 1], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

fn insert(
    tx: &Connection,
    invoice_id: &str,
    kind: &str,
    author_id: &str,
    author_name: Option<&str>,
    text: &str,
    now: i64,
) -> Result<String, ApiError> {
    let count: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM invoice_messages WHERE invoice_id = ?1")?
        .query_row([invoice_id], |r| r.get(0))?;
    if count >= MAX_MESSAGES_PER_INVOICE {
        return Err(ApiError::invalid(
            "thread_full",
            format!(
                "This invoice's thread holds {MAX_MESSAGES_PER_INVOICE} messages, the most it may; \
                 contact the insurer another way."
            ),
        ));
    }
    let id = random::id("imsg");
    tx.prepare_cached(
        "INSERT INTO invoice_messages (id, invoice_id, author_kind, author_id, author_name, body, created)
         VALUES (?1, ?2, ?3, ?4, ?5, vault_seal('invoice-message:' || ?1, ?6), ?7)",
    )?
    .execute(params![id, invoice_id, kind, author_id, author_name, text, now])?;
    Ok(id)
}

fn written(tx: &Connection, invoice_id: &str, id: &str) -> Result<InvoiceMessage, ApiError> {
    message(tx, invoice_id, id)?.ok_or_else(|| ApiError::internal("message just written is gone"))
}

/// Adds the member's message (and its attachment, sealed with `vault`) to their own invoice, in
/// the caller's transaction: the checks of `wire::check_text` and `wire::check_attachment`,
/// each refusal naming its field; another member's invoice is a 404.
pub fn post_member(
    tx: &Connection,
    vault: &Vault,
    invoice_id: &str,
    member_ref: &str,
    text: &str,
    attachment: Option<Attachment<'_>>,
    now: i64,
) -> Result<InvoiceMessage, ApiError> {
    invoice_of(tx, invoice_id, Some(member_ref))?;
    let text = check_text(text).map_err(refused)?;
    if let Some(a) = attachment {
        check_attachment(a.content_type, a.bytes).map_err(refused)?;
    }
    let id = insert(tx, invoice_id, "member", member_ref, None, &text, now)?;
    if let Some(a) = attachment {
        let sealed = vault.seal(context(&format!("{id}:attachment")).as_bytes(), a.bytes);
        tx.prepare_cached(
            "INSERT INTO invoice_message_attachments (message_id, content_type, size, sha256, data)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            id,
            a.content_type,
            a.bytes.len() as i64,
            hex(&sha256(a.bytes)),
            sealed
        ])?;
    }
    written(tx, invoice_id, &id)
}

/// A message's attachment: its declared type and bytes, `None` if it has none.
pub fn attachment(
    conn: &Connection,
    vault: &Vault,
    message_id: &str,
) -> Result<Option<(String, Vec<u8>)>, ApiError> {
    let row: Option<(String, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT content_type, data FROM invoice_message_attachments WHERE message_id = ?1",
        )?
        .query_row([message_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(content_type, sealed)| {
        vault
            .open(
                context(&format!("{message_id}:attachment")).as_bytes(),
                &sealed,
            )
            .map(|bytes| (content_type, bytes))
            .map_err(|e| ApiError::internal(&format!("attachment: {e}")))
    })
    .transpose()
}

/// Adds a support agent's answer to an invoice's thread and, in the same transaction, queues a
/// push to the member's signed-in devices (its text says only that support answered: a lock
/// screen is no place for the message). A missing invoice is a 404 naming `id`; the text is
/// checked as the member's is; a display name must be 1 to [`MAX_DISPLAY_NAME`] characters on
/// one line (`param: display_name`).
pub fn post_staff(
    tx: &Connection,
    invoice_id: &str,
    staff: Staff<'_>,
    text: &str,
    now: i64,
) -> Result<InvoiceMessage, ApiError> {
    let invoice = invoice_of(tx, invoice_id, None)?;
    let name = staff.display_name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_param(
            "display_name",
            format!("display_name must be 1 to {MAX_DISPLAY_NAME} characters, on one line."),
        ));
    }
    let text = check_text(text).map_err(refused)?;
    let id = insert(tx, invoice_id, "staff", staff.id, Some(name), &text, now)?;
    notifications::push_to_member_with(
        tx,
        &invoice.member_ref,
        Push {
            kind: "invoice_message",
            title: "Nouveau message",
            body: "Votre assureur a répondu au sujet d'une facture.",
            link: "tierspay://home",
        },
        &[("invoice", invoice_id), ("message", &id)],
        now,
    )?;
    written(tx, invoice_id, &id)
}
