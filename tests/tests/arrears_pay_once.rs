//! Paying arrears exactly once, the mock's side (issue 12; docs/arrears.md, "Paying exactly
//! once"): the app's payment route with its required key, replayed and never re-executed; one
//! active attempt per invoice across the app, the links' card forms and 3-D Secure; the change
//! cursor, the member's long-polled events and the push, all from the payment's transaction.

use std::sync::Arc;

use serde_json::json;
use tierspay_tests::pay_once::{
    charges_of, link_paths, member_owing, pay, pay_with, premium_invoice, unbalanced, Browser,
};
use tierspay_tests::visits::start;
use tierspay_tests::{RawDevice, Stripe, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

fn key(n: &str) -> String {
    format!("pay-once-{n}-{}", tierspay_core::auth::random::id("k"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_pays_once_and_a_retry_replays_the_answer() {
    let mock = start().await;
    let (member, id) = member_owing(&mock, "4242424242424242", 4250).await;
    let d = &member.device;
    let (status, push) = d
        .send(
            &mock,
            "POST",
            "/v1/devices/push_token",
            Some(json!({"service": "fcm", "token": "fcm-token-A:APA91bH_first"})),
        )
        .await;
    assert_eq!(status, 200, "{push}");
    // The links a reminder would carry, signed while the invoice is open.
    let links = link_paths(&mock, &id, &["email", "sms", "push"]).await;
    let k = key("first");
    let (status, first) = pay(&mock, d, &id, 4250, &k).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(first["invoice"]["status"], "paid");
    assert_eq!(first["invoice"]["paid_via"], "app");
    assert!(first["id"].as_str().unwrap().starts_with("mip_"));
    let history: Vec<&str> = first["invoice"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["created", "payment_succeeded"], "{first}");
    // The same key again: the same answer, replayed, and no second charge.
    let (status, again) = pay(&mock, d, &id, 4250, &k).await;
    assert_eq!((status, &again), (200, &first));
    assert_eq!(charges_of(&mock, &id), 1);
    // A new key (a second tap): already paid, nothing charged.
    let (status, second) = pay(&mock, d, &id, 4250, &key("second")).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["status"], "already_paid");
    assert_eq!(second["invoice"]["paid_via"], "app");
    assert!(second["invoice"]["paid_at"].is_i64());
    assert_eq!(charges_of(&mock, &id), 1);
    assert_eq!(unbalanced(&mock), 0);
    // Every link shows it paid; the push "paid" is in the outbox; reminders skip it.
    let b = Browser::new(&mock);
    for link in links {
        let (status, _, page) = b.get(&link).await;
        assert_eq!(status, 200);
        assert!(page.contains("Facture déjà payée"), "{link}");
        assert!(!page.contains("<form"), "{link}: no way to pay twice");
    }
    let outbox = mock.get("/v1/test_helpers/outbox?channel=push").await;
    let paid_push = outbox["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["data"]["kind"] == "invoice_paid" && m["data"]["invoice"] == id.as_str())
        .count();
    assert_eq!(paid_push, 1, "{outbox}");
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    let queued: Option<i64> = db
        .query_row(
            "SELECT next_at FROM platform_reminders WHERE invoice_id = ?1",
            [&id],
            |r| r.get(0),
        )
        .unwrap_or(None);
    mock.advance(40 * 86_400).await;
    let (status, _) = mock.post("/v1/test_helpers/reminders/run", json!({})).await;
    assert_eq!(status, 200, "reminders run ({queued:?})");
    let sent: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM platform_reminder_sends WHERE invoice_id = ?1 AND outcome = 'sent'",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sent, 0, "no reminder for a paid invoice");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_the_email_page_and_the_sms_page_at_once_charge_once() {
    let mock = start().await;
    let (member, id) = member_owing(&mock, "4242424242424242", 3100).await;
    let links = link_paths(&mock, &id, &["email", "sms"]).await;
    let b = Browser::new(&mock);
    let email_form = b.open_card_form(&links[0]).await;
    let sms_form = b.open_card_form(&links[1]).await;
    let mock = Arc::new(mock);
    let gate = Arc::new(tokio::sync::Barrier::new(3));
    let app = {
        let (mock, gate, device) = (mock.clone(), gate.clone(), member.device);
        let id = id.clone();
        tokio::spawn(async move {
            gate.wait().await;
            pay(&mock, &device, &id, 3100, &key("race")).await
        })
    };
    let form = |form: String| {
        let (mock, gate) = (mock.clone(), gate.clone());
        tokio::spawn(async move {
            let b = Browser::new(&mock);
            gate.wait().await;
            b.submit_card(&form, "4242424242424242").await
        })
    };
    let (email, sms) = (form(email_form), form(sms_form));
    let (status, app) = app.await.unwrap();
    let (email, sms) = (email.await.unwrap(), sms.await.unwrap());
    assert_eq!(charges_of(&mock, &id), 1, "exactly one charge");
    assert_eq!(status, 200, "{app}");
    let app_won = app["status"] == "succeeded";
    assert!(app_won || app["status"] == "already_paid", "the app: {app}");
    // A form that lost goes back to its link, which says the invoice is paid.
    for (status, location, body) in [&email, &sms] {
        assert_eq!(*status, 303, "{body}");
        let back = location.as_deref().expect("back to the link");
        let (_, _, page) = b.get(back).await;
        assert!(page.contains("Facture déjà payée"), "{page}");
    }
    assert_eq!(unbalanced(&mock), 0);
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    let active: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM platform_invoice_attempts WHERE invoice_id = ?1 AND status IN ('pending', 'processing')",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(active <= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_3ds_under_way_blocks_the_app_even_after_a_clock_jump() {
    let mock = start().await;
    let (member, id) = member_owing(&mock, "4242424242424242", 1999).await;
    let link = link_paths(&mock, &id, &["email"]).await.remove(0);
    let b = Browser::new(&mock);
    let form = b.open_card_form(&link).await;
    let (status, challenge, _) = b.submit_card(&form, "4000002500003155").await;
    assert_eq!(status, 303);
    let challenge = challenge.expect("the challenge page");
    let k = key("blocked");
    let (status, busy) = pay(&mock, &member.device, &id, 1999, &k).await;
    assert_eq!(status, 409, "{busy}");
    assert_eq!(busy["error"]["code"], "payment_in_progress");
    // Days pass (or the clock is set forward): the attempt ends with its intent, not with time.
    mock.advance(3 * 86_400).await;
    let (status, still) = pay(&mock, &member.device, &id, 1999, &k).await;
    assert_eq!(status, 409, "{still}");
    // Another link's page cannot start a second payment either: it shows the wait.
    let sms = link_paths(&mock, &id, &["sms"]).await.remove(0);
    let (status, location, _) = b.post(&format!("{sms}/card"), &[]).await;
    assert_eq!(status, 303);
    assert!(!location.unwrap_or_default().contains("/c/pay/"));
    // The challenge completes: paid once, from the email link; the refused key now pays nothing.
    let (_, back, _) = b.post(&challenge, &[("outcome", "complete")]).await;
    b.get(&back.expect("back")).await;
    let (status, after) = pay(&mock, &member.device, &id, 1999, &k).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["status"], "already_paid");
    assert_eq!(after["invoice"]["paid_via"], "email_link");
    assert_eq!(charges_of(&mock, &id), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_lost_after_its_commit_is_replayed_without_a_second_charge() {
    let mock = start().await;
    let (member, id) = member_owing(&mock, "4242424242424242", 2000).await;
    let (status, _) = mock
        .post(
            "/v1/test_helpers/faults",
            json!({"method": "POST", "path_prefix": "/v1/me/invoices/", "mode": "drop_after_commit", "count": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let k = key("dropped");
    let body = json!({"amount": 2000, "currency": "eur"});
    let lost = pay_with(&mock, &member.device, &id, Some(&k), body.clone()).await;
    assert!(lost.is_none(), "the answer was dropped: {lost:?}");
    assert_eq!(charges_of(&mock, &id), 1, "committed before the drop");
    let (status, replayed) = pay_with(&mock, &member.device, &id, Some(&k), body)
        .await
        .expect("answer");
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(
        replayed["status"], "succeeded",
        "the first answer, not already_paid"
    );
    assert_eq!(charges_of(&mock, &id), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_payments_are_refused_naming_the_param_and_charge_nothing() {
    let mock = start().await;
    let member = tierspay_tests::visits::Member::demo(&mock).await;
    let id = premium_invoice(&mock, 1500).await;
    let d = &member.device;
    // No saved card yet.
    let (status, e) = pay(&mock, d, &id, 1500, &key("nocard")).await;
    assert_eq!(
        (status, &e["error"]["param"]),
        (400, &json!("payment_method")),
        "{e}"
    );
    let (status, saved) = tierspay_tests::visits::save_card(&mock, d, "4242424242424242").await;
    assert_eq!(status, 200, "{saved}");
    for (amount, currency, param) in [
        (0, "eur", "amount"),
        (-5, "eur", "amount"),
        (1501, "eur", "amount"),
        (1500, "usd", "currency"),
    ] {
        let (status, e) = pay_with(
            &mock,
            d,
            &id,
            Some(&key("bad")),
            json!({"amount": amount, "currency": currency}),
        )
        .await
        .unwrap();
        assert_eq!(
            (status, e["error"]["param"].as_str()),
            (400, Some(param)),
            "{e}"
        );
    }
    let (status, e) = pay_with(
        &mock,
        d,
        &id,
        None,
        json!({"amount": 1500, "currency": "eur"}),
    )
    .await
    .unwrap();
    assert_eq!(
        (status, &e["error"]["param"]),
        (400, &json!("Idempotency-Key")),
        "{e}"
    );
    for other in ["in_doesnotexist", "not-an-invoice"] {
        let (status, e) = pay(&mock, d, other, 1500, &key("other")).await;
        assert_eq!(status, 404, "{e}");
    }
    assert_eq!(charges_of(&mock, &id), 0);
    // Voided by the insurer: canceled, nothing charged.
    let psp = Stripe::new(&mock);
    psp.ok_post(&format!("/v1/invoices/{id}/void"), &[]).await;
    let (status, voided) = pay(&mock, d, &id, 1500, &key("void")).await;
    assert_eq!(status, 200, "{voided}");
    assert_eq!(voided["status"], "canceled");
    assert_eq!(voided["invoice"]["status"], "void");
    assert_eq!(charges_of(&mock, &id), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_re_enrollment_only_the_new_phone_can_pay() {
    let mock = start().await;
    let (member, id) = member_owing(&mock, "4242424242424242", 900).await;
    let old = member.device;
    let new = RawDevice::enroll(&mock, DEMO_CONTRACT, DEMO_BIRTH_DATE, DEMO_PHONE).await;
    let (old_status, refused) = pay(&mock, &old, &id, 900, &key("old")).await;
    assert_eq!(old_status, 401, "{refused}");
    let (status, paid) = pay(&mock, &new, &id, 900, &key("new")).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    let (old_status, _) = pay(&mock, &old, &id, 900, &key("old2")).await;
    assert_eq!(old_status, 401);
    assert_eq!(charges_of(&mock, &id), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_come_by_cursor_and_events_wake_a_long_poll() {
    let mock = start().await;
    let (member, first) = member_owing(&mock, "4242424242424242", 700).await;
    let second = premium_invoice(&mock, 800).await;
    let d = &member.device;
    let (status, all) = d
        .send(&mock, "GET", "/v1/me/invoice_changes?limit=1", None)
        .await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        (all["data"][0]["id"].as_str(), &all["has_more"]),
        (Some(first.as_str()), &json!(true))
    );
    let cursor = all["cursor"].as_str().unwrap().to_owned();
    let (_, rest) = d
        .send(
            &mock,
            "GET",
            &format!("/v1/me/invoice_changes?after={cursor}"),
            None,
        )
        .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["id"], second.as_str());
    assert_eq!(rest["has_more"], false);
    let end = rest["cursor"].as_str().unwrap().to_owned();
    for (query, param) in [
        ("after=abc", "after"),
        ("after=-1", "after"),
        ("after=123456789012345678901", "after"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
    ] {
        let (status, e) = d
            .send(
                &mock,
                "GET",
                &format!("/v1/me/invoice_changes?{query}"),
                None,
            )
            .await;
        assert_eq!(
            (status, e["error"]["param"].as_str()),
            (400, Some(param)),
            "{query}: {e}"
        );
    }
    let (_, events) = d.send(&mock, "GET", "/v1/me/events", None).await;
    let last = events["next_after"].as_i64().unwrap();
    assert!(last > 0, "{events}");
    let (status, e) = d.send(&mock, "GET", "/v1/me/events?wait=31", None).await;
    assert_eq!((status, e["error"]["param"].as_str()), (400, Some("wait")));
    // A waiter with nothing new waits; the payment's commit wakes it long before `wait`.
    let mock = Arc::new(mock);
    let device = Arc::new(member.device);
    let waiter = {
        let (mock, device) = (mock.clone(), device.clone());
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let (status, got) = device
                .send(
                    &mock,
                    "GET",
                    &format!("/v1/me/events?after={last}&wait=20"),
                    None,
                )
                .await;
            (status, got, started.elapsed())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, paid) = pay(&mock, &device, &first, 700, &key("wake")).await;
    assert_eq!(status, 200, "{paid}");
    let (status, got, waited) = waiter.await.unwrap();
    assert_eq!(status, 200, "{got}");
    assert!(waited < std::time::Duration::from_secs(10), "{waited:?}");
    assert!(got["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["type"] == "invoice.updated" && e["invoice_id"] == first.as_str()));
    assert!(got["next_after"].as_i64().unwrap() > last);
    let (_, changed) = device
        .send(
            &mock,
            "GET",
            &format!("/v1/me/invoice_changes?after={end}"),
            None,
        )
        .await;
    assert_eq!(changed["data"].as_array().unwrap().len(), 1, "{changed}");
    assert_eq!(changed["data"][0]["status"], "paid");
    assert_eq!(changed["data"][0]["paid_via"], "app");
}
