//! `tierspay-mock serve --addr HOST:PORT --db FILE [--seed demo]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use tierspay_server_mock::{start, Limits, ServerConfig};

#[derive(Parser)]
#[command(
    name = "tierspay-mock",
    version,
    about = "Mock insurer, platform backend and PSP for TiersPay"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until stopped (Ctrl-C or SIGTERM).
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// SQLite file holding all state; it survives restarts.
        #[arg(long, default_value = "tierspay-mock.db")]
        db: PathBuf,
        /// Data set to load at start (added once, never duplicated).
        #[arg(long, value_enum)]
        seed: Option<Seed>,
        /// Base URL clients use, if not http://HOST:PORT (behind a proxy, or when listening on
        /// 0.0.0.0): DPoP proofs must sign it.
        #[arg(long, env = "TIERSPAY_PUBLIC_URL")]
        public_url: Option<String>,
        /// A proxy allowed to name the client in X-Forwarded-For (repeatable).
        #[arg(long = "trusted-proxy")]
        trusted_proxies: Vec<std::net::IpAddr>,
        /// Serve /v1/test_helpers/* (fixtures, clock, outbox with one-time codes, faults) to
        /// holders of a secret API key. For tests and demos only.
        #[arg(long)]
        test_helpers: bool,
        /// Log format on standard error.
        #[arg(long, value_enum, default_value = "text")]
        log_format: LogFormat,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Seed {
    /// A small demo insurer: three families.
    Demo,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Serve {
        addr,
        db,
        seed,
        public_url,
        trusted_proxies,
        test_helpers,
        log_format,
    } = Cli::parse().command;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIERSPAY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    let config = ServerConfig {
        addr,
        db_path: db,
        seed_demo: matches!(seed, Some(Seed::Demo)),
        limits: Limits::default(),
        public_url,
        trusted_proxies,
        test_helpers,
    };
    let mut server = match start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tierspay-mock: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Stable lines on standard output, for scripts: the URL, then the key to pin.
    println!("tierspay-mock listening on {}", server.url);
    println!("server public key: {}", server.public_key_hex);
    let stop = server.take_shutdown();
    tokio::spawn(async move {
        shutdown_signal().await;
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    });
    server.wait().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {},
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
