//! The JSON documents exchanged between the app and the server. The mock server serialises and
//! the core deserialises the very same types, so the two cannot drift apart.

pub mod card;
pub mod coverage;
pub mod enrollment;
pub mod error;
pub mod invoice;
pub mod invoice_message;
pub mod push;
pub mod session;
pub mod visit;

pub use card::*;
pub use coverage::*;
pub use enrollment::*;
pub use error::*;
pub use invoice::*;
pub use invoice_message::*;
pub use push::*;
pub use session::*;
pub use visit::*;
