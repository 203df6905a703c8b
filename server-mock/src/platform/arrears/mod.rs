//! Arrears reach the member (issue 11): invoices the member owes, reminders on a schedule by
//! push, email and SMS, each with its own signed link, and the pages those links open. Paying
//! them exactly once from any channel (issue 12): `pay_once` (tables), `attempts`,
//! `payments_from_app`, `changes`, `member_events`, `history`.

pub mod attempts;
pub mod changes;
pub mod history;
pub mod hosted_page;
pub mod invoices;
pub mod link_reports;
pub mod links;
pub mod member_events;
pub mod messages;
pub mod pay_once;
pub mod payments_from_app;
pub mod quiet_hours;
pub mod reminders;
pub mod schedule;
pub mod short_links;
