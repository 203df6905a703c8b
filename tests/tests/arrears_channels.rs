//! Issue 12, item 4: a paid invoice reaches every channel. The PSP's webhook worker is woken by
//! the commit that queued the delivery, not only by its periodic pass; and, `#[ignore]`d, the
//! measurement `make bench-arrears-channels` runs: from the payment's commit to the app's event
//! stream, a link's page and a webhook endpoint each showing the invoice paid
//! (docs/benchmarks.md, "Arrears: commit to every channel").

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use tierspay_server_mock::http::webhook_signature;
use tierspay_server_mock::Limits;
use tierspay_tests::pay_once::{link_paths, member_owing, pay, premium_invoice, Browser};
use tierspay_tests::stripe::now;
use tierspay_tests::{Mock, RawDevice, Stripe};
use tokio::sync::mpsc;

/// Longest any channel may take in these tests before they fail (far above the figures).
const PATIENCE: Duration = Duration::from_secs(30);
/// The text the link page shows once its invoice is paid.
const PAID_PAGE: &str = "Facture déjà payée";

/// One signed `invoice.paid` a receiver accepted: its event, the invoice, when it arrived.
#[derive(Debug)]
struct Paid {
    event: String,
    invoice: String,
    at: Instant,
}

#[derive(Clone)]
struct Hook {
    secret: Arc<Mutex<String>>,
    paid: mpsc::UnboundedSender<Paid>,
}

async fn hook(State(h): State<Hook>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let at = Instant::now();
    let secret = h.secret.lock().unwrap().clone();
    let signed = !secret.is_empty()
        && headers
            .get(webhook_signature::HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|header| {
                webhook_signature::verify(
                    header,
                    &body,
                    &secret,
                    now(),
                    webhook_signature::DEFAULT_TOLERANCE_SECS,
                )
                .is_ok()
            });
    if !signed {
        return StatusCode::BAD_REQUEST;
    }
    let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if event["type"] == "invoice.paid" {
        if let (Some(id), Some(invoice)) =
            (event["id"].as_str(), event["data"]["object"]["id"].as_str())
        {
            let _ = h.paid.send(Paid {
                event: id.to_owned(),
                invoice: invoice.to_owned(),
                at,
            });
        }
    }
    StatusCode::OK
}

