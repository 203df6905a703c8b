//! Stripe's webhook signature, for whoever sends or receives a webhook in the mock (the PSP
//! signs, the platform verifies): header `Stripe-Signature: t=<unix>,v1=<hex>`, where `v1` is
//! the hex HMAC-SHA256 of `"{t}.{raw body}"` keyed with the whole `whsec_…` secret (its bytes,
//! prefix included). Several `v1` entries may appear while a secret rotates; one matching is
//! enough. A receiver refuses a timestamp outside its tolerance (300 s by default, as the
//! official libraries) and compares in constant time.
//!
//! The header comes from outside: its length and number of entries are bounded before anything
//! is parsed, and nothing here panics on any input.

use ring::hmac;

/// The header's name.
pub const HEADER: &str = "Stripe-Signature";
/// How far a timestamp may be from now, in seconds, by default.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// Longest header accepted: a timestamp and a handful of signatures fit with room to spare.
pub const MAX_HEADER_BYTES: usize = 2048;
/// Most `key=value` entries in one header (a rotation sends two `v1`; other schemes may add
/// `v0` and the like).
pub const MAX_ENTRIES: usize = 16;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header is longer than [`MAX_HEADER_BYTES`] or has more than [`MAX_ENTRIES`] entries.
    #[error("the Stripe-Signature header is too large")]
    TooLarge,
    /// No `t=` entry, or one that is not a number, or two of them.
    #[error("the Stripe-Signature header has no valid timestamp")]
    NoTimestamp,
    /// No `v1=` entry.
    #[error("the Stripe-Signature header has no v1 signature")]
    NoSignature,
    /// The timestamp is further from now than the tolerance.
    #[error("the Stripe-Signature timestamp is outside the tolerance")]
    OutsideTolerance,
    /// No `v1` matches the body under this secret.
    #[error("no signature matches the payload")]
    Mismatch,
}

fn key(secret: &str) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())
}

fn message(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let t = timestamp.to_string();
    let mut m = Vec::with_capacity(t.len() + 1 + body.len());
    m.extend_from_slice(t.as_bytes());
    m.push(b'.');
    m.extend_from_slice(body);
    m
}

/// The hex `v1` signature of `body` at `timestamp` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = hmac::sign(&key(secret), &message(timestamp, body));
    tierspay_wallet::hex(tag.as_ref())
}

/// The header value signing `body` at `timestamp` with each of `secrets` (several while a
/// secret rotates: the receiver accepts any).
pub fn header_value(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for secret in secrets {
        out.push_str(",v1=");
        out.push_str(&sign(secret, timestamp, body));
    }
    out
}

