//! `VisitFlow`: the visit screen's state machine ([`crate::app::flows::visit`]) driven for a
//! shell. Intents change the state at once and notify the listener; the effects they return
//! (reading, searching, pricing, the server's check) run on the core's runtime and notify again
//! when they answer. Shells only draw the state and forward taps.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::runtime::CoreRuntime;
use super::{
    Act, CoreError, CoveragePreview, CoveredBeneficiary, Language, PreviewCheck, Provider,
};
use crate::app::flows::visit::{
    Effect, Failure, FailureKind, ServerCheck, VisitField, VisitMachine, VisitStep, VisitTypes,
};
use crate::app::Core;
use crate::domain::coverage as engine;
use crate::error::Error;

mod payment;
pub use payment::VisitPayment;

/// How long typed search text waits for the next keystroke.
const SEARCH_DEBOUNCE: Duration = Duration::from_millis(300);
/// Providers asked of the directory per search.
const SEARCH_LIMIT: usize = 20;

/// The facade's records in the machine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FfiVisit;

/// A preview as the flow shows it, in both languages: the language is not an input of the
/// figures, so a new reader's language redraws it without pricing (or asking the server) again.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExplainedPreview {
    fr: Explained,
    en: Explained,
}

/// A preview's record and its explanations, in one language.
#[derive(Debug, Clone, PartialEq)]
struct Explained {
    preview: CoveragePreview,
    explanations: Vec<String>,
}

impl ExplainedPreview {
    fn for_reader(&self, language: engine::Language) -> &Explained {
        match language {
            engine::Language::Fr => &self.fr,
            engine::Language::En => &self.en,
        }
    }
}

impl VisitTypes for FfiVisit {
    type Beneficiary = CoveredBeneficiary;
    type Provider = Provider;
    type Act = Act;
    type Preview = ExplainedPreview;
    type Check = PreviewCheck;
    fn beneficiary_id(b: &CoveredBeneficiary) -> &str {
        &b.id
    }
    fn provider_id(p: &Provider) -> &str {
        &p.id
    }
    fn act_code(a: &Act) -> &str {
        &a.code
    }
    fn preview_id(p: &ExplainedPreview) -> &str {
        &p.fr.preview.id
    }
    fn check_holds(c: &PreviewCheck) -> (bool, String) {
        (c.holds, c.server_preview_id.clone())
    }
}

/// The server's word on the figures shown.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
#[allow(clippy::large_enum_variant)] // a record across the FFI: uniffi has no boxes
pub enum VisitCheck {
    /// Asked; the phone's figures show meanwhile.
    Checking,
    /// The server computed the same figures.
    Confirmed {
        /// The server's preview id.
        server_preview_id: String,
    },
    /// The server's figures differ: `sync()` downloads what changed and prices again.
    Changed {
        /// The server's figures.
        check: PreviewCheck,
    },
    /// Not checked (offline, most often): the phone's figures stand; `recheck()` asks again.
    Unavailable {
        /// Why.
        message: String,
        /// What kind of failure.
        kind: FailureKind,
    },
}

/// An error shown beside the part of the form it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitFlowError {
    /// Where it shows.
    pub field: VisitField,
    /// What it says (no personal data).
    pub message: String,
    /// What kind of failure.
    pub kind: FailureKind,
}

/// What the visit screen draws.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitFlowState {
    /// Grows with every change: states can reach the listener from two threads at once, and a
    /// shell keeps the one with the highest revision.
    pub revision: u64,
    /// The first thing still missing.
    pub step: VisitStep,
    /// A request the form waits for is under way.
    pub busy: bool,
    /// "How much will I pay?" can be asked.
    pub can_price: bool,
    /// Reading the contract data.
    pub loading: bool,
    /// Never synced on this phone: offer `sync()`.
    pub needs_sync: bool,
    /// A sync is under way.
    pub syncing: bool,
    /// Who can be chosen.
    pub beneficiaries: Vec<CoveredBeneficiary>,
    /// Acts in force on `date`.
    pub acts: Vec<Act>,
    /// Who the visit is for.
    pub beneficiary: Option<CoveredBeneficiary>,
    /// The search as typed.
    pub query: String,
    /// Specialty filter.
    pub specialty: Option<String>,
    /// City filter.
    pub city: Option<String>,
    /// Recently used first, then the directory's matches.
    pub results: Vec<Provider>,
    /// The directory was unreachable: results are the recently used only.
    pub results_offline: bool,
    /// A search is under way.
    pub searching: bool,
    /// A provider is being selected.
    pub selecting_provider: bool,
    /// The provider.
    pub provider: Option<Provider>,
    /// The act.
    pub act: Option<Act>,
    /// The amount as typed.
    pub price: String,
    /// Care date `YYYY-MM-DD`; `None` for today in France.
    pub date: Option<String>,
    /// Pricing is under way.
    pub pricing: bool,
    /// The figures, priced on the phone, their text in the flow's language.
    pub preview: Option<CoveragePreview>,
    /// Why the figures come out so, sentence by sentence, in the flow's language (empty
    /// without a preview).
    pub explanations: Vec<String>,
    /// The server's word on them.
    pub check: Option<VisitCheck>,
    /// The error shown, with the field it belongs to.
    pub error: Option<VisitFlowError>,
    /// Paying with the card: authorize, the armed visit's countdown, the paid result.
    pub payment: VisitPayment,
}

