//! The wallet flow through the facade, against the mock, with the shell's part played here:
//! Apple Pay with a simulated PassKit (sheet → certificates → the issuer's pass → added →
//! waiting for activation; backing out leaves the button), Google Pay (wallet read → the core's decision → push), refusals,
//! the member backing out, and freeze.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tierspay_core::{
    Availability, InWalletStatus, PassKitSimulator, TapAndPayToken, WalletFlow, WalletFlowState,
    WalletKind, WalletListener, WalletOutcome, WalletRequest, WalletResult, WalletStep,
};
use tierspay_tests::{Mock, Phone};

#[derive(Default)]
struct Shell {
    states: Mutex<Vec<WalletFlowState>>,
    requests: Mutex<Vec<WalletRequest>>,
}

impl WalletListener for Shell {
    fn on_state(&self, state: WalletFlowState) {
        self.states.lock().unwrap().push(state);
    }
    fn on_request(&self, request: WalletRequest) {
        self.requests.lock().unwrap().push(request);
    }
}

impl Shell {
    fn last_request(&self) -> Option<WalletRequest> {
        self.requests.lock().unwrap().last().cloned()
    }
}

async fn until(
    flow: &WalletFlow,
    what: &str,
    done: impl Fn(&WalletFlowState) -> bool,
) -> WalletFlowState {
    tierspay_tests::wait_for(what, || flow.state().unwrap(), done).await
}

