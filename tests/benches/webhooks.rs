//! Webhook delivery throughput on loopback: events signed (`Stripe-Signature`, HMAC-SHA256) and
//! POSTed by the mock's delivery worker to a local receiver that verifies every signature,
//! each attempt recorded in the delivery log. Run with `make bench-webhooks`.
//!
//! Each round writes a backlog of events with their pending deliveries straight into the
//! database (one transaction, as the PSP's own writes would queue them), wakes nothing, and
//! times from that commit until the receiver has verified the last one: the worker finds them
//! on its next poll (at most 250 ms, counted in the time), then reads, signs, sends and records
//! them in batches. Reported per round and as median and spread (min–max): events per second
//! from the commit (the poll's wait included) and from the first delivery (the worker's pace).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use rusqlite::params;
use tierspay_server_mock::http::webhook_signature;
use tierspay_tests::stripe::now;
use tierspay_tests::{Mock, Stripe};

#[derive(Clone)]
struct Counter {
    secret: Arc<String>,
    verified: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

async fn hook(State(c): State<Counter>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let ok = headers
        .get(webhook_signature::HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| webhook_signature::verify(h, &body, &c.secret, now(), 300).is_ok());
    if ok {
        c.verified.fetch_add(1, Ordering::Relaxed);
        StatusCode::OK
    } else {
        c.refused.fetch_add(1, Ordering::Relaxed);
        StatusCode::BAD_REQUEST
    }
}

/// An invoice-sized event object (about 1.5 KB of JSON, as `invoice.paid` carries).
fn object(i: usize) -> String {
    let lines: Vec<serde_json::Value> = (0..3)
        .map(|l| serde_json::json!({"id": format!("il_{i}_{l}"), "object": "line_item", "amount": 2000,
            "currency": "eur", "description": "Cotisation mensuelle, contrat ...1234", "quantity": 1}))
        .collect();
    serde_json::json!({
        "id": format!("in_bench{i}"), "object": "invoice", "status": "paid", "currency": "eur",
        "amount_due": 6000, "amount_paid": 6000, "amount_remaining": 0, "amount_overpaid": 0,
        "customer": "cus_bench", "number": format!("TP-{i:06}"), "rf_reference": "RF18539007547034",
        "hosted_invoice_url": "https://pay.tierspay.test/i/0123456789abcdef0123456789abcdef",
        "status_transitions": {"finalized_at": 1_700_000_000, "paid_at": 1_700_000_100,
            "marked_uncollectible_at": null, "voided_at": null},
        "lines": {"object": "list", "data": lines, "has_more": false},
        "metadata": {"member_ref": "mbr_1", "contract": "TP1000001"},
    })
    .to_string()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: keep that run short.
    let full = std::env::args().any(|a| a == "--bench");
    let (rounds, events) = if full { (7, 4000) } else { (1, 200) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mock = Mock::start().await;
        let psp = Stripe::new(&mock);
        // Only the bench's endpoint receives: the platform's own is disabled.
        tierspay_tests::webhook_receiver::disable_platform_endpoint(&psp).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let we = psp
            .ok_post(
                "/v1/webhook_endpoints",
                &[("url", &url), ("enabled_events[]", "invoice.*")],
            )
            .await;
        let counter = Counter {
            secret: Arc::new(we["secret"].as_str().unwrap().to_owned()),
            verified: Arc::new(AtomicUsize::new(0)),
            refused: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(counter.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let endpoint = we["id"].as_str().unwrap().to_owned();
        let db = rusqlite::Connection::open(mock.db_path()).unwrap();
        db.busy_timeout(Duration::from_secs(10)).unwrap();
        let mut rates = Vec::new();
        let mut steadies = Vec::new();
        let mut next = 0usize;
        for round in 0..rounds {
            let target = counter.verified.load(Ordering::Relaxed) + events;
            let tx = db.unchecked_transaction().unwrap();
            let due = wall_ms();
            {
                let mut event = tx
                    .prepare(
                        "INSERT INTO psp_events (id, type, created, object) VALUES (?1, 'invoice.paid', ?2, ?3)",
                    )
                    .unwrap();
                let mut delivery = tx
                    .prepare(
                        "INSERT INTO psp_webhook_deliveries (event_id, endpoint_id, status, attempts, next_attempt_ms, created)
                         VALUES (?1, ?2, 'pending', 0, ?3, ?4)",
                    )
                    .unwrap();
                for _ in 0..events {
                    let id = format!("evt_bench{next}");
                    event.execute(params![id, now(), object(next)]).unwrap();
                    delivery.execute(params![id, endpoint, due, now()]).unwrap();
                    next += 1;
                }
            }
            tx.commit().unwrap();
            let started = Instant::now();
            let first_target = target + 1 - events;
            let mut first = None;
            while counter.verified.load(Ordering::Relaxed) < target {
                assert!(
                    started.elapsed() < Duration::from_secs(300),
                    "deliveries stalled"
                );
                if first.is_none() && counter.verified.load(Ordering::Relaxed) >= first_target {
                    first = Some(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let took = started.elapsed();
            let rate = events as f64 / took.as_secs_f64();
            // From the first delivery on: the worker's own pace, without its poll's wait.
            let sending = took - first.unwrap_or_default();
            let steady = (events - 1) as f64 / sending.as_secs_f64().max(1e-6);
            println!(
                "round {round}: {events} events signed, delivered and verified in {:.3} s: {rate:.0} events/s \
                 ({steady:.0}/s from the first delivery, {:.0} ms to the first)",
                took.as_secs_f64(),
                first.unwrap_or_default().as_secs_f64() * 1e3
            );
            rates.push(rate);
            steadies.push(steady);
        }
        assert_eq!(counter.refused.load(Ordering::Relaxed), 0, "a signature failed");
        // Every delivery of the last round is logged as delivered, with its attempt.
        let logged: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM psp_webhook_attempts a JOIN psp_webhook_deliveries d ON d.seq = a.delivery_seq
                 WHERE d.endpoint_id = ?1 AND a.outcome = 'delivered'",
                [&endpoint],
                |r| r.get(0),
            )
            .unwrap();
        assert!(logged as usize >= rounds * events, "{logged}");
        for (what, v) in [
            ("commit to last delivery", &mut rates),
            ("first to last delivery", &mut steadies),
        ] {
            v.sort_by(f64::total_cmp);
            println!(
                "webhook delivery, {what}: median {:.0} events/s, spread {:.0}–{:.0} over {rounds} rounds of {events}",
                v[v.len() / 2],
                v[0],
                v[v.len() - 1]
            );
        }
    });
}

/// Wall-clock milliseconds, as the delivery schedule reads them.
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
