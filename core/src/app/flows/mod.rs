//! Screen flows written once for every shell: pure state machines (no I/O, no clock) that a
//! facade object drives, running the effects they return and reporting the answers back.

pub mod arrears;
pub mod enrollment;
pub mod thread;
pub mod visit;
pub mod wallet;

#[cfg(test)]
mod shell_cases;

/// What kind of failure, as far as the screen acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FailureKind {
    /// Input the member can fix (the field is named).
    InvalidInput,
    /// A refusal of the server.
    Rejected,
    /// The contract data was never downloaded: offer a sync.
    NotSynced,
    /// Offline or the server unreachable.
    Network,
    /// Anything else (rate limits, session ended, bugs): shown as it is.
    Other,
}

/// A failure of an effect, as the driver reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind.
    pub kind: FailureKind,
    /// The field the core named, for `InvalidInput`.
    pub field: Option<String>,
    /// What to tell the member.
    pub message: String,
    /// The server's code, for `Rejected`.
    pub code: Option<crate::wire::ErrorCode>,
}
