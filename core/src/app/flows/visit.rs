//! The visit screen's state machine, pure: who the visit is for → which provider (searched,
//! scanned or from a link) → which act → the amount → the figures priced on the phone → the
//! server's word on them. No I/O and no clock: each intent changes the state and returns the
//! [`Effect`]s to run; each answer comes back with the token or request it was for, so an
//! answer the member overtook (a newer search, a changed choice) is dropped.
//!
//! Then, with the figures shown, paying: authorize → the card armed for this visit (until its
//! `expires_at`) → the tap authorized → paid with the split; or canceled, expired, reversed.
//! A stale preview shows the server's figures, which the member authorizes instead; a decline
//! of the member's own card shows on the card's field. While a visit is being authorized or is
//! armed, the choices are locked: the card pays exactly what the server armed.
//!
//! The step is not stored: it is the first thing still missing, so clearing a choice (an
//! error on it, "change", "back") goes back to it. Generic over the records (see
//! [`VisitTypes`]) so the facade holds its own records and the tests plain ones; the visit
//! itself is the wire's, which the facade converts when it draws.

pub use super::{Failure, FailureKind};
use crate::wire::{StalePreview, Visit, VisitStatus};

/// The records the machine holds; only their ids are read.
pub trait VisitTypes {
    /// Who the visit is for.
    type Beneficiary: Clone + PartialEq + std::fmt::Debug;
    /// A provider.
    type Provider: Clone + PartialEq + std::fmt::Debug;
    /// An act of the catalogue.
    type Act: Clone + PartialEq + std::fmt::Debug;
    /// The figures priced on the phone.
    type Preview: Clone + PartialEq + std::fmt::Debug;
    /// The server's recomputation.
    type Check: Clone + PartialEq + std::fmt::Debug;

    /// A beneficiary's id.
    fn beneficiary_id(b: &Self::Beneficiary) -> &str;
    /// A provider's id.
    fn provider_id(p: &Self::Provider) -> &str;
    /// An act's code.
    fn act_code(a: &Self::Act) -> &str;
    /// A preview's id.
    fn preview_id(p: &Self::Preview) -> &str;
    /// Whether the server's figures are the phone's; and the server's preview id.
    fn check_holds(c: &Self::Check) -> (bool, String);
}

/// Where the member is: the first thing still missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum VisitStep {
    /// Reading the contract data (or downloading it the very first time).
    Loading,
    /// Choosing who the visit is for.
    Beneficiary,
    /// Finding the provider.
    Provider,
    /// Choosing the act.
    Act,
    /// Typing the amount.
    Amount,
    /// The figures and the server's word; "pay with my card" once they are shown.
    Result,
    /// The card is armed for this visit (or the tap is authorized): a countdown to
    /// `expires_at`, cancel, refresh.
    Armed,
    /// The visit ended: paid (with the split and the receipt), canceled, expired or reversed.
    Finished,
}

/// Which part of the form an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum VisitField {
    /// The beneficiary list.
    Beneficiary,
    /// The provider search (query and filters).
    Search,
    /// The chosen provider.
    Provider,
    /// The scan button: what the camera read is not a provider's.
    Scan,
    /// The act list.
    Act,
    /// The amount.
    Price,
    /// The care date.
    Date,
    /// The member's own card (declined, missing, to authenticate).
    PaymentMethod,
    /// Not one field: a banner above the form.
    Form,
}

/// An error shown beside a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitError {
    /// Where it shows.
    pub field: VisitField,
    /// What it says.
    pub message: String,
    /// What kind of failure.
    pub kind: FailureKind,
}

/// The server's word on the preview shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerCheck<C> {
    /// Asked; the phone's figures show meanwhile.
    Checking,
    /// The server computed the same figures.
    Confirmed {
        /// The server's preview id.
        server_preview_id: String,
    },
    /// The server's figures differ (its data changed since the last sync): sync and price again.
    Changed(C),
    /// Not checked (offline, most often); the phone's figures stand, ask again later.
    Unavailable {
        /// Why.
        message: String,
        /// What kind of failure.
        kind: FailureKind,
    },
}

/// What a preview is asked for: the choices when pricing started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingRequest {
    /// Who.
    pub beneficiary_id: String,
    /// Where.
    pub provider_id: String,
    /// Which act.
    pub act_code: String,
    /// The amount as typed.
    pub price: String,
    /// The care date, `None` for today.
    pub date: Option<String>,
}

/// I/O the driver runs for the machine, then reports back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read beneficiaries and acts; when never synced and `sync_if_missing`, sync once first.
    Load {
        /// Sync once when the data was never downloaded.
        sync_if_missing: bool,
    },
    /// Read the acts in force on `date`.
    LoadActs {
        /// The care date, `None` for today.
        date: Option<String>,
    },
    /// Search providers; report with `token`.
    Search {
        /// The search's token.
        token: u64,
        /// The text typed.
        query: String,
        /// The specialty filter.
        specialty: Option<String>,
        /// The city filter.
        city: Option<String>,
        /// Typed text: wait a little, a newer keystroke replaces it.
        debounce: bool,
    },
    /// Select a provider by id, code or scanned text; report with `token`.
    Select {
        /// The selection's token.
        token: u64,
        /// Id, code or the scanned text as it is.
        key: String,
        /// From the camera.
        scanned: bool,
    },
    /// Price the visit on the phone.
    Price(PricingRequest),
    /// Ask the server about the preview shown.
    Check {
        /// The preview's id.
        preview_id: String,
    },
    /// Download what changed; when `reprice`, price the visit again after.
    Sync {
        /// Price again once synced.
        reprice: bool,
    },
    /// Arm the card for the visit priced from `request`.
    Authorize {
        /// The choices priced.
        request: PricingRequest,
        /// The preview the member saw.
        preview_id: String,
        /// The server's figures the member accepted after a stale answer.
        quote: Option<StalePreview>,
    },
    /// Read the visit again.
    RefreshVisit {
        /// `vis_…`
        visit_id: String,
    },
    /// Cancel the armed visit.
    CancelVisit {
        /// `vis_…`
        visit_id: String,
    },
    /// Look in the history for a visit the card is still armed for (the app restarted while
    /// it was); report it with [`VisitMachine::armed_found`].
    FindArmedVisit,
}

