//! Sending the outbox (`store/outbox.rs`): each unfinished row, in `seq` order, with the key it
//! was written with, one sender at a time. The answer and its local effect are written in one
//! transaction; a network error or a 5xx leaves the row queued for the next chance (the shell
//! saying the network is back, a sync, the next start), a 4xx ends it for good. Paying an
//! invoice writes its row and the invoice's state together before anything is sent.

use reqwest::Method;

use super::arrears::{status_text, stored};
use super::Core;
use crate::auth::random;
use crate::error::{Error, Result};
use crate::store::outbox::{Enqueued, NewOutboxRow, INVOICE_MESSAGE, INVOICE_PAYMENT};
use crate::store::{OutboxRow, OutboxState};
use crate::wire::{MemberInvoicePayment, MemberInvoicePaymentRequest, MemberPaymentStatus};

use super::payment_text::{ALREADY_PAID, VOIDED};

/// Rows shown by [`Core::outbox_entries`].
pub const MAX_ENTRIES: u32 = 100;
/// Rows one send pass handles, so a pass has an end even if rows keep coming.
const MAX_PER_PASS: usize = 100;

/// Stops at a failpoint when the `failpoints` feature is on; nothing otherwise.
macro_rules! failpoint {
    ($core:expr, $point:expr) => {
        #[cfg(feature = "failpoints")]
        $core.failpoints.hit($point)?;
    };
}

/// What one pass over the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Rows the server answered for good (paid, already paid, voided, declined, refused).
    pub finished: u32,
    /// Rows still queued (the network or the server failed; sent again later).
    pub waiting: u32,
    /// Unreadable rows set aside.
    pub quarantined: u32,
}

/// What tapping "pay" did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayResult {
    /// The invoice's payment row as it stands after the attempt to send it.
    pub row: OutboxRow,
    /// A payment of this invoice was already queued: that one stands, nothing new was written.
    pub already_queued: bool,
}

/// What a row is, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// A payment of an invoice: the answer is a `MemberInvoicePayment`.
    Payment,
    /// A member's message: the answer is the `InvoiceMessage`.
    Message,
}

/// A row checked before it is sent: a known kind, a key, a body that reads.
#[derive(Debug)]
struct Sendable {
    kind: RowKind,
    path: String,
    key: String,
    body: Vec<u8>,
}

/// Why a row cannot be sent, or what to send. Only rows this code wrote pass: anything else in
/// the table (a damaged file, another version's row) is set aside rather than guessed at.
fn check(row: &OutboxRow) -> std::result::Result<Sendable, &'static str> {
    let kind = match row.kind.as_str() {
        INVOICE_PAYMENT => RowKind::Payment,
        INVOICE_MESSAGE => RowKind::Message,
        _ => return Err("unknown kind"),
    };
    let key = row
        .idempotency_key
        .as_deref()
        .filter(|k| k.starts_with("idk_") && k.len() <= 64 && k.is_ascii())
        .ok_or("missing idempotency key")?;
    let path = match kind {
        RowKind::Payment => payment_path(row)?,
        RowKind::Message => super::messages::message_path(row)?,
    };
    Ok(Sendable {
        kind,
        path,
        key: key.to_owned(),
        body: row.body.clone().into_bytes(),
    })
}

/// The path of a payment row, once its body and invoice id check.
fn payment_path(row: &OutboxRow) -> std::result::Result<String, &'static str> {
    let request: MemberInvoicePaymentRequest =
        serde_json::from_str(&row.body).map_err(|_| "unreadable body")?;
    if request.amount <= 0 || Some(request.amount) != row.amount {
        return Err("amount does not match its row");
    }
    if !super::messages::path_safe(&row.subject, "in") {
        return Err("bad invoice id");
    }
    Ok(format!("/v1/me/invoices/{}/payments", row.subject))
}

/// `refused:{param}:{message}`, bounded, from a 4xx.
fn refusal(e: &Error) -> String {
    match e {
        Error::Api { detail, .. } => format!(
            "refused:{}:{}",
            detail.param.as_deref().unwrap_or(""),
            detail.message
        ),
        other => format!("refused::{other}"),
    }
}

