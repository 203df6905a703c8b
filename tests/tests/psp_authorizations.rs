//! Issuing authorizations: a tap at a terminal decided as Stripe Issuing decides it (card,
//! controls and balance first, then the real-time decision webhook), the hold, capture,
//! reversal, expiry and increments with their ledger movements, and idempotent taps (ADR 0006).

use std::time::Duration;

use serde_json::Value;
use tierspay_server_mock::Limits;
use tierspay_tests::stripe::{code, google_push, param};
use tierspay_tests::webhook_receiver::{disable_platform_endpoint, Behaviour, Receiver};
use tierspay_tests::{Mock, Stripe};

const TAP: &str = "/v1/test_helpers/issuing/authorizations";
const ISSUING: &str = "acct_1TiersPayPlatform:issuing";
const HELD: &str = "acct_1TiersPayPlatform:issuing_held";
const REQUEST: &[&str] = &["issuing_authorization.request"];

/// A mock whose only decision hook is a test receiver, a funded Issuing balance and a
/// healthcare card (doctors and pharmacies, France).
struct World {
    mock: Mock,
    card: String,
}

impl World {
    async fn start(limits: Limits) -> Self {
        let mock = Mock::start_with(limits).await;
        let psp = Stripe::new(&mock);
        disable_platform_endpoint(&psp).await;
        psp.ok_post(
            "/v1/topups",
            &[
                ("amount", "1000000"),
                ("currency", "eur"),
                ("destination_balance", "issuing"),
            ],
        )
        .await;
        let ich = psp.cardholder("Membre A1").await;
        let card = psp.active_card(&ich).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Self { mock, card }
    }

    fn psp(&self) -> Stripe<'_> {
        Stripe::new(&self.mock)
    }

    async fn tap(&self, amount: &str, category: &str) -> tierspay_tests::Answer {
        self.psp()
            .post(
                TAP,
                &[
                    ("card", &self.card),
                    ("amount", amount),
                    ("currency", "eur"),
                    ("merchant_data[category]", category),
                    ("merchant_data[name]", "Dr Martin"),
                    ("merchant_data[city]", "Paris"),
                    ("merchant_data[country]", "FR"),
                    ("merchant_data[network_id]", "NET123"),
                    ("merchant_data[terminal_id]", "T1"),
                ],
            )
            .await
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.mock.db_path()).unwrap()
    }

    /// A ledger account's balance, read from the database file.
    fn ledger(&self, account: &str) -> i64 {
        self.db()
            .query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM psp_ledger_entries WHERE account = ?1",
                [account],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// The whole ledger sums to zero, and the running balances match it.
    fn ledger_balances(&self) {
        let total: i64 = self
            .db()
            .query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM psp_ledger_entries",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(total, 0);
        // The running balances the funds checks read agree with the entries, account by account.
        let drift: i64 = self
            .db()
            .query_row(
                "SELECT COUNT(*) FROM (SELECT account, currency, SUM(amount) AS s FROM psp_ledger_entries
                 GROUP BY account, currency) e LEFT JOIN psp_ledger_balances b USING (account, currency)
                 WHERE b.amount IS NOT e.s",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(drift, 0);
    }

    fn count(&self, table: &str) -> i64 {
        self.db()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }
}

