//! Sliding-window attempt counters, in memory: a restart forgets them, which a mock can afford
//! (a real deployment keeps them in a shared store).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Counts attempts per key.
#[derive(Debug, Default)]
pub struct RateLimiter {
    hits: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl RateLimiter {
    /// Records an attempt for `key` at `now` unless `limit` attempts already happened in the
    /// last `window` seconds; then returns the seconds until one expires.
    pub fn hit(&self, key: &str, limit: u32, window: i64, now: i64) -> Result<(), u64> {
        let Ok(mut hits) = self.hits.lock() else {
            return Err(window as u64);
        };
        let queue = hits.entry(key.to_owned()).or_default();
        while queue.front().is_some_and(|t| *t <= now - window) {
            queue.pop_front();
        }
        if queue.len() >= limit as usize {
            let oldest = queue.front().copied().unwrap_or(now);
            return Err((oldest + window - now).max(1) as u64);
        }
        queue.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides() {
        let limiter = RateLimiter::default();
        assert!(limiter.hit("k", 2, 60, 0).is_ok());
        assert!(limiter.hit("k", 2, 60, 10).is_ok());
        assert_eq!(limiter.hit("k", 2, 60, 20), Err(40));
        assert!(limiter.hit("other", 2, 60, 20).is_ok());
        assert!(limiter.hit("k", 2, 60, 61).is_ok());
    }
}
