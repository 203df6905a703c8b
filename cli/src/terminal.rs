//! TEST TOOL: a simulated card terminal at a provider's desk. It is not the phone and shares
//! nothing with it but the card's public id: it speaks to the PSP's issuing test helper with
//! the PSP's secret key (as an acquirer's network would reach the issuer), taps the virtual
//! card, and captures what was approved. The phone never holds that key.

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::TiersPay;

use crate::args::WalletKind;
use crate::output::{Failure, Output};

/// Doctors, medical practitioners: the category of a doctor's terminal.
const DOCTORS_MCC: &str = "8011";

/// What the terminal is told to do.
pub struct Tap<'a> {
    pub amount: &'a str,
    pub provider: &'a str,
    pub mcc: Option<&'a str>,
    pub country: &'a str,
    pub network_id: Option<&'a str>,
    pub wallet: Option<WalletKind>,
    pub capture: bool,
    pub psp_key: &'a str,
    pub psp_url: &'a str,
}

async fn post(
    http: &reqwest::Client,
    tap: &Tap<'_>,
    path: &str,
    form: &[(&str, String)],
) -> Result<Value, Failure> {
    let response = http
        .post(format!("{}{path}", tap.psp_url.trim_end_matches('/')))
        .bearer_auth(tap.psp_key)
        .header(
            "idempotency-key",
            tierspay_core::auth::random::id("terminal"),
        )
        .form(form)
        .send()
        .await
        .map_err(|e| Failure::internal(format!("the PSP cannot be reached: {e}")))?;
    let status = response.status();
    let doc: Value = response
        .json()
        .await
        .map_err(|e| Failure::internal(format!("the PSP's answer is not JSON: {e}")))?;
    if status.is_success() {
        return Ok(doc);
    }
    let e = &doc["error"];
    Err(Failure {
        kind: if status.as_u16() == 400 {
            "invalid_input"
        } else {
            "rejected"
        },
        field: e["param"].as_str().map(str::to_owned),
        code: e["code"].as_str().map(str::to_owned),
        message: format!(
            "the PSP refused the tap ({status}): {}",
            e["message"].as_str().unwrap_or("no message")
        ),
    })
}

/// `tierspay tap`: authorize at the terminal, then capture what was approved.
pub async fn tap(app: &Arc<TiersPay>, out: &Output, tap: Tap<'_>) -> Result<(), Failure> {
    let amount = tierspay_core::domain::money::parse_price(tap.amount)
        .map_err(|_| Failure::input("amount", "must be an amount in euros, such as 30 or 30.50"))?;
    let cents = tierspay_core::domain::money::to_cents(amount);
    // The card and the merchant as the terminal knows them: the card's public id, the desk's
    // name, category and city (from the directory).
    let card = match app.card().info()? {
        Some(c) => c,
        None => app.card().refresh().await?,
    };
    let provider = app.coverage().select_provider(tap.provider.into()).await?;
    // A terminal is configured with its merchant's category: doctors (8011) unless told.
    let mcc = tap.mcc.unwrap_or(DOCTORS_MCC);
    // Merchant names are at most 22 characters on the card networks.
    let merchant_name: String = provider.name.chars().take(22).collect();
    let network_id = tap
        .network_id
        .map(str::to_owned)
        .unwrap_or_else(|| format!("NET{}", provider.code));
    let mut form = vec![
        ("card", card.id.clone()),
        ("amount", cents.to_string()),
        ("currency", "eur".to_owned()),
        ("merchant_data[network_id]", network_id),
        ("merchant_data[category]", mcc.to_owned()),
        ("merchant_data[name]", merchant_name),
        ("merchant_data[city]", provider.city.clone()),
        ("merchant_data[country]", tap.country.to_owned()),
    ];
    if let Some(w) = tap.wallet {
        form.push((
            "wallet",
            match w {
                WalletKind::Apple => "apple_pay",
                WalletKind::Google => "google_pay",
            }
            .to_owned(),
        ));
    }
    let http = reqwest::Client::new();
    let auth = post(
        &http,
        &tap,
        "/v1/test_helpers/issuing/authorizations",
        &form,
    )
    .await?;
    let id = auth["id"].as_str().unwrap_or_default().to_owned();
    let approved = auth["approved"].as_bool().unwrap_or(false);
    let reason = auth["request_history"]
        .as_array()
        .and_then(|h| h.last())
        .and_then(|r| r["reason"].as_str())
        .unwrap_or("")
        .to_owned();
    let why = auth["metadata"]
        .as_object()
        .and_then(|m| {
            ["decline_reason", "reason", "tierspay_reason"]
                .iter()
                .find_map(|k| m.get(*k).and_then(Value::as_str))
        })
        .map(str::to_owned);
    let mut captured = None;
    if approved && tap.capture && !id.is_empty() {
        captured = Some(
            post(
                &http,
                &tap,
                &format!("/v1/test_helpers/issuing/authorizations/{id}/capture"),
                &[],
            )
            .await?,
        );
    }
    let text = if approved {
        format!(
            "Terminal at {}: {} € APPROVED ({id}){}",
            provider.name,
            amount,
            if captured.is_some() {
                ", captured"
            } else {
                ", not captured"
            }
        )
    } else {
        format!(
            "Terminal at {}: {} € DECLINED ({}{})",
            provider.name,
            amount,
            if reason.is_empty() {
                "no reason given"
            } else {
                &reason
            },
            why.as_deref().map(|w| format!(": {w}")).unwrap_or_default()
        )
    };
    out.done(
        json!({"authorization": id, "approved": approved, "reason": reason, "platform_reason": why,
               "captured": captured.is_some(), "amount": cents, "mcc": mcc}),
        &text,
    );
    Ok(())
}
