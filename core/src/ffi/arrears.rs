//! Arrears for the shells: `Arrears` (the invoices offline, a sync, opening a payment link) and
//! `ArrearsFlow`, the screens' machine ([`crate::app::flows::arrears`]) driven like `VisitFlow`.
//! Conversion only: what a link says, how a status reads and how money and days are written
//! are decided in `app::arrears`.

use std::sync::{Arc, Mutex};

use super::runtime::CoreRuntime;
use super::values::Amount;
use super::visit::failure;
use super::CoreError;
use crate::app::arrears::{day_text, status_text};
use crate::app::flows::arrears::{ArrearsMachine, Effect};
use crate::app::{Core, InvoiceLink, LinkOpening, LinkRefusal};
use crate::domain::payment_link::Channel;
use crate::domain::rf_reference::RfReference;
use crate::store::{StoredInvoice, StoredInvoiceStatus};

pub use crate::app::flows::FailureKind;

/// Where an invoice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum InvoiceStatus {
    /// Something is owed.
    Open,
    /// Settled.
    Paid,
    /// Cancelled: nothing is owed.
    Void,
    /// Written off by the insurer, still payable.
    Uncollectible,
}

/// A calendar day (Paris), written for both readers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Day {
    /// `2026-12-31`.
    pub iso: String,
    /// `31/12/2026`.
    pub display_fr: String,
    /// `31 Dec 2026`.
    pub display_en: String,
}

fn day(unix_seconds: i64) -> Day {
    let (display_fr, display_en, iso) = day_text(unix_seconds);
    Day {
        iso,
        display_fr,
        display_en,
    }
}

/// One invoice of the member, as synced to the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Invoice {
    /// The server's `in_…`.
    pub id: String,
    /// The number printed on letters.
    pub number: Option<String>,
    /// Where it stands.
    pub status: InvoiceStatus,
    /// The status for a French reader.
    pub status_fr: String,
    /// The status for an English reader.
    pub status_en: String,
    /// Something is owed and can be paid (the pay button shows).
    pub payable: bool,
    /// `premium` or `visit`.
    pub source: String,
    /// The creditor's own words.
    pub description: Option<String>,
    /// The member's contract.
    pub contract_ref: String,
    /// Owed after credit notes.
    pub amount_due: Amount,
    /// Paid so far.
    pub amount_paid: Amount,
    /// Still owed.
    pub amount_remaining: Amount,
    /// When it is due.
    pub due_date: Option<Day>,
    /// The ISO 11649 reference, electronic form (`RF18539007547034`), for a transfer.
    pub rf_reference: Option<String>,
    /// The same, grouped by four as printed (`RF18 5390 0754 7034`).
    pub rf_reference_display: Option<String>,
}

impl From<StoredInvoice> for Invoice {
    fn from(i: StoredInvoice) -> Self {
        let words = status_text(&i);
        let grouped = i
            .rf_reference
            .as_deref()
            .and_then(|r| RfReference::parse(r).ok())
            .map(|r| r.grouped());
        Self {
            status: match i.status {
                StoredInvoiceStatus::Open => InvoiceStatus::Open,
                StoredInvoiceStatus::Paid => InvoiceStatus::Paid,
                StoredInvoiceStatus::Void => InvoiceStatus::Void,
                StoredInvoiceStatus::Uncollectible => InvoiceStatus::Uncollectible,
            },
            status_fr: words.fr.into(),
            status_en: words.en.into(),
            payable: words.payable,
            amount_due: Amount::minor(i.amount_due, &i.currency),
            amount_paid: Amount::minor(i.amount_paid, &i.currency),
            amount_remaining: Amount::minor(i.amount_remaining, &i.currency),
            due_date: i.due_date.map(day),
            rf_reference_display: grouped,
            id: i.id,
            number: i.number,
            source: i.source,
            description: i.description,
            contract_ref: i.contract_ref,
            rf_reference: i.rf_reference,
        }
    }
}

/// The invoices on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceList {
    /// Open ones first, then newest first.
    pub invoices: Vec<Invoice>,
    /// When they were synced, Unix seconds; `None` if never (offer a sync).
    pub synced_at: Option<i64>,
}

fn list(offline: Option<(Vec<StoredInvoice>, i64)>) -> InvoiceList {
    match offline {
        Some((l, at)) => InvoiceList {
            invoices: l.into_iter().map(Into::into).collect(),
            synced_at: Some(at),
        },
        None => InvoiceList {
            invoices: Vec::new(),
            synced_at: None,
        },
    }
}

