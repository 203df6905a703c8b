//! Push end to end: the core registers and rotates the app's push token with the platform, the
//! platform's outbox addresses pushes to that token, and sign-out or a new phone removes it.

use std::collections::HashMap;

use serde_json::{json, Value};
use tierspay_core::{route_for_push, CoreError, PushService, Route};
use tierspay_tests::{Mock, Phone, RawDevice};

const FCM_A: &str = "fcm-token-A:APA91bH_first";
const FCM_B: &str = "fcm-token-B:APA91bH_second";

fn apns_token(fill: char) -> String {
    fill.to_string().repeat(64)
}

/// Pushes the outbox holds for `token`, newest first.
async fn pushes_to(mock: &Mock, token: &str) -> Vec<Value> {
    let list = mock
        .get(&format!(
            "/v1/test_helpers/outbox?channel=push&limit=20&recipient={token}"
        ))
        .await;
    list["data"].as_array().cloned().unwrap_or_default()
}

/// The push tokens the platform holds, as (device, service, token).
fn server_tokens(mock: &Mock) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT device_id, service, token FROM platform_push_tokens ORDER BY 1")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Rows of the phone's own push-token table.
fn phone_tokens(phone: &Phone) -> i64 {
    let conn = rusqlite::Connection::open(phone.dir.path().join("tierspay.sqlite3")).unwrap();
    conn.query_row("SELECT count(*) FROM push_token", [], |r| r.get(0))
        .unwrap()
}

