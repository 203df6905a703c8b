//! Signatures the server puts on what the phone must trust (the enrollment answer now, signed
//! links later), checked against the server public key pinned in the app's configuration.
//!
//! Format: header `TiersPay-Signature: <base64url raw r||s>`, ES256 over the exact body bytes.

use p256::ecdsa::SigningKey;

use super::ecdsa::{self, EcdsaError};

/// Name of the HTTP header carrying the server's signature of the body.
pub const HEADER: &str = "tierspay-signature";

/// Signs a response body with the server key.
pub fn sign_body(key: &SigningKey, body: &[u8]) -> String {
    super::b64url(ecdsa::sign(key, body))
}

/// Parses a pinned server key given as hex of the SEC1 uncompressed point.
pub fn parse_pinned_key(hex_key: &str) -> Result<Vec<u8>, EcdsaError> {
    let bytes = hex_decode(hex_key.trim()).ok_or(EcdsaError::BadPublicKey)?;
    ecdsa::parse_public_key(&bytes)?;
    Ok(bytes)
}

/// Checks the server's signature of `body` against the pinned key.
pub fn verify_body(pinned_key_sec1: &[u8], body: &[u8], header: &str) -> Result<(), EcdsaError> {
    let sig = super::b64url_decode(header.trim()).map_err(|_| EcdsaError::BadSignature)?;
    ecdsa::verify(pinned_key_sec1, body, &sig)
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes hex (either case, surrounding white space ignored); `None` when malformed.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_only_under_the_pinned_key_and_unchanged() {
        let key = ecdsa::generate_signing_key();
        let pinned = parse_pinned_key(&hex(&ecdsa::public_key_sec1(&key))).unwrap();
        let sig = sign_body(&key, b"{\"a\":1}");
        verify_body(&pinned, b"{\"a\":1}", &sig).unwrap();
        assert!(verify_body(&pinned, b"{\"a\":2}", &sig).is_err());
        let other = ecdsa::public_key_sec1(&ecdsa::generate_signing_key());
        assert!(verify_body(&other, b"{\"a\":1}", &sig).is_err());
        assert!(parse_pinned_key("zz").is_err());
        assert_eq!(hex_decode("0aFf"), Some(vec![0x0a, 0xff]));
    }
}
