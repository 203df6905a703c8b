//! An enrolled session belongs to the server it was enrolled with: the core never sends its
//! tokens and proofs to another server URL (a relay, an override), until the member signs out.

use std::sync::Arc;

use tierspay_core::{CoreConfig, CoreError, TiersPay};
use tierspay_tests::{Mock, Phone, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

/// The same phone's data, secrets and key, with another server URL in its configuration.
fn reconfigured(phone: &Phone, server_url: &str, key: &str) -> Arc<TiersPay> {
    TiersPay::new(
        CoreConfig {
            server_url: server_url.into(),
            data_dir: phone.dir.path().to_string_lossy().into_owned(),
            server_public_key: key.into(),
            device_name: None,
            link_public_key: None,
            link_key_id: None,
        },
        phone.secrets.clone(),
        phone.key.clone(),
    )
    .expect("opens: no network, and sign-out must stay possible")
}

fn refused_for_server_url<T: std::fmt::Debug>(result: Result<T, CoreError>) {
    match result {
        Err(CoreError::InvalidInput { field, detail }) => {
            assert_eq!(field, "server_url");
            assert!(detail.contains("sign out first"), "{detail}");
        }
        other => panic!("not refused: {other:?}"),
    }
}

fn device_status(mock: &Mock, device_id: &str) -> String {
    let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
    conn.query_row(
        "SELECT status FROM platform_devices WHERE id = ?1",
        [device_id],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enrolled_session_sends_nothing_to_another_server_url() {
    let mock = Mock::start().await;
    let mut phone = Phone::new(&mock);
    let profile = phone.enroll_demo(&mock).await;

    // The same server under another name stands for a relay: it would get everything.
    let relay = mock.url.replace("127.0.0.1", "localhost");
    let app = reconfigured(&phone, &relay, &mock.key);
    assert!(app.status().unwrap().enrolled, "offline status still reads");
    refused_for_server_url(app.refresh_profile().await);
    refused_for_server_url(app.card().reveal().await);
    refused_for_server_url(app.card().freeze().await);
    refused_for_server_url(app.coverage().sync().await);
    refused_for_server_url(
        app.enrollment()
            .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
            .await,
    );
    assert_eq!(app.round_trips(), 0, "not one request left the phone");

    // A trailing slash is the same URL; the enrolled configuration works as before.
    let app = reconfigured(&phone, &format!("{}/", mock.url), &mock.key);
    assert_eq!(
        app.refresh_profile().await.unwrap().device_id,
        profile.device_id
    );
    phone.restart();
    phone.app.refresh_profile().await.unwrap();

    // Signing out with the other URL wipes the phone without telling that server anything.
    let app = reconfigured(&phone, &relay, &mock.key);
    app.sign_out().await.unwrap();
    assert_eq!(app.round_trips(), 0);
    assert!(!app.status().unwrap().enrolled);
    assert_eq!(device_status(&mock, &profile.device_id), "active");

    // Once signed out, the phone may enroll with another server: the new session is bound to it.
    let other = Mock::start().await;
    let app = reconfigured(&phone, &other.url, &other.key);
    let flow = app.enrollment();
    let challenge = flow
        .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
        .await
        .unwrap();
    let code = other.latest_code(DEMO_PHONE).await;
    flow.confirm(challenge.enrollment_id, code).await.unwrap();
    app.refresh_profile().await.unwrap();
    let back = reconfigured(&phone, &mock.url, &mock.key);
    refused_for_server_url(back.refresh_profile().await);
}
