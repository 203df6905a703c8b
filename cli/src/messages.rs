//! Messages on an invoice from the terminal: `tierspay messages INVOICE` (the thread, read from
//! the server, or as last read with --offline) and `tierspay write INVOICE TEXT` (kept on this
//! terminal and sent exactly once, now or at the next command that reaches the server).

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{MessageState, ThreadMessage, TiersPay};

use crate::output::{Failure, Output};

fn state(s: MessageState) -> &'static str {
    match s {
        MessageState::Pending => "pending",
        MessageState::Sent => "sent",
        MessageState::Failed => "failed",
    }
}

fn message_json(m: &ThreadMessage) -> Value {
    json!({
        "id": m.id, "from_support": m.from_support, "author_name": m.author_name,
        "text": m.text, "attachment_type": m.attachment_type, "created": m.created,
        "day": m.day.iso, "state": state(m.state),
    })
}

/// A message for a terminal: who and when on one line, the text indented below. The core has
/// refused every control character but newlines, so the text cannot move the cursor or clear
/// the screen; the staff name is the server's and is stripped of them here all the same.
fn message_lines(m: &ThreadMessage) -> String {
    let who = if m.from_support {
        let name: String = m
            .author_name
            .as_deref()
            .unwrap_or("Support")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        format!("{name} (support)")
    } else {
        "You".to_owned()
    };
    let note = match m.state {
        MessageState::Pending => "  [waiting to be sent]",
        MessageState::Failed => "  [refused by the server]",
        MessageState::Sent => "",
    };
    let text: String = m
        .text
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .replace('\n', "\n    ");
    format!("{} · {who}{note}\n    {text}", m.day.display_en)
}

/// `tierspay messages INVOICE [--offline]`.
pub async fn messages(
    app: &Arc<TiersPay>,
    out: &Output,
    invoice: &str,
    offline: bool,
) -> Result<(), Failure> {
    let arrears = app.arrears();
    let thread = if offline {
        arrears.thread(invoice.into())?
    } else {
        let progress = out.progress("Fetching the messages");
        let thread = arrears.sync_thread(invoice.into()).await?;
        progress.finish();
        thread
    };
    let text = if thread.is_empty() {
        format!("No messages on {invoice} yet: `tierspay write {invoice} \"…\"` writes one.")
    } else {
        thread
            .iter()
            .map(message_lines)
            .collect::<Vec<_>>()
            .join("\n")
    };
    out.done(
        json!({"invoice": invoice, "messages": thread.iter().map(message_json).collect::<Vec<_>>(),
               "offline": offline}),
        &text,
    );
    Ok(())
}

/// `tierspay write INVOICE TEXT`.
pub async fn write(
    app: &Arc<TiersPay>,
    out: &Output,
    invoice: &str,
    text: &str,
) -> Result<(), Failure> {
    let m = app
        .arrears()
        .write_message(invoice.into(), text.into())
        .await?;
    let human = match m.state {
        MessageState::Sent => "Sent to your insurer's support.".to_owned(),
        MessageState::Pending => {
            "Kept on this terminal: it will be sent once the server can be reached.".to_owned()
        }
        MessageState::Failed => "The server refused this message.".to_owned(),
    };
    out.done(message_json(&m), &human);
    Ok(())
}
