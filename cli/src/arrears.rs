//! Arrears from the terminal: the member's invoices (synced, or offline from this terminal's
//! store), one invoice, and a payment link checked by the core against the pinned key before
//! anything of it is printed.

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{Invoice, InvoiceList, InvoiceStatus, LinkChannel, LinkResult, TiersPay};

use crate::output::{Failure, Output};

fn status(s: InvoiceStatus) -> &'static str {
    match s {
        InvoiceStatus::Open => "open",
        InvoiceStatus::Paid => "paid",
        InvoiceStatus::Void => "void",
        InvoiceStatus::Uncollectible => "uncollectible",
    }
}

fn invoice_json(i: &Invoice) -> Value {
    json!({
        "id": i.id, "number": i.number, "status": status(i.status),
        "status_fr": i.status_fr, "status_en": i.status_en, "payable": i.payable,
        "source": i.source, "description": i.description, "contract_ref": i.contract_ref,
        "currency": i.amount_due.currency,
        "amount_due": i.amount_due.minor_units, "amount_paid": i.amount_paid.minor_units,
        "amount_remaining": i.amount_remaining.minor_units,
        "amount_remaining_display": i.amount_remaining.display_en,
        "due_date": i.due_date.as_ref().map(|d| d.iso.clone()),
        "rf_reference": i.rf_reference,
        "paid_via": i.paid_via, "paid_at": i.paid_at.as_ref().map(|d| d.iso.clone()),
        "history": i.history.iter().map(|h| json!({
            "kind": h.kind, "channel": h.channel, "via": h.via, "at": h.at,
            "amount": h.amount.as_ref().map(|a| a.minor_units)})).collect::<Vec<_>>(),
        "payment": i.payment.as_ref().map(|p| json!({
            "seq": p.seq, "pending": p.pending, "message_en": p.message_en,
            "message_fr": p.message_fr})),
        "pay_button": i.pay_button.as_ref().map(|b| json!({
            "shows": b.shows, "enabled": b.enabled, "label_en": b.label_en})),
    })
}

fn invoice_line(i: &Invoice) -> String {
    let payment = i
        .payment
        .as_ref()
        .map(|p| format!("\n    {}", p.message_en))
        .unwrap_or_default();
    format!(
        "{}  {}  {:<9} {:>12}{}{}{payment}",
        i.id,
        i.number.as_deref().unwrap_or("-"),
        i.status_en,
        i.amount_remaining.display_en,
        i.due_date
            .as_ref()
            .map(|d| format!("  due {}", d.display_en))
            .unwrap_or_default(),
        i.rf_reference_display
            .as_deref()
            .map(|r| format!("  ref. {r}"))
            .unwrap_or_default(),
    )
}

