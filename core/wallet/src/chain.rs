//! Verification of the certificates PassKit hands to the issuer (leaf first, then the sub-CA)
//! against a trusted root, before the leaf key is used for ECC_V2.
//!
//! Parser: `x509-cert` (RustCrypto). It is a strict DER decoder built on the same `der`/`spki`
//! crates that `p256` already pulls in, so the keys it yields go straight into `p256` for ECDSA
//! and it adds little to the mobile library; `x509-parser` would bring a second ASN.1 stack
//! (nom, asn1-rs) for no gain here. Signatures are checked over the re-encoded TBSCertificate,
//! which equals the received bytes because the decoder accepts DER only.
//!
//! Policy: the root may sign the sub-CA with ECDSA P-384 / SHA-384 (Apple Root CA – G3 is a
//! P-384 key) or P-256 / SHA-256; the sub-CA signs the leaf with P-256 / SHA-256, and the leaf key
//! is P-256, for ECDH (anything else is refused with a clear message); names chain (leaf issuer = sub-CA subject, sub-CA issuer = root subject), the
//! sub-CA is a CA, all three are valid at `now_unix`, the leaf key is P-256 and, when the leaf has
//! a key usage extension, it includes keyAgreement.

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;

use super::{codes, WalletError};

const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");

/// The name of the trusted root in errors.
pub const ROOT_FIELD: &str = "root";

fn cert_field(i: usize) -> String {
    format!("certificates[{i}]")
}

fn parse(der: &[u8], field: &str) -> Result<Certificate, WalletError> {
    Certificate::from_der(der).map_err(|e| {
        WalletError::new(
            field,
            codes::INVALID,
            format!("is not a DER-encoded X.509 certificate ({e})"),
        )
    })
}

fn algorithm_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.3.101.112" => "Ed25519".into(),
        other => other.into(),
    }
}