/// Why an authorization did not arm the card, as the driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeFailure {
    /// The figures no longer hold: the server's.
    Stale(StalePreview),
    /// The member's own card was declined.
    Declined {
        /// What to tell the member.
        message: String,
        /// Stripe's decline code.
        decline_code: String,
    },
    /// Anything else.
    Failed(Failure),
}

/// Whether the card still pays this visit (armed, or a tap authorized and not captured yet).
pub fn is_active(status: VisitStatus) -> bool {
    matches!(status, VisitStatus::Armed | VisitStatus::Authorized)
}

/// What the visit screen shows.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitState<T: VisitTypes> {
    /// Reading the contract data.
    pub loading: bool,
    /// Never synced on this phone: the visit needs one sync.
    pub needs_sync: bool,
    /// A sync is under way.
    pub syncing: bool,
    /// Who can be chosen.
    pub beneficiaries: Vec<T::Beneficiary>,
    /// Acts in force on `date`.
    pub acts: Vec<T::Act>,
    /// Who the visit is for.
    pub beneficiary: Option<T::Beneficiary>,
    /// The search as typed.
    pub query: String,
    /// Specialty filter.
    pub specialty: Option<String>,
    /// City filter.
    pub city: Option<String>,
    /// Recently used first, then the directory's matches.
    pub results: Vec<T::Provider>,
    /// The directory could not be reached: results are recently used providers only.
    pub results_offline: bool,
    /// A search is under way.
    pub searching: bool,
    /// A provider is being selected.
    pub selecting_provider: bool,
    /// The provider.
    pub provider: Option<T::Provider>,
    /// The act.
    pub act: Option<T::Act>,
    /// The amount as typed; the core reads it when pricing.
    pub price: String,
    /// Care date `YYYY-MM-DD`; `None` for today in France.
    pub date: Option<String>,
    /// Pricing is under way.
    pub pricing: bool,
    /// The figures.
    pub preview: Option<T::Preview>,
    /// The server's word on them.
    pub check: Option<ServerCheck<T::Check>>,
    /// The error shown, with its field.
    pub error: Option<VisitError>,
    /// The authorization is under way.
    pub authorizing: bool,
    /// The visit authorized, as the server last described it.
    pub visit: Option<Visit>,
    /// The server's figures after a stale preview: authorizing again accepts them.
    pub stale: Option<StalePreview>,
    /// The visit is being cancelled.
    pub canceling: bool,
    /// The visit is being read again.
    pub refreshing: bool,
}

/// The machine: the state and the tokens of the requests in flight.
#[derive(Debug, Clone)]
pub struct VisitMachine<T: VisitTypes> {
    state: VisitState<T>,
    tokens: u64,
    search_token: Option<u64>,
    select_token: Option<u64>,
    pending: Option<PricingRequest>,
    started: bool,
}

impl<T: VisitTypes> Default for VisitMachine<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Where an error the core names a field for shows; `fallback` otherwise.
pub fn field_for(failure: &Failure, fallback: VisitField) -> VisitField {
    match failure.field.as_deref() {
        Some("beneficiary_id") => VisitField::Beneficiary,
        Some("provider_id" | "provider") => VisitField::Provider,
        Some("scan") => VisitField::Scan,
        Some("query" | "specialty" | "city") => VisitField::Search,
        Some("act_code") => VisitField::Act,
        Some("price") => VisitField::Price,
        Some("date") => VisitField::Date,
        Some(_) => VisitField::Form,
        None => fallback,
    }
}

impl<T: VisitTypes> VisitMachine<T> {
    /// A visit not started: loading.
    pub fn new() -> Self {
        Self {
            state: VisitState {
                loading: true,
                needs_sync: false,
                syncing: false,
                beneficiaries: Vec::new(),
                acts: Vec::new(),
                beneficiary: None,
                query: String::new(),
                specialty: None,
                city: None,
                results: Vec::new(),
                results_offline: false,
                searching: false,
                selecting_provider: false,
                provider: None,
                act: None,
                price: String::new(),
                date: None,
                pricing: false,
                preview: None,
                check: None,
                error: None,
                authorizing: false,
                visit: None,
                stale: None,
                canceling: false,
                refreshing: false,
            },
            tokens: 0,
            search_token: None,
            select_token: None,
            pending: None,
            started: false,
        }
    }

    /// The state as it stands.
    pub fn state(&self) -> &VisitState<T> {
        &self.state
    }

    /// The search whose answer is awaited, if any.
    pub fn search_in_flight(&self) -> Option<u64> {
        self.search_token
    }

    /// The first thing still missing.
    pub fn step(&self) -> VisitStep {
        let s = &self.state;
        if let Some(v) = &s.visit {
            return if is_active(v.status) {
                VisitStep::Armed
            } else {
                VisitStep::Finished
            };
        }
        if s.beneficiaries.is_empty() {
            VisitStep::Loading
        } else if s.beneficiary.is_none() {
            VisitStep::Beneficiary
        } else if s.provider.is_none() {
            VisitStep::Provider
        } else if s.act.is_none() {
            VisitStep::Act
        } else if s.preview.is_none() {
            VisitStep::Amount
        } else {
            VisitStep::Result
        }
    }

    /// Any request the form waits for.
    pub fn busy(&self) -> bool {
        let s = &self.state;
        s.loading || s.syncing || s.selecting_provider || s.pricing || s.authorizing
    }

    /// The choices cannot change: a visit is being authorized, or the card is armed for it.
    pub fn locked(&self) -> bool {
        self.state.authorizing || self.state.visit.is_some()
    }

    /// Whether "pay with my card" can be asked: figures shown, nothing under way, no visit.
    pub fn can_authorize(&self) -> bool {
        self.state.preview.is_some() && !self.busy() && self.state.visit.is_none()
    }

    /// Whether "how much will I pay?" can be asked: every choice made and an amount typed.
    pub fn can_price(&self) -> bool {
        let s = &self.state;
        !self.busy()
            && s.beneficiary.is_some()
            && s.provider.is_some()
            && s.act.is_some()
            && !s.price.trim().is_empty()
            && s.preview.is_none()
    }

    fn next_token(&mut self) -> u64 {
        self.tokens += 1;
        self.tokens
    }

    fn clear_preview(&mut self) {
        self.state.preview = None;
        self.state.check = None;
        self.state.pricing = false;
        self.state.stale = None;
        self.pending = None;
    }

