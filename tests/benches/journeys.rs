//! Journey figures on loopback: the real core against a real tierspay-mock, wall time per
//! operation, reported as median and spread (p10–p90). Run with `make bench`.
//!
//! - enrollment: start + confirm (+ the coverage sync it triggers), the SMS read excluded;
//! - cold start: build the facade on an enrolled data directory and read the session;
//! - coverage: full sync (bytes and time), one preview through the facade, provider search on
//!   the server over 50,000 providers.

use std::time::{Duration, Instant};

use tierspay_core::{Language, PreviewRequest};
use tierspay_server_mock::Limits;
use tierspay_tests::{Mock, Phone, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

/// A preview request with its figures' text in English.
fn ask(
    beneficiary_id: String,
    provider_id: String,
    act_code: String,
    price: String,
    date: Option<String>,
) -> PreviewRequest {
    PreviewRequest {
        beneficiary_id,
        provider_id,
        act_code,
        price,
        date,
        language: Language::En,
    }
}

fn report(name: &str, mut samples: Vec<Duration>, extra: &str) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let f = |d: Duration| {
        if d < Duration::from_millis(1) {
            format!("{:>8.1} µs", d.as_secs_f64() * 1e6)
        } else {
            format!("{:>8.3} ms", d.as_secs_f64() * 1e3)
        }
    };
    println!(
        "{name:<36} n={:<6} median {}   p10 {}   p90 {}   p99 {}  {extra}",
        samples.len(),
        f(pick(0.5)),
        f(pick(0.1)),
        f(pick(0.9)),
        f(pick(0.99)),
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: keep that run short.
    let full = std::env::args().any(|a| a == "--bench");
    let runs = if full { 200 } else { 3 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let limits = Limits {
            starts_per_contract: u32::MAX,
            starts_per_client: u32::MAX,
            ..Limits::default()
        };
        let mock = Mock::start_with(limits).await;
        let mut phone = Phone::new(&mock);
        phone.enroll_demo(&mock).await; // warm-up: connections, caches, statements

        let mut samples = Vec::with_capacity(runs);
        let mut trips = 0;
        for _ in 0..runs {
            let flow = phone.app.enrollment();
            let before = phone.app.round_trips();
            let t = Instant::now();
            let challenge = flow
                .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
                .await
                .unwrap();
            let mut elapsed = t.elapsed();
            let code = mock.latest_code(DEMO_PHONE).await;
            let t = Instant::now();
            flow.confirm(challenge.enrollment_id, code).await.unwrap();
            elapsed += t.elapsed();
            trips = phone.app.round_trips() - before;
            samples.push(elapsed);
        }
        report(
            "enrollment (loopback, with sync)",
            samples,
            &format!("round trips: {trips}"),
        );

        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            phone.restart();
            let status = phone.app.status().unwrap();
            samples.push(t.elapsed());
            assert!(status.enrolled);
        }
        report("cold start (open + session)", samples, "");

        // Onboarding: contract → code → enrolled with card → Apple Pay and Google Pay payloads.
        let wallet = tierspay_core::PassKitSimulator::new().unwrap();
        mock.trust_apple_root(&wallet.root_certificate()).await;
        let mut samples = Vec::with_capacity(runs);
        let mut trips = 0;
        for i in 0..runs {
            let fresh = Phone::new(&mock);
            let flow = fresh.app.enrollment();
            let t = Instant::now();
            let challenge = flow
                .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
                .await
                .unwrap();
            let mut elapsed = t.elapsed();
            let code = mock.latest_code(DEMO_PHONE).await;
            let t = Instant::now();
            flow.confirm(challenge.enrollment_id, code).await.unwrap();
            let card = fresh.app.card();
            card.apple_pay_pass_data(
                wallet.certificates(),
                wallet.nonce(),
                wallet.nonce_signature(),
            )
            .await
            .unwrap();
            card.google_pay_action(format!("wallet-{i}"), format!("device-{i}"), vec![])
                .await
                .unwrap();
            elapsed += t.elapsed();
            trips = fresh.app.round_trips();
            samples.push(elapsed);
        }
        report(
            "onboarding: enroll, card, 2 wallets",
            samples,
            &format!("round trips: {trips}"),
        );

        // Those enrollments signed the main phone out (one device per member): enroll it again.
        phone.enroll_demo(&mock).await;
        let coverage = phone.app.coverage();
        let mut samples = Vec::with_capacity(runs);
        let mut bytes = 0;
        for _ in 0..runs {
            let t = Instant::now();
            bytes = coverage.resync().await.unwrap().bytes;
            samples.push(t.elapsed());
        }
        report(
            "coverage sync, everything",
            samples,
            &format!("{bytes} bytes"),
        );
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            bytes = coverage.sync().await.unwrap().bytes;
            samples.push(t.elapsed());
        }
        report(
            "coverage sync, nothing changed",
            samples,
            &format!("{bytes} bytes"),
        );

        let gp = coverage
            .search_providers("generaliste".into(), None, Some("Paris".into()), 1)
            .await
            .unwrap()
            .providers
            .remove(0);
        coverage.select_provider(gp.id.clone()).await.unwrap();
        let camille = coverage.beneficiaries().unwrap().remove(0).id;
        let n = runs * 50;
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let p = coverage
                .preview(ask(
                    camille.clone(),
                    gp.id.clone(),
                    "G".into(),
                    "30".into(),
                    Some("2026-03-02".into()),
                ))
                .unwrap();
            samples.push(t.elapsed());
            assert_eq!(p.member, "2.00");
        }
        report(
            "preview through the facade (Rust)",
            samples,
            "offline, SQLite cache warm",
        );

        let (status, _) = mock
            .post(
                "/v1/test_helpers/providers",
                serde_json::json!({"count": 50_000 - 3_000}),
            )
            .await;
        assert_eq!(status, 200);
        let queries = [
            "martin",
            "dr martin lyon",
            "ophtalmologe paris",
            "pharmacie du centre",
            "kine bordeau",
        ];
        let mut samples = Vec::with_capacity(runs);
        for i in 0..runs {
            let t = Instant::now();
            let found = coverage
                .search_providers(queries[i % queries.len()].into(), None, None, 10)
                .await
                .unwrap();
            samples.push(t.elapsed());
            assert!(!found.providers.is_empty());
        }
        report(
            "provider search, server, 50,000",
            samples,
            "round trip on loopback included",
        );
    });
}
