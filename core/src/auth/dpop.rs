//! DPoP proofs (RFC 9449): every request after enrollment carries a JWT signed by the device
//! key over the method, the URL, the time and a unique id, plus the hash of the access token.
//! A stolen token is useless without the key, and a replayed proof is refused (the server keeps
//! the ids it has seen for the freshness window).

use serde::{Deserialize, Serialize};

use super::{b64url, b64url_decode, ecdsa, sha256};

/// Name of the HTTP header carrying the proof.
pub const HEADER: &str = "dpop";
/// How old a proof may be, in seconds, when it reaches the server.
pub const MAX_AGE_SECS: i64 = 60;
/// How far in the future a proof's time may be (clock skew), in seconds.
pub const MAX_SKEW_SECS: i64 = 5;

/// The claims of a proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Unique id of this proof.
    pub jti: String,
    /// HTTP method.
    pub htm: String,
    /// HTTP URL without query or fragment.
    pub htu: String,
    /// Issue time, Unix seconds.
    pub iat: i64,
    /// base64url SHA-256 of the access token, when one is presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

impl Claims {
    /// Claims for a request made at `now` (Unix seconds), with a fresh random id.
    pub fn new(method: &str, url: &str, now: i64, access_token: Option<&str>) -> Self {
        Self {
            jti: b64url(super::random::bytes::<16>()),
            htm: method.to_ascii_uppercase(),
            htu: strip_query(url).to_owned(),
            iat: now,
            ath: access_token.map(token_hash),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
    /// The private part: a proof carrying it is refused (RFC 9449 section 4.3, check 7: the
    /// key must be public), since whoever sent it has published the device's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    typ: String,
    alg: String,
    jwk: Jwk,
}

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not a compact JWT of the expected header.
    #[error("DPoP proof is malformed: {0}")]
    Malformed(&'static str),
    /// The signature does not verify under the embedded key.
    #[error("DPoP proof signature does not verify")]
    BadSignature,
    /// Method or URL differ from the request's.
    #[error("DPoP proof was made for another request")]
    WrongRequest,
    /// Too old or too far in the future.
    #[error("DPoP proof is stale")]
    Stale,
    /// The access token hash is missing or differs.
    #[error("DPoP proof is not bound to this access token")]
    WrongToken,
}

/// A proof whose signature, request binding and freshness were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// RFC 7638 thumbprint of the signing key; access tokens are bound to it.
    pub jkt: String,
    /// The proof's unique id, for the replay check.
    pub jti: String,
    /// Issue time.
    pub iat: i64,
    /// The SEC1 uncompressed public key that signed it.
    pub public_key: Vec<u8>,
}

/// base64url SHA-256 of an access token (the `ath` claim).
pub fn token_hash(token: &str) -> String {
    b64url(sha256(token.as_bytes()))
}

/// RFC 7638 thumbprint of a P-256 key given as SEC1 uncompressed bytes.
pub fn thumbprint(public_key_sec1: &[u8]) -> Result<String, ecdsa::EcdsaError> {
    ecdsa::parse_public_key(public_key_sec1)?;
    let (x, y) = (
        b64url(&public_key_sec1[1..33]),
        b64url(&public_key_sec1[33..65]),
    );
    // Members in lexicographic order, no white space, as RFC 7638 requires.
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    Ok(b64url(sha256(canonical.as_bytes())))
}

/// The bytes to sign for a proof: `base64url(header) "." base64url(claims)`.
pub fn signing_input(public_key_sec1: &[u8], claims: &Claims) -> Result<String, ProofError> {
    ecdsa::parse_public_key(public_key_sec1).map_err(|_| ProofError::Malformed("public key"))?;
    let header = Header {
        typ: "dpop+jwt".into(),
        alg: "ES256".into(),
        jwk: Jwk {
            d: None,
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64url(&public_key_sec1[1..33]),
            y: b64url(&public_key_sec1[33..65]),
        },
    };
    let header = serde_json::to_vec(&header).map_err(|_| ProofError::Malformed("header"))?;
    let claims = serde_json::to_vec(claims).map_err(|_| ProofError::Malformed("claims"))?;
    Ok(format!("{}.{}", b64url(header), b64url(claims)))
}

/// Joins the signing input and a signature (raw or DER) into a compact proof.
pub fn assemble(signing_input: &str, signature: &[u8]) -> Result<String, ProofError> {
    let raw = ecdsa::normalize_signature(signature).map_err(|_| ProofError::BadSignature)?;
    Ok(format!("{signing_input}.{}", b64url(raw)))
}

/// Verifies a proof for `method` and `url` at time `now`; `access_token` is the token presented
/// with it, if any. The replay check (has this `jti` been seen?) is the caller's: it needs state.
pub fn verify(
    proof: &str,
    method: &str,
    url: &str,
    now: i64,
    access_token: Option<&str>,
) -> Result<VerifiedProof, ProofError> {
    if proof.len() > 4096 {
        return Err(ProofError::Malformed("too long"));
    }
    let mut parts = proof.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ProofError::Malformed("not a compact JWT"));
    };
    let header: Header = decode_json(h).ok_or(ProofError::Malformed("header"))?;
    if header.typ != "dpop+jwt" || header.alg != "ES256" {
        return Err(ProofError::Malformed("typ must be dpop+jwt and alg ES256"));
    }
    if header.jwk.kty != "EC" || header.jwk.crv != "P-256" {
        return Err(ProofError::Malformed("jwk must be an EC P-256 key"));
    }
    if header.jwk.d.is_some() {
        return Err(ProofError::Malformed("jwk must not contain a private key"));
    }
    let (x, y) = (
        b64url_decode(&header.jwk.x).map_err(|_| ProofError::Malformed("jwk.x"))?,
        b64url_decode(&header.jwk.y).map_err(|_| ProofError::Malformed("jwk.y"))?,
    );
    if x.len() != 32 || y.len() != 32 {
        return Err(ProofError::Malformed("jwk coordinates"));
    }
    let mut public_key = Vec::with_capacity(65);
    public_key.push(0x04);
    public_key.extend_from_slice(&x);
    public_key.extend_from_slice(&y);
    let sig = b64url_decode(s).map_err(|_| ProofError::Malformed("signature encoding"))?;
    if sig.len() != 64 {
        return Err(ProofError::Malformed("signature must be raw r||s"));
    }
    let signed = &proof[..h.len() + 1 + c.len()];
    ecdsa::verify(&public_key, signed.as_bytes(), &sig).map_err(|e| match e {
        ecdsa::EcdsaError::BadPublicKey => ProofError::Malformed("jwk is not on the curve"),
        _ => ProofError::BadSignature,
    })?;
    let claims: Claims = decode_json(c).ok_or(ProofError::Malformed("claims"))?;
    if claims.jti.is_empty() || claims.jti.len() > 128 {
        return Err(ProofError::Malformed("jti"));
    }
    if !claims.htm.eq_ignore_ascii_case(method) || strip_query(&claims.htu) != strip_query(url) {
        return Err(ProofError::WrongRequest);
    }
    if claims.iat < now - MAX_AGE_SECS || claims.iat > now + MAX_SKEW_SECS {
        return Err(ProofError::Stale);
    }
    match (access_token, &claims.ath) {
        (None, None) => {}
        (Some(token), Some(ath)) if *ath == token_hash(token) => {}
        _ => return Err(ProofError::WrongToken),
    }
    let jkt = thumbprint(&public_key).map_err(|_| ProofError::Malformed("jwk"))?;
    Ok(VerifiedProof {
        jkt,
        jti: claims.jti,
        iat: claims.iat,
        public_key,
    })
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    serde_json::from_slice(&b64url_decode(part).ok()?).ok()
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(key: &p256::ecdsa::SigningKey, claims: &Claims) -> String {
        let input = signing_input(&ecdsa::public_key_sec1(key), claims).unwrap();
        assemble(&input, &ecdsa::sign(key, input.as_bytes())).unwrap()
    }

    #[test]
    fn a_fresh_proof_for_the_same_request_verifies() {
        let key = ecdsa::generate_signing_key();
        let claims = Claims::new("post", "http://h/v1/me?x=1", 1000, Some("at_1"));
        let p = proof(&key, &claims);
        let v = verify(&p, "POST", "http://h/v1/me", 1010, Some("at_1")).unwrap();
        assert_eq!(v.jkt, thumbprint(&ecdsa::public_key_sec1(&key)).unwrap());
        assert_eq!(v.jti, claims.jti);
    }

    #[test]
    fn proofs_for_other_requests_times_or_tokens_are_refused() {
        let key = ecdsa::generate_signing_key();
        let p = proof(
            &key,
            &Claims::new("GET", "http://h/v1/me", 1000, Some("at_1")),
        );
        assert_eq!(
            verify(&p, "POST", "http://h/v1/me", 1000, Some("at_1")),
            Err(ProofError::WrongRequest)
        );
        assert_eq!(
            verify(&p, "GET", "http://h/v1/other", 1000, Some("at_1")),
            Err(ProofError::WrongRequest)
        );
        assert_eq!(
            verify(&p, "GET", "http://h/v1/me", 1061, Some("at_1")),
            Err(ProofError::Stale)
        );
        assert_eq!(
            verify(&p, "GET", "http://h/v1/me", 994, Some("at_1")),
            Err(ProofError::Stale)
        );
        assert_eq!(
            verify(&p, "GET", "http://h/v1/me", 1000, Some("at_2")),
            Err(ProofError::WrongToken)
        );
        assert_eq!(
            verify(&p, "GET", "http://h/v1/me", 1000, None),
            Err(ProofError::WrongToken)
        );
    }

    #[test]
    fn tampered_or_malformed_proofs_are_refused() {
        let key = ecdsa::generate_signing_key();
        let p = proof(&key, &Claims::new("GET", "http://h/a", 1000, None));
        let mut parts: Vec<&str> = p.split('.').collect();
        let other = Claims::new("GET", "http://h/b", 1000, None);
        let forged = b64url(serde_json::to_vec(&other).unwrap());
        parts[1] = &forged;
        assert_eq!(
            verify(&parts.join("."), "GET", "http://h/b", 1000, None),
            Err(ProofError::BadSignature)
        );
        for bad in ["", "a.b", "a.b.c.d", "!!.??.##"] {
            assert!(matches!(
                verify(bad, "GET", "http://h/a", 1000, None),
                Err(ProofError::Malformed(_))
            ));
        }
    }

    #[test]
    fn a_proof_whose_jwk_carries_the_private_key_is_refused() {
        let key = ecdsa::generate_signing_key();
        let sec1 = ecdsa::public_key_sec1(&key);
        let header = serde_json::json!({
            "typ": "dpop+jwt", "alg": "ES256",
            "jwk": {"kty": "EC", "crv": "P-256", "x": b64url(&sec1[1..33]), "y": b64url(&sec1[33..65]),
                    "d": b64url(key.to_bytes())},
        });
        let claims = Claims::new("GET", "http://h/a", 1000, None);
        let input = format!(
            "{}.{}",
            b64url(serde_json::to_vec(&header).unwrap()),
            b64url(serde_json::to_vec(&claims).unwrap())
        );
        let p = assemble(&input, &ecdsa::sign(&key, input.as_bytes())).unwrap();
        assert_eq!(
            verify(&p, "GET", "http://h/a", 1000, None),
            Err(ProofError::Malformed("jwk must not contain a private key"))
        );
    }
}
