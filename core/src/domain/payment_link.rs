//! The signed payment link of an arrears invoice: `{base}/l/{token}`, one token per channel
//! (push, email, SMS, the app) so the server knows which one was used. The server signs the
//! token with its P-256 key; the phone checks it offline against the key pinned in the app
//! before it shows anything, so a forged or altered SMS cannot make the app display a demand.
//!
//! The token is 90 bytes in a fixed layout, written in base64url without padding (exactly 120
//! characters, every bit of them significant):
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 1 | format version, [`VERSION`] |
//! | 1 | 1 | id of the server key that signed it |
//! | 2 | 4 | invoice number, big-endian |
//! | 6 | 8 | member tag: SHA-256 of `tierspay-member-v1`, 0, the member reference; first 8 bytes |
//! | 14 | 4 | amount in minor units, big-endian |
//! | 18 | 3 | currency, ISO 4217 letters |
//! | 21 | 4 | expiry, Unix seconds, big-endian |
//! | 25 | 1 | channel |
//! | 26 | 64 | ES256 signature `r‖s` (RFC 7518 §3.4), low `s`, of `tierspay-link-v1` ‖ bytes 0–25 |
//!
//! The signature alone is 86 of the 120 characters: ES256 cannot be shorter, so the fields are
//! as narrow as their values allow (docs/arrears.md weighs this against an SMS's 160 septets).

use p256::ecdsa::{SigningKey, VerifyingKey};

use crate::auth::{b64url, b64url_decode, ecdsa, sha256};

/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Bytes of the signed part.
pub const PAYLOAD_BYTES: usize = 26;
/// Bytes of a whole token: payload and 64-byte signature.
pub const TOKEN_BYTES: usize = PAYLOAD_BYTES + 64;
/// Characters of a token in base64url without padding.
pub const TOKEN_CHARS: usize = TOKEN_BYTES / 3 * 4;
/// What the signature covers before the payload, so no other signed document of the server's
/// key can pass for a link.
pub const DOMAIN: &[u8] = b"tierspay-link-v1";
/// Longest text [`verify`] looks at; a longer one is refused unread.
const MAX_INPUT_CHARS: usize = 512;

/// The channel a link was sent through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A push notification.
    Push,
    /// An email.
    Email,
    /// An SMS.
    Sms,
    /// Inside the app.
    App,
}

impl Channel {
    fn code(self) -> u8 {
        match self {
            Channel::Push => 1,
            Channel::Email => 2,
            Channel::Sms => 3,
            Channel::App => 4,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Channel::Push,
            2 => Channel::Email,
            3 => Channel::Sms,
            4 => Channel::App,
            _ => return None,
        })
    }
}

/// A currency as its three ISO 4217 capital letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The euro.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Three capital letters A–Z (`EUR`); anything else is `None`.
    pub fn parse(code: &str) -> Option<Self> {
        let b: [u8; 3] = code.as_bytes().try_into().ok()?;
        b.iter().all(u8::is_ascii_uppercase).then_some(Currency(b))
    }

    /// The letters.
    pub fn as_str(&self) -> &str {
        // Only capital ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

/// Who a link is for, without naming them: the first 8 bytes of a domain-separated SHA-256 of
/// the member reference both sides know. It tells members apart; it does not hide a reference
/// from someone who can list references and hash them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemberTag(pub [u8; 8]);

impl MemberTag {
    /// The tag of a member reference, exactly as the server and the enrolled phone hold it.
    pub fn of(member_ref: &str) -> Self {
        let mut input = b"tierspay-member-v1\0".to_vec();
        input.extend_from_slice(member_ref.as_bytes());
        let digest = sha256(&input);
        let mut tag = [0u8; 8];
        tag.copy_from_slice(&digest[..8]);
        MemberTag(tag)
    }
}

/// What a link says, signed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkClaims {
    /// The id of the server key that signs (the phone pins it with the key).
    pub key_id: u8,
    /// The invoice's number, a short numeric id the server maps to its invoice.
    pub invoice: u32,
    /// Whom the invoice is for.
    pub member: MemberTag,
    /// The amount due, in minor units of `currency` (cents).
    pub amount_minor: u32,
    /// The amount's currency.
    pub currency: Currency,
    /// The first instant, in Unix seconds, at which the link is no longer valid.
    pub expires_at: u32,
    /// The channel the link was sent through.
    pub channel: Channel,
}