    fn clear_error(&mut self, field: VisitField) {
        if self.state.error.as_ref().is_some_and(|e| e.field == field) {
            self.state.error = None;
        }
    }

    fn show(&mut self, failure: Failure, field: VisitField) {
        self.state.error = Some(VisitError {
            field,
            message: failure.message,
            kind: failure.kind,
        });
    }

    fn search_effect(&mut self, debounce: bool) -> Effect {
        let token = self.next_token();
        self.search_token = Some(token);
        self.state.searching = true;
        self.clear_error(VisitField::Search);
        Effect::Search {
            token,
            query: self.state.query.trim().to_owned(),
            specialty: self.state.specialty.clone(),
            city: self.state.city.clone(),
            debounce,
        }
    }

    // Loading and sync

    /// The screen opened: read the data (syncing once if it was never downloaded) and list the
    /// recently used providers; with a provider code (a QR code or a link), select it too.
    /// A second call does nothing.
    pub fn start(&mut self, provider_code: Option<String>) -> Vec<Effect> {
        if self.started {
            return Vec::new();
        }
        self.started = true;
        self.state.loading = true;
        let mut effects = vec![Effect::Load {
            sync_if_missing: true,
        }];
        match provider_code {
            Some(code) => effects.push(self.select(code, false)),
            None => effects.push(self.search_effect(false)),
        }
        effects.push(Effect::FindArmedVisit);
        effects
    }

    /// Beneficiaries and acts read. Choices no longer listed are dropped; a single
    /// beneficiary is chosen at once.
    pub fn loaded(&mut self, beneficiaries: Vec<T::Beneficiary>, acts: Vec<T::Act>) {
        let s = &mut self.state;
        s.loading = false;
        s.needs_sync = false;
        if let Some(chosen) = &s.beneficiary {
            let id = T::beneficiary_id(chosen);
            s.beneficiary = beneficiaries
                .iter()
                .find(|b| T::beneficiary_id(b) == id)
                .cloned();
        }
        if s.beneficiary.is_none() && beneficiaries.len() == 1 {
            s.beneficiary = beneficiaries.first().cloned();
        }
        s.beneficiaries = beneficiaries;
        if s.error
            .as_ref()
            .is_some_and(|e| e.kind == FailureKind::NotSynced)
        {
            s.error = None;
        }
        self.acts_loaded(acts);
    }

    /// Acts in force on the (new) date: a chosen act no longer in force is dropped.
    pub fn acts_loaded(&mut self, acts: Vec<T::Act>) {
        let chosen = self.state.act.as_ref().map(|a| T::act_code(a).to_owned());
        self.state.act =
            chosen.and_then(|code| acts.iter().find(|a| T::act_code(a) == code).cloned());
        if self.state.act.is_none() && self.state.preview.is_some() {
            self.clear_preview();
        }
        self.state.acts = acts;
    }

    /// Reading failed (or syncing, before reading): a banner; never synced says so.
    pub fn failed(&mut self, failure: Failure) {
        self.state.loading = false;
        self.state.syncing = false;
        if failure.kind == FailureKind::NotSynced {
            self.state.needs_sync = true;
        }
        let field = field_for(&failure, VisitField::Form);
        self.show(failure, field);
    }

    /// Download what changed, read again, and price again when figures were shown.
    pub fn sync(&mut self) -> Vec<Effect> {
        if self.state.syncing {
            return Vec::new();
        }
        self.state.syncing = true;
        self.clear_error(VisitField::Form);
        vec![Effect::Sync {
            reprice: self.state.preview.is_some() && !self.locked(),
        }]
    }

    /// The sync finished: read again (then price again when asked).
    pub fn synced(&mut self, reprice: bool) -> Vec<Effect> {
        self.state.syncing = false;
        self.state.needs_sync = false;
        if reprice {
            self.clear_preview();
        }
        vec![Effect::Load {
            sync_if_missing: false,
        }]
    }

    /// After a sync and the reading that follows it, price again (the sync asked so).
    pub fn reprice(&mut self) -> Vec<Effect> {
        self.price()
    }

    // Choices

    /// Who the visit is for.
    pub fn choose_beneficiary(&mut self, id: &str) {
        if self.locked() {
            return;
        }
        let Some(found) = self
            .state
            .beneficiaries
            .iter()
            .find(|b| T::beneficiary_id(b) == id)
            .cloned()
        else {
            return;
        };
        if self.state.beneficiary.as_ref() != Some(&found) {
            self.clear_preview();
        }
        self.state.beneficiary = Some(found);
        self.clear_error(VisitField::Beneficiary);
    }

    /// The search text changed: search again (debounced).
    pub fn edit_query(&mut self, query: String) -> Vec<Effect> {
        self.state.query = query;
        vec![self.search_effect(true)]
    }

    /// The specialty and city filters (blank for any): search again.
    pub fn filter(&mut self, specialty: Option<String>, city: Option<String>) -> Vec<Effect> {
        self.state.specialty = blank_to_none(specialty);
        self.state.city = blank_to_none(city);
        vec![self.search_effect(false)]
    }

    /// Search `token` answered; dropped when a newer search started since.
    pub fn search_done(&mut self, token: u64, providers: Vec<T::Provider>, offline: bool) {
        if self.search_token != Some(token) {
            return;
        }
        self.search_token = None;
        self.state.searching = false;
        self.state.results = providers;
        self.state.results_offline = offline;
    }

    /// Search `token` failed; dropped when a newer search started since.
    pub fn search_failed(&mut self, token: u64, failure: Failure) {
        if self.search_token != Some(token) {
            return;
        }
        self.search_token = None;
        self.state.searching = false;
        let field = field_for(&failure, VisitField::Search);
        self.show(failure, field);
    }

    /// Select a provider: a result tapped (its id), a code typed or from a link, or the text
    /// the camera read (`scanned`), as it is: the core decides what it is.
    pub fn select(&mut self, key: String, scanned: bool) -> Effect {
        let token = self.next_token();
        self.select_token = Some(token);
        self.state.selecting_provider = true;
        self.clear_error(VisitField::Provider);
        self.clear_error(VisitField::Scan);
        Effect::Select {
            token,
            key,
            scanned,
        }
    }

