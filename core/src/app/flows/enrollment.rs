//! The enrollment screens' state machine, pure: contract number and birth date → the code sent
//! by SMS → enrolled. Each intent changes the state and returns the [`Effect`] to run; each
//! answer comes back with the request it was for, so an answer the member overtook (back,
//! reset) is dropped. Errors land on the field they concern; a code the server will never
//! accept again (expired, too many attempts, already used) goes back to the first step.

pub use super::{Failure, FailureKind};
use crate::wire::ErrorCode;

/// The records the machine holds.
pub trait EnrollmentTypes {
    /// The code's challenge (where it went, how long it is).
    type Challenge: Clone + PartialEq + std::fmt::Debug;
    /// The profile once enrolled.
    type Profile: Clone + PartialEq + std::fmt::Debug;
    /// The enrollment's id, to confirm the code.
    fn enrollment_id(c: &Self::Challenge) -> &str;
    /// Digits in the code.
    fn code_length(c: &Self::Challenge) -> u32;
}

/// Where the member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EnrollmentStep {
    /// Contract number and the holder's birth date.
    Details,
    /// The code sent by SMS.
    Code,
    /// This device is enrolled.
    Enrolled,
}

/// Which part of the form an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum EnrollmentField {
    /// The contract number.
    ContractNumber,
    /// The birth date.
    BirthDate,
    /// The one-time code.
    Code,
    /// Not one field: a banner above the form.
    Form,
}

/// An error shown beside a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    /// Where it shows.
    pub field: EnrollmentField,
    /// What it says.
    pub message: String,
    /// What kind of failure.
    pub kind: FailureKind,
    /// The server's code, for a refusal.
    pub code: Option<ErrorCode>,
}

/// I/O the driver runs, then reports back with `request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send a code for this contract (a first time or again).
    Start {
        /// The request's token.
        request: u64,
        /// As typed, trimmed.
        contract_number: String,
        /// `YYYY-MM-DD`.
        birth_date: String,
    },
    /// Confirm the code.
    Confirm {
        /// The request's token.
        request: u64,
        /// The enrollment.
        enrollment_id: String,
        /// The digits typed.
        code: String,
    },
}

/// What the enrollment screens show.
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentState<T: EnrollmentTypes> {
    /// As typed.
    pub contract_number: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// Digits only, at most the code's length.
    pub code: String,
    /// The code's challenge, on the code step.
    pub challenge: Option<T::Challenge>,
    /// Once enrolled.
    pub profile: Option<T::Profile>,
    /// A request is under way: the form is disabled.
    pub busy: bool,
    /// The error shown, with its field.
    pub error: Option<FormError>,
}

/// The machine: the state and the request in flight.
#[derive(Debug, Clone)]
pub struct EnrollmentMachine<T: EnrollmentTypes> {
    state: EnrollmentState<T>,
    requests: u64,
    pending: Option<u64>,
}

fn field_for(failure: &Failure) -> EnrollmentField {
    match failure.field.as_deref() {
        Some("contract_number") => EnrollmentField::ContractNumber,
        Some("birth_date") => EnrollmentField::BirthDate,
        Some("code") => EnrollmentField::Code,
        _ if failure.code == Some(ErrorCode::CodeIncorrect) => EnrollmentField::Code,
        _ => EnrollmentField::Form,
    }
}

/// The server will not take another code for this enrollment: only a new start helps.
fn must_restart(failure: &Failure) -> bool {
    matches!(
        failure.code,
        Some(ErrorCode::CodeExpired | ErrorCode::TooManyAttempts | ErrorCode::EnrollmentUsed)
    )
}

impl<T: EnrollmentTypes> EnrollmentMachine<T> {
    /// The first step, pre-filled with a contract number from a link.
    pub fn new(contract_number: Option<String>) -> Self {
        Self {
            state: EnrollmentState {
                contract_number: contract_number.unwrap_or_default(),
                birth_date: String::new(),
                code: String::new(),
                challenge: None,
                profile: None,
                busy: false,
                error: None,
            },
            requests: 0,
            pending: None,
        }
    }

