//! Arrears from the terminal, as a user runs it: the real `tierspay` binary against a real
//! mock. Payment links are signed here with the mock's own key (the one the terminal pins),
//! exactly as the platform signs them, then altered, cut, expired or addressed to another
//! member; `open-link` must show the facts of a good one and refuse every other one, and the
//! refusals reach the server.

mod common;

use common::{enroll, json, tierspay};
use p256::ecdsa::SigningKey;
use serde_json::Value;
use tierspay_core::domain::payment_link::{self, Channel, Currency, LinkClaims, MemberTag};
use tierspay_tests::{Mock, DEMO_CONTRACT};

/// The mock's signing key, unsealed from where the mock keeps it: the key whose public half
/// the terminal pins, and that signs payment links under key id 1.
fn mock_signing_key(mock: &Mock) -> SigningKey {
    mock.signing_key()
}

fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

fn token(key: &SigningKey, member: &str, expires_at: u32, channel: Channel) -> String {
    payment_link::sign(
        &LinkClaims {
            key_id: 1,
            invoice: 4_021,
            member: MemberTag::of(member),
            amount_minor: 4_250,
            currency: Currency::EUR,
            expires_at,
            channel,
        },
        key,
    )
}

fn reports(mock: &Mock) -> Vec<String> {
    mock.snapshot(&["platform_link_reports"])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_link_is_verified_offline_and_every_bad_one_refused_and_reported() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    let member = enroll(&mock, &data).await;
    let key = mock_signing_key(&mock);
    let good = token(&key, &member, now() + 86_400, Channel::Email);

    // Verified with the pinned key, before anything is shown; the page is the canonical one.
    for url in [
        format!("https://app.tierspay.fr/l/{good}"),
        format!("tierspay://l/{good}"),
    ] {
        let out = tierspay(&mock, &data, &["--json", "open-link", &url]);
        assert!(out.status.success(), "{out:?}");
        let doc = json(&out);
        assert_eq!(doc["verified"], true, "{doc}");
        assert_eq!(doc["invoice_number"], 4_021);
        assert_eq!(doc["amount"], 4_250);
        assert_eq!(doc["currency"], "EUR");
        assert_eq!(doc["amount_display"], "€42.50");
        assert_eq!(doc["channel"], "email");
        assert_eq!(doc["key_id"], 1);
        assert_eq!(
            doc["page_url"],
            format!("https://app.tierspay.fr/l/{good}").as_str()
        );
    }
    let out = tierspay(
        &mock,
        &data,
        &["open-link", &format!("https://app.tierspay.fr/l/{good}")],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Verified offline") && text.contains("42,50"),
        "{text}"
    );
    assert!(reports(&mock).is_empty(), "a good link reports nothing");

    // One altered character in the signature, a cut link, an expired one, another member's,
    // a look-alike host: each refused with its own reason, nothing of it shown.
    let mut altered = good.clone().into_bytes();
    altered[100] = if altered[100] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let expired = token(&key, &member, now() - 1, Channel::Sms);
    let other = token(&key, "mbr_someone_else", now() + 86_400, Channel::Push);
    let foreign_key = token(
        &tierspay_core::auth::ecdsa::generate_signing_key(),
        &member,
        now() + 86_400,
        Channel::Email,
    );
    let cases = [
        (
            format!("https://app.tierspay.fr/l/{altered}"),
            "bad_signature",
        ),
        (
            format!("https://app.tierspay.fr/l/{foreign_key}"),
            "bad_signature",
        ),
        (
            format!("https://app.tierspay.fr/l/{}", &good[..80]),
            "truncated",
        ),
        (format!("https://app.tierspay.fr/l/{expired}"), "expired"),
        (format!("tierspay://l/{other}"), "other_member"),
        (format!("https://app-tierspay.fr/l/{good}"), "not_ours"),
        (
            "https://app.tierspay.fr/l/not*a*token".to_owned(),
            "malformed",
        ),
    ];
    for (url, reason) in &cases {
        let out = tierspay(&mock, &data, &["--json", "open-link", url]);
        assert!(out.status.success(), "{out:?}");
        let doc = json(&out);
        assert_eq!(doc["verified"], false, "{url}: {doc}");
        assert_eq!(doc["reason"], *reason, "{url}");
        assert!(
            doc.get("amount").is_none(),
            "nothing of a refused link is shown"
        );
        assert!(doc["message_en"].as_str().unwrap().len() > 10);
        assert!(doc["message_fr"].as_str().unwrap().len() > 10);
        assert_eq!(doc["reports_pending"], 0, "reported at once: {doc}");
    }
    let out = tierspay(
        &mock,
        &data,
        &["open-link", &format!("https://app.tierspay.fr/l/{altered}")],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Do not pay") && text.contains("Ne payez pas"),
        "{text}"
    );

    // The server holds one report per refusal, with a digest, never a token.
    let rows = reports(&mock);
    assert_eq!(rows.len(), cases.len() + 1, "{rows:#?}");
    let all = rows.join("\n");
    for t in [&good, &altered, &expired, &other] {
        assert!(
            !all.contains(t.as_str()),
            "no token reaches the report table"
        );
    }
    assert!(
        all.contains("app-tierspay.fr"),
        "the look-alike host is named"
    );
    assert!(
        all.contains("\"other_member\"") && all.contains("Integer(4021)"),
        "a signed link's invoice is named: {all}"
    );
    // Nor is any token kept on the terminal's phone database.
    let db = String::from_utf8_lossy(&std::fs::read(data.join("tierspay.sqlite3")).unwrap())
        .into_owned();
    for t in [&good, &altered, &expired, &other] {
        assert!(!db.contains(t.as_str()), "no token in the phone's store");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_waits_offline_with_its_key_and_is_reported_once_when_back() {
    let mut mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    let member = enroll(&mock, &data).await;
    let key = mock_signing_key(&mock);
    let expired = token(&key, &member, now() - 10, Channel::Sms);
    mock.stop().await;

    // Offline: the check needs no server; the report waits in the phone's store.
    let out = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "open-link",
            &format!("https://app.tierspay.fr/l/{expired}"),
        ],
    );
    let doc = json(&out);
    assert_eq!(doc["reason"], "expired", "{doc}");
    assert_eq!(doc["reports_pending"], 1);
    let good = token(&key, &member, now() + 600, Channel::App);
    let out = tierspay(
        &mock,
        &data,
        &["--json", "open-link", &format!("tierspay://l/{good}")],
    );
    assert_eq!(
        json(&out)["verified"],
        true,
        "verified with the server down"
    );

    mock.restart().await;
    // The next refusal sends both, oldest first; each is recorded once.
    let out = tierspay(
        &mock,
        &data,
        &["--json", "open-link", "https://app.tierspay.fr/l/"],
    );
    let doc = json(&out);
    assert_eq!(doc["reason"], "truncated", "{doc}");
    assert_eq!(doc["reports_pending"], 0);
    let rows = reports(&mock);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows.iter().any(|r| r.contains("\"expired\"")));
    assert!(rows.iter().any(|r| r.contains("\"truncated\"")));
}

