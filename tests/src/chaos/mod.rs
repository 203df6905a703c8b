//! The fault run for paying arrears (issue 12, items 5 and 6; docs/arrears.md, "The fault
//! run"): thousands of payment attempts on many invoices of several members, each through one
//! channel (the email link's page, the SMS link's page, the PSP's hosted invoice page, the PSP's
//! `/pay` with an idempotency key), with faults chosen by a seeded RNG: answers dropped after
//! commit, 503s, delays past the client's timeout, clients killed mid-request, mock restarts on
//! the same database, phones killed mid-sync, several channels paying one invoice at once, and
//! business-clock jumps. Checks at checkpoints and at the end ([`checks`]): no invoice charged
//! twice, every ledger movement balanced, every answer seen as paid still paid, and the same
//! status at the PSP, on the link page, on every phone after sync and in the PSP's events.
//!
//! `CHAOS_ATTEMPTS` and `CHAOS_SEED` choose the length and the faults; the seed is printed
//! first, so a failing run is replayed with `CHAOS_SEED=…` (the faults and their order repeat;
//! what a killed request had reached depends on timing, which the checks do not).
//!
//! The app's own channel (`POST /v1/me/invoices/{id}/payments`, its outbox and failpoints)
//! joins as one more [`channels::Channel`] once it lands; nothing else changes.

pub mod channels;
pub mod checks;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod world;

use std::time::{Duration, Instant};

pub use report::Report;
use rng::Rng;
use scenario::Fault;
use world::World;

/// Most attempts one run may be asked for (bounds memory and time).
pub const MAX_ATTEMPTS: u64 = 1_000_000;
/// Most business time the run moves the clock forward in all, in seconds: below an invoice's
/// 30 days to its due date, so no reminder pass competes for the writer and no link (60 days)
/// or card session (24 hours, opened per attempt) expires under a test that did not ask.
pub const CLOCK_BUDGET_SECS: i64 = 25 * 86_400;

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Payment attempts to make at least (each try of each channel counts one).
    pub attempts: u64,
    /// The RNG's seed.
    pub seed: u64,
    /// Attempts between two checkpoints.
    pub checkpoint_every: u64,
}

impl Config {
    /// `CHAOS_ATTEMPTS` (default `default_attempts`) and `CHAOS_SEED` (default: from the
    /// time); a checkpoint every tenth of the run, at least every 100 attempts.
    pub fn from_env(default_attempts: u64) -> Result<Self, String> {
        let attempts = match std::env::var("CHAOS_ATTEMPTS") {
            Ok(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=MAX_ATTEMPTS).contains(n))
                .ok_or_else(|| format!("CHAOS_ATTEMPTS must be 1 to {MAX_ATTEMPTS}, not {v:?}"))?,
            Err(_) => default_attempts,
        };
        let seed = match std::env::var("CHAOS_SEED") {
            Ok(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("CHAOS_SEED must be an unsigned integer, not {v:?}"))?,
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1),
        };
        Ok(Self {
            attempts,
            seed,
            checkpoint_every: (attempts / 10).clamp(100, 1_000),
        })
    }
}

/// Runs the fault run; panics (naming the seed) at the first broken check.
pub async fn run(config: Config) -> Report {
    println!(
        "fault run: CHAOS_SEED={} CHAOS_ATTEMPTS={}",
        config.seed, config.attempts
    );
    let mut rng = Rng::new(config.seed);
    let mut world = World::start(config.seed).await;
    let mut report = Report::new(config.seed);
    let started = Instant::now();
    let mut next_checkpoint = config.checkpoint_every;
    let mut clock_used = 0i64;
    while report.attempts < config.attempts {
        if report.attempts >= next_checkpoint {
            world.settle().await;
            checks::checkpoint(&mut world, &mut report, &mut rng, false).await;
            next_checkpoint += config.checkpoint_every;
        }
        world.top_up(&mut rng).await;
        let roll = rng.below(1000);
        if roll < 8 {
            // Between two attempts: what a deploy or a crash of the server does.
            world.settle().await;
            world.restart_mock().await;
            report.count("mock_restart");
            continue;
        }
        if roll < 20 && clock_used < CLOCK_BUDGET_SECS {
            let jump = rng
                .between(600, 12 * 3600)
                .min(CLOCK_BUDGET_SECS - clock_used);
            world.mock.advance(jump).await;
            clock_used += jump;
            report.count("clock_jump");
            continue;
        }
        let fault = Fault::pick(&mut rng);
        scenario::play(&mut world, &mut report, &mut rng, fault).await;
    }
    world.settle().await;
    checks::checkpoint(&mut world, &mut report, &mut rng, true).await;
    report.elapsed = started.elapsed();
    report.clock_jumped = Duration::from_secs(clock_used as u64);
    report
}