/// A key that may sign a certificate of the chain.
enum IssuerKey {
    P256(VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

/// The EC key of an SPKI, P-256 or (when `allow_p384`) P-384, or why not.
fn ec_key(
    spki: &SubjectPublicKeyInfoOwned,
    field: &str,
    whose: &str,
    allow_p384: bool,
) -> Result<IssuerKey, WalletError> {
    let accepted = if allow_p384 {
        "P-256 or P-384"
    } else {
        "P-256"
    };
    let refuse = |what: String| {
        WalletError::new(
            field,
            codes::UNSUPPORTED_ALGORITHM,
            format!("{whose} key is not {accepted} ({what})"),
        )
    };
    if spki.algorithm.oid != EC_PUBLIC_KEY {
        return Err(refuse(format!("algorithm {}", spki.algorithm.oid)));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| refuse("no named curve".into()))?;
    let bytes = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| refuse("malformed bit string".into()))?;
    if bytes.first() != Some(&0x04) {
        return Err(refuse("not an uncompressed point".into()));
    }
    let off_curve = || refuse("not a point on the curve".into());
    match curve {
        c if c == P256 && bytes.len() == 65 => VerifyingKey::from_sec1_bytes(bytes)
            .map(IssuerKey::P256)
            .map_err(|_| off_curve()),
        c if c == P384 && allow_p384 && bytes.len() == 97 => {
            p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
                .map(IssuerKey::P384)
                .map_err(|_| off_curve())
        }
        c if c == P256 || c == P384 => Err(refuse(if c == P384 {
            "P-384".into()
        } else {
            "not an uncompressed point".into()
        })),
        other => Err(refuse(other.to_string())),
    }
}

/// The P-256 key of an SPKI, or why not.
fn p256_key(
    spki: &SubjectPublicKeyInfoOwned,
    field: &str,
    whose: &str,
) -> Result<VerifyingKey, WalletError> {
    match ec_key(spki, field, whose, false)? {
        IssuerKey::P256(key) => Ok(key),
        IssuerKey::P384(_) => Err(WalletError::new(
            field,
            codes::UNSUPPORTED_ALGORITHM,
            format!("{whose} key is not P-256 (P-384)"),
        )),
    }
}

/// Checks that `cert` (named `field`) is signed by `issuer` (named `issuer_field`): ECDSA with
/// SHA-256 by a P-256 key, or (when `allow_p384`) with SHA-384 by a P-384 key.
fn check_signed_by(
    cert: &Certificate,
    field: &str,
    issuer: &Certificate,
    issuer_field: &str,
    allow_p384: bool,
) -> Result<(), WalletError> {
    let alg = &cert.signature_algorithm.oid;
    let accepted = if allow_p384 {
        "ecdsa-with-SHA256 over P-256 or ecdsa-with-SHA384 over P-384"
    } else {
        "ecdsa-with-SHA256 over P-256"
    };
    let unsupported = || {
        WalletError::new(
            field,
            codes::UNSUPPORTED_ALGORITHM,
            format!(
                "is signed with {}; only {accepted} is accepted",
                algorithm_name(alg)
            ),
        )
    };
    let known = *alg == ECDSA_WITH_SHA256 || (allow_p384 && *alg == ECDSA_WITH_SHA384);
    if !known || cert.tbs_certificate.signature.oid != *alg {
        return Err(unsupported());
    }
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(WalletError::new(
            field,
            codes::CHAIN_INVALID,
            format!("was not issued by {issuer_field} (issuer name differs)"),
        ));
    }
    let key = ec_key(
        &issuer.tbs_certificate.subject_public_key_info,
        issuer_field,
        "the issuing",
        allow_p384,
    )?;
    let tbs = cert
        .tbs_certificate
        .to_der()
        .map_err(|_| WalletError::new(field, codes::INVALID, "cannot be re-encoded"))?;
    let malformed = || WalletError::new(field, codes::CHAIN_INVALID, "has a malformed signature");
    let sig = cert.signature.as_bytes().ok_or_else(malformed)?;
    // The digest goes with the curve: SHA-256 for P-256, SHA-384 for P-384.
    let verified = match (&key, *alg == ECDSA_WITH_SHA384) {
        (IssuerKey::P256(k), false) => {
            let sig = Signature::from_der(sig).map_err(|_| malformed())?;
            k.verify(&tbs, &sig).is_ok()
        }
        (IssuerKey::P384(k), true) => {
            let sig = p384::ecdsa::Signature::from_der(sig).map_err(|_| malformed())?;
            k.verify(&tbs, &sig).is_ok()
        }
        _ => return Err(unsupported()),
    };
    if !verified {
        return Err(WalletError::new(
            field,
            codes::CHAIN_INVALID,
            format!("signature does not verify with the key of {issuer_field}"),
        ));
    }
    Ok(())
}

fn check_validity(cert: &Certificate, field: &str, now_unix: i64) -> Result<(), WalletError> {
    let v = &cert.tbs_certificate.validity;
    let not_before = v.not_before.to_unix_duration().as_secs() as i64;
    let not_after = v.not_after.to_unix_duration().as_secs() as i64;
    if now_unix < not_before {
        return Err(WalletError::new(field, codes::EXPIRED, "is not valid yet"));
    }
    if now_unix > not_after {
        return Err(WalletError::new(field, codes::EXPIRED, "has expired"));
    }
    Ok(())
}

fn extension(cert: &Certificate, oid: ObjectIdentifier) -> Option<&[u8]> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == oid)
        .map(|e| e.extn_value.as_bytes())
}

