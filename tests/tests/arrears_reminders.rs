//! Reminders end to end (issue 11, parts 2-4): an open invoice of the demo member, the business
//! clock moved forward, and the outbox read at each step of the default schedule: the D+3 push
//! waits for 08:00 Paris when D+3 falls at night, the D+10 email goes at once and its SMS waits
//! for the morning, each message carries its own signed link (the SMS a short one that resolves
//! to a signed token), and once the invoice is paid nothing more is sent.

use std::collections::HashMap;

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{json, Value};
use tierspay_core::domain::gsm7;
use tierspay_core::domain::payment_link::{self, Channel, PinnedLinkKey};
use tierspay_core::{route_for_push, Route};
use tierspay_server_mock::platform::arrears::quiet_hours::{is_quiet, next_allowed};
use tierspay_tests::{Mock, RawDevice, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE, PSP_KEY};

const FCM: &str = "fcm-token-reminders:APA91bH_one";
const DAY: i64 = 86_400;

async fn now(mock: &Mock) -> i64 {
    mock.get("/v1/test_helpers/clock").await["now"]
        .as_i64()
        .expect("now")
}

/// Moves business time to `at` (never back).
async fn advance_to(mock: &Mock, at: i64) {
    let delta = at - now(mock).await;
    assert!(delta >= 0, "the clock does not go back");
    mock.advance(delta).await;
}

/// One scheduler pass now (the task runs the same each second).
async fn run(mock: &Mock) -> Value {
    let (status, doc) = mock.post("/v1/test_helpers/reminders/run", json!({})).await;
    assert_eq!(status, 200, "{doc}");
    doc["report"].clone()
}

