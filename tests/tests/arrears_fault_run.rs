//! The fault run for paying arrears (issue 12, item 6; docs/arrears.md, "The fault run"):
//! `make test` plays 500 attempts, `make chaos` 10,000 (`CHAOS_ATTEMPTS`, `CHAOS_SEED`; the seed
//! is printed first, run with `-- --nocapture` to see the report).

use tierspay_tests::chaos::{self, Config};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_invoice_is_charged_at_most_once_whatever_fails_around_its_payment() {
    let config = Config::from_env(500).expect("CHAOS_ATTEMPTS and CHAOS_SEED");
    let report = chaos::run(config).await;
    println!("{report}");
    assert!(report.attempts >= config.attempts, "{report}");
    assert_eq!(report.duplicates, 0, "{report}");
    // The faults happened and were survived: every kind met, answers lost and recovered.
    for fault in [
        "none",
        "fail_5xx",
        "drop_after_commit",
        "delay_past_timeout",
        "client_killed",
        "declined_card",
        "concurrent_channels",
        "drop_then_mock_restart",
    ] {
        assert!(
            report.faults.get(fault).copied().unwrap_or(0) > 0,
            "no {fault}: {report}"
        );
    }
    for outcome in [
        "succeeded",
        "already_paid",
        "failed",
        "lost_5xx",
        "lost_dropped",
        "mock_restart",
        "app_killed",
    ] {
        assert!(report.outcome(outcome) > 0, "no {outcome}: {report}");
    }
    assert!(
        report.paid_invoices > 0 && report.pages_checked > 0 && report.phone_invoices_checked > 0
    );
}
