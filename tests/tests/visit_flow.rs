//! The visit flow through the facade, against the mock: the same state machine every shell
//! draws (beneficiary → provider → act → amount → figures → the server's word).

use std::sync::{Arc, Mutex};

use tierspay_core::{
    Language, VisitCheck, VisitField, VisitFlow, VisitFlowState, VisitListener, VisitStep,
};
use tierspay_tests::{Mock, Phone};

#[derive(Default)]
struct States(Mutex<Vec<VisitFlowState>>);

impl VisitListener for States {
    fn on_state(&self, state: VisitFlowState) {
        self.0.lock().unwrap().push(state);
    }
}

/// Waits until the flow's state satisfies `done` (every answer comes from the core's runtime).
async fn until(
    flow: &VisitFlow,
    what: &str,
    done: impl Fn(&VisitFlowState) -> bool,
) -> VisitFlowState {
    tierspay_tests::wait_for(what, || flow.state().unwrap(), done).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visit_from_the_beneficiary_to_the_servers_word() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let states = Arc::new(States::default());
    let flow = phone.app.visit_flow(states.clone());

    flow.clone().start(None);
    let s = until(&flow, "loaded", |s| !s.loading && !s.searching).await;
    assert_eq!((s.step, s.beneficiaries.len()), (VisitStep::Beneficiary, 4));
    let camille = s
        .beneficiaries
        .iter()
        .find(|b| b.first_name == "Camille")
        .unwrap();
    flow.clone().choose_beneficiary(camille.id.clone());
    assert_eq!(flow.state().unwrap().step, VisitStep::Provider);

    // A QR code of another site: the error shows by the scan button.
    flow.clone().scanned("https://example.com/p/K7M2QX".into());
    let s = until(&flow, "scan refused", |s| !s.selecting_provider).await;
    assert_eq!(s.error.map(|e| e.field), Some(VisitField::Scan));

    flow.clone()
        .filter(Some("Médecin généraliste".into()), Some("Paris".into()));
    let s = until(&flow, "searched", |s| !s.searching && !s.results.is_empty()).await;
    assert_eq!(
        s.error.map(|e| e.field),
        Some(VisitField::Scan),
        "a search leaves the scan's error"
    );
    let gp = s.results.iter().find(|p| p.sector == 1).unwrap().clone();
    flow.clone().select_provider(gp.id.clone());
    let s = until(&flow, "selected", |s| s.provider.is_some()).await;
    assert_eq!(
        (s.step, s.error),
        (VisitStep::Act, None),
        "selecting cleared it"
    );

    flow.clone().edit_date(Some("2026-03-02".into()));
    flow.clone().choose_act("G".into());
    let s = until(&flow, "act", |s| s.act.is_some()).await;
    assert_eq!(s.step, VisitStep::Amount);
    assert!(!s.can_price, "no amount yet");

    // A wrong amount stays on the amount, with the core's message.
    flow.clone().edit_price("trente".into());
    flow.clone().price();
    let s = until(&flow, "refused", |s| !s.pricing && s.error.is_some()).await;
    assert_eq!(
        (s.step, s.error.map(|e| e.field)),
        (VisitStep::Amount, Some(VisitField::Price))
    );

    flow.clone().edit_price("30".into());
    flow.clone().price();
    let s = until(&flow, "checked", |s| {
        s.check.is_some() && s.check != Some(VisitCheck::Checking)
    })
    .await;
    assert_eq!(s.step, VisitStep::Result);
    let p = s.preview.unwrap();
    assert_eq!(
        (p.amo.to_string(), p.amc.to_string(), p.member.to_string()),
        ("19.00".to_owned(), "9.00".to_owned(), "2.00".to_owned())
    );
    assert_eq!(p.member.display, "2,00\u{a0}€", "French until told");
    assert!(!s.explanations.is_empty());
    let french = s.explanations.clone();

    // The reader's language changes: the same figures, priced again in English.
    flow.clone().set_language(Language::En);
    let s = until(&flow, "in English", |s| {
        s.preview
            .as_ref()
            .is_some_and(|p| p.member.display == "€2.00")
            && s.check.is_some()
            && s.check != Some(VisitCheck::Checking)
    })
    .await;
    assert_eq!(s.preview.as_ref().unwrap().id, p.id, "same inputs, same id");
    assert_eq!(s.explanations.len(), french.len());
    assert_ne!(s.explanations, french);
    assert!(
        matches!(s.check, Some(VisitCheck::Confirmed { .. })),
        "{:?}",
        s.check
    );

    // Back, then another visit: the lists and the date stay, the choices go.
    flow.clone().back();
    assert_eq!(flow.state().unwrap().step, VisitStep::Amount);
    flow.clone().new_visit();
    let s = flow.state().unwrap();
    assert_eq!(
        (s.step, s.date.as_deref(), s.price.as_str()),
        (VisitStep::Beneficiary, Some("2026-03-02"), "")
    );
    assert!(
        states.0.lock().unwrap().len() > 10,
        "every change reached the listener"
    );
}
