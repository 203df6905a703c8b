//! SMS short links, `https://app.tierspay.fr/s/{code}`: a one-part SMS cannot hold the
//! 146-character signed link, so it carries a 10-character random code that the server maps to
//! the signed token (sealed by the vault key, expiring with the token). The code authorises
//! nothing: it resolves to a signed SMS-channel token, which the app verifies against its pinned
//! key like any other (docs/arrears.md, "Reminders: the links each message carries").

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::random;
use tierspay_core::domain::payment_link;

use super::links::LINK_BASE;
use crate::http::ApiError;
use crate::state::AppState;

/// Characters of a code.
pub const CODE_LEN: usize = 10;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The table (one entry of the reminders' migrations).
pub const MIGRATION: &str = r#"
    CREATE TABLE platform_short_links (
        code       TEXT PRIMARY KEY,
        invoice_id TEXT NOT NULL,
        token      BLOB NOT NULL,
        expires_at INTEGER NOT NULL,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_short_links_expiry ON platform_short_links (expires_at);
"#;

/// A fresh random code: 10 base62 characters, each drawn without modulo bias (bytes of 248 and
/// above are redrawn), about 59.5 bits.
pub fn new_code() -> String {
    let mut code = String::with_capacity(CODE_LEN);
    while code.len() < CODE_LEN {
        for b in random::bytes::<16>() {
            if code.len() < CODE_LEN && usize::from(b) < 248 {
                code.push(char::from(ALPHABET[usize::from(b) % 62]));
            }
        }
    }
    code
}

/// Whether `code` has a code's shape (checked before any lookup).
pub fn is_code(code: &str) -> bool {
    code.len() == CODE_LEN && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The short link of a code.
pub fn url(code: &str) -> String {
    format!("{LINK_BASE}/s/{code}")
}

/// Records a code for `token` (of `invoice_id`), expiring at `expires_at`; returns the code.
pub fn create(
    tx: &Connection,
    invoice_id: &str,
    token: &str,
    expires_at: i64,
    now: i64,
) -> Result<String, ApiError> {
    // A collision among 62^10 codes is all but impossible; a few redraws make it impossible.
    for _ in 0..4 {
        let code = new_code();
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO platform_short_links (code, invoice_id, token, expires_at, created)
                 VALUES (?1, ?2, vault_seal('short_link:' || ?1, ?3), ?4, ?5)",
            )?
            .execute(params![code, invoice_id, token, expires_at, now])?;
        if inserted == 1 {
            return Ok(code);
        }
    }
    Err(ApiError::internal("no free short link code"))
}

/// The token behind a live code and its expiry, or `None` (unknown, malformed or expired).
pub fn resolve(conn: &Connection, code: &str, now: i64) -> Result<Option<(String, i64)>, ApiError> {
    if !is_code(code) {
        return Ok(None);
    }
    let row: Option<(Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT vault_open('short_link:' || code, token), expires_at FROM platform_short_links
             WHERE code = ?1 AND expires_at > ?2",
        )?
        .query_row(params![code, now], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(token, exp)| token.map(|t| (t, exp))))
}

fn missing() -> ApiError {
    let mut e = ApiError::not_found("short_link");
    e.detail.param = Some("code".into());
    e.detail.message = "No live short link has this code; open the app to see what is due.".into();
    e
}

async fn lookup(state: &AppState, code: String) -> Result<(String, i64), ApiError> {
    if !is_code(&code) {
        return Err(missing());
    }
    let now = state.clock.now();
    state
        .db
        .call(move |conn| resolve(conn, &code, now))
        .await?
        .ok_or_else(missing)
}

/// `GET /s/{code}`: a browser opening the SMS link goes to the hosted page of its token.
pub async fn open(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    match lookup(&state, code).await {
        Ok((token, _)) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, format!("/l/{token}")),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/platform/short_links/{code}`: the app exchanges a code for its signed link, then
/// verifies the token offline.
pub async fn retrieve(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (token, expires_at) = lookup(&state, code.clone()).await?;
    Ok(Json(json!({
        "object": "short_link",
        "code": code,
        "url": payment_link::url(LINK_BASE, &token),
        "token": token,
        "expires_at": expires_at,
    })))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_ten_base62_characters_and_do_not_repeat() {
        let codes: HashSet<_> = (0..2_000).map(|_| new_code()).collect();
        assert_eq!(codes.len(), 2_000);
        assert!(codes.iter().all(|c| is_code(c)));
        // All 62 characters turn up (no character left out by the sampling).
        let seen: HashSet<char> = codes.iter().flat_map(|c| c.chars()).collect();
        assert_eq!(seen.len(), 62);
        assert_eq!(url("abcDEF1234"), "https://app.tierspay.fr/s/abcDEF1234");
        for bad in ["", "abc", "abcDEF12345", "abcDEF123-", "abcDEF123é"] {
            assert!(!is_code(bad), "{bad}");
        }
    }
}
