//! Arrears reach the member (issue 11): invoices the member owes, reminders on a schedule by
//! push, email and SMS, each with its own signed link, and the pages those links open.

pub mod hosted_page;
pub mod invoices;
pub mod link_reports;
pub mod links;
pub mod messages;
pub mod quiet_hours;
pub mod reminders;
pub mod schedule;
pub mod short_links;
