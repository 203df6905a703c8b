//! Housekeeping off the request path: armed visits past their deadline are expired (their holds
//! released); expired idempotent answers, proof ids and attempt counters are deleted in small
//! batches through indexes, so no request pays for the size of a table; and the WAL is
//! checkpointed from a connection of its own, so no request's commit waits for the disk, then
//! made to start over now and then (see [`checkpoint`]).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::clock::real_now;
use crate::db::{Checkpointer, WalState};
use crate::http;
use crate::state::AppState;

const PRUNE_EVERY: Duration = Duration::from_secs(30);
/// Pause between checkpoint passes. Passes back to back keep each one's share of the disk small
/// (a pass fsyncs what was written since the last), so the WAL's fsync never has a second of
/// writes to flush at once.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Frames after which the WAL is made to start over (16 MB of 1 KB pages, about 0.35 s at
/// 1,000 taps/s): each restart holds the writer for one short checkpoint, so they are spaced
/// out, yet the WAL stays far below the writer's own backstop (`db::WAL_BACKSTOP_PAGES`), which
/// fsyncs the whole WAL in a request. 65,536 was no better (p99 6.9-252 ms against 10-26 ms in
/// alternating 20 s runs): a longer WAL makes each pass and restart longer.
const RESTART_FRAMES: i64 = 16_384;
/// Most frames a pass may leave behind for the writer's connection to finish (about 2 MB
/// before the presync); under steady load a pass leaves what arrived while it ran.
const RESTART_LAG: i64 = 2_048;
const BATCH: u32 = 2_000;

/// Runs until the server stops.
pub async fn run(state: AppState, db_path: PathBuf) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut checkpointer = None;
    let mut pruned = Instant::now();
    loop {
        tick.tick().await;
        checkpointer = checkpoint(&state, &db_path, checkpointer).await;
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = Instant::now();
            if let Err(e) = sweep(&state).await {
                tracing::warn!("maintenance: {}", e.detail.message);
            }
        }
    }
}

/// One passive pass on the side connection, its fsyncs off the request path; when the WAL is
/// long and the pass left little behind, both files are flushed, still off the path, and the
/// writer's connection copies the rest, so the WAL starts over at the next commit. Without
/// that last step the WAL never restarts under steady load: it grew to the backstop, about
/// 400 MB, every few seconds at 400 taps/s, and the commit that reached it fsynced it all
/// (150-225 ms in a tokio worker, every request waiting).
async fn checkpoint(
    state: &AppState,
    db_path: &std::path::Path,
    side: Option<Checkpointer>,
) -> Option<Checkpointer> {
    let path = db_path.to_owned();
    let pass = tokio::task::spawn_blocking(move || {
        let side = match side {
            Some(s) => s,
            None => Checkpointer::open(&path).map_err(|e| e.to_string())?,
        };
        let wal = side.pass().map_err(|e| e.to_string())?;
        let restart = wal.frames >= RESTART_FRAMES && wal.lag() <= RESTART_LAG;
        if restart {
            // Flush what the passes wrote, then once more what arrived meanwhile: the second
            // round is short, so the writer's connection is left only its last few pages.
            side.presync().map_err(|e| e.to_string())?;
            side.pass().map_err(|e| e.to_string())?;
            side.presync().map_err(|e| e.to_string())?;
        }
        Ok::<_, String>((side, wal, restart))
    })
    .await;
    let (side, before, restart) = match pass {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            tracing::debug!("checkpoint deferred: {e}");
            return None;
        }
        Err(e) => {
            tracing::warn!("checkpoint task failed: {e}");
            return None;
        }
    };
    if restart {
        let started = Instant::now();
        match state.db.finish_checkpoint().await {
            Ok((after, held)) => log_restart(before, after, started.elapsed(), held),
            Err(e) => tracing::debug!("checkpoint not finished: {}", e.detail.message),
        }
    }
    Some(side)
}

fn log_restart(before: WalState, after: WalState, took: Duration, held: Duration) {
    tracing::debug!(
        frames = before.frames,
        left_by_pass = before.lag(),
        left_now = after.lag(),
        took_us = took.as_micros() as u64,
        held_us = held.as_micros() as u64,
        "WAL checkpoint finished on the writer's connection"
    );
}

/// One pass; each batch is its own short transaction, so requests interleave with it.
pub async fn sweep(state: &AppState) -> Result<usize, http::ApiError> {
    let window = state.limits.window_secs;
    // Armed visits past their deadline give their hold back even if nobody reads them.
    let now = state.clock.now();
    let mut total = state
        .db
        .transaction(move |tx| crate::platform::visits::sweep_expired(tx, None, now))
        .await?;
    loop {
        let business_now = state.clock.now();
        let deleted = state
            .db
            .call(move |conn| {
                let now = real_now();
                Ok(http::idempotency::prune(conn, now, BATCH)?
                    + http::prune_proof_ids(conn, now, BATCH)?
                    + crate::rate_limit::prune(conn, business_now, window, BATCH)?)
            })
            .await?;
        total += deleted;
        if deleted == 0 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}
