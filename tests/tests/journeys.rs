//! Member journeys through the core facade, as the shells drive it, against a real mock.

use std::sync::{Arc, Mutex};

use tierspay_core::{CoreError, SessionEvent, SessionListener, TiersPay};
use tierspay_tests::{Mock, Phone, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

#[derive(Default)]
struct Recorder(Mutex<Vec<SessionEvent>>);

impl SessionListener for Recorder {
    fn on_event(&self, event: SessionEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Recorder {
    fn events(&self) -> Vec<SessionEvent> {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_enrolls_in_three_round_trips_and_stays_enrolled_offline_after_a_restart() {
    let mut mock = Mock::start().await;
    let mut phone = Phone::new(&mock);
    assert!(!phone.app.status().unwrap().enrolled);
    let profile = phone.enroll_demo(&mock).await;
    assert_eq!(phone.app.round_trips(), 3, "start, confirm, coverage sync");
    assert_eq!(profile.member.first_name, "Camille");
    assert_eq!(profile.contract.number, DEMO_CONTRACT);
    let names: Vec<_> = profile
        .beneficiaries
        .iter()
        .map(|b| b.first_name.as_str())
        .collect();
    assert_eq!(names, ["Camille", "Julien", "Léa", "Hugo"]);

    mock.stop().await;
    phone.restart();
    let status = phone.app.status().unwrap();
    assert!(status.enrolled, "known without the network");
    assert_eq!(status.profile.unwrap(), profile);
    assert_eq!(phone.app.round_trips(), 0);
    assert!(matches!(
        phone.app.refresh_profile().await,
        Err(CoreError::Network { .. })
    ));
    assert!(
        phone.app.status().unwrap().enrolled,
        "a network failure loses nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_core_refreshes_an_expired_access_token_by_itself() {
    let mock = Mock::start().await;
    let mut phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    mock.advance(11 * 60).await;
    phone.restart();
    let profile = phone
        .app
        .refresh_profile()
        .await
        .expect("refreshed transparently");
    assert_eq!(profile.member.first_name, "Camille");
    // me (401 token_expired) → refresh → me again.
    assert_eq!(phone.app.round_trips(), 3);
    phone.app.refresh_profile().await.unwrap();
    assert_eq!(phone.app.round_trips(), 4, "the new token is reused");
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolling_a_new_phone_ends_the_old_phones_session_and_wipes_it() {
    let mock = Mock::start().await;
    let old = Phone::new(&mock);
    old.enroll_demo(&mock).await;
    let recorder = Arc::new(Recorder::default());
    let _subscription = old.app.subscribe(recorder.clone());
    let new = Phone::new(&mock);
    new.enroll_demo(&mock).await;

    let err = old.app.refresh_profile().await.unwrap_err();
    assert!(matches!(err, CoreError::SessionEnded { .. }), "{err:?}");
    assert!(!old.app.status().unwrap().enrolled);
    assert_eq!(recorder.events(), vec![SessionEvent::Ended]);
    assert!(old.secrets.get("tierspay.tokens".into()).unwrap().is_none());
    assert!(new.app.refresh_profile().await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_out_revokes_on_the_server_and_wipes_data_secrets_and_key() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let recorder = Arc::new(Recorder::default());
    let subscription = phone.app.subscribe(recorder.clone());
    phone.enroll_demo(&mock).await;
    let key_before = phone.key.public_key().unwrap();
    phone.app.sign_out().await.unwrap();
    assert!(!phone.app.status().unwrap().enrolled);
    assert!(phone
        .secrets
        .get("tierspay.tokens".into())
        .unwrap()
        .is_none());
    assert_ne!(
        phone.key.public_key().unwrap(),
        key_before,
        "a new key for the next member"
    );
    assert!(matches!(
        phone.app.refresh_profile().await,
        Err(CoreError::NotEnrolled)
    ));
    let devices = mock.snapshot(&["platform_devices"]);
    assert!(devices.contains("\"revoked\""), "{devices}");
    subscription.cancel();
    phone.enroll_demo(&mock).await;
    assert_eq!(
        recorder.events(),
        vec![SessionEvent::Enrolled, SessionEvent::SignedOut]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_out_works_offline() {
    let mut mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    mock.stop().await;
    phone.app.sign_out().await.unwrap();
    assert!(!phone.app.status().unwrap().enrolled);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_reaches_the_shell_as_errors_that_name_the_field_or_the_reason() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let flow = phone.app.enrollment();
    let field = |e: CoreError| match e {
        CoreError::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let code = |e: CoreError| match e {
        CoreError::Rejected { code, .. } => code.to_string(),
        other => panic!("expected Rejected, got {other:?}"),
    };
    assert_eq!(
        field(
            flow.start("".into(), DEMO_BIRTH_DATE.into())
                .await
                .unwrap_err()
        ),
        "contract_number"
    );
    assert_eq!(
        field(
            flow.start(DEMO_CONTRACT.into(), "12/04/1985".into())
                .await
                .unwrap_err()
        ),
        "birth_date"
    );
    assert_eq!(
        field(
            flow.start(DEMO_CONTRACT.into(), "2099-01-01".into())
                .await
                .unwrap_err()
        ),
        "birth_date"
    );
    assert_eq!(
        phone.app.round_trips(),
        0,
        "refused before any network call"
    );
    assert_eq!(
        code(
            flow.start(DEMO_CONTRACT.into(), "1985-04-13".into())
                .await
                .unwrap_err()
        ),
        "enrollment_not_matched"
    );
    let challenge = flow
        .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
        .await
        .unwrap();
    assert_eq!(
        field(
            flow.confirm(challenge.enrollment_id.clone(), "12a456".into())
                .await
                .unwrap_err()
        ),
        "code"
    );
    assert_eq!(
        field(
            flow.confirm("../../admin".into(), "123456".into())
                .await
                .unwrap_err()
        ),
        "enrollment_id"
    );
    let real = mock.latest_code(DEMO_PHONE).await;
    let wrong = if real == "000000" { "111111" } else { "000000" };
    let err = flow
        .confirm(challenge.enrollment_id.clone(), wrong.into())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("4 tries left"), "{err}");
    assert_eq!(code(err), "code_incorrect");
    assert!(!phone.app.status().unwrap().enrolled);
    flow.confirm(challenge.enrollment_id, real).await.unwrap();
    assert!(phone.app.status().unwrap().enrolled);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_not_signed_by_the_pinned_key_is_not_trusted_and_nothing_is_stored() {
    let mock = Mock::start().await;
    let impostor = Mock::start().await; // another server, another key
    let phone = Phone::new(&mock);
    let fooled = TiersPay::new(
        tierspay_core::CoreConfig {
            server_url: impostor.url.clone(),
            data_dir: phone.dir.path().to_string_lossy().into_owned(),
            server_public_key: mock.key.clone(),
            device_name: None,
            link_public_key: None,
            link_key_id: None,
        },
        phone.secrets.clone(),
        phone.key.clone(),
    )
    .unwrap();
    let flow = fooled.enrollment();
    let challenge = flow
        .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
        .await
        .unwrap();
    let code = impostor.latest_code(DEMO_PHONE).await;
    let err = flow
        .confirm(challenge.enrollment_id, code)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Internal { .. }), "{err:?}");
    assert!(!fooled.status().unwrap().enrolled);
    assert!(phone
        .secrets
        .get("tierspay.tokens".into())
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mock_restart_mid_enrollment_and_a_server_outage_lose_nothing() {
    let mut mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let flow = phone.app.enrollment();
    let challenge = flow
        .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
        .await
        .unwrap();
    let code = mock.latest_code(DEMO_PHONE).await;
    mock.stop().await;
    let err = flow
        .confirm(challenge.enrollment_id.clone(), code.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Network { .. }), "{err:?}");
    assert!(!phone.app.status().unwrap().enrolled);
    mock.restart().await;
    flow.confirm(challenge.enrollment_id, code)
        .await
        .expect("the same code still works");
    assert!(phone.app.status().unwrap().enrolled);
}

#[test]
fn a_bad_configuration_is_refused_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let secrets: Arc<dyn tierspay_core::SecureStorage> =
        Arc::new(tierspay_core::MemorySecureStorage::default());
    let key: Arc<dyn tierspay_core::DeviceKey> =
        Arc::new(tierspay_core::SoftwareDeviceKey::new(secrets.clone()));
    let open = |url: &str, server_key: &str| {
        TiersPay::new(
            tierspay_core::CoreConfig {
                server_url: url.into(),
                data_dir: dir.path().to_string_lossy().into_owned(),
                server_public_key: server_key.into(),
                device_name: None,
                link_public_key: None,
                link_key_id: None,
            },
            secrets.clone(),
            key.clone(),
        )
    };
    let good_key =
        tierspay_core::auth::signature::hex(&tierspay_core::auth::ecdsa::public_key_sec1(
            &tierspay_core::auth::ecdsa::generate_signing_key(),
        ));
    let field = |r: Result<Arc<TiersPay>, CoreError>| match r {
        Err(CoreError::InvalidInput { field, .. }) => field,
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        field(open("http://127.0.0.1:1", "04abcd")),
        "server_public_key"
    );
    assert_eq!(field(open("ftp://example", &good_key)), "server_url");
    assert!(open("https://api.tierspay.fr", &good_key).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_is_replayed_on_retry_and_a_busy_server_is_retried() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let flow = phone.app.enrollment();
    let challenge = flow
        .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
        .await
        .unwrap();
    let code = mock.latest_code(DEMO_PHONE).await;
    // The server commits the confirmation, then the connection breaks before the answer.
    let (status, _) = mock
        .post(
            "/v1/test_helpers/faults",
            serde_json::json!({"method": "POST", "path_prefix": "/v1/enrollments/", "mode": "drop_after_commit", "count": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let before = phone.app.round_trips();
    let profile = flow
        .confirm(challenge.enrollment_id, code)
        .await
        .expect("the retry gets the stored answer");
    assert_eq!(profile.member.first_name, "Camille");
    assert_eq!(
        phone.app.round_trips() - before,
        3,
        "confirm, its retry, then the coverage sync"
    );
    let devices = mock.snapshot(&["platform_devices"]);
    assert_eq!(
        devices.lines().count(),
        1,
        "one device registered, not two: {devices}"
    );
    assert!(
        phone.app.refresh_profile().await.is_ok(),
        "the replayed tokens work"
    );

    // Two 503s in a row: retried with the same idempotency key, then answered.
    mock.post(
        "/v1/test_helpers/faults",
        serde_json::json!({"method": "GET", "path_prefix": "/v1/me", "mode": "fail", "count": 2}),
    )
    .await;
    assert!(phone.app.refresh_profile().await.is_ok());
    mock.post(
        "/v1/test_helpers/faults",
        serde_json::json!({"method": "GET", "path_prefix": "/v1/me", "mode": "fail", "count": 3}),
    )
    .await;
    assert!(
        matches!(
            phone.app.refresh_profile().await,
            Err(CoreError::Network { .. })
        ),
        "three failures: give up"
    );
    assert!(phone.app.status().unwrap().enrolled, "and lose nothing");
}