/// Checks `header` against the raw `body` with `secret`, at `now` (Unix seconds), allowing
/// `tolerance` seconds either way. Returns the signed timestamp.
pub fn verify(
    header: &str,
    body: &[u8],
    secret: &str,
    now: i64,
    tolerance: i64,
) -> Result<i64, SignatureError> {
    if header.len() > MAX_HEADER_BYTES {
        return Err(SignatureError::TooLarge);
    }
    let mut timestamp = None;
    let mut candidates: Vec<Vec<u8>> = Vec::new();
    for (count, entry) in header.split(',').enumerate() {
        if count >= MAX_ENTRIES {
            return Err(SignatureError::TooLarge);
        }
        let Some((k, v)) = entry.trim().split_once('=') else {
            continue;
        };
        match k {
            "t" => {
                if timestamp.is_some() {
                    return Err(SignatureError::NoTimestamp);
                }
                timestamp = Some(v.parse::<i64>().map_err(|_| SignatureError::NoTimestamp)?);
            }
            // A malformed v1 cannot match; it is skipped rather than fatal, like other schemes'
            // entries, so a rotation's good signature still counts.
            "v1" => candidates.extend(tierspay_wallet::hex_decode(v)),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::NoTimestamp)?;
    if candidates.is_empty() {
        return Err(SignatureError::NoSignature);
    }
    if now.saturating_sub(timestamp).saturating_abs() > tolerance {
        return Err(SignatureError::OutsideTolerance);
    }
    let key = key(secret);
    let msg = message(timestamp, body);
    if candidates
        .iter()
        .any(|tag| hmac::verify(&key, &msg, tag).is_ok())
    {
        Ok(timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;
    const T: i64 = 1_700_000_000;
    // python3 -c "import hmac,hashlib; print(hmac.new(b'whsec_test_secret',
    //   b'1700000000.{\"id\":\"evt_1\",\"object\":\"event\"}', hashlib.sha256).hexdigest())"
    // (stripe-python 16's WebhookSignature.verify_header accepts it too).
    const KNOWN: &str = "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd";
    // The same with b'whsec_old'.
    const KNOWN_OLD: &str = "9119b75c4afa8bb5f71433cb34179a57aa261c58b80b417f1f537251b0cd38a8";

    #[test]
    fn signs_as_stripe_does() {
        assert_eq!(sign("whsec_test_secret", T, BODY), KNOWN);
        assert_eq!(sign("whsec_old", T, BODY), KNOWN_OLD);
        assert_eq!(
            header_value(&["whsec_test_secret"], T, BODY),
            format!("t={T},v1={KNOWN}")
        );
    }

    #[test]
    fn verifies_the_known_vector() {
        let h = format!("t={T},v1={KNOWN}");
        assert_eq!(verify(&h, BODY, "whsec_test_secret", T + 10, 300), Ok(T));
    }

    #[test]
    fn any_v1_of_a_rotation_matches() {
        let h = header_value(&["whsec_old", "whsec_test_secret"], T, BODY);
        assert_eq!(verify(&h, BODY, "whsec_test_secret", T, 300), Ok(T));
        assert_eq!(verify(&h, BODY, "whsec_old", T, 300), Ok(T));
        assert_eq!(
            verify(&h, BODY, "whsec_other", T, 300),
            Err(SignatureError::Mismatch)
        );
        // A scheme we do not know and a malformed v1 beside a good one.
        let h = format!("t={T},v0=abc,v1=zz,v1={KNOWN}");
        assert_eq!(verify(&h, BODY, "whsec_test_secret", T, 300), Ok(T));
    }

    #[test]
    fn refuses_a_changed_body_or_timestamp() {
        let h = format!("t={T},v1={KNOWN}");
        assert_eq!(
            verify(&h, b"{}", "whsec_test_secret", T, 300),
            Err(SignatureError::Mismatch)
        );
        let h = format!("t={},v1={KNOWN}", T + 1);
        assert_eq!(
            verify(&h, BODY, "whsec_test_secret", T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn refuses_outside_the_tolerance() {
        let h = format!("t={T},v1={KNOWN}");
        assert_eq!(
            verify(&h, BODY, "whsec_test_secret", T + 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(&h, BODY, "whsec_test_secret", T - 301, 300),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(verify(&h, BODY, "whsec_test_secret", T + 300, 300), Ok(T));
    }

    #[test]
    fn refuses_malformed_and_oversized_headers_without_panicking() {
        let s = "whsec_test_secret";
        for (h, e) in [
            ("", SignatureError::NoTimestamp),
            ("v1=00", SignatureError::NoTimestamp),
            ("t=abc,v1=00", SignatureError::NoTimestamp),
            ("t=1,t=2,v1=00", SignatureError::NoTimestamp),
            (&format!("t={T}") as &str, SignatureError::NoSignature),
            (&format!("t={T},v1=") as &str, SignatureError::Mismatch),
            (
                &format!("t={T},v1=xyz") as &str,
                SignatureError::NoSignature,
            ),
            (",,,=,==", SignatureError::NoTimestamp),
        ] {
            assert_eq!(verify(h, BODY, s, T, 300), Err(e), "{h:?}");
        }
        let long = format!("t={T},v1={}", "0".repeat(MAX_HEADER_BYTES));
        assert_eq!(
            verify(&long, BODY, s, T, 300),
            Err(SignatureError::TooLarge)
        );
        let many = format!("t={T}{}", ",x=1".repeat(MAX_ENTRIES));
        assert_eq!(
            verify(&many, BODY, s, T, 300),
            Err(SignatureError::TooLarge)
        );
        let extreme = format!("t={},v1={KNOWN}", i64::MIN);
        assert_eq!(
            verify(&extreme, BODY, s, i64::MAX, 300),
            Err(SignatureError::OutsideTolerance)
        );
    }
}
