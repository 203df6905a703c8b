//! Opening a payment link on the server: the same check the app runs offline
//! (`domain::payment_link::verify`, against the server's own key under `links::KEY_ID`), so the
//! page shows nothing for a token the app would refuse. `verify` needs the member the link
//! should be for; the server learns it from the invoice the token names, read from the token's
//! bytes before the signature is checked and trusted only once `verify` has accepted the
//! signature (it checks the signature before the expiry and the member).

use p256::ecdsa::SigningKey;
use tierspay_core::auth::{b64url_decode, ecdsa};
use tierspay_core::domain::payment_link::{
    self, Channel, LinkClaims, LinkError, PinnedLinkKey, TOKEN_CHARS,
};

use crate::platform::arrears::links::KEY_ID;

/// What a token opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// Signed by us, in time, for the invoice's member.
    Valid(LinkClaims),
    /// Signed by us for this invoice and member, but past its expiry: the page offers a fresh
    /// link on the same channel.
    Expired {
        /// The invoice's short number.
        invoice: u32,
        /// The channel the old link was sent through.
        channel: Channel,
    },
    /// Anything else: no invoice is named to the reader.
    Refused(LinkError),
}

/// The invoice number a token names, unverified: only to find whose link it should be.
fn claimed_invoice(token: &str) -> Option<(u32, Channel)> {
    if token.len() != TOKEN_CHARS {
        return None;
    }
    let bytes = b64url_decode(token).ok()?;
    let number = u32::from_be_bytes(bytes.get(2..6)?.try_into().ok()?);
    let channel = match bytes.get(25)? {
        1 => Channel::Push,
        2 => Channel::Email,
        3 => Channel::Sms,
        4 => Channel::App,
        _ => return None,
    };
    Some((number, channel))
}

/// Opens `token` at `now` (Unix seconds) with the server's key; `member_of` names the member
/// of an invoice by its short number (`None`: no such invoice).
pub fn open(
    token: &str,
    key: &SigningKey,
    now: i64,
    member_of: impl FnOnce(u32) -> Option<String>,
) -> Opened {
    let Ok(pinned) = PinnedLinkKey::new(KEY_ID, &ecdsa::public_key_sec1(key)) else {
        return Opened::Refused(LinkError::BadSignature);
    };
    // Cut, padded or altered texts are refused by `verify` with its own error; the member
    // lookup is only for tokens of the right shape.
    let member = claimed_invoice(token).and_then(|(number, _)| member_of(number));
    let now = u64::try_from(now).unwrap_or(0);
    let Some(member) = member else {
        return match payment_link::verify(token, &pinned, now, "") {
            // Well signed yet naming no invoice of ours: refuse it like any other.
            Ok(_) | Err(LinkError::Expired) | Err(LinkError::OtherMember) => {
                Opened::Refused(LinkError::BadSignature)
            }
            Err(e) => Opened::Refused(e),
        };
    };
    match payment_link::verify(token, &pinned, now, &member) {
        Ok(claims) => Opened::Valid(claims),
        Err(LinkError::Expired) => match claimed_invoice(token) {
            Some((invoice, channel)) => Opened::Expired { invoice, channel },
            None => Opened::Refused(LinkError::Malformed),
        },
        Err(e) => Opened::Refused(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::arrears::links::{sign, LinkFor, TTL_SECS};

    const NOW: i64 = 1_796_126_400;

    fn key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).expect("key")
    }

    fn token(key: &SigningKey, channel: Channel) -> String {
        sign(
            key,
            LinkFor {
                invoice_number: 42,
                member_ref: "mbr_1",
                amount_minor: 4250,
                currency: "EUR",
            },
            channel,
            NOW,
        )
        .expect("signed")
        .token
    }

    fn members(n: u32) -> Option<String> {
        (n == 42).then(|| "mbr_1".to_owned())
    }

    #[test]
    fn a_good_link_opens_its_invoice() {
        let k = key();
        match open(&token(&k, Channel::Sms), &k, NOW + 10, members) {
            Opened::Valid(c) => {
                assert_eq!(c.invoice, 42);
                assert_eq!(c.channel, Channel::Sms);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_expired_link_names_its_invoice_and_channel() {
        let k = key();
        let t = token(&k, Channel::Email);
        assert_eq!(
            open(&t, &k, NOW + TTL_SECS, members),
            Opened::Expired {
                invoice: 42,
                channel: Channel::Email
            }
        );
    }

    #[test]
    fn every_altered_character_is_refused() {
        let k = key();
        let t = token(&k, Channel::Email);
        for i in 0..t.len() {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).expect("ascii");
            assert!(
                matches!(open(&altered, &k, NOW, members), Opened::Refused(_)),
                "position {i}"
            );
        }
    }

    #[test]
    fn cut_foreign_and_unknown_links_are_refused() {
        let k = key();
        let t = token(&k, Channel::Email);
        assert_eq!(
            open(&t[..60], &k, NOW, members),
            Opened::Refused(LinkError::Truncated)
        );
        assert_eq!(
            open(&format!("{t}AA"), &k, NOW, members),
            Opened::Refused(LinkError::Malformed)
        );
        let other = SigningKey::from_slice(&[9u8; 32]).expect("key");
        assert_eq!(
            open(&token(&other, Channel::Email), &k, NOW, members),
            Opened::Refused(LinkError::BadSignature)
        );
        assert_eq!(
            open(&t, &k, NOW, |_| None),
            Opened::Refused(LinkError::BadSignature)
        );
        assert_eq!(
            open(&t, &k, NOW, |_| Some("mbr_2".into())),
            Opened::Refused(LinkError::OtherMember)
        );
        assert_eq!(
            open("<script>", &k, NOW, members),
            Opened::Refused(LinkError::Malformed)
        );
    }
}
