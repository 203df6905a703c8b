//! Housekeeping off the request path: armed visits past their deadline are expired (their holds
//! released); expired idempotent answers, proof ids and attempt counters are deleted in small
//! batches through indexes, so no request pays for the size of a table; and the WAL is checkpointed from a connection of its own, so no request's commit waits
//! for the disk.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock::real_now;
use crate::http;
use crate::state::AppState;

const PRUNE_EVERY: u32 = 30;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
const BATCH: u32 = 2_000;

/// Runs until the server stops.
pub async fn run(state: AppState, db_path: PathBuf) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    loop {
        tick.tick().await;
        let path = db_path.clone();
        match tokio::task::spawn_blocking(move || crate::db::checkpoint(&path)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!("checkpoint deferred: {e}"),
            Err(e) => tracing::warn!("checkpoint task failed: {e}"),
        }
        ticks = ticks.wrapping_add(1);
        if ticks % PRUNE_EVERY == 0 {
            if let Err(e) = sweep(&state).await {
                tracing::warn!("maintenance: {}", e.detail.message);
            }
        }
    }
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
