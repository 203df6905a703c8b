//! Behaviours the Kotlin view-state models (`VisitModel`, `EnrollmentModel`) tested with a fake
//! client before the flows moved into the core, kept here as pure machine tests so that deleting
//! those models lost none of them. The rest of their cases are in `visit.rs` and `enrollment.rs`.

use super::enrollment::{EnrollmentMachine, EnrollmentStep, EnrollmentTypes};
use super::visit::{Effect, VisitField, VisitMachine, VisitTypes};
use super::{Failure, FailureKind};

#[derive(Debug, Clone, PartialEq)]
struct PlainVisit;

impl VisitTypes for PlainVisit {
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

#[derive(Debug, Clone, PartialEq)]
struct PlainEnrollment;

impl EnrollmentTypes for PlainEnrollment {
    type Challenge = (String, u32);
    type Profile = String;
    fn enrollment_id(c: &(String, u32)) -> &str {
        &c.0
    }
    fn code_length(c: &(String, u32)) -> u32 {
        c.1
    }
}

type Visit = VisitMachine<PlainVisit>;
type Enrollment = EnrollmentMachine<PlainEnrollment>;

fn s(v: &str) -> String {
    v.to_owned()
}

fn failure(kind: FailureKind, field: Option<&str>) -> Failure {
    Failure {
        kind,
        field: field.map(s),
        message: s("refused"),
        code: None,
    }
}

/// Every choice made and an amount typed.
fn ready_visit() -> Visit {
    let mut m = Visit::new();
    m.start(None);
    m.loaded(vec![s("ben_1"), s("ben_2")], vec![s("G"), s("C")]);
    m.choose_beneficiary("ben_1");
    let Effect::Select { token, .. } = m.select(s("prv_1"), false) else {
        panic!("no selection")
    };
    m.selected(token, s("prv_1"));
    m.choose_act("G");
    m.edit_price(s("30"));
    m
}

#[test]
fn typed_search_text_waits_for_a_pause_and_a_filter_searches_at_once() {
    let mut m = Visit::new();
    m.start(None);
    m.loaded(vec![s("ben_1"), s("ben_2")], vec![s("G")]);
    assert!(matches!(
        m.edit_query(s("dub")).first(),
        Some(Effect::Search { debounce: true, query, .. }) if query == "dub"
    ));
    assert!(m.state().searching);
    assert!(matches!(
        m.filter(Some(s("Médecin généraliste")), None).first(),
        Some(Effect::Search {
            debounce: false,
            ..
        })
    ));
}

#[test]
fn an_amount_refused_is_shown_on_the_amount_and_editing_it_clears_the_error() {
    let mut m = ready_visit();
    let Some(Effect::Price(request)) = m.price().pop() else {
        panic!("no pricing")
    };
    m.pricing_failed(&request, failure(FailureKind::InvalidInput, Some("price")));
    assert_eq!(
        m.state().error.as_ref().map(|e| e.field),
        Some(VisitField::Price)
    );
    m.edit_price(s("30,50"));
    assert_eq!(m.state().error, None);
    assert!(m.can_price());
}

#[test]
fn a_first_sync_that_fails_is_offered_again() {
    let mut m = Visit::new();
    m.start(None);
    m.failed(failure(FailureKind::NotSynced, None));
    assert_eq!(m.sync(), vec![Effect::Sync { reprice: false }]);
    m.failed(failure(FailureKind::Network, None));
    assert!(m.state().needs_sync && !m.state().syncing);
    assert_eq!(
        m.state().error.as_ref().map(|e| e.field),
        Some(VisitField::Form)
    );
    assert_eq!(
        m.sync(),
        vec![Effect::Sync { reprice: false }],
        "the sync is offered again"
    );
}

#[test]
fn the_care_date_chosen_is_the_one_priced() {
    let mut m = ready_visit();
    m.edit_date(Some(s("2026-01-05")));
    m.acts_loaded(vec![s("G")]);
    let Some(Effect::Price(request)) = m.price().pop() else {
        panic!("no pricing")
    };
    assert_eq!(request.date.as_deref(), Some("2026-01-05"));
    assert_eq!(
        (
            request.beneficiary_id.as_str(),
            request.provider_id.as_str(),
            request.act_code.as_str()
        ),
        ("ben_1", "prv_1", "G")
    );
    let mut m = ready_visit();
    let Some(Effect::Price(request)) = m.price().pop() else {
        panic!("no pricing")
    };
    assert_eq!(request.date, None, "today in France, decided by the core");
}

#[test]
fn an_enrollment_answer_after_reset_is_dropped_and_prefill_leaves_an_enrollment_alone() {
    let mut m = Enrollment::new(Some(s("TP1000001")));
    m.edit_birth_date(s("1985-04-12"));
    let Some(super::enrollment::Effect::Start { request, .. }) = m.submit().pop() else {
        panic!("no start")
    };
    m.reset(None);
    m.challenge_received(request, (s("enr_1"), 6));
    assert_eq!(m.step(), EnrollmentStep::Details);
    assert_eq!(
        (m.state().contract_number.as_str(), m.state().busy),
        ("", false)
    );

    let mut m = Enrollment::new(Some(s("TP1000001")));
    m.edit_birth_date(s("1985-04-12"));
    let Some(super::enrollment::Effect::Start { request, .. }) = m.submit().pop() else {
        panic!("no start")
    };
    m.challenge_received(request, (s("enr_1"), 6));
    m.edit_code("123456");
    let Some(super::enrollment::Effect::Confirm { request, .. }) = m.submit().pop() else {
        panic!("no confirm")
    };
    m.enrolled(request, s("profile"));
    m.prefill(s("TP2000002"));
    assert_eq!(m.step(), EnrollmentStep::Enrolled);
    assert_eq!(m.state().contract_number, "TP1000001");
}
