//! A stand-in for Apple's PassKit PKI, for tests and simulators (the terminal shell and the
//! Kotlin/Swift fake PassKit call it through the core): a root, a sub-CA, and leaf certificates
//! with a P-256 key-agreement key, plus bad variants that an issuer must refuse.
//!
//! Generated with `rcgen` (ring backend): an encoder independent of the `x509-cert` decoder that
//! [`super::chain`] verifies with, so the two cannot share a mistake. Never use these for
//! anything but tests: the keys live in memory and the names say "TEST".

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair,
    KeyUsagePurpose, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
};
use time::{Duration, OffsetDateTime};

use super::{codes, WalletError};

/// A chain as PassKit would hand it over, with the leaf's private key for the wallet side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestChain {
    /// The leaf certificate, DER.
    pub leaf: Vec<u8>,
    /// The sub-CA certificate, DER.
    pub sub_ca: Vec<u8>,
    /// The root that should be trusted, DER (for [`Variant::OtherRoot`], the root that is *not*
    /// the trusted one).
    pub root: Vec<u8>,
    /// The leaf's private key: the 32-byte P-256 scalar (48 bytes for [`Variant::LeafP384`]).
    pub leaf_private_key: Vec<u8>,
    /// The leaf's public key, uncompressed SEC1 (65 bytes; 97 for P-384).
    pub leaf_public_key: Vec<u8>,
}

impl TestChain {
    /// `[leaf, sub_ca]`, PassKit's `certificates` array.
    pub fn certificates(&self) -> Vec<Vec<u8>> {
        vec![self.leaf.clone(), self.sub_ca.clone()]
    }
}

/// Which chain to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// A chain that verifies: leaf (P-256, keyAgreement) ← sub-CA ← root.
    Good,
    /// The leaf holds a P-384 key.
    LeafP384,
    /// The leaf expired a day before `now`.
    ExpiredLeaf,
    /// The leaf is signed by another CA that has the sub-CA's name but not its key.
    LeafSignedByOtherCa,
    /// The sub-CA is signed by another root (same name, other key) than the trusted one.
    OtherRoot,
    /// The leaf's key usage is digitalSignature only.
    LeafWithoutKeyAgreement,
}

fn err(message: impl std::fmt::Display) -> WalletError {
    WalletError::new("test_pki", codes::INVALID, message.to_string())
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "TiersPay TEST PassKit");
    dn.push(DnType::CommonName, cn);
    dn
}

fn key(alg: &'static SignatureAlgorithm) -> Result<KeyPair, WalletError> {
    KeyPair::generate_for(alg).map_err(err)
}

fn at(unix: i64) -> Result<OffsetDateTime, WalletError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(err)
}

fn ca_params(cn: &str, now: i64, years: i64) -> Result<CertificateParams, WalletError> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    p.distinguished_name = name(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = at(now)? - Duration::days(1);
    p.not_after = at(now)? + Duration::days(365 * years);
    Ok(p)
}

/// The 32- or 48-byte private scalar inside rcgen's PKCS#8 document.
fn private_scalar(key: &KeyPair) -> Result<Vec<u8>, WalletError> {
    let der = key.serialize_der();
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_slice()).map_err(err)?;
    let ec = sec1::EcPrivateKey::try_from(info.private_key).map_err(err)?;
    Ok(ec.private_key.to_vec())
}

const ROOT_CN: &str = "TiersPay TEST Root CA";
const SUB_CN: &str = "TiersPay TEST PassKit Sub-CA";

/// A test root and sub-CA that issue leaf chains on demand.
pub struct TestPki {
    now: i64,
    root: Certificate,
    root_key: KeyPair,
    sub: Certificate,
    sub_key: KeyPair,
}

impl TestPki {
    /// A root and sub-CA valid from a day before `now_unix` for 10 and 5 years.
    pub fn new(now_unix: i64) -> Result<Self, WalletError> {
        Self::with_root_algorithm(now_unix, &PKCS_ECDSA_P256_SHA256)
    }

    /// The shape of Apple's real chain: a P-384 root signing with SHA-384 (Apple Root CA – G3),
    /// a P-256 sub-CA and leaf.
    pub fn with_p384_root(now_unix: i64) -> Result<Self, WalletError> {
        Self::with_root_algorithm(now_unix, &PKCS_ECDSA_P384_SHA384)
    }