async fn outbox(mock: &Mock, channel: &str) -> Vec<Value> {
    mock.get(&format!(
        "/v1/test_helpers/outbox?channel={channel}&limit=100"
    ))
    .await["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The reminder messages of a channel (an SMS with a short link; the enrollment code SMS is
/// not one).
async fn reminders(mock: &Mock, channel: &str) -> Vec<Value> {
    outbox(mock, channel)
        .await
        .into_iter()
        .filter(|m| match channel {
            "sms" => m["body"].as_str().unwrap_or("").contains("/s/"),
            "push" => m["data"]["kind"] == "invoice_reminder",
            _ => true,
        })
        .collect()
}

async fn pinned_key(mock: &Mock) -> PinnedLinkKey {
    let key = mock.get("/v1/platform/link_key").await;
    assert_eq!(key["algorithm"], "ES256");
    // The link key is the server key the app already pins.
    assert_eq!(key["public_key"], mock.key.as_str());
    let sec1 = tierspay_core::auth::signature::parse_pinned_key(
        key["public_key"].as_str().expect("public key"),
    )
    .expect("a P-256 key");
    PinnedLinkKey::new(key["key_id"].as_u64().expect("key id") as u8, &sec1).expect("key")
}

fn token_of(url: &str) -> &str {
    url.rsplit_once("/l/").expect("a /l/ link").1
}

#[tokio::test(flavor = "multi_thread")]
async fn push_at_d3_after_the_night_email_and_sms_at_d10_then_nothing_once_paid() {
    let mock = Mock::start().await;
    // The demo member's phone, signed in, with its push token.
    let device = RawDevice::enroll(&mock, DEMO_CONTRACT, DEMO_BIRTH_DATE, DEMO_PHONE).await;
    let (status, doc) = device
        .send(
            &mock,
            "POST",
            "/v1/devices/push_token",
            Some(json!({"service": "fcm", "token": FCM})),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    // The member reference the phone is enrolled for (links are tagged with it).
    let member_ref: String = rusqlite::Connection::open(mock.db_path())
        .unwrap()
        .query_row(
            "SELECT member_ref FROM platform_devices WHERE id = ?1",
            [&device.device_id],
            |r| r.get(0),
        )
        .unwrap();

    // The invoice is made at 22:00 Paris, so it falls due (30 days later) at night too.
    let mut t = now(&mock).await;
    while !is_quiet(t) {
        t += 1_800;
    }
    advance_to(&mock, next_allowed(t) + 14 * 3_600).await;
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(PSP_KEY)
        .json(&json!({"contract": DEMO_CONTRACT, "amount": 3_000, "description": "Cotisation de novembre"}))
        .send()
        .await
        .expect("arrears");
    assert_eq!(r.status().as_u16(), 200);
    let invoice: Value = r.json().await.expect("json");
    let invoice_id = invoice["invoice"].as_str().expect("id").to_owned();
    let due = invoice["due_date"].as_i64().expect("due date");
    let reference = invoice["rf_reference"].as_str().expect("RF").to_owned();
    let d3 = due + 3 * DAY;
    assert!(is_quiet(d3), "D+3 falls at night");

    // Before D+3 nothing; at D+3 (night) still nothing.
    advance_to(&mock, d3 - 60).await;
    run(&mock).await;
    assert!(reminders(&mock, "push").await.is_empty());
    advance_to(&mock, d3 + 60).await;
    run(&mock).await;
    assert!(
        reminders(&mock, "push").await.is_empty(),
        "no push in quiet hours"
    );

    // 08:00 Paris: the task itself sends the push, without a helper's nudge.
    let morning = next_allowed(d3);
    advance_to(&mock, morning).await;
    let mut pushes = Vec::new();
    for _ in 0..300 {
        pushes = reminders(&mock, "push").await;
        if !pushes.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    let push = &pushes[0];
    assert_eq!(push["recipient"], FCM);
    assert!(push["created"].as_i64().unwrap() >= morning);
    assert!(!is_quiet(push["created"].as_i64().unwrap()));
    assert_eq!(push["data"]["invoice"], invoice_id.as_str());
    let summary = push["data"]["summary"].as_str().expect("summary");
    assert!(summary.starts_with("30,00 € dus depuis le "), "{summary}");
    let grouped = tierspay_core::domain::rf_reference::RfReference::parse(&reference)
        .unwrap()
        .grouped();
    assert!(summary.contains(&grouped), "{summary}");
    let data: HashMap<String, String> = push["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    assert!(matches!(
        route_for_push(data),
        Ok(Route::PaymentLink { .. })
    ));
    let key = pinned_key(&mock).await;
    let push_url = push["data"]["link"].as_str().unwrap();
    assert!(push_url.starts_with("https://app.tierspay.fr/l/"));
    let push_claims =
        payment_link::verify(token_of(push_url), &key, morning as u64, &member_ref).unwrap();
    assert_eq!(push_claims.channel, Channel::Push);
    assert_eq!(push_claims.amount_minor, 3_000);

    // D+10 at night: the email goes at once, the SMS waits for 08:00.
    let d10 = due + 10 * DAY;
    advance_to(&mock, d10 + 60).await;
    run(&mock).await;
    let emails = reminders(&mock, "email").await;
    assert_eq!(emails.len(), 1);
    assert!(reminders(&mock, "sms").await.is_empty(), "SMS held");
    let raw = emails[0]["raw"].as_str().expect("the raw MIME message");
    let mail = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("MIME");
    let html = mail.body_html(0).expect("html").into_owned();
    let text = mail.body_text(0).expect("text").into_owned();
    let inline: Vec<_> = mail
        .parts
        .iter()
        .filter_map(|p| p.content_id().map(str::to_owned))
        .collect();
    assert!(inline.contains(&"qr@app.tierspay.fr".to_owned()));
    assert!(html.contains("cid:qr@app.tierspay.fr"));
    for body in [&html, &text] {
        assert!(body.contains("Mutuelle Horizon"));
        assert!(body.contains("30,00 €"));
        assert!(body.contains(&grouped));
        assert!(!body.to_lowercase().contains("mot de passe"));
    }
    let email_url = text
        .split_whitespace()
        .find(|w| w.starts_with("https://app.tierspay.fr/l/"))
        .expect("the email's link");
    let email_claims =
        payment_link::verify(token_of(email_url), &key, d10 as u64, &member_ref).unwrap();
    assert_eq!(email_claims.channel, Channel::Email);
    assert_eq!(
        email_claims.invoice, push_claims.invoice,
        "the same invoice"
    );
    assert_ne!(token_of(email_url), token_of(push_url), "its own token");

    advance_to(&mock, next_allowed(d10)).await;
    run(&mock).await;
    let sms = reminders(&mock, "sms").await;
    assert_eq!(sms.len(), 1);
    let body = sms[0]["body"].as_str().unwrap();
    assert!(gsm7::fits_one_sms(body), "{body}");
    assert!(
        body.contains("30,00 €") && body.contains(&grouped),
        "{body}"
    );
    let code = body.rsplit_once("/s/").unwrap().1;
    let short = mock.get(&format!("/v1/platform/short_links/{code}")).await;
    let sms_claims = payment_link::verify(
        short["token"].as_str().expect("token"),
        &key,
        d10 as u64,
        &member_ref,
    )
    .unwrap();
    assert_eq!(sms_claims.channel, Channel::Sms);
    assert_eq!(sms_claims.invoice, push_claims.invoice);
    // A browser opening the short link lands on the hosted page of that token.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(format!("{}/s/{code}", mock.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/l/{}", short["token"].as_str().unwrap())
    );
    let wrong = mock.request(reqwest::Method::GET, "/v1/platform/short_links/AAAAAAAAAA");
    assert_eq!(wrong.send().await.unwrap().status().as_u16(), 404);

    // Passes again change nothing: each step goes once.
    run(&mock).await;
    assert_eq!(reminders(&mock, "push").await.len(), 1);
    assert_eq!(reminders(&mock, "email").await.len(), 1);
    assert_eq!(reminders(&mock, "sms").await.len(), 1);

    // Paid: the D+30 formal notice never goes, and the invoice leaves the queue.
    let (status, paid) = mock
        .psp_post(
            &format!("/v1/invoices/{invoice_id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "paid");
    advance_to(&mock, due + 31 * DAY).await;
    let report = run(&mock).await;
    assert!(report["stopped"].as_u64().unwrap() <= 1, "{report}");
    assert_eq!(reminders(&mock, "email").await.len(), 1, "no formal notice");
    assert_eq!(reminders(&mock, "push").await.len(), 1);
    assert_eq!(reminders(&mock, "sms").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_insurer_schedule_applies_and_a_voided_invoice_is_not_reminded() {
    let mock = Mock::start().await;
    let (status, doc) = mock
        .post(
            "/v1/test_helpers/reminder_schedules",
            json!({"insurer": "Mutuelle Horizon", "steps": "1:email,2:notice"}),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["steps"], "1:email,2:notice");
    let (status, bad) = mock
        .post(
            "/v1/test_helpers/reminder_schedules",
            json!({"insurer": "Mutuelle Horizon", "steps": "1:fax"}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["param"], "steps");

    let mut ids = Vec::new();
    for amount in [1_250, 990] {
        let r = mock
            .http
            .post(format!("{}/v1/insurer/arrears", mock.url))
            .bearer_auth(PSP_KEY)
            .json(
                &json!({"contract": DEMO_CONTRACT, "amount": amount, "description": "Cotisation"}),
            )
            .send()
            .await
            .expect("arrears");
        let doc: Value = r.json().await.unwrap();
        ids.push((
            doc["invoice"].as_str().unwrap().to_owned(),
            doc["due_date"].as_i64().unwrap(),
        ));
    }
    let (status, voided) = mock
        .psp_post(&format!("/v1/invoices/{}/void", ids[1].0), &[])
        .await;
    assert_eq!(status, 200, "{voided}");
    advance_to(&mock, ids[0].1 + DAY + 60).await;
    run(&mock).await;
    let emails = reminders(&mock, "email").await;
    assert_eq!(emails.len(), 1, "only the open invoice: {emails:?}");
    assert!(emails[0]["body"].as_str().unwrap().contains("12,50 €"));
    // Skipping ahead past D+2 sends the notice, not a second reminder.
    advance_to(&mock, ids[0].1 + 5 * DAY).await;
    run(&mock).await;
    let emails = reminders(&mock, "email").await;
    assert_eq!(emails.len(), 2);
    assert!(emails[0]["subject"]
        .as_str()
        .unwrap()
        .contains("mise en demeure"));
}
