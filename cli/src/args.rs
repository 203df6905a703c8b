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
    /// Send the payments waiting on this terminal, then download what changed of your
    /// invoices, your guarantees and the tariff catalogue.
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
    /// Pay a visit with the virtual card: authorize it, follow it, cancel it.
    Visit {
        #[command(subcommand)]
        action: VisitAction,
    },
    /// Your visits paid with the card, newest first (from the server; --offline: this
    /// terminal's history only).
    Visits {
        /// Do not ask the server.
        #[arg(long)]
        offline: bool,
    },
    /// TEST TOOL, not the phone: a simulated card terminal at a provider's desk taps the
    /// virtual card (the PSP's test helper, with the PSP's secret key), then captures.
    Tap {
        /// Amount in euros (`30`, `30.50`).
        #[arg(long)]
        amount: String,
        /// The provider at whose desk the terminal stands (code or id).
        #[arg(long)]
        provider: String,
        /// Merchant category code the terminal sends (8011, doctors, by default; 7298 is a spa,
        /// 5813 a bar).
        #[arg(long)]
        mcc: Option<String>,
        /// Merchant country, ISO code.
        #[arg(long, default_value = "FR")]
        country: String,
        /// The merchant's network id (by default the mock's convention, NET + provider code).
        #[arg(long)]
        network_id: Option<String>,
        /// Tap through a wallet.
        #[arg(long, value_enum)]
        wallet: Option<WalletKind>,
        /// Authorize only; do not capture.
        #[arg(long)]
        no_capture: bool,
        /// The PSP's secret key (the terminal's acquirer credentials; never the phone's).
        #[arg(long, env = "TIERSPAY_PSP_KEY", default_value = "sk_test_tierspay")]
        psp_key: String,
        /// The PSP's URL (by default the server's: the mock hosts the PSP).
        #[arg(long, env = "TIERSPAY_PSP_URL")]
        psp_url: Option<String>,
    },
    /// Show where a TiersPay link leads.
    Link {
        /// The link (https://app.tierspay.fr/… or tierspay://…).
        url: String,
    },
    /// Your invoices: what you owe, its status, due date and transfer reference (synced from
    /// the server; --offline: as last synced on this terminal).
    Invoices {
        /// Do not ask the server.
        #[arg(long)]
        offline: bool,
    },
    /// One invoice, as last synced (offline).
    Invoice {
        /// The invoice id, in_….
        id: String,
    },
    /// Pay what is left on an invoice with your saved card. Written on this terminal first
    /// (with its idempotency key), then sent; offline it waits for `tierspay sync`, and it is
    /// never charged twice.
    Pay {
        /// The invoice id, in_….
        invoice: String,
    },
    /// The payments written on this terminal and where each stands (queued, paid, already
    /// paid, declined…), newest first; offline.
    Outbox,
    /// Check a payment link from an email, an SMS or a push: verified offline against the
    /// pinned key before anything of it is shown (an SMS short link asks the server once).
    OpenLink {
        /// https://app.tierspay.fr/l/…, tierspay://l/… or https://app.tierspay.fr/s/….
        url: String,
    },
    /// An invoice's messages with your insurer's support, oldest first (read from the server;
    /// --offline: as last read on this terminal).
    Messages {
        /// The invoice id, in_….
        invoice: String,
        /// Do not ask the server.
        #[arg(long)]
        offline: bool,
    },
    /// Write to your insurer's support about an invoice (1 to 2,000 characters). Kept on this
    /// terminal with its idempotency key, then sent exactly once, now or at the next command
    /// that reaches the server.
    Write {
        /// The invoice id, in_….
        invoice: String,
        /// The message.
        text: String,
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
    /// Save YOUR OWN card, which pays your share of visits (sent to the PSP only; this
    /// terminal keeps its last four digits, never the number).
    Save {
        /// A PSP test card instead of a number.
        #[arg(long, value_enum, conflicts_with_all = ["number", "exp", "cvc"])]
        test_card: Option<TestCard>,
        /// The card number (prefer --test-card: a number on a command line stays in the
        /// shell's history).
        #[arg(long, requires_all = ["exp", "cvc"])]
        number: Option<String>,
        /// Expiry, MM/YY.
        #[arg(long)]
        exp: Option<String>,
        /// Security code.
        #[arg(long)]
        cvc: Option<String>,
    },
    /// Read your own card's status again (after the bank's challenge).
    Own,
}

/// The PSP's test cards (Stripe's numbers).
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum TestCard {
    /// Always accepted.
    Visa,
    /// Refused when saved (generic decline).
    Declined,
    /// Saved, then declined for lack of funds at the first payment.
    InsufficientFunds,
    /// Refused when saved: expired.
    Expired,
    /// The bank asks the member to authenticate when saved.
    Authenticate,
}

impl TestCard {
    /// The test number.
    pub fn number(self) -> &'static str {
        match self {
            Self::Visa => "4242424242424242",
            Self::Declined => "4000000000000002",
            Self::InsufficientFunds => "4000000000009995",
            Self::Expired => "4000000000000069",
            Self::Authenticate => "4000002500003155",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum VisitAction {
    /// Arm the virtual card for one visit, from the same inputs as `preview` (priced on this
    /// terminal, then the server agrees or gives its figures).
    Authorize {
        /// Beneficiary id (or first name).
        #[arg(long)]
        beneficiary: String,
        /// Provider id or code.
        #[arg(long)]
        provider: String,
        /// Act code (see `tierspay acts`).
        #[arg(long)]
        act: String,
        /// Price in euros.
        #[arg(long, allow_hyphen_values = true)]
        price: String,
        /// Care date, YYYY-MM-DD (today by default).
        #[arg(long)]
        date: Option<String>,
        /// When the server's figures differ from this terminal's, authorize the server's.
        #[arg(long)]
        accept_new_figures: bool,
    },
    /// Where a visit stands (the newest by default), read from the server.
    Status {
        /// vis_… (the newest visit when omitted).
        id: Option<String>,
    },
    /// Cancel an armed visit (the one the card is armed for by default).
    Cancel {
        /// vis_… (the armed visit when omitted).
        id: Option<String>,
    },
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
