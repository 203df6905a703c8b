//! Webhook endpoints (`/v1/webhook_endpoints`) and the signed, retried delivery of events.

use tierspay_server_mock::Limits;
use tierspay_tests::stripe::{code, param};
use tierspay_tests::webhook_receiver::{Behaviour, Receiver};
use tierspay_tests::{wait_for, Mock, Stripe};

#[tokio::test(flavor = "multi_thread")]
async fn the_platform_endpoint_exists_from_start_and_survives_a_restart() {
    let mut mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let list = psp.ok_get("/v1/webhook_endpoints", &[]).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{list}");
    let we = &data[0];
    assert_eq!(we["url"], format!("{}/v1/platform/psp_events", mock.url));
    assert_eq!(we["status"], "enabled");
    assert!(
        we.get("secret").is_none(),
        "the secret is shown only on create"
    );
    let events: Vec<&str> = we["enabled_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // Exactly what the platform acts on: every other event would be a wasted delivery per tap.
    assert_eq!(
        events,
        [
            "issuing_authorization.request",
            "issuing_authorization.updated",
            "issuing_transaction.created",
        ]
    );
    let id = we["id"].as_str().unwrap().to_owned();
    mock.restart().await;
    let psp = Stripe::new(&mock);
    let list = psp.ok_get("/v1/webhook_endpoints", &[]).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_are_created_read_updated_listed_and_deleted_with_a_sealed_secret() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let we = psp
        .ok_post(
            "/v1/webhook_endpoints",
            &[
                ("url", "http://127.0.0.1:9/hook"),
                ("enabled_events[]", "issuing_authorization.request"),
                ("enabled_events[]", "payment_intent.*"),
                ("description", "tests"),
                ("metadata[team]", "psp"),
                ("api_version", "2024-06-20"),
            ],
        )
        .await;
    assert_eq!(we["object"], "webhook_endpoint");
    let id = we["id"].as_str().unwrap();
    assert!(id.starts_with("we_"));
    let secret = we["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{we}");
    assert_eq!(we["metadata"]["team"], "psp");

    let read = psp
        .ok_get(&format!("/v1/webhook_endpoints/{id}"), &[])
        .await;
    assert!(read.get("secret").is_none());
    assert_eq!(read["enabled_events"][1], "payment_intent.*");

    let updated = psp
        .ok_post(
            &format!("/v1/webhook_endpoints/{id}"),
            &[
                ("url", "http://127.0.0.1:10/other"),
                ("enabled_events[0]", "*"),
                ("disabled", "true"),
            ],
        )
        .await;
    assert_eq!(updated["url"], "http://127.0.0.1:10/other");
    assert_eq!(updated["status"], "disabled");
    assert_eq!(updated["enabled_events"], serde_json::json!(["*"]));

    // The secret is not in the database file in clear.
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    let sealed: Vec<u8> = db
        .query_row(
            "SELECT secret FROM psp_webhook_endpoints WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));

    let list = psp.ok_get("/v1/webhook_endpoints", &[("limit", "1")]).await;
    assert_eq!(list["data"][0]["id"], id);
    assert_eq!(list["has_more"], true);

    let deleted = psp
        .send_delete(&format!("/v1/webhook_endpoints/{id}"))
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["deleted"], true);
    let gone = psp.get(&format!("/v1/webhook_endpoints/{id}"), &[]).await;
    assert_eq!(gone.status, 404);
    assert_eq!(param(&gone), "id");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_endpoints_are_refused_naming_the_field() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let long = format!("http://127.0.0.1/{}", "a".repeat(3000));
    for (form, field) in [
        (vec![("enabled_events[]", "*")], "url"),
        (vec![("url", "ftp://x/y"), ("enabled_events[]", "*")], "url"),
        (
            vec![("url", long.as_str()), ("enabled_events[]", "*")],
            "url",
        ),
        (vec![("url", "http://127.0.0.1/x")], "enabled_events"),
        (
            vec![
                ("url", "http://127.0.0.1/x"),
                ("enabled_events[]", "Bad Event"),
            ],
            "enabled_events[0]",
        ),
        (
            vec![("url", "http://127.0.0.1/x"), ("enabled_events[]", "a.*.b")],
            "enabled_events[0]",
        ),
        (
            vec![
                ("url", "http://127.0.0.1/x"),
                ("enabled_events[]", "*"),
                ("colour", "red"),
            ],
            "colour",
        ),
    ] {
        let a = psp.post("/v1/webhook_endpoints", &form).await;
        assert_eq!(a.status, 400, "{form:?}: {}", a.body);
        assert_eq!(param(&a), field, "{form:?}: {}", a.body);
    }
    let a = psp
        .post("/v1/webhook_endpoints/we_missing", &[("disabled", "maybe")])
        .await;
    assert_eq!((a.status, param(&a)), (400, "disabled"));
    let a = psp
        .post("/v1/webhook_endpoints/we_missing", &[("disabled", "true")])
        .await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(code(&a), "resource_missing");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_delivered_signed_and_retried_until_the_endpoint_accepts_them() {
    let mock = Mock::start_with(Limits {
        webhook_retry_base_ms: 50,
        ..Limits::default()
    })
    .await;
    let psp = Stripe::new(&mock);
    let receiver = Receiver::start(&psp, &["issuing_cardholder.*"], Behaviour::Status(500)).await;
    let ich = psp.cardholder("Membre W1").await;
    // Fails twice (500), then the endpoint recovers.
    wait_for(
        "two failed attempts",
        || receiver.of_type("issuing_cardholder.created").len(),
        |n| *n >= 2,
    )
    .await;
    receiver.set(Behaviour::Approve(None));
    let db_path = mock.db_path();
    let attempts = wait_for(
        "delivered",
        || {
            let db = rusqlite::Connection::open(&db_path).ok()?;
            db.query_row(
                "SELECT attempts FROM psp_webhook_deliveries d JOIN psp_events e ON e.id = d.event_id
                 JOIN psp_webhook_endpoints w ON w.id = d.endpoint_id
                 WHERE e.type = 'issuing_cardholder.created' AND d.status = 'delivered' AND w.url LIKE '%/hook'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()
        },
        Option::is_some,
    )
    .await
    .unwrap();
    assert!(attempts >= 3, "{attempts}");
    let got = receiver.of_type("issuing_cardholder.created");
    assert!(got.iter().all(|d| d.signature_ok));
    // The same event every time: receivers dedupe on its id.
    assert!(got.iter().all(|d| d.event["id"] == got[0].event["id"]));
    assert_eq!(got[0].event["data"]["object"]["id"], ich.as_str());
    // Other types are not sent to it.
    assert!(receiver
        .received()
        .iter()
        .all(|d| d.event["type"] == "issuing_cardholder.created"));
}
