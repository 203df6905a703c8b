//! Arrears reach the member (issue 11): invoices the member owes, reminders on a schedule by
//! push, email and SMS, each with its own signed link, and the pages those links open.

pub mod invoices;
