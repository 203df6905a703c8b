//! `EnrollmentFlow`: the enrollment screens' state machine ([`crate::app::flows::enrollment`])
//! driven for a shell, like `VisitFlow`: intents change the state at once, requests run on the
//! core's runtime, every state goes to the listener.

use std::sync::{Arc, Mutex};

use super::runtime::CoreRuntime;
use super::visit::failure;
use super::{EnrollmentChallenge, Profile};
use crate::app::flows::enrollment::{
    Effect, EnrollmentField, EnrollmentMachine, EnrollmentStep, EnrollmentTypes, FailureKind,
};
use crate::app::Core;
use crate::wire::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FfiEnrollment;

impl EnrollmentTypes for FfiEnrollment {
    type Challenge = EnrollmentChallenge;
    type Profile = Profile;
    fn enrollment_id(c: &EnrollmentChallenge) -> &str {
        &c.enrollment_id
    }
    fn code_length(c: &EnrollmentChallenge) -> u32 {
        c.code_length
    }
}

/// An error shown beside the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentFlowError {
    /// Where it shows.
    pub field: EnrollmentField,
    /// What it says (never whether the contract exists).
    pub message: String,
    /// What kind of failure.
    pub kind: FailureKind,
    /// The server's code, for a refusal.
    pub code: Option<ErrorCode>,
}

/// What the enrollment screens draw.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EnrollmentFlowState {
    /// Grows with every change; a shell keeps the highest.
    pub revision: u64,
    /// Where the member is.
    pub step: EnrollmentStep,
    /// The primary button is enabled.
    pub can_submit: bool,
    /// A request is under way.
    pub busy: bool,
    /// As typed.
    pub contract_number: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Digits typed.
    pub code: String,
    /// The code's challenge, on the code step.
    pub challenge: Option<EnrollmentChallenge>,
    /// Once enrolled.
    pub profile: Option<Profile>,
    /// The error shown.
    pub error: Option<EnrollmentFlowError>,
}

/// Receives every new state of an enrollment flow.
#[uniffi::export(with_foreign)]
pub trait EnrollmentListener: Send + Sync {
    /// Called on a core thread (or the caller's, for an intent) with the whole state.
    fn on_state(&self, state: EnrollmentFlowState);
}

fn snapshot(m: &EnrollmentMachine<FfiEnrollment>, revision: u64) -> EnrollmentFlowState {
    let s = m.state().clone();
    EnrollmentFlowState {
        revision,
        step: m.step(),
        can_submit: m.can_submit(),
        busy: s.busy,
        contract_number: s.contract_number,
        birth_date: s.birth_date,
        code: s.code,
        challenge: s.challenge,
        profile: s.profile,
        error: s.error.map(|e| EnrollmentFlowError {
            field: e.field,
            message: e.message,
            kind: e.kind,
            code: e.code,
        }),
    }
}

/// Enrollment: contract number and birth date → the code sent by SMS → enrolled.
#[derive(uniffi::Object)]
pub struct EnrollmentFlow {
    core: Arc<Core>,
    runtime: Arc<CoreRuntime>,
    machine: Mutex<(EnrollmentMachine<FfiEnrollment>, u64)>,
    listener: Arc<dyn EnrollmentListener>,
}

impl EnrollmentFlow {
    pub(crate) fn new(
        core: Arc<Core>,
        runtime: Arc<CoreRuntime>,
        contract_number: Option<String>,
        listener: Arc<dyn EnrollmentListener>,
    ) -> Arc<Self> {
        Arc::new(Self {
            core,
            runtime,
            machine: Mutex::new((EnrollmentMachine::new(contract_number), 0)),
            listener,
        })
    }

    fn apply(
        self: &Arc<Self>,
        change: impl FnOnce(&mut EnrollmentMachine<FfiEnrollment>) -> Vec<Effect>,
    ) {
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
            Effect::Start {
                request,
                contract_number,
                birth_date,
            } => {
                let answer = self
                    .core
                    .start_enrollment(&contract_number, &birth_date)
                    .await;
                self.apply(move |m| {
                    match answer {
                        Ok(c) => m.challenge_received(request, c.into()),
                        Err(e) => m.failed(request, failure(e)),
                    }
                    Vec::new()
                });
            }
            Effect::Confirm {
                request,
                enrollment_id,
                code,
            } => {
                let answer = self.core.confirm_enrollment(&enrollment_id, &code).await;
                self.apply(move |m| {
                    match answer {
                        Ok(p) => m.enrolled(request, p.into()),
                        Err(e) => m.failed(request, failure(e)),
                    }
                    Vec::new()
                });
            }
        }
    }

    fn change(self: Arc<Self>, f: impl FnOnce(&mut EnrollmentMachine<FfiEnrollment>)) {
        self.apply(|m| {
            f(m);
            Vec::new()
        });
    }
}

#[uniffi::export]
impl EnrollmentFlow {
    /// The state as it stands.
    pub fn state(&self) -> Option<EnrollmentFlowState> {
        self.machine.lock().ok().map(|m| snapshot(&m.0, m.1))
    }

    /// The contract number as typed.
    pub fn edit_contract_number(self: Arc<Self>, value: String) {
        self.change(|m| m.edit_contract_number(value));
    }

    /// The holder's birth date, `YYYY-MM-DD`.
    pub fn edit_birth_date(self: Arc<Self>, value: String) {
        self.change(|m| m.edit_birth_date(value));
    }

    /// The code as typed (digits kept).
    pub fn edit_code(self: Arc<Self>, value: String) {
        self.change(|m| m.edit_code(&value));
    }

    /// The primary button: send the code, or confirm it.
    pub fn submit(self: Arc<Self>) {
        self.apply(|m| m.submit());
    }

    /// A new code.
    pub fn resend(self: Arc<Self>) {
        self.apply(|m| m.resend());
    }

    /// Code step → first step, keeping what was typed.
    pub fn back(self: Arc<Self>) {
        self.change(|m| m.back());
    }

    /// A contract number from a link.
    pub fn prefill(self: Arc<Self>, contract_number: String) {
        self.change(|m| m.prefill(contract_number));
    }

    /// Back to an empty first step.
    pub fn reset(self: Arc<Self>, contract_number: Option<String>) {
        self.change(|m| m.reset(contract_number));
    }
}