    /// Selection `token` answered; dropped when another selection started since.
    pub fn selected(&mut self, token: u64, provider: T::Provider) {
        if self.select_token != Some(token) {
            return;
        }
        self.select_token = None;
        self.state.selecting_provider = false;
        if self.locked() {
            return;
        }
        if self.state.provider.as_ref() != Some(&provider) {
            self.clear_preview();
        }
        self.state.provider = Some(provider);
    }

    /// Selection `token` failed: by the scan button when scanned (where the member looks).
    pub fn select_failed(&mut self, token: u64, failure: Failure, scanned: bool) {
        if self.select_token != Some(token) {
            return;
        }
        self.select_token = None;
        self.state.selecting_provider = false;
        let field = if scanned {
            VisitField::Scan
        } else {
            field_for(&failure, VisitField::Provider)
        };
        self.show(failure, field);
    }

    /// The act.
    pub fn choose_act(&mut self, code: &str) {
        if self.locked() {
            return;
        }
        let Some(found) = self
            .state
            .acts
            .iter()
            .find(|a| T::act_code(a).eq_ignore_ascii_case(code))
            .cloned()
        else {
            return;
        };
        if self.state.act.as_ref() != Some(&found) {
            self.clear_preview();
        }
        self.state.act = Some(found);
        self.clear_error(VisitField::Act);
    }

    /// The amount as typed.
    pub fn edit_price(&mut self, price: String) {
        if self.locked() {
            return;
        }
        if price != self.state.price {
            self.clear_preview();
        }
        self.state.price = price;
        self.clear_error(VisitField::Price);
    }

    /// The care date (`None`: today): the acts in force that day are read again.
    pub fn edit_date(&mut self, date: Option<String>) -> Vec<Effect> {
        let date = blank_to_none(date);
        if date == self.state.date || self.locked() {
            return Vec::new();
        }
        self.clear_preview();
        self.state.date = date.clone();
        self.clear_error(VisitField::Date);
        vec![Effect::LoadActs { date }]
    }

    /// Back to choosing who the visit is for; the other choices stay.
    pub fn change_beneficiary(&mut self) {
        if self.locked() {
            return;
        }
        self.state.beneficiary = None;
        self.clear_preview();
    }

    /// Back to finding a provider (listing again); the other choices stay.
    pub fn change_provider(&mut self) -> Vec<Effect> {
        if self.locked() {
            return Vec::new();
        }
        self.state.provider = None;
        self.select_token = None;
        self.state.selecting_provider = false;
        self.clear_preview();
        vec![self.search_effect(false)]
    }

    /// Back to choosing the act; the other choices stay.
    pub fn change_act(&mut self) {
        if self.locked() {
            return;
        }
        self.state.act = None;
        self.clear_preview();
    }

    /// Back from the figures to the amount.
    pub fn change_amount(&mut self) {
        if !self.locked() {
            self.clear_preview();
        }
    }

    /// One step back: the latest choice is cleared.
    pub fn back(&mut self) {
        if self.state.authorizing {
            return;
        }
        match self.step() {
            VisitStep::Armed => return,
            // The ended visit is put away; the figures it was for go too.
            VisitStep::Finished => {
                self.state.visit = None;
                self.clear_preview();
            }
            VisitStep::Loading | VisitStep::Beneficiary => {}
            VisitStep::Provider => self.state.beneficiary = None,
            VisitStep::Act => self.state.provider = None,
            VisitStep::Amount => self.state.act = None,
            VisitStep::Result => self.clear_preview(),
        }
        self.state.error = None;
    }

    /// Another visit: every choice cleared but the date; the lists stay.
    pub fn new_visit(&mut self) -> Vec<Effect> {
        if self.state.authorizing
            || self
                .state
                .visit
                .as_ref()
                .is_some_and(|v| is_active(v.status))
        {
            return Vec::new();
        }
        let mut fresh = Self::new();
        fresh.started = true;
        fresh.tokens = self.tokens;
        fresh.state.loading = self.state.loading;
        fresh.state.needs_sync = self.state.needs_sync;
        fresh.state.date = self.state.date.take();
        fresh.state.acts = std::mem::take(&mut self.state.acts);
        let beneficiaries = std::mem::take(&mut self.state.beneficiaries);
        if beneficiaries.len() == 1 {
            fresh.state.beneficiary = beneficiaries.first().cloned();
        }
        fresh.state.beneficiaries = beneficiaries;
        *self = fresh;
        vec![self.search_effect(false)]
    }

    /// The error was read.
    pub fn dismiss_error(&mut self) {
        self.state.error = None;
    }

    // Pricing and the server's check

    fn pricing_request(&self) -> Option<PricingRequest> {
        let s = &self.state;
        Some(PricingRequest {
            beneficiary_id: T::beneficiary_id(s.beneficiary.as_ref()?).to_owned(),
            provider_id: T::provider_id(s.provider.as_ref()?).to_owned(),
            act_code: T::act_code(s.act.as_ref()?).to_owned(),
            price: s.price.trim().to_owned(),
            date: s.date.clone(),
        })
    }

    /// "How much will I pay?": price on the phone (nothing when it cannot start).
    pub fn price(&mut self) -> Vec<Effect> {
        if !self.can_price() {
            return Vec::new();
        }
        let Some(request) = self.pricing_request() else {
            return Vec::new();
        };
        self.state.pricing = true;
        if self
            .state
            .error
            .as_ref()
            .is_some_and(|e| matches!(e.field, VisitField::Form | VisitField::Price))
        {
            self.state.error = None;
        }
        self.pending = Some(request.clone());
        vec![Effect::Price(request)]
    }

    /// The figures for `request`: shown, and the server asked. Dropped when the member changed
    /// a choice meanwhile.
    pub fn priced(&mut self, request: &PricingRequest, preview: T::Preview) -> Vec<Effect> {
        if self.pending.as_ref() != Some(request) {
            return Vec::new();
        }
        self.pending = None;
        self.state.pricing = false;
        let preview_id = T::preview_id(&preview).to_owned();
        self.state.preview = Some(preview);
        self.state.check = Some(ServerCheck::Checking);
        self.state.error = None;
        vec![Effect::Check { preview_id }]
    }