/// The channel a link was sent through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LinkChannel {
    /// A push notification.
    Push,
    /// An email.
    Email,
    /// An SMS.
    Sms,
    /// Inside the app.
    App,
}

impl From<Channel> for LinkChannel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Push => Self::Push,
            Channel::Email => Self::Email,
            Channel::Sms => Self::Sms,
            Channel::App => Self::App,
        }
    }
}

/// What a verified payment link says, every field signed by the server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedLink {
    /// The invoice's short number in the link.
    pub invoice_number: u32,
    /// The amount asked.
    pub amount: Amount,
    /// The link is refused from this instant, Unix seconds.
    pub expires_at: i64,
    /// The same, as a day.
    pub expires: Day,
    /// The channel it came through.
    pub channel: LinkChannel,
    /// The id of the key that signed it.
    pub key_id: u8,
    /// The hosted payment page of this link (`https://app.tierspay.fr/l/…`), to open in the
    /// browser for paying by card or transfer.
    pub page_url: String,
}

impl From<InvoiceLink> for VerifiedLink {
    fn from(l: InvoiceLink) -> Self {
        Self {
            invoice_number: l.invoice_number,
            amount: Amount::minor(l.amount_minor, &l.currency),
            expires_at: l.expires_at,
            expires: day(l.expires_at),
            channel: l.channel.into(),
            key_id: l.key_id,
            page_url: l.page_url,
        }
    }
}

/// Why a link was refused, and what to tell the member.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RefusedLink {
    /// The reason.
    pub reason: LinkRefusal,
    /// The reason's code (`bad_signature`), as reported to the server.
    pub code: String,
    /// For a French reader.
    pub message_fr: String,
    /// For an English reader.
    pub message_en: String,
}

impl From<LinkRefusal> for RefusedLink {
    fn from(r: LinkRefusal) -> Self {
        Self {
            reason: r,
            code: r.code().into(),
            message_fr: r.message_fr().into(),
            message_en: r.message_en().into(),
        }
    }
}

/// What opening a link led to: verified facts, or a refusal shown instead of anything else.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum LinkResult {
    /// Signed by the pinned key, for this member, not expired.
    Verified {
        /// What it says.
        link: VerifiedLink,
    },
    /// Refused; reported to the server when it can be reached.
    Refused {
        /// Why.
        refusal: RefusedLink,
    },
}

impl From<LinkOpening> for LinkResult {
    fn from(o: LinkOpening) -> Self {
        match o {
            LinkOpening::Invoice(l) => Self::Verified { link: l.into() },
            LinkOpening::Refused(r) => Self::Refused { refusal: r.into() },
        }
    }
}

/// The member's arrears: invoices offline and payment links.
#[derive(uniffi::Object)]
pub struct Arrears {
    pub(crate) core: Arc<Core>,
    pub(crate) runtime: Arc<CoreRuntime>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Arrears {
    /// The invoices as last synced; no network.
    pub fn invoices(&self) -> Result<InvoiceList, CoreError> {
        Ok(list(self.core.invoices()?))
    }

    /// One invoice as last synced; no network.
    pub fn invoice(&self, id: String) -> Result<Invoice, CoreError> {
        Ok(self.core.invoice(&id)?.into())
    }

    /// Downloads the invoices (after sending any queued link reports).
    pub async fn sync(&self) -> Result<InvoiceList, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.sync_invoices().await.map(|l| list(Some(l))) })
            .await
    }

    /// Verifies a payment link (`https://app.tierspay.fr/l/…`, `tierspay://l/…`, or the SMS
    /// `/s/…`, which needs the server once) before anything of it is shown.
    pub async fn open_link(&self, url: String) -> Result<LinkResult, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.open_link(&url).await.map(Into::into) })
            .await
    }

    /// Sends the refusal reports waiting on the phone; returns how many the server took.
    pub async fn report_refusals(&self) -> Result<u32, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.report_link_refusals().await })
            .await
    }

    /// Refusal reports still waiting to reach the server.
    pub fn pending_reports(&self) -> Result<u32, CoreError> {
        Ok(self.core.pending_link_reports()?)
    }
}

/// A failure shown on the arrears screens.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ArrearsFlowError {
    /// What kind.
    pub kind: FailureKind,
    /// What to tell the member.
    pub message: String,
}

