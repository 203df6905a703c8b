//! The signed links reminders carry (docs/arrears.md, "Reminders: the links each message
//! carries"): one token per message, signed with the server's own P-256 key under key id
//! [`KEY_ID`], the key the app already pins. `GET /v1/platform/link_key` serves its public half.

use axum::extract::State;
use axum::Json;
use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use tierspay_core::auth::{ecdsa, signature};
use tierspay_core::domain::payment_link::{self, Channel, Currency, LinkClaims, MemberTag};

use crate::http::ApiError;
use crate::state::AppState;

/// The id of the server key tokens name; a rotation brings key id 2, pinned by the app first.
pub const KEY_ID: u8 = 1;
/// The origin every link uses: the only host the app routes and the hosted page answers on.
pub const LINK_BASE: &str = "https://app.tierspay.fr";
/// How long a reminder's token is good for: past the D+30 notice and its response period.
pub const TTL_SECS: i64 = 60 * 86_400;

/// What a link is signed for.
#[derive(Debug, Clone, Copy)]
pub struct LinkFor<'a> {
    /// The invoice's short numeric id.
    pub invoice_number: u32,
    /// The member it is for, as the insurer references them.
    pub member_ref: &'a str,
    /// What is left to pay, minor units.
    pub amount_minor: i64,
    /// ISO 4217, capital letters.
    pub currency: &'a str,
}

/// A token and its link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    /// The 120-character token.
    pub token: String,
    /// `https://app.tierspay.fr/l/{token}`.
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Signs the link of `what` for `channel`, valid [`TTL_SECS`] from `now`.
pub fn sign(
    key: &SigningKey,
    what: LinkFor<'_>,
    channel: Channel,
    now: i64,
) -> Result<SignedLink, ApiError> {
    let amount_minor = u32::try_from(what.amount_minor)
        .ok()
        .filter(|a| *a > 0)
        .ok_or_else(|| {
            ApiError::invalid_param("amount_remaining", "a link carries 0.01 to 42,949,672.95.")
        })?;
    let currency = Currency::parse(what.currency).ok_or_else(|| {
        ApiError::invalid_param("currency", "currency must be 3 capital letters.")
    })?;
    let expires_at = now.saturating_add(TTL_SECS);
    let expires =
        u32::try_from(expires_at).map_err(|_| ApiError::internal("link expiry past 2106"))?;
    let claims = LinkClaims {
        key_id: KEY_ID,
        invoice: what.invoice_number,
        member: MemberTag::of(what.member_ref),
        amount_minor,
        currency,
        expires_at: expires,
        channel,
    };
    let token = payment_link::sign(&claims, key);
    Ok(SignedLink {
        url: payment_link::url(LINK_BASE, &token),
        token,
        expires_at,
    })
}

/// The JSON of the link key: its id, algorithm and SEC1 point in hex.
pub fn key_json(key: &SigningKey) -> Value {
    json!({
        "object": "link_key",
        "key_id": KEY_ID,
        "algorithm": "ES256",
        "public_key": signature::hex(&ecdsa::public_key_sec1(key)),
    })
}

/// `GET /v1/platform/link_key`: the key the app pins to verify links offline.
pub async fn link_key(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(key_json(&state.signing_key)))
}

#[cfg(test)]
mod tests {
    use payment_link::{LinkError, PinnedLinkKey};

    use super::*;

    #[test]
    fn each_channel_gets_its_own_token_and_the_pinned_key_verifies_it() {
        let key = ecdsa::generate_signing_key();
        let pinned = PinnedLinkKey::new(KEY_ID, &ecdsa::public_key_sec1(&key)).unwrap();
        let what = LinkFor {
            invoice_number: 42,
            member_ref: "mem_1",
            amount_minor: 3_000,
            currency: "EUR",
        };
        let now = 1_800_000_000;
        let push = sign(&key, what, Channel::Push, now).unwrap();
        let sms = sign(&key, what, Channel::Sms, now).unwrap();
        assert_ne!(push.token, sms.token);
        assert_eq!(push.token.len(), payment_link::TOKEN_CHARS);
        assert!(push.url.starts_with("https://app.tierspay.fr/l/"));
        let claims = payment_link::verify(&sms.token, &pinned, now as u64, "mem_1").unwrap();
        assert_eq!(claims.channel, Channel::Sms);
        assert_eq!(claims.amount_minor, 3_000);
        assert_eq!(claims.invoice, 42);
        assert_eq!(i64::from(claims.expires_at), now + TTL_SECS);
        assert_eq!(
            payment_link::verify(&sms.token, &pinned, now as u64, "mem_2"),
            Err(LinkError::OtherMember)
        );
        let served = key_json(&key);
        assert_eq!(served["key_id"], 1);
        assert_eq!(
            signature::parse_pinned_key(served["public_key"].as_str().unwrap()).unwrap(),
            ecdsa::public_key_sec1(&key)
        );
    }

    #[test]
    fn amounts_a_token_cannot_carry_are_refused() {
        let key = ecdsa::generate_signing_key();
        for amount_minor in [0, -1, i64::from(u32::MAX) + 1] {
            let what = LinkFor {
                invoice_number: 1,
                member_ref: "m",
                amount_minor,
                currency: "EUR",
            };
            let err = sign(&key, what, Channel::Email, 0).unwrap_err();
            assert_eq!(err.detail.param.as_deref(), Some("amount_remaining"));
        }
        let what = LinkFor {
            invoice_number: 1,
            member_ref: "m",
            amount_minor: 1,
            currency: "eur",
        };
        assert!(sign(&key, what, Channel::Email, 0).is_err());
    }
}
