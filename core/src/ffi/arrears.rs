//! Arrears for the shells: `Arrears` (the invoices offline, a sync, opening a payment link) and
//! `ArrearsFlow`, the screens' machine ([`crate::app::flows::arrears`]) driven like `VisitFlow`.
//! Conversion only: what a link says, how a status reads and how money and days are written
//! are decided in `app::arrears`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::outbox::{entry, LinkedInvoice, OutboxEntry, OutboxSendReport, PayButton, PayOutcome};
use super::runtime::CoreRuntime;
use super::values::Amount;
use super::visit::failure;
use super::CoreError;
use crate::app::arrears::{day_text, status_text};
use crate::app::flows::arrears::{ArrearsMachine, Effect};
use crate::app::{Core, InvoiceLink, LinkOpening, LinkRefusal};
use crate::domain::payment_link::Channel;
use crate::domain::rf_reference::RfReference;
use crate::store::{OutboxRow, StoredInvoice, StoredInvoiceStatus};
use crate::wire::InvoiceHistoryEntry;

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

pub(crate) fn day(unix_seconds: i64) -> Day {
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
    /// When it was paid, once paid.
    #[uniffi(default = None)]
    pub paid_at: Option<Day>,
    /// How it was paid (`app`, `email_link`, `sms_link`, `push_link`, `hosted_invoice`,
    /// `bank_transfer`, `out_of_band`, `credit_note`), once paid.
    #[uniffi(default = None)]
    pub paid_via: Option<String>,
    /// What happened to it on every channel, oldest first (at most 50 lines).
    #[uniffi(default = [])]
    pub history: Vec<InvoiceHistoryLine>,
    /// This phone's latest payment of it, if any: queued, sending, paid, or why not.
    #[uniffi(default = None)]
    pub payment: Option<OutboxEntry>,
    /// What the pay button does (shown, enabled, its label); `None` only from an older core.
    #[uniffi(default = None)]
    pub pay_button: Option<PayButton>,
}

/// One line of an invoice's history.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceHistoryLine {
    /// `created`, `reminder_sent`, `link_opened`, `payment_failed`, `payment_succeeded`,
    /// `credited`, `voided`.
    pub kind: String,
    /// `push`, `email`, `sms` or `app`, for reminders and links.
    pub channel: Option<String>,
    /// How a payment came (`email_link`…), for payments.
    pub via: Option<String>,
    /// What moved, for payments and credits.
    pub amount: Option<Amount>,
    /// When.
    pub day: Day,
    /// Unix seconds.
    pub at: i64,
}

fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn history_line(h: &InvoiceHistoryEntry, currency: &str) -> InvoiceHistoryLine {
    InvoiceHistoryLine {
        kind: code(&h.kind),
        channel: h.channel.clone(),
        via: h.via.as_ref().map(code),
        amount: h.amount.map(|a| Amount::minor(a, currency)),
        day: day(h.at),
        at: h.at,
    }
}

/// An invoice with this phone's latest payment of it: its state and the pay button.
pub(crate) fn invoice_record(i: StoredInvoice, latest: Option<&OutboxRow>) -> Invoice {
    let words = status_text(&i);
    let button = crate::app::payment_text::pay_button(&i, latest, words.payable);
    let payment = latest.map(|r| entry(r, Some(&i)));
    let history = i
        .extra
        .history
        .iter()
        .map(|h| history_line(h, &i.currency))
        .collect();
    let paid_at = i.extra.paid_at.map(day);
    let paid_via = i.extra.paid_via.as_ref().map(code);
    Invoice {
        paid_at,
        paid_via,
        history,
        payment,
        pay_button: Some(button.into()),
        ..Invoice::from(i)
    }
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
            paid_at: None,
            paid_via: None,
            history: Vec::new(),
            payment: None,
            pay_button: None,
        }
    }
}