    /// Pricing refused: the choice at fault is cleared (the screen goes back to it with the
    /// error beside it); the amount stays as typed, to be corrected.
    pub fn pricing_failed(&mut self, request: &PricingRequest, failure: Failure) {
        if self.pending.as_ref() != Some(request) {
            return;
        }
        self.pending = None;
        self.state.pricing = false;
        if failure.kind == FailureKind::NotSynced {
            self.state.needs_sync = true;
        }
        let field = field_for(&failure, VisitField::Form);
        match field {
            VisitField::Beneficiary => self.state.beneficiary = None,
            VisitField::Provider => self.state.provider = None,
            VisitField::Act => self.state.act = None,
            _ => {}
        }
        self.show(failure, field);
    }

    /// Ask the server again about the figures shown (after it could not be reached).
    pub fn recheck(&mut self) -> Vec<Effect> {
        let Some(preview) = &self.state.preview else {
            return Vec::new();
        };
        if self.state.check == Some(ServerCheck::Checking) {
            return Vec::new();
        }
        let preview_id = T::preview_id(preview).to_owned();
        self.state.check = Some(ServerCheck::Checking);
        vec![Effect::Check { preview_id }]
    }

    fn shows(&self, preview_id: &str) -> bool {
        self.state
            .preview
            .as_ref()
            .is_some_and(|p| T::preview_id(p) == preview_id)
    }

    /// The server's answer about `preview_id`; dropped when other figures show now.
    pub fn checked(&mut self, preview_id: &str, answer: T::Check) {
        if !self.shows(preview_id) {
            return;
        }
        let (holds, server_preview_id) = T::check_holds(&answer);
        self.state.check = Some(if holds {
            ServerCheck::Confirmed { server_preview_id }
        } else {
            ServerCheck::Changed(answer)
        });
    }

    /// The server could not say; the phone's figures stand.
    pub fn check_failed(&mut self, preview_id: &str, failure: Failure) {
        if !self.shows(preview_id) {
            return;
        }
        self.state.check = Some(ServerCheck::Unavailable {
            message: failure.message,
            kind: failure.kind,
        });
    }
    // Paying

    /// "Pay with my card": arm the card for the figures shown, or for the server's figures
    /// after a stale answer (nothing when it cannot start).
    pub fn authorize(&mut self) -> Vec<Effect> {
        if !self.can_authorize() {
            return Vec::new();
        }
        let (Some(request), Some(preview)) = (self.pricing_request(), &self.state.preview) else {
            return Vec::new();
        };
        let preview_id = T::preview_id(preview).to_owned();
        self.state.authorizing = true;
        if self
            .state
            .error
            .as_ref()
            .is_some_and(|e| matches!(e.field, VisitField::Form | VisitField::PaymentMethod))
        {
            self.state.error = None;
        }
        vec![Effect::Authorize {
            request,
            preview_id,
            quote: self.state.stale.clone(),
        }]
    }

    /// The server armed the card: the visit shows, with its countdown.
    pub fn authorized(&mut self, visit: Visit) {
        self.state.authorizing = false;
        self.state.stale = None;
        self.state.error = None;
        self.state.visit = Some(visit);
    }

    /// The server did not arm the card: its figures for a stale preview (authorize again to
    /// accept them), a decline on the card's field, other errors on theirs.
    pub fn authorize_failed(&mut self, failure: AuthorizeFailure) {
        self.state.authorizing = false;
        match failure {
            AuthorizeFailure::Stale(quote) => {
                self.state.stale = Some(quote);
                self.state.error = None;
            }
            AuthorizeFailure::Declined { message, .. } => {
                self.state.error = Some(VisitError {
                    field: VisitField::PaymentMethod,
                    message,
                    kind: FailureKind::Rejected,
                });
            }
            AuthorizeFailure::Failed(failure) => {
                // Figures that changed under the member are priced again, not paid.
                if failure.field.as_deref() == Some("preview_id") {
                    self.clear_preview();
                }
                let field = field_for(&failure, VisitField::Form);
                self.show(failure, field);
            }
        }
    }

    /// A visit the card is still armed for, found when the screen opened (the app was
    /// restarted while it was armed): shown as if just authorized, unless one already is.
    pub fn armed_found(&mut self, visit: Visit) {
        if self.state.visit.is_none() && !self.state.authorizing && is_active(visit.status) {
            self.state.visit = Some(visit);
        }
    }

    fn visit_id(&self) -> Option<String> {
        self.state.visit.as_ref().map(|v| v.id.clone())
    }

    /// Read the visit again (the countdown ended, the terminal was tapped, a push arrived).
    pub fn refresh(&mut self) -> Vec<Effect> {
        match self.visit_id() {
            Some(visit_id) if !self.state.refreshing => {
                self.state.refreshing = true;
                vec![Effect::RefreshVisit { visit_id }]
            }
            _ => Vec::new(),
        }
    }

    /// Cancel the armed visit (nothing once it was tapped or ended).
    pub fn cancel(&mut self) -> Vec<Effect> {
        let armed = self
            .state
            .visit
            .as_ref()
            .is_some_and(|v| v.status == VisitStatus::Armed);
        match self.visit_id() {
            Some(visit_id) if armed && !self.state.canceling => {
                self.state.canceling = true;
                vec![Effect::CancelVisit { visit_id }]
            }
            _ => Vec::new(),
        }
    }

    /// The visit as the server describes it now (a refresh's or a cancel's answer); dropped
    /// when another visit shows.
    pub fn visit_updated(&mut self, visit: Visit) {
        if self.visit_id().as_deref() != Some(visit.id.as_str()) {
            return;
        }
        self.state.refreshing = false;
        self.state.canceling = false;
        self.clear_error(VisitField::Form);
        self.state.visit = Some(visit);
    }

