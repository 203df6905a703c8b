//! Paying at the doctor, through HTTP against the in-process mock: the member's own card, the
//! visit authorization (re-priced with the engine, a hold for the member's share, the virtual card
//! armed for one provider and one amount), the refusals, cancellation and expiry. Every refusal is
//! checked against a snapshot of the visits, taps, arrears, counters and the PSP's ledger and
//! holds: nothing moves.

use serde_json::{json, Value};
use tierspay_tests::visits::{
    arm_visit, capture, card_of, cents, network_id, provider, read_visit, request, save_card,
    start, tap, visit_until, Member,
};
use tierspay_tests::{raw_proof, Mock, RawDevice, Stripe};

/// A POST with a chosen `Idempotency-Key` (the harness draws a new one per request).
async fn send_keyed(
    mock: &Mock,
    device: &RawDevice,
    path: &str,
    body: &Value,
    key: &str,
) -> (u16, Value) {
    let url = format!("{}{path}", mock.url);
    let response = mock
        .http
        .post(&url)
        .header("authorization", format!("DPoP {}", device.access_token))
        .header(
            "dpop",
            raw_proof(&device.key, "POST", &url, Some(&device.access_token)),
        )
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What a refused request must leave alone.
const MONEY_TABLES: &[&str] = &[
    "platform_visits",
    "platform_taps",
    "platform_arrears",
    "platform_payment_methods",
    "insurer_counters",
    "insurer_ceiling_usage",
    "insurer_pf_daily",
    "psp_ledger_entries",
    "psp_payment_intents",
    "psp_transfers",
    "psp_issuing_authorizations",
];

/// The rows of the tables above that exist in this build.
fn snapshot(mock: &Mock) -> String {
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let present: Vec<&str> = MONEY_TABLES
        .iter()
        .copied()
        .filter(|t| {
            conn.query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [t],
                |_| Ok(()),
            )
            .is_ok()
        })
        .collect();
    mock.snapshot(&present)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_payment_setup_names_the_psp_and_a_publishable_key() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let (status, setup) = member
        .device
        .send(&mock, "GET", "/v1/me/payment_setup", None)
        .await;
    assert_eq!(status, 200, "{setup}");
    assert_eq!(setup["object"], "payment_setup");
    assert_eq!(setup["psp_url"], mock.url.as_str());
    assert!(setup["publishable_key"]
        .as_str()
        .unwrap()
        .starts_with("pk_test_"));
    let (status, none) = member
        .device
        .send(&mock, "GET", "/v1/me/payment_method", None)
        .await;
    assert_eq!(status, 404, "{none}");
    // Without a device, nothing.
    let anonymous = mock.http.get(format!("{}/v1/me/payment_setup", mock.url));
    assert_eq!(anonymous.send().await.unwrap().status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_preview_is_refused_with_the_figures_that_hold_now() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let mut body = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    assert_eq!(
        (
            body["amo"].as_i64(),
            body["amc"].as_i64(),
            body["member"].as_i64()
        ),
        (Some(1900), Some(900), Some(200)),
        "GP 30 €: AMO 19, AMC 9, member 2"
    );
    let fresh = body.clone();
    // The phone's cache was older: it showed another split, under another id.
    body["preview_id"] = json!("pv_oldoldoldoldoldoldold");
    body["amc"] = json!(1000);
    body["member"] = json!(100);
    let before = snapshot(&mock);
    let (status, refused) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "preview_stale");
    assert_eq!(refused["error"]["type"], "invalid_request_error");
    assert_eq!(refused["quote"]["preview_id"], fresh["preview_id"]);
    assert_eq!(
        (
            &refused["quote"]["amo"],
            &refused["quote"]["amc"],
            &refused["quote"]["member"]
        ),
        (&json!(1900), &json!(900), &json!(200))
    );
    // The right id with forged figures is stale too.
    let mut forged = fresh.clone();
    forged["member"] = json!(0);
    forged["amc"] = json!(1100);
    let (status, refused) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(forged))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(snapshot(&mock), before, "nothing armed, nothing held");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_by_field_and_changes_nothing() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let good = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    let before = snapshot(&mock);
    let cases: Vec<(&str, Value, u16)> = vec![
        ("price", json!(0), 400),
        ("price", json!(-3000), 400),
        ("price", json!(100_000_000), 400),
        ("currency", json!("usd"), 400),
        ("member", json!(-1), 400),
        ("date", json!("2026-02-30"), 400),
        ("provider_id", json!("prv_nobody"), 400),
        ("beneficiary_id", json!("ben_someone_else"), 400),
        ("act_code", json!("NOPE"), 400),
        ("preview_id", json!("x".repeat(500)), 400),
    ];
    for (field, value, expected) in cases {
        let mut body = good.clone();
        body[field] = value.clone();
        let (status, answer) = member
            .device
            .send(&mock, "POST", "/v1/visits", Some(body))
            .await;
        assert_eq!(status, expected, "{field}={value}: {answer}");
        assert!(
            answer["error"]["param"]
                .as_str()
                .is_some_and(|p| p.starts_with(field) || p.contains('.') || p == "price"),
            "{field}: {answer}"
        );
    }
    let mut extra = good.clone();
    extra["approve_everything"] = json!(true);
    let (status, _) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(extra))
        .await;
    assert_eq!(status, 400);
    assert_eq!(snapshot(&mock), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_saved_card_a_remainder_cannot_be_held() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let body = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    let before = snapshot(&mock);
    let (status, refused) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 402, "{refused}");
    assert_eq!(refused["error"]["code"], "payment_method_missing");
    assert_eq!(refused["error"]["param"], "payment_method");
    assert_eq!(snapshot(&mock), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visit_with_nothing_left_to_pay_arms_the_card_once_and_cancels() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    // Léa is a child: no participation forfaitaire, the complementary covers the rest.
    let body = request(&mock, &member.device, &member.id("Léa"), &gp, "G", 3000).await;
    assert_eq!(body["member"], 0, "{body}");
    // Two devices at once (two keys): one visit is armed, the other is refused.
    let (a, b) = tokio::join!(
        send_keyed(&mock, &member.device, "/v1/visits", &body, "visit-a"),
        send_keyed(&mock, &member.device, "/v1/visits", &body, "visit-b"),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{a:?} {b:?}");
    let (visit, key) = if a.0 == 201 {
        (a.1, "visit-a")
    } else {
        (b.1, "visit-b")
    };
    // The same key again replays the same visit: one hold, one armed visit.
    let (status, replayed) = send_keyed(&mock, &member.device, "/v1/visits", &body, key).await;
    assert_eq!((status, &replayed), (201, &visit));
    assert_eq!(visit["object"], "visit");
    assert_eq!(visit["status"], "armed");
    assert_eq!(visit["payment_intent"], Value::Null, "nothing to hold");
    assert_eq!(visit["provider_name"], gp["name"]);
    assert_eq!(
        visit["amo"].as_i64().unwrap() + visit["amc"].as_i64().unwrap(),
        3000
    );
    let created = visit["created"].as_i64().unwrap();
    assert_eq!(visit["expires_at"].as_i64().unwrap() - created, 30 * 60);

    // A second authorization (another device, another key) while one is armed: refused.
    let before = snapshot(&mock);
    let (status, again) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body.clone()))
        .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "visit_already_armed");
    assert_eq!(snapshot(&mock), before);

    let id = visit["id"].as_str().unwrap();
    let (status, read) = member
        .device
        .send(&mock, "GET", &format!("/v1/visits/{id}"), None)
        .await;
    assert_eq!((status, &read), (200, &visit));
    let (status, canceled) = member
        .device
        .send(&mock, "POST", &format!("/v1/visits/{id}/cancel"), None)
        .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["status"], "canceled");
    // Cancelled, the card can be armed again.
    let (status, next) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 201, "{next}");
    let (status, list) = member.device.send(&mock, "GET", "/v1/visits", None).await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [next["id"].as_str().unwrap(), id], "newest first");
    let (_, page) = member
        .device
        .send(&mock, "GET", "/v1/visits?limit=1", None)
        .await;
    assert_eq!(page["has_more"], true);
    let (_, rest) = member
        .device
        .send(
            &mock,
            "GET",
            &format!(
                "/v1/visits?limit=1&starting_after={}",
                next["id"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(rest["data"][0]["id"], id);
    assert_eq!(rest["has_more"], false);
    let (status, _) = member
        .device
        .send(&mock, "GET", "/v1/visits?limit=0", None)
        .await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_armed_visit_expires_by_the_business_clock() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let body = request(&mock, &member.device, &member.id("Léa"), &gp, "G", 3000).await;
    let (status, visit) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{visit}");
    let id = visit["id"].as_str().unwrap().to_owned();
    mock.advance(29 * 60).await;
    let (_, read) = member
        .device
        .send(&mock, "GET", &format!("/v1/visits/{id}"), None)
        .await;
    assert_eq!(read["status"], "armed");
    mock.advance(2 * 60).await;
    let (_, read) = member
        .device
        .send(&mock, "GET", &format!("/v1/visits/{id}"), None)
        .await;
    assert_eq!(read["status"], "expired");
    let (status, canceled) = member
        .device
        .send(&mock, "POST", &format!("/v1/visits/{id}/cancel"), None)
        .await;
    assert_eq!((status, &canceled["status"]), (200, &json!("expired")));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_members_visit_is_not_found() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let visit = arm_visit(&mock, &member, "Léa", &gp, "G", 3000).await;
    let other = RawDevice::enroll(&mock, "TP1000002", "1992-11-02", "+33698765432").await;
    let id = visit["id"].as_str().unwrap();
    let (status, _) = other
        .send(&mock, "GET", &format!("/v1/visits/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = other
        .send(&mock, "POST", &format!("/v1/visits/{id}/cancel"), None)
        .await;
    assert_eq!(status, 404);
    let (_, list) = other.send(&mock, "GET", "/v1/visits", None).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_frozen_card_cannot_be_armed() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let body = request(&mock, &member.device, &member.id("Léa"), &gp, "G", 3000).await;
    let (status, _) = member
        .device
        .send(&mock, "POST", "/v1/card/freeze", None)
        .await;
    assert_eq!(status, 200);
    let before = snapshot(&mock);
    let (status, refused) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"]["code"], "card_inactive");
    assert_eq!(snapshot(&mock), before);
}

// ------------------------------------------------------------ with the member's card and taps

const PUSH_TOKEN: &str = "fcm-visit-payment-0001";

/// Camille, with a push token and a saved 4242 card, a GP, and her virtual card's id.
async fn ready(mock: &Mock) -> (Member, Value, String) {
    let member = Member::demo(mock).await;
    let (status, _) = member
        .device
        .send(
            mock,
            "POST",
            "/v1/devices/push_token",
            Some(json!({"service": "fcm", "token": PUSH_TOKEN})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, saved) = save_card(mock, &member.device, "4242424242424242").await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["status"], "active", "{saved}");
    assert_eq!(saved["last4"], "4242");
    let gp = provider(mock, &member.device, "Médecin généraliste").await;
    let card = card_of(mock, &member.device).await;
    (member, gp, card)
}

/// (participations forfaitaires, franchises) paid this year, in cents.
fn counters(mock: &Mock, beneficiary: &str) -> (i64, i64) {
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let (pf, franchise): (String, String) = conn
        .query_row(
            "SELECT pf_paid, franchise_paid FROM insurer_counters WHERE beneficiary_id = ?1",
            [beneficiary],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|_| ("0".into(), "0".into()));
    (cents(&json!(pf)), cents(&json!(franchise)))
}

fn transfers_of(mock: &Mock, visit: &str) -> Vec<i64> {
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let mut stmt = conn
        .prepare("SELECT amount FROM psp_transfers WHERE transfer_group = ?1 ORDER BY amount DESC")
        .expect("transfers");
    stmt.query_map([visit], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn unbalanced_movements(mock: &Mock) -> i64 {
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    conn.query_row(
        "SELECT COUNT(*) FROM (SELECT movement_id FROM psp_ledger_entries
             GROUP BY movement_id, currency HAVING SUM(amount) <> 0)",
        [],
        |r| r.get(0),
    )
    .expect("ledger")
}

/// The money tables of a snapshot (ledger, holds, transfers, arrears, counters), without the
/// decision records a declined tap adds on purpose.
fn money(snapshot: &str) -> String {
    snapshot
        .lines()
        .filter(|l| {
            [
                "psp_ledger_entries",
                "psp_payment_intents",
                "psp_transfers",
                "platform_arrears",
                "insurer_",
            ]
            .iter()
            .any(|t| l.starts_with(t))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gp_visit_is_held_tapped_captured_and_settled_to_the_cent() {
    let mock = start().await;
    let (member, gp, card) = ready(&mock).await;
    let camille = member.id("Camille");
    let body = request(&mock, &member.device, &camille, &gp, "G", 3000).await;
    let (status, visit) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 201, "{visit}");
    let pi = visit["payment_intent"].as_str().expect("a hold").to_owned();
    let psp = Stripe::new(&mock);
    let intent = psp.ok_get(&format!("/v1/payment_intents/{pi}"), &[]).await;
    assert_eq!(intent["status"], "requires_capture", "{intent}");
    assert_eq!(intent["capture_method"], "manual");
    assert_eq!(intent["amount_capturable"], 200);
    let before = counters(&mock, &camille);

    let auth = tap(&mock, &card, 3000, &network_id(&mock, &gp), &[]).await;
    assert_eq!(auth["approved"], true, "{auth}");
    let id = visit["id"].as_str().unwrap();
    let tapped = read_visit(&mock, &member.device, id).await;
    assert_eq!(tapped["status"], "authorized");
    assert_eq!(tapped["authorization"], auth["id"]);
    assert_eq!(
        counters(&mock, &camille),
        before,
        "counters move only with a capture"
    );

    capture(&mock, &auth).await;
    let paid = visit_until(&mock, &member.device, id, |v| v["status"] == "paid").await;
    let s = &paid["settlement"];
    assert_eq!(
        (
            &s["provider_paid"],
            &s["amo"],
            &s["amc"],
            &s["member_captured"],
            &s["arrears"]
        ),
        (
            &json!(3000),
            &json!(1900),
            &json!(900),
            &json!(200),
            &json!(0)
        ),
        "{paid}"
    );
    assert_eq!(
        paid["amo"].as_i64().unwrap()
            + paid["amc"].as_i64().unwrap()
            + paid["member"].as_i64().unwrap(),
        paid["price"].as_i64().unwrap()
    );
    let intent = psp.ok_get(&format!("/v1/payment_intents/{pi}"), &[]).await;
    assert_eq!(intent["status"], "succeeded", "{intent}");
    assert_eq!(intent["amount_received"], 200);
    assert_eq!(
        transfers_of(&mock, id),
        [1900, 900],
        "AMO and AMC, named apart"
    );
    assert_eq!(unbalanced_movements(&mock), 0);
    // The participation forfaitaire withheld now counts for the year, and the next sync says so.
    let after = counters(&mock, &camille);
    assert_eq!(after.0 - before.0, 200);
    let (_, sync) = member.device.send(&mock, "GET", "/v1/sync", None).await;
    assert!(
        sync["contract"]["counters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["beneficiary_id"] == camille.as_str()),
        "{sync}"
    );
    let outbox = mock
        .get(&format!(
            "/v1/test_helpers/outbox?channel=push&limit=5&recipient={PUSH_TOKEN}"
        ))
        .await;
    let texts: Vec<&str> = outbox["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    let expected = format!(
        "Paid 30,00\u{a0}€ to {}: your insurers 28,00\u{a0}€, you 2,00\u{a0}€",
        gp["name"].as_str().unwrap()
    );
    assert!(texts.contains(&expected.as_str()), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_specialist_visit_settles_with_its_own_split() {
    let mock = start().await;
    let (member, _, card) = ready(&mock).await;
    let specialist = provider(&mock, &member.device, "Cardiologue").await;
    let body = request(
        &mock,
        &member.device,
        &member.id("Camille"),
        &specialist,
        "CS",
        3000,
    )
    .await;
    let (amo, amc, share) = (
        body["amo"].as_i64().unwrap(),
        body["amc"].as_i64().unwrap(),
        body["member"].as_i64().unwrap(),
    );
    assert_eq!(amo + amc + share, 3000);
    let (status, visit) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 201, "{visit}");
    let auth = tap(&mock, &card, 3000, &network_id(&mock, &specialist), &[]).await;
    assert_eq!(auth["approved"], true, "{auth}");
    capture(&mock, &auth).await;
    let id = visit["id"].as_str().unwrap();
    let paid = visit_until(&mock, &member.device, id, |v| v["status"] == "paid").await;
    assert_eq!(paid["settlement"]["member_captured"], share);
    let mut expected: Vec<i64> = [amo, amc].into_iter().filter(|a| *a > 0).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(transfers_of(&mock, id), expected);
    assert_eq!(unbalanced_movements(&mock), 0);
}

/// (what, amount, merchant network id, form changes, the platform's decline reason if it is
/// asked: the PSP's own controls decline spas, bars and abroad first).
type AbusiveTap<'a> = (
    &'a str,
    i64,
    &'a str,
    Vec<(&'a str, &'a str)>,
    Option<&'a str>,
);

#[tokio::test(flavor = "multi_thread")]
async fn every_abusive_tap_is_declined_with_its_reason_and_moves_no_money() {
    let mock = start().await;
    let (member, gp, card) = ready(&mock).await;
    let network = network_id(&mock, &gp);
    let before = snapshot(&mock);
    let auth = tap(&mock, &card, 3000, &network, &[]).await;
    assert_eq!(auth["approved"], false, "no armed visit: {auth}");
    assert_eq!(money(&snapshot(&mock)), money(&before));
    let body = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    let (status, visit) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 201, "{visit}");
    let id = visit["id"].as_str().unwrap().to_owned();
    let other = provider(&mock, &member.device, "Pédiatre").await;
    let other_network = network_id(&mock, &other);
    let cases: Vec<AbusiveTap<'_>> = vec![
        (
            "another provider",
            3000,
            &other_network,
            vec![],
            Some("provider_mismatch"),
        ),
        (
            "more than authorized",
            3600,
            &network,
            vec![],
            Some("amount_mismatch"),
        ),
        (
            "a spa",
            3000,
            &network,
            vec![("merchant_data[category]", "health_and_beauty_spas")],
            None,
        ),
        (
            "a bar",
            3000,
            &network,
            vec![("merchant_data[category]", "drinking_places")],
            None,
        ),
        (
            "abroad",
            3000,
            &network,
            vec![("merchant_data[country]", "ES")],
            None,
        ),
    ];
    let armed = snapshot(&mock);
    for (what, amount, net, changes, reason) in cases {
        let auth = tap(&mock, &card, amount, net, &changes).await;
        assert_eq!(auth["approved"], false, "{what}: {auth}");
        let v = read_visit(&mock, &member.device, &id).await;
        assert_eq!(v["status"], "armed", "{what}");
        if let Some(reason) = reason {
            assert_eq!(v["last_decline"], reason, "{what}: {v}");
        }
        assert_eq!(
            money(&snapshot(&mock)),
            money(&armed),
            "{what}: no money moved"
        );
    }
    // The right tap, then the same visit again: used.
    let ok = tap(&mock, &card, 3000, &network, &[]).await;
    assert_eq!(ok["approved"], true, "{ok}");
    let again = tap(&mock, &card, 3000, &network, &[]).await;
    assert_eq!(again["approved"], false, "{again}");
    let v = read_visit(&mock, &member.device, &id).await;
    assert_eq!(
        (&v["status"], &v["last_decline"]),
        (&json!("authorized"), &json!("visit_used"))
    );
    // A frozen card: the PSP declines before anyone is asked.
    let (status, _) = member
        .device
        .send(&mock, "POST", "/v1/card/freeze", None)
        .await;
    assert_eq!(status, 200);
    let frozen = tap(&mock, &card, 3000, &network, &[]).await;
    assert_eq!(frozen["approved"], false, "{frozen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tap_after_expiry_is_declined_and_the_hold_released() {
    let mock = start().await;
    let (member, gp, card) = ready(&mock).await;
    let visit = arm_visit(&mock, &member, "Camille", &gp, "G", 3000).await;
    let pi = visit["payment_intent"].as_str().unwrap().to_owned();
    mock.advance(31 * 60).await;
    let auth = tap(&mock, &card, 3000, &network_id(&mock, &gp), &[]).await;
    assert_eq!(auth["approved"], false, "{auth}");
    let v = read_visit(&mock, &member.device, visit["id"].as_str().unwrap()).await;
    assert_eq!(
        (&v["status"], &v["last_decline"]),
        (&json!("expired"), &json!("visit_expired"))
    );
    let intent = Stripe::new(&mock)
        .ok_get(&format!("/v1/payment_intents/{pi}"), &[])
        .await;
    assert_eq!(intent["status"], "canceled", "the hold is released");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_releases_the_hold() {
    let mock = start().await;
    let (member, gp, _) = ready(&mock).await;
    let visit = arm_visit(&mock, &member, "Camille", &gp, "G", 3000).await;
    let pi = visit["payment_intent"].as_str().unwrap().to_owned();
    let id = visit["id"].as_str().unwrap();
    let (status, canceled) = member
        .device
        .send(&mock, "POST", &format!("/v1/visits/{id}/cancel"), None)
        .await;
    assert_eq!((status, &canceled["status"]), (200, &json!("canceled")));
    let intent = Stripe::new(&mock)
        .ok_get(&format!("/v1/payment_intents/{pi}"), &[])
        .await;
    assert_eq!(intent["status"], "canceled");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_declined_own_card_arms_nothing() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let (status, saved) = save_card(&mock, &member.device, "4000000000009995").await;
    assert_eq!(status, 200, "{saved}");
    let body = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    let before = snapshot(&mock);
    let (status, refused) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 402, "{refused}");
    if saved["status"] == "active" {
        // Insufficient funds shows only when money is asked: the hold fails.
        assert_eq!(refused["error"]["type"], "card_error");
        assert!(refused["error"]["decline_code"].is_string(), "{refused}");
    } else {
        assert_eq!(
            refused["error"]["code"], "payment_method_failed",
            "{refused}"
        );
    }
    assert_eq!(snapshot(&mock), before, "nothing armed, nothing held");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_whose_authentication_is_unfinished_cannot_pay_a_remainder() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let (status, saved) = save_card(&mock, &member.device, "4000002760003184").await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["status"], "requires_action", "{saved}");
    assert!(saved["next_action_url"].is_string());
    let body = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    let before = snapshot(&mock);
    let (status, refused) = member
        .device
        .send(&mock, "POST", "/v1/visits", Some(body))
        .await;
    assert_eq!(status, 402, "{refused}");
    assert_eq!(refused["error"]["code"], "payment_method_requires_action");
    assert_eq!(snapshot(&mock), before);
    // Authenticated at the bank, the card is active the next time the app reads it.
    let seti = saved["setup_intent"].as_str().unwrap();
    Stripe::new(&mock)
        .ok_post(
            &format!("/v1/test_helpers/setup_intents/{seti}/authenticate"),
            &[("outcome", "complete")],
        )
        .await;
    let (status, refreshed) = member
        .device
        .send(&mock, "GET", "/v1/me/payment_method", None)
        .await;
    assert_eq!(
        (status, &refreshed["status"]),
        (200, &json!("active")),
        "{refreshed}"
    );
    assert_eq!(refreshed["next_action_url"], Value::Null);
    // Replacing the card works.
    let (status, replaced) = save_card(&mock, &member.device, "4242424242424242").await;
    assert_eq!((status, &replaced["status"]), (200, &json!("active")));
    let (_, read) = member
        .device
        .send(&mock, "GET", "/v1/me/payment_method", None)
        .await;
    assert_eq!(read["payment_method"], replaced["payment_method"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_share_the_hold_no_longer_covers_becomes_arrears_and_the_insurers_still_pay() {
    let mock = start().await;
    let (member, gp, card) = ready(&mock).await;
    let visit = arm_visit(&mock, &member, "Camille", &gp, "G", 3000).await;
    let id = visit["id"].as_str().unwrap();
    let pi = visit["payment_intent"].as_str().unwrap();
    let auth = tap(&mock, &card, 3000, &network_id(&mock, &gp), &[]).await;
    assert_eq!(auth["approved"], true, "{auth}");
    // The hold lapses before the terminal captures (canceled at the PSP, as at 7 days).
    let psp = Stripe::new(&mock);
    psp.ok_post(&format!("/v1/payment_intents/{pi}/cancel"), &[])
        .await;
    capture(&mock, &auth).await;
    let paid = visit_until(&mock, &member.device, id, |v| v["status"] == "paid").await;
    let s = &paid["settlement"];
    assert_eq!(
        (&s["member_captured"], &s["arrears"], &s["amo"], &s["amc"]),
        (&json!(0), &json!(200), &json!(1900), &json!(900)),
        "{paid}"
    );
    assert_eq!(transfers_of(&mock, id), [1900, 900]);
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let (amount, reason): (i64, String) = conn
        .query_row(
            "SELECT amount, reason FROM platform_arrears WHERE visit_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("an arrears row");
    assert_eq!((amount, reason.as_str()), (200, "hold_canceled"));
    assert_eq!(unbalanced_movements(&mock), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reversed_tap_releases_the_hold() {
    let mock = start().await;
    let (member, gp, card) = ready(&mock).await;
    let visit = arm_visit(&mock, &member, "Camille", &gp, "G", 3000).await;
    let id = visit["id"].as_str().unwrap();
    let pi = visit["payment_intent"].as_str().unwrap();
    let auth = tap(&mock, &card, 3000, &network_id(&mock, &gp), &[]).await;
    assert_eq!(auth["approved"], true, "{auth}");
    let reversed = Stripe::new(&mock)
        .post(
            &format!(
                "/v1/test_helpers/issuing/authorizations/{}/reverse",
                auth["id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(reversed.status, 200, "{}", reversed.body);
    visit_until(&mock, &member.device, id, |v| v["status"] == "reversed").await;
    let intent = Stripe::new(&mock)
        .ok_get(&format!("/v1/payment_intents/{pi}"), &[])
        .await;
    assert_eq!(intent["status"], "canceled");
    assert!(transfers_of(&mock, id).is_empty(), "nothing settled");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tap_within_the_tolerance_is_requoted_and_settled_at_its_amount() {
    let mock = start().await;
    let (member, gp, card) = ready(&mock).await;
    let visit = arm_visit(&mock, &member, "Camille", &gp, "G", 3000).await;
    let id = visit["id"].as_str().unwrap();
    let expected = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 2800).await;
    let auth = tap(&mock, &card, 2800, &network_id(&mock, &gp), &[]).await;
    assert_eq!(auth["approved"], true, "{auth}");
    let tapped = read_visit(&mock, &member.device, id).await;
    assert_eq!(
        (
            &tapped["price"],
            &tapped["amo"],
            &tapped["amc"],
            &tapped["member"]
        ),
        (
            &json!(2800),
            &expected["amo"],
            &expected["amc"],
            &expected["member"]
        ),
        "{tapped}"
    );
    capture(&mock, &auth).await;
    let paid = visit_until(&mock, &member.device, id, |v| v["status"] == "paid").await;
    assert_eq!(paid["settlement"]["provider_paid"], 2800);
    assert_eq!(paid["settlement"]["member_captured"], expected["member"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_receiver_answers_only_a_fresh_valid_signature() {
    use tierspay_server_mock::http::webhook_signature::header_value;
    let mock = start().await;
    let before = snapshot(&mock);
    let event = json!({"id": "evt_forged", "type": "issuing_authorization.request",
        "data": {"object": {"id": "iauth_forged", "card": "ic_x", "pending_request": {"amount": 3000}}}})
    .to_string();
    let url = format!("{}/v1/platform/psp_events", mock.url);
    let post = |signature: Option<String>| {
        let mut r = mock
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(event.clone());
        if let Some(s) = signature {
            r = r.header("stripe-signature", s);
        }
        r.send()
    };
    let now = tierspay_tests::stripe::now();
    let cases = [
        (None, "signature_missing"),
        (
            Some(header_value(
                &["whsec_not_the_secret"],
                now,
                event.as_bytes(),
            )),
            "signature_invalid",
        ),
        (
            Some(header_value(
                &["whsec_not_the_secret"],
                now - 301,
                event.as_bytes(),
            )),
            "signature_invalid",
        ),
        (Some("t=abc,v1=00".to_owned()), "signature_invalid"),
        (
            Some(format!("t={now},{}", "v1=00,".repeat(400))),
            "signature_invalid",
        ),
    ];
    for (signature, code) in cases {
        let response = post(signature.clone()).await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{signature:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{signature:?}: {body}");
    }
    assert_eq!(snapshot(&mock), before, "a forged event decides nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn authorizing_twice_with_one_key_holds_once() {
    let mock = start().await;
    let (member, gp, _) = ready(&mock).await;
    let body = request(&mock, &member.device, &member.id("Camille"), &gp, "G", 3000).await;
    let first = send_keyed(&mock, &member.device, "/v1/visits", &body, "authorize-once").await;
    assert_eq!(first.0, 201, "{}", first.1);
    let second = send_keyed(&mock, &member.device, "/v1/visits", &body, "authorize-once").await;
    assert_eq!(second, first, "replayed");
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let holds: i64 = conn
        .query_row("SELECT COUNT(*) FROM psp_payment_intents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(holds, 1, "one hold");
}