async fn request_until(
    shell: &Shell,
    what: &str,
    done: impl Fn(&WalletRequest) -> bool,
) -> WalletRequest {
    for _ in 0..1000 {
        if let Some(r) = shell.last_request().filter(|r| done(r)) {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: {:?}", shell.last_request());
}

#[tokio::test(flavor = "multi_thread")]
async fn apple_pay_sheet_issuer_pass_added_then_waiting_for_activation() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let passkit = PassKitSimulator::new().unwrap();
    let shell = Arc::new(Shell::default());
    let flow = phone.app.wallet_flow(WalletKind::ApplePay, shell.clone());
    flow.clone().start();
    let s = until(&flow, "card read", |s| !s.loading && !s.refreshing).await;
    assert_eq!((s.availability, s.can_add), (Availability::Ready, true));

    // A chain the issuer does not trust: refused, the sheet closed, the button back.
    flow.clone().add();
    let Some(WalletRequest::PresentPassSheet { request, card }) = shell.last_request() else {
        panic!("{:?}", shell.last_request());
    };
    assert_eq!(card.last4, s.card.unwrap().last4);
    flow.clone().pass_requested(
        request,
        passkit.certificates(),
        passkit.nonce(),
        passkit.nonce_signature(),
    );
    let s = until(&flow, "refused", |s| !s.busy).await;
    let error = s.error.clone().expect("refused");
    assert!(!error.platform, "{error:?}");
    assert_eq!(
        shell.last_request(),
        Some(WalletRequest::CloseWallet { request })
    );
    assert!(s.can_add);

    mock.trust_apple_root(&passkit.root_certificate()).await;
    // The member backs out once the issuer made the pass (and its requested token): the button
    // comes back, and the next attempt reuses that token.
    flow.clone().add();
    let Some(WalletRequest::PresentPassSheet { request, .. }) = shell.last_request() else {
        panic!("{:?}", shell.last_request());
    };
    flow.clone().pass_requested(
        request,
        passkit.certificates(),
        passkit.nonce(),
        passkit.nonce_signature(),
    );
    request_until(&shell, "the pass", |r| {
        matches!(r, WalletRequest::HandPassToWallet { .. })
    })
    .await;
    flow.clone()
        .wallet_finished(request, WalletResult::Canceled);
    let s = until(&flow, "backed out", |s| !s.busy).await;
    assert_eq!(
        (s.outcome, s.availability, s.can_add, s.shows_add),
        (
            Some(WalletOutcome::Canceled),
            Availability::Ready,
            true,
            true
        ),
        "a token the member did not add does not take the button away"
    );
    flow.clone().add();
    let Some(WalletRequest::PresentPassSheet { request, .. }) = shell.last_request() else {
        panic!("{:?}", shell.last_request());
    };
    assert_eq!(flow.state().unwrap().error, None, "a new attempt clears it");
    flow.clone().pass_requested(
        request,
        passkit.certificates(),
        passkit.nonce(),
        passkit.nonce_signature(),
    );
    let WalletRequest::HandPassToWallet { data, .. } = request_until(&shell, "the pass", |r| {
        matches!(r, WalletRequest::HandPassToWallet { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert!(passkit.open_pass(data).unwrap().pan_valid);
    assert_eq!(flow.state().unwrap().step, WalletStep::HandingToWallet);
    flow.clone().wallet_finished(request, WalletResult::Added);
    let s = until(&flow, "added", |s| !s.busy).await;
    assert_eq!(
        (s.outcome, s.availability, s.can_add),
        (
            Some(WalletOutcome::Added),
            Availability::InWallet {
                status: InWalletStatus::Requested
            },
            false
        )
    );
    // A late answer of the finished attempt changes nothing.
    flow.clone()
        .wallet_finished(request, WalletResult::Canceled);
    assert_eq!(flow.state().unwrap().outcome, Some(WalletOutcome::Added));
}

#[tokio::test(flavor = "multi_thread")]
async fn google_pay_read_decide_push_backing_out_and_freeze() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let shell = Arc::new(Shell::default());
    let flow = phone.app.wallet_flow(WalletKind::GooglePay, shell.clone());
    flow.clone().start();
    let s = until(&flow, "card read", |s| !s.loading && !s.refreshing).await;
    let last4 = s.card.unwrap().last4;
    assert!(s.can_add);

    flow.clone().add();
    let Some(WalletRequest::ReadGoogleWallet { request }) = shell.last_request() else {
        panic!("{:?}", shell.last_request());
    };
    flow.clone()
        .google_wallet_read(request, "wallet_1".into(), "hw_1".into(), Vec::new());
    let WalletRequest::PushTokenize { data, .. } = request_until(&shell, "push", |r| {
        matches!(r, WalletRequest::PushTokenize { .. })
    })
    .await
    else {
        unreachable!()
    };
    assert_eq!(data.last_digits, last4);
    let trips = phone.app.round_trips();
    flow.clone()
        .wallet_finished(request, WalletResult::Canceled);
    // Backing out is a result like the others: the card is read again, then the outcome shows.
    let s = until(&flow, "canceled", |s| !s.busy).await;
    assert_eq!(
        (s.outcome, s.can_add, s.shows_add),
        (Some(WalletOutcome::Canceled), true, true)
    );
    assert_eq!(phone.app.round_trips(), trips + 1, "the card fetched again");

    // The wallet already holds an active token for this card: nothing pushed.
    flow.clone().add();
    let Some(WalletRequest::ReadGoogleWallet { request }) = shell.last_request() else {
        panic!("{:?}", shell.last_request());
    };
    let token = TapAndPayToken {
        token_id: "tok_1".into(),
        fpan_last4: last4,
        state: 5,
    };
    flow.clone()
        .google_wallet_read(request, "wallet_1".into(), "hw_1".into(), vec![token]);
    let s = until(&flow, "already added", |s| !s.busy).await;
    assert_eq!(s.outcome, Some(WalletOutcome::AlreadyAdded));

    // TapAndPay fails: its message, marked as the platform's.
    flow.clone().add();
    let Some(WalletRequest::ReadGoogleWallet { request }) = shell.last_request() else {
        panic!("{:?}", shell.last_request());
    };
    flow.clone().wallet_failed(request, "No wallet".into());
    let s = flow.state().unwrap();
    assert!(s
        .error
        .as_ref()
        .is_some_and(|e| e.platform && e.message == "No wallet"));

    // Frozen: no button; the issuer would refuse anyway.
    flow.clone().set_frozen(true);
    let s = until(&flow, "frozen", |s| !s.freezing).await;
    assert_eq!(
        (s.availability, s.shows_add, s.can_add, s.outcome, s.error),
        (Availability::Inactive, false, false, None, None)
    );
}
