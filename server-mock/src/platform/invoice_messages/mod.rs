//! Messages on an invoice (issue 14, item 2): the member writes from the app, the insurer's
//! support answers from its console, and both read the same thread with who wrote and when.
//!
//! # For the support console (stable signatures)
//!
//! - [`thread`]`(conn, invoice_id, limit, starting_after) -> Result<(Vec<InvoiceMessage>, bool), ApiError>`:
//!   a page of the thread, oldest first, and whether more follow (the console checks the agent
//!   may see the invoice; any invoice id is read).
//! - [`post_staff`]`(tx, invoice_id, Staff { id, display_name }, text, now) -> Result<InvoiceMessage, ApiError>`:
//!   the agent's answer, and the push to the member, in the caller's transaction. The member
//!   reads `display_name`, never a login.
//! - [`invoice_of`]`(conn, invoice_id, None)`: the invoice's platform row, or a 404 naming `id`.
//!
//! Text is plain text: whoever shows it escapes it (askama templates do by default).

mod routes;
mod store;

pub use routes::router;
pub use store::{
    attachment, invoice_of, message, post_member, post_staff, thread, Attachment, Staff,
    MAX_DISPLAY_NAME, MAX_MESSAGES_PER_INVOICE, MIGRATIONS,
};
