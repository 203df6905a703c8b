//! Provider codes (core/src/domain/provider_code.rs) from a scanned desk QR code or typed by
//! the member. Properties: no panic; a normalised code is a fixed point of `normalize`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tierspay_core::domain::provider_code;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(code) = provider_code::normalize(text) {
        assert_eq!(code.len(), provider_code::LEN);
        assert_eq!(
            provider_code::normalize(&code).as_deref(),
            Some(code.as_str())
        );
    }
});
