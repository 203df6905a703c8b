//! Payment link tokens (core/src/domain/payment_link.rs), as a link opened from an SMS or an
//! email hands them to the phone. Properties: `verify` never panics on any text, and a token
//! signed from claims the fuzzer picks verifies back to exactly those claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use p256::ecdsa::SigningKey;
use tierspay_core::auth::ecdsa;
use tierspay_core::domain::payment_link::{
    self, Channel, Currency, LinkClaims, MemberTag, PinnedLinkKey,
};

const MEMBER: &str = "MBR-FUZZ-0001";
const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    // A fixed key: the fuzzer explores the parser, not the curve.
    let key = SigningKey::from_slice(&[7u8; 32]).expect("a valid scalar");
    let pinned = PinnedLinkKey::new(1, &ecdsa::public_key_sec1(&key)).expect("its own point");
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = payment_link::verify(text, &pinned, NOW, MEMBER);
    }
    if data.len() >= 16 {
        let u32_at =
            |i: usize| u32::from_be_bytes([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        let letters = [
            b'A' + data[12] % 26,
            b'A' + data[13] % 26,
            b'A' + data[14] % 26,
        ];
        let claims = LinkClaims {
            key_id: 1,
            invoice: u32_at(0),
            member: MemberTag::of(MEMBER),
            amount_minor: u32_at(4),
            currency: Currency::parse(std::str::from_utf8(&letters).unwrap()).unwrap(),
            // Still valid at NOW, so the round trip checks every field.
            expires_at: (NOW as u32).saturating_add(1).max(u32_at(8)),
            channel: [Channel::Push, Channel::Email, Channel::Sms, Channel::App]
                [usize::from(data[15] % 4)],
        };
        let token = payment_link::sign(&claims, &key);
        assert_eq!(
            payment_link::verify(&token, &pinned, NOW, MEMBER),
            Ok(claims)
        );
    }
});