/// What the arrears screens draw.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ArrearsFlowState {
    /// Grows with every change; a shell keeps the highest.
    pub revision: u64,
    /// The invoices, open ones first.
    pub invoices: Vec<Invoice>,
    /// When they were synced; `None` if never.
    pub synced_at: Option<i64>,
    /// The invoice whose detail is open.
    pub selected: Option<Invoice>,
    /// The link last opened, verified or refused; `None` while none is open.
    pub link: Option<LinkResult>,
    /// A sync is under way.
    pub syncing: bool,
    /// A link is being verified.
    pub opening_link: bool,
    /// The last failure.
    pub error: Option<ArrearsFlowError>,
}

/// Receives every new state of an arrears flow.
#[uniffi::export(with_foreign)]
pub trait ArrearsListener: Send + Sync {
    /// Called on a core thread (or the caller's, for an intent) with the whole state.
    fn on_state(&self, state: ArrearsFlowState);
}

fn snapshot(m: &ArrearsMachine, revision: u64) -> ArrearsFlowState {
    let s = m.state();
    ArrearsFlowState {
        revision,
        invoices: s
            .invoices
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect(),
        synced_at: s.synced_at,
        selected: m.selected_invoice().cloned().map(Into::into),
        link: s.opened.clone().map(Into::into),
        syncing: s.syncing,
        opening_link: s.opening,
        error: s.error.clone().map(|f| ArrearsFlowError {
            kind: f.kind,
            message: f.message,
        }),
    }
}

/// The arrears screens: invoice list → detail, and payment links opened from outside.
#[derive(uniffi::Object)]
pub struct ArrearsFlow {
    core: Arc<Core>,
    runtime: Arc<CoreRuntime>,
    machine: Mutex<(ArrearsMachine, u64)>,
    listener: Arc<dyn ArrearsListener>,
}

impl ArrearsFlow {
    pub(crate) fn new(
        core: Arc<Core>,
        runtime: Arc<CoreRuntime>,
        listener: Arc<dyn ArrearsListener>,
    ) -> Arc<Self> {
        // What the phone has shows at once; a phone never synced (or not enrolled) starts empty.
        let offline = core.invoices().ok().flatten();
        Arc::new(Self {
            core,
            runtime,
            machine: Mutex::new((ArrearsMachine::new(offline), 0)),
            listener,
        })
    }

    fn apply(self: &Arc<Self>, change: impl FnOnce(&mut ArrearsMachine) -> Vec<Effect>) {
        let (effects, state) = {
            let Ok(mut guard) = self.machine.lock() else {
                return;
            };
            let (m, revision) = &mut *guard;
            let effects = change(m);
            *revision += 1;
            (effects, snapshot(m, *revision))
        };
        self.listener.on_state(state);
        for effect in effects {
            let flow = self.clone();
            self.runtime.spawn(async move { flow.run(effect).await });
        }
    }

    async fn run(self: Arc<Self>, effect: Effect) {
        match effect {
            Effect::Sync { request } => {
                let answer = self.core.sync_invoices().await.map_err(failure);
                self.apply(move |m| {
                    m.synced(request, answer);
                    Vec::new()
                });
            }
            Effect::Open { request, url } => {
                let answer = self.core.open_link(&url).await.map_err(failure);
                self.apply(move |m| m.link_opened(request, answer));
            }
            Effect::Report => {
                // Best effort: a report that cannot go now stays queued for the next sync.
                if let Err(e) = self.core.report_link_refusals().await {
                    tracing::debug!("link reports wait: {e}");
                }
            }
        }
    }
}

#[uniffi::export]
impl ArrearsFlow {
    /// The state as it stands.
    pub fn state(&self) -> Option<ArrearsFlowState> {
        self.machine.lock().ok().map(|m| snapshot(&m.0, m.1))
    }

    /// Shows what the phone has and refreshes it from the server.
    pub fn start(self: Arc<Self>) {
        self.apply(|m| m.refresh());
    }

    /// Refreshes the list (pull to refresh).
    pub fn refresh(self: Arc<Self>) {
        self.apply(|m| m.refresh());
    }

    /// A link handed over by the platform (App Link, universal link, `tierspay://`, a push):
    /// verified by the core; nothing of it shows before.
    pub fn open_link(self: Arc<Self>, url: String) {
        self.apply(|m| m.open_link(url));
    }

    /// Opens an invoice's detail.
    pub fn select(self: Arc<Self>, invoice_id: String) {
        self.apply(|m| {
            m.select(&invoice_id);
            Vec::new()
        });
    }

    /// Back: closes the opened link, then the detail.
    pub fn back(self: Arc<Self>) {
        self.apply(|m| {
            m.back();
            Vec::new()
        });
    }
}