/// Receives every new state of a visit flow. Shells wrap it as a `StateFlow` / `AsyncStream`.
#[uniffi::export(with_foreign)]
pub trait VisitListener: Send + Sync {
    /// Called on a core thread (or the caller's, for an intent) with the whole state.
    fn on_state(&self, state: VisitFlowState);
}

fn snapshot(
    m: &VisitMachine<FfiVisit>,
    revision: u64,
    language: engine::Language,
) -> VisitFlowState {
    let s = m.state().clone();
    let (preview, explanations) = s.preview.map_or((None, Vec::new()), |p| {
        let shown = p.for_reader(language);
        (Some(shown.preview.clone()), shown.explanations.clone())
    });
    VisitFlowState {
        revision,
        step: m.step(),
        busy: m.busy(),
        can_price: m.can_price(),
        payment: payment::state(m),
        loading: s.loading,
        needs_sync: s.needs_sync,
        syncing: s.syncing,
        beneficiaries: s.beneficiaries,
        acts: s.acts,
        beneficiary: s.beneficiary,
        query: s.query,
        specialty: s.specialty,
        city: s.city,
        results: s.results,
        results_offline: s.results_offline,
        searching: s.searching,
        selecting_provider: s.selecting_provider,
        provider: s.provider,
        act: s.act,
        price: s.price,
        date: s.date,
        pricing: s.pricing,
        preview,
        explanations,
        check: s.check.map(|c| match c {
            ServerCheck::Checking => VisitCheck::Checking,
            ServerCheck::Confirmed { server_preview_id } => {
                VisitCheck::Confirmed { server_preview_id }
            }
            ServerCheck::Changed(check) => VisitCheck::Changed { check },
            ServerCheck::Unavailable { message, kind } => VisitCheck::Unavailable { message, kind },
        }),
        error: s.error.map(|e| VisitFlowError {
            field: e.field,
            message: e.message,
            kind: e.kind,
        }),
    }
}

/// A core error as a flow's failure: what kind, the field, the message, the server's code.
pub(crate) fn failure(e: Error) -> Failure {
    let not_synced = matches!(e, Error::NotSynced);
    match CoreError::from(e) {
        CoreError::InvalidInput { field, detail } => Failure {
            kind: FailureKind::InvalidInput,
            field: Some(field),
            message: detail,
            code: None,
        },
        CoreError::Rejected { code, detail } => Failure {
            kind: FailureKind::Rejected,
            field: None,
            message: detail,
            code: Some(code),
        },
        CoreError::NotSynced { detail } => Failure {
            kind: FailureKind::NotSynced,
            field: None,
            message: detail,
            code: None,
        },
        CoreError::Network { detail } => Failure {
            kind: FailureKind::Network,
            field: None,
            message: format!("The server could not be reached ({detail}); nothing was lost."),
            code: None,
        },
        other => Failure {
            kind: if not_synced {
                FailureKind::NotSynced
            } else {
                FailureKind::Other
            },
            field: None,
            message: other.to_string(),
            code: None,
        },
    }
}

/// The visit at the provider's desk: beneficiary → provider (search, QR code or link) → act →
/// amount → figures priced on the phone → the server's word. Every decision is the core's.
#[derive(uniffi::Object)]
pub struct VisitFlow {
    core: Arc<Core>,
    runtime: Arc<CoreRuntime>,
    machine: Mutex<(VisitMachine<FfiVisit>, u64)>,
    listener: Arc<dyn VisitListener>,
    /// The reader's language: the figures' text and the explanations are priced in it.
    language: Mutex<engine::Language>,
}

impl VisitFlow {
    pub(crate) fn new(
        core: Arc<Core>,
        runtime: Arc<CoreRuntime>,
        listener: Arc<dyn VisitListener>,
    ) -> Arc<Self> {
        Arc::new(Self {
            core,
            runtime,
            machine: Mutex::new((VisitMachine::new(), 0)),
            listener,
            language: Mutex::new(engine::Language::default()),
        })
    }

