use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// TiersPay in the terminal: enroll, see your contract, sign out.
#[derive(Parser, Debug)]
#[command(name = "tierspay", version, about)]
pub struct Cli {
    /// Server URL (remembered in the data directory after the first enrollment).
    #[arg(long, env = "TIERSPAY_SERVER", global = true)]
    pub server: Option<String>,
    /// The server's public key to pin, hex (printed by tierspay-mock at start; remembered).
    #[arg(long, env = "TIERSPAY_SERVER_KEY", global = true)]
    pub server_key: Option<String>,
    /// Folder for this terminal's local data and secrets.
    #[arg(
        long,
        env = "TIERSPAY_DATA_DIR",
        global = true,
        default_value = ".tierspay"
    )]
    pub data_dir: PathBuf,
    /// Print one JSON document per command, for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Link your insurance contract to this terminal with a code sent by SMS.
    Enroll {
        /// Contract number, as on your insurance card.
        #[arg(long)]
        contract_number: String,
        /// Your birth date, YYYY-MM-DD.
        #[arg(long)]
        birth_date: String,
        /// The 6-digit code; asked on the terminal when omitted.
        #[arg(long)]
        code: Option<String>,
    },
    /// Show whether you are enrolled, and your contract (offline; --sync asks the server).
    Status {
        /// Refresh from the server first.
        #[arg(long)]
        sync: bool,
    },
    /// Sign out: revoke this device and wipe local data and secrets.
    SignOut,
    /// Download what changed of your guarantees and the tariff catalogue.
    Sync,
    /// List who is covered by your contract (offline).
    Beneficiaries,
    /// List the acts you can preview (offline).
    Acts {
        /// Date, YYYY-MM-DD (today in France by default).
        #[arg(long)]
        date: Option<String>,
    },
    /// Find providers by name, specialty or city (typos forgiven).
    Providers {
        /// Free text, e.g. "martin lyon".
        #[arg(long, default_value = "")]
        search: String,
        /// Only this specialty.
        #[arg(long)]
        specialty: Option<String>,
        /// Only this city.
        #[arg(long)]
        city: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// Select a provider by id, code, or the text of its scanned desk QR code.
    Provider {
        /// prv_…, a 6-character code, or https://app.tierspay.fr/p/CODE.
        id_code_or_scan: String,
    },
    /// Who pays what for a visit: statutory insurance, your insurer, you (offline).
    Preview {
        /// Beneficiary id (or first name).
        #[arg(long)]
        beneficiary: String,
        /// Provider id or code.
        #[arg(long)]
        provider: String,
        /// Act code (see `tierspay acts`).
        #[arg(long)]
        act: String,
        /// Price in euros (`30`, `30.50`, `30,50`).
        // Hyphen values too: `--price -3` gets the core's "must be more than zero", not clap's
        // "unexpected argument".
        #[arg(long, allow_hyphen_values = true)]
        price: String,
        /// Care date, YYYY-MM-DD (today by default).
        #[arg(long)]
        date: Option<String>,
        /// Also ask the server whether the figures still hold.
        #[arg(long)]
        check: bool,
    },
    /// Answer a quote document (the offline calculator's JSON contract) from a file.
    Quote {
        /// The document; `-` reads standard input.
        file: PathBuf,
    },
    /// Your virtual card: last digits, status, where it works, wallets.
    Card {
        #[command(subcommand)]
        action: Option<CardAction>,
    },
    /// Add the card to a wallet, simulated (no PassKit or TapAndPay in a terminal): a generated
    /// test chain and wallet, the pass opened and checked, the token activated as the network
    /// would. Needs a tierspay-mock (its test helpers stand in for Apple and Google).
    Wallet {
        /// `apple` or `google`.
        #[arg(value_enum)]
        wallet: WalletKind,
    },
    /// Push notifications: hand this terminal's push token to the core (a phone's shell does it
    /// with the token APNs or FCM gives it).
    Push {
        #[command(subcommand)]
        action: PushAction,
    },
    /// Show where a TiersPay link leads.
    Link {
        /// The link (https://app.tierspay.fr/… or tierspay://…).
        url: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum CardAction {
    /// Fetch the card and its wallet tokens again.
    Refresh,
    /// Freeze the card: payments refused, wallet tokens suspended.
    Freeze,
    /// Unfreeze the card and resume its wallet tokens.
    Unfreeze,
    /// Show the full number once, for manual entry (never stored).
    Reveal,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum WalletKind {
    /// Apple Pay in-app provisioning (ECC_V2).
    Apple,
    /// Google Pay push provisioning (OPC).
    Google,
}

#[derive(Subcommand, Debug)]
pub enum PushAction {
    /// Register the push token (kept until enrollment when not enrolled yet; a new token
    /// replaces the old one).
    Register {
        /// `apns` or `fcm`.
        #[arg(long, value_enum)]
        service: PushKind,
        /// The token: an APNs device token in hex, or an FCM registration token.
        #[arg(long)]
        token: String,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum PushKind {
    /// Apple Push Notification service.
    Apns,
    /// Firebase Cloud Messaging.
    Fcm,
}