fn route_of(push: &Value) -> Route {
    let data: HashMap<String, String> = push["data"]
        .as_object()
        .expect("a push carries data")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    route_for_push(data).expect("a TiersPay link")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_given_before_enrollment_is_registered_right_after_it_and_freezing_pushes_to_it() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    // Android hands the token over at first start, long before the member enrolls.
    phone
        .app
        .register_push_token(PushService::Fcm, FCM_A.into())
        .await
        .unwrap();
    assert_eq!(
        phone.app.round_trips(),
        0,
        "kept on the phone until enrollment"
    );
    assert!(server_tokens(&mock).is_empty());

    let profile = phone.enroll_demo(&mock).await;
    assert_eq!(
        phone.app.round_trips(),
        4,
        "start, confirm, coverage sync, push token"
    );
    assert_eq!(
        server_tokens(&mock),
        [(profile.device_id.clone(), "fcm".into(), FCM_A.into())]
    );
    // Handed over again at the next start: nothing to send.
    phone
        .app
        .register_push_token(PushService::Fcm, FCM_A.into())
        .await
        .unwrap();
    assert_eq!(phone.app.round_trips(), 4);

    phone.app.card().freeze().await.unwrap();
    let pushes = pushes_to(&mock, FCM_A).await;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0]["subject"], "Card frozen");
    assert_eq!(pushes[0]["data"]["kind"], "card_frozen");
    assert_eq!(route_of(&pushes[0]), Route::Card);
    phone.app.card().unfreeze().await.unwrap();
    let pushes = pushes_to(&mock, FCM_A).await;
    assert_eq!(pushes.len(), 2);
    assert_eq!(pushes[0]["subject"], "Card active again");
    assert_eq!(route_of(&pushes[0]), Route::Card);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_token_replaces_the_old_one_and_pushes_reach_the_new_one_only() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let profile = phone.enroll_demo(&mock).await;
    let before = phone.app.round_trips();
    let first = apns_token('a');
    phone
        .app
        .register_push_token(PushService::Apns, first.to_uppercase())
        .await
        .unwrap();
    assert_eq!(phone.app.round_trips(), before + 1, "registered at once");
    assert_eq!(
        server_tokens(&mock),
        [(profile.device_id.clone(), "apns".into(), first.clone())],
        "stored as lower-case hex"
    );
    let second = apns_token('b');
    phone
        .app
        .register_push_token(PushService::Apns, second.clone())
        .await
        .unwrap();
    assert_eq!(
        server_tokens(&mock),
        [(profile.device_id.clone(), "apns".into(), second.clone())],
        "one token per device: the new one replaces the old"
    );

    phone.app.card().freeze().await.unwrap();
    assert_eq!(pushes_to(&mock, &second).await.len(), 1);
    assert!(
        pushes_to(&mock, &first).await.is_empty(),
        "the old token hears nothing"
    );
    // Freezing a frozen card changes nothing, and says nothing.
    phone.app.card().freeze().await.unwrap();
    assert_eq!(pushes_to(&mock, &second).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_out_and_a_new_phone_remove_the_push_token() {
    let mock = Mock::start().await;
    let old = Phone::new(&mock);
    old.enroll_demo(&mock).await;
    old.app
        .register_push_token(PushService::Fcm, FCM_A.into())
        .await
        .unwrap();
    assert_eq!(server_tokens(&mock).len(), 1);

    // A new phone enrolls: the old one is told why it is signed out, then forgotten.
    let new = Phone::new(&mock);
    new.enroll_demo(&mock).await;
    let pushes = pushes_to(&mock, FCM_A).await;
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0]["data"]["kind"], "signed_out");
    assert!(pushes[0]["body"]
        .as_str()
        .unwrap()
        .contains("a new phone was enrolled"));
    assert!(matches!(route_of(&pushes[0]), Route::Enroll { .. }));
    assert!(
        server_tokens(&mock).is_empty(),
        "the old device's token is gone"
    );
    new.app.card().freeze().await.unwrap();
    assert_eq!(
        pushes_to(&mock, FCM_A).await.len(),
        1,
        "nothing more for the old phone"
    );

    // The new phone registers the same physical token later (the old device let go of it),
    // then signs out: the token goes on both sides.
    new.app
        .register_push_token(PushService::Fcm, FCM_B.into())
        .await
        .unwrap();
    assert_eq!(server_tokens(&mock).len(), 1);
    assert_eq!(phone_tokens(&new), 1);
    new.app.sign_out().await.unwrap();
    assert!(server_tokens(&mock).is_empty());
    assert_eq!(phone_tokens(&new), 0, "sign-out forgets it on the phone");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_and_foreign_tokens_are_refused_with_the_field_named() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let sent = phone.app.round_trips();
    for (service, token) in [
        (PushService::Apns, "not-hex".to_owned()),
        (PushService::Apns, "ab".repeat(16)),
        (PushService::Apns, "a".repeat(201)),
        (PushService::Fcm, String::new()),
        (PushService::Fcm, "has a space".into()),
        (PushService::Fcm, "x".repeat(4097)),
    ] {
        match phone.app.register_push_token(service, token.clone()).await {
            Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "token", "{token}"),
            other => panic!("{token}: {other:?}"),
        }
    }
    assert_eq!(phone.app.round_trips(), sent, "refused before any request");
    assert!(server_tokens(&mock).is_empty());

    // Another member's phone holds a token: this device may not take it.
    let other = RawDevice::enroll(&mock, "TP1000002", "1992-11-02", "+33698765432").await;
    let (status, body) = other
        .send(
            &mock,
            "POST",
            "/v1/devices/push_token",
            Some(json!({"service": "fcm", "token": FCM_A})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["device_id"], other.device_id.as_str());
    assert!(body.get("token").is_none(), "the token is not echoed back");
    match phone
        .app
        .register_push_token(PushService::Fcm, FCM_A.into())
        .await
    {
        Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "token"),
        other => panic!("{other:?}"),
    }

    // The platform checks again what a modified app could send.
    for (body, field) in [
        (json!({"service": "gcm", "token": FCM_B}), "service"),
        (json!({"service": "apns", "token": FCM_B}), "token"),
        (json!({"service": "fcm", "token": ""}), "token"),
        (json!({"service": "fcm"}), "token"),
        (
            json!({"service": "fcm", "token": FCM_B, "user": "x"}),
            "user",
        ),
    ] {
        let (status, answer) = other
            .send(&mock, "POST", "/v1/devices/push_token", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["param"], field, "{body}: {answer}");
    }
    // Without a session there is nobody to register a token for.
    let (status, _) = mock
        .post(
            "/v1/devices/push_token",
            json!({"service": "fcm", "token": FCM_B}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(server_tokens(&mock).len(), 1, "only the other member's");
}
