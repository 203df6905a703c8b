//! Webhook delivery for insurers: an endpoint that is down (refusing connections, answering
//! 500, timing out) gets every event once it is back, each attempt in its delivery log; a
//! rolled secret signs beside the new one for its overlap; invoice, payment and credit-note
//! events reach an insurer's endpoint.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use tierspay_server_mock::http::webhook_signature;
use tierspay_server_mock::Limits;
use tierspay_tests::stripe::{now, param};
use tierspay_tests::{Mock, Stripe};

/// Polls `read` every 25 ms until `done`, for at most 30 s, then fails naming `what`.
async fn wait_for<S: std::fmt::Debug, F: std::future::Future<Output = S>>(
    what: &str,
    read: impl Fn() -> F,
    done: impl Fn(&S) -> bool,
) -> S {
    for _ in 0..1200 {
        let value = read().await;
        if done(&value) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: {:?}", read().await);
}

/// How the flaky receiver answers while it listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 200.
    Up,
    /// 500.
    Error,
    /// Answers nothing for longer than the mock's delivery deadline.
    Hang,
}

#[derive(Clone, Default)]
struct Seen {
    mode: Arc<Mutex<Option<Mode>>>,
    /// Secrets to check the signature with: a delivery is accepted if every one verifies.
    secrets: Arc<Mutex<Vec<String>>>,
    /// Accepted event ids, and the `v1` count of each accepted delivery's header.
    accepted: Arc<Mutex<Vec<(String, usize)>>>,
}

