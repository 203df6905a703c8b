//! One function per command, each a few calls into the facade.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use serde_json::json;
use tierspay_core::{
    route_for_link, CoreConfig, FileSecureStorage, PushService, Route, SecureStorage,
    SoftwareDeviceKey, TiersPay,
};

use crate::args::{Cli, Command, PushAction, PushKind};
use crate::output::{profile_json, profile_text, Failure, Output};
use crate::settings;

/// The core for a command that needs an enrolled terminal: one never configured (no server
/// given, none remembered) is simply not enrolled, whatever else is missing.
fn open(cli: &Cli) -> Result<Arc<TiersPay>, Failure> {
    open_core(cli).map_err(|f| {
        if f.field.as_deref() == Some("server") {
            Failure::not_enrolled()
        } else {
            f
        }
    })
}

/// The core, configured from the flags or what the data directory remembers.
fn open_core(cli: &Cli) -> Result<Arc<TiersPay>, Failure> {
    let s = settings::resolve(
        &cli.data_dir,
        cli.server.as_deref(),
        cli.server_key.as_deref(),
    )?;
    // The core creates the data folder (0700) when it opens, before any secret is written.
    let secrets: Arc<dyn SecureStorage> =
        Arc::new(FileSecureStorage::new(cli.data_dir.join("secrets.json")));
    let key = Arc::new(SoftwareDeviceKey::new(secrets.clone()));
    let config = CoreConfig {
        server_url: s.server,
        data_dir: cli.data_dir.to_string_lossy().into_owned(),
        server_public_key: s.server_key,
        device_name: Some("Terminal".into()),
        link_public_key: None,
        link_key_id: None,
    };
    Ok(TiersPay::new(config, secrets, key)?)
}

pub async fn run(cli: &Cli, out: &Output) -> Result<(), Failure> {
    match &cli.command {
        Command::Enroll {
            contract_number,
            birth_date,
            code,
        } => enroll(cli, out, contract_number, birth_date, code.as_deref()).await,
        Command::Status { sync } => status(cli, out, *sync).await,
        Command::SignOut => sign_out(cli, out).await,
        Command::Link { url } => link(out, url),
        Command::Invoices { offline } => crate::arrears::invoices(&open(cli)?, out, *offline).await,
        Command::Invoice { id } => crate::arrears::invoice(&open(cli)?, out, id),
        Command::Pay { invoice } => crate::outbox::pay(&open(cli)?, out, invoice).await,
        Command::Outbox => crate::outbox::outbox(&open(cli)?, out),
        Command::OpenLink { url } => crate::arrears::open_link(&open(cli)?, out, url).await,
        Command::Messages { invoice, offline } => {
            crate::messages::messages(&open(cli)?, out, invoice, *offline).await
        }
        Command::Write { invoice, text } => {
            crate::messages::write(&open(cli)?, out, invoice, text).await
        }
        Command::Push {
            action: PushAction::Register { service, token },
        } => push_register(cli, out, *service, token).await,
        Command::Sync => crate::outbox::sync(&open(cli)?, out).await,
        Command::Beneficiaries => crate::coverage::beneficiaries(&open(cli)?, out),
        Command::Acts { date } => crate::coverage::acts(&open(cli)?, out, date.clone()),
        Command::Providers {
            search,
            specialty,
            city,
            limit,
        } => {
            // Zero would still list providers (the core brings a limit within 1 to 50): say so.
            if !(1..=50).contains(limit) {
                return Err(Failure::input("limit", "must be from 1 to 50"));
            }
            crate::coverage::providers(
                &open(cli)?,
                out,
                search,
                specialty.clone(),
                city.clone(),
                *limit,
            )
            .await
        }
        Command::Provider { id_code_or_scan } => {
            crate::coverage::provider(&open(cli)?, out, id_code_or_scan).await
        }
        Command::Preview {
            beneficiary,
            provider,
            act,
            price,
            date,
            check,
        } => {
            let args = crate::coverage::PreviewArgs {
                beneficiary,
                provider,
                act,
                price,
                date: date.as_deref(),
                check: *check,
            };
            crate::coverage::preview(&open(cli)?, out, args).await
        }
        Command::Quote { file } => crate::coverage::quote(out, file),
        Command::Card { action } => crate::card::run(&open(cli)?, out, action.as_ref()).await,
        Command::Visit { action } => crate::payment::visit(&open(cli)?, out, action).await,
        Command::Visits { offline } => crate::payment::visits(&open(cli)?, out, *offline).await,
        Command::Tap {
            amount,
            provider,
            mcc,
            country,
            network_id,
            wallet,
            no_capture,
            psp_key,
            psp_url,
        } => {
            let app = open(cli)?;
            let server = settings::resolve(
                &cli.data_dir,
                cli.server.as_deref(),
                cli.server_key.as_deref(),
            )?
            .server;
            let tap = crate::terminal::Tap {
                amount,
                provider,
                mcc: mcc.as_deref(),
                country,
                network_id: network_id.as_deref(),
                wallet: *wallet,
                capture: !no_capture,
                psp_key,
                psp_url: psp_url.as_deref().unwrap_or(&server),
            };
            crate::terminal::tap(&app, out, tap).await
        }
        Command::Wallet { wallet } => {
            let app = open(cli)?;
            let server = settings::resolve(
                &cli.data_dir,
                cli.server.as_deref(),
                cli.server_key.as_deref(),
            )?
            .server;
            crate::card::wallet(&app, out, *wallet, &server).await
        }
    }
}

