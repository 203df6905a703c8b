//! Card commands: show, refresh, freeze, unfreeze, reveal.

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{CardInfo, TiersPay, TokenStatus, Wallet};

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
            t.wallet.as_str().replace('_', " "),
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
        Some(CardAction::Save {
            test_card,
            number,
            exp,
            cvc,
        }) => {
            return crate::payment::save_card(
                app,
                out,
                *test_card,
                number.as_deref(),
                exp.as_deref(),
                cvc.as_deref(),
            )
            .await
        }
        Some(CardAction::Own) => return crate::payment::own_card(app, out).await,
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

/// The PSP's test key: the simulation plays Apple's and Google's part through test helpers.
const PSP_TEST_KEY: &str = "sk_test_tierspay";

async fn test_helper(server: &str, path: &str, form: &[(&str, &str)]) -> Result<Value, Failure> {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", server.trim_end_matches('/')))
        .bearer_auth(PSP_TEST_KEY)
        .form(form)
        .send()
        .await
        .map_err(|e| Failure::internal(format!("cannot reach the server's test helpers: {e}")))?;
    let ok = response.status().is_success();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !ok {
        return Err(Failure::internal(format!(
            "the server refused the simulation ({}); is it a tierspay-mock?",
            body["error"]["message"].as_str().unwrap_or("no message")
        )));
    }
    Ok(body)
}

pub async fn wallet(
    app: &Arc<TiersPay>,
    out: &Output,
    kind: crate::args::WalletKind,
    server: &str,
) -> Result<(), Failure> {
    use crate::args::WalletKind;
    let card = app.card();
    let (label, token_wallet, detail) = match kind {
        WalletKind::Apple => {
            let wallet = tierspay_core::PassKitSimulator::new()?;
            test_helper(
                server,
                "/v1/test_helpers/issuing/apple_root",
                &[(
                    "certificate",
                    &tierspay_core::auth::b64(wallet.root_certificate()),
                )],
            )
            .await?;
            let progress = out.progress("PassKit → issuer: encrypting the pass for this device");
            let pass = card
                .apple_pay_pass_data(
                    wallet.certificates(),
                    wallet.nonce(),
                    wallet.nonce_signature(),
                )
                .await?;
            progress.finish();
            let opened = wallet.open_pass(pass.clone())?;
            let token = card.info()?.and_then(|c| {
                c.tokens
                    .into_iter()
                    .find(|t| t.wallet == Wallet::ApplePay && t.status == TokenStatus::Requested)
            });
            if let Some(token) = token {
                test_helper(
                    server,
                    &format!("/v1/test_helpers/issuing/tokens/{}/activate", token.id),
                    &[(
                        "activation_data",
                        &tierspay_core::auth::b64(&pass.activation_data),
                    )],
                )
                .await?;
            }
            let detail =
                format!(
                "the wallet opened the pass (ECC_V2): card •••• {}, expires {}, {}, nonce checked",
                opened.pan_last4,
                opened.expiration,
                if opened.pan_valid { "number valid" } else { "NUMBER INVALID" }
            );
            ("Apple Pay", Wallet::ApplePay, detail)
        }
        WalletKind::Google => {
            let (wallet_id, device_id) = ("simulated-wallet", "simulated-hardware-id");
            let progress =
                out.progress("TapAndPay → issuer: an OPC bound to this wallet and device");
            let action = card
                .google_pay_action(wallet_id.into(), device_id.into(), vec![])
                .await?;
            progress.finish();
            let detail = match action {
                tierspay_core::GooglePayAction::Push { data } => {
                    let token = card.info()?.and_then(|c| {
                        c.tokens.into_iter().find(|t| {
                            t.wallet == Wallet::GooglePay && t.status == TokenStatus::Requested
                        })
                    });
                    if let Some(token) = token {
                        test_helper(
                            server,
                            &format!("/v1/test_helpers/issuing/tokens/{}/activate", token.id),
                            &[
                                (
                                    "opaque_payment_card",
                                    &tierspay_core::auth::b64(&data.opaque_payment_card),
                                ),
                                ("wallet_account_id", wallet_id),
                                ("device_id", device_id),
                            ],
                        )
                        .await?;
                    }
                    format!(
                        "pushTokenize: {} •••• {}, OPC of {} bytes",
                        data.display_name,
                        data.last_digits,
                        data.opaque_payment_card.len()
                    )
                }
                other => format!("nothing to push: {other:?}"),
            };
            ("Google Pay", Wallet::GooglePay, detail)
        }
    };
    let info = card.refresh().await?;
    let token = info.tokens.iter().find(|t| t.wallet == token_wallet);
    let status = token.map_or("none".to_owned(), |t| {
        format!("token •••• {} {}", t.last4, t.status)
    });
    out.done(
        json!({"wallet": token_wallet, "detail": detail, "card": card_json(&info)}),
        &format!("{label}: {detail}\n{label}: {status}"),
    );
    Ok(())
}
