//! One real-time decision on a tap (`platform::visit_decision::decide`): the pure rules the
//! platform runs inside its answer to `issuing_authorization.request`, without the database.
//!
//! `cargo bench --bench decision` runs criterion; `decision --instructions N` runs N decisions
//! and nothing else, for callgrind (`make bench-decision` prints the instructions per decision).

use std::hint::black_box;

use criterion::Criterion;
use tierspay_server_mock::platform::visit_decision::{
    decide, History, Input, Policy, Tap, VisitState, VisitTerms,
};

fn policy() -> Policy {
    Policy {
        amount_tolerance: 500,
        max_taps_per_day: 10,
        max_visits_per_day: 4,
        merchant_countries: vec!["FR".into()],
        far_km: 150,
    }
}

/// The case that runs every rule: an approved tap at a provider the contract never used, with a
/// usual city to measure against.
fn input(policy: &Policy) -> Input<'_> {
    Input {
        policy,
        tap: Tap {
            authorization: "iauth_1NvB2kTiersPay0001",
            amount: 3000,
            currency: "eur",
            network_id: "NETK7Q2M",
            mcc: "8011",
            country: "FR",
            city: "PARIS",
            card_active: true,
        },
        visit: Some(VisitTerms {
            id: "vis_0123456789abcdef",
            state: VisitState::Armed,
            expires_at: 2_000_000_000,
            network_id: "NETK7Q2M",
            currency: "eur",
            price: 3000,
            hold: 200,
        }),
        history: History {
            authorization_seen: false,
            taps_last_day: 2,
            visits_last_day: 1,
            provider_used_before: false,
            usual_city: Some("Paris"),
        },
        now: 1_999_999_000,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let policy = policy();
    if let Some(n) = args
        .iter()
        .position(|a| a == "--instructions")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse::<u32>().ok())
    {
        let input = input(&policy);
        for _ in 0..n {
            black_box(decide(black_box(&input), None));
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    c.bench_function("visit decision (every rule, approved)", |b| {
        let input = input(&policy);
        b.iter(|| decide(black_box(&input), None))
    });
    c.final_summary();
}
