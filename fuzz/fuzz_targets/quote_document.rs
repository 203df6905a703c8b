//! The quote document (core/src/domain/coverage/document.rs): JSON from a file or a stranger
//! (`tierspay quote FILE`, the offline calculator). Properties: no panic; a document that reads
//! gives figures that add up to the price to the cent (AMO + AMC + member), none negative; and
//! the request written back as a document reads back to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rust_decimal::Decimal;
use tierspay_core::domain::coverage;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(request) = coverage::parse_document(text) else {
        return;
    };
    if let Ok(q) = coverage::quote(&request) {
        assert_eq!(q.amo + q.amc + q.member, request.price, "the three add up");
        for part in [q.amo, q.amc, q.member] {
            assert!(part >= Decimal::ZERO, "no negative share: {q:?}");
        }
    }
    let written = coverage::request_document(&request).to_string();
    assert_eq!(
        coverage::parse_document(&written).as_ref(),
        Ok(&request),
        "{written}"
    );
});