async fn hook(State(s): State<Seen>, headers: HeaderMap, body: Bytes) -> Response {
    let mode = s.mode.lock().unwrap().unwrap_or(Mode::Up);
    match mode {
        Mode::Error => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            return StatusCode::OK.into_response();
        }
        Mode::Up => {}
    }
    let header = headers
        .get(webhook_signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let secrets = s.secrets.lock().unwrap().clone();
    let ok = !secrets.is_empty()
        && secrets
            .iter()
            .all(|secret| webhook_signature::verify(&header, &body, secret, now(), 300).is_ok());
    if !ok {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let v1 = header.split(',').filter(|e| e.starts_with("v1=")).count();
    s.accepted
        .lock()
        .unwrap()
        .push((event["id"].as_str().unwrap_or_default().to_owned(), v1));
    StatusCode::OK.into_response()
}

/// A receiver on a fixed loopback port that can be taken down (the port closed: connections
/// refused) and brought back on the same port.
struct Flaky {
    addr: SocketAddr,
    seen: Seen,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Flaky {
    async fn new() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        Self {
            addr,
            seen: Seen::default(),
            task: None,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    async fn up(&mut self, mode: Mode) {
        *self.seen.mode.lock().unwrap() = Some(mode);
        if self.task.is_some() {
            return;
        }
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(self.seen.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    async fn down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    fn accepted(&self) -> Vec<(String, usize)> {
        self.seen.accepted.lock().unwrap().clone()
    }
}

fn fast_retries() -> Limits {
    Limits {
        webhook_retry_base_ms: 40,
        webhook_retry_max_ms: 320,
        webhook_attempts: 40,
        webhook_timeout_ms: 300,
        ..Limits::default()
    }
}

async fn register(psp: &Stripe<'_>, url: &str, events: &[&str]) -> (String, String) {
    let mut form = vec![("url", url)];
    for e in events {
        form.push(("enabled_events[]", e));
    }
    let we = psp.ok_post("/v1/webhook_endpoints", &form).await;
    (
        we["id"].as_str().unwrap().to_owned(),
        we["secret"].as_str().unwrap().to_owned(),
    )
}

async fn deliveries(psp: &Stripe<'_>, endpoint: &str) -> Vec<Value> {
    let list = psp
        .ok_get(
            &format!("/v1/webhook_endpoints/{endpoint}/deliveries"),
            &[("limit", "100")],
        )
        .await;
    list["data"].as_array().unwrap().clone()
}

fn attempts_with(log: &[Value], test: impl Fn(&Value) -> bool) -> usize {
    log.iter()
        .flat_map(|d| d["attempts"].as_array().unwrap().clone())
        .filter(|a| test(a))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_down_for_a_while_gets_every_event_and_the_log_shows_each_attempt() {
    let mock = Mock::start_with(fast_retries()).await;
    let psp = Stripe::new(&mock);
    let mut rx = Flaky::new().await;
    let (we, secret) = register(&psp, &rx.url(), &["customer.*"]).await;
    *rx.seen.secrets.lock().unwrap() = vec![secret];

    // Down: the port is closed.
    let mut customers = Vec::new();
    for i in 0..3 {
        let c = psp
            .ok_post("/v1/customers", &[("name", &format!("Assuré {i}"))])
            .await;
        customers.push(c["id"].as_str().unwrap().to_owned());
    }
    wait_for(
        "refused attempts",
        || async { deliveries(&psp, &we).await },
        |log| {
            attempts_with(log, |a| {
                a["error"].is_string() && a["status_code"].is_null()
            }) >= 6
        },
    )
    .await;
    // Then it answers 500, then it hangs past the deadline.
    rx.up(Mode::Error).await;
    wait_for(
        "500 attempts",
        || async { deliveries(&psp, &we).await },
        |log| attempts_with(log, |a| a["status_code"] == 500) >= 3,
    )
    .await;
    *rx.seen.mode.lock().unwrap() = Some(Mode::Hang);
    wait_for(
        "timed-out attempts",
        || async { deliveries(&psp, &we).await },
        |log| attempts_with(log, |a| a["error"] == "timeout") >= 2,
    )
    .await;
    // Back up: every event arrives.
    rx.down().await;
    rx.up(Mode::Up).await;
    let log = wait_for(
        "all delivered",
        || async { deliveries(&psp, &we).await },
        |log| !log.is_empty() && log.iter().all(|d| d["status"] == "delivered"),
    )
    .await;

    let created: BTreeSet<String> = psp
        .ok_get(
            "/v1/events",
            &[("type", "customer.created"), ("limit", "100")],
        )
        .await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let got: BTreeSet<String> = rx.accepted().into_iter().map(|(id, _)| id).collect();
    assert_eq!(created.len(), 3);
    assert!(created.is_subset(&got), "{created:?} ⊄ {got:?}");
    let logged: BTreeSet<String> = log
        .iter()
        .map(|d| d["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(logged, got, "one log entry per event sent to it");

    // Each delivery's attempts are numbered, timed, and all but the last name their next try,
    // later each time until the cap (exponential backoff).
    for d in &log {
        let attempts = d["attempts"].as_array().unwrap();
        assert_eq!(
            d["attempt_count"].as_u64().unwrap() as usize,
            attempts.len()
        );
        assert_eq!(d["next_attempt_at_ms"], Value::Null);
        let last = attempts.last().unwrap();
        assert_eq!(last["outcome"], "delivered");
        assert_eq!(last["status_code"], 200);
        let mut gaps = Vec::new();
        for (i, a) in attempts.iter().enumerate() {
            assert_eq!(a["attempt"], i as u64 + 1);
            assert!(a["duration_ms"].as_i64().unwrap() >= 0);
            if i + 1 < attempts.len() {
                assert_eq!(a["outcome"], "retry", "{a}");
                let next = a["next_attempt_at_ms"].as_i64().unwrap();
                let started = a["started_at_ms"].as_i64().unwrap();
                let duration = a["duration_ms"].as_i64().unwrap();
                gaps.push(next - started - duration);
                // The retry really waited for its time.
                let following = attempts[i + 1]["started_at_ms"].as_i64().unwrap();
                assert!(following >= next - 5, "{a} then {}", attempts[i + 1]);
            }
        }
        assert!(gaps.len() >= 3, "{gaps:?}");
        // 40, 80, 160, 320, 320… (a few ms of slack for the time between answer and record).
        for (i, g) in gaps.iter().enumerate().take(4) {
            let expected = 40 << i;
            assert!(
                (*g - expected).abs() <= 30,
                "gap {i}: {g} vs {expected} ({gaps:?})"
            );
        }
        assert!(gaps.iter().all(|g| *g <= 320 + 30), "{gaps:?}");
        // Timeouts took about the deadline.
        for a in attempts.iter().filter(|a| a["error"] == "timeout") {
            let ms = a["duration_ms"].as_i64().unwrap();
            assert!((280..2_000).contains(&ms), "{a}");
        }
    }
    let refused_errors: Vec<&str> = log
        .iter()
        .flat_map(|d| d["attempts"].as_array().unwrap())
        .filter(|a| a["status_code"].is_null() && a["error"] != "timeout")
        .filter_map(|a| a["error"].as_str())
        .collect();
    assert!(!refused_errors.is_empty());

    // Filters and paging of the log.
    let delivered = psp
        .ok_get(
            &format!("/v1/webhook_endpoints/{we}/deliveries"),
            &[("status", "delivered"), ("limit", "2")],
        )
        .await;
    assert_eq!(delivered["data"].as_array().unwrap().len(), 2);
    assert_eq!(delivered["has_more"], true);
    let next = psp
        .ok_get(
            &format!("/v1/webhook_endpoints/{we}/deliveries"),
            &[(
                "starting_after",
                delivered["data"][1]["id"].as_str().unwrap(),
            )],
        )
        .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 1);
    for (query, field) in [
        (vec![("status", "lost")], "status"),
        (vec![("starting_after", "whdl_x")], "starting_after"),
        (vec![("limit", "0")], "limit"),
        (vec![("colour", "red")], "colour"),
    ] {
        let a = psp
            .get(&format!("/v1/webhook_endpoints/{we}/deliveries"), &query)
            .await;
        assert_eq!((a.status, param(&a)), (400, field), "{}", a.body);
    }
    let a = psp
        .get("/v1/webhook_endpoints/we_missing/deliveries", &[])
        .await;
    assert_eq!(a.status, 404);
    rx.down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_that_never_succeeds_is_marked_failed_after_its_attempts() {
    let mock = Mock::start_with(Limits {
        webhook_retry_base_ms: 20,
        webhook_retry_max_ms: 40,
        webhook_attempts: 4,
        webhook_timeout_ms: 300,
        ..Limits::default()
    })
    .await;
    let psp = Stripe::new(&mock);
    let mut rx = Flaky::new().await;
    rx.up(Mode::Error).await;
    let (we, _) = register(&psp, &rx.url(), &["customer.created"]).await;
    psp.ok_post("/v1/customers", &[("name", "Assuré F")]).await;
    let log = wait_for(
        "failed",
        || async { deliveries(&psp, &we).await },
        |log| log.len() == 1 && log[0]["status"] == "failed",
    )
    .await;
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 4);
    assert!(attempts.iter().all(|a| a["status_code"] == 500));
    assert_eq!(attempts[3]["outcome"], "failed");
    assert_eq!(attempts[3]["next_attempt_at_ms"], Value::Null);
    rx.down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_secret_signs_beside_the_new_one_until_it_expires() {
    let mock = Mock::start_with(fast_retries()).await;
    let psp = Stripe::new(&mock);
    let mut rx = Flaky::new().await;
    rx.up(Mode::Up).await;
    let (we, old) = register(&psp, &rx.url(), &["customer.created"]).await;
    *rx.seen.secrets.lock().unwrap() = vec![old.clone()];
    psp.ok_post("/v1/customers", &[("name", "Avant")]).await;
    wait_for(
        "first",
        || std::future::ready(rx.accepted()),
        |a| a.len() == 1,
    )
    .await;
    assert_eq!(rx.accepted()[0].1, 1, "one secret, one v1");

    let rolled = psp
        .ok_post(
            &format!("/v1/webhook_endpoints/{we}/roll_secret"),
            &[("expires_in", "3600")],
        )
        .await;
    let new = rolled["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let expires = rolled["previous_secret_expires_at"].as_i64().unwrap();
    assert!((expires - now() - 3600).abs() <= 5, "{rolled}");
    let read = psp
        .ok_get(&format!("/v1/webhook_endpoints/{we}"), &[])
        .await;
    assert!(read.get("secret").is_none());
    assert_eq!(read["previous_secret_expires_at"], expires);

    // During the overlap, each secret verifies the same delivery: two v1.
    *rx.seen.secrets.lock().unwrap() = vec![old.clone(), new.clone()];
    psp.ok_post("/v1/customers", &[("name", "Pendant")]).await;
    wait_for(
        "second",
        || std::future::ready(rx.accepted()),
        |a| a.len() == 2,
    )
    .await;
    assert_eq!(rx.accepted()[1].1, 2);

    // Rolling with no overlap retires the old one at once: one v1, the newest secret only.
    let again = psp
        .ok_post(
            &format!("/v1/webhook_endpoints/{we}/roll_secret"),
            &[("expires_in", "0")],
        )
        .await;
    let newest = again["secret"].as_str().unwrap().to_owned();
    assert_eq!(again["previous_secret_expires_at"], Value::Null);
    *rx.seen.secrets.lock().unwrap() = vec![new.clone()];
    psp.ok_post("/v1/customers", &[("name", "Refusé")]).await;
    // Signed with the newest secret only: refused by a receiver still holding `new`.
    let log = wait_for(
        "refused with 400",
        || async { deliveries(&psp, &we).await },
        |log| attempts_with(log, |a| a["status_code"] == 400) >= 1,
    )
    .await;
    assert!(!log.is_empty());
    *rx.seen.secrets.lock().unwrap() = vec![newest];
    wait_for(
        "third",
        || std::future::ready(rx.accepted()),
        |a| a.len() == 3,
    )
    .await;
    assert_eq!(rx.accepted()[2].1, 1);

    for (form, field) in [
        (vec![("expires_in", "86401")], "expires_in"),
        (vec![("expires_in", "-1")], "expires_in"),
        (vec![("expires_in", "soon")], "expires_in"),
        (vec![("colour", "red")], "colour"),
    ] {
        let a = psp
            .post(&format!("/v1/webhook_endpoints/{we}/roll_secret"), &form)
            .await;
        assert_eq!((a.status, param(&a)), (400, field), "{}", a.body);
    }
    let a = psp
        .post("/v1/webhook_endpoints/we_missing/roll_secret", &[])
        .await;
    assert_eq!(a.status, 404);
    rx.down().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invoice_payment_credit_note_and_refund_events_reach_an_insurers_endpoint_signed() {
    use tierspay_tests::webhook_receiver::{Behaviour, Receiver};
    let mock = Mock::start_with(fast_retries()).await;
    let psp = Stripe::new(&mock);
    let insurer = Receiver::start(
        &psp,
        &["invoice.*", "payment_intent.*", "credit_note.*", "refund.*"],
        Behaviour::Approve(None),
    )
    .await;
    let open = tierspay_tests::invoices::open(&psp, 6000).await;
    let id = open["id"].as_str().unwrap().to_owned();
    let cn = psp
        .ok_post(
            "/v1/credit_notes",
            &[
                ("invoice", &id),
                ("amount", "1000"),
                ("reason", "order_change"),
            ],
        )
        .await;
    psp.ok_post(
        &format!("/v1/invoices/{id}/pay"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    // A transfer after the card payment: refunded to the debtor.
    psp.ok_post(
        "/v1/test_helpers/bank_transfers",
        &[
            ("amount", "5000"),
            ("currency", "eur"),
            (
                "remittance_information",
                open["rf_reference"].as_str().unwrap(),
            ),
            ("debtor_name", "Jean Dupont"),
            ("debtor_iban", "FR7630006000011234567890189"),
            ("end_to_end_id", "E2E-C"),
        ],
    )
    .await;
    let wanted = [
        "invoice.created",
        "invoice.finalized",
        "credit_note.created",
        "payment_intent.succeeded",
        "invoice.paid",
        "invoice.overpaid",
        "refund.created",
    ];
    let got = wait_for(
        "the insurer's events",
        || std::future::ready(insurer.received()),
        |got| {
            wanted
                .iter()
                .all(|w| got.iter().any(|d| d.event["type"] == *w))
        },
    )
    .await;
    assert!(got.iter().all(|d| d.signature_ok), "every delivery signed");
    let of = |kind: &str| {
        got.iter()
            .find(|d| d.event["type"] == kind)
            .map(|d| d.event["data"]["object"].clone())
            .unwrap()
    };
    assert_eq!(of("invoice.paid")["id"], id.as_str());
    assert_eq!(of("credit_note.created")["id"], cn["id"]);
    assert_eq!(of("invoice.overpaid")["amount_overpaid"], 5000);
    assert_eq!(of("refund.created")["amount"], 5000);
    // Nothing it did not subscribe to.
    assert!(got.iter().all(|d| {
        let t = d.event["type"].as_str().unwrap();
        ["invoice.", "payment_intent.", "credit_note.", "refund."]
            .iter()
            .any(|p| t.starts_with(p))
    }));
    // Every event of those types was delivered exactly to it, each logged as delivered. Both
    // are read again until they settle: a later event (the refund's own) may still be on its
    // way when the wanted ones have arrived.
    let settled = |(log, received): &(Vec<Value>, BTreeSet<String>)| {
        let logged: BTreeSet<String> = log
            .iter()
            .filter_map(|d| d["event"].as_str().map(str::to_owned))
            .collect();
        !log.is_empty() && log.iter().all(|d| d["status"] == "delivered") && logged == *received
    };
    wait_for(
        "every delivery logged and received",
        || async {
            let received: BTreeSet<String> = insurer
                .received()
                .iter()
                .filter_map(|d| d.event["id"].as_str().map(str::to_owned))
                .collect();
            (deliveries(&psp, &insurer.endpoint).await, received)
        },
        settled,
    )
    .await;
}
