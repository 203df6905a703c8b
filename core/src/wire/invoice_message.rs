//! Messages on an invoice (issue 14): the thread a member and the insurer's support write on one
//! invoice. `GET /v1/me/invoices/{id}/messages` reads it oldest first, a page at a time;
//! `POST /v1/me/invoices/{id}/messages` (with an `Idempotency-Key`) adds the member's message.
//! Support answers from its console; the member gets a push. The checks on what a message may
//! hold live here, so the app refuses before sending what the server would refuse.

use serde::{Deserialize, Serialize};

/// Longest message text, in characters (Unicode scalar values).
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Largest attachment, in bytes once decoded. Bounded by the server's 64 KiB request body (the
/// attachment travels base64-encoded in the JSON body, a third larger), with room for the text.
pub const MAX_ATTACHMENT_BYTES: usize = 32 * 1024;
/// Most messages one page of a thread holds.
pub const MAX_PAGE: u32 = 100;
/// The attachment types accepted, each checked against the file's first bytes.
pub const ATTACHMENT_TYPES: &[&str] = &["image/png", "image/jpeg", "application/pdf"];

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceMessageAuthorKind {
    /// The member, from the app.
    Member,
    /// The insurer's support, from its console.
    Staff,
}

/// The author of a message as both sides show it: never a login or an email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMessageAuthor {
    /// Member or staff.
    pub kind: InvoiceMessageAuthorKind,
    /// The staff member's display name; `None` for the member (the app says "you").
    pub name: Option<String>,
}

/// A file attached to a message: its facts, not its bytes
/// (`GET /v1/me/invoices/{id}/messages/{message}/attachment` gives those).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMessageAttachment {
    /// One of [`ATTACHMENT_TYPES`].
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
}

/// One message of an invoice's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMessage {
    /// Always `"invoice_message"`.
    pub object: String,
    /// `imsg_…`
    pub id: String,
    /// The `in_…` it is written on.
    pub invoice_id: String,
    /// Who wrote it.
    pub author: InvoiceMessageAuthor,
    /// Plain text as written (never HTML: whoever shows it escapes it).
    pub text: String,
    /// The attached file, if any.
    pub attachment: Option<InvoiceMessageAttachment>,
    /// Unix seconds, when the platform received it.
    pub created: i64,
}

/// `GET /v1/me/invoices/{id}/messages?limit=&starting_after=`: oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceMessageList {
    /// Always `"list"`.
    pub object: String,
    /// At most `limit` messages (1 to [`MAX_PAGE`], 20 by default), oldest first.
    pub data: Vec<InvoiceMessage>,
    /// More messages follow: ask again with `starting_after` = the last id of `data`.
    pub has_more: bool,
}

/// A file to attach, base64 (standard alphabet, padded) in the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvoiceMessageAttachment {
    /// The declared type, one of [`ATTACHMENT_TYPES`]; it must match the file's first bytes.
    pub content_type: String,
    /// The bytes, base64; at most [`MAX_ATTACHMENT_BYTES`] once decoded.
    pub data: String,
}

/// `POST /v1/me/invoices/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvoiceMessage {
    /// 1 to [`MAX_TEXT_CHARS`] characters; newlines allowed, no other control character.
    pub text: String,
    /// An optional file.
    #[serde(default)]
    pub attachment: Option<NewInvoiceMessageAttachment>,
}

/// Why a message was refused, naming the field as the server's error does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRefusal {
    /// `text`, `attachment[content_type]` or `attachment[data]`.
    pub param: &'static str,
    /// A sentence for the member.
    pub message: String,
}

/// The text trimmed of surrounding blanks, or why it is refused: empty, longer than
/// [`MAX_TEXT_CHARS`], or holding a control character other than a newline (a carriage return
/// before a newline is dropped, since Windows keyboards send both).
pub fn check_text(text: &str) -> Result<String, MessageRefusal> {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    let refuse = |message: String| MessageRefusal {
        param: "text",
        message,
    };
    if text.is_empty() {
        return Err(refuse("text must not be empty.".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(refuse(format!(
            "text must be at most {MAX_TEXT_CHARS} characters."
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(refuse(
            "text must not hold control characters other than newlines.".into(),
        ));
    }
    Ok(text.to_owned())
}

/// Whether `bytes` begin as a file of `content_type` does (its magic number): PNG's 8-byte
/// signature, JPEG's SOI marker followed by a marker, PDF's `%PDF-`.
pub fn magic_matches(content_type: &str, bytes: &[u8]) -> bool {
    match content_type {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "application/pdf" => bytes.starts_with(b"%PDF-"),
        _ => false,
    }
}

/// Checks an attachment whose bytes are already decoded: an accepted type, not empty, at most
/// [`MAX_ATTACHMENT_BYTES`], and first bytes matching the declared type.
pub fn check_attachment(content_type: &str, bytes: &[u8]) -> Result<(), MessageRefusal> {
    if !ATTACHMENT_TYPES.contains(&content_type) {
        return Err(MessageRefusal {
            param: "attachment[content_type]",
            message: format!(
                "attachment[content_type] must be one of {}.",
                ATTACHMENT_TYPES.join(", ")
            ),
        });
    }
    if bytes.is_empty() || bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(MessageRefusal {
            param: "attachment[data]",
            message: format!("attachment[data] must be 1 to {MAX_ATTACHMENT_BYTES} bytes."),
        });
    }
    if !magic_matches(content_type, bytes) {
        return Err(MessageRefusal {
            param: "attachment[data]",
            message: format!("attachment[data] is not a {content_type} file."),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded_and_keeps_its_newlines() {
        assert_eq!(
            check_text("  Bonjour\r\nMerci \n").unwrap(),
            "Bonjour\nMerci"
        );
        assert_eq!(check_text(" \n ").unwrap_err().param, "text");
        let long = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(check_text(&long).unwrap().chars().count(), 2_000);
        assert!(check_text(&format!("{long}x")).is_err());
        for bad in ["a\u{0}b", "tab\there", "bell\u{7}", "esc\u{1b}[2J", "a\rb"] {
            assert_eq!(check_text(bad).unwrap_err().param, "text", "{bad:?}");
        }
        // HTML is text like any other: kept as written, escaped where shown.
        assert_eq!(
            check_text("<script>alert(1)</script>").unwrap(),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn an_attachment_must_be_what_it_declares() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        let pdf = b"%PDF-1.7\n";
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        assert_eq!(check_attachment("image/png", png), Ok(()));
        assert_eq!(check_attachment("application/pdf", pdf), Ok(()));
        assert_eq!(check_attachment("image/jpeg", &jpeg), Ok(()));
        assert_eq!(
            check_attachment("image/png", pdf).unwrap_err().param,
            "attachment[data]"
        );
        assert_eq!(
            check_attachment("image/svg+xml", b"<svg/>")
                .unwrap_err()
                .param,
            "attachment[content_type]"
        );
        assert_eq!(
            check_attachment("image/png", b"").unwrap_err().param,
            "attachment[data]"
        );
        let mut big = png.to_vec();
        big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
        assert_eq!(
            check_attachment("image/png", &big).unwrap_err().param,
            "attachment[data]"
        );
        big.truncate(MAX_ATTACHMENT_BYTES);
        assert_eq!(check_attachment("image/png", &big), Ok(()));
    }
}
