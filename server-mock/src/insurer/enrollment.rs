//! The insurer's side of enrollment: proving a contract by a code sent to the phone on file.
//! The code is 6 digits, valid 5 minutes, 5 tries, and only the newest code of a contract is
//! valid; an unknown contract and a wrong birth date get the same answer, so contract numbers
//! cannot be probed. The insurer makes and verifies the code and names the member it proves;
//! sending it, the device, the card and the answer are the platform's (`platform::enrollment`).

use ring::hmac;
use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::{b64url, b64url_decode, random};
use tierspay_core::domain::enrollment as rules;
use tierspay_core::wire::codes;

use super::contracts;
use crate::http::ApiError;

fn code_mac(secret: &[u8; 32], enrollment_id: &str, code: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    b64url(hmac::sign(
        &key,
        format!("{enrollment_id}:{code}").as_bytes(),
    ))
}

fn code_matches(secret: &[u8; 32], enrollment_id: &str, code: &str, stored: &str) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let Ok(tag) = b64url_decode(stored) else {
        return false;
    };
    // Constant-time comparison.
    hmac::verify(&key, format!("{enrollment_id}:{code}").as_bytes(), &tag).is_ok()
}

fn not_matched() -> ApiError {
    ApiError::invalid(
        codes::ENROLLMENT_NOT_MATCHED,
        "No contract matches this contract number and birth date. Check both on your insurance card.",
    )
}

/// A code made for a contract, to send to the phone on file (the insurer keeps only its MAC).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// `enr_…`
    pub id: String,
    /// The 6 digits, in clear: for the SMS only.
    pub code: String,
    /// The contract's number (the SMS names its last digits).
    pub contract_number: String,
    /// The phone on file.
    pub phone: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Checks the contract number and birth date, supersedes the contract's pending codes (only the
/// newest is valid) and stores a new one, valid `ttl` seconds for `attempts` tries.
pub fn issue_code(
    tx: &Connection,
    number: &str,
    birth_date: time::Date,
    secret: &[u8; 32],
    ttl: i64,
    attempts: u32,
    now: i64,
) -> Result<IssuedCode, ApiError> {
    let contract = contracts::find_by_number(tx, number)?
        .filter(|c| c.birth_date == birth_date.to_string())
        .ok_or_else(not_matched)?;
    if contract.status != "active" {
        return Err(ApiError::invalid(
            codes::CONTRACT_INACTIVE,
            "This contract is not active. Contact your insurer.",
        ));
    }
    // Only the newest code of a contract is valid.
    tx.execute(
        "UPDATE insurer_enrollments SET status = 'superseded' WHERE contract_id = ?1 AND status = 'pending'",
        [&contract.id],
    )?;
    let id = random::id("enr");
    let code = random::numeric_code(rules::CODE_LENGTH as u32);
    tx.execute(
        "INSERT INTO insurer_enrollments (id, contract_id, code_mac, expires_at, attempts_left, status, created)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        params![id, contract.id, code_mac(secret, &id, &code), now + ttl, attempts, now],
    )?;
    Ok(IssuedCode {
        id,
        code,
        contract_number: contract.number,
        phone: contract.phone,
        expires_at: now + ttl,
    })
}

/// What a code proves.
#[derive(Debug)]
pub enum Verdict {
    /// The right code, in time: the member and contract it proves. The enrollment stays
    /// pending until [`mark_confirmed`].
    Member {
        /// The insurer's member reference.
        member_id: String,
        /// `ctr_…`
        contract_id: String,
    },
    /// Refused. A wrong code's spent try is written: commit, then refuse.
    Refused(ApiError),
}

/// Verifies a code against enrollment `id` (404 if there is none), counting a wrong one.
pub fn verify_code(
    tx: &Connection,
    id: &str,
    code: &str,
    secret: &[u8; 32],
    now: i64,
) -> Result<Verdict, ApiError> {
    let row = tx
        .query_row(
            "SELECT e.contract_id, e.code_mac, e.expires_at, e.attempts_left, e.status, c.member_id
             FROM insurer_enrollments e JOIN insurer_contracts c ON c.id = e.contract_id WHERE e.id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((contract_id, mac, expires_at, attempts_left, status, member_id)) = row else {
        return Err(ApiError::not_found("enrollment"));
    };
    let refuse = |code: &str, message: &str| Ok(Verdict::Refused(ApiError::invalid(code, message)));
    match status.as_str() {
        "pending" => {}
        "locked" => {
            return refuse(
                codes::TOO_MANY_ATTEMPTS,
                "Too many wrong codes. Start again to receive a new code.",
            )
        }
        "superseded" => {
            return refuse(
                codes::CODE_EXPIRED,
                "A newer code was sent; use the latest one.",
            )
        }
        _ => {
            return refuse(
                codes::ENROLLMENT_USED,
                "This enrollment is already confirmed. Start again to enroll another device.",
            )
        }
    }
    if now >= expires_at {
        return refuse(
            codes::CODE_EXPIRED,
            "This code has expired. Start again to receive a new code.",
        );
    }
    if !code_matches(secret, id, code, &mac) {
        let left = attempts_left - 1;
        let new_status = if left <= 0 { "locked" } else { "pending" };
        tx.execute(
            "UPDATE insurer_enrollments SET attempts_left = ?2, status = ?3 WHERE id = ?1",
            params![id, left.max(0), new_status],
        )?;
        return if left <= 0 {
            refuse(
                codes::TOO_MANY_ATTEMPTS,
                "Too many wrong codes. Start again to receive a new code.",
            )
        } else {
            refuse(
                codes::CODE_INCORRECT,
                &format!(
                    "The code is incorrect; {left} {} left.",
                    if left == 1 { "try" } else { "tries" }
                ),
            )
        };
    }
    Ok(Verdict::Member {
        member_id,
        contract_id,
    })
}

/// Marks a verified enrollment confirmed, for the device it enrolled: its code is spent.
pub fn mark_confirmed(
    tx: &Connection,
    id: &str,
    device_ref: &str,
    now: i64,
) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE insurer_enrollments SET status = 'confirmed', confirmed_at = ?2, device_ref = ?3 WHERE id = ?1",
        params![id, now, device_ref],
    )?;
    Ok(())
}
