//! The PSP's payments over HTTP, as Stripe's clients drive them: the member's card saved with
//! the publishable key, SetupIntents, manual-capture PaymentIntents, every test card, 3D Secure
//! through the hosted page and the test helper, holds that are canceled or lapse after 7 days,
//! Connect transfers both ways, the double-entry ledger, bad input, idempotent replays.

use serde_json::Value;
use tierspay_server_mock::psp::{PUBLISHABLE_KEY, RESTRICTED_KEY};
use tierspay_tests::invoices::{card, s};
use tierspay_tests::stripe::{code, connected_account, param};
use tierspay_tests::{Mock, Stripe};

const PLATFORM: &str = "acct_1TiersPayPlatform";
const WEEK: i64 = 7 * 24 * 3600;

/// The tables money and payments live in: a refused request leaves them as they were.
const PAYMENT_TABLES: &[&str] = &[
    "psp_customers",
    "psp_payment_methods",
    "psp_setup_intents",
    "psp_payment_intents",
    "psp_charges",
    "psp_transfers",
    "psp_ledger_movements",
    "psp_ledger_entries",
    "psp_balance_transactions",
    "psp_accounts",
];

/// A form's fields.
type Form<'a> = &'a [(&'a str, &'a str)];

async fn customer(psp: &Stripe<'_>) -> String {
    let c = psp
        .ok_post(
            "/v1/customers",
            &[("name", "Membre 7Q2M"), ("metadata[member]", "m_1")],
        )
        .await;
    s(&c["id"]).to_owned()
}

/// A card saved for off-session use: SetupIntent confirmed at once (no 3D Secure card).
async fn saved_card(psp: &Stripe<'_>, mock: &Mock, number: &str) -> (String, String) {
    let cus = customer(psp).await;
    let pm = card(mock, number).await;
    let si = psp
        .ok_post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", s(&pm["id"])),
                ("confirm", "true"),
                ("usage", "off_session"),
                ("payment_method_types[]", "card"),
            ],
        )
        .await;
    assert_eq!(si["status"], "succeeded", "{si}");
    (cus, s(&pm["id"]).to_owned())
}

async fn hold(psp: &Stripe<'_>, cus: &str, pm: &str, amount: &str) -> Value {
    psp.ok_post(
        "/v1/payment_intents",
        &[
            ("amount", amount),
            ("currency", "eur"),
            ("customer", cus),
            ("payment_method", pm),
            ("capture_method", "manual"),
            ("confirm", "true"),
            ("off_session", "true"),
            ("transfer_group", "visit_1"),
        ],
    )
    .await
}

fn ledger_sum(mock: &Mock) -> (i64, i64) {
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    let total: i64 = db
        .query_row(
            "SELECT COALESCE(SUM(amount), 0) FROM psp_ledger_entries",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let unbalanced: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT movement_id FROM psp_ledger_entries
             GROUP BY movement_id, currency HAVING SUM(amount) <> 0)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (total, unbalanced)
}

