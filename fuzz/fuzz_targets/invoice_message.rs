//! Messages on an invoice (core/src/wire/invoice_message.rs): the member's text and file before
//! they are queued, and the server's thread as the phone reads it. Properties: no panic; a text
//! that passes is already in its kept form (checking it again changes nothing), within the
//! bound, with no control character but newlines; an attachment that passes starts as its type
//! says; any thread JSON either reads or is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tierspay_core::wire::{
    check_attachment, check_text, magic_matches, InvoiceMessageList, ATTACHMENT_TYPES,
    MAX_TEXT_CHARS,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(kept) = check_text(text) {
            assert_eq!(check_text(&kept).as_deref(), Ok(kept.as_str()), "idempotent");
            assert!(kept.chars().count() <= MAX_TEXT_CHARS);
            assert!(!kept.chars().any(|c| c.is_control() && c != '\n'));
            assert_eq!(kept.trim(), kept);
        }
        let _ = serde_json::from_str::<InvoiceMessageList>(text);
    }
    for kind in ATTACHMENT_TYPES {
        if check_attachment(kind, data).is_ok() {
            assert!(magic_matches(kind, data));
        }
    }
});
