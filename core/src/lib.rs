//! TiersPay core: every rule of the member payment app, in one Rust crate.
//!
//! Layout (pure inside, I/O at the edge):
//! - [`domain`]: pure rules (input validation, masking) with no network, database or clock.
//! - [`auth`]: pure cryptography of requests: DPoP proofs, server signatures, random ids.
//! - [`wire`]: the JSON shapes exchanged with the server; server-mock uses the same types.
//! - `store`, `net`: SQLite and HTTP, the edges.
//! - `ffi`: the uniffi facade ([`TiersPay`]) the Kotlin, Swift and terminal shells call.

uniffi::setup_scaffolding!("tierspay");

mod app;
pub mod auth;
#[doc(hidden)]
pub mod bench_support;
pub mod domain;
pub mod error;
#[cfg(feature = "failpoints")]
pub mod failpoints;
mod ffi;
mod net;
pub mod platform;
mod store;
pub mod wire;

pub use ffi::*;
pub use platform::{DeviceKey, PlatformError, SecureStorage};
#[cfg(feature = "testing")]
pub use platform::{FileSecureStorage, MemorySecureStorage, SoftwareDeviceKey};
