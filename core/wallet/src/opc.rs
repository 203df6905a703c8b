//! Google Pay push provisioning: the Opaque Payment Card (OPC). The issuer encrypts the card for
//! one wallet account on one device, for a short time; the app passes it to TapAndPay untouched,
//! and the card network hands it back to the issuer, who opens it and checks the binding.
//!
//! Format (the mock's own, as real OPCs are issuer-specific): base64 of
//! `version 0x01 || 96-bit random nonce || AES-256-GCM(JSON payload) || tag`, with the version
//! and nonce as associated data, under a PSP secret key.

use ring::aead;
use serde::{Deserialize, Serialize};

use super::{codes, WalletError};

/// Default lifetime of an OPC, seconds: long enough for the TapAndPay screens, no longer.
pub const DEFAULT_TTL_SECS: i64 = 10 * 60;

const VERSION: u8 = 1;
const FIELD: &str = "opaque_payment_card";

/// What an OPC carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpcPayload {
    /// The funding PAN.
    pub pan: String,
    /// Expiry month, 1–12.
    pub exp_month: u8,
    /// Expiry year, four digits.
    pub exp_year: i32,
    /// The Google wallet account it is bound to (`getActiveWalletId`).
    pub wallet_account_id: String,
    /// The device it is bound to (`getStableHardwareId`).
    pub device_id: String,
    /// Unix seconds after which the OPC is refused.
    pub expires_at: i64,
}

impl OpcPayload {
    /// A payload valid `ttl_secs` from `now`.
    pub fn new(
        pan: &str,
        exp_month: u8,
        exp_year: i32,
        wallet_account_id: &str,
        device_id: &str,
        now: i64,
        ttl_secs: i64,
    ) -> Self {
        Self {
            pan: pan.to_owned(),
            exp_month,
            exp_year,
            wallet_account_id: wallet_account_id.to_owned(),
            device_id: device_id.to_owned(),
            expires_at: now + ttl_secs,
        }
    }
}

fn key(secret: &[u8; 32]) -> aead::LessSafeKey {
    aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_256_GCM, secret).expect("AES-256 key is 32 bytes"),
    )
}

/// Encrypts `payload` under the PSP key with a random nonce; base64 (standard, padded).
pub fn seal(secret: &[u8; 32], payload: &OpcPayload) -> String {
    use base64::Engine;
    let nonce = crate::random_bytes::<12>();
    let header: Vec<u8> = std::iter::once(VERSION).chain(nonce).collect();
    // A struct of strings and numbers always serialises.
    let mut body = serde_json::to_vec(payload).expect("OPC payload serialises");
    key(secret)
        .seal_in_place_append_tag(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(&header),
            &mut body,
        )
        .expect("OPC payload fits AES-GCM limits");
    let mut out = header;
    out.extend_from_slice(&body);
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// Opens an OPC and checks it: authentic (not tampered, made with this key), bound to this
/// wallet account and device, and not expired at `now`.
pub fn open(
    secret: &[u8; 32],
    opc: &str,
    wallet_account_id: &str,
    device_id: &str,
    now: i64,
) -> Result<OpcPayload, WalletError> {
    use base64::Engine;
    let refused = || {
        WalletError::new(
            FIELD,
            codes::DECRYPTION_FAILED,
            "is not an opaque payment card issued here, or was altered",
        )
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(opc.trim())
        .map_err(|_| WalletError::new(FIELD, codes::INVALID, "is not base64"))?;
    if raw.len() < 1 + 12 + 16 || raw[0] != VERSION {
        return Err(refused());
    }
    let (header, body) = raw.split_at(13);
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&header[1..]);
    let mut buffer = body.to_vec();
    let plain = key(secret)
        .open_in_place(
            aead::Nonce::assume_unique_for_key(nonce),
            aead::Aad::from(header),
            &mut buffer,
        )
        .map_err(|_| refused())?;
    let payload: OpcPayload = serde_json::from_slice(plain).map_err(|_| refused())?;
    if payload.wallet_account_id != wallet_account_id {
        return Err(WalletError::new(
            "wallet_account_id",
            codes::BINDING_MISMATCH,
            "this opaque payment card was issued for another wallet account",
        ));
    }
    if payload.device_id != device_id {
        return Err(WalletError::new(
            "device_id",
            codes::BINDING_MISMATCH,
            "this opaque payment card was issued for another device",
        ));
    }
    if now >= payload.expires_at {
        return Err(WalletError::new(
            FIELD,
            codes::EXPIRED,
            "this opaque payment card has expired; ask the issuer for a new one",
        ));
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    fn sample() -> OpcPayload {
        OpcPayload::new(
            "4000001234567899",
            4,
            2029,
            "wallet-1",
            "device-1",
            NOW,
            DEFAULT_TTL_SECS,
        )
    }

    #[test]
    fn round_trip_within_lifetime() {
        let k = [9u8; 32];
        let opc = seal(&k, &sample());
        assert_ne!(opc, seal(&k, &sample()), "random nonce each time");
        assert!(!opc.contains("4000001234567899"));
        assert_eq!(
            open(&k, &opc, "wallet-1", "device-1", NOW + 599).unwrap(),
            sample()
        );
    }

    #[test]
    fn binding_expiry_and_tampering_are_refused() {
        let k = [9u8; 32];
        let opc = seal(&k, &sample());
        let e = open(&k, &opc, "wallet-2", "device-1", NOW).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("wallet_account_id", codes::BINDING_MISMATCH)
        );
        let e = open(&k, &opc, "wallet-1", "device-2", NOW).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code),
            ("device_id", codes::BINDING_MISMATCH)
        );
        let e = open(&k, &opc, "wallet-1", "device-1", NOW + DEFAULT_TTL_SECS).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), (FIELD, codes::EXPIRED));
        assert_eq!(
            open(&[8u8; 32], &opc, "wallet-1", "device-1", NOW)
                .unwrap_err()
                .code,
            codes::DECRYPTION_FAILED
        );
        use base64::Engine;
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&opc)
            .unwrap();
        for i in [0, 5, 20, raw.len() - 1] {
            raw[i] ^= 0x20;
            let bad = base64::engine::general_purpose::STANDARD.encode(&raw);
            assert!(
                open(&k, &bad, "wallet-1", "device-1", NOW).is_err(),
                "byte {i}"
            );
            raw[i] ^= 0x20;
        }
        assert_eq!(
            open(&k, "%%%", "wallet-1", "device-1", NOW)
                .unwrap_err()
                .code,
            codes::INVALID
        );
        assert!(open(&k, "AQID", "wallet-1", "device-1", NOW).is_err());
    }
}
