//! Console sessions: a random 256-bit id in a `__Host-` cookie (Secure, HttpOnly,
//! SameSite=Strict, Path=/, no Domain: RFC 6265bis §4.1.3.2), stored only as its SHA-256, with
//! an idle and an absolute expiry. Signing out, or either expiry, deletes the row.

use axum::http::{header, HeaderMap, HeaderValue};
use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::{b64url, random, sha256};

use super::auth::{self, Staff};
use crate::http::ApiError;

/// The sessions table (a migration of the console's).
pub const MIGRATION: &str = r#"
    CREATE TABLE console_sessions (
        id_hash   TEXT PRIMARY KEY,
        staff_id  TEXT NOT NULL REFERENCES console_staff(id),
        created   INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE INDEX console_sessions_staff ON console_sessions (staff_id);
"#;

/// The session cookie's name. The `__Host-` prefix makes a browser refuse it unless it is
/// Secure, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant or shadow it.
pub const COOKIE: &str = "__Host-tierspay-console";
/// A session unused this long ends, seconds (OWASP: 15 to 30 minutes for sensitive data).
pub const IDLE_SECS: i64 = 30 * 60;
/// A session ends this long after sign-in however busy, seconds (a working day).
pub const ABSOLUTE_SECS: i64 = 8 * 3600;
/// Characters of a session id: 32 random bytes in base64url.
const ID_CHARS: usize = 43;

/// A session found from its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie's value (the secret the CSRF token derives from); never stored.
    pub secret: String,
    /// What is stored.
    pub id_hash: String,
    /// Who.
    pub staff: Staff,
}

fn hash(secret: &str) -> String {
    b64url(sha256(secret.as_bytes()))
}

/// Opens a session for `staff_id`; the cookie's value.
pub fn create(tx: &Connection, staff_id: &str, now: i64) -> Result<String, ApiError> {
    let secret = b64url(random::bytes::<32>());
    tx.execute(
        "INSERT INTO console_sessions (id_hash, staff_id, created, last_seen) VALUES (?1, ?2, ?3, ?3)",
        params![hash(&secret), staff_id, now],
    )?;
    Ok(secret)
}

/// The session cookie's value in a request, if it has exactly one of the right shape.
pub fn cookie_of(headers: &HeaderMap) -> Option<String> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for pair in text.split(';') {
            let Some((name, v)) = pair.trim().split_once('=') else {
                continue;
            };
            if name == COOKIE {
                if found.is_some() {
                    // Two session cookies: ambiguous, so neither.
                    return None;
                }
                found = Some(v.to_owned());
            }
        }
    }
    found.filter(|v| {
        v.len() == ID_CHARS
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The live session a cookie names, its idle clock restarted; an expired one is deleted.
pub fn resolve(tx: &Connection, secret: &str, now: i64) -> Result<Option<Session>, ApiError> {
    let id_hash = hash(secret);
    let row: Option<(String, i64, i64)> = tx
        .prepare_cached(
            "SELECT staff_id, created, last_seen FROM console_sessions WHERE id_hash = ?1",
        )?
        .query_row([&id_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((staff_id, created, last_seen)) = row else {
        return Ok(None);
    };
    if now - last_seen >= IDLE_SECS || now - created >= ABSOLUTE_SECS {
        end(tx, &id_hash)?;
        return Ok(None);
    }
    let Some(staff) = auth::staff(tx, &staff_id)? else {
        end(tx, &id_hash)?;
        return Ok(None);
    };
    if now > last_seen {
        tx.prepare_cached("UPDATE console_sessions SET last_seen = ?2 WHERE id_hash = ?1")?
            .execute(params![id_hash, now])?;
    }
    Ok(Some(Session {
        secret: secret.to_owned(),
        id_hash,
        staff,
    }))
}

/// The live session without touching its idle clock (the event stream's periodic checks must
/// not keep an unattended page signed in).
pub fn peek(conn: &Connection, id_hash: &str, now: i64) -> Result<bool, ApiError> {
    let row: Option<(i64, i64)> = conn
        .prepare_cached("SELECT created, last_seen FROM console_sessions WHERE id_hash = ?1")?
        .query_row([id_hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.is_some_and(|(created, last_seen)| {
        now - last_seen < IDLE_SECS && now - created < ABSOLUTE_SECS
    }))
}

/// Ends a session.
pub fn end(tx: &Connection, id_hash: &str) -> Result<(), ApiError> {
    tx.execute("DELETE FROM console_sessions WHERE id_hash = ?1", [id_hash])?;
    Ok(())
}

/// `Set-Cookie` for a new session. No `Max-Age`: the browser forgets it when it closes, and
/// the server's expiries bound it anyway.
pub fn set_cookie(secret: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path=/; Secure; HttpOnly; SameSite=Strict"
    ))
    .ok()
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-tierspay-console=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_well_formed_session_cookie_is_read() {
        let secret = b64url([7u8; 32]);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={secret}; c=d")).unwrap(),
        );
        assert_eq!(cookie_of(&h), Some(secret.clone()));
        h.append(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={secret}")).unwrap(),
        );
        assert_eq!(cookie_of(&h), None, "two session cookies");
        let mut bad = HeaderMap::new();
        bad.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}=short")).unwrap(),
        );
        assert_eq!(cookie_of(&bad), None);
    }

    #[test]
    fn the_cookie_has_every_attribute_the_host_prefix_needs() {
        let c = set_cookie("x").unwrap();
        let c = c.to_str().unwrap();
        for attr in ["__Host-", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
            assert!(c.contains(attr), "{c}");
        }
        assert!(!c.contains("Domain"));
    }
}