#[tokio::test(flavor = "multi_thread")]
async fn open_link_needs_an_enrolled_terminal_and_routes_other_links_away() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    let out = tierspay(
        &mock,
        &data,
        &["--json", "open-link", "https://app.tierspay.fr/l/AAAA"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json(&out)["error"]["kind"], "not_enrolled");

    enroll(&mock, &data).await;
    let out = tierspay(
        &mock,
        &data,
        &["--json", "open-link", "https://app.tierspay.fr/card"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(json(&out)["error"]["field"], "url");
    // `tierspay link` names the route and sends payment links to open-link.
    let out = tierspay(
        &mock,
        &data,
        &["--json", "link", "https://app.tierspay.fr/s/Ab3dE5gH9k"],
    );
    assert_eq!(json(&out)["route"], "payment_link");
}

/// A premium arrears invoice for the demo member, made by the insurer's back office.
async fn premium_invoice(mock: &Mock, amount: i64, description: &str) -> String {
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(tierspay_tests::PSP_KEY)
        .json(&serde_json::json!({
            "contract": DEMO_CONTRACT,
            "amount": amount,
            "description": description,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: Value = r.json().await.unwrap();
    doc["invoice"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn invoices_are_synced_then_listed_and_shown_offline() {
    let mut mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    enroll(&mock, &data).await;

    let out = tierspay(&mock, &data, &["--json", "invoices", "--offline"]);
    let doc = json(&out);
    assert_eq!(doc["synced_at"], Value::Null, "never synced: {doc}");
    let out = tierspay(&mock, &data, &["--json", "invoices"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["invoices"].as_array().unwrap().len(), 0);
    assert!(json(&out)["synced_at"].is_i64());

    let first = premium_invoice(&mock, 4_250, "Cotisation de novembre").await;
    let second = premium_invoice(&mock, 1_999, "Cotisation <b>de décembre</b>").await;
    let out = tierspay(&mock, &data, &["--json", "invoices"]);
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    let list = doc["invoices"].as_array().unwrap();
    assert_eq!((list.len(), &doc["total"]), (2, &Value::from(2)), "{doc}");
    let by_id = |id: &str| list.iter().find(|i| i["id"] == id).unwrap().clone();
    let a = by_id(&first);
    assert_eq!(a["status"], "open");
    assert_eq!(a["payable"], true);
    assert_eq!(a["amount_remaining"], 4_250);
    assert_eq!(a["amount_remaining_display"], "€42.50");
    assert_eq!(a["currency"], "EUR");
    assert!(a["rf_reference"].as_str().unwrap().starts_with("RF"), "{a}");
    assert!(a["due_date"].as_str().unwrap().len() == 10, "{a}");
    assert_eq!(
        by_id(&second)["description"],
        "Cotisation <b>de décembre</b>",
        "kept as text"
    );

    // Offline: the server is gone, the list and one invoice still read, from the phone.
    mock.stop().await;
    let out = tierspay(&mock, &data, &["--json", "invoices", "--offline"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["invoices"].as_array().unwrap().len(), 2);
    let out = tierspay(&mock, &data, &["invoice", &first]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("€42.50")
            && text.contains("Transfer reference: RF")
            && text.contains("Due date"),
        "{text}"
    );
    let out = tierspay(&mock, &data, &["--json", "invoice", "in_nope"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // Without the server, a sync says so and the list on the phone is untouched.
    let out = tierspay(&mock, &data, &["--json", "invoices"]);
    assert_eq!(json(&out)["error"]["kind"], "network", "{out:?}");
    let out = tierspay(&mock, &data, &["--json", "invoices", "--offline"]);
    assert_eq!(json(&out)["invoices"].as_array().unwrap().len(), 2);
    mock.restart().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platforms_own_links_and_sms_short_links_open_in_the_terminal() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    enroll(&mock, &data).await;
    let invoice = premium_invoice(&mock, 3_000, "Cotisation d'octobre").await;
    let (status, links) = mock
        .post(
            &format!("/v1/test_helpers/invoices/{invoice}/links"),
            serde_json::json!({"channels": ["email", "sms"]}),
        )
        .await;
    assert_eq!(status, 200, "{links}");
    let email = links["data"][0]["url"].as_str().unwrap().to_owned();
    let short = links["data"][1]["short_url"].as_str().unwrap().to_owned();
    assert!(short.starts_with("https://app.tierspay.fr/s/"), "{short}");

    // Signed by the platform with the key the terminal pinned at enrollment, under id 1.
    let out = tierspay(&mock, &data, &["--json", "open-link", &email]);
    let doc = json(&out);
    assert_eq!(doc["verified"], true, "{doc}");
    assert_eq!(
        (doc["amount"].clone(), doc["channel"].clone()),
        (3_000.into(), "email".into())
    );
    // The short code is exchanged once, then the token it names is verified like any other.
    let out = tierspay(&mock, &data, &["--json", "open-link", &short]);
    let doc = json(&out);
    assert_eq!(doc["verified"], true, "{doc}");
    assert_eq!(doc["channel"], "sms");
    assert!(doc["page_url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.tierspay.fr/l/"));

    let out = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "open-link",
            "https://app.tierspay.fr/s/AAAAAAAAAA",
        ],
    );
    let doc = json(&out);
    assert_eq!(doc["verified"], false, "{doc}");
    assert_eq!(doc["reason"], "unknown_short_link");
    // Offline, a short link cannot be exchanged: a network error, not a refusal.
    let mut mock = mock;
    mock.stop().await;
    let out = tierspay(&mock, &data, &["--json", "open-link", &short]);
    assert_eq!(json(&out)["error"]["kind"], "network", "{out:?}");
    let out = tierspay(&mock, &data, &["--json", "open-link", &email]);
    assert_eq!(json(&out)["verified"], true, "a long link needs no server");
}

/// `tierspay --json pay INVOICE`.
fn pay_args(invoice: &str) -> Vec<String> {
    vec!["--json".into(), "pay".into(), invoice.into()]
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_a_payment_waits_in_the_outbox_and_a_second_pay_adds_nothing() {
    let mut mock = Mock::start().await;
    let (_dir, data) = common::enrolled_with_card(&mock).await;
    let invoice = premium_invoice(&mock, 4_250, "Cotisation de novembre").await;
    assert!(tierspay(&mock, &data, &["--json", "invoices"])
        .status
        .success());

    mock.stop().await;
    let args = pay_args(&invoice);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = tierspay(&mock, &data, &args);
    assert!(out.status.success(), "offline is not a failure: {out:?}");
    let doc = json(&out);
    assert_eq!(
        (doc["progress"].as_str(), doc["already_queued"].as_bool()),
        (Some("queued"), Some(false)),
        "{doc}"
    );
    assert_eq!(doc["amount"], 4_250);
    let again = json(&tierspay(&mock, &data, &args));
    assert_eq!(again["already_queued"], true, "{again}");
    assert_eq!(again["seq"], doc["seq"], "the same row");
    let outbox = json(&tierspay(&mock, &data, &["--json", "outbox"]));
    let entries = outbox["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{outbox}");
    assert_eq!(entries[0]["pending"], true);
    assert_eq!(entries[0]["invoice_id"], invoice.as_str());
    let listed = json(&tierspay(
        &mock,
        &data,
        &["--json", "invoices", "--offline"],
    ));
    let shown = &listed["invoices"][0];
    assert_eq!(shown["pay_button"]["enabled"], false, "{shown}");
    assert_eq!(shown["payment"]["pending"], true, "{shown}");
    // A paid or unknown invoice is refused before anything is written.
    let out = tierspay(&mock, &data, &["--json", "pay", "in_nope"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        json(&tierspay(&mock, &data, &["--json", "outbox"]))["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    mock.restart().await;
}

/// A real kill at every step of sending a payment: `tierspay pay` runs with a failpoint that
/// ends the process on the spot (`std::process::exit`, no destructor, no flush of anything the
/// core did not commit), then `tierspay sync` on the same data folder finishes the job. The PSP
/// sees exactly one charge whichever step the process died at.
#[tokio::test(flavor = "multi_thread")]
async fn a_pay_killed_at_every_step_is_finished_by_the_next_sync_with_one_charge() {
    use tierspay_core::failpoints;
    use tierspay_tests::pay_once::charges_of;

    for point in failpoints::ALL {
        // A mock each: the demo holder enrolls once per mock (the SMS code is per enrollment).
        let mock = Mock::start().await;
        let (_dir, data) = common::enrolled_with_card(&mock).await;
        let invoice = premium_invoice(&mock, 4_250, "Cotisation de novembre").await;
        assert!(tierspay(&mock, &data, &["--json", "invoices"])
            .status
            .success());

        let killed = common::command(&mock, &data)
            .env(failpoints::ENV, format!("{point}=exit"))
            .args(["--json", "pay", &invoice])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("tierspay runs");
        assert_eq!(
            killed.status.code(),
            Some(failpoints::EXIT_CODE),
            "{point}: the process died at the failpoint: {killed:?}"
        );
        assert!(charges_of(&mock, &invoice) <= 1, "{point}");

        let out = tierspay(&mock, &data, &["--json", "sync"]);
        assert!(out.status.success(), "{point}: {out:?}");
        assert_eq!(
            charges_of(&mock, &invoice),
            1,
            "{point}: exactly one charge"
        );
        let outbox = json(&tierspay(&mock, &data, &["--json", "outbox"]));
        let entries = outbox["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{point}: one row: {outbox}");
        assert_eq!(entries[0]["pending"], false, "{point}: {outbox}");
        // Another sync sends nothing again.
        assert!(tierspay(&mock, &data, &["--json", "sync"]).status.success());
        assert_eq!(charges_of(&mock, &invoice), 1, "{point}: nothing resent");
    }
}

/// A phone whose clock is set back a day, then ahead an hour (`TIERSPAY_CLOCK_SKEW_SECS`, a
/// `failpoints` hook on the core's one clock read): the platform refuses the first proof for
/// its time, the core takes the server's `Date` and sends the same request again with the same
/// key. The member pays once; a second tap and a sync with the clock ahead charge nothing more.
#[tokio::test(flavor = "multi_thread")]
async fn a_phone_clock_set_back_or_ahead_still_pays_once() {
    use tierspay_core::failpoints::CLOCK_SKEW_ENV;
    use tierspay_tests::pay_once::charges_of;

    let mock = Mock::start().await;
    let (_dir, data) = common::enrolled_with_card(&mock).await;
    let invoice = premium_invoice(&mock, 4_250, "Cotisation de novembre").await;
    let skewed = |secs: &str, args: &[&str]| {
        common::command(&mock, &data)
            .env(CLOCK_SKEW_ENV, secs)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("tierspay runs")
    };
    let listed = skewed("-86400", &["--json", "invoices"]);
    assert!(listed.status.success(), "{listed:?}");
    let paid = skewed("-86400", &["--json", "pay", &invoice]);
    assert!(paid.status.success(), "{paid:?}");
    assert_eq!(json(&paid)["progress"], "paid", "{}", json(&paid));
    assert_eq!(charges_of(&mock, &invoice), 1);
    // A second tap, clock still set back: refused on the phone, nothing sent.
    let again = skewed("-86400", &["--json", "pay", &invoice]);
    assert_ne!(
        json(&again)["progress"].as_str(),
        Some("queued"),
        "{again:?}"
    );
    // Clock an hour ahead (the access token looks expired, the refresh is proved too).
    let synced = skewed("3600", &["--json", "sync"]);
    assert!(synced.status.success(), "{synced:?}");
    assert_eq!(charges_of(&mock, &invoice), 1, "exactly one charge");
    let outbox = json(&tierspay(&mock, &data, &["--json", "outbox"]));
    let entries = outbox["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{outbox}");
    assert_eq!(entries[0]["progress"], "paid", "{outbox}");
}