    /// The state as it stands.
    pub fn state(&self) -> &EnrollmentState<T> {
        &self.state
    }

    /// Where the member is.
    pub fn step(&self) -> EnrollmentStep {
        if self.state.profile.is_some() {
            EnrollmentStep::Enrolled
        } else if self.state.challenge.is_some() {
            EnrollmentStep::Code
        } else {
            EnrollmentStep::Details
        }
    }

    /// Whether the primary button is enabled (presence only: the core validates the contents
    /// and its errors come back under the right field).
    pub fn can_submit(&self) -> bool {
        let s = &self.state;
        !s.busy
            && match (&s.challenge, &s.profile) {
                (_, Some(_)) => false,
                (Some(c), None) => s.code.chars().count() == T::code_length(c) as usize,
                (None, None) => !s.contract_number.trim().is_empty() && !s.birth_date.is_empty(),
            }
    }

    fn clear_error(&mut self, field: EnrollmentField) {
        if self.state.error.as_ref().is_some_and(|e| e.field == field) {
            self.state.error = None;
        }
    }

    fn start_effect(&mut self) -> Effect {
        self.requests += 1;
        self.pending = Some(self.requests);
        self.state.busy = true;
        self.state.error = None;
        Effect::Start {
            request: self.requests,
            contract_number: self.state.contract_number.trim().to_owned(),
            birth_date: self.state.birth_date.trim().to_owned(),
        }
    }

    /// The contract number as typed (first step only, not while a request runs).
    pub fn edit_contract_number(&mut self, value: String) {
        if self.step() == EnrollmentStep::Details && !self.state.busy {
            self.state.contract_number = value;
            self.clear_error(EnrollmentField::ContractNumber);
        }
    }

    /// The birth date, `YYYY-MM-DD` (first step only).
    pub fn edit_birth_date(&mut self, value: String) {
        if self.step() == EnrollmentStep::Details && !self.state.busy {
            self.state.birth_date = value;
            self.clear_error(EnrollmentField::BirthDate);
        }
    }

    /// The code: digits kept, at most the code's length.
    pub fn edit_code(&mut self, value: &str) {
        let Some(challenge) = &self.state.challenge else {
            return;
        };
        if self.state.busy || self.state.profile.is_some() {
            return;
        }
        let length = T::code_length(challenge) as usize;
        self.state.code = value
            .chars()
            .filter(char::is_ascii_digit)
            .take(length)
            .collect();
        self.clear_error(EnrollmentField::Code);
    }

    /// The primary button: send the code, or confirm it.
    pub fn submit(&mut self) -> Vec<Effect> {
        if !self.can_submit() {
            return Vec::new();
        }
        match &self.state.challenge {
            None => vec![self.start_effect()],
            Some(challenge) => {
                let enrollment_id = T::enrollment_id(challenge).to_owned();
                self.requests += 1;
                self.pending = Some(self.requests);
                self.state.busy = true;
                self.state.error = None;
                vec![Effect::Confirm {
                    request: self.requests,
                    enrollment_id,
                    code: self.state.code.clone(),
                }]
            }
        }
    }

    /// On the code step: a new code (the previous one stops working).
    pub fn resend(&mut self) -> Vec<Effect> {
        if self.step() != EnrollmentStep::Code || self.state.busy {
            return Vec::new();
        }
        vec![self.start_effect()]
    }

    /// Code step → first step, keeping what was typed; a request under way is forgotten.
    pub fn back(&mut self) {
        if self.step() == EnrollmentStep::Code {
            self.pending = None;
            self.state.busy = false;
            self.state.challenge = None;
            self.state.code.clear();
            self.state.error = None;
        }
    }

    /// A link carried a contract number: into the form (a new start when on the code step
    /// for another contract; nothing once enrolled).
    pub fn prefill(&mut self, contract_number: String) {
        match self.step() {
            EnrollmentStep::Details if !self.state.busy => {
                self.state.contract_number = contract_number;
                self.state.error = None;
            }
            EnrollmentStep::Code if self.state.contract_number != contract_number => {
                self.reset(Some(contract_number));
            }
            _ => {}
        }
    }

