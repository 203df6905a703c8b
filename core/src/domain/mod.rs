//! Pure domain rules: no I/O, no clock reads (time is a parameter).

pub mod enrollment;
pub mod links;
pub mod masking;
