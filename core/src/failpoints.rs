//! Failpoints for the crash tests (feature `failpoints`, never in a shipped library): named
//! places between the steps of sending an outbox row where a test makes the core stop as a
//! crash would. `Error` returns at once with nothing more written (an in-process test then
//! drops the core and reopens the data folder); `Exit` ends the process on the spot, for the
//! terminal shell's test of a real kill. Each point fires once, then disarms.
//!
//! `TIERSPAY_FAILPOINT=after_send=exit` (or `=error`) arms one from the environment, read when
//! the core opens.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The outbox row is written (with its invoice's state), nothing is sent yet.
pub const AFTER_OUTBOX_WRITE: &str = "after_outbox_write";
/// The row is marked sending, the request is not sent yet.
pub const BEFORE_SEND: &str = "before_send";
/// The server has answered (it committed), the answer is not read yet.
pub const AFTER_SEND: &str = "after_send";
/// The answer is read, the local update (row finished, invoice written) is not made yet.
pub const AFTER_ANSWER: &str = "after_answer";

/// Every point, in the order a payment meets them.
pub const ALL: [&str; 4] = [AFTER_OUTBOX_WRITE, BEFORE_SEND, AFTER_SEND, AFTER_ANSWER];

/// The environment variable that arms one point at open.
pub const ENV: &str = "TIERSPAY_FAILPOINT";

/// The environment variable that sets the phone's clock off by so many seconds (negative: set
/// back), read once per process: the tests of a phone whose clock is wrong.
pub const CLOCK_SKEW_ENV: &str = "TIERSPAY_CLOCK_SKEW_SECS";

/// What an armed point does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailAction {
    /// Return an error from the step, writing nothing more.
    Error,
    /// `std::process::exit`: the process dies as if killed.
    Exit,
}

/// The exit status of a process a failpoint ended.
pub const EXIT_CODE: i32 = 86;

/// The points armed for one core.
#[derive(Debug, Default)]
pub struct Failpoints {
    armed: Mutex<HashMap<String, FailAction>>,
}

impl Failpoints {
    /// Armed from [`ENV`] (`point=exit` or `point=error`); nothing armed otherwise.
    pub fn from_env() -> Self {
        let points = Self::default();
        if let Ok(spec) = std::env::var(ENV) {
            if let Some((point, action)) = spec.split_once('=') {
                let action = match action {
                    "exit" => Some(FailAction::Exit),
                    "error" => Some(FailAction::Error),
                    _ => None,
                };
                if let Some(action) = action.filter(|_| ALL.contains(&point)) {
                    points.arm(point, action);
                }
            }
        }
        points
    }

    /// Arms `point` for its next hit.
    pub fn arm(&self, point: &str, action: FailAction) {
        if let Ok(mut armed) = self.armed.lock() {
            armed.insert(point.to_owned(), action);
        }
    }

    /// Called at `point`: fires (once) when armed.
    pub fn hit(&self, point: &str) -> Result<()> {
        let action = self.armed.lock().ok().and_then(|mut a| a.remove(point));
        match action {
            None => Ok(()),
            Some(FailAction::Error) => Err(Error::Internal(format!("failpoint {point}"))),
            Some(FailAction::Exit) => {
                eprintln!("tierspay: failpoint {point}: exiting");
                std::process::exit(EXIT_CODE)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_armed_point_fires_once_and_others_never() {
        let points = Failpoints::default();
        points.arm(AFTER_SEND, FailAction::Error);
        assert!(points.hit(BEFORE_SEND).is_ok());
        assert!(points.hit(AFTER_SEND).is_err());
        assert!(points.hit(AFTER_SEND).is_ok(), "disarmed after firing");
    }
}