    /// Reading or cancelling `visit_id` failed: a banner; the visit stays as it was.
    pub fn visit_failed(&mut self, visit_id: &str, failure: Failure) {
        if self.visit_id().as_deref() != Some(visit_id) {
            return;
        }
        self.state.refreshing = false;
        self.state.canceling = false;
        self.show(failure, VisitField::Form);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Plain;

    impl VisitTypes for Plain {
        type Beneficiary = String;
        type Provider = String;
        type Act = String;
        type Preview = String;
        type Check = (bool, String);
        fn beneficiary_id(b: &String) -> &str {
            b
        }
        fn provider_id(p: &String) -> &str {
            p
        }
        fn act_code(a: &String) -> &str {
            a
        }
        fn preview_id(p: &String) -> &str {
            p
        }
        fn check_holds(c: &(bool, String)) -> (bool, String) {
            c.clone()
        }
    }

    type M = VisitMachine<Plain>;

    fn s(v: &str) -> String {
        v.to_owned()
    }

    fn invalid(field: &str) -> Failure {
        Failure {
            kind: FailureKind::InvalidInput,
            field: Some(field.to_owned()),
            message: format!("{field} is wrong"),
            code: None,
        }
    }

    fn offline() -> Failure {
        Failure {
            kind: FailureKind::Network,
            field: None,
            message: "offline".into(),
            code: None,
        }
    }

    /// Loaded with two beneficiaries and acts G and C.
    fn loaded() -> M {
        let mut m = M::new();
        m.start(None);
        m.loaded(vec![s("ben_1"), s("ben_2")], vec![s("G"), s("C")]);
        m
    }

    /// Every choice made and an amount typed.
    fn ready() -> M {
        let mut m = loaded();
        m.choose_beneficiary("ben_1");
        let Effect::Select { token, .. } = m.select(s("prv_1"), false) else {
            unreachable!()
        };
        m.selected(token, s("prv_1"));
        m.choose_act("G");
        m.edit_price(s("30"));
        m
    }

    fn priced(m: &mut M) -> PricingRequest {
        let Some(Effect::Price(request)) = m.price().pop() else {
            panic!("no pricing")
        };
        assert_eq!(
            m.priced(&request, s("pv_1")),
            vec![Effect::Check {
                preview_id: s("pv_1")
            }]
        );
        request
    }

    #[test]
    fn the_step_is_the_first_thing_still_missing() {
        let mut m = M::new();
        assert_eq!(m.step(), VisitStep::Loading);
        let effects = m.start(None);
        assert!(matches!(
            effects[0],
            Effect::Load {
                sync_if_missing: true
            }
        ));
        assert!(matches!(
            effects[1],
            Effect::Search {
                debounce: false,
                ..
            }
        ));
        assert!(m.start(None).is_empty(), "a second start does nothing");
        m.loaded(vec![s("ben_1"), s("ben_2")], vec![s("G")]);
        assert_eq!(m.step(), VisitStep::Beneficiary);
        m.choose_beneficiary("ben_2");
        assert_eq!(m.step(), VisitStep::Provider);
        let Effect::Select { token, .. } = m.select(s("prv_1"), false) else {
            unreachable!()
        };
        assert!(m.busy());
        m.selected(token, s("prv_1"));
        assert_eq!(m.step(), VisitStep::Act);
        m.choose_act("g");
        assert_eq!(m.step(), VisitStep::Amount);
        assert!(!m.can_price(), "no amount yet");
        m.edit_price(s(" 30 "));
        assert!(m.can_price());
        priced(&mut m);
        assert_eq!(m.step(), VisitStep::Result);
        assert_eq!(m.state().check, Some(ServerCheck::Checking));
        m.checked("pv_1", (true, s("pv_srv")));
        assert_eq!(
            m.state().check,
            Some(ServerCheck::Confirmed {
                server_preview_id: s("pv_srv")
            })
        );
    }

    #[test]
    fn a_single_beneficiary_is_chosen_at_once_and_a_link_selects_its_provider() {
        let mut m = M::new();
        let effects = m.start(Some(s("K7M2QX")));
        assert!(
            matches!(&effects[1], Effect::Select { key, scanned: false, .. } if key == "K7M2QX")
        );
        m.loaded(vec![s("ben_1")], vec![s("G")]);
        assert_eq!(m.state().beneficiary, Some(s("ben_1")));
        assert_eq!(m.step(), VisitStep::Provider);
    }

    #[test]
    fn changing_a_choice_drops_the_figures_and_goes_back_to_it() {
        let mut m = ready();
        priced(&mut m);
        m.edit_price(s("35"));
        assert_eq!(
            (m.state().preview.clone(), m.step()),
            (None, VisitStep::Amount)
        );
        priced(&mut m);
        m.change_act();
        assert_eq!(m.step(), VisitStep::Act);
        assert_eq!(m.state().price, "35", "the other choices stay");
        m.choose_act("C");
        priced(&mut m);
        let effects = m.change_provider();
        assert!(matches!(effects[0], Effect::Search { .. }));
        assert_eq!(m.step(), VisitStep::Provider);
        m.change_beneficiary();
        assert_eq!(m.step(), VisitStep::Beneficiary);
    }

    #[test]
    fn answers_the_member_overtook_are_dropped() {
        let mut m = ready();
        let Some(Effect::Price(old)) = m.price().pop() else {
            panic!()
        };
        m.edit_price(s("40"));
        assert!(m.priced(&old, s("pv_old")).is_empty());
        assert_eq!(m.state().preview, None);
        m.pricing_failed(&old, invalid("price"));
        assert_eq!(m.state().error, None);

        let Effect::Search { token: first, .. } = m.edit_query(s("dup")).remove(0) else {
            panic!()
        };
        let Effect::Search { token: second, .. } = m.edit_query(s("dupont")).remove(0) else {
            panic!()
        };
        m.search_done(first, vec![s("prv_old")], false);
        assert!(m.state().results.is_empty() && m.state().searching);
        m.search_done(second, vec![s("prv_9")], true);
        assert_eq!(
            (m.state().results.clone(), m.state().results_offline),
            (vec![s("prv_9")], true)
        );
        m.search_failed(first, offline());
        assert_eq!(m.state().error, None);

        priced(&mut m);
        m.edit_price(s("50"));
        m.checked("pv_1", (true, s("pv_srv")));
        assert_eq!(m.state().check, None, "the figures it was about are gone");
    }

    #[test]
    fn pricing_errors_land_on_their_field_and_the_choice_at_fault_is_cleared() {
        for (field, step, visit_field) in [
            (
                "beneficiary_id",
                VisitStep::Beneficiary,
                VisitField::Beneficiary,
            ),
            ("provider_id", VisitStep::Provider, VisitField::Provider),
            ("act_code", VisitStep::Act, VisitField::Act),
            ("price", VisitStep::Amount, VisitField::Price),
            ("date", VisitStep::Amount, VisitField::Date),
        ] {
            let mut m = ready();
            let Some(Effect::Price(request)) = m.price().pop() else {
                panic!()
            };
            m.pricing_failed(&request, invalid(field));
            assert_eq!(m.step(), step, "{field}");
            assert_eq!(m.state().error.as_ref().map(|e| e.field), Some(visit_field));
            assert_eq!(m.state().price, "30", "the amount stays as typed");
        }
        let mut m = ready();
        let Some(Effect::Price(request)) = m.price().pop() else {
            panic!()
        };
        m.pricing_failed(
            &request,
            Failure {
                kind: FailureKind::NotSynced,
                field: None,
                message: s("sync"),
                code: None,
            },
        );
        assert!(m.state().needs_sync);
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(VisitField::Form)
        );
    }