fn list_out(out: &Output, list: &InvoiceList, offline: bool) {
    let text = match (list.synced_at, list.invoices.is_empty()) {
        (None, _) if !list.from_links.is_empty() => list
            .from_links
            .iter()
            .map(|l| {
                format!(
                    "Invoice no. {}  {}  (from the {} link)\n    {}",
                    l.invoice_number, l.amount.display_en, l.channel, l.note_en
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (None, _) => "No invoices on this terminal yet: run `tierspay invoices` online.".to_owned(),
        (Some(_), true) => "Nothing owed: no invoices.".to_owned(),
        (Some(_), false) => {
            let mut lines: Vec<String> = list.invoices.iter().map(invoice_line).collect();
            if list.total as usize > list.invoices.len() {
                lines.push(format!(
                    "({} of {} invoices: open ones first, then the newest)",
                    list.invoices.len(),
                    list.total
                ));
            }
            lines.join("\n")
        }
    };
    out.done(
        json!({"invoices": list.invoices.iter().map(invoice_json).collect::<Vec<_>>(),
               "total": list.total, "synced_at": list.synced_at, "offline": offline,
               "from_links": list.from_links.iter().map(|l| json!({
                   "invoice_number": l.invoice_number, "amount": l.amount.minor_units,
                   "currency": l.amount.currency, "channel": l.channel})).collect::<Vec<_>>()}),
        &text,
    );
}

/// `tierspay invoices [--offline]`.
pub async fn invoices(app: &Arc<TiersPay>, out: &Output, offline: bool) -> Result<(), Failure> {
    let arrears = app.arrears();
    let list = if offline {
        arrears.invoices()?
    } else {
        let progress = out.progress("Fetching your invoices");
        let list = arrears.sync().await?;
        progress.finish();
        list
    };
    list_out(out, &list, offline);
    Ok(())
}

/// `tierspay invoice ID` (offline: from the last sync).
pub fn invoice(app: &Arc<TiersPay>, out: &Output, id: &str) -> Result<(), Failure> {
    let i = app.arrears().invoice(id.into())?;
    let mut text = format!(
        "Invoice {} ({})\n  Status: {}\n  Contract: {}\n  Due: {}   Paid: {}   Left to pay: {}",
        i.number.as_deref().unwrap_or("-"),
        i.id,
        i.status_en,
        i.contract_ref,
        i.amount_due.display_en,
        i.amount_paid.display_en,
        i.amount_remaining.display_en,
    );
    if let Some(d) = &i.due_date {
        text.push_str(&format!("\n  Due date: {}", d.display_en));
    }
    if let Some(r) = &i.rf_reference_display {
        text.push_str(&format!("\n  Transfer reference: {r}"));
    }
    if let Some(d) = &i.description {
        text.push_str(&format!("\n  {d}"));
    }
    if let Some(p) = &i.payment {
        text.push_str(&format!("\n  Payment from this terminal: {}", p.message_en));
    }
    if let Some(b) = i.pay_button.as_ref().filter(|b| b.shows) {
        let note = if b.enabled {
            format!("`tierspay pay {}`", i.id)
        } else {
            "waiting".into()
        };
        text.push_str(&format!("\n  {} ({note})", b.label_en));
    }
    for h in &i.history {
        text.push_str(&format!(
            "\n  {}  {}{}",
            h.day.display_en,
            h.kind,
            h.channel
                .as_deref()
                .or(h.via.as_deref())
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        ));
    }
    out.done(invoice_json(&i), &text);
    Ok(())
}

fn channel(c: LinkChannel) -> &'static str {
    match c {
        LinkChannel::Push => "push",
        LinkChannel::Email => "email",
        LinkChannel::Sms => "sms",
        LinkChannel::App => "app",
    }
}

/// `tierspay open-link URL`: the facts of a verified link, or why it is refused. A refusal is
/// queued by the core and reported now if the server can be reached, later otherwise.
pub async fn open_link(app: &Arc<TiersPay>, out: &Output, url: &str) -> Result<(), Failure> {
    let arrears = app.arrears();
    let result = arrears.open_link(url.into()).await?;
    match result {
        LinkResult::Verified { link } => out.done(
            json!({"verified": true, "invoice_number": link.invoice_number,
                   "amount": link.amount.minor_units, "currency": link.amount.currency,
                   "amount_display": link.amount.display_en, "expires_at": link.expires_at,
                   "channel": channel(link.channel), "key_id": link.key_id,
                   "page_url": link.page_url}),
            &format!(
                "Verified offline: signed by TiersPay (key {}) for you.\n  Invoice no. {}: {} \
                 ({})\n  Sent by {}; valid until {}.\n  Pay it at {}",
                link.key_id,
                link.invoice_number,
                link.amount.display_en,
                link.amount.display_fr,
                channel(link.channel),
                link.expires.display_en,
                link.page_url
            ),
        ),
        LinkResult::Refused { refusal } => {
            // Reported now when possible; otherwise the queue waits for the next sync. A
            // session the server ended wipes the queue with the rest: then nothing was sent.
            let sent = arrears.report_refusals().await;
            let pending = arrears.pending_reports().unwrap_or(0);
            let reported = sent.is_ok() && pending == 0;
            let note = match &sent {
                Ok(_) if pending == 0 => "Reported to TiersPay.".to_owned(),
                Ok(_) => {
                    "It will be reported to TiersPay when the server can be reached.".to_owned()
                }
                Err(e) => format!("It could not be reported to TiersPay: {e}"),
            };
            out.done(
                json!({"verified": false, "reason": refusal.code,
                       "message_en": refusal.message_en, "message_fr": refusal.message_fr,
                       "reported": reported, "reports_pending": pending}),
                &format!(
                    "Refused: {}\n  ({})\n  {note}",
                    refusal.message_en, refusal.message_fr
                ),
            )
        }
    }
    Ok(())
}