/// The invoices on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct InvoiceList {
    /// Open ones first, then newest first: the first 100 (`Arrears::invoices_page` for more).
    pub invoices: Vec<Invoice>,
    /// How many invoices the phone holds (up to 10,000), `invoices` being the first of them.
    #[uniffi(default = 0)]
    pub total: u32,
    /// When they were synced, Unix seconds; `None` if never (offer a sync).
    pub synced_at: Option<i64>,
    /// Before the first sync: what verified links said (the link's signed facts).
    #[uniffi(default = [])]
    pub from_links: Vec<LinkedInvoice>,
}

fn with_payments(invoices: Vec<StoredInvoice>, payments: &[OutboxRow]) -> Vec<Invoice> {
    invoices
        .into_iter()
        .map(|i| {
            let latest = payments.iter().find(|r| r.subject == i.id);
            invoice_record(i, latest)
        })
        .collect()
}

fn list_of(
    core: &Core,
    offline: Option<(Vec<StoredInvoice>, i64)>,
) -> crate::error::Result<InvoiceList> {
    let payments = core.invoice_payments()?;
    let total = core.invoice_count()?;
    let from_links = match offline {
        None => core.link_invoices()?.into_iter().map(Into::into).collect(),
        Some(_) => Vec::new(),
    };
    Ok(match offline {
        Some((l, at)) => InvoiceList {
            invoices: with_payments(l, &payments),
            total,
            synced_at: Some(at),
            from_links,
        },
        None => InvoiceList {
            invoices: Vec::new(),
            total,
            synced_at: None,
            from_links,
        },
    })
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
        Ok(list_of(&self.core, self.core.invoices()?)?)
    }

    /// A further page of the list, no network: `limit` invoices (at most 100) after the first
    /// `offset`, in the list's order (`invoices` is the page at offset 0).
    pub fn invoices_page(&self, offset: u32, limit: u32) -> Result<InvoiceList, CoreError> {
        Ok(list_of(
            &self.core,
            self.core.invoices_page(offset, limit)?,
        )?)
    }

    /// One invoice as last synced, with this phone's payment of it; no network.
    pub fn invoice(&self, id: String) -> Result<Invoice, CoreError> {
        let invoice = self.core.invoice(&id)?;
        let latest = self.core.latest_payment(&id)?;
        Ok(invoice_record(invoice, latest.as_ref()))
    }

    /// Brings the phone up to date: queued link reports and payments are sent (offline they
    /// wait), then the invoices changed since the last sync are fetched.
    pub async fn sync(&self) -> Result<InvoiceList, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let synced = core.sync_invoices().await?;
                list_of(&core, Some(synced))
            })
            .await
    }

    /// Pays what is left on `invoice_id` with the saved card: written to the outbox with its
    /// idempotency key before anything is sent, then sent if online. Offline it waits
    /// (`Queued`); a second tap while one is queued answers `already_queued`, with no second
    /// payment. Refused for an invoice with nothing left to pay.
    pub async fn pay(&self, invoice_id: String) -> Result<PayOutcome, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let result = core.pay_invoice(&invoice_id).await?;
                let invoice = core.invoice(&invoice_id).ok();
                Ok(PayOutcome {
                    entry: entry(&result.row, invoice.as_ref()),
                    already_queued: result.already_queued,
                })
            })
            .await
    }

    /// The outbox, newest first (at most 100): every payment from this phone and where it
    /// stands; no network.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, CoreError> {
        let rows = self.core.outbox_entries()?;
        Ok(rows
            .iter()
            .map(|r| entry(r, self.core.invoice(&r.subject).ok().as_ref()))
            .collect())
    }

    /// Sends what the outbox holds now, each row with its own key, oldest first; stops at the
    /// first network or server error (those rows wait).
    pub async fn send_outbox(&self) -> Result<OutboxSendReport, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.send_outbox().await.map(Into::into) })
            .await
    }

    /// One long poll of the member's event stream, waiting up to `wait_seconds` (at most 30)
    /// for an event: an invoice's event syncs the invoices. Returns how many events it read
    /// (0: nothing new). [`ArrearsFlow::start`] follows the stream on its own; this is for a
    /// shell without the flow, and for the fault run's check that the stream alone brings the
    /// phone up to date.
    pub async fn poll_events(&self, wait_seconds: u64) -> Result<u32, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { Ok(core.poll_member_events(wait_seconds).await?.events) })
            .await
    }

    /// The shell says the network is back: the outbox is sent, then the invoices synced.
    pub async fn network_available(&self) -> Result<InvoiceList, CoreError> {
        self.sync().await
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

#[cfg(feature = "failpoints")]
impl Arrears {
    /// Arms a crash point of the outbox (`tierspay_core::failpoints`), for the exactly-once
    /// tests; Rust only, never exported to the shells.
    pub fn arm_failpoint(&self, point: &str, action: crate::failpoints::FailAction) {
        self.core.arm_failpoint(point, action);
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
    /// Invoices whose "pay" is being written now (their button shows busy).
    #[uniffi(default = [])]
    pub paying: Vec<String>,
    /// Set when the last "pay" found a payment of that invoice already queued: say so.
    #[uniffi(default = None)]
    pub already_queued: Option<String>,
    /// Payments still to reach the server (the outbox's unfinished rows).
    #[uniffi(default = 0)]
    pub pending_payments: u32,
    /// Before the first sync: what verified links said.
    #[uniffi(default = [])]
    pub from_links: Vec<LinkedInvoice>,
}

/// Receives every new state of an arrears flow.
#[uniffi::export(with_foreign)]
pub trait ArrearsListener: Send + Sync {
    /// Called on a core thread (or the caller's, for an intent) with the whole state.
    fn on_state(&self, state: ArrearsFlowState);
}

fn snapshot(m: &ArrearsMachine, revision: u64, from_links: &[LinkedInvoice]) -> ArrearsFlowState {
    let s = m.state();
    ArrearsFlowState {
        revision,
        invoices: with_payments(s.invoices.clone().unwrap_or_default(), &s.payments),
        synced_at: s.synced_at,
        selected: m.selected_invoice().cloned().map(|i| {
            let latest = m.payment_of(&i.id).cloned();
            invoice_record(i, latest.as_ref())
        }),
        link: s.opened.clone().map(Into::into),
        syncing: s.syncing,
        opening_link: s.opening,
        error: s.error.clone().map(|f| ArrearsFlowError {
            kind: f.kind,
            message: f.message,
        }),
        paying: s.paying.clone(),
        already_queued: s.already_queued.clone(),
        pending_payments: s.payments.iter().filter(|r| r.state.unfinished()).count() as u32,
        from_links: if s.invoices.is_none() {
            from_links.to_vec()
        } else {
            Vec::new()
        },
    }
}

/// The arrears screens: invoice list → detail, and payment links opened from outside.
#[derive(uniffi::Object)]
pub struct ArrearsFlow {
    core: Arc<Core>,
    runtime: Arc<CoreRuntime>,
    machine: Mutex<(ArrearsMachine, u64)>,
    listener: Arc<dyn ArrearsListener>,
    /// What verified links said, read with the store (shown before the first sync).
    from_links: Mutex<Vec<LinkedInvoice>>,
    /// Ends the event stream's long polling when the flow goes away.
    stop: Arc<AtomicBool>,
    /// The core event listener that redraws on `InvoicesUpdated`.
    subscription: Mutex<Option<u64>>,
}

impl Drop for ArrearsFlow {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Ok(mut id) = self.subscription.lock() {
            if let Some(id) = id.take() {
                self.core.events().remove(id);
            }
        }
    }
}

impl ArrearsFlow {
    pub(crate) fn new(
        core: Arc<Core>,
        runtime: Arc<CoreRuntime>,
        listener: Arc<dyn ArrearsListener>,
    ) -> Arc<Self> {
        // What the phone has shows at once; a phone never synced (or not enrolled) starts empty.
        let offline = core.invoices().ok().flatten();
        let mut machine = ArrearsMachine::new(offline.clone());
        machine.reloaded(offline, core.invoice_payments().unwrap_or_default());
        let from_links = core
            .link_invoices()
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect();
        let flow = Arc::new(Self {
            core,
            runtime,
            machine: Mutex::new((machine, 0)),
            listener,
            from_links: Mutex::new(from_links),
            stop: Arc::new(AtomicBool::new(false)),
            subscription: Mutex::new(None),
        });
        // The invoices changed (event stream, another flow's payment): read them again. Weak:
        // the core's listener list must not keep the flow alive.
        let weak: Weak<Self> = Arc::downgrade(&flow);
        let id = flow.core.events().add(Arc::new(move |event| {
            if *event == crate::app::CoreEvent::InvoicesUpdated {
                if let Some(flow) = weak.upgrade() {
                    flow.reload();
                }
            }
        }));
        if let Ok(mut slot) = flow.subscription.lock() {
            *slot = Some(id);
        }
        flow
    }

    fn reload(self: &Arc<Self>) {
        let offline = self.core.invoices().ok().flatten();
        let payments = self.core.invoice_payments().unwrap_or_default();
        if let Ok(mut links) = self.from_links.lock() {
            *links = self
                .core
                .link_invoices()
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect();
        }
        self.apply(move |m| {
            m.reloaded(offline, payments);
            Vec::new()
        });
    }

    fn apply(self: &Arc<Self>, change: impl FnOnce(&mut ArrearsMachine) -> Vec<Effect>) {
        let (effects, state) = {
            let Ok(mut guard) = self.machine.lock() else {
                return;
            };
            let (m, revision) = &mut *guard;
            let effects = change(m);
            *revision += 1;
            let links = self
                .from_links
                .lock()
                .map(|l| l.clone())
                .unwrap_or_default();
            (effects, snapshot(m, *revision, &links))
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
            Effect::Pay {
                request,
                invoice_id,
            } => {
                let answer = self.core.pay_invoice(&invoice_id).await.map_err(failure);
                self.apply(move |m| m.paid(request, answer));
            }
            Effect::SendOutbox => {
                // Rows that cannot go now stay queued; the state shows them as such.
                if let Err(e) = self.core.send_outbox().await {
                    tracing::debug!("the outbox waits: {e}");
                }
                self.reload();
            }
            Effect::Reload => self.reload(),
        }
    }
}

#[uniffi::export]
impl ArrearsFlow {
    /// The state as it stands.
    pub fn state(&self) -> Option<ArrearsFlowState> {
        let links = self
            .from_links
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        self.machine
            .lock()
            .ok()
            .map(|m| snapshot(&m.0, m.1, &links))
    }

    /// Shows what the phone has, sends what the outbox holds and refreshes from the server,
    /// then follows the member's event stream (long polling) until the flow is dropped, the
    /// member signs out or the session ends: a payment from any channel redraws the list.
    pub fn start(self: Arc<Self>) {
        self.apply(|m| {
            let mut effects = vec![Effect::SendOutbox];
            effects.extend(m.refresh());
            effects
        });
        let core = self.core.clone();
        let stop = self.stop.clone();
        self.runtime.spawn(async move {
            let wait = crate::app::member_events::MAX_WAIT_SECONDS;
            if let Err(e) = core.watch_member_events(&stop, wait).await {
                tracing::debug!("member events stopped: {e}");
            }
        });
    }

    /// Pays what is left on an invoice (the pay button): written to the outbox first, sent if
    /// online. A second tap while it is queued asks nothing more (`already_queued` says so).
    pub fn pay(self: Arc<Self>, invoice_id: String) {
        self.apply(|m| m.pay(&invoice_id));
    }

    /// The platform says the network is back: queued payments go, then the list refreshes.
    pub fn network_available(self: Arc<Self>) {
        self.apply(|m| m.network_available());
    }

    /// Sends the outbox and refreshes the list (the same as the network coming back).
    pub fn sync(self: Arc<Self>) {
        self.apply(|m| m.network_available());
    }

    /// The outbox, newest first: every payment from this phone and where it stands.
    pub fn outbox(&self) -> Result<Vec<OutboxEntry>, CoreError> {
        let rows = self.core.outbox_entries()?;
        Ok(rows
            .iter()
            .map(|r| entry(r, self.core.invoice(&r.subject).ok().as_ref()))
            .collect())
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
