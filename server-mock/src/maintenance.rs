//! Housekeeping off the request path: expired idempotent answers, proof ids and attempt counters
//! are deleted here, in small batches through indexes, so no request pays for the size of a
//! table.

use std::time::Duration;

use crate::clock::real_now;
use crate::http;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(30);
const BATCH: u32 = 2_000;

/// Runs until the server stops.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = sweep(&state).await {
            tracing::warn!("maintenance: {}", e.detail.message);
        }
    }
}

/// One pass; each batch is its own short transaction, so requests interleave with it.
pub async fn sweep(state: &AppState) -> Result<usize, http::ApiError> {
    let window = state.limits.window_secs;
    let mut total = 0;
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
