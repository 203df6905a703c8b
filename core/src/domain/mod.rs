//! Pure domain rules: no I/O, no clock reads (time is a parameter).

pub mod calendar;
pub mod card_rules;
pub mod coverage;
pub mod enrollment;
pub mod epc_qr;
pub mod gsm7;
pub mod links;
pub mod masking;
pub mod money;
pub mod payment;
pub mod payment_link;
pub mod preview;
pub mod provider_code;
pub mod push;
pub mod rf_reference;
pub mod search;
