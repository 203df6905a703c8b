//! Screen flows written once for every shell: pure state machines (no I/O, no clock) that a
//! facade object drives, running the effects they return and reporting the answers back.

pub mod visit;
