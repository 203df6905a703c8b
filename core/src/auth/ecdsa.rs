//! ES256 (ECDSA P-256 with SHA-256) helpers. Platform keys (Secure Enclave, Android Keystore)
//! hand back DER signatures, software keys raw `r||s`; JOSE wants raw, so both are accepted.

use p256::ecdsa::{signature::Verifier, Signature, SigningKey, VerifyingKey};

/// Errors from parsing keys and signatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EcdsaError {
    /// The public key is not an uncompressed SEC1 P-256 point.
    #[error("public key is not an uncompressed P-256 point (65 bytes, 0x04 || X || Y)")]
    BadPublicKey,
    /// The signature is neither 64 raw bytes nor DER.
    #[error("signature is neither raw r||s (64 bytes) nor DER")]
    BadSignature,
    /// The signature does not match.
    #[error("signature does not verify")]
    Mismatch,
}

/// Parses a SEC1 uncompressed P-256 public key (65 bytes).
pub fn parse_public_key(sec1: &[u8]) -> Result<VerifyingKey, EcdsaError> {
    if sec1.len() != 65 || sec1[0] != 0x04 {
        return Err(EcdsaError::BadPublicKey);
    }
    VerifyingKey::from_sec1_bytes(sec1).map_err(|_| EcdsaError::BadPublicKey)
}

/// Normalises a signature to raw `r||s` (64 bytes), accepting raw or DER input.
pub fn normalize_signature(sig: &[u8]) -> Result<[u8; 64], EcdsaError> {
    let parsed = if sig.len() == 64 {
        Signature::from_slice(sig)
    } else {
        Signature::from_der(sig)
    }
    .map_err(|_| EcdsaError::BadSignature)?;
    let mut out = [0u8; 64];
    out.copy_from_slice(&parsed.to_bytes());
    Ok(out)
}

/// Verifies an ES256 signature (raw or DER) of `message` under a SEC1 public key.
pub fn verify(public_key_sec1: &[u8], message: &[u8], sig: &[u8]) -> Result<(), EcdsaError> {
    let key = parse_public_key(public_key_sec1)?;
    let raw = normalize_signature(sig)?;
    let sig = Signature::from_slice(&raw).map_err(|_| EcdsaError::BadSignature)?;
    key.verify(message, &sig).map_err(|_| EcdsaError::Mismatch)
}

/// A fresh random P-256 signing key.
pub fn generate_signing_key() -> SigningKey {
    loop {
        // About 2^-32 of 32-byte strings are not valid scalars; draw again then.
        if let Ok(key) = SigningKey::from_bytes(&super::random::bytes::<32>().into()) {
            return key;
        }
    }
}

/// Signs `message` with ES256 and returns raw `r||s`.
pub fn sign(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use p256::ecdsa::signature::Signer;
    let sig: Signature = key.sign(message);
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.to_bytes());
    out
}

/// Signs `message` with ES256 and returns raw `r||s` with `s` in the lower half of the group
/// order: (r, s) and (r, n − s) both verify, so a signer that always picks the low one gives
/// every message exactly one signature, and a verifier can refuse the other.
pub fn sign_low_s(key: &SigningKey, message: &[u8]) -> [u8; 64] {
    use p256::ecdsa::signature::Signer;
    let sig: Signature = key.sign(message);
    let sig = sig.normalize_s().unwrap_or(sig);
    let mut out = [0u8; 64];
    out.copy_from_slice(&sig.to_bytes());
    out
}

/// Verifies a raw 64-byte `r||s` ES256 signature whose `s` is low (see [`sign_low_s`]); DER
/// and high-`s` signatures are refused as [`EcdsaError::BadSignature`].
pub fn verify_low_s(key: &VerifyingKey, message: &[u8], sig: &[u8; 64]) -> Result<(), EcdsaError> {
    let sig = Signature::from_slice(sig).map_err(|_| EcdsaError::BadSignature)?;
    if sig.normalize_s().is_some() {
        return Err(EcdsaError::BadSignature);
    }
    key.verify(message, &sig).map_err(|_| EcdsaError::Mismatch)
}

/// The SEC1 uncompressed encoding (65 bytes) of a signing key's public half.
pub fn public_key_sec1(key: &SigningKey) -> Vec<u8> {
    key.verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_s_signatures_verify_and_their_high_twins_do_not() {
        let key = generate_signing_key();
        let public = parse_public_key(&public_key_sec1(&key)).unwrap();
        for i in 0..16u8 {
            let message = [i; 5];
            let low = sign_low_s(&key, &message);
            verify_low_s(&public, &message, &low).unwrap();
            // The twin (r, n − s) is a valid ES256 signature too, refused only for being high.
            let sig = Signature::from_slice(&low).unwrap();
            let (r, s) = sig.split_scalars();
            let twin = Signature::from_scalars(r, -*s).unwrap();
            let mut bytes = [0u8; 64];
            bytes.copy_from_slice(&twin.to_bytes());
            let twin = bytes;
            verify(&public_key_sec1(&key), &message, &twin).unwrap();
            assert_eq!(
                verify_low_s(&public, &message, &twin),
                Err(EcdsaError::BadSignature)
            );
            assert_eq!(
                verify_low_s(&public, b"other", &low),
                Err(EcdsaError::Mismatch)
            );
        }
    }

    #[test]
    fn raw_and_der_signatures_both_verify() {
        let key = generate_signing_key();
        let public = public_key_sec1(&key);
        let raw = sign(&key, b"hello");
        verify(&public, b"hello", &raw).unwrap();
        let der = Signature::from_slice(&raw).unwrap().to_der();
        verify(&public, b"hello", der.as_bytes()).unwrap();
        assert_eq!(verify(&public, b"hullo", &raw), Err(EcdsaError::Mismatch));
        assert_eq!(
            verify(&public, b"hello", &raw[..63]),
            Err(EcdsaError::BadSignature)
        );
        assert_eq!(
            verify(&public[..64], b"hello", &raw),
            Err(EcdsaError::BadPublicKey)
        );
    }
}