fn check_is_ca(cert: &Certificate, field: &str) -> Result<(), WalletError> {
    let is_ca = extension(cert, BASIC_CONSTRAINTS)
        .and_then(|v| BasicConstraints::from_der(v).ok())
        .is_some_and(|b| b.ca);
    if !is_ca {
        return Err(WalletError::new(
            field,
            codes::CHAIN_INVALID,
            "is not a certificate authority (basicConstraints cA is not set)",
        ));
    }
    if let Some(v) = extension(cert, KEY_USAGE) {
        let usage = KeyUsage::from_der(v)
            .map_err(|_| WalletError::new(field, codes::INVALID, "has a malformed key usage"))?;
        if !usage.key_cert_sign() {
            return Err(WalletError::new(
                field,
                codes::CHAIN_INVALID,
                "key usage does not allow signing certificates",
            ));
        }
    }
    Ok(())
}

/// Verifies PassKit's `certificates` (DER, leaf first, then the sub-CA) against `root_der` at
/// `now_unix`, and returns the leaf's public key (65-byte uncompressed SEC1 point).
pub fn verify(
    certificates: &[Vec<u8>],
    root_der: &[u8],
    now_unix: i64,
) -> Result<Vec<u8>, WalletError> {
    if certificates.len() != 2 {
        return Err(WalletError::new(
            "certificates",
            codes::INVALID,
            format!(
                "must hold exactly two certificates, the leaf then the sub-CA (got {})",
                certificates.len()
            ),
        ));
    }
    let leaf_field = cert_field(0);
    let sub_field = cert_field(1);
    let leaf = parse(&certificates[0], &leaf_field)?;
    let sub = parse(&certificates[1], &sub_field)?;
    let root = parse(root_der, ROOT_FIELD)?;

    // The root is the trust anchor: only its validity and key type matter.
    check_validity(&root, ROOT_FIELD, now_unix)?;
    check_signed_by(&sub, &sub_field, &root, ROOT_FIELD, true)?;
    check_is_ca(&sub, &sub_field)?;
    check_validity(&sub, &sub_field, now_unix)?;
    check_signed_by(&leaf, &leaf_field, &sub, &sub_field, false)?;
    check_validity(&leaf, &leaf_field, now_unix)?;

    let key = p256_key(
        &leaf.tbs_certificate.subject_public_key_info,
        &leaf_field,
        "leaf",
    )
    .map_err(|e| WalletError::new(&leaf_field, e.code, "leaf key is not P-256"))?;
    if let Some(v) = extension(&leaf, KEY_USAGE) {
        let usage = KeyUsage::from_der(v).map_err(|_| {
            WalletError::new(&leaf_field, codes::INVALID, "has a malformed key usage")
        })?;
        if !usage.key_agreement() {
            return Err(WalletError::new(
                &leaf_field,
                codes::CHAIN_INVALID,
                "leaf key usage does not include keyAgreement",
            ));
        }
    }
    Ok(key.to_encoded_point(false).as_bytes().to_vec())
}

