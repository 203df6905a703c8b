//! `tierspay`: the terminal shell. As thin as the mobile shells: it parses arguments, calls the
//! same `TiersPay` facade, and prints (short human text, or one JSON document with `--json`).

mod args;
mod arrears;
mod card;
mod commands;
mod coverage;
mod messages;
mod outbox;
mod output;
mod payment;
mod settings;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    if std::env::var_os("TIERSPAY_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("TIERSPAY_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    let out = output::Output::new(cli.json);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return out.fail(&output::Failure::internal(format!("cannot start: {e}"))),
    };
    match runtime.block_on(commands::run(&cli, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => out.fail(&failure),
    }
}
