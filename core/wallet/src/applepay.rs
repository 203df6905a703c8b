//! Apple Pay in-app provisioning, encryption scheme ECC_V2 (docs/wallets.md):
//! ECDH P-256 between a fresh ephemeral key and the PassKit leaf key; Z = x-coordinate; key =
//! SHA-256(00000001 || Z || 0x0D || "id-aes256-GCM" || "Apple" || ephemeralPub65) (NIST SP
//! 800-56A single-step KDF, one round); AES-256-GCM with an all-zero 12-byte IV and no AAD;
//! output ciphertext || tag. The zero IV is safe only because each key encrypts once: every call
//! of [`encrypt_pass_data`] draws a new ephemeral key.

use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use ring::aead;
use serde::Serialize;

use super::{codes, hex, WalletError};

/// Shortest nonce PassKit may hand over, in bytes.
pub const NONCE_MIN: usize = 1;
/// Longest nonce accepted, in bytes.
pub const NONCE_MAX: usize = 64;
/// Shortest nonce signature accepted, in bytes.
pub const NONCE_SIGNATURE_MIN: usize = 16;
/// Longest nonce signature accepted, in bytes.
pub const NONCE_SIGNATURE_MAX: usize = 256;

/// The answer's encrypted part: `encryptedPassData` and `ephemeralPublicKey`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedPass {
    /// AES-256-GCM ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
    /// The ephemeral public key, uncompressed SEC1 (65 bytes, `04 || X || Y`).
    pub ephemeral_public_key: Vec<u8>,
}

fn parse_point(bytes: &[u8], field: &str) -> Result<PublicKey, WalletError> {
    if bytes.len() != 65 || bytes[0] != 0x04 {
        return Err(WalletError::new(
            field,
            codes::INVALID,
            "must be an uncompressed P-256 point (65 bytes, 0x04 || X || Y)",
        ));
    }
    PublicKey::from_sec1_bytes(bytes)
        .map_err(|_| WalletError::new(field, codes::INVALID, "is not a point on P-256"))
}

/// Z: the x-coordinate of ECDH(secret, public).
fn shared_x(secret: &SecretKey, public: &PublicKey) -> [u8; 32] {
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    let mut z = [0u8; 32];
    z.copy_from_slice(shared.raw_secret_bytes());
    z
}

/// The ECC_V2 key: SHA-256(counter 1 || Z || 0x0D "id-aes256-GCM" || "Apple" || ephemeralPub).
pub fn derive_key(z: &[u8; 32], ephemeral_public_key: &[u8]) -> [u8; 32] {
    let mut input = Vec::with_capacity(4 + 32 + 14 + 5 + 65);
    input.extend_from_slice(&[0, 0, 0, 1]);
    input.extend_from_slice(z);
    input.push(0x0D);
    input.extend_from_slice(b"id-aes256-GCM");
    input.extend_from_slice(b"Apple");
    input.extend_from_slice(ephemeral_public_key);
    crate::sha256(&input)
}

fn gcm_key(key: &[u8; 32]) -> aead::LessSafeKey {
    // Only fails for a wrong key length, which the type rules out.
    aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_256_GCM, key).expect("AES-256 key is 32 bytes"),
    )
}

/// Encrypts with a given ephemeral secret (32-byte scalar). For the known-answer test and
/// reproducible fixtures only: production calls [`encrypt_pass_data`].
pub fn encrypt_with_ephemeral(
    leaf_public_key: &[u8],
    ephemeral_secret: &[u8; 32],
    plaintext: &[u8],
) -> Result<EncryptedPass, WalletError> {
    let leaf = parse_point(leaf_public_key, "certificates[0]")?;
    let secret = SecretKey::from_slice(ephemeral_secret).map_err(|_| {
        WalletError::new(
            "ephemeral_secret",
            codes::INVALID,
            "is not a valid P-256 scalar",
        )
    })?;
    let ephemeral_public_key = secret
        .public_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let key = derive_key(&shared_x(&secret, &leaf), &ephemeral_public_key);
    let mut ciphertext = plaintext.to_vec();
    gcm_key(&key)
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key([0u8; 12]),
            aead::Aad::empty(),
            &mut ciphertext,
        )
        .map_err(|_| WalletError::new("plaintext", codes::INVALID, "is too long to encrypt"))?;
    Ok(EncryptedPass {
        ciphertext,
        ephemeral_public_key,
    })
}

/// Encrypts pass data for the PassKit leaf key (65-byte SEC1), with a fresh ephemeral key.
pub fn encrypt_pass_data(
    leaf_public_key: &[u8],
    plaintext: &[u8],
) -> Result<EncryptedPass, WalletError> {
    loop {
        let candidate = crate::random_bytes::<32>();
        // About 2^-32 of 32-byte strings are not valid scalars; draw again then.
        if SecretKey::from_slice(&candidate).is_ok() {
            return encrypt_with_ephemeral(leaf_public_key, &candidate, plaintext);
        }
    }
}

