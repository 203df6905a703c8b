//! The member's event stream, `GET /v1/me/events?after={seq}&wait={0..=30}`: long polling.
//! It answers at once when events after `after` are waiting, else it waits up to `wait`
//! seconds for the first one. Events are appended by triggers (`pay_once.rs`) in the
//! transaction of the change; the same trigger calls `member_event_wake()`, which wakes every
//! waiter. A woken waiter reads through the one connection, so it reads only after that
//! transaction has ended: a rolled-back change is never seen, and a waiter woken for nothing
//! (another member, a rollback) simply waits on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::{Extension, Json};
use rusqlite::{params, Connection};
use serde::Deserialize;
use tierspay_core::wire::{MemberEvent, MemberEventList};
use tokio::sync::Notify;

use crate::http::{ApiError, Caller};
use crate::state::AppState;

/// Longest `wait`, seconds.
pub const MAX_WAIT_SECS: u64 = 30;
/// Most events in one answer.
pub const MAX_EVENTS: i64 = 100;
/// Waiters held at once across the server; past it a request answers at once (as `wait=0`),
/// so idle connections cannot pin unbounded tasks.
pub const MAX_WAITERS: usize = 1_000;

/// Woken by every commit that appended a member event (process-wide: with several mocks in
/// one test process, a waiter of one may be woken by another's commit and waits on).
static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);
static WAITERS: AtomicUsize = AtomicUsize::new(0);

/// Registers `member_event_wake()` on the connection, for the triggers that append events.
pub fn register_wake(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function("member_event_wake", 0, FunctionFlags::SQLITE_UTF8, |_| {
        WAKE.notify_waiters();
        Ok(0i64)
    })
}

/// `?after=&wait=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// The last `seq` seen (0 or absent: from the start). Text, checked here.
    pub after: Option<String>,
    /// Seconds to wait for a first event, 0 to 30 (default 0).
    pub wait: Option<String>,
}

/// A decimal cursor of at most 20 digits (fits i64 or refused), named `param` in errors.
pub fn parse_cursor(text: Option<&str>, param: &str) -> Result<i64, ApiError> {
    let Some(t) = text else { return Ok(0) };
    if t.is_empty() || t.len() > 20 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_param(
            param,
            format!("{param} must be a cursor this server gave: decimal digits, at most 20."),
        ));
    }
    t.parse::<i64>().map_err(|_| {
        ApiError::invalid_param(
            param,
            format!("{param} is beyond any cursor of this server."),
        )
    })
}

fn parse_wait(text: Option<&str>) -> Result<u64, ApiError> {
    let Some(t) = text else { return Ok(0) };
    t.parse::<u64>()
        .ok()
        .filter(|w| t.len() <= 2 && *w <= MAX_WAIT_SECS)
        .ok_or_else(|| {
            ApiError::invalid_param(
                "wait",
                format!("wait must be a whole number of seconds from 0 to {MAX_WAIT_SECS}."),
            )
        })
}

/// The member's events after `after`, oldest first, at most [`MAX_EVENTS`].
pub fn after(
    conn: &Connection,
    member_ref: &str,
    after: i64,
) -> Result<Vec<MemberEvent>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT seq, kind, invoice_id, created FROM platform_member_events
             WHERE member_ref = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?
        .query_map(params![member_ref, after, MAX_EVENTS], |r| {
            Ok(MemberEvent {
                object: "member_event".into(),
                seq: r.get(0)?,
                kind: r.get(1)?,
                invoice_id: r.get(2)?,
                created: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?)
}

struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        WAITERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `GET /v1/me/events`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MemberEventList>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    let Query(q) = query.map_err(|e| ApiError::invalid_param("after", e.body_text()))?;
    let from = parse_cursor(q.after.as_deref(), "after")?;
    let mut wait = parse_wait(q.wait.as_deref())?;
    let _counted = (wait > 0).then(|| {
        WAITERS.fetch_add(1, Ordering::SeqCst);
        Counted
    });
    if WAITERS.load(Ordering::SeqCst) > MAX_WAITERS {
        wait = 0;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        // Registered before the read: a commit between the read and the wait still wakes us.
        let woken = WAKE.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let m = member_ref.clone();
        let data = state.db.call(move |conn| after(conn, &m, from)).await?;
        if !data.is_empty() || tokio::time::Instant::now() >= deadline {
            let next_after = data.last().map_or(from, |e| e.seq);
            return Ok(Json(MemberEventList {
                object: "list".into(),
                data,
                next_after,
            }));
        }
        if tokio::time::timeout_at(deadline, woken).await.is_err() {
            // One last read: the answer is always the state at its end.
            continue;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_bounded_decimal_digits() {
        assert_eq!(parse_cursor(None, "after").unwrap(), 0);
        assert_eq!(parse_cursor(Some("42"), "after").unwrap(), 42);
        for bad in [
            "",
            "-1",
            "1e3",
            " 1",
            "123456789012345678901",
            "99999999999999999999",
        ] {
            let e = parse_cursor(Some(bad), "after").unwrap_err();
            assert_eq!(e.detail.param.as_deref(), Some("after"), "{bad:?}");
        }
    }

    #[test]
    fn wait_is_zero_to_thirty_seconds() {
        assert_eq!(parse_wait(None).unwrap(), 0);
        assert_eq!(parse_wait(Some("30")).unwrap(), 30);
        for bad in ["31", "-1", "abc", "0030", ""] {
            let e = parse_wait(Some(bad)).unwrap_err();
            assert_eq!(e.detail.param.as_deref(), Some("wait"), "{bad:?}");
        }
    }
}
