//! Card commands: show, refresh, freeze, unfreeze, reveal.

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{CardInfo, TiersPay};

use crate::args::CardAction;
use crate::output::{Failure, Output};

fn card_json(c: &CardInfo) -> Value {
    json!({
        "id": c.id, "last4": c.last4, "expiry": c.expiry, "brand": c.brand, "status": c.status,
        "frozen": c.frozen, "apple_pay_eligible": c.apple_pay_eligible, "google_pay_eligible": c.google_pay_eligible,
        "controls": c.controls.iter().map(|s| json!({"fr": s.fr, "en": s.en})).collect::<Vec<_>>(),
        "tokens": c.tokens.iter().map(|t| json!({"id": t.id, "wallet": t.wallet, "device_id": t.device_id,
                                                  "last4": t.last4, "status": t.status})).collect::<Vec<_>>(),
    })
}

fn card_text(c: &CardInfo) -> String {
    let mut text = format!(
        "{} •••• {}  expires {}  {}",
        c.brand.to_uppercase(),
        c.last4,
        c.expiry,
        if c.frozen {
            "FROZEN"
        } else {
            c.status.as_str()
        }
    );
    for s in &c.controls {
        text.push_str(&format!("\n  {}", s.en));
    }
    for t in &c.tokens {
        text.push_str(&format!(
            "\n  {} token •••• {} ({})",
            t.wallet.replace('_', " "),
            t.last4,
            t.status
        ));
    }
    text
}

pub async fn run(
    app: &Arc<TiersPay>,
    out: &Output,
    action: Option<&CardAction>,
) -> Result<(), Failure> {
    let card = app.card();
    let info = match action {
        None => match card.info()? {
            Some(info) => info,
            None => card.refresh().await?,
        },
        Some(CardAction::Refresh) => card.refresh().await?,
        Some(CardAction::Freeze) => card.freeze().await?,
        Some(CardAction::Unfreeze) => card.unfreeze().await?,
        Some(CardAction::Reveal) => {
            let d = card.reveal().await?;
            out.done(
                json!({"number": d.number, "expiry": d.expiry, "cvc": d.cvc}),
                &format!(
                    "{}  {}  {}\n(shown once; not kept on this device)",
                    d.number, d.expiry, d.cvc
                ),
            );
            return Ok(());
        }
    };
    out.done(card_json(&info), &card_text(&info));
    Ok(())
}
