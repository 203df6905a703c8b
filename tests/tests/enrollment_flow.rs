//! The enrollment flow through the facade, against the mock: the state machine every shell
//! draws (contract and birth date → the code sent by SMS → enrolled).

use std::sync::{Arc, Mutex};

use tierspay_core::{
    EnrollmentField, EnrollmentFlow, EnrollmentFlowState, EnrollmentListener, EnrollmentStep,
    ErrorCode,
};
use tierspay_tests::{Mock, Phone, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

#[derive(Default)]
struct States(Mutex<Vec<EnrollmentFlowState>>);

impl EnrollmentListener for States {
    fn on_state(&self, state: EnrollmentFlowState) {
        self.0.lock().unwrap().push(state);
    }
}

async fn until(
    flow: &EnrollmentFlow,
    what: &str,
    done: impl Fn(&EnrollmentFlowState) -> bool,
) -> EnrollmentFlowState {
    tierspay_tests::wait_for(what, || flow.state().unwrap(), done).await
}

#[tokio::test(flavor = "multi_thread")]
async fn contract_then_code_then_enrolled_with_errors_on_their_field() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let states = Arc::new(States::default());
    let flow = phone
        .app
        .enrollment_flow(Some(DEMO_CONTRACT.into()), states.clone());

    // A date that does not exist: refused by the core, beside the birth date.
    flow.clone().edit_birth_date("1985-02-30".into());
    flow.clone().submit();
    let s = until(&flow, "refused", |s| !s.busy && s.error.is_some()).await;
    assert_eq!(s.error.map(|e| e.field), Some(EnrollmentField::BirthDate));

    flow.clone().edit_birth_date(DEMO_BIRTH_DATE.into());
    flow.clone().submit();
    let s = until(&flow, "code sent", |s| s.step == EnrollmentStep::Code).await;
    let length = s.challenge.unwrap().code_length as usize;
    let code = mock.latest_code(DEMO_PHONE).await;
    let wrong: String = code
        .chars()
        .map(|c| if c == '9' { '0' } else { '9' })
        .collect();
    flow.clone().edit_code(wrong);
    flow.clone().submit();
    let s = until(&flow, "wrong code", |s| !s.busy && s.error.is_some()).await;
    let error = s.error.unwrap();
    assert_eq!(
        (error.field, error.code, s.code.as_str()),
        (EnrollmentField::Code, Some(ErrorCode::CodeIncorrect), "")
    );

    flow.clone().edit_code(format!("{code}123"));
    assert_eq!(
        flow.state().unwrap().code.len(),
        length,
        "the code's length"
    );
    flow.clone().submit();
    let s = until(&flow, "enrolled", |s| s.step == EnrollmentStep::Enrolled).await;
    assert_eq!(s.profile.unwrap().member.first_name, "Camille");
    assert!(phone.app.status().unwrap().enrolled);
    assert!(states.0.lock().unwrap().len() >= 8);
}
