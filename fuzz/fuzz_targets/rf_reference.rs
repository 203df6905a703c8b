//! RF creditor references (core/src/domain/rf_reference.rs), as a bank statement's remittance
//! text or a person types them. Properties: no panic; a parsed reference re-reads to itself from
//! its electronic and its paper form; `make` of a parsed base gives the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tierspay_core::domain::rf_reference::RfReference;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = RfReference::parse(text) {
        assert_eq!(RfReference::parse(r.as_str()).ok().as_ref(), Some(&r));
        assert_eq!(RfReference::parse(&r.grouped()).ok().as_ref(), Some(&r));
        assert_eq!(RfReference::make(r.base()).ok().as_ref(), Some(&r));
        assert!((2..=98).contains(&r.check_digits()));
    }
    if let Ok(made) = RfReference::make(text) {
        assert_eq!(RfReference::parse(made.as_str()).ok().as_ref(), Some(&made));
    }
});
