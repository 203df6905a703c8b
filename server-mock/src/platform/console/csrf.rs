//! CSRF tokens for the console's forms: one per session, `HMAC-SHA256(session id,
//! "tierspay-console-csrf-v1")` in base64url (OWASP's "signed double-submit" flavour of the
//! synchronizer token: nothing to store, and it dies with the session). Every POST of a signed-in
//! page carries it in the form field `csrf`; it is checked with ring's constant-time
//! `hmac::verify`. SameSite=Strict on the cookie is the second layer, not the only one.

use ring::hmac;
use tierspay_core::auth::{b64url, b64url_decode};

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
const LABEL: &[u8] = b"tierspay-console-csrf-v1";

fn key(session_secret: &str) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, session_secret.as_bytes())
}

/// The session's token.
pub fn token(session_secret: &str) -> String {
    b64url(hmac::sign(&key(session_secret), LABEL))
}

/// Whether `presented` is the session's token (constant time in its content).
pub fn check(session_secret: &str, presented: Option<&str>) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    // A token has one length; longer input is refused before decoding.
    if presented.len() != 43 {
        return false;
    }
    match b64url_decode(presented) {
        Ok(tag) => hmac::verify(&key(session_secret), LABEL, &tag).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_checks_for_its_session_only() {
        let t = token("session-a");
        assert!(check("session-a", Some(&t)));
        assert!(!check("session-b", Some(&t)));
        assert!(!check("session-a", None));
        assert!(!check("session-a", Some("")));
        let mut forged = t.clone().into_bytes();
        forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
        assert!(!check(
            "session-a",
            Some(std::str::from_utf8(&forged).unwrap())
        ));
    }
}
