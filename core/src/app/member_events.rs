//! The member's event stream: `GET /v1/me/events?after={seq}&wait={s}`, long polling. An
//! `invoice.updated` fetches the invoice changes (the cursor says what) and tells the screens
//! through [`CoreEvent::InvoicesUpdated`]. The last `seq` seen is stored, so a restart asks
//! after it. The watch loop waits a bounded time per request, backs off on errors, and stops
//! when the session ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;

use super::{Core, CoreEvent};
use crate::error::{Error, Result};
use crate::wire::MemberEventList;

/// Longest wait the platform grants.
pub const MAX_WAIT_SECONDS: u64 = 30;
/// Events one answer may carry.
const MAX_EVENTS: usize = 100;
/// The first delay after an error, doubled each time up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest delay between two attempts after errors.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What one long poll brought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Events read.
    pub events: u32,
    /// The invoices were synced because of them.
    pub invoices_synced: bool,
}

/// The delay after `failures` errors in a row: 1 s, 2 s, 4 s… up to [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(6);
    (FIRST_BACKOFF * factor).min(MAX_BACKOFF)
}

impl Core {
    /// The wait asked of the server: what the caller asks, within the platform's bound and
    /// well inside this client's request timeout (a wait the timeout cuts is an error).
    fn bounded_wait(&self, wait_seconds: u64) -> u64 {
        let timeout = self.settings.request_timeout.as_secs();
        wait_seconds
            .min(MAX_WAIT_SECONDS)
            .min(timeout.saturating_sub(5))
    }

    /// One long poll after the last event seen; an `invoice.updated` syncs the invoice changes
    /// and emits [`CoreEvent::InvoicesUpdated`].
    pub async fn poll_member_events(&self, wait_seconds: u64) -> Result<PollReport> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        let after = self.store()?.events_after()?;
        let wait = self.bounded_wait(wait_seconds);
        let path = format!("/v1/me/events?after={after}&wait={wait}");
        let list: MemberEventList = self.authed(Method::GET, &path, None).await?.json()?;
        if list.data.len() > MAX_EVENTS {
            return Err(Error::Protocol(format!(
                "the server sent {} events at once (at most {MAX_EVENTS})",
                list.data.len()
            )));
        }
        let mut report = PollReport {
            events: list.data.len() as u32,
            ..Default::default()
        };
        let invoices = list.data.iter().any(|e| e.kind.starts_with("invoice."));
        if invoices {
            self.sync_invoice_changes().await?;
            report.invoices_synced = true;
        }
        // Only forward, and only once what it announced is stored: a crash before this asks
        // again for the same events, which cost one sync.
        // The last seq read, not the server's `next_after`: a cursor past what was delivered
        // would skip events.
        let last = list.data.iter().map(|e| e.seq).max().unwrap_or(after);
        self.store()?.set_events_after(last.max(after))?;
        if invoices {
            self.events.emit(CoreEvent::InvoicesUpdated);
        }
        Ok(report)
    }

    /// Long-polls until `stop` is set, the member signs out or the server ends the session;
    /// errors wait [`backoff`] before the next try. Returns why it stopped.
    pub async fn watch_member_events(&self, stop: &AtomicBool, wait_seconds: u64) -> Result<()> {
        let mut failures = 0u32;
        while !stop.load(Ordering::Relaxed) {
            match self.poll_member_events(wait_seconds).await {
                Ok(_) => failures = 0,
                Err(
                    e @ (Error::NotEnrolled | Error::SessionRevoked | Error::ServerChanged { .. }),
                ) => return Err(e),
                Err(e) => {
                    failures += 1;
                    tracing::debug!(failures, "member events wait: {e}");
                    tokio::time::sleep(backoff(failures)).await;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_a_second_up_to_a_minute() {
        let delays: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