    /// Changes the machine, tells the listener, runs the effects.
    fn apply(self: &Arc<Self>, change: impl FnOnce(&mut VisitMachine<FfiVisit>) -> Vec<Effect>) {
        let (effects, state) = {
            let Ok(mut guard) = self.machine.lock() else {
                return;
            };
            let (m, revision) = &mut *guard;
            let effects = change(m);
            *revision += 1;
            // Read under the machine's lock: a state drawn after `set_language` is in the new one.
            (effects, snapshot(m, *revision, self.language()))
        };
        self.listener.on_state(state);
        for effect in effects {
            let flow = self.clone();
            self.runtime.spawn(async move { flow.run(effect).await });
        }
    }

    fn language(&self) -> engine::Language {
        self.language.lock().map(|l| *l).unwrap_or_default()
    }

    fn date(&self) -> Option<String> {
        self.machine
            .lock()
            .ok()
            .and_then(|m| m.0.state().date.clone())
    }

    fn read(&self) -> crate::error::Result<(Vec<CoveredBeneficiary>, Vec<Act>)> {
        let beneficiaries = self.core.coverage_beneficiaries()?;
        let acts = self.core.acts_on(self.date().as_deref())?;
        Ok((
            beneficiaries.into_iter().map(Into::into).collect(),
            acts.into_iter().map(Into::into).collect(),
        ))
    }

    async fn load(self: &Arc<Self>, sync_if_missing: bool) {
        let mut answer = self.read();
        if sync_if_missing && matches!(answer, Err(Error::NotSynced)) {
            // Enrollment syncs, but that sync may have failed (the network dropped): try once.
            if self.core.sync_coverage(false).await.is_ok() {
                answer = self.read();
            }
        }
        self.apply(move |m| {
            match answer {
                Ok((beneficiaries, acts)) => m.loaded(beneficiaries, acts),
                Err(e) => m.failed(failure(e)),
            }
            Vec::new()
        });
    }

    async fn run(self: Arc<Self>, effect: Effect) {
        match effect {
            effect @ (Effect::Authorize { .. }
            | Effect::RefreshVisit { .. }
            | Effect::CancelVisit { .. }
            | Effect::FindArmedVisit) => self.run_payment(effect).await,
            Effect::Load { sync_if_missing } => self.load(sync_if_missing).await,
            Effect::LoadActs { date } => {
                let answer = self.core.acts_on(date.as_deref());
                self.apply(move |m| {
                    match answer {
                        Ok(acts) => m.acts_loaded(acts.into_iter().map(Into::into).collect()),
                        Err(e) => m.failed(failure(e)),
                    }
                    Vec::new()
                });
            }
            Effect::Search {
                token,
                query,
                specialty,
                city,
                debounce,
            } => {
                if debounce {
                    tokio::time::sleep(SEARCH_DEBOUNCE).await;
                }
                let current = self
                    .machine
                    .lock()
                    .is_ok_and(|m| m.0.search_in_flight() == Some(token));
                if !current {
                    return;
                }
                let answer = self
                    .core
                    .search_providers(&query, specialty.as_deref(), city.as_deref(), SEARCH_LIMIT)
                    .await;
                self.apply(move |m| {
                    match answer {
                        Ok(r) => m.search_done(
                            token,
                            r.providers.into_iter().map(Into::into).collect(),
                            r.offline,
                        ),
                        Err(e) => m.search_failed(token, failure(e)),
                    }
                    Vec::new()
                });
            }
            Effect::Select {
                token,
                key,
                scanned,
            } => {
                let answer = self.core.select_provider(&key).await;
                self.apply(move |m| {
                    match answer {
                        Ok(p) => m.selected(token, p.into()),
                        Err(e) => m.select_failed(token, failure(e), scanned),
                    }
                    Vec::new()
                });
            }
            Effect::Price(request) => {
                let answer = self
                    .core
                    .preview(
                        &request.beneficiary_id,
                        &request.provider_id,
                        &request.act_code,
                        &request.price,
                        request.date.as_deref(),
                    )
                    .and_then(|p| {
                        let id = p.preview.id.clone();
                        let fr = CoveragePreview::new(p, engine::Language::Fr);
                        let en = fr.in_language(engine::Language::En);
                        Ok(ExplainedPreview {
                            fr: Explained {
                                preview: fr,
                                explanations: self.core.explain(&id, engine::Language::Fr)?,
                            },
                            en: Explained {
                                preview: en,
                                explanations: self.core.explain(&id, engine::Language::En)?,
                            },
                        })
                    });
                self.apply(move |m| match answer {
                    Ok(p) => m.priced(&request, p),
                    Err(e) => {
                        m.pricing_failed(&request, failure(e));
                        Vec::new()
                    }
                });
            }
            Effect::Check { preview_id } => {
                let answer = self.core.check_preview(&preview_id).await;
                self.apply(move |m| {
                    match answer {
                        Ok(c) => m.checked(&preview_id, c.into()),
                        Err(e) => m.check_failed(&preview_id, failure(e)),
                    }
                    Vec::new()
                });
            }
            Effect::Sync { reprice } => match self.core.sync_coverage(false).await {
                Ok(_) => {
                    self.apply(|m| {
                        m.synced(reprice);
                        Vec::new()
                    });
                    self.load(false).await;
                    if reprice {
                        self.apply(|m| m.reprice());
                    }
                }
                Err(e) => self.apply(move |m| {
                    m.failed(failure(e));
                    Vec::new()
                }),
            },
        }
    }
}

