//! What every PSP resource shares: the request context, Stripe-style refusals, the PSP's
//! settings and Stripe's list shape (paging). The rows and JSON of one resource live with that
//! resource (`cardholders`, `cards`, `tokens`, `events`).

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::wire::ErrorCode;
use tierspay_wallet::{codes, WalletError};

use super::form::invalid;
use crate::http::ApiError;

/// Standard base64, as PassKit and TapAndPay exchange it.
pub(super) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Business time and request facts shared by every write.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Business time, Unix seconds.
    pub now: i64,
    /// The request's `Idempotency-Key`, echoed in events.
    pub idempotency_key: Option<String>,
    /// The request's id (`req_…`), echoed in events' `request.id`.
    pub request_id: Option<String>,
    /// The `Stripe-Version` the client sent, echoed in events' `api_version` (else
    /// [`API_VERSION`]).
    pub api_version: Option<String>,
    /// The URL clients reach this server at, for the hosted pages' links (none: relative links).
    pub base_url: Option<String>,
}

/// The API version of the account: what events say when the request named none.
pub const API_VERSION: &str = "2024-06-20";

impl Ctx {
    /// A context at `now` with no request (the Rust API).
    pub fn at(now: i64) -> Self {
        Self {
            now,
            ..Self::default()
        }
    }
}

/// A stored JSON column (null if unreadable: the mock wrote it itself).
pub(super) fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// 404 for an unknown `what` with this `id`, naming `param`.
pub(crate) fn missing(what: &str, param: &str, id: &str) -> ApiError {
    let mut e = ApiError::not_found(what);
    e.detail.message = format!("No such {what}: '{id}'");
    e.detail.param = Some(param.into());
    e
}

/// A refusal of the operation (400) with its code and the param at fault.
pub(super) fn refuse(code: &str, param: Option<&str>, message: impl Into<String>) -> ApiError {
    let mut e = ApiError::invalid(code, message);
    e.detail.param = param.map(str::to_owned);
    e
}

/// A wallet error as an API error, its field renamed by `rename`.
pub(crate) fn wallet_error(e: WalletError, rename: impl Fn(&str) -> String) -> ApiError {
    let param = rename(&e.field);
    let code = match e.code {
        codes::CHAIN_INVALID => ErrorCode::CertificateChainInvalid,
        codes::EXPIRED => ErrorCode::Expired,
        codes::UNSUPPORTED_ALGORITHM => ErrorCode::UnsupportedKey,
        codes::BINDING_MISMATCH => ErrorCode::BindingMismatch,
        codes::DECRYPTION_FAILED => ErrorCode::DecryptionFailed,
        _ => ErrorCode::ParameterInvalid,
    };
    refuse(
        code.as_str(),
        Some(&param),
        format!("{param}: {}.", e.message),
    )
}

// ------------------------------------------------------------------- settings

/// A stored setting and where it came from (`api`, `env`, `generated`).
pub fn setting(conn: &Connection, name: &str) -> Result<Option<(Vec<u8>, String)>, ApiError> {
    // Cached: the platform's webhook secret is read through it on every tap.
    Ok(conn
        .prepare_cached("SELECT value, source FROM psp_settings WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Stores a setting.
pub fn set_setting(
    conn: &Connection,
    name: &str,
    value: &[u8],
    source: &str,
    now: i64,
) -> Result<(), ApiError> {
    conn.execute(
        "INSERT INTO psp_settings (name, value, source, updated) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET value = ?2, source = ?3, updated = ?4",
        params![name, value, source, now],
    )?;
    Ok(())
}

/// The key that seals Google opaque payment cards (made on first use, kept in the database).
pub fn opc_key(conn: &Connection, now: i64) -> Result<[u8; 32], ApiError> {
    let stored = match setting(conn, "opc_key")? {
        Some((v, _)) => v,
        None => {
            let v = tierspay_core::auth::random::bytes::<32>().to_vec();
            set_setting(conn, "opc_key", &v, "generated", now)?;
            v
        }
    };
    stored
        .try_into()
        .map_err(|_| ApiError::internal("stored OPC key is corrupt"))
}

// ------------------------------------------------------------------- lists

/// `limit`, `starting_after`, `ending_before`.
#[derive(Debug, Clone)]
pub struct Paging {
    /// 1–100.
    pub limit: i64,
    /// Objects older than this id.
    pub starting_after: Option<String>,
    /// Objects newer than this id.
    pub ending_before: Option<String>,
}

impl Paging {
    /// Reads the list parameters.
    pub fn read(f: &mut super::form::Fields) -> Result<Self, ApiError> {
        let limit = f.int("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(invalid("limit", "This value must be between 1 and 100."));
        }
        let starting_after = f.str("starting_after")?.filter(|s| !s.is_empty());
        let ending_before = f.str("ending_before")?.filter(|s| !s.is_empty());
        if starting_after.is_some() && ending_before.is_some() {
            return Err(invalid(
                "ending_before",
                "You may only specify one of these parameters: ending_before, starting_after.",
            ));
        }
        Ok(Self {
            limit,
            starting_after,
            ending_before,
        })
    }
}

/// Ids of one page, newest first, and whether more follow. `filter` is SQL over the table's
/// columns (`1` for none) with positional parameters `args`.
pub fn page(
    conn: &Connection,
    table: &str,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
    paging: &Paging,
) -> Result<(Vec<String>, bool), ApiError> {
    let cursor = |param: &str, id: &str| -> Result<i64, ApiError> {
        conn.query_row(
            &format!("SELECT seq FROM {table} WHERE id = ?1"),
            [id],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| invalid(param, format!("No such object: '{id}'")))
    };
    let (bound, order, ascending) = match (&paging.starting_after, &paging.ending_before) {
        (Some(id), _) => (Some(("<", cursor("starting_after", id)?)), "DESC", false),
        (None, Some(id)) => (Some((">", cursor("ending_before", id)?)), "ASC", true),
        _ => (None, "DESC", false),
    };
    let mut sql = format!("SELECT id FROM {table} WHERE ({filter})");
    if let Some((op, seq)) = bound {
        sql.push_str(&format!(" AND seq {op} {seq}"));
    }
    sql.push_str(&format!(" ORDER BY seq {order} LIMIT {}", paging.limit + 1));
    let mut ids: Vec<String> = conn
        .prepare(&sql)?
        .query_map(args, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = ids.len() as i64 > paging.limit;
    ids.truncate(paging.limit as usize);
    if ascending {
        ids.reverse();
    }
    Ok((ids, has_more))
}

/// `{"object": "list", …}`.
pub fn list_json(data: Vec<Value>, has_more: bool, url: &str) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}