/// The wallet's side: decrypts `encryptedPassData` with the leaf private key (32-byte scalar).
/// For simulators and tests.
pub fn decrypt_pass_data(
    leaf_private_key: &[u8; 32],
    ephemeral_public_key: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, WalletError> {
    let secret = SecretKey::from_slice(leaf_private_key).map_err(|_| {
        WalletError::new(
            "leaf_private_key",
            codes::INVALID,
            "is not a valid P-256 scalar",
        )
    })?;
    let ephemeral = parse_point(ephemeral_public_key, "ephemeral_public_key")?;
    let key = derive_key(&shared_x(&secret, &ephemeral), ephemeral_public_key);
    let mut buffer = ciphertext.to_vec();
    let plain = gcm_key(&key)
        .open_in_place(
            aead::Nonce::assume_unique_for_key([0u8; 12]),
            aead::Aad::empty(),
            &mut buffer,
        )
        .map_err(|_| {
            WalletError::new(
                "encrypted_pass_data",
                codes::DECRYPTION_FAILED,
                "does not decrypt with this key (tampered, or made for another key)",
            )
        })?;
    Ok(plain.to_vec())
}

/// Checks PassKit's nonce (1–64 bytes) and nonce signature (16–256 bytes).
pub fn validate_nonce(nonce: &[u8], nonce_signature: &[u8]) -> Result<(), WalletError> {
    if !(NONCE_MIN..=NONCE_MAX).contains(&nonce.len()) {
        return Err(WalletError::new(
            "nonce",
            codes::INVALID,
            format!(
                "must be {NONCE_MIN} to {NONCE_MAX} bytes, got {}",
                nonce.len()
            ),
        ));
    }
    if !(NONCE_SIGNATURE_MIN..=NONCE_SIGNATURE_MAX).contains(&nonce_signature.len()) {
        return Err(WalletError::new(
            "nonce_signature",
            codes::INVALID,
            format!(
                "must be {NONCE_SIGNATURE_MIN} to {NONCE_SIGNATURE_MAX} bytes, got {}",
                nonce_signature.len()
            ),
        ));
    }
    Ok(())
}

/// The plaintext of `encryptedPassData`, the JSON object PassKit expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassPlaintext {
    /// The funding PAN, digits only.
    pub primary_account_number: String,
    /// `MM/YY`.
    pub expiration: String,
    /// The name on the card.
    pub name: String,
    /// Hex of the nonce bytes.
    pub nonce: String,
    /// Hex of the nonce signature bytes.
    pub nonce_signature: String,
}

/// Builds the plaintext JSON after validating every input (`nonce`, `nonce_signature`,
/// `primary_account_number`, `exp_month`, `exp_year`, `name` name the field at fault).
pub fn pass_plaintext(
    pan: &str,
    exp_month: u8,
    exp_year: i32,
    name: &str,
    nonce: &[u8],
    nonce_signature: &[u8],
) -> Result<Vec<u8>, WalletError> {
    validate_nonce(nonce, nonce_signature)?;
    if !super::pan::luhn_valid(pan) {
        return Err(WalletError::new(
            "primary_account_number",
            codes::INVALID,
            "must be 12 to 19 digits with a valid check digit",
        ));
    }
    if !(1..=12).contains(&exp_month) {
        return Err(WalletError::new(
            "exp_month",
            codes::INVALID,
            "must be 1 to 12",
        ));
    }
    if !(2000..=2099).contains(&exp_year) {
        return Err(WalletError::new(
            "exp_year",
            codes::INVALID,
            "must be 2000 to 2099",
        ));
    }
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(WalletError::new(
            "name",
            codes::INVALID,
            "must be 1 to 100 characters",
        ));
    }
    let doc = PassPlaintext {
        primary_account_number: pan.to_owned(),
        expiration: format!("{exp_month:02}/{:02}", exp_year % 100),
        name: name.to_owned(),
        nonce: hex(nonce),
        nonce_signature: hex(nonce_signature),
    };
    // Serialising a struct of strings cannot fail.
    Ok(serde_json::to_vec(&doc).expect("pass plaintext serialises"))
}

#[cfg(test)]
mod tests {
    use super::super::hex_decode;
    use super::*;