#[uniffi::export]
impl VisitFlow {
    /// The state as it stands.
    pub fn state(&self) -> Option<VisitFlowState> {
        let language = self.language();
        self.machine
            .lock()
            .ok()
            .map(|m| snapshot(&m.0, m.1, language))
    }

    /// The screen opened: reads the data (downloading it once if it never was) and lists the
    /// recently used providers; with the code of a QR code or link, selects that provider.
    pub fn start(self: Arc<Self>, provider_code: Option<String>) {
        self.apply(|m| m.start(provider_code));
    }

    /// Who the visit is for.
    pub fn choose_beneficiary(self: Arc<Self>, beneficiary_id: String) {
        self.apply(|m| {
            m.choose_beneficiary(&beneficiary_id);
            Vec::new()
        });
    }

    /// The search text as typed (searched after a short pause).
    pub fn edit_query(self: Arc<Self>, query: String) {
        self.apply(|m| m.edit_query(query));
    }

    /// Specialty and city filters; blank or `None` for any.
    pub fn filter(self: Arc<Self>, specialty: Option<String>, city: Option<String>) {
        self.apply(|m| m.filter(specialty, city));
    }

    /// A search result tapped (its id), or a provider code typed or from a link.
    pub fn select_provider(self: Arc<Self>, id_or_code: String) {
        self.apply(|m| vec![m.select(id_or_code, false)]);
    }

    /// The text the camera read from a desk QR code, as it is.
    pub fn scanned(self: Arc<Self>, text: String) {
        self.apply(|m| vec![m.select(text, true)]);
    }

    /// The act.
    pub fn choose_act(self: Arc<Self>, code: String) {
        self.apply(|m| {
            m.choose_act(&code);
            Vec::new()
        });
    }

    /// The amount as typed (`30`, `30,50`).
    pub fn edit_price(self: Arc<Self>, price: String) {
        self.apply(|m| {
            m.edit_price(price);
            Vec::new()
        });
    }

    /// The care date `YYYY-MM-DD` (`None`: today); the acts in force then are read again.
    pub fn edit_date(self: Arc<Self>, date: Option<String>) {
        self.apply(|m| m.edit_date(date));
    }

    /// Back to choosing who the visit is for.
    pub fn change_beneficiary(self: Arc<Self>) {
        self.apply(|m| {
            m.change_beneficiary();
            Vec::new()
        });
    }

    /// Back to finding a provider.
    pub fn change_provider(self: Arc<Self>) {
        self.apply(|m| m.change_provider());
    }

    /// Back to choosing the act.
    pub fn change_act(self: Arc<Self>) {
        self.apply(|m| {
            m.change_act();
            Vec::new()
        });
    }

    /// Back from the figures to the amount.
    pub fn change_amount(self: Arc<Self>) {
        self.apply(|m| {
            m.change_amount();
            Vec::new()
        });
    }

    /// One step back.
    pub fn back(self: Arc<Self>) {
        self.apply(|m| {
            m.back();
            Vec::new()
        });
    }

    /// Another visit: the choices cleared, the lists and the date kept.
    pub fn new_visit(self: Arc<Self>) {
        self.apply(|m| m.new_visit());
    }

    /// "How much will I pay?": prices on the phone, then asks the server.
    pub fn price(self: Arc<Self>) {
        self.apply(|m| m.price());
    }

    /// Asks the server again about the figures shown.
    pub fn recheck(self: Arc<Self>) {
        self.apply(|m| m.recheck());
    }

    /// Downloads what changed, reads again, and prices again when figures were shown.
    pub fn sync(self: Arc<Self>) {
        self.apply(|m| m.sync());
    }

    /// The reader's language (French until told): the figures' text and the explanations
    /// follow it; figures already shown are drawn again in it, not priced again.
    pub fn set_language(self: Arc<Self>, language: Language) {
        let language = engine::Language::from(language);
        let changed = self
            .language
            .lock()
            .is_ok_and(|mut current| std::mem::replace(&mut *current, language) != language);
        if changed {
            self.apply(|_| Vec::new());
        }
    }

    /// The error was read.
    pub fn dismiss_error(self: Arc<Self>) {
        self.apply(|m| {
            m.dismiss_error();
            Vec::new()
        });
    }
}
