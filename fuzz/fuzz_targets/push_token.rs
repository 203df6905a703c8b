//! Push tokens and service names (core/src/domain/push.rs) as the shell hands them over from
//! APNs or FCM. Properties: no panic; a normalised token is a fixed point of `normalize_token`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tierspay_core::domain::push::{self, PushService};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = PushService::parse(text);
    for service in [PushService::Apns, PushService::Fcm] {
        if let Ok(token) = push::normalize_token(service, text) {
            assert_eq!(
                push::normalize_token(service, &token).ok().as_ref(),
                Some(&token)
            );
        }
    }
});
