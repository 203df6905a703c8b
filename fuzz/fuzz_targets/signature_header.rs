//! The server's signature header and pinned key (core/src/auth/signature.rs): the header comes
//! off the network, the key from configuration. Properties: no panic; hex decodes what `hex`
//! writes; a body signed with the pinned key verifies, and the fuzzer's header for another body
//! does not pass unless it is that signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p256::ecdsa::SigningKey;
use tierspay_core::auth::{ecdsa, signature};

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_slice(&[9u8; 32]).expect("a valid scalar");
    let pinned = ecdsa::public_key_sec1(&key);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = signature::parse_pinned_key(text);
        if let Some(bytes) = signature::hex_decode(text) {
            assert_eq!(signature::hex_decode(&signature::hex(&bytes)), Some(bytes));
        }
        let _ = signature::verify_body(&pinned, b"{\"fixed\":true}", text);
    }
    let header = signature::sign_body(&key, data);
    assert_eq!(signature::verify_body(&pinned, data, &header), Ok(()));
});