    #[test]
    fn scan_errors_show_by_the_scan_button_and_search_errors_by_the_search() {
        let mut m = loaded();
        let Effect::Select { token, .. } = m.select(s("https://example.com"), true) else {
            panic!()
        };
        m.select_failed(token, invalid("scan"), true);
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(VisitField::Scan)
        );
        let Effect::Select { token, .. } = m.select(s("??"), false) else {
            panic!()
        };
        assert_eq!(m.state().error, None, "selecting again clears it");
        m.select_failed(token, invalid("provider"), false);
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(VisitField::Provider)
        );
        let Effect::Search { token, .. } = m.filter(Some(s(" ")), Some(s("Paris"))).remove(0)
        else {
            panic!()
        };
        assert_eq!(
            (m.state().specialty.clone(), m.state().city.clone()),
            (None, Some(s("Paris")))
        );
        m.search_failed(token, invalid("query"));
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(VisitField::Search)
        );
    }

    #[test]
    fn never_synced_asks_for_a_sync_and_a_sync_reprices() {
        let mut m = M::new();
        m.start(None);
        m.failed(Failure {
            kind: FailureKind::NotSynced,
            field: None,
            message: s("connect once"),
            code: None,
        });
        assert!(m.state().needs_sync && !m.state().loading);
        assert_eq!(m.sync(), vec![Effect::Sync { reprice: false }]);
        assert!(m.sync().is_empty(), "one sync at a time");
        assert_eq!(
            m.synced(false),
            vec![Effect::Load {
                sync_if_missing: false
            }]
        );
        m.loaded(vec![s("ben_1"), s("ben_2")], vec![s("G")]);
        assert_eq!(m.state().error, None);
        assert!(!m.state().needs_sync);

        let mut m = ready();
        priced(&mut m);
        m.checked("pv_1", (false, s("pv_srv")));
        assert_eq!(
            m.state().check,
            Some(ServerCheck::Changed((false, s("pv_srv"))))
        );
        assert_eq!(m.sync(), vec![Effect::Sync { reprice: true }]);
        m.synced(true);
        assert_eq!(m.state().preview, None);
        m.loaded(vec![s("ben_1"), s("ben_2")], vec![s("G"), s("C")]);
        assert!(matches!(m.reprice().pop(), Some(Effect::Price(_))));
    }

    #[test]
    fn offline_the_figures_stand_and_the_check_can_be_asked_again() {
        let mut m = ready();
        priced(&mut m);
        assert!(m.recheck().is_empty(), "already asking");
        m.check_failed("pv_1", offline());
        assert!(matches!(
            m.state().check,
            Some(ServerCheck::Unavailable { .. })
        ));
        assert_eq!(
            m.recheck(),
            vec![Effect::Check {
                preview_id: s("pv_1")
            }]
        );
        m.checked("pv_1", (true, s("pv_srv")));
        assert!(matches!(
            m.state().check,
            Some(ServerCheck::Confirmed { .. })
        ));
    }

    #[test]
    fn another_date_reads_the_acts_in_force_and_keeps_the_act_still_in_force() {
        let mut m = ready();
        assert_eq!(
            m.edit_date(Some(s("2026-01-05"))),
            vec![Effect::LoadActs {
                date: Some(s("2026-01-05"))
            }]
        );
        assert!(m.edit_date(Some(s("2026-01-05"))).is_empty(), "same date");
        m.acts_loaded(vec![s("G"), s("GMEG")]);
        assert_eq!(m.state().act, Some(s("G")));
        m.acts_loaded(vec![s("GMEG")]);
        assert_eq!(m.step(), VisitStep::Act);
    }

    #[test]
    fn back_goes_one_step_and_a_new_visit_keeps_the_lists_and_the_date() {
        let mut m = ready();
        m.edit_date(Some(s("2026-01-05")));
        priced(&mut m);
        m.back();
        assert_eq!(m.step(), VisitStep::Amount);
        m.back();
        assert_eq!(m.step(), VisitStep::Act);
        m.back();
        assert_eq!(m.step(), VisitStep::Provider);
        m.back();
        assert_eq!(m.step(), VisitStep::Beneficiary);
        m.back();
        assert_eq!(m.step(), VisitStep::Beneficiary);

        let mut m = ready();
        m.edit_date(Some(s("2026-01-05")));
        priced(&mut m);
        let effects = m.new_visit();
        assert!(matches!(effects[0], Effect::Search { .. }));
        assert_eq!(m.step(), VisitStep::Beneficiary);
        assert_eq!(m.state().beneficiaries.len(), 2);
        assert_eq!(m.state().acts, vec![s("G"), s("C")]);
        assert_eq!(m.state().date, Some(s("2026-01-05")));
        assert_eq!(m.state().price, "");
    }

    #[test]
    fn the_scanned_text_goes_to_the_core_as_it_is() {
        let mut m = loaded();
        let text = s("https://app.tierspay.fr/p/D3NT22");
        assert!(matches!(
            m.select(text.clone(), true),
            Effect::Select { key, scanned: true, .. } if key == text
        ));
        assert!(m.state().selecting_provider);
    }

    fn wire_visit(id: &str, status: VisitStatus) -> Visit {
        Visit {
            object: s("visit"),
            id: s(id),
            status,
            beneficiary_id: s("ben_1"),
            provider_id: s("prv_1"),
            provider_name: s("Dr Martin"),
            act_code: s("G"),
            date: s("2026-03-02"),
            currency: s("eur"),
            price: 3000,
            amo: 1900,
            amc: 900,
            member: 200,
            preview_id: s("pv_1"),
            payment_intent: None,
            authorization: None,
            created: 1_000,
            expires_at: 2_800,
            last_decline: None,
            settlement: None,
        }
    }

    fn quote() -> StalePreview {
        StalePreview {
            preview_id: s("pv_srv"),
            amo: 1900,
            amc: 700,
            member: 400,
        }
    }

    #[test]
    fn authorizing_arms_the_card_and_locks_the_choices_until_the_visit_ends() {
        let mut m = ready();
        assert!(m.authorize().is_empty(), "no figures yet");
        priced(&mut m);
        assert!(m.can_authorize());
        let effects = m.authorize();
        assert!(matches!(
            &effects[..],
            [Effect::Authorize { request, preview_id, quote: None }]
                if preview_id == "pv_1" && request.price == "30" && request.act_code == "G"
        ));
        assert!(m.busy() && m.locked() && !m.can_authorize());
        assert!(m.authorize().is_empty(), "one authorization at a time");
        m.edit_price(s("35"));
        m.change_act();
        assert!(m.new_visit().is_empty());
        assert_eq!(m.state().price, "30", "locked while authorizing");

        m.authorized(wire_visit("vis_1", VisitStatus::Armed));
        assert_eq!(m.step(), VisitStep::Armed);
        assert_eq!(m.state().visit.as_ref().map(|v| v.expires_at), Some(2_800));
        m.back();
        m.choose_beneficiary("ben_2");
        assert_eq!(
            m.step(),
            VisitStep::Armed,
            "armed: back and choices do nothing"
        );
        assert!(
            m.new_visit().is_empty(),
            "no other visit while the card is armed"
        );

        assert_eq!(
            m.refresh(),
            vec![Effect::RefreshVisit {
                visit_id: s("vis_1")
            }]
        );
        assert!(m.refresh().is_empty(), "one refresh at a time");
        m.visit_updated(wire_visit("vis_other", VisitStatus::Paid));
        assert_eq!(
            m.step(),
            VisitStep::Armed,
            "another visit's answer is dropped"
        );
        m.visit_updated(wire_visit("vis_1", VisitStatus::Authorized));
        assert_eq!(m.step(), VisitStep::Armed);
        assert!(m.cancel().is_empty(), "tapped: too late to cancel");
        m.refresh();
        m.visit_updated(wire_visit("vis_1", VisitStatus::Paid));
        assert_eq!(m.step(), VisitStep::Finished);
        assert!(!m.locked() || m.state().visit.is_some());
        assert!(!m.new_visit().is_empty(), "a paid visit lets another start");
        assert_eq!(m.step(), VisitStep::Beneficiary);
        assert_eq!(m.state().visit, None);
    }

    #[test]
    fn a_stale_preview_shows_the_servers_figures_and_authorizing_again_accepts_them() {
        let mut m = ready();
        priced(&mut m);
        m.authorize();
        m.authorize_failed(AuthorizeFailure::Stale(quote()));
        assert_eq!(m.state().stale, Some(quote()));
        assert_eq!(
            m.step(),
            VisitStep::Result,
            "the figures stay, beside the server's"
        );
        assert!(matches!(
            &m.authorize()[..],
            [Effect::Authorize { quote: Some(q), preview_id, .. }]
                if q.preview_id == "pv_srv" && preview_id == "pv_1"
        ));
        m.authorized(wire_visit("vis_2", VisitStatus::Armed));
        assert_eq!(m.state().stale, None);

        let mut m = ready();
        priced(&mut m);
        m.authorize();
        m.authorize_failed(AuthorizeFailure::Stale(quote()));
        m.edit_price(s("31"));
        assert_eq!(m.state().stale, None, "other figures: the server's go too");
    }

    #[test]
    fn a_declined_card_shows_on_the_card_and_other_refusals_on_their_field() {
        let mut m = ready();
        priced(&mut m);
        m.authorize();
        m.authorize_failed(AuthorizeFailure::Declined {
            message: s("Your card was declined: insufficient funds."),
            decline_code: s("insufficient_funds"),
        });
        let e = m.state().error.clone().unwrap();
        assert_eq!(
            (e.field, e.kind),
            (VisitField::PaymentMethod, FailureKind::Rejected)
        );
        assert!(m.can_authorize(), "try again once the card is fixed");
        m.authorize();
        assert_eq!(m.state().error, None, "asking again clears it");
        m.authorize_failed(AuthorizeFailure::Failed(invalid("preview_id")));
        assert_eq!(
            m.step(),
            VisitStep::Amount,
            "changed figures are priced again"
        );
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(VisitField::Form)
        );
        priced(&mut m);
        m.authorize();
        m.authorize_failed(AuthorizeFailure::Failed(offline()));
        assert_eq!(m.step(), VisitStep::Result);
        assert!(
            m.can_authorize(),
            "offline: the same figures can be sent again"
        );
    }

    #[test]
    fn cancelling_an_armed_visit_and_a_failed_refresh_keep_the_visit() {
        let mut m = ready();
        priced(&mut m);
        m.authorize();
        m.authorized(wire_visit("vis_1", VisitStatus::Armed));
        assert_eq!(
            m.cancel(),
            vec![Effect::CancelVisit {
                visit_id: s("vis_1")
            }]
        );
        assert!(m.cancel().is_empty());
        m.visit_failed("vis_1", offline());
        assert_eq!(m.step(), VisitStep::Armed);
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(VisitField::Form)
        );
        m.cancel();
        m.visit_updated(wire_visit("vis_1", VisitStatus::Canceled));
        assert_eq!(
            (m.step(), m.state().error.clone()),
            (VisitStep::Finished, None)
        );
        m.back();
        assert_eq!(
            m.step(),
            VisitStep::Amount,
            "back from an ended visit: price again"
        );
    }

    #[test]
    fn a_visit_still_armed_after_a_restart_shows_at_once() {
        let mut m = M::new();
        assert_eq!(m.start(None).last(), Some(&Effect::FindArmedVisit));
        m.armed_found(wire_visit("vis_9", VisitStatus::Paid));
        assert_eq!(m.state().visit, None, "only a visit the card still pays");
        m.armed_found(wire_visit("vis_9", VisitStatus::Armed));
        m.loaded(vec![s("ben_1")], vec![s("G")]);
        assert_eq!(m.step(), VisitStep::Armed);
        m.armed_found(wire_visit("vis_10", VisitStatus::Armed));
        assert_eq!(
            m.state().visit.as_ref().map(|v| v.id.as_str()),
            Some("vis_9")
        );
    }
}
