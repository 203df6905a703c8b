//! One authorization's checks before the decision hook (`psp::authorization_rules::check` on
//! TiersPay's healthcare card): a doctor's tap that passes every check, a spa's refused by the
//! categories, and a tap over the daily limit. Without arguments it prints the median time per
//! check; with `--instructions N` it runs N checks and nothing else, for callgrind
//! (`make bench-auth-rules` subtracts two such runs to get the instructions of one).

use std::hint::black_box;
use std::time::Instant;

use tierspay_server_mock::psp::authorization_rules::{check, CardFacts, Tap};
use tierspay_wallet::controls::SpendingControls;

fn run(controls: &SpendingControls, n: u64) -> u64 {
    let card = CardFacts {
        status: "active",
        cardholder_status: "active",
        token_status: Some("active"),
        exp_month: 12,
        exp_year: 2029,
        controls,
    };
    let spent = [0, 120_000];
    let taps = [
        ("doctors", 2_500),
        ("health_and_beauty_spas", 2_500),
        ("dentists_orthodontists", 190_000),
    ];
    let mut approved = 0;
    for i in 0..n {
        let (category, amount) = taps[(i % 3) as usize];
        let tap = Tap {
            amount,
            category: black_box(category),
            country: Some("FR"),
            year_month: (2026, 12),
        };
        if check(black_box(&card), &tap, black_box(&spent), 1_000_000).is_ok() {
            approved += 1;
        }
    }
    approved
}

fn main() {
    let controls = SpendingControls::healthcare();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--instructions" {
            let n = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
            black_box(run(&controls, n));
            return;
        }
    }
    // Medians of 21 runs of 100,000 checks each.
    let mut per_check: Vec<f64> = (0..21)
        .map(|_| {
            let start = Instant::now();
            black_box(run(&controls, 100_000));
            start.elapsed().as_nanos() as f64 / 100_000.0
        })
        .collect();
    per_check.sort_by(f64::total_cmp);
    println!(
        "authorization_rules::check: median {:.1} ns per check (min {:.1}, max {:.1}; 21 × 100,000)",
        per_check[10], per_check[0], per_check[20]
    );
}