    fn with_root_algorithm(
        now_unix: i64,
        root_alg: &'static SignatureAlgorithm,
    ) -> Result<Self, WalletError> {
        let root_key = key(root_alg)?;
        let root = ca_params(ROOT_CN, now_unix, 10)?
            .self_signed(&root_key)
            .map_err(err)?;
        let sub_key = key(&PKCS_ECDSA_P256_SHA256)?;
        let sub = ca_params(SUB_CN, now_unix, 5)?
            .signed_by(&sub_key, &root, &root_key)
            .map_err(err)?;
        Ok(Self {
            now: now_unix,
            root,
            root_key,
            sub,
            sub_key,
        })
    }

    /// The root to trust, DER.
    pub fn root_der(&self) -> Vec<u8> {
        self.root.der().to_vec()
    }

    /// The root to trust, PEM.
    pub fn root_pem(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.root.der());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    /// A fresh leaf chain of the given kind (each call makes a new leaf key).
    pub fn chain(&self, variant: Variant) -> Result<TestChain, WalletError> {
        let now = self.now;
        let leaf_alg: &'static SignatureAlgorithm = if variant == Variant::LeafP384 {
            &PKCS_ECDSA_P384_SHA384
        } else {
            &PKCS_ECDSA_P256_SHA256
        };
        let leaf_key = key(leaf_alg)?;
        let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        leaf.distinguished_name = name("TiersPay TEST PassKit Leaf");
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = if variant == Variant::LeafWithoutKeyAgreement {
            vec![KeyUsagePurpose::DigitalSignature]
        } else {
            vec![KeyUsagePurpose::KeyAgreement]
        };
        if variant == Variant::ExpiredLeaf {
            leaf.not_before = at(now)? - Duration::days(400);
            leaf.not_after = at(now)? - Duration::days(1);
        } else {
            leaf.not_before = at(now)? - Duration::days(1);
            leaf.not_after = at(now)? + Duration::days(365);
        }

        let (leaf_cert, sub_der, root_der) = match variant {
            Variant::LeafSignedByOtherCa => {
                let other_key = key(&PKCS_ECDSA_P256_SHA256)?;
                let other = ca_params(SUB_CN, now, 5)?
                    .signed_by(&other_key, &self.root, &self.root_key)
                    .map_err(err)?;
                let cert = leaf.signed_by(&leaf_key, &other, &other_key).map_err(err)?;
                (cert, self.sub.der().to_vec(), self.root_der())
            }
            Variant::OtherRoot => {
                let other_root_key = key(&PKCS_ECDSA_P256_SHA256)?;
                let other_root = ca_params(ROOT_CN, now, 10)?
                    .self_signed(&other_root_key)
                    .map_err(err)?;
                let sub_key = key(&PKCS_ECDSA_P256_SHA256)?;
                let sub = ca_params(SUB_CN, now, 5)?
                    .signed_by(&sub_key, &other_root, &other_root_key)
                    .map_err(err)?;
                let cert = leaf.signed_by(&leaf_key, &sub, &sub_key).map_err(err)?;
                (cert, sub.der().to_vec(), other_root.der().to_vec())
            }
            _ => {
                let cert = leaf
                    .signed_by(&leaf_key, &self.sub, &self.sub_key)
                    .map_err(err)?;
                (cert, self.sub.der().to_vec(), self.root_der())
            }
        };
        Ok(TestChain {
            leaf: leaf_cert.der().to_vec(),
            sub_ca: sub_der,
            root: root_der,
            leaf_private_key: private_scalar(&leaf_key)?,
            leaf_public_key: leaf_key.public_key_raw().to_vec(),
        })
    }
}

/// A good chain under a new root, valid at `now_unix`: the one-call form for simulators.
pub fn generate(now_unix: i64) -> Result<TestChain, WalletError> {
    TestPki::new(now_unix)?.chain(Variant::Good)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_carry_matching_keys() {
        let pki = TestPki::new(1_750_000_000).unwrap();
        let good = pki.chain(Variant::Good).unwrap();
        assert_eq!(good.leaf_private_key.len(), 32);
        assert_eq!(good.leaf_public_key.len(), 65);
        let secret = p256::SecretKey::from_slice(&good.leaf_private_key).unwrap();
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        assert_eq!(
            secret.public_key().to_encoded_point(false).as_bytes(),
            good.leaf_public_key.as_slice()
        );
        assert_eq!(good.root, pki.root_der());
        let p384 = pki.chain(Variant::LeafP384).unwrap();
        assert_eq!(
            (p384.leaf_private_key.len(), p384.leaf_public_key.len()),
            (48, 97)
        );
        assert_ne!(pki.chain(Variant::OtherRoot).unwrap().root, pki.root_der());
        assert!(generate(1_750_000_000).is_ok());
    }
}
