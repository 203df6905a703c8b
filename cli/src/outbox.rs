//! Paying invoices from the terminal: `tierspay pay INVOICE` (written to the core's outbox
//! first, then sent), `tierspay outbox` (every payment and where it stands, offline) and
//! `tierspay sync` (what waits is sent, then invoices and guarantees are brought up to date).
//! What each state says is the core's; this file prints it.

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{OutboxEntry, PaymentProgress, TiersPay};

use crate::output::{Failure, Output};

fn progress(p: PaymentProgress) -> &'static str {
    match p {
        PaymentProgress::Queued => "queued",
        PaymentProgress::Sending => "sending",
        PaymentProgress::Paid => "paid",
        PaymentProgress::AlreadyPaid => "already_paid",
        PaymentProgress::Voided => "voided",
        PaymentProgress::Declined => "declined",
        PaymentProgress::Refused => "refused",
        PaymentProgress::Quarantined => "quarantined",
    }
}

fn entry_json(e: &OutboxEntry) -> Value {
    json!({
        "seq": e.seq, "kind": e.kind, "invoice_id": e.invoice_id,
        "amount": e.amount.as_ref().map(|a| a.minor_units),
        "currency": e.amount.as_ref().map(|a| a.currency.clone()),
        "progress": progress(e.progress), "pending": e.pending, "attempts": e.attempts,
        "message_en": e.message_en, "message_fr": e.message_fr, "created_at": e.created_at,
    })
}

fn entry_line(e: &OutboxEntry) -> String {
    format!(
        "#{}  {}  {:>10}  {:<12} {}",
        e.seq,
        e.invoice_id,
        e.amount
            .as_ref()
            .map(|a| a.display_en.clone())
            .unwrap_or_default(),
        progress(e.progress),
        e.message_en
    )
}

/// `tierspay pay INVOICE`.
pub async fn pay(app: &Arc<TiersPay>, out: &Output, invoice: &str) -> Result<(), Failure> {
    let progress_line = out.progress("Paying");
    let outcome = app.arrears().pay(invoice.into()).await?;
    progress_line.finish();
    let e = &outcome.entry;
    let text = if outcome.already_queued {
        format!("Already queued: {}\n  {}", entry_line(e), e.message_en)
    } else {
        format!("{}\n  ({})", e.message_en, e.message_fr)
    };
    let mut doc = entry_json(e);
    doc["already_queued"] = json!(outcome.already_queued);
    out.done(doc, &text);
    Ok(())
}

/// `tierspay outbox` (offline).
pub fn outbox(app: &Arc<TiersPay>, out: &Output) -> Result<(), Failure> {
    let entries = app.arrears().outbox()?;
    let text = if entries.is_empty() {
        "No payment written on this terminal.".to_owned()
    } else {
        entries
            .iter()
            .map(entry_line)
            .collect::<Vec<_>>()
            .join("\n")
    };
    out.done(
        json!({"entries": entries.iter().map(entry_json).collect::<Vec<_>>()}),
        &text,
    );
    Ok(())
}

/// `tierspay sync`: the outbox and the invoices first (a payment that waits matters more),
/// then the guarantees.
pub async fn sync(app: &Arc<TiersPay>, out: &Output) -> Result<(), Failure> {
    let progress_line = out.progress("Sending what waits and fetching your invoices");
    let list = app.arrears().sync().await?;
    progress_line.finish();
    let entries = app.arrears().outbox()?;
    let pending = entries.iter().filter(|e| e.pending).count();
    let (mut doc, coverage_text) = crate::coverage::sync_coverage(app, out).await?;
    doc["invoices"] = json!(list.invoices.len());
    doc["outbox_pending"] = json!(pending);
    doc["outbox"] = json!(entries.iter().map(entry_json).collect::<Vec<_>>());
    let payments = match pending {
        0 => "Nothing waiting to be sent.".to_owned(),
        n => format!("{n} payment(s) still waiting for the server."),
    };
    out.done(
        doc,
        &format!(
            "{payments}\nInvoices: {}.\nGuarantees: {coverage_text}",
            list.invoices.len()
        ),
    );
    Ok(())
}
