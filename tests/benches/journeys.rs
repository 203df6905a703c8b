//! Journey figures on loopback: the real core against a real tierspay-mock, wall time per
//! operation, reported as median and spread (p10–p90). Run with `make bench`.
//!
//! - enrollment: start + confirm through the facade (the SMS read is a test helper, excluded);
//! - cold start: build the facade on an enrolled data directory and read the session.

use std::time::{Duration, Instant};

use tierspay_server_mock::Limits;
use tierspay_tests::{Mock, Phone, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

fn report(name: &str, mut samples: Vec<Duration>, extra: &str) {
    samples.sort();
    let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{name:<28} n={:<5} median {:>9.3} ms   p10 {:>9.3} ms   p90 {:>9.3} ms   max {:>9.3} ms  {extra}",
        samples.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.1).as_secs_f64() * 1e3,
        pick(0.9).as_secs_f64() * 1e3,
        pick(1.0).as_secs_f64() * 1e3,
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
            "enrollment (loopback)",
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
        report("cold start (open+session)", samples, "");
    });
}
