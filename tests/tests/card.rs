//! The virtual card through the core, as the shells drive it: issued at enrollment, frozen and
//! unfrozen, its number shown once and never stored, provisioned into Apple Pay (ECC_V2, opened
//! by a simulated wallet) and Google Pay (OPC bound to wallet and device), with network tokens.

use std::sync::{Arc, Mutex};

use tierspay_core::{
    ApplePayPassData, CardStatus, CoreError, GooglePayAction, PassKitSimulator, SessionEvent,
    SessionListener, TapAndPayToken, TokenStatus, Wallet,
};
use tierspay_tests::{Mock, Phone};

#[derive(Default)]
struct Recorder(Mutex<Vec<SessionEvent>>);

impl SessionListener for Recorder {
    fn on_event(&self, event: SessionEvent) {
        self.0.lock().unwrap().push(event);
    }
}

fn rejected(e: CoreError) -> String {
    match e {
        CoreError::Rejected { code, .. } => code.to_string(),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_card_comes_with_enrollment_and_its_number_never_reaches_the_phone_database() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    assert_eq!(phone.app.round_trips(), 3, "the card adds no round trip");
    let card = phone
        .app
        .card()
        .info()
        .unwrap()
        .expect("issued at enrollment");
    assert_eq!(card.status, CardStatus::Active);
    assert!(!card.frozen && card.apple_pay_eligible && card.google_pay_eligible);
    assert!(
        card.controls[0]
            .en
            .starts_with("Only at: doctors, dentists"),
        "{:?}",
        card.controls
    );
    assert!(card
        .controls
        .iter()
        .any(|s| s.fr == "En France uniquement."));

    let details = phone.app.card().reveal().await.unwrap();
    assert!(details.number.ends_with(&card.last4));
    assert_eq!(details.expiry, card.expiry);
    assert_eq!(
        format!("{details:?}"),
        "CardDetails { .. }",
        "never printed"
    );
    let db = std::fs::read(phone.dir.path().join("tierspay.sqlite3")).unwrap();
    let wal = std::fs::read(phone.dir.path().join("tierspay.sqlite3-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&details.number),
            "no card number on the phone"
        );
    }
    // And none in the platform's or insurer's tables either: only the PSP holds it.
    let platform = mock.snapshot(&["platform_cards", "platform_devices", "insurer_contracts"]);
    assert!(!platform.contains(&details.number));
}

#[tokio::test(flavor = "multi_thread")]
async fn apple_pay_provisioning_end_to_end_with_a_simulated_wallet() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let recorder = Arc::new(Recorder::default());
    let _subscription = phone.app.subscribe(recorder.clone());
    let wallet = PassKitSimulator::new().unwrap();
    mock.trust_apple_root(&wallet.root_certificate()).await;
    let card = phone.app.card();

    let pass = card
        .apple_pay_pass_data(
            wallet.certificates(),
            wallet.nonce(),
            wallet.nonce_signature(),
        )
        .await
        .unwrap();
    assert_eq!(pass.ephemeral_public_key.len(), 65);
    let opened = wallet
        .open_pass(pass.clone())
        .expect("the wallet opens the pass with its leaf key");
    let info = card.info().unwrap().unwrap();
    assert_eq!(opened.pan_last4, info.last4);
    assert!(opened.pan_valid);
    assert_eq!(opened.expiration, info.expiry);

    // The new token is visible to the app, first requested, then active once the network
    // activates it with the pass's activation data.
    let token = info
        .tokens
        .iter()
        .find(|t| t.wallet == Wallet::ApplePay)
        .expect("a token")
        .clone();
    assert_eq!(token.status, TokenStatus::Requested);
    assert_ne!(token.last4, info.last4, "a device number, not the card's");
    use base64::Engine;
    let activation = base64::engine::general_purpose::STANDARD.encode(&pass.activation_data);
    let (status, body) = mock
        .activate_token(&token.id, &[("activation_data", &activation)])
        .await;
    assert_eq!(status, 200, "{body}");
    let info = card.refresh().await.unwrap();
    assert_eq!(info.tokens[0].status, TokenStatus::Active);
    assert!(
        recorder
            .0
            .lock()
            .unwrap()
            .contains(&SessionEvent::CardUpdated),
        "token events reach the app"
    );

    // Freezing suspends the token; unfreezing resumes it.
    let frozen = card.freeze().await.unwrap();
    assert!(frozen.frozen);
    assert_eq!(frozen.tokens[0].status, TokenStatus::Suspended);
    assert_eq!(
        rejected(
            card.apple_pay_pass_data(
                wallet.certificates(),
                wallet.nonce(),
                wallet.nonce_signature()
            )
            .await
            .unwrap_err()
        ),
        "card_inactive",
        "a frozen card is not provisioned"
    );
    let thawed = card.unfreeze().await.unwrap();
    assert_eq!(thawed.tokens[0].status, TokenStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn apple_pay_bad_input_is_refused_and_nothing_is_half_created() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let trusted = PassKitSimulator::new().unwrap();
    mock.trust_apple_root(&trusted.root_certificate()).await;
    let untrusted = PassKitSimulator::new().unwrap();
    let card = phone.app.card();
    let before = mock.snapshot(&["psp_tokens", "psp_cards"]);
    let err = card
        .apple_pay_pass_data(
            untrusted.certificates(),
            untrusted.nonce(),
            untrusted.nonce_signature(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoreError::InvalidInput { .. } | CoreError::Rejected { .. }
        ),
        "{err:?}"
    );
    let err = card
        .apple_pay_pass_data(trusted.certificates(), trusted.nonce(), vec![1, 2, 3])
        .await
        .unwrap_err();
    match err {
        CoreError::InvalidInput { field, .. } => {
            assert!(field.contains("nonce_signature"), "{field}")
        }
        other => panic!("{other:?}"),
    }
    match card.apple_pay_pass_data(vec![], vec![1], vec![2; 64]).await {
        Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "certificates"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.snapshot(&["psp_tokens", "psp_cards"]), before);
    let forged = ApplePayPassData {
        encrypted_pass_data: vec![0; 40],
        activation_data: vec![],
        ephemeral_public_key: vec![4; 65],
    };
    assert!(trusted.open_pass(forged).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn google_pay_pushes_once_then_resumes_or_leaves_alone() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let card = phone.app.card();
    let last4 = card.info().unwrap().unwrap().last4;
    let (wallet, device) = ("wallet-abc".to_owned(), "hardware-123".to_owned());

    let data = match card
        .google_pay_action(wallet.clone(), device.clone(), vec![])
        .await
        .unwrap()
    {
        GooglePayAction::Push { data } => data,
        other => panic!("{other:?}"),
    };
    assert_eq!((data.network, data.token_service_provider), (4, 4));
    assert_eq!(data.last_digits, last4);
    assert_eq!(data.address_name, "Camille Martin");
    assert!(data.opaque_payment_card.len() > 32);

    // TapAndPay activates the token with the OPC, bound to this wallet and device.
    let token = card
        .info()
        .unwrap()
        .unwrap()
        .tokens
        .into_iter()
        .find(|t| t.wallet == Wallet::GooglePay)
        .unwrap();
    use base64::Engine;
    let opc = base64::engine::general_purpose::STANDARD.encode(&data.opaque_payment_card);
    let (status, _) = mock
        .activate_token(
            &token.id,
            &[
                ("opaque_payment_card", &opc),
                ("wallet_account_id", "another-wallet"),
                ("device_id", &device),
            ],
        )
        .await;
    assert_eq!(status, 400, "an OPC bound to another wallet is refused");
    let (status, body) = mock
        .activate_token(
            &token.id,
            &[
                ("opaque_payment_card", &opc),
                ("wallet_account_id", &wallet),
                ("device_id", &device),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let tap = |state| {
        vec![TapAndPayToken {
            token_id: "tp-1".into(),
            fpan_last4: last4.clone(),
            state,
        }]
    };
    assert_eq!(
        card.google_pay_action(wallet.clone(), device.clone(), tap(5))
            .await
            .unwrap(),
        GooglePayAction::AlreadyAdded
    );
    assert_eq!(
        card.google_pay_action(wallet.clone(), device.clone(), tap(3))
            .await
            .unwrap(),
        GooglePayAction::Resume {
            token_id: "tp-1".into()
        }
    );
    // If TapAndPay's list was lost, the issuer still refuses to push the same card twice.
    assert_eq!(
        rejected(
            card.google_pay_action(wallet.clone(), device.clone(), vec![])
                .await
                .unwrap_err()
        ),
        "token_already_active"
    );
    match card.google_pay_action(String::new(), device, vec![]).await {
        Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "wallet_account_id"),
        other => panic!("{other:?}"),
    }
}