/// Decodes a certificate given as DER or as PEM (`-----BEGIN CERTIFICATE-----`), returning DER;
/// for configuration files such as the mock's trusted root.
pub fn der_from_pem_or_der(bytes: &[u8]) -> Result<Vec<u8>, WalletError> {
    use base64::Engine;
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            let body: String = text
                .split("-----BEGIN CERTIFICATE-----")
                .nth(1)
                .and_then(|rest| rest.split("-----END CERTIFICATE-----").next())
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| {
                    WalletError::new(ROOT_FIELD, codes::INVALID, "PEM body is not base64")
                })?
        }
        _ => bytes.to_vec(),
    };
    parse(&der, ROOT_FIELD)?;
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::super::test_pki::{TestPki, Variant};
    use super::*;

    const NOW: i64 = 1_750_000_000;

    fn check(variant: Variant) -> Result<Vec<u8>, WalletError> {
        let pki = TestPki::new(NOW).unwrap();
        let chain = pki.chain(variant).unwrap();
        verify(&chain.certificates(), &pki.root_der(), NOW)
    }

    #[test]
    fn a_good_chain_yields_the_leaf_key() {
        let pki = TestPki::new(NOW).unwrap();
        let chain = pki.chain(Variant::Good).unwrap();
        let key = verify(&chain.certificates(), &pki.root_der(), NOW).unwrap();
        assert_eq!(key, chain.leaf_public_key);
        assert_eq!(key.len(), 65);
        // The private half matches: ECC_V2 round trip through the verified key.
        let enc = super::super::applepay::encrypt_pass_data(&key, b"hello").unwrap();
        let private: [u8; 32] = chain.leaf_private_key.clone().try_into().unwrap();
        let plain = super::super::applepay::decrypt_pass_data(
            &private,
            &enc.ephemeral_public_key,
            &enc.ciphertext,
        )
        .unwrap();
        assert_eq!(plain, b"hello");
        // PEM and DER both load as a root.
        assert_eq!(
            der_from_pem_or_der(&pki.root_der()).unwrap(),
            pki.root_der()
        );
        assert_eq!(
            der_from_pem_or_der(pki.root_pem().as_bytes()).unwrap(),
            pki.root_der()
        );
    }

    #[test]
    fn an_apple_shaped_chain_with_a_p384_root_verifies() {
        // Apple Root CA – G3 is P-384 and signs with SHA-384; the leaf stays P-256 for ECDH.
        let pki = TestPki::with_p384_root(NOW).unwrap();
        let chain = pki.chain(Variant::Good).unwrap();
        let key = verify(&chain.certificates(), &pki.root_der(), NOW).unwrap();
        assert_eq!(key, chain.leaf_public_key);
        // A chain under another P-384 root is still refused.
        let other = TestPki::with_p384_root(NOW).unwrap();
        let e = verify(&chain.certificates(), &other.root_der(), NOW).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("certificates[1]", codes::CHAIN_INVALID)
        );
    }

    #[test]
    fn bad_chains_are_refused_naming_the_certificate() {
        let e = check(Variant::LeafP384).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("certificates[0]", "leaf key is not P-256")
        );
        let e = check(Variant::ExpiredLeaf).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("certificates[0]", codes::EXPIRED)
        );
        let e = check(Variant::LeafSignedByOtherCa).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("certificates[0]", codes::CHAIN_INVALID)
        );
        let e = check(Variant::OtherRoot).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("certificates[1]", codes::CHAIN_INVALID)
        );
        let e = check(Variant::LeafWithoutKeyAgreement).unwrap_err();
        assert_eq!(e.field, "certificates[0]");
        assert!(e.message.contains("keyAgreement"), "{e}");
    }

    #[test]
    fn malformed_inputs_and_times_are_refused() {
        let pki = TestPki::new(NOW).unwrap();
        let chain = pki.chain(Variant::Good).unwrap();
        let certs = chain.certificates();
        assert_eq!(
            verify(&certs[..1], &pki.root_der(), NOW).unwrap_err().field,
            "certificates"
        );
        let swapped = vec![certs[1].clone(), certs[0].clone()];
        assert!(verify(&swapped, &pki.root_der(), NOW).is_err());
        let mut garbled = certs.clone();
        garbled[1][10] ^= 0xff;
        assert_eq!(
            verify(&garbled, &pki.root_der(), NOW).unwrap_err().field,
            "certificates[1]"
        );
        let mut flipped = certs.clone();
        let n = flipped[0].len();
        flipped[0][n - 70] ^= 0x01; // inside the TBS or signature: either way it must fail
        assert!(verify(&flipped, &pki.root_der(), NOW).is_err());
        assert_eq!(verify(&certs, b"nope", NOW).unwrap_err().field, ROOT_FIELD);
        let e = verify(&certs, &pki.root_der(), NOW + 20 * 365 * 86_400).unwrap_err();
        assert_eq!(e.code, codes::EXPIRED);
        let e = verify(&certs, &pki.root_der(), NOW - 30 * 86_400).unwrap_err();
        assert_eq!(e.code, codes::EXPIRED);
    }
}