/// Why the phone refuses a link. Each says what the member should understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum LinkError {
    /// Not a link token at all: a character outside base64url, too long, or fields no server
    /// writes.
    #[error("this is not a TiersPay payment link")]
    Malformed,
    /// Shorter than a token: part of the link was lost (an SMS cut, a copy cut short).
    #[error("this payment link is incomplete; open the whole link or the app")]
    Truncated,
    /// The signature does not match: altered, or not signed by TiersPay's pinned key.
    #[error("this payment link was not issued by TiersPay or was altered; do not pay from it")]
    BadSignature,
    /// Signed, but its time is over.
    #[error("this payment link has expired; open the app to see what is due")]
    Expired,
    /// Signed for another member than the one enrolled on this phone.
    #[error("this payment link is for another member")]
    OtherMember,
    /// A format version this app does not read.
    #[error("this payment link needs a newer version of the app")]
    UnsupportedVersion,
}

/// The server key the app pins for links, with the id tokens carry.
#[derive(Debug, Clone)]
pub struct PinnedLinkKey {
    key_id: u8,
    key: VerifyingKey,
}

impl PinnedLinkKey {
    /// A pinned key from its id and its SEC1 uncompressed point (65 bytes).
    pub fn new(key_id: u8, public_key_sec1: &[u8]) -> Result<Self, ecdsa::EcdsaError> {
        Ok(Self {
            key_id,
            key: ecdsa::parse_public_key(public_key_sec1)?,
        })
    }
}

fn encode_payload(c: &LinkClaims) -> [u8; PAYLOAD_BYTES] {
    let mut p = [0u8; PAYLOAD_BYTES];
    p[0] = VERSION;
    p[1] = c.key_id;
    p[2..6].copy_from_slice(&c.invoice.to_be_bytes());
    p[6..14].copy_from_slice(&c.member.0);
    p[14..18].copy_from_slice(&c.amount_minor.to_be_bytes());
    p[18..21].copy_from_slice(&c.currency.0);
    p[21..25].copy_from_slice(&c.expires_at.to_be_bytes());
    p[25] = c.channel.code();
    p
}

fn signed_message(payload: &[u8]) -> Vec<u8> {
    [DOMAIN, payload].concat()
}

/// The server's side: the token of `claims`, signed with its link key (whose id the claims
/// carry).
pub fn sign(claims: &LinkClaims, signing_key: &SigningKey) -> String {
    let payload = encode_payload(claims);
    let signature = ecdsa::sign_low_s(signing_key, &signed_message(&payload));
    let mut token = Vec::with_capacity(TOKEN_BYTES);
    token.extend_from_slice(&payload);
    token.extend_from_slice(&signature);
    b64url(token)
}

