//! Messages on an invoice, on the phone: the thread read from the server and kept for reading
//! offline, and the member's own messages written through the outbox (kind
//! [`INVOICE_MESSAGE`]), so each is sent exactly once: its key and body are written with the
//! pending message, and every retry carries the same key (docs/messages.md).

use reqwest::Method;

use super::Core;
use crate::auth::random;
use crate::error::{Error, Result};
use crate::store::messages::{mark_failed, mark_sent, StoredMessage};
use crate::store::outbox::{Enqueued, NewOutboxRow, INVOICE_MESSAGE};
use crate::store::{OutboxRow, OutboxState};
use crate::wire::{check_text, InvoiceMessage, InvoiceMessageList, NewInvoiceMessage, MAX_PAGE};

/// Pages one thread read asks at most (the server keeps 500 messages a thread: 5 pages of 100).
const MAX_PAGES: usize = 5;

/// Whether `id` looks like an id the server or the phone made (`in_…`, `imsg_…`, `lmsg_…`):
/// bounded, one prefix, the base64url alphabet, so it is safe in a path.
pub(crate) fn path_safe(id: &str, prefix: &str) -> bool {
    id.len() <= 64
        && id.strip_prefix(prefix).is_some_and(|rest| {
            rest.len() > 1
                && rest.starts_with('_')
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// A message row's subject: `{in_…}:{lmsg_…}`, one per message (the outbox allows one
/// unfinished row per subject, and a member may write several messages offline).
fn subject_of(invoice_id: &str, local_id: &str) -> String {
    format!("{invoice_id}:{local_id}")
}

/// The invoice and local id of a message row's subject, both checked.
pub(crate) fn subject_parts(subject: &str) -> Option<(&str, &str)> {
    let (invoice, local) = subject.split_once(':')?;
    (path_safe(invoice, "in") && path_safe(local, "lmsg")).then_some((invoice, local))
}

/// The path of a message row, once its subject and body check: `Err` says why a row cannot be
/// sent (it is then set aside, never guessed at).
pub(crate) fn message_path(row: &OutboxRow) -> std::result::Result<String, &'static str> {
    let (invoice, _) = subject_parts(&row.subject).ok_or("bad subject")?;
    let body: NewInvoiceMessage = serde_json::from_str(&row.body).map_err(|_| "unreadable body")?;
    // The phone wrote the text already checked: anything else was not written by this code.
    if check_text(&body.text).ok().as_deref() != Some(body.text.as_str()) {
        return Err("text the server would refuse");
    }
    Ok(format!("/v1/me/invoices/{invoice}/messages"))
}

impl Core {
    /// Writes the member's message on `invoice_id`: checked as the server checks it, written
    /// as pending with its outbox row (key and body) in one transaction, then sent if the
    /// network allows. Offline, it waits in the outbox and shows as pending.
    pub async fn write_invoice_message(
        &self,
        invoice_id: &str,
        text: &str,
    ) -> Result<StoredMessage> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        if !path_safe(invoice_id, "in") {
            return Err(Error::invalid("invoice_id", "is not an invoice id (in_…)"));
        }
        let text = check_text(text).map_err(|r| Error::invalid(r.param, r.message))?;
        let body = serde_json::to_string(&NewInvoiceMessage {
            text: text.clone(),
            attachment: None,
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        let local_id = random::id("lmsg");
        let key = random::id("idk");
        let now = crate::net::unix_now();
        let enqueued = self.store()?.enqueue(
            &NewOutboxRow {
                kind: INVOICE_MESSAGE,
                subject: &subject_of(invoice_id, &local_id),
                idempotency_key: &key,
                body: &body,
                amount: None,
                currency: None,
            },
            now,
            |tx, _seq| {
                crate::store::messages::insert_pending(tx, &local_id, invoice_id, &text, now)
            },
        )?;
        if let Enqueued::AlreadyQueued(_) = enqueued {
            // A fresh random id cannot collide; should it, nothing new was written.
            return Err(Error::Internal("message id already queued".into()));
        }
        if let Err(e) = self.send_outbox().await {
            if matches!(e, Error::SessionRevoked | Error::NotEnrolled) {
                return Err(e);
            }
            tracing::debug!("the message waits: {e}");
        }
        self.store()?
            .thread(invoice_id)?
            .into_iter()
            .find(|m| m.local_id == local_id)
            .ok_or_else(|| Error::Internal("message just written is gone".into()))
    }

    /// The server's answer to a message row: the row ends and the message becomes the server's,
    /// in one transaction. `false` when the answer is for another invoice (the row waits).
    pub(crate) fn finish_message(&self, row: &OutboxRow, raw: &[u8]) -> Result<bool> {
        let (invoice_id, local_id) = subject_parts(&row.subject)
            .ok_or_else(|| Error::Internal("message row without its ids".into()))?;
        let message: InvoiceMessage = serde_json::from_slice(raw)
            .map_err(|e| Error::Protocol(format!("unexpected answer from the server: {e}")))?;
        if message.invoice_id != invoice_id {
            return Ok(false);
        }
        let answer = String::from_utf8_lossy(raw);
        self.store()?.outbox_finish_with(
            row.seq,
            OutboxState::Done,
            None,
            Some(&answer),
            crate::net::unix_now(),
            |tx| mark_sent(tx, local_id, &message),
        )?;
        Ok(true)
    }

    /// A message row the server refused for good: the row and the message end together.
    pub(crate) fn refuse_message(&self, row: &OutboxRow, why: &str) -> Result<()> {
        let local_id = subject_parts(&row.subject).map(|(_, local)| local.to_owned());
        self.store()?.outbox_finish_with(
            row.seq,
            OutboxState::Failed,
            Some(why),
            None,
            crate::net::unix_now(),
            |tx| match &local_id {
                Some(local) => mark_failed(tx, local),
                None => Ok(()),
            },
        )?;
        Ok(())
    }

    /// Reads `invoice_id`'s thread from the server after the last message the phone has (every
    /// page, at most [`MAX_PAGES`]), keeps it, and returns the thread as
    /// [`Core::invoice_thread`] does. Messages still in the outbox are sent first.
    pub async fn sync_invoice_thread(&self, invoice_id: &str) -> Result<Vec<StoredMessage>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        if !path_safe(invoice_id, "in") {
            return Err(Error::invalid("invoice_id", "is not an invoice id (in_…)"));
        }
        if let Err(e) = self.send_outbox().await {
            if matches!(e, Error::SessionRevoked) {
                return Err(e);
            }
            tracing::debug!("the outbox waits: {e}");
        }
        let mut after = self.store()?.last_server_message(invoice_id)?;
        for _ in 0..MAX_PAGES {
            let mut path = format!("/v1/me/invoices/{invoice_id}/messages?limit={MAX_PAGE}");
            if let Some(a) = after.as_deref().filter(|a| path_safe(a, "imsg")) {
                path.push_str("&starting_after=");
                path.push_str(a);
            }
            let page: InvoiceMessageList = self.authed(Method::GET, &path, None).await?.json()?;
            self.store()?.save_thread(invoice_id, &page.data)?;
            match page.data.last() {
                Some(last) if page.has_more => after = Some(last.id.clone()),
                _ => break,
            }
        }
        self.invoice_thread(invoice_id)
    }

    /// `invoice_id`'s thread as the phone has it, offline, in the order it was shown.
    pub fn invoice_thread(&self, invoice_id: &str) -> Result<Vec<StoredMessage>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        if !path_safe(invoice_id, "in") {
            return Err(Error::invalid("invoice_id", "is not an invoice id (in_…)"));
        }
        self.store()?.thread(invoice_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_of_one_prefix_and_a_safe_alphabet_go_in_a_path() {
        assert!(path_safe("in_Ab-9_x", "in"));
        assert!(path_safe("lmsg_abc", "lmsg"));
        for bad in [
            "in_", "in", "inx_1", "in_../x", "in_a/b", "in_a?b", "imsg_1", "in_é",
        ] {
            assert!(!path_safe(bad, "in"), "{bad}");
        }
        assert!(!path_safe(&format!("in_{}", "a".repeat(62)), "in"));
        assert_eq!(subject_parts("in_1:lmsg_2"), Some(("in_1", "lmsg_2")));
        assert_eq!(subject_parts("in_1"), None);
        assert_eq!(subject_parts("in_1:imsg_2"), None);
        assert_eq!(subject_parts("in_1/..:lmsg_2"), None);
    }
}
