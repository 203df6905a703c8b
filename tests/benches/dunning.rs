//! One reminder pass over many open invoices (issue 11's dunning figure): the mock on loopback
//! with `DUNNING_INVOICES` open invoices of the demo member (default 100,000), copied in SQL from
//! one made through the API while the server is stopped; the first pass enrols them all (nothing
//! is due yet); then the clock moves to D+10 in the daytime and one pass sends every invoice its
//! email (a MIME message with its QR code) and its SMS (with a short link), each with its own
//! signed token, the D+3 push recorded as skipped. `make bench-dunning` runs it; figures in
//! docs/benchmarks.md.

use std::time::Instant;

use serde_json::{json, Value};
use tierspay_core::domain::rf_reference::RfReference;
use tierspay_server_mock::platform::arrears::quiet_hours::next_allowed;
use tierspay_tests::{Mock, DEMO_CONTRACT, PSP_KEY};

const DAY: i64 = 86_400;

async fn run(mock: &Mock) -> (f64, Value) {
    let started = Instant::now();
    let (status, doc) = mock.post("/v1/test_helpers/reminders/run", json!({})).await;
    assert_eq!(status, 200, "{doc}");
    (started.elapsed().as_secs_f64(), doc["report"].clone())
}

fn copy_invoices(mock: &Mock, template: &str, n: usize) {
    let mut conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let tx = conn.transaction().expect("tx");
    {
        let mut psp = tx
            .prepare(
                "INSERT INTO psp_invoices (id, account, customer, status, number, currency,
                    collection_method, days_until_due, due_date, description, total, rf_reference,
                    metadata, finalized_at, created)
                 SELECT ?1, account, customer, status, ?2, currency, collection_method,
                    days_until_due, due_date, description, total, ?3, metadata, finalized_at, created
                 FROM psp_invoices WHERE id = ?4",
            )
            .expect("psp insert");
        let mut platform = tx
            .prepare(
                "INSERT INTO platform_invoices (invoice_id, member_ref, contract_ref, insurer, source, created)
                 SELECT ?1, member_ref, contract_ref, insurer, source, created
                 FROM platform_invoices WHERE invoice_id = ?2",
            )
            .expect("platform insert");
        for i in 0..n {
            let id = format!("in_bench{i:08}");
            let rf = RfReference::make(&format!("BENCH{i:08}")).expect("RF");
            psp.execute(rusqlite::params![
                id,
                format!("BENCH-{i:08}"),
                rf.as_str(),
                template
            ])
            .expect("copy");
            platform
                .execute(rusqlite::params![id, template])
                .expect("copy");
        }
    }
    tx.commit().expect("commit");
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let n: usize = std::env::var("DUNNING_INVOICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut mock = Mock::start().await;
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(PSP_KEY)
        .json(&json!({"contract": DEMO_CONTRACT, "amount": 4_250, "description": "Cotisation"}))
        .send()
        .await
        .expect("arrears");
    let template: Value = r.json().await.expect("json");
    let id = template["invoice"].as_str().expect("id").to_owned();
    let due = template["due_date"].as_i64().expect("due");
    // The template itself is reminded too: n + 1 invoices.
    mock.stop().await;
    let started = Instant::now();
    copy_invoices(&mock, &id, n);
    println!(
        "setup: {} invoices copied in {:.1} s",
        n,
        started.elapsed().as_secs_f64()
    );
    mock.restart().await;

    let (secs, enrol) = run(&mock).await;
    println!(
        "enrolment pass: {} invoices in {secs:.2} s ({:.0}/s)",
        enrol["enrolled"],
        enrol["enrolled"].as_f64().unwrap_or(0.0) / secs
    );

    // D+10 in the daytime: the email and the SMS are due (the SMS after the quiet hours).
    let target = next_allowed(due + 10 * DAY) + 3_600;
    let now = mock.get("/v1/test_helpers/clock").await["now"]
        .as_i64()
        .expect("now");
    mock.advance(target - now).await;
    let (secs, pass) = run(&mock).await;
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let messages: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM platform_reminder_sends WHERE outcome = 'sent'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    let outbox: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM platform_outbox WHERE channel IN ('email', 'sms')",
            [],
            |r| r.get(0),
        )
        .expect("count");
    println!("pass report (this call): {pass}");
    println!(
        "dunning pass: {} invoices, {messages} messages sent ({outbox} in the outbox) in {secs:.2} s: {:.0} messages/s, {:.0} invoices/s",
        n + 1,
        messages as f64 / secs,
        (n + 1) as f64 / secs
    );
    println!(
        "batches of {}: median {} ms, p10 {} ms, p90 {} ms, max {} ms",
        tierspay_server_mock::platform::arrears::reminders::BATCH,
        pass["batch_ms_median"],
        pass["batch_ms_p10"],
        pass["batch_ms_p90"],
        pass["batch_ms_max"]
    );
    assert_eq!(messages, 2 * (n as i64 + 1), "an email and an SMS each");
}