    /// Back to an empty first step (sign-out, a new member).
    pub fn reset(&mut self, contract_number: Option<String>) {
        let requests = self.requests;
        *self = Self::new(contract_number);
        self.requests = requests;
    }

    fn answer_for(&mut self, request: u64) -> bool {
        if self.pending != Some(request) {
            return false;
        }
        self.pending = None;
        self.state.busy = false;
        true
    }

    /// The code was sent: the code step (a resend keeps it, with an empty code).
    pub fn challenge_received(&mut self, request: u64, challenge: T::Challenge) {
        if self.answer_for(request) {
            self.state.challenge = Some(challenge);
            self.state.code.clear();
            self.state.error = None;
        }
    }

    /// The code was right: enrolled.
    pub fn enrolled(&mut self, request: u64, profile: T::Profile) {
        if self.answer_for(request) {
            self.state.profile = Some(profile);
            self.state.code.clear();
            self.state.error = None;
        }
    }

    /// A request failed: the error by its field. A wrong code is cleared; a code the server
    /// will not take any more sends the member back to the first step.
    pub fn failed(&mut self, request: u64, failure: Failure) {
        if !self.answer_for(request) {
            return;
        }
        let field = field_for(&failure);
        if self.state.challenge.is_some() {
            if must_restart(&failure) {
                self.state.challenge = None;
                self.state.code.clear();
            } else if failure.code == Some(ErrorCode::CodeIncorrect) {
                self.state.code.clear();
            }
        }
        self.state.error = Some(FormError {
            field: if must_restart(&failure) {
                EnrollmentField::Form
            } else {
                field
            },
            message: failure.message,
            kind: failure.kind,
            code: failure.code,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Plain;

    impl EnrollmentTypes for Plain {
        type Challenge = (String, u32);
        type Profile = String;
        fn enrollment_id(c: &(String, u32)) -> &str {
            &c.0
        }
        fn code_length(c: &(String, u32)) -> u32 {
            c.1
        }
    }

    type M = EnrollmentMachine<Plain>;

    fn refused(code: ErrorCode) -> Failure {
        Failure {
            kind: FailureKind::Rejected,
            field: None,
            message: code.to_string(),
            code: Some(code),
        }
    }

    fn request(effects: &[Effect]) -> u64 {
        match effects.first() {
            Some(Effect::Start { request, .. } | Effect::Confirm { request, .. }) => *request,
            None => panic!("no effect"),
        }
    }

    /// On the code step of enrollment `enr_1`, 6 digits.
    fn on_code_step() -> M {
        let mut m = M::new(Some("TP1000001".into()));
        m.edit_birth_date("1985-04-12".into());
        let r = request(&m.submit());
        m.challenge_received(r, ("enr_1".into(), 6));
        m
    }

    #[test]
    fn details_then_code_then_enrolled() {
        let mut m = M::new(None);
        assert!(!m.can_submit());
        m.edit_contract_number(" TP1000001 ".into());
        m.edit_birth_date("1985-04-12".into());
        let effects = m.submit();
        assert_eq!(
            effects,
            vec![Effect::Start {
                request: 1,
                contract_number: "TP1000001".into(),
                birth_date: "1985-04-12".into()
            }]
        );
        assert!(m.state().busy && !m.can_submit());
        assert!(m.submit().is_empty(), "one request at a time");
        m.challenge_received(1, ("enr_1".into(), 6));
        assert_eq!(m.step(), EnrollmentStep::Code);
        m.edit_code("12 34-5678");
        assert_eq!(m.state().code, "123456", "digits only, the code's length");
        let r = request(&m.submit());
        m.enrolled(r, "profile".into());
        assert_eq!(m.step(), EnrollmentStep::Enrolled);
        assert!(!m.can_submit());
    }

    #[test]
    fn errors_land_on_their_field() {
        let mut m = M::new(None);
        m.edit_contract_number("TP".into());
        m.edit_birth_date("1985-02-30".into());
        let r = request(&m.submit());
        m.failed(
            r,
            Failure {
                kind: FailureKind::InvalidInput,
                field: Some("birth_date".into()),
                message: "not a date".into(),
                code: None,
            },
        );
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(EnrollmentField::BirthDate)
        );
        m.edit_contract_number("TP1000001".into());
        assert!(m.state().error.is_some(), "another field's edit keeps it");
        m.edit_birth_date("1985-04-12".into());
        assert_eq!(m.state().error, None);
        let r = request(&m.submit());
        m.failed(r, refused(ErrorCode::EnrollmentNotMatched));
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(EnrollmentField::Form)
        );
    }

    #[test]
    fn a_wrong_code_is_cleared_and_a_dead_enrollment_starts_again() {
        let mut m = on_code_step();
        m.edit_code("111111");
        let r = request(&m.submit());
        m.failed(r, refused(ErrorCode::CodeIncorrect));
        assert_eq!(
            (m.step(), m.state().code.as_str()),
            (EnrollmentStep::Code, "")
        );
        assert_eq!(
            m.state().error.as_ref().map(|e| e.field),
            Some(EnrollmentField::Code)
        );
        for code in [
            ErrorCode::CodeExpired,
            ErrorCode::TooManyAttempts,
            ErrorCode::EnrollmentUsed,
        ] {
            let mut m = on_code_step();
            m.edit_code("222222");
            let r = request(&m.submit());
            m.failed(r, refused(code));
            assert_eq!(m.step(), EnrollmentStep::Details, "{code}");
            assert_eq!(m.state().birth_date, "1985-04-12", "what was typed stays");
            assert_eq!(
                m.state().error.as_ref().map(|e| e.field),
                Some(EnrollmentField::Form)
            );
        }
    }

    #[test]
    fn resend_back_prefill_and_stale_answers() {
        let mut m = on_code_step();
        m.edit_code("123");
        let r = request(&m.resend());
        m.challenge_received(r, ("enr_2".into(), 6));
        assert_eq!(
            (m.state().code.as_str(), m.state().challenge.clone()),
            ("", Some(("enr_2".into(), 6)))
        );

        let r = request(&m.resend());
        m.back();
        assert_eq!((m.step(), m.state().busy), (EnrollmentStep::Details, false));
        m.challenge_received(r, ("enr_3".into(), 6));
        assert_eq!(
            m.step(),
            EnrollmentStep::Details,
            "the answer came after back"
        );
        assert_eq!(m.state().contract_number, "TP1000001");

        m.prefill("TP1000002".into());
        assert_eq!(m.state().contract_number, "TP1000002");
        let mut m = on_code_step();
        m.prefill("TP1000001".into());
        assert_eq!(
            m.step(),
            EnrollmentStep::Code,
            "the same contract: nothing changes"
        );
        m.prefill("TP1000003".into());
        assert_eq!(
            (m.step(), m.state().contract_number.as_str()),
            (EnrollmentStep::Details, "TP1000003")
        );
    }

    #[test]
    fn both_fields_are_needed_and_rate_limits_or_network_stay_on_the_step() {
        let mut m = M::new(None);
        m.edit_contract_number("TP1000001".into());
        assert!(!m.can_submit(), "no birth date yet");
        let mut m = on_code_step();
        m.edit_code("123456");
        for kind in [FailureKind::Other, FailureKind::Network] {
            let r = request(&m.submit());
            m.failed(
                r,
                Failure {
                    kind,
                    field: None,
                    message: "try later".into(),
                    code: None,
                },
            );
            assert_eq!(m.step(), EnrollmentStep::Code, "{kind:?}");
            assert_eq!(m.state().code, "123456", "{kind:?}: the code stays");
            assert_eq!(
                m.state().error.as_ref().map(|e| (e.field, e.kind)),
                Some((EnrollmentField::Form, kind))
            );
        }
        let r = request(&m.submit());
        m.enrolled(r, "profile".into());
        assert!(m.submit().is_empty(), "nothing to submit once enrolled");
        m.edit_code("654321");
        assert_eq!(m.state().code, "", "nor to edit (enrolled cleared it)");
    }
}