/// The link to send: `{base}/l/{token}` (a trailing `/` of `base` is dropped).
pub fn url(base: &str, token: &str) -> String {
    format!("{}/l/{token}", base.trim_end_matches('/'))
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The phone's side, offline: the token's claims if it is whole, signed by the pinned key,
/// not expired at `now` (Unix seconds) and for `expected_member` (the enrolled member's
/// reference). Checks run in that order, so a forged token never gets as far as its fields.
pub fn verify(
    token: &str,
    pinned: &PinnedLinkKey,
    now: u64,
    expected_member: &str,
) -> Result<LinkClaims, LinkError> {
    let text = token.as_bytes();
    if text.len() > MAX_INPUT_CHARS || !text.iter().copied().all(is_b64url) {
        return Err(LinkError::Malformed);
    }
    // The version is the first byte: the top 6 bits of the first character and 2 of the second.
    if text.len() < 2 {
        return Err(LinkError::Truncated);
    }
    let six = |b: u8| sextet(b).unwrap_or(0);
    let version = (six(text[0]) << 2) | (six(text[1]) >> 4);
    if version != VERSION {
        return Err(LinkError::UnsupportedVersion);
    }
    if text.len() < TOKEN_CHARS {
        return Err(LinkError::Truncated);
    }
    if text.len() > TOKEN_CHARS {
        return Err(LinkError::Malformed);
    }
    let bytes = b64url_decode(token).map_err(|_| LinkError::Malformed)?;
    let bytes: [u8; TOKEN_BYTES] = bytes.try_into().map_err(|_| LinkError::Malformed)?;
    let (payload, signature) = bytes.split_at(PAYLOAD_BYTES);
    if payload[1] != pinned.key_id {
        return Err(LinkError::BadSignature);
    }
    let signature: &[u8; 64] = signature.try_into().map_err(|_| LinkError::Malformed)?;
    ecdsa::verify_low_s(&pinned.key, &signed_message(payload), signature)
        .map_err(|_| LinkError::BadSignature)?;
    let be32 = |at: usize| {
        u32::from_be_bytes([
            payload[at],
            payload[at + 1],
            payload[at + 2],
            payload[at + 3],
        ])
    };
    let mut member = [0u8; 8];
    member.copy_from_slice(&payload[6..14]);
    let currency: [u8; 3] = [payload[18], payload[19], payload[20]];
    if !currency.iter().all(u8::is_ascii_uppercase) {
        return Err(LinkError::Malformed);
    }
    let claims = LinkClaims {
        key_id: payload[1],
        invoice: be32(2),
        member: MemberTag(member),
        amount_minor: be32(14),
        currency: Currency(currency),
        expires_at: be32(21),
        channel: Channel::from_code(payload[25]).ok_or(LinkError::Malformed)?,
    };
    if now >= u64::from(claims.expires_at) {
        return Err(LinkError::Expired);
    }
    if claims.member != MemberTag::of(expected_member) {
        return Err(LinkError::OtherMember);
    }
    Ok(claims)
}

fn sextet(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MEMBER: &str = "mbr_8f3a2c91d4e7";
    // 2026-12-01T12:00:00Z.
    const NOW: u64 = 1_796_126_400;

    fn claims() -> LinkClaims {
        LinkClaims {
            key_id: 3,
            invoice: 2_024_000_123,
            member: MemberTag::of(MEMBER),
            amount_minor: 4250,
            currency: Currency::EUR,
            expires_at: (NOW + 30 * 86_400) as u32,
            channel: Channel::Sms,
        }
    }

    fn keys() -> (SigningKey, PinnedLinkKey) {
        let key = ecdsa::generate_signing_key();
        let pinned = PinnedLinkKey::new(3, &ecdsa::public_key_sec1(&key)).unwrap();
        (key, pinned)
    }

    #[test]
    fn a_signed_link_reads_back_on_the_members_phone() {
        let (key, pinned) = keys();
        let token = sign(&claims(), &key);
        let read = verify(&token, &pinned, NOW, MEMBER).unwrap();
        assert_eq!(read.invoice, 2_024_000_123);
        assert_eq!(read.amount_minor, 4250);
        assert_eq!(read.currency.as_str(), "EUR");
        assert_eq!(read.expires_at, 1_798_718_400);
        assert_eq!(read.channel, Channel::Sms);
        assert_eq!(read.key_id, 3);
        assert_eq!(read.member, MemberTag::of("mbr_8f3a2c91d4e7"));
    }

    #[test]
    fn a_token_is_120_characters_and_its_link_146() {
        let (key, _) = keys();
        let token = sign(&claims(), &key);
        // 26 bytes of fields and 64 of signature, 4 characters per 3 bytes.
        assert_eq!(token.len(), 120);
        assert_eq!(TOKEN_CHARS, 120);
        let link = url("https://app.tierspay.fr/", &token);
        assert!(link.starts_with("https://app.tierspay.fr/l/"));
        assert_eq!(link.len(), 146);
        assert!(crate::domain::gsm7::septets(&link) == Ok(146));
    }

    #[test]
    fn a_reminder_sms_with_its_signed_link_takes_two_parts() {
        // The figure docs/arrears.md quotes: what the anti-phishing rules ask an SMS to name
        // (member, contract digits, amount, due date, reference) is 99 septets, the link 146.
        let (key, _) = keys();
        let link = url("https://app.tierspay.fr", &sign(&claims(), &key));
        let text = format!(
            "TiersPay: Jean D., contrat ...1234, 42,50 € dus au 31/12/2026, réf. \
             RF04 INV2 0240 0012 3. Payer: {link}"
        );
        use crate::domain::gsm7;
        assert_eq!(gsm7::septets(&text), Ok(99 + 146));
        assert_eq!(gsm7::sms_parts(&text), Ok(2));
        assert_eq!(gsm7::SINGLE_SMS_SEPTETS - link.len(), 14);
    }

    #[test]
    fn the_fields_sit_where_the_layout_says() {
        let (key, _) = keys();
        let bytes = b64url_decode(&sign(&claims(), &key)).unwrap();
        assert_eq!(bytes.len(), 90);
        assert_eq!(&bytes[..2], &[1, 3]);
        assert_eq!(&bytes[2..6], &[0x78, 0xA3, 0xCA, 0x7B]); // 2 024 000 123
        assert_eq!(&bytes[14..18], &[0, 0, 0x10, 0x9A]); // 4250
        assert_eq!(&bytes[18..21], b"EUR");
        assert_eq!(&bytes[21..25], &[0x6B, 0x36, 0x43, 0xC0]); // 1 798 718 400
        assert_eq!(bytes[25], 3);
    }

    #[test]
    fn every_single_bit_flip_of_the_text_is_refused() {
        let (key, pinned) = keys();
        let token = sign(&claims(), &key);
        let mut seen = std::collections::HashSet::new();
        for i in 0..token.len() {
            for bit in 0..8 {
                let mut bytes = token.clone().into_bytes();
                bytes[i] ^= 1 << bit;
                // A byte over 0x7F is not even text: nothing could hand it to the phone.
                let Ok(text) = String::from_utf8(bytes) else {
                    continue;
                };
                let e = verify(&text, &pinned, NOW, MEMBER).unwrap_err();
                seen.insert(e);
            }
        }
        assert!(seen.contains(&LinkError::BadSignature));
        assert!(seen.contains(&LinkError::Malformed));
        assert!(!seen.contains(&LinkError::Expired));
        assert!(!seen.contains(&LinkError::OtherMember));
    }

    #[test]
    fn every_single_bit_flip_of_the_bytes_is_refused() {
        let (key, pinned) = keys();
        let bytes = b64url_decode(&sign(&claims(), &key)).unwrap();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[i] ^= 1 << bit;
                let e = verify(&b64url(&flipped), &pinned, NOW, MEMBER).unwrap_err();
                let expected = if i == 0 {
                    LinkError::UnsupportedVersion
                } else {
                    LinkError::BadSignature
                };
                assert_eq!(e, expected, "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn a_token_cut_at_any_length_is_truncated_and_a_longer_one_malformed() {
        let (key, pinned) = keys();
        let token = sign(&claims(), &key);
        for len in 0..token.len() {
            assert_eq!(
                verify(&token[..len], &pinned, NOW, MEMBER),
                Err(LinkError::Truncated),
                "{len}"
            );
        }
        for extra in ["A", "AA", "AAAA"] {
            assert_eq!(
                verify(&format!("{token}{extra}"), &pinned, NOW, MEMBER),
                Err(LinkError::Malformed)
            );
        }
        assert_eq!(
            verify(&"A".repeat(100_000), &pinned, NOW, MEMBER),
            Err(LinkError::Malformed)
        );
        assert_eq!(
            verify(&format!("{}=", &token[..119]), &pinned, NOW, MEMBER),
            Err(LinkError::Malformed)
        );
    }

    #[test]
    fn a_link_expires_at_its_instant() {
        let (key, pinned) = keys();
        let token = sign(&claims(), &key);
        let expiry = 1_798_718_400;
        assert!(verify(&token, &pinned, expiry - 1, MEMBER).is_ok());
        assert_eq!(
            verify(&token, &pinned, expiry, MEMBER),
            Err(LinkError::Expired)
        );
        assert_eq!(
            verify(&token, &pinned, u64::MAX, MEMBER),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn another_members_link_is_refused() {
        let (key, pinned) = keys();
        let token = sign(&claims(), &key);
        assert_eq!(
            verify(&token, &pinned, NOW, "mbr_8f3a2c91d4e8"),
            Err(LinkError::OtherMember)
        );
        assert_eq!(
            verify(&token, &pinned, NOW, ""),
            Err(LinkError::OtherMember)
        );
    }

    #[test]
    fn a_link_of_another_key_or_key_id_is_refused() {
        let (key, _) = keys();
        let token = sign(&claims(), &key);
        let other = ecdsa::generate_signing_key();
        let other = PinnedLinkKey::new(3, &ecdsa::public_key_sec1(&other)).unwrap();
        assert_eq!(
            verify(&token, &other, NOW, MEMBER),
            Err(LinkError::BadSignature)
        );
        let same_key_other_id = PinnedLinkKey::new(4, &ecdsa::public_key_sec1(&key)).unwrap();
        assert_eq!(
            verify(&token, &same_key_other_id, NOW, MEMBER),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn a_high_s_twin_of_a_valid_signature_is_refused() {
        let (key, pinned) = keys();
        let mut bytes = b64url_decode(&sign(&claims(), &key)).unwrap();
        let sig = p256::ecdsa::Signature::from_slice(&bytes[26..]).unwrap();
        let (r, s) = sig.split_scalars();
        let twin = p256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
        bytes[26..].copy_from_slice(&twin.to_bytes());
        assert_eq!(
            verify(&b64url(&bytes), &pinned, NOW, MEMBER),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn another_version_is_named_before_its_length_is_judged() {
        let (_, pinned) = keys();
        // Version 2, any length: a newer app's token.
        let v2 = b64url([2u8; 40]);
        assert_eq!(
            verify(&v2, &pinned, NOW, MEMBER),
            Err(LinkError::UnsupportedVersion)
        );
        assert_eq!(
            verify(&v2[..2], &pinned, NOW, MEMBER),
            Err(LinkError::UnsupportedVersion)
        );
        assert_eq!(verify("", &pinned, NOW, MEMBER), Err(LinkError::Truncated));
        assert_eq!(
            verify("AQ.x", &pinned, NOW, MEMBER),
            Err(LinkError::Malformed)
        );
    }

    #[test]
    fn fields_no_server_writes_are_refused_even_when_signed() {
        let (key, pinned) = keys();
        for (at, value) in [(25usize, 0u8), (25, 5), (18, b'e')] {
            let mut payload = encode_payload(&claims());
            payload[at] = value;
            let sig = ecdsa::sign_low_s(&key, &signed_message(&payload));
            let token = b64url([&payload[..], &sig[..]].concat());
            assert_eq!(
                verify(&token, &pinned, NOW, MEMBER),
                Err(LinkError::Malformed)
            );
        }
    }

    #[test]
    fn a_signature_of_the_bare_payload_does_not_pass_for_a_link() {
        // Domain separation: the same key signing the fields without the prefix (as it signs
        // enrollment bodies) makes no link.
        let (key, pinned) = keys();
        let payload = encode_payload(&claims());
        let sig = ecdsa::sign_low_s(&key, &payload);
        let token = b64url([&payload[..], &sig[..]].concat());
        assert_eq!(
            verify(&token, &pinned, NOW, MEMBER),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn each_refusal_says_something_different() {
        let all = [
            LinkError::Malformed,
            LinkError::Truncated,
            LinkError::BadSignature,
            LinkError::Expired,
            LinkError::OtherMember,
            LinkError::UnsupportedVersion,
        ];
        let messages: std::collections::HashSet<String> =
            all.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), all.len());
    }

    fn channel() -> impl Strategy<Value = Channel> {
        prop::sample::select(vec![
            Channel::Push,
            Channel::Email,
            Channel::Sms,
            Channel::App,
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn any_claims_round_trip_in_120_characters(
            key_id in any::<u8>(),
            invoice in any::<u32>(),
            member in "[ -~]{0,40}",
            amount_minor in any::<u32>(),
            currency in "[A-Z]{3}",
            expires_at in 1u32..,
            channel in channel(),
        ) {
            let key = ecdsa::generate_signing_key();
            let pinned = PinnedLinkKey::new(key_id, &ecdsa::public_key_sec1(&key)).unwrap();
            let claims = LinkClaims {
                key_id,
                invoice,
                member: MemberTag::of(&member),
                amount_minor,
                currency: Currency::parse(&currency).unwrap(),
                expires_at,
                channel,
            };
            let token = sign(&claims, &key);
            prop_assert_eq!(token.len(), TOKEN_CHARS);
            prop_assert!(token.bytes().all(is_b64url));
            let now = u64::from(expires_at) - 1;
            prop_assert_eq!(verify(&token, &pinned, now, &member), Ok(claims));
        }

        #[test]
        fn any_text_is_refused_without_a_panic(text in "[A-Za-z0-9_\\-]{0,130}|\\PC{0,40}") {
            let (_, pinned) = keys();
            prop_assert!(verify(&text, &pinned, NOW, MEMBER).is_err());
        }
    }
}
