//! One scenario: a member pays one invoice under one fault, then tries again as a member would
//! until an answer says paid (at most [`MAX_TRIES`] attempts; only the first carries a fault,
//! so a healthy system always settles within two). Or several channels pay it at once.

use std::time::Duration;

use super::channels::{self, Channel, Injected, Lost, Seen};
use super::checks;
use super::report::Report;
use super::rng::Rng;
use super::world::World;

/// Attempts one scenario may take before the run fails.
pub const MAX_TRIES: u32 = 4;

/// What a scenario does to its first attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing.
    Nothing,
    /// A 503 from the committing request.
    Fail,
    /// The answer dropped after the commit.
    DropAfterCommit,
    /// The request held past the client's timeout.
    Delay,
    /// The client killed mid-request.
    Kill,
    /// A declined card first.
    Decline,
    /// Two or three channels at the same moment.
    Concurrent,
    /// The answer dropped after the commit, then the mock restarted before the retry.
    DropThenRestart,
}

impl Fault {
    /// One fault, weighted: a third of the scenarios run clean.
    pub fn pick(rng: &mut Rng) -> Fault {
        match rng.below(100) {
            0..34 => Fault::Nothing,
            34..46 => Fault::Fail,
            46..62 => Fault::DropAfterCommit,
            62..66 => Fault::Delay,
            66..76 => Fault::Kill,
            76..82 => Fault::Decline,
            82..97 => Fault::Concurrent,
            _ => Fault::DropThenRestart,
        }
    }

    /// For the report.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Nothing => "none",
            Fault::Fail => "fail_5xx",
            Fault::DropAfterCommit => "drop_after_commit",
            Fault::Delay => "delay_past_timeout",
            Fault::Kill => "client_killed",
            Fault::Decline => "declined_card",
            Fault::Concurrent => "concurrent_channels",
            Fault::DropThenRestart => "drop_then_mock_restart",
        }
    }
}

fn lost_name(how: Lost) -> &'static str {
    match how {
        Lost::ServerError => "lost_5xx",
        Lost::Dropped => "lost_dropped",
        Lost::TimedOut => "lost_timed_out",
        Lost::Killed => "lost_killed",
    }
}

/// Plays one scenario on an invoice chosen by `rng` (mostly one still open, sometimes any).
pub async fn play(world: &mut World, report: &mut Report, rng: &mut Rng, fault: Fault) {
    report.scenarios += 1;
    report.fault(fault.name());
    let open = world.open();
    let i = if !open.is_empty() && rng.percent(85) {
        open[rng.index(open.len())]
    } else {
        rng.index(world.invoices.len())
    };
    world.reach(i).await;
    // A charge made before this scenario is not this scenario's success.
    let paid_before = winner(world, i).is_some();
    match fault {
        Fault::Concurrent => concurrent(world, report, rng, i, paid_before).await,
        _ => single(world, report, rng, i, fault, paid_before).await,
    }
    checks::one_invoice(world, report, i);
}

/// The channel whose card made invoice `i`'s charge, if it has one.
fn winner(world: &World, i: usize) -> Option<Channel> {
    checks::charges_of(&world.db(), &world.invoices[i].id)
        .first()
        .and_then(|c| Channel::of_last4(&c.last4))
}

async fn single(
    world: &mut World,
    report: &mut Report,
    rng: &mut Rng,
    i: usize,
    fault: Fault,
    paid_before: bool,
) {
    let mut channel = Channel::ALL[rng.index(Channel::ALL.len())];
    let mut injected = match fault {
        Fault::Nothing | Fault::Concurrent => Injected::Nothing,
        Fault::Fail => Injected::Fail,
        Fault::DropAfterCommit | Fault::DropThenRestart => Injected::DropAfterCommit,
        Fault::Delay => Injected::Delay,
        // Anywhere from before the request is written to after the commit.
        Fault::Kill => Injected::Kill(Duration::from_micros(rng.below(8_000))),
        Fault::Decline => Injected::Decline,
    };
    let mut card_round = 0;
    let mut after_kill = false;
    for _ in 0..MAX_TRIES {
        // The same payment keeps its key; another card is another payment.
        let key = format!(
            "chaos-{}-{}-{i}-{card_round}",
            report.seed, report.scenarios
        );
        let seen = channels::pay(world, i, channel, injected, &key).await;
        report.attempt(channel);
        if injected == Injected::Delay {
            world.delayed();
        }
        match seen {
            Seen::Paid | Seen::AlreadyPaid => {
                world.seen_paid.insert(i);
                let mine = !paid_before && seen == Seen::Paid && winner(world, i) == Some(channel);
                report.count(if mine { "succeeded" } else { "already_paid" });
                if after_kill {
                    report.count("resumed_after_client_kill");
                }
                return;
            }
            Seen::Declined => {
                report.count("failed");
                card_round += 1;
            }
            Seen::Lost(how) => {
                report.count(lost_name(how));
                after_kill |= how == Lost::Killed;
                if fault == Fault::DropThenRestart {
                    world.settle().await;
                    world.restart_mock().await;
                    report.count("mock_restart");
                }
                // A member may retry from another channel (a lost link answer, then the app).
                if rng.percent(30) {
                    channel = Channel::ALL[rng.index(Channel::ALL.len())];
                }
            }
        }
        injected = Injected::Nothing;
    }
    panic!(
        "seed {}: invoice {} not settled after {MAX_TRIES} attempts (fault {})",
        report.seed,
        world.invoices[i].id,
        fault.name()
    );
}

async fn concurrent(
    world: &mut World,
    report: &mut Report,
    rng: &mut Rng,
    i: usize,
    paid_before: bool,
) {
    let mut all = Channel::ALL;
    rng.shuffle(&mut all);
    let n = rng.between(2, 3);
    let key = |c: Channel| {
        format!(
            "chaos-{}-{}-{i}-{}",
            report.seed,
            report.scenarios,
            c.name()
        )
    };
    // Each channel's own key, alive for the whole join.
    let keys: Vec<String> = all.iter().map(|&c| key(c)).collect();
    let w = &*world;
    let seen: Vec<(Channel, Seen)> = if n == 2 {
        let (a, b) = tokio::join!(
            channels::pay(w, i, all[0], Injected::Nothing, &keys[0]),
            channels::pay(w, i, all[1], Injected::Nothing, &keys[1]),
        );
        vec![(all[0], a), (all[1], b)]
    } else {
        let (a, b, c) = tokio::join!(
            channels::pay(w, i, all[0], Injected::Nothing, &keys[0]),
            channels::pay(w, i, all[1], Injected::Nothing, &keys[1]),
            channels::pay(w, i, all[2], Injected::Nothing, &keys[2]),
        );
        vec![(all[0], a), (all[1], b), (all[2], c)]
    };
    let paid_by = winner(world, i);
    let mut succeeded = 0;
    for (channel, s) in seen {
        report.attempt(channel);
        match s {
            Seen::Paid if !paid_before && paid_by == Some(channel) => {
                succeeded += 1;
                report.count("succeeded");
            }
            Seen::Paid | Seen::AlreadyPaid => report.count("already_paid"),
            other => panic!(
                "seed {}: {} on {} without a fault: {other:?}",
                report.seed,
                channel.name(),
                world.invoices[i].id
            ),
        }
    }
    assert!(
        succeeded <= 1,
        "seed {}: {succeeded} channels paid {}",
        report.seed,
        world.invoices[i].id
    );
    world.seen_paid.insert(i);
}