impl Core {
    /// Pays `invoice_id`'s remainder with the saved card: the outbox row (key, body) and the
    /// invoice's "payment queued" are written in one transaction, then sent if the network
    /// allows. A second tap while one is unfinished gets that one back, with no second row.
    pub async fn pay_invoice(&self, invoice_id: &str) -> Result<PayResult> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        let invoice = self.invoice(invoice_id)?;
        let latest = self.latest_payment(invoice_id)?;
        if let Some(row) = latest.filter(|r| r.state.unfinished()) {
            return Ok(PayResult {
                row,
                already_queued: true,
            });
        }
        if !status_text(&invoice).payable {
            return Err(Error::invalid(
                "invoice_id",
                "this invoice has nothing left to pay (paid, voided or settled)",
            ));
        }
        let request = MemberInvoicePaymentRequest {
            amount: invoice.amount_remaining,
            currency: invoice.currency.to_ascii_lowercase(),
        };
        let body = serde_json::to_string(&request).map_err(|e| Error::Internal(e.to_string()))?;
        let key = random::id("idk");
        let enqueued = self.store()?.enqueue_invoice_payment(
            &NewOutboxRow {
                kind: INVOICE_PAYMENT,
                subject: &invoice.id,
                idempotency_key: &key,
                body: &body,
                amount: Some(request.amount),
                currency: Some(&invoice.currency),
            },
            crate::net::unix_now(),
        )?;
        let (row, already_queued) = match enqueued {
            Enqueued::Queued(row) => (row, false),
            Enqueued::AlreadyQueued(row) => (row, true),
        };
        failpoint!(self, crate::failpoints::AFTER_OUTBOX_WRITE);
        if !already_queued {
            // Offline is not a failure: the row waits, and the answer says so.
            if let Err(e) = self.send_outbox().await {
                if matches!(e, Error::SessionRevoked | Error::NotEnrolled) {
                    return Err(e);
                }
                #[cfg(feature = "failpoints")]
                if e.to_string().contains("failpoint") {
                    return Err(e);
                }
                tracing::debug!("the payment waits: {e}");
            }
        }
        let row = self.store()?.outbox_row(row.seq)?.unwrap_or(row);
        Ok(PayResult {
            row,
            already_queued,
        })
    }

    /// The phone's latest payment row of `invoice_id`, finished or not.
    pub fn latest_payment(&self, invoice_id: &str) -> Result<Option<OutboxRow>> {
        let seq = self
            .store()?
            .invoice(invoice_id)?
            .and_then(|i| i.extra.outbox_seq);
        match seq {
            Some(seq) => self.store()?.outbox_row(seq),
            None => Ok(None),
        }
    }

    /// The latest payment row of each invoice the phone paid, oldest first; no network.
    pub fn invoice_payments(&self) -> Result<Vec<OutboxRow>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        self.store()?.invoice_payments()
    }

    /// Rows still to send (a start with some resumes them).
    pub fn outbox_pending(&self) -> Result<usize> {
        Ok(self.store()?.outbox_unfinished()?.len())
    }

    /// Arms a crash point of the outbox's steps (`crate::failpoints`), for tests.
    #[cfg(feature = "failpoints")]
    pub fn arm_failpoint(&self, point: &str, action: crate::failpoints::FailAction) {
        self.failpoints.arm(point, action);
    }

    /// The newest payment rows of the outbox, newest first (messages show in their thread).
    pub fn outbox_entries(&self) -> Result<Vec<OutboxRow>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        self.store()?.outbox_entries(INVOICE_PAYMENT, MAX_ENTRIES)
    }

    /// Sends every unfinished row, oldest first, each with its own key; one pass at a time
    /// (a second caller waits for the first). Stops at the first network or server error: the
    /// rows after it would meet the same. Deterministic: the order is `seq`, nothing is timed.
    pub async fn send_outbox(&self) -> Result<SendReport> {
        let _one_sender = self.outbox_sender.lock().await;
        let rows = self.store()?.outbox_unfinished()?;
        let mut report = SendReport::default();
        let mut rows = rows.into_iter().take(MAX_PER_PASS);
        while let Some(row) = rows.next() {
            let now = crate::net::unix_now();
            let sendable = match check(&row) {
                Ok(s) => s,
                Err(why) => {
                    tracing::warn!(seq = row.seq, "outbox row quarantined: {why}");
                    self.store()?.outbox_quarantine(row.seq, why, now)?;
                    report.quarantined += 1;
                    continue;
                }
            };
            if !self.store()?.outbox_sending(row.seq, now)? {
                continue;
            }
            failpoint!(self, crate::failpoints::BEFORE_SEND);
            let answer = self
                .authed_keyed(
                    Method::POST,
                    &sendable.path,
                    Some(sendable.body),
                    Some(sendable.key),
                )
                .await;
            failpoint!(self, crate::failpoints::AFTER_SEND);
            match answer {
                Ok(response) if sendable.kind == RowKind::Message => {
                    match self.finish_message(&row, &response.body) {
                        Ok(true) => report.finished += 1,
                        Ok(false) => {
                            self.store()?.outbox_requeue(
                                row.seq,
                                "the server answered for another invoice",
                                now,
                            )?;
                            report.waiting += 1;
                        }
                        Err(e) => {
                            // Committed or not, a retry with the key gets the same answer.
                            self.store()?.outbox_requeue(row.seq, &e.to_string(), now)?;
                            report.waiting += 1;
                        }
                    }
                }
                Ok(response) => match response.json::<MemberInvoicePayment>() {
                    Ok(payment) if payment.invoice_id == row.subject => {
                        failpoint!(self, crate::failpoints::AFTER_ANSWER);
                        self.finish_payment(&row, payment, &response.body)?;
                        report.finished += 1;
                    }
                    Ok(_) => {
                        self.store()?.outbox_requeue(
                            row.seq,
                            "the server answered for another invoice",
                            now,
                        )?;
                        report.waiting += 1;
                    }
                    Err(e) => {
                        // Committed or not, a retry with the key gets the same answer: wait.
                        self.store()?.outbox_requeue(row.seq, &e.to_string(), now)?;
                        report.waiting += 1;
                    }
                },
                Err(e @ (Error::SessionRevoked | Error::NotEnrolled)) => return Err(e),
                Err(
                    e @ (Error::Network(_)
                    | Error::Api {
                        status: 500.. | 429 | 409,
                        ..
                    }),
                ) => {
                    // A 409 is a request with this key still running at the server: its answer
                    // comes with the next retry. Everything after this row waits too.
                    self.store()?.outbox_requeue(row.seq, &e.to_string(), now)?;
                    report.waiting += 1 + rows.len() as u32;
                    break;
                }
                Err(
                    e @ Error::Api {
                        status: 400..=499, ..
                    },
                ) => {
                    if sendable.kind == RowKind::Message {
                        self.refuse_message(&row, &refusal(&e))?;
                    } else {
                        self.store()?.outbox_finish(
                            row.seq,
                            OutboxState::Failed,
                            Some(&refusal(&e)),
                            None,
                            None,
                            now,
                        )?;
                    }
                    report.finished += 1;
                }
                Err(e) => {
                    self.store()?.outbox_requeue(row.seq, &e.to_string(), now)?;
                    report.waiting += 1;
                }
            }
        }
        Ok(report)
    }

    /// The answer of a payment and the invoice after it, written together.
    fn finish_payment(
        &self,
        row: &OutboxRow,
        payment: MemberInvoicePayment,
        raw: &[u8],
    ) -> Result<()> {
        let (state, why) = match payment.status {
            MemberPaymentStatus::Succeeded => (OutboxState::Done, None),
            MemberPaymentStatus::AlreadyPaid => (OutboxState::Canceled, Some(ALREADY_PAID.into())),
            MemberPaymentStatus::Canceled => (OutboxState::Canceled, Some(VOIDED.into())),
            MemberPaymentStatus::Failed => (
                OutboxState::Failed,
                Some(
                    payment
                        .failure_code
                        .clone()
                        .unwrap_or_else(|| "card_declined".into()),
                ),
            ),
        };
        let invoice = stored(payment.invoice)?;
        let answer = String::from_utf8_lossy(raw);
        self.store()?.outbox_finish(
            row.seq,
            state,
            why.as_deref(),
            Some(&answer),
            Some(&invoice),
            crate::net::unix_now(),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: &str, key: Option<&str>, body: &str) -> OutboxRow {
        OutboxRow {
            seq: 1,
            kind: kind.into(),
            subject: "in_1".into(),
            idempotency_key: key.map(str::to_owned),
            body: body.into(),
            amount: Some(4250),
            currency: Some("EUR".into()),
            state: OutboxState::Queued,
            attempts: 0,
            last_error: None,
            answer: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn only_a_row_this_code_wrote_is_sent() {
        let good = r#"{"amount":4250,"currency":"eur"}"#;
        let s = check(&row(INVOICE_PAYMENT, Some("idk_1"), good)).unwrap();
        assert_eq!(s.path, "/v1/me/invoices/in_1/payments");
        assert_eq!(
            check(&row("invoice_refund", Some("idk_1"), good)).err(),
            Some("unknown kind")
        );
        // A message row is its own kind: its subject names the message, its body the text.
        assert_eq!(
            check(&row(INVOICE_MESSAGE, Some("idk_1"), good)).err(),
            Some("bad subject")
        );
        let mut message = row(INVOICE_MESSAGE, Some("idk_1"), r#"{"text":"Bonjour"}"#);
        message.subject = "in_1:lmsg_2".into();
        let s = check(&message).unwrap();
        assert_eq!(
            (s.kind, s.path.as_str()),
            (RowKind::Message, "/v1/me/invoices/in_1/messages")
        );
        message.body = r#"{"text":" Bonjour "}"#.into();
        assert_eq!(check(&message).err(), Some("text the server would refuse"));
        message.body = r#"{"text":"x","extra":1}"#.into();
        assert_eq!(check(&message).err(), Some("unreadable body"));
        assert_eq!(
            check(&row(INVOICE_PAYMENT, None, good)).err(),
            Some("missing idempotency key")
        );
        assert_eq!(
            check(&row(INVOICE_PAYMENT, Some(""), good)).err(),
            Some("missing idempotency key")
        );
        assert_eq!(
            check(&row(INVOICE_PAYMENT, Some("idk_1"), "{not json")).err(),
            Some("unreadable body")
        );
        assert_eq!(
            check(&row(
                INVOICE_PAYMENT,
                Some("idk_1"),
                r#"{"amount":9999,"currency":"eur"}"#
            ))
            .err(),
            Some("amount does not match its row")
        );
        let mut bad = row(INVOICE_PAYMENT, Some("idk_1"), good);
        bad.subject = "in_../x".into();
        assert_eq!(check(&bad).err(), Some("bad invoice id"));
    }
}