async fn available(psp: &Stripe<'_>) -> i64 {
    let b = psp.ok_get("/v1/balance", &[]).await;
    b["available"][0]["amount"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_saved_with_the_publishable_key_pays_a_partially_captured_hold() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let pm = card(&mock, "4242 4242 4242 4242").await;
    assert!(s(&pm["id"]).starts_with("pm_"));
    assert_eq!(pm["card"]["brand"], "visa");
    assert_eq!(pm["card"]["last4"], "4242");
    assert_eq!(pm["card"]["exp_year"], 2034);
    assert_eq!(pm["card"]["funding"], "credit");
    assert_eq!(pm["card"]["checks"]["cvc_check"], "unchecked");
    assert!(!s(&pm["card"]["fingerprint"]).is_empty());
    assert!(!pm.to_string().contains("4242424242424242"));
    // The same card typed again has the same fingerprint.
    let again = card(&mock, "4242424242424242").await;
    assert_eq!(again["card"]["fingerprint"], pm["card"]["fingerprint"]);

    let cus = customer(&psp).await;
    let si = psp
        .ok_post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", s(&pm["id"])),
                ("usage", "off_session"),
            ],
        )
        .await;
    assert_eq!(si["status"], "requires_confirmation");
    assert!(s(&si["client_secret"]).starts_with(s(&si["id"])));
    let si = psp
        .ok_post(&format!("/v1/setup_intents/{}/confirm", s(&si["id"])), &[])
        .await;
    assert_eq!(si["status"], "succeeded", "{si}");
    let listed = psp
        .ok_get(&format!("/v1/customers/{cus}/payment_methods"), &[])
        .await;
    assert_eq!(listed["data"][0]["id"], pm["id"]);
    assert_eq!(listed["data"][0]["card"]["checks"]["cvc_check"], "pass");
    let updated = psp
        .ok_post(
            &format!("/v1/customers/{cus}"),
            &[("invoice_settings[default_payment_method]", s(&pm["id"]))],
        )
        .await;
    assert_eq!(
        updated["invoice_settings"]["default_payment_method"],
        pm["id"]
    );

    let pi = hold(&psp, &cus, s(&pm["id"]), "10000").await;
    assert_eq!(pi["status"], "requires_capture", "{pi}");
    assert_eq!(pi["amount_capturable"], 10000);
    assert_eq!(pi["amount_received"], 0);
    let id = s(&pi["id"]).to_owned();
    let held = psp
        .ok_get(
            &format!("/v1/payment_intents/{id}"),
            &[("expand[]", "latest_charge")],
        )
        .await;
    let charge = &held["latest_charge"];
    assert!(s(&charge["id"]).starts_with("ch_"));
    assert_eq!(charge["captured"], false);
    assert_eq!(charge["balance_transaction"], Value::Null);
    assert_eq!(
        charge["payment_method_details"]["card"]["capture_before"]
            .as_i64()
            .unwrap(),
        charge["created"].as_i64().unwrap() + WEEK
    );
    assert_eq!(available(&psp).await, 0, "a hold moves no money");

    let captured = psp
        .ok_post(
            &format!("/v1/payment_intents/{id}/capture"),
            &[
                ("amount_to_capture", "6000"),
                ("expand[]", "latest_charge.balance_transaction"),
            ],
        )
        .await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["amount_received"], 6000);
    assert_eq!(captured["amount_capturable"], 0);
    let txn = &captured["latest_charge"]["balance_transaction"];
    assert_eq!(txn["object"], "balance_transaction");
    assert_eq!(txn["type"], "charge");
    assert_eq!(txn["amount"], 6000);
    assert_eq!(txn["fee"], 115, "1.5 % + 0.25");
    assert_eq!(txn["net"], 5885);
    assert_eq!(captured["latest_charge"]["amount_captured"], 6000);

    assert_eq!(available(&psp).await, 5885);
    assert_eq!(ledger_sum(&mock), (0, 0));
    let txns = psp
        .ok_get("/v1/balance_transactions", &[("type", "charge")])
        .await;
    assert_eq!(txns["data"].as_array().unwrap().len(), 1);

    let events = psp
        .ok_get(
            "/v1/events",
            &[("type", "payment_intent.*"), ("limit", "100")],
        )
        .await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]))
        .collect();
    for k in [
        "payment_intent.created",
        "payment_intent.amount_capturable_updated",
        "payment_intent.succeeded",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }

    // Neither the number nor the CVC is readable from the database files.
    drop(mock.snapshot(&["psp_payment_methods"]));
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", mock.db_path().display());
        if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("4242424242424242"),
                "{path} holds the number"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_test_card_ends_as_stripe_says() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let declines = [
        ("4000000000000002", "card_declined", "generic_decline"),
        ("4000000000009995", "card_declined", "insufficient_funds"),
        ("4000000000009987", "card_declined", "lost_card"),
        ("4000000000009979", "card_declined", "stolen_card"),
        ("4000000000000069", "expired_card", "expired_card"),
        ("4000000000000127", "incorrect_cvc", "incorrect_cvc"),
        ("4000000000000119", "processing_error", "processing_error"),
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
    ];
    for (number, expected_code, decline) in declines {
        let pm = if number.starts_with("pm_") {
            number.to_owned()
        } else {
            s(&card(&mock, number).await["id"]).to_owned()
        };
        let a = psp
            .post(
                "/v1/payment_intents",
                &[
                    ("amount", "2500"),
                    ("currency", "eur"),
                    ("payment_method", &pm),
                    ("confirm", "true"),
                ],
            )
            .await;
        assert_eq!(a.status, 402, "{number}: {}", a.body);
        let e = &a.body["error"];
        assert_eq!(e["type"], "card_error");
        assert_eq!(
            (s(&e["code"]), s(&e["decline_code"])),
            (expected_code, decline),
            "{number}"
        );
        assert_eq!(e["payment_intent"]["status"], "requires_payment_method");
        assert_eq!(
            e["payment_intent"]["last_payment_error"]["decline_code"],
            decline
        );
        assert!(s(&e["charge"]).starts_with("ch_"));
        // The decline committed: the intent reads back in the same state, its charge failed.
        let pi = psp
            .ok_get(
                &format!("/v1/payment_intents/{}", s(&e["payment_intent"]["id"])),
                &[("expand[]", "latest_charge")],
            )
            .await;
        assert_eq!(pi["last_payment_error"]["code"], expected_code);
        assert_eq!(pi["latest_charge"]["status"], "failed");
        assert_eq!(pi["latest_charge"]["outcome"]["reason"], decline);
    }
    for number in ["4242424242424242", "pm_card_visa"] {
        let pm = if number.starts_with("pm_") {
            number.to_owned()
        } else {
            s(&card(&mock, number).await["id"]).to_owned()
        };
        let pi = psp
            .ok_post(
                "/v1/payment_intents",
                &[
                    ("amount", "2500"),
                    ("currency", "eur"),
                    ("payment_method", &pm),
                    ("confirm", "true"),
                ],
            )
            .await;
        assert_eq!(pi["status"], "succeeded", "{number}");
        assert_eq!(pi["amount_received"], 2500);
    }
    for number in ["4000002500003155", "4000002760003184", "4000008260003178"] {
        let pm = card(&mock, number).await;
        let pi = psp
            .ok_post(
                "/v1/payment_intents",
                &[
                    ("amount", "2500"),
                    ("currency", "eur"),
                    ("payment_method", s(&pm["id"])),
                    ("confirm", "true"),
                ],
            )
            .await;
        assert_eq!(pi["status"], "requires_action", "{number}");
        assert_eq!(pi["next_action"]["type"], "redirect_to_url");
        assert!(s(&pi["next_action"]["redirect_to_url"]["url"]).contains("/redirect/authenticate/"));
        let done = psp
            .ok_post(
                &format!(
                    "/v1/test_helpers/payment_intents/{}/authenticate",
                    s(&pi["id"])
                ),
                &[("outcome", "complete")],
            )
            .await;
        if number == "4000008260003178" {
            assert_eq!(
                done["status"], "requires_payment_method",
                "authenticated, then declined"
            );
            assert_eq!(
                done["last_payment_error"]["decline_code"],
                "insufficient_funds"
            );
        } else {
            assert_eq!(done["status"], "succeeded", "{number}: {done}");
        }
    }
    // Off-session, a card that must authenticate is declined: nobody is there to do it.
    let (cus, pm) = saved_card(&psp, &mock, "4242424242424242").await;
    drop(pm);
    let always = card(&mock, "4000002760003184").await;
    let a = psp
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "2500"),
                ("currency", "eur"),
                ("payment_method", s(&always["id"])),
                ("confirm", "true"),
                ("off_session", "true"),
            ],
        )
        .await;
    assert_eq!(a.status, 402, "{}", a.body);
    assert_eq!(code(&a), "authentication_required");
    assert_eq!(a.body["error"]["charge"], Value::Null);
    drop(cus);
    assert_eq!(ledger_sum(&mock), (0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn three_d_secure_through_the_hosted_page_and_the_test_helper() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // A setup of the card that asks for 3D Secure once: the member completes the page.
    let cus = customer(&psp).await;
    let pm = card(&mock, "4000002500003155").await;
    let si = psp
        .ok_post(
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", s(&pm["id"])),
                ("confirm", "true"),
                ("return_url", "https://app.tierspay.example/setup-done"),
            ],
        )
        .await;
    assert_eq!(si["status"], "requires_action", "{si}");
    let url = s(&si["next_action"]["redirect_to_url"]["url"]).to_owned();
    assert_eq!(
        si["next_action"]["redirect_to_url"]["return_url"],
        "https://app.tierspay.example/setup-done"
    );
    let page = no_redirect.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(html.contains("name=\"outcome\" value=\"complete\""));
    assert!(!html.contains("<script"));
    let answer = no_redirect
        .post(&url)
        .form(&[("outcome", "complete")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("https://app.tierspay.example/setup-done?setup_intent=seti_"));
    assert!(location.contains("redirect_status=succeeded"), "{location}");
    let si = psp
        .ok_get(&format!("/v1/setup_intents/{}", s(&si["id"])), &[])
        .await;
    assert_eq!(si["status"], "succeeded");
    // The page is single-use.
    let again = no_redirect
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(again.contains("over"), "{again}");
    let replay = no_redirect
        .post(&url)
        .form(&[("outcome", "complete")])
        .send()
        .await
        .unwrap();
    assert_ne!(replay.status(), 303);

    // Set up off-session, the card now pays off-session without a challenge.
    let pi = hold(&psp, &cus, s(&pm["id"]), "4200").await;
    assert_eq!(pi["status"], "requires_capture", "{pi}");

    // On-session, it still asks; the page's Fail button fails the payment.
    let pi = psp
        .ok_post(
            "/v1/payment_intents",
            &[
                ("amount", "4200"),
                ("currency", "eur"),
                ("customer", &cus),
                ("payment_method", s(&pm["id"])),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(pi["status"], "requires_action");
    let url = s(&pi["next_action"]["redirect_to_url"]["url"]).to_owned();
    let answer = no_redirect
        .post(&url)
        .form(&[("outcome", "fail")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await.unwrap().contains("failed"));
    let pi = psp
        .ok_get(&format!("/v1/payment_intents/{}", s(&pi["id"])), &[])
        .await;
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(
        pi["last_payment_error"]["code"],
        "payment_intent_authentication_failure"
    );

    // The test helper does what the page does; it refuses an intent not waiting for it.
    let always = card(&mock, "4000002760003184").await;
    let pi = psp
        .ok_post(
            "/v1/payment_intents",
            &[
                ("amount", "900"),
                ("currency", "eur"),
                ("payment_method", s(&always["id"])),
                ("capture_method", "manual"),
                ("confirm", "true"),
            ],
        )
        .await;
    let helper = format!(
        "/v1/test_helpers/payment_intents/{}/authenticate",
        s(&pi["id"])
    );
    let done = psp.ok_post(&helper, &[("outcome", "complete")]).await;
    assert_eq!(done["status"], "requires_capture");
    let twice = psp.post(&helper, &[("outcome", "complete")]).await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    // A bad token is a 404 page, not a crash.
    let bad = no_redirect
        .get(format!("{}/redirect/authenticate/3ds_nope", mock.url))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_releases_and_a_hold_lapses_after_seven_days() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let (cus, pm) = saved_card(&psp, &mock, "4242424242424242").await;

    let pi = hold(&psp, &cus, &pm, "5000").await;
    let id = s(&pi["id"]).to_owned();
    let canceled = psp
        .ok_post(
            &format!("/v1/payment_intents/{id}/cancel"),
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["amount_capturable"], 0);
    assert_eq!(canceled["cancellation_reason"], "requested_by_customer");
    let charge = psp
        .ok_get(
            &format!("/v1/charges/{}", s(&canceled["latest_charge"])),
            &[],
        )
        .await;
    assert_eq!(charge["refunded"], true);
    assert_eq!(charge["amount_refunded"], 5000);
    let a = psp
        .post(&format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "payment_intent_unexpected_state")
    );
    assert_eq!(available(&psp).await, 0);

    let pi = hold(&psp, &cus, &pm, "5000").await;
    let id = s(&pi["id"]).to_owned();
    mock.advance(WEEK - 60).await;
    let still = psp.ok_get(&format!("/v1/payment_intents/{id}"), &[]).await;
    assert_eq!(still["status"], "requires_capture");
    mock.advance(61).await;
    let lapsed = psp.ok_get(&format!("/v1/payment_intents/{id}"), &[]).await;
    assert_eq!(lapsed["status"], "canceled");
    assert_eq!(lapsed["cancellation_reason"], "automatic");
    let a = psp
        .post(&format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "payment_intent_unexpected_state")
    );
    let expired = psp
        .ok_get("/v1/events", &[("type", "charge.expired")])
        .await;
    assert_eq!(expired["data"].as_array().unwrap().len(), 1);
    assert_eq!(ledger_sum(&mock), (0, 0));
    assert_eq!(available(&psp).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn transfers_go_both_ways_and_the_ledger_balances() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let acct = connected_account(&psp, "Mutuelle Test", &[("metadata[insurer]", "ins_1")]).await;
    let acct_id = s(&acct["id"]).to_owned();
    assert!(acct_id.starts_with("acct_"));
    assert_eq!(acct["business_profile"]["name"], "Mutuelle Test");
    let insurer = psp.for_account(&acct_id);

    let topup = psp
        .ok_post(
            "/v1/topups",
            &[
                ("amount", "100000"),
                ("currency", "eur"),
                ("description", "float"),
            ],
        )
        .await;
    assert_eq!(topup["status"], "succeeded");
    let funded = insurer
        .ok_post("/v1/topups", &[("amount", "50000"), ("currency", "eur")])
        .await;
    assert_eq!(funded["object"], "topup");
    assert_eq!(available(&psp).await, 100000);
    assert_eq!(available(&insurer).await, 50000);

    let out = psp
        .ok_post(
            "/v1/transfers",
            &[
                ("amount", "30000"),
                ("currency", "eur"),
                ("destination", &acct_id),
                ("transfer_group", "visit_9"),
            ],
        )
        .await;
    assert!(s(&out["id"]).starts_with("tr_"));
    // The insurer's share of a visit, collected from its account (an account debit).
    let back = insurer
        .ok_post(
            "/v1/transfers",
            &[
                ("amount", "12500"),
                ("currency", "eur"),
                ("destination", PLATFORM),
                ("transfer_group", "visit_9"),
            ],
        )
        .await;
    assert_eq!(back["destination"], PLATFORM);
    assert_eq!(available(&psp).await, 100000 - 30000 + 12500);
    assert_eq!(available(&insurer).await, 50000 + 30000 - 12500);

    let group = psp
        .ok_get("/v1/transfers", &[("transfer_group", "visit_9")])
        .await;
    assert_eq!(
        group["data"].as_array().unwrap().len(),
        1,
        "the platform lists its own transfers"
    );
    let txns = insurer
        .ok_get("/v1/balance_transactions", &[("type", "transfer")])
        .await;
    let amounts: Vec<i64> = txns["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![-12500, 30000]);
    let tu = insurer
        .ok_get("/v1/balance_transactions", &[("type", "topup")])
        .await;
    assert_eq!(tu["data"][0]["source"], funded["id"]);

    // Refusals: overdraft, between connected accounts, unknown destination, to oneself.
    let second = psp.ok_post("/v1/accounts", &[("type", "custom")]).await;
    let a = insurer
        .post(
            "/v1/transfers",
            &[
                ("amount", "1000"),
                ("currency", "eur"),
                ("destination", s(&second["id"])),
            ],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "destination"), "{}", a.body);
    let a = insurer
        .post(
            "/v1/transfers",
            &[
                ("amount", "99999999"),
                ("currency", "eur"),
                ("destination", PLATFORM),
            ],
        )
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "balance_insufficient"),
        "{}",
        a.body
    );
    let a = psp
        .post(
            "/v1/transfers",
            &[
                ("amount", "100"),
                ("currency", "eur"),
                ("destination", "acct_nobody"),
            ],
        )
        .await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (404, "resource_missing", "destination")
    );
    let a = psp
        .post(
            "/v1/transfers",
            &[
                ("amount", "100"),
                ("currency", "eur"),
                ("destination", PLATFORM),
            ],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "destination"));
    let a = Stripe::new(&mock)
        .for_account("acct_unknown")
        .get("/v1/balance", &[])
        .await;
    assert_eq!((a.status, code(&a)), (403, "account_invalid"));

    // A transfer funded by a charge: at most what the charge captured.
    let (cus, pm) = saved_card(&psp, &mock, "4242424242424242").await;
    let pi = hold(&psp, &cus, &pm, "8000").await;
    let pi = psp
        .ok_post(
            &format!("/v1/payment_intents/{}/capture", s(&pi["id"])),
            &[],
        )
        .await;
    let ch = s(&pi["latest_charge"]).to_owned();
    let ok = psp
        .ok_post(
            "/v1/transfers",
            &[
                ("amount", "8000"),
                ("currency", "eur"),
                ("destination", &acct_id),
                ("source_transaction", &ch),
            ],
        )
        .await;
    assert_eq!(ok["source_transaction"], ch.as_str());
    let a = psp
        .post(
            "/v1/transfers",
            &[
                ("amount", "1"),
                ("currency", "eur"),
                ("destination", &acct_id),
                ("source_transaction", &ch),
            ],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "amount"), "{}", a.body);

    let (total, unbalanced) = ledger_sum(&mock);
    assert_eq!((total, unbalanced), (0, 0));
    // Balances are the ledger: what the platform and the insurer hold plus the outside world's
    // accounts sum to zero.
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    let external: i64 = db
        .query_row(
            "SELECT SUM(amount) FROM psp_ledger_entries WHERE account LIKE 'external:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        available(&psp).await + available(&insurer).await + external,
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_by_name_and_changes_nothing() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let phone = Stripe::with_key(&mock, PUBLISHABLE_KEY);
    let (cus, pm) = saved_card(&psp, &mock, "4242424242424242").await;
    let other = customer(&psp).await;
    let before = mock.snapshot(PAYMENT_TABLES);

    let pm_cases: &[(Form, u16, &str, &str)] = &[
        (
            &[
                ("type", "card"),
                ("card[number]", "4242424242424241"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
            402,
            "incorrect_number",
            "card[number]",
        ),
        (
            &[
                ("type", "card"),
                ("card[number]", "4242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
            ],
            402,
            "incorrect_number",
            "card[number]",
        ),
        (
            &[
                ("type", "card"),
                ("card[number]", "4242x"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
            ],
            402,
            "invalid_number",
            "card[number]",
        ),
        (
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "13"),
                ("card[exp_year]", "2034"),
            ],
            402,
            "invalid_expiry_month",
            "card[exp_month]",
        ),
        (
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2020"),
            ],
            402,
            "invalid_expiry_year",
            "card[exp_year]",
        ),
        (
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "12"),
            ],
            402,
            "invalid_cvc",
            "card[cvc]",
        ),
        (
            &[
                ("type", "card"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
            ],
            400,
            "parameter_invalid",
            "card[number]",
        ),
        (&[("type", "sepa_debit")], 400, "parameter_invalid", "type"),
        (
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[pin]", "1"),
            ],
            400,
            "parameter_unknown",
            "card[pin]",
        ),
    ];
    for (form, status, expected_code, expected_param) in pm_cases {
        let a = phone.post("/v1/payment_methods", form).await;
        assert_eq!(
            (a.status, code(&a), param(&a)),
            (*status, *expected_code, *expected_param),
            "{form:?}: {}",
            a.body
        );
        if a.status == 402 {
            assert_eq!(a.body["error"]["type"], "card_error");
        }
    }
    let pi_cases: &[(Form, &str, &str)] = &[
        (&[("currency", "eur")], "parameter_invalid", "amount"),
        (
            &[("amount", "0"), ("currency", "eur")],
            "parameter_invalid_integer",
            "amount",
        ),
        (
            &[("amount", "-500"), ("currency", "eur")],
            "parameter_invalid_integer",
            "amount",
        ),
        (
            &[("amount", "10"), ("currency", "eur")],
            "amount_too_small",
            "amount",
        ),
        (
            &[("amount", "100000000"), ("currency", "eur")],
            "amount_too_large",
            "amount",
        ),
        (
            &[("amount", "1.5"), ("currency", "eur")],
            "parameter_invalid",
            "amount",
        ),
        (
            &[("amount", "1000"), ("currency", "usd")],
            "parameter_invalid",
            "currency",
        ),
        (
            &[
                ("amount", "1000"),
                ("currency", "eur"),
                ("capture_method", "later"),
            ],
            "parameter_invalid",
            "capture_method",
        ),
        (
            &[("amount", "1000"), ("currency", "eur"), ("confirm", "yes")],
            "parameter_invalid",
            "confirm",
        ),
        (
            &[("amount", "1000"), ("currency", "eur"), ("tip", "1")],
            "parameter_unknown",
            "tip",
        ),
        (
            &[
                ("amount", "1000"),
                ("currency", "eur"),
                ("return_url", "javascript:alert(1)"),
            ],
            "parameter_invalid",
            "return_url",
        ),
    ];
    for (form, expected_code, expected_param) in pi_cases {
        let a = psp.post("/v1/payment_intents", form).await;
        assert_eq!(
            (a.status, code(&a), param(&a)),
            (400, *expected_code, *expected_param),
            "{form:?}: {}",
            a.body
        );
    }
    let a = psp
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "eur"),
                ("customer", "cus_nobody"),
            ],
        )
        .await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (404, "resource_missing", "customer")
    );
    let a = psp
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "eur"),
                ("payment_method", "pm_nobody"),
            ],
        )
        .await;
    assert_eq!((a.status, param(&a)), (404, "payment_method"));
    // Someone else's card.
    let a = psp
        .post(
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "eur"),
                ("customer", &other),
                ("payment_method", &pm),
            ],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "payment_method"), "{}", a.body);
    for path in [
        "/v1/payment_intents/pi_nobody",
        "/v1/setup_intents/seti_nobody",
        "/v1/payment_methods/pm_nobody",
        "/v1/customers/cus_nobody",
        "/v1/charges/ch_nobody",
        "/v1/transfers/tr_nobody",
        "/v1/accounts/acct_nobody",
    ] {
        let a = psp.get(path, &[]).await;
        assert_eq!((a.status, code(&a)), (404, "resource_missing"), "{path}");
    }
    let a = psp.post("/v1/payment_intents/pi_nobody/capture", &[]).await;
    assert_eq!(a.status, 404);
    assert_eq!(
        before,
        mock.snapshot(PAYMENT_TABLES),
        "refusals wrote nothing"
    );

    // Capture: not above what is held, not twice.
    let pi = hold(&psp, &cus, &pm, "3000").await;
    let capture = format!("/v1/payment_intents/{}/capture", s(&pi["id"]));
    let a = psp.post(&capture, &[("amount_to_capture", "3001")]).await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (400, "amount_too_large", "amount_to_capture"),
        "{}",
        a.body
    );
    let a = psp.post(&capture, &[("amount_to_capture", "0")]).await;
    assert_eq!((a.status, param(&a)), (400, "amount_to_capture"));
    psp.ok_post(&capture, &[("amount_to_capture", "3000")])
        .await;
    let a = psp.post(&capture, &[]).await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "payment_intent_unexpected_state")
    );
    let a = psp
        .post(&format!("/v1/payment_intents/{}/cancel", s(&pi["id"])), &[])
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "payment_intent_unexpected_state")
    );

    // Keys: the publishable key only where Stripe allows it; a restricted key nowhere.
    for path in [
        "/v1/payment_intents",
        "/v1/customers",
        "/v1/transfers",
        "/v1/setup_intents",
    ] {
        let a = phone
            .post(path, &[("amount", "1000"), ("currency", "eur")])
            .await;
        assert_eq!(
            (a.status, code(&a)),
            (403, "secret_key_required"),
            "{path}: {}",
            a.body
        );
    }
    let a = phone.get(&format!("/v1/payment_methods/{pm}"), &[]).await;
    assert_eq!((a.status, code(&a)), (403, "secret_key_required"));
    let a = phone.get("/v1/balance", &[]).await;
    assert_eq!((a.status, code(&a)), (403, "secret_key_required"));
    // With the client secret a publishable key reads its own intent, without it nothing.
    let a = phone
        .get(&format!("/v1/payment_intents/{}", s(&pi["id"])), &[])
        .await;
    assert_eq!(a.status, 404);
    let a = phone
        .get(
            &format!("/v1/payment_intents/{}", s(&pi["id"])),
            &[("client_secret", s(&pi["client_secret"]))],
        )
        .await;
    assert_eq!(a.status, 200);
    let restricted = Stripe::with_key(&mock, RESTRICTED_KEY);
    let a = restricted.get("/v1/payment_intents", &[]).await;
    assert_eq!((a.status, code(&a)), (403, "permission_denied"));
    let a = restricted
        .post("/v1/payment_methods", &[("type", "card")])
        .await;
    assert_eq!(a.status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotent_replay_returns_the_same_object_and_moves_no_money() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let (cus, pm) = saved_card(&psp, &mock, "4242424242424242").await;
    let form = [
        ("amount", "7000"),
        ("currency", "eur"),
        ("customer", cus.as_str()),
        ("payment_method", pm.as_str()),
        ("capture_method", "manual"),
        ("confirm", "true"),
        ("off_session", "true"),
    ];
    let headers = [
        ("idempotency-key", "visit-42-hold"),
        ("stripe-version", "2025-03-31.basil"),
    ];
    let first = psp.post_with("/v1/payment_intents", &form, &headers).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(!first.replayed);
    assert_eq!(first.header("idempotency-key"), "visit-42-hold");
    let request_id = first.header("request-id").to_owned();
    assert!(request_id.starts_with("req_"));
    let second = psp.post_with("/v1/payment_intents", &form, &headers).await;
    assert!(second.replayed);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("idempotency-key"), "visit-42-hold");
    assert_eq!(second.header("original-request"), request_id);
    let listed = psp
        .ok_get("/v1/payment_intents", &[("customer", &cus)])
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "one intent");

    // Events name the request that caused them and the version it asked for.
    let created = psp
        .ok_get("/v1/events", &[("type", "payment_intent.created")])
        .await;
    let e = &created["data"][0];
    assert_eq!(e["request"]["id"], request_id.as_str());
    assert_eq!(e["request"]["idempotency_key"], "visit-42-hold");
    assert_eq!(e["api_version"], "2025-03-31.basil");

    let id = s(&first.body["id"]).to_owned();
    let capture = format!("/v1/payment_intents/{id}/capture");
    let key = [("idempotency-key", "visit-42-capture")];
    let c1 = psp
        .post_with(&capture, &[("amount_to_capture", "5000")], &key)
        .await;
    assert_eq!(c1.status, 200);
    let ledger = mock.snapshot(&["psp_ledger_entries", "psp_balance_transactions"]);
    let c2 = psp
        .post_with(&capture, &[("amount_to_capture", "5000")], &key)
        .await;
    assert!(c2.replayed);
    assert_eq!(c2.body, c1.body);
    assert_eq!(
        ledger,
        mock.snapshot(&["psp_ledger_entries", "psp_balance_transactions"]),
        "no money moved twice"
    );

    let acct = psp.ok_post("/v1/accounts", &[("type", "custom")]).await;
    let t = [
        ("amount", "4000"),
        ("currency", "eur"),
        ("destination", s(&acct["id"])),
    ];
    let key = [("idempotency-key", "visit-42-share")];
    let t1 = psp.post_with("/v1/transfers", &t, &key).await;
    assert_eq!(t1.status, 200, "{}", t1.body);
    let ledger = mock.snapshot(&["psp_ledger_entries"]);
    let t2 = psp.post_with("/v1/transfers", &t, &key).await;
    assert!(t2.replayed);
    assert_eq!(t2.body["id"], t1.body["id"]);
    assert_eq!(ledger, mock.snapshot(&["psp_ledger_entries"]));
    // The same key with another body is refused.
    let t3 = psp
        .post_with(
            "/v1/transfers",
            &[
                ("amount", "4001"),
                ("currency", "eur"),
                ("destination", s(&acct["id"])),
            ],
            &key,
        )
        .await;
    assert_eq!(t3.status, 400);
    assert_eq!(t3.body["error"]["type"], "idempotency_error");
    // A decline is an answer too: replayed, not re-run.
    let declined = card(&mock, "4000000000000002").await;
    let d = [
        ("amount", "900"),
        ("currency", "eur"),
        ("payment_method", s(&declined["id"])),
        ("confirm", "true"),
    ];
    let key = [("idempotency-key", "declined-once")];
    let d1 = psp.post_with("/v1/payment_intents", &d, &key).await;
    let d2 = psp.post_with("/v1/payment_intents", &d, &key).await;
    assert_eq!((d1.status, d2.status), (402, 402));
    assert!(d2.replayed);
    assert_eq!(d1.body, d2.body);
    assert_eq!(ledger_sum(&mock), (0, 0));
}
