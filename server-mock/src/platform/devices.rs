//! Devices and tokens. Tokens are opaque random strings stored only as hashes, each bound to the
//! thumbprint of the device key (`cnf.jkt` in RFC 9449 terms). Refresh tokens are single-use:
//! presenting a used one revokes the device, as a stolen-token alarm.

use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::{b64url, random, sha256};
use tierspay_core::wire::{codes, TokenGrant};

use super::notifications;
use crate::http::ApiError;
use crate::state::Limits;

pub use crate::http::DeviceSession;

fn hash(token: &str) -> String {
    b64url(sha256(token.as_bytes()))
}

/// Registers a device for a member, revoking every other device of that member (enrolling a
/// new phone signs the old one out), and issues its first tokens.
#[allow(clippy::too_many_arguments)]
pub fn register(
    tx: &Connection,
    member_ref: &str,
    contract_ref: &str,
    jkt: &str,
    public_key: &[u8],
    name: Option<&str>,
    now: i64,
    limits: &Limits,
) -> Result<(String, TokenGrant), ApiError> {
    let previous: Vec<String> = tx
        .prepare("SELECT id FROM platform_devices WHERE member_ref = ?1 AND status = 'active'")?
        .query_map([member_ref], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for device in previous {
        // The old phone hears why it was signed out, while its push token is still known.
        notifications::push_to_device(
            tx,
            &device,
            notifications::Push {
                kind: "signed_out",
                title: "Signed out",
                body: "You were signed out: a new phone was enrolled with your contract.",
                link: "tierspay://enroll",
            },
            now,
        )?;
        revoke(tx, &device, now)?;
    }
    let device_id = random::id("dev");
    tx.execute(
        "INSERT INTO platform_devices (id, member_ref, contract_ref, jkt, public_key, name, status, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7)",
        params![device_id, member_ref, contract_ref, jkt, public_key, name, now],
    )?;
    let grant = issue(tx, &device_id, now, limits)?;
    Ok((device_id, grant))
}

fn issue(
    tx: &Connection,
    device_id: &str,
    now: i64,
    limits: &Limits,
) -> Result<TokenGrant, ApiError> {
    let access = random::secret("at");
    let refresh = random::secret("rt");
    let mut insert = tx.prepare_cached(
        "INSERT INTO platform_tokens (hash, device_id, kind, expires_at, created) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    insert.execute(params![
        hash(&access),
        device_id,
        "access",
        now + limits.access_token_ttl,
        now
    ])?;
    insert.execute(params![
        hash(&refresh),
        device_id,
        "refresh",
        now + limits.refresh_token_ttl,
        now
    ])?;
    Ok(TokenGrant {
        access_token: access,
        token_type: "DPoP".into(),
        expires_in: limits.access_token_ttl,
        refresh_token: refresh,
    })
}

/// Revokes a device and all its tokens, its push token included.
pub fn revoke(tx: &Connection, device_id: &str, now: i64) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE platform_devices SET status = 'revoked', revoked_at = ?2 WHERE id = ?1 AND status = 'active'",
        params![device_id, now],
    )?;
    tx.execute(
        "DELETE FROM platform_tokens WHERE device_id = ?1",
        [device_id],
    )?;
    // A signed-out device gets no more pushes.
    super::push::forget(tx, device_id)?;
    Ok(())
}

struct TokenRow {
    device_id: String,
    kind: String,
    expires_at: i64,
    used: bool,
    jkt: String,
    member_ref: String,
    contract_ref: String,
    active: bool,
}

fn lookup(tx: &Connection, token: &str) -> Result<Option<TokenRow>, ApiError> {
    Ok(tx
        .query_row(
            "SELECT t.device_id, t.kind, t.expires_at, t.used, d.jkt, d.member_ref, d.contract_ref, d.status = 'active'
             FROM platform_tokens t JOIN platform_devices d ON d.id = t.device_id WHERE t.hash = ?1",
            [hash(token)],
            |r| {
                Ok(TokenRow {
                    device_id: r.get(0)?,
                    kind: r.get(1)?,
                    expires_at: r.get(2)?,
                    used: r.get(3)?,
                    jkt: r.get(4)?,
                    member_ref: r.get(5)?,
                    contract_ref: r.get(6)?,
                    active: r.get(7)?,
                })
            },
        )
        .optional()?)
}

fn revoked() -> ApiError {
    ApiError::unauthorized(
        codes::TOKEN_REVOKED,
        "This device is no longer signed in; enroll again.",
    )
}

/// Resolves an access token presented with a proof by the key of thumbprint `jkt`.
pub fn resolve_access(
    tx: &Connection,
    token: &str,
    jkt: &str,
    now: i64,
) -> Result<DeviceSession, ApiError> {
    let row = lookup(tx, token)?
        .filter(|r| r.kind == "access" && r.active)
        .ok_or_else(revoked)?;
    if row.jkt != jkt {
        return Err(ApiError::unauthorized(
            codes::INVALID_DPOP_PROOF,
            "The DPoP proof was not signed by the key this token is bound to.",
        ));
    }
    if row.expires_at <= now {
        return Err(ApiError::unauthorized(
            codes::TOKEN_EXPIRED,
            "The access token expired; refresh it.",
        ));
    }
    Ok(DeviceSession {
        device_id: row.device_id,
        member_ref: row.member_ref,
        contract_ref: row.contract_ref,
    })
}

/// Exchanges a refresh token (single use) for new tokens. The inner error is a refusal whose
/// effects (revoking a device whose refresh token was reused) must commit; the outer one rolls
/// back.
pub fn refresh(
    tx: &Connection,
    token: &str,
    jkt: &str,
    now: i64,
    limits: &Limits,
) -> Result<Result<TokenGrant, ApiError>, ApiError> {
    let row = lookup(tx, token)?
        .filter(|r| r.kind == "refresh" && r.active)
        .ok_or_else(revoked)?;
    if row.jkt != jkt {
        return Err(ApiError::unauthorized(
            codes::INVALID_DPOP_PROOF,
            "The DPoP proof was not signed by the key this token is bound to.",
        ));
    }
    if row.used {
        // A refresh token seen twice was copied: end the device's session altogether.
        tracing::warn!(device = %row.device_id, "refresh token reused; device revoked");
        revoke(tx, &row.device_id, now)?;
        return Ok(Err(revoked()));
    }
    if row.expires_at <= now {
        return Err(revoked());
    }
    tx.execute(
        "UPDATE platform_tokens SET used = 1 WHERE hash = ?1",
        [hash(token)],
    )?;
    // Older access tokens of the device stop working with the new grant.
    tx.execute(
        "DELETE FROM platform_tokens WHERE device_id = ?1 AND kind = 'access'",
        [&row.device_id],
    )?;
    issue(tx, &row.device_id, now, limits).map(Ok)
}