async fn enroll(
    cli: &Cli,
    out: &Output,
    number: &str,
    birth: &str,
    code: Option<&str>,
) -> Result<(), Failure> {
    // A malformed code is refused before the SMS is sent: each start spends one of a few.
    let code = code
        .map(tierspay_core::domain::enrollment::normalize_code)
        .transpose()
        .map_err(|e| Failure::input(e.field, e.message))?;
    let app = open_core(cli)?;
    let flow = app.enrollment();
    let progress = out.progress("Checking your contract");
    let challenge = flow.start(number.into(), birth.into()).await?;
    progress.finish();
    let code = match code {
        Some(c) => c,
        None => ask_code(out, &challenge.phone_masked)?,
    };
    let progress = out.progress("Linking this device");
    let profile = flow.confirm(challenge.enrollment_id, code).await?;
    progress.finish();
    settings::save(
        &cli.data_dir,
        &settings::resolve(
            &cli.data_dir,
            cli.server.as_deref(),
            cli.server_key.as_deref(),
        )?,
    )?;
    let doc = json!({"enrolled": true, "round_trips": app.round_trips(), "profile": profile_json(&profile)});
    out.done(doc, &format!("Enrolled. {}", profile_text(&profile)));
    Ok(())
}

fn ask_code(out: &Output, phone_masked: &str) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if !out.is_json() || stdin.is_terminal() {
        eprint!("We sent a 6-digit code to {phone_masked}. Code: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::input("code", format!("cannot read the code: {e}")))?;
    if line.trim().is_empty() {
        return Err(Failure::input(
            "code",
            "no code given (type it, or pass --code)",
        ));
    }
    Ok(line.trim().to_owned())
}

async fn status(cli: &Cli, out: &Output, sync: bool) -> Result<(), Failure> {
    let app = match open(cli) {
        // Never configured: certainly not enrolled; no server needed to say so.
        Err(f) if f.kind == "not_enrolled" => return not_enrolled(out),
        other => other?,
    };
    let profile = if sync {
        let progress = out.progress("Refreshing from the server");
        let profile = app.refresh_profile().await?;
        progress.finish();
        Some(profile)
    } else {
        app.status()?.profile
    };
    match profile {
        Some(p) => out.done(
            json!({"enrolled": true, "profile": profile_json(&p)}),
            &profile_text(&p),
        ),
        None => return not_enrolled(out),
    }
    Ok(())
}

fn not_enrolled(out: &Output) -> Result<(), Failure> {
    out.done(
        json!({"enrolled": false}),
        "Not enrolled. Run `tierspay enroll --contract-number … --birth-date YYYY-MM-DD`.",
    );
    Ok(())
}

async fn sign_out(cli: &Cli, out: &Output) -> Result<(), Failure> {
    let app = match open(cli) {
        Err(f) if f.kind == "not_enrolled" => {
            out.done(
                json!({"enrolled": false, "signed_out": false}),
                "Not enrolled; nothing to sign out.",
            );
            return Ok(());
        }
        other => other?,
    };
    app.sign_out().await?;
    out.done(
        json!({"enrolled": false, "signed_out": true}),
        "Signed out; local data and secrets wiped.",
    );
    Ok(())
}

async fn push_register(
    cli: &Cli,
    out: &Output,
    kind: PushKind,
    token: &str,
) -> Result<(), Failure> {
    let app = open_core(cli)?;
    let service = match kind {
        PushKind::Apns => PushService::Apns,
        PushKind::Fcm => PushService::Fcm,
    };
    app.register_push_token(service, token.into()).await?;
    let registered = app.status()?.enrolled;
    let text = if registered {
        "Push token registered: notifications go to it."
    } else {
        "Push token kept: it is registered when you enroll."
    };
    out.done(json!({"push_token": {"registered": registered}}), text);
    Ok(())
}

fn link(out: &Output, url: &str) -> Result<(), Failure> {
    let route = route_for_link(url.into())?;
    let (doc, text) = match route {
        Route::Home => (
            json!({"route": "home"}),
            "Opens the home screen.".to_owned(),
        ),
        Route::Enroll { contract_number } => (
            json!({"route": "enroll", "contract_number": contract_number}),
            format!(
                "Opens enrollment{}.",
                contract_number
                    .map(|n| format!(" for contract {n}"))
                    .unwrap_or_default()
            ),
        ),
        Route::Provider { code } => (
            json!({"route": "provider", "code": code}),
            format!("Opens the provider with code {code}."),
        ),
        Route::Card => (json!({"route": "card"}), "Opens the card.".to_owned()),
        Route::PaymentLink { url } => (
            json!({"route": "payment_link", "url": url}),
            "A payment link: check it with `tierspay open-link URL`.".to_owned(),
        ),
        Route::InvoiceThread { invoice_id } => (
            json!({"route": "invoice_thread", "invoice_id": invoice_id}),
            format!("Opens the messages of {invoice_id}: `tierspay messages {invoice_id}`."),
        ),
    };
    out.done(doc, &text);
    Ok(())
}
