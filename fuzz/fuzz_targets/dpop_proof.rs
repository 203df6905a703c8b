//! DPoP proofs (core/src/auth/dpop.rs): a compact JWT whose header carries the client's JWK,
//! read before anything is trusted. Property: `verify` never panics on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tierspay_core::auth::dpop;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = dpop::verify(
        text,
        "POST",
        "https://api.tierspay.test/v1/token",
        1_800_000_000,
        None,
    );
    let _ = dpop::verify(
        text,
        "GET",
        "https://api.tierspay.test/v1/me",
        1_800_000_000,
        Some("at"),
    );
});