fn reason(auth: &Value) -> &str {
    auth["request_history"]
        .as_array()
        .and_then(|h| h.last())
        .and_then(|e| e["reason"].as_str())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn declines_before_the_hook_never_reach_it() {
    let w = World::start(Limits::default()).await;
    let hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Approve(None)).await;
    for category in ["7298", "health_and_beauty_spas", "5813", "drinking_places"] {
        let a = w.tap("2500", category).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["approved"], false, "{category}");
        assert_eq!(a.body["status"], "closed");
        assert_eq!(reason(&a.body), "spending_controls", "{category}");
        assert!(a.body["pending_request"].is_null());
    }
    let abroad = w
        .psp()
        .post(
            TAP,
            &[
                ("card", &w.card),
                ("amount", "1000"),
                ("merchant_data[category]", "doctors"),
                ("merchant_data[country]", "DE"),
            ],
        )
        .await;
    assert_eq!(reason(&abroad.body), "spending_controls");
    w.psp().set_status(&w.card, "inactive").await;
    let frozen = w.tap("2500", "doctors").await;
    assert_eq!(reason(&frozen.body), "card_inactive");
    w.psp().set_status(&w.card, "canceled").await;
    let canceled = w.tap("2500", "doctors").await;
    assert_eq!(reason(&canceled.body), "card_canceled");
    assert!(hook.of_type("issuing_authorization.request").is_empty());
    assert_eq!(w.ledger(HELD), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hook_approves_and_the_amount_is_held() {
    let w = World::start(Limits::default()).await;
    let hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Approve(None)).await;
    let before = w.ledger(ISSUING);
    let a = w.tap("2500", "doctors").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let auth = &a.body;
    assert_eq!(auth["object"], "issuing.authorization");
    assert!(auth["id"].as_str().unwrap().starts_with("iauth_"));
    assert_eq!(auth["approved"], true, "{auth}");
    assert_eq!(auth["status"], "pending");
    assert_eq!(auth["amount"], 2500);
    assert_eq!(reason(auth), "webhook_approved");
    assert!(auth["pending_request"].is_null());
    assert_eq!(auth["card"]["id"], w.card.as_str());
    assert_eq!(auth["card"]["object"], "issuing.card");
    assert_eq!(auth["merchant_data"]["category_code"], "8011");
    assert_eq!(auth["merchant_data"]["terminal_id"], "T1");
    assert_eq!(auth["livemode"], false);
    assert_eq!(
        auth["balance_transactions"][0]["type"],
        "issuing_authorization_hold"
    );
    assert_eq!(auth["balance_transactions"][0]["amount"], -2500);
    assert_eq!(w.ledger(ISSUING), before - 2500);
    assert_eq!(w.ledger(HELD), 2500);
    w.ledger_balances();

    // The request event the hook saw: signed, Stripe-shaped, with the pending request.
    let asked = hook.of_type("issuing_authorization.request");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].signature_ok);
    let event = &asked[0].event;
    assert!(event["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(event["object"], "event");
    assert_eq!(event["data"]["object"]["id"], auth["id"]);
    assert_eq!(event["data"]["object"]["pending_request"]["amount"], 2500);
    assert!(event["request"].get("idempotency_key").is_some());

    let id = auth["id"].as_str().unwrap();
    let read = w
        .psp()
        .ok_get(&format!("/v1/issuing/authorizations/{id}"), &[])
        .await;
    assert_eq!(read["id"], id);
    let list = w
        .psp()
        .ok_get(
            "/v1/issuing/authorizations",
            &[("card", &w.card), ("status", "pending")],
        )
        .await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hook_declines_with_its_reason_and_partial_approvals_need_a_controllable_amount() {
    let w = World::start(Limits::default()).await;
    let hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Decline("not_covered".into())).await;
    let a = w.tap("2500", "doctors").await;
    assert_eq!(a.body["approved"], false);
    assert_eq!(a.body["status"], "closed");
    assert_eq!(reason(&a.body), "webhook_declined");
    assert_eq!(
        a.body["request_history"][0]["reason_message"],
        "not_covered"
    );
    assert_eq!(a.body["metadata"]["decline_cause"], "not_covered");
    assert_eq!(w.ledger(HELD), 0);

    hook.set(Behaviour::Approve(Some(1000)));
    let fixed = w.tap("2500", "doctors").await;
    assert_eq!(
        fixed.body["amount"], 2500,
        "not controllable: the whole amount"
    );
    let partial = w
        .psp()
        .ok_post(
            TAP,
            &[
                ("card", &w.card),
                ("amount", "2500"),
                ("merchant_data[category]", "doctors"),
                ("is_amount_controllable", "true"),
            ],
        )
        .await;
    assert_eq!(partial["amount"], 1000);
    assert_eq!(partial["approved"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_answer_in_time_applies_the_default_and_errors_say_so() {
    let w = World::start(Limits {
        authorization_decision_ms: 300,
        ..Limits::default()
    })
    .await;
    // No endpoint at all: the default at once.
    let a = w.tap("2500", "doctors").await;
    assert_eq!(reason(&a.body), "webhook_timeout");
    assert_eq!(a.body["approved"], false);

    let hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Sleep(Duration::from_secs(2))).await;
    let slow = w.tap("2500", "doctors").await;
    assert_eq!(reason(&slow.body), "webhook_timeout", "{}", slow.body);
    assert_eq!(slow.body["approved"], false);

    for (behaviour, what) in [
        (Behaviour::Status(500), "500"),
        (Behaviour::Status(404), "404"),
        (Behaviour::Garbage, "garbage"),
    ] {
        hook.set(behaviour);
        let a = w.tap("2500", "doctors").await;
        assert_eq!(reason(&a.body), "webhook_error", "{what}: {}", a.body);
        assert_eq!(a.body["approved"], false);
    }
    // Connection refused: an endpoint on a port nobody listens on.
    w.psp()
        .ok_post(
            &format!("/v1/webhook_endpoints/{}", hook.endpoint),
            &[("disabled", "true")],
        )
        .await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    w.psp()
        .ok_post(
            "/v1/webhook_endpoints",
            &[
                ("url", &url),
                ("enabled_events[]", "issuing_authorization.request"),
            ],
        )
        .await;
    let refused = w.tap("2500", "doctors").await;
    assert_eq!(reason(&refused.body), "webhook_error", "{}", refused.body);
    assert_eq!(w.ledger(HELD), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_can_be_configured_to_approve() {
    let w = World::start(Limits {
        authorization_decision_ms: 200,
        authorization_timeout_approves: true,
        ..Limits::default()
    })
    .await;
    let _hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Sleep(Duration::from_secs(1))).await;
    let a = w.tap("2500", "doctors").await;
    assert_eq!(reason(&a.body), "webhook_timeout");
    assert_eq!(a.body["approved"], true);
    assert_eq!(w.ledger(HELD), 2500);
}

#[tokio::test(flavor = "multi_thread")]
async fn capture_reverse_expire_increment_and_finalize_move_money_that_sums_to_zero() {
    let w = World::start(Limits::default()).await;
    let _hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Approve(None)).await;
    let psp = w.psp();
    let start = w.ledger(ISSUING);
    let helper = |id: &str, op: &str| format!("{TAP}/{id}/{op}");
    let new = || async {
        w.tap("10000", "doctors").await.body["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Full capture: the hold comes back and the amount leaves for the network.
    let a = new().await;
    let captured = psp.ok_post(&helper(&a, "capture"), &[]).await;
    assert_eq!(captured["status"], "closed");
    let ipi = &captured["transactions"][0];
    assert_eq!(ipi["object"], "issuing.transaction");
    assert_eq!(ipi["type"], "capture");
    assert_eq!(ipi["amount"], -10000);
    assert!(ipi["id"].as_str().unwrap().starts_with("ipi_"));
    let types: Vec<&str> = captured["balance_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "issuing_authorization_hold",
            "issuing_authorization_release"
        ]
    );
    assert_eq!(w.ledger(ISSUING), start - 10000);
    assert_eq!(w.ledger("external:card_network"), 10000);
    assert_eq!(w.ledger(HELD), 0);
    let ipi_id = ipi["id"].as_str().unwrap();
    let read = psp
        .ok_get(&format!("/v1/issuing/transactions/{ipi_id}"), &[])
        .await;
    assert_eq!(read["authorization"], a.as_str());
    let listed = psp
        .ok_get("/v1/issuing/transactions", &[("card", &w.card)])
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let again = psp.post(&helper(&a, "capture"), &[]).await;
    assert_eq!(
        (again.status, code(&again)),
        (400, "authorization_not_pending")
    );

    // Partial capture that keeps it open, then the rest reversed.
    let b = new().await;
    let part = psp
        .ok_post(
            &helper(&b, "capture"),
            &[("capture_amount", "4000"), ("close_authorization", "false")],
        )
        .await;
    assert_eq!(part["status"], "pending");
    assert_eq!(w.ledger(HELD), 6000);
    let reversed = psp.ok_post(&helper(&b, "reverse"), &[]).await;
    assert_eq!(reversed["status"], "reversed");
    assert_eq!(w.ledger(HELD), 0);
    assert_eq!(w.ledger(ISSUING), start - 14000);

    // Partial reversal, then expiry releases the rest.
    let c = new().await;
    let r = psp
        .ok_post(&helper(&c, "reverse"), &[("reverse_amount", "3000")])
        .await;
    assert_eq!(r["status"], "pending");
    assert_eq!(r["amount"], 7000);
    let too_much = psp
        .post(&helper(&c, "reverse"), &[("reverse_amount", "8000")])
        .await;
    assert_eq!((too_much.status, param(&too_much)), (400, "reverse_amount"));
    let e = psp.ok_post(&helper(&c, "expire"), &[]).await;
    assert_eq!(e["status"], "expired");
    assert_eq!(w.ledger(HELD), 0);

    // Increment within the balance, refused beyond it; finalize lower; capture.
    let d = new().await;
    let inc = psp
        .ok_post(&helper(&d, "increment"), &[("increment_amount", "5000")])
        .await;
    assert_eq!(inc["amount"], 15000);
    assert_eq!(w.ledger(HELD), 15000);
    let over = psp
        .ok_post(&helper(&d, "increment"), &[("increment_amount", "5000000")])
        .await;
    assert_eq!(over["amount"], 15000);
    assert_eq!(reason(&over), "insufficient_funds");
    let fin = psp
        .ok_post(&helper(&d, "finalize_amount"), &[("final_amount", "12000")])
        .await;
    assert_eq!(fin["amount"], 12000);
    assert_eq!(w.ledger(HELD), 12000);
    psp.ok_post(&helper(&d, "capture"), &[]).await;
    assert_eq!(w.ledger(HELD), 0);
    assert_eq!(w.ledger(ISSUING), start - 14000 - 12000);
    w.ledger_balances();

    let events = psp
        .ok_get("/v1/events", &[("type", "issuing_transaction.created")])
        .await;
    assert_eq!(events["data"].as_array().unwrap().len(), 3);
    let updated = psp
        .ok_get("/v1/events", &[("type", "issuing_authorization.updated")])
        .await;
    assert!(updated["data"].as_array().unwrap().len() >= 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_tap_answers_the_same_authorization() {
    let w = World::start(Limits::default()).await;
    let hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Approve(None)).await;
    let form = [
        ("card", w.card.as_str()),
        ("amount", "2500"),
        ("merchant_data[category]", "doctors"),
    ];
    let first = w.psp().post_idempotent(TAP, &form, "tap-1").await;
    let second = w.psp().post_idempotent(TAP, &form, "tap-1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(!first.replayed);
    assert!(second.replayed);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(w.count("psp_authorizations"), 1);
    assert_eq!(hook.of_type("issuing_authorization.request").len(), 1);
    let other = w
        .psp()
        .post_idempotent(TAP, &[("card", w.card.as_str()), ("amount", "1")], "tap-1")
        .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.body["error"]["type"], "idempotency_error");
    // A tap declined before the hook is replayed too.
    let spa = [
        ("card", w.card.as_str()),
        ("amount", "2500"),
        ("merchant_data[category]", "7298"),
    ];
    let d1 = w.psp().post_idempotent(TAP, &spa, "tap-2").await;
    let d2 = w.psp().post_idempotent(TAP, &spa, "tap-2").await;
    assert_eq!(d1.body["id"], d2.body["id"]);
    assert!(d2.replayed);
    assert_eq!(w.count("psp_authorizations"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_key_twice_at_once_makes_one_authorization() {
    let w = World::start(Limits::default()).await;
    let hook = Receiver::start(
        &w.psp(),
        REQUEST,
        Behaviour::Sleep(Duration::from_millis(300)),
    )
    .await;
    let form = [
        ("card", w.card.as_str()),
        ("amount", "2500"),
        ("merchant_data[category]", "doctors"),
    ];
    let psp = w.psp();
    let (a, b) = tokio::join!(
        psp.post_idempotent(TAP, &form, "tap-c"),
        psp.post_idempotent(TAP, &form, "tap-c")
    );
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(a.body["approved"], true);
    assert_eq!(w.count("psp_authorizations"), 1);
    assert_eq!(hook.of_type("issuing_authorization.request").len(), 1);
    assert_eq!(w.ledger(HELD), 2500);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tap_killed_while_deciding_is_decided_once_by_its_retry() {
    let w = World::start(Limits {
        authorization_decision_ms: 500,
        ..Limits::default()
    })
    .await;
    let hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Sleep(Duration::from_secs(5))).await;
    let form = [
        ("card", w.card.as_str()),
        ("amount", "2500"),
        ("merchant_data[category]", "doctors"),
    ];
    // The client gives up while the hook is still thinking: its connection closes.
    let gone = w
        .mock
        .http
        .post(format!("{}{TAP}", w.mock.url))
        .bearer_auth(tierspay_tests::PSP_KEY)
        .header("idempotency-key", "tap-k")
        .form(&form)
        .timeout(Duration::from_millis(150))
        .send()
        .await;
    assert!(gone.is_err());
    assert_eq!(
        w.count("psp_authorizations"),
        1,
        "committed before the hook"
    );
    hook.set(Behaviour::Approve(None));
    let retry = w.psp().post_idempotent(TAP, &form, "tap-k").await;
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.body["approved"], true, "{}", retry.body);
    assert_eq!(w.count("psp_authorizations"), 1);
    assert_eq!(w.ledger(HELD), 2500);
    let again = w.psp().post_idempotent(TAP, &form, "tap-k").await;
    assert!(again.replayed);
    assert_eq!(again.body["id"], retry.body["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wallet_token_taps_as_its_card() {
    let w = World::start(Limits::default()).await;
    let _hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Approve(None)).await;
    let psp = w.psp();
    let push = google_push(&psp, &w.card, "w", "d1").await;
    let token = push.body["token"].as_str().unwrap().to_owned();
    let opc = push.body["opaque_payment_card"]
        .as_str()
        .unwrap()
        .to_owned();
    let tap = [
        ("card", token.as_str()),
        ("amount", "2500"),
        ("merchant_data[category]", "drug_stores_and_pharmacies"),
    ];
    // Not active yet: declined before the hook.
    let requested = psp.ok_post(TAP, &tap).await;
    assert_eq!(reason(&requested), "card_inactive");
    psp.ok_post(
        &format!("/v1/test_helpers/issuing/tokens/{token}/activate"),
        &[
            ("opaque_payment_card", &opc),
            ("wallet_account_id", "w"),
            ("device_id", "d1"),
        ],
    )
    .await;
    let a = psp.ok_post(TAP, &tap).await;
    assert_eq!(a["approved"], true, "{a}");
    assert_eq!(a["wallet"], "google_pay");
    assert_eq!(a["token"], token.as_str());
    assert_eq!(a["authorization_method"], "contactless");
    assert_eq!(a["card"]["id"], w.card.as_str());
    let wrong = psp
        .post(
            TAP,
            &[
                ("card", token.as_str()),
                ("amount", "1"),
                ("wallet", "apple_pay"),
            ],
        )
        .await;
    assert_eq!((wrong.status, param(&wrong)), (400, "wallet"));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_taps_are_refused_naming_the_field_and_write_nothing() {
    let w = World::start(Limits::default()).await;
    let psp = w.psp();
    let card = w.card.as_str();
    let before = w.count("psp_authorizations");
    let long_name = "x".repeat(101);
    // (form, the field named, status)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, u16);
    let cases: Vec<Case> = vec![
        (vec![("amount", "100")], "card", 400),
        (vec![("card", "ic_missing"), ("amount", "100")], "card", 404),
        (
            vec![("card", "intok_missing"), ("amount", "100")],
            "card",
            404,
        ),
        (vec![("card", card)], "amount", 400),
        (vec![("card", card), ("amount", "0")], "amount", 400),
        (vec![("card", card), ("amount", "-5")], "amount", 400),
        (vec![("card", card), ("amount", "100000000")], "amount", 400),
        (vec![("card", card), ("amount", "1.5")], "amount", 400),
        (
            vec![("card", card), ("amount", "100"), ("currency", "usd")],
            "currency",
            400,
        ),
        (
            vec![("card", card), ("amount", "100"), ("currency", "euro")],
            "currency",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("merchant_data[category]", "pizza"),
            ],
            "merchant_data[category]",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("merchant_data[category]", "0001"),
            ],
            "merchant_data[category]",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("merchant_data[country]", "fr"),
            ],
            "merchant_data[country]",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("merchant_data[postal_code]", "75<001"),
            ],
            "merchant_data[postal_code]",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("merchant_data[name]", &long_name),
            ],
            "merchant_data[name]",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("merchant_data[colour]", "red"),
            ],
            "merchant_data[colour]",
            400,
        ),
        (
            vec![("card", card), ("amount", "100"), ("wallet", "samsung")],
            "wallet",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("authorization_method", "telepathy"),
            ],
            "authorization_method",
            400,
        ),
        (
            vec![
                ("card", card),
                ("amount", "100"),
                ("is_amount_controllable", "yes"),
            ],
            "is_amount_controllable",
            400,
        ),
    ];
    for (form, field, status) in cases {
        let a = psp.post(TAP, &form).await;
        assert_eq!(a.status, status, "{form:?}: {}", a.body);
        assert_eq!(param(&a), field, "{form:?}: {}", a.body);
    }
    assert_eq!(w.count("psp_authorizations"), before);
    let missing = psp
        .get("/v1/issuing/authorizations/iauth_missing", &[])
        .await;
    assert_eq!((missing.status, param(&missing)), (404, "id"));
}

#[tokio::test(flavor = "multi_thread")]
async fn created_and_updated_events_reach_subscribed_endpoints() {
    let w = World::start(Limits::default()).await;
    let _hook = Receiver::start(&w.psp(), REQUEST, Behaviour::Approve(None)).await;
    let listener = Receiver::start(
        &w.psp(),
        &[
            "issuing_authorization.created",
            "issuing_authorization.updated",
            "issuing_transaction.created",
        ],
        Behaviour::Approve(None),
    )
    .await;
    let id = w.tap("2500", "doctors").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    w.psp().ok_post(&format!("{TAP}/{id}/capture"), &[]).await;
    tierspay_tests::wait_for("three events", || listener.received().len(), |n| *n >= 3).await;
    let got = listener.received();
    assert!(got.iter().all(|d| d.signature_ok));
    for kind in [
        "issuing_authorization.created",
        "issuing_authorization.updated",
        "issuing_transaction.created",
    ] {
        assert!(got.iter().any(|d| d.event["type"] == kind), "{kind}");
    }
    assert!(listener.of_type("issuing_authorization.request").is_empty());
}
