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
    /// Show where a TiersPay link leads.
    Link {
        /// The link (https://app.tierspay.fr/… or tierspay://…).
        url: String,
    },
}