/// A loopback endpoint registered at the PSP for `invoice.paid`; what it accepted comes out of
/// the receiver returned beside it, stamped on arrival.
async fn paid_receiver(
    mock: &Mock,
) -> (mpsc::UnboundedReceiver<Paid>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Hook {
        secret: Arc::new(Mutex::new(String::new())),
        paid: tx,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let we = Stripe::new(mock)
        .ok_post(
            "/v1/webhook_endpoints",
            &[("url", &url), ("enabled_events[0]", "invoice.paid")],
        )
        .await;
    *state.secret.lock().unwrap() = we["secret"].as_str().unwrap().to_owned();
    (rx, task)
}

/// Waits for the `invoice.paid` of `invoice` (others, from earlier rounds, are skipped).
async fn paid_hook_of(rx: &mut mpsc::UnboundedReceiver<Paid>, invoice: &str) -> Paid {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let p = rx.recv().await.expect("the receiver runs");
            if p.invoice == invoice {
                return p;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no invoice.paid for {invoice}"))
}

fn key(n: &str) -> String {
    format!("channels-{n}-{}", tierspay_core::auth::random::id("k"))
}

/// The demo mock with tokens that outlive a run, and the worker's periodic pass every `poll_ms`.
async fn start(poll_ms: u64) -> Mock {
    Mock::start_with(Limits {
        access_token_ttl: 7 * 24 * 3600,
        webhook_poll_ms: poll_ms,
        ..Limits::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invoice_paid_webhook_is_sent_on_the_commit_not_at_the_next_periodic_pass() {
    // An hour between periodic passes: only the payment's commit can start this delivery.
    let mock = start(3_600_000).await;
    let (member, invoice) = member_owing(&mock, "4242424242424242", 2600).await;
    let (mut paid, _receiver) = paid_receiver(&mock).await;
    let (status, answer) = pay(&mock, &member.device, &invoice, 2600, &key("wake")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["invoice"]["status"], "paid", "{answer}");
    let hook = paid_hook_of(&mut paid, &invoice).await;
    // Sent once, on its first attempt, and the log says so once the worker recorded it.
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    let logged = || -> (i64, String) {
        db.query_row(
            "SELECT d.attempts, d.status FROM psp_webhook_deliveries d
             JOIN psp_webhook_endpoints w ON w.id = d.endpoint_id
             WHERE d.event_id = ?1 AND w.url LIKE '%/hook'",
            [&hook.event],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
    };
    let give_up = Instant::now() + PATIENCE;
    let (attempts, status) = loop {
        let (attempts, status) = logged();
        if status != "pending" || Instant::now() > give_up {
            break (attempts, status);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!((attempts, status.as_str()), (1, "delivered"));
    // A second invoice paid from its link's card form (the PSP's own page) wakes it the same way.
    let second = premium_invoice(&mock, 1900).await;
    let links = link_paths(&mock, &second, &["email"]).await;
    let b = Browser::new(&mock);
    let form = b.open_card_form(&links[0]).await;
    let (status, _, body) = b.submit_card(&form, "4242424242424242").await;
    assert!(status < 400, "{status}: {body}");
    paid_hook_of(&mut paid, &second).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(200), paid.recv())
            .await
            .is_err(),
        "one delivery per paid invoice"
    );
}

// ------------------------------------------------------------------- the measurement

/// Where a round's payment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payer {
    /// `POST /v1/me/invoices/{id}/payments` with the saved card.
    App,
    /// The email link's page, its card form, 4242….
    EmailLink,
}

/// One round's instants.
struct Round {
    /// First seen paid by a reader of the database file (polling every [`OBSERVE_EVERY`]).
    observed: Instant,
    /// The paying request's answer arrived.
    answered: Instant,
    /// The app's long poll answered with the event that led to the invoice paid.
    app_event: Instant,
    /// The change read after that event showed the invoice paid: the app knows.
    app: Instant,
    /// A reload of the SMS link's page showed it paid.
    page: Instant,
    /// The signed `invoice.paid` reached the endpoint.
    webhook: Instant,
}

/// How often the commit observer reads the invoice's status.
const OBSERVE_EVERY: Duration = Duration::from_micros(100);

/// Reads `invoice`'s status at the PSP through a connection of its own until it is paid: the
/// commit, as another reader of the file sees it (within [`OBSERVE_EVERY`] and a query).
fn observe_commit(db: std::path::PathBuf, invoice: String) -> std::thread::JoinHandle<Instant> {
    std::thread::spawn(move || {
        let conn = rusqlite::Connection::open_with_flags(
            db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("a reader");
        let mut stmt = conn
            .prepare("SELECT status FROM psp_invoices WHERE id = ?1")
            .unwrap();
        let give_up = Instant::now() + PATIENCE;
        loop {
            let status: String = stmt.query_row([&invoice], |r| r.get(0)).unwrap();
            if status == "paid" {
                return Instant::now();
            }
            assert!(Instant::now() < give_up, "{invoice} never committed paid");
            std::thread::sleep(OBSERVE_EVERY);
        }
    })
}

/// The app's side: long polls `GET /v1/me/events` after `after` and, on each wake-up, reads
/// the invoice changes after `cursor` (what the core does), until `invoice` is paid there.
/// Returns when the event came, when the change read showed paid, the new `after` and `cursor`.
async fn app_sees_paid(
    mock: &Mock,
    device: &RawDevice,
    invoice: &str,
    mut after: i64,
    mut cursor: String,
) -> (Instant, Instant, i64, String) {
    assert!(!cursor.is_empty(), "a cursor from a first read");
    loop {
        let (status, events) = device
            .send(
                mock,
                "GET",
                &format!("/v1/me/events?after={after}&wait=20"),
                None,
            )
            .await;
        let event_at = Instant::now();
        assert_eq!(status, 200, "{events}");
        after = events["next_after"].as_i64().unwrap();
        if events["data"].as_array().unwrap().is_empty() {
            continue;
        }
        let mut paid = false;
        loop {
            let (status, changes) = device
                .send(
                    mock,
                    "GET",
                    &format!("/v1/me/invoice_changes?after={cursor}&limit=100"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{changes}");
            cursor = changes["cursor"].as_str().unwrap().to_owned();
            paid |= changes["data"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == invoice && i["status"] == "paid");
            if changes["has_more"] != true {
                break;
            }
        }
        if paid {
            return (event_at, Instant::now(), after, cursor);
        }
    }
}

/// Reloads `link`'s page back to back until it says paid; the instant that page arrived.
async fn page_sees_paid(mock: &Mock, link: &str) -> Instant {
    let b = Browser::new(mock);
    let give_up = Instant::now() + PATIENCE;
    loop {
        let (status, _, page) = b.get(link).await;
        assert_eq!(status, 200, "{link}");
        if page.contains(PAID_PAGE) {
            return Instant::now();
        }
        assert!(Instant::now() < give_up, "{link} never showed paid");
    }
}

/// Nearest-rank quantile of sorted milliseconds.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn report(payer: Payer, what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{payer:?} pays | {what:<16} | n {} | median {:.2} ms | p25-p75 {:.2}-{:.2} ms | p90 {:.2} ms | p99 {:.2} ms | min {:.2} ms | max {:.2} ms",
        ms.len(),
        quantile(&ms, 0.5),
        quantile(&ms, 0.25),
        quantile(&ms, 0.75),
        quantile(&ms, 0.9),
        quantile(&ms, 0.99),
        ms[0],
        ms[ms.len() - 1],
    );
}

/// `make bench-arrears-channels`: `CHANNELS_ROUNDS` rounds (default 200) for each payer, the
/// app's route and the email link's card form. A round creates an open invoice and its links,
/// starts the app's long poll, a loop reloading the SMS link's page and the commit observer,
/// pays once, and times each channel from the commit: the earliest of the observer, the
/// paying answer and the channels themselves (no channel can show paid before the commit, so
/// a late observer never makes a figure smaller than it is).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement: make bench-arrears-channels"]
async fn bench_commit_to_every_channel() {
    let rounds: usize = std::env::var("CHANNELS_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let mock = Arc::new(start(Limits::default().webhook_poll_ms).await);
    let (member, first) = member_owing(&mock, "4242424242424242", 1000).await;
    let device = Arc::new(member.device);
    let (status, _) = pay(&mock, &device, &first, 1000, &key("warm")).await;
    assert_eq!(status, 200);
    let (mut hooks, _receiver) = paid_receiver(&mock).await;
    let (_, events) = device.send(&mock, "GET", "/v1/me/events", None).await;
    let mut after = events["next_after"].as_i64().unwrap();
    let mut path = "/v1/me/invoice_changes?limit=100".to_owned();
    let mut cursor;
    loop {
        let (_, changes) = device.send(&mock, "GET", &path, None).await;
        cursor = changes["cursor"].as_str().unwrap().to_owned();
        path = format!("/v1/me/invoice_changes?after={cursor}&limit=100");
        if changes["has_more"] != true {
            break;
        }
    }
    println!(
        "commit to every channel: {rounds} rounds per payer, load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for payer in [Payer::App, Payer::EmailLink] {
        let mut observer_late = 0;
        let (mut answer, mut app_event, mut app, mut page, mut webhook) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let invoice = premium_invoice(&mock, 1500).await;
            let links = link_paths(&mock, &invoice, &["email", "sms"]).await;
            let b = Browser::new(&mock);
            let form = match payer {
                Payer::App => None,
                Payer::EmailLink => Some(b.open_card_form(&links[0]).await),
            };
            // The SMS page once while open: the loop below then only waits for the change.
            let (_, _, open) = b.get(&links[1]).await;
            assert!(!open.contains(PAID_PAGE), "{invoice} is open");
            let app_task = {
                let (mock, device, invoice) = (mock.clone(), device.clone(), invoice.clone());
                let cursor = cursor.clone();
                tokio::spawn(
                    async move { app_sees_paid(&mock, &device, &invoice, after, cursor).await },
                )
            };
            let page_task = {
                let (mock, link) = (mock.clone(), links[1].clone());
                tokio::spawn(async move { page_sees_paid(&mock, &link).await })
            };
            let observer = observe_commit(mock.db_path(), invoice.clone());
            // Let the long poll reach its wait.
            tokio::time::sleep(Duration::from_millis(20)).await;
            match &form {
                None => {
                    let (status, paid) = pay(&mock, &device, &invoice, 1500, &key("r")).await;
                    assert_eq!(status, 200, "{paid}");
                    assert_eq!(paid["invoice"]["status"], "paid", "{paid}");
                }
                Some(form) => {
                    let (status, _, body) = b.submit_card(form, "4242424242424242").await;
                    assert!(status < 400, "{status}: {body}");
                }
            }
            let answered = Instant::now();
            let webhook_at = paid_hook_of(&mut hooks, &invoice).await.at;
            let (event_at, app_at, a, c) = app_task.await.unwrap();
            (after, cursor) = (a, c);
            let r = Round {
                observed: observer.join().unwrap(),
                answered,
                app_event: event_at,
                app: app_at,
                page: page_task.await.unwrap(),
                webhook: webhook_at,
            };
            let commit = [r.observed, r.answered, r.app_event, r.page, r.webhook]
                .into_iter()
                .min()
                .unwrap();
            observer_late += usize::from(commit < r.observed);
            let ms = |t: Instant| (t - commit).as_secs_f64() * 1000.0;
            answer.push(ms(r.answered));
            app_event.push(ms(r.app_event));
            app.push(ms(r.app));
            page.push(ms(r.page));
            webhook.push(ms(r.webhook));
        }
        report(payer, "paying answer", answer);
        report(payer, "app event", app_event);
        report(payer, "app knows paid", app);
        report(payer, "link page", page);
        report(payer, "webhook", webhook);
        println!(
            "{payer:?} pays | commit observer not first in {observer_late} of {rounds} rounds"
        );
    }
}