    const LEAF_PUB: &str = "042E3E5CCF6B9AB04BE7A22F3FACCFDE73C87E87155394A34815408A896CA18A374DAC669AF3BF6220FC863767F4AF47507C5BC221FC4A19874DAF39B4074E3EB8";
    const EPH_PRIV: &str = "7EEE47DEE108A08EDD2BCD2BB762A543CA23EA96C9AF09AD54BEB9FA3CE1A026";
    const EPH_PUB: &str = "0499A6F42E83EA4F150A78780FFB562C9CDB9B7507BC5D28CBFBF8CC3EF0AF68B36E60CB10DB69127830F7F899492017089E3B73C83FCF0EBDF2C06B613C3F88B7";
    const Z: &str = "A88B995FECBDF756515ED42BA53A6CCCA4F5936F69CF4D15352C94C592B347B1";
    const KEY: &str = "083080D3D0C521C02CD3AE2134363D09EA50DFF914677FAB9E22F18F9C28A3B9";
    const PLAIN: &str = r#"{"Parameter1":"Value1","Parameter2":"Value2","Parameter3":"Value3"}"#;
    const CIPHER: &str = "E3EF6BA2FFA05B6985FE129E3CB6845C4EA1E94AE98D31A538A4E24906FB720D764D640894CD9DE7CEC00114396651A1CCAEDCF480C57A959E925C04492B9CF85FC711FAB3CBED10DC2BA99A2BB063CEFF8DE1";

    fn h(s: &str) -> Vec<u8> {
        hex_decode(s).unwrap()
    }

    #[test]
    fn known_answer_vector_matches_z_key_and_ciphertext() {
        let leaf = PublicKey::from_sec1_bytes(&h(LEAF_PUB)).unwrap();
        let eph = SecretKey::from_slice(&h(EPH_PRIV)).unwrap();
        assert_eq!(
            eph.public_key().to_encoded_point(false).as_bytes(),
            h(EPH_PUB).as_slice()
        );
        let z = shared_x(&eph, &leaf);
        assert_eq!(z.to_vec(), h(Z));
        assert_eq!(derive_key(&z, &h(EPH_PUB)).to_vec(), h(KEY));
        let secret: [u8; 32] = h(EPH_PRIV).try_into().unwrap();
        let out = encrypt_with_ephemeral(&h(LEAF_PUB), &secret, PLAIN.as_bytes()).unwrap();
        assert_eq!(out.ephemeral_public_key, h(EPH_PUB));
        assert_eq!(out.ciphertext, h(CIPHER));
    }

    #[test]
    fn the_wallet_side_decrypts_and_detects_tampering() {
        let (leaf_priv, leaf_pub) = crate::generate_p256_key();
        let plain = pass_plaintext(
            "4000001234567899",
            3,
            2029,
            "M. Pseudonyme",
            b"abc",
            &[7; 64],
        )
        .unwrap();
        let a = encrypt_pass_data(&leaf_pub, &plain).unwrap();
        let b = encrypt_pass_data(&leaf_pub, &plain).unwrap();
        assert_ne!(
            a.ephemeral_public_key, b.ephemeral_public_key,
            "fresh key each call"
        );
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(
            decrypt_pass_data(&leaf_priv, &a.ephemeral_public_key, &a.ciphertext).unwrap(),
            plain
        );
        let mut tampered = a.ciphertext.clone();
        tampered[3] ^= 1;
        let err = decrypt_pass_data(&leaf_priv, &a.ephemeral_public_key, &tampered).unwrap_err();
        assert_eq!(err.code, codes::DECRYPTION_FAILED);
        let (other, _) = crate::generate_p256_key();
        assert!(decrypt_pass_data(&other, &a.ephemeral_public_key, &a.ciphertext).is_err());
        let doc: PassPlaintext = serde_json::from_slice(&plain).unwrap();
        assert_eq!(doc.expiration, "03/29");
        assert_eq!(doc.nonce, "616263");
    }

    #[test]
    fn inputs_are_validated_by_name() {
        let ok = |n: usize, s: usize| {
            pass_plaintext("4000001234567899", 1, 2030, "X", &vec![1; n], &vec![2; s])
        };
        assert!(ok(1, 16).is_ok() && ok(64, 256).is_ok());
        assert_eq!(ok(0, 16).unwrap_err().field, "nonce");
        assert_eq!(ok(65, 16).unwrap_err().field, "nonce");
        assert_eq!(ok(8, 15).unwrap_err().field, "nonce_signature");
        assert_eq!(ok(8, 257).unwrap_err().field, "nonce_signature");
        assert_eq!(
            pass_plaintext("4000001234567890", 1, 2030, "X", &[1], &[2; 16])
                .unwrap_err()
                .field,
            "primary_account_number"
        );
        assert_eq!(
            pass_plaintext("4000001234567899", 13, 2030, "X", &[1], &[2; 16])
                .unwrap_err()
                .field,
            "exp_month"
        );
        assert_eq!(
            encrypt_pass_data(&[4; 64], b"x").unwrap_err().field,
            "certificates[0]"
        );
    }
}
