//! What a fault run did: attempts by channel, outcomes and faults by kind, what the checks
//! covered, and the pace.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::channels::Channel;

/// Most notes kept (the first ones; the rest are counted).
const MAX_NOTES: usize = 20;

/// The counts of one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The RNG's seed.
    pub seed: u64,
    /// Payment attempts made (each try of each channel).
    pub attempts: u64,
    /// Scenarios played (one invoice, one fault, its retries).
    pub scenarios: u64,
    /// Attempts by channel.
    pub by_channel: BTreeMap<&'static str, u64>,
    /// Outcomes and events by kind (`succeeded`, `already_paid`, `failed`, `lost_*`,
    /// `resumed_after_*`, `mock_restart`, `clock_jump`, `app_killed`, …).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Scenarios by the fault of their first attempt.
    pub faults: BTreeMap<&'static str, u64>,
    /// Invoices charged more than once (the run stops at the first).
    pub duplicates: u64,
    /// Checkpoints passed.
    pub checkpoints: u64,
    /// Invoices the run made, at the last checkpoint.
    pub invoices: u64,
    /// Of which paid.
    pub paid_invoices: u64,
    /// Link pages read and compared.
    pub pages_checked: u64,
    /// Invoice statuses read on phones and compared.
    pub phone_invoices_checked: u64,
    /// Invoices whose `invoice.paid` events were counted.
    pub events_checked: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Business time the clock was moved.
    pub clock_jumped: Duration,
    notes: Vec<String>,
    dropped_notes: u64,
}

impl Report {
    /// An empty report for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// One attempt through `channel`.
    pub fn attempt(&mut self, channel: Channel) {
        self.attempts += 1;
        *self.by_channel.entry(channel.name()).or_default() += 1;
    }

    /// One more of `kind`.
    pub fn count(&mut self, kind: &'static str) {
        *self.outcomes.entry(kind).or_default() += 1;
    }

    /// One more scenario under `fault`.
    pub fn fault(&mut self, fault: &'static str) {
        *self.faults.entry(fault).or_default() += 1;
    }

    /// How many of `kind`.
    pub fn outcome(&self, kind: &str) -> u64 {
        self.outcomes.get(kind).copied().unwrap_or(0)
    }

    /// Something worth reading that is not a failure.
    pub fn note(&mut self, text: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(text);
        } else {
            self.dropped_notes += 1;
        }
    }

    /// Attempts per second of wall time.
    pub fn attempts_per_second(&self) -> f64 {
        self.attempts as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn line(f: &mut fmt::Formatter<'_>, title: &str, map: &BTreeMap<&'static str, u64>) -> fmt::Result {
    let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    writeln!(f, "  {title}: {}", parts.join(" "))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "fault run CHAOS_SEED={}: {} attempts in {} scenarios, {:.1} s, {:.1} attempts/s, {} duplicate charges",
            self.seed,
            self.attempts,
            self.scenarios,
            self.elapsed.as_secs_f64(),
            self.attempts_per_second(),
            self.duplicates
        )?;
        line(f, "channels", &self.by_channel)?;
        line(f, "faults", &self.faults)?;
        line(f, "outcomes", &self.outcomes)?;
        writeln!(
            f,
            "  invoices: {} made, {} paid\n  checked: {} checkpoints, {} link pages, {} phone invoices, {} invoices' events; clock +{:.1} days",
            self.invoices,
            self.paid_invoices,
            self.checkpoints,
            self.pages_checked,
            self.phone_invoices_checked,
            self.events_checked,
            self.clock_jumped.as_secs_f64() / 86_400.0
        )?;
        for n in &self.notes {
            writeln!(f, "  note: {n}")?;
        }
        if self.dropped_notes > 0 {
            writeln!(f, "  ({} more notes)", self.dropped_notes)?;
        }
        Ok(())
    }
}
