//! The mock's business clock: real time plus an offset that test helpers move forward, so code
//! expiry, token lifetimes and dunning schedules can be tested without waiting.
//! DPoP proof freshness is checked against real time: it guards the transport, not business.

use std::sync::atomic::{AtomicI64, Ordering};

/// Real time shifted by a test offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_secs: AtomicI64,
}

impl Clock {
    /// Business time, Unix seconds.
    pub fn now(&self) -> i64 {
        real_now() + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Moves business time forward (never backward: stored deadlines must stay meaningful).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs.max(0), Ordering::Relaxed);
    }

    /// Current offset from real time.
    pub fn offset(&self) -> i64 {
        self.offset_secs.load(Ordering::Relaxed)
    }
}

/// Real Unix time in seconds.
pub fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
