//! Staff accounts of the support console: an email, a role and an Argon2id password hash (a
//! PHC string, so the parameters travel with each hash and can be raised later), and signing
//! in with per-account and per-address limits that answer the same for an unknown account.
//!
//! The password is hashed off the database connection ([`verify_off_connection`]): Argon2id is
//! slow on purpose (about 19 MiB and two passes), and the mock has one connection for everyone.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::{b64url, random, sha256};

use crate::http::ApiError;
use crate::rate_limit;

/// The staff table (a migration of the console's).
pub const MIGRATION: &str = r#"
    CREATE TABLE console_staff (
        id            TEXT PRIMARY KEY,
        email         TEXT NOT NULL UNIQUE,
        role          TEXT NOT NULL CHECK (role IN ('support', 'finance', 'admin')),
        password_hash TEXT NOT NULL,
        created       INTEGER NOT NULL
    );
"#;

/// The name members read on a staff member's answers (a migration of the console's, after
/// [`MIGRATION`]).
pub const DISPLAY_NAME_MIGRATION: &str = r#"
    ALTER TABLE console_staff ADD COLUMN display_name TEXT NOT NULL DEFAULT 'Support';
"#;

/// Longest email accepted (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Longest password accepted: bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD: usize = 128;
/// Shortest password a staff account may be given (OWASP's floor without MFA is 15; 12 keeps
/// the seed readable while refusing the trivially short).
pub const MIN_PASSWORD: usize = 12;
/// Sign-in attempts per account (known or not) per window.
pub const ATTEMPTS_PER_ACCOUNT: u32 = 5;
/// Sign-in attempts per client address per window.
pub const ATTEMPTS_PER_ADDRESS: u32 = 20;
/// The window of both limits, seconds.
pub const ATTEMPT_WINDOW: i64 = 15 * 60;

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads invoices and resends links.
    Support,
    /// Support's rights, and the money actions (credit note, uncollectible, void, refund).
    Finance,
    /// Everything, and the audit trail.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }

    /// From the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "support" => Some(Role::Support),
            "finance" => Some(Role::Finance),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether this role may move money or close an invoice.
    pub fn is_finance(self) -> bool {
        matches!(self, Role::Finance | Role::Admin)
    }
}

/// A signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    /// `stf_…`
    pub id: String,
    /// The sign-in email.
    pub email: String,
    /// Their role.
    pub role: Role,
    /// The name a member reads on their answers (never the email).
    pub display_name: String,
}

/// An email as stored and compared: trimmed, lower case.
pub fn normal_email(email: &str) -> String {
    email.trim().to_ascii_lowercase()
}

fn argon2() -> Argon2<'static> {
    // Argon2id v19, m = 19 MiB, t = 2, p = 1: OWASP's Password Storage Cheat Sheet's first line.
    Argon2::default()
}

/// An Argon2id PHC string for `password`, with a fresh 16-byte salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::encode_b64(&random::bytes::<16>())
        .map_err(|_| ApiError::internal("salt not encoded"))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| ApiError::internal("password not hashed"))
}

/// A hash no password matches, computed once: an unknown account's attempt is checked against
/// it, so it costs the same work as a known one's (no enumeration by timing).
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        hash_password(&b64url(random::bytes::<32>())).unwrap_or_else(|_| {
            // Never happens with a fixed-size salt; a bad PHC string still costs a parse only.
            String::new()
        })
    })
}

/// Checks `password` against `stored` (the decoy when the account is unknown), on the blocking
/// pool. True only for a known account with the right password.
pub async fn verify_off_connection(stored: Option<String>, password: String) -> bool {
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| decoy_hash().to_owned());
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| argon2().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    known && ok
}

/// Creates a staff account (the seed and the test helper); its id.
pub fn create_staff(
    tx: &Connection,
    email: &str,
    display_name: &str,
    password_hash: &str,
    role: Role,
    now: i64,
) -> Result<String, ApiError> {
    let email = normal_email(email);
    if email.is_empty() || email.len() > MAX_EMAIL || !email.contains('@') {
        return Err(ApiError::invalid_param(
            "email",
            format!("email must be an address of at most {MAX_EMAIL} characters."),
        ));
    }
    let display_name = display_name.trim();
    if display_name.is_empty()
        || display_name.chars().count() > crate::platform::invoice_messages::MAX_DISPLAY_NAME
        || display_name.chars().any(char::is_control)
    {
        return Err(ApiError::invalid_param(
            "display_name",
            format!(
                "display_name must be 1 to {} characters, on one line.",
                crate::platform::invoice_messages::MAX_DISPLAY_NAME
            ),
        ));
    }
    let id = random::id("stf");
    let inserted = tx.execute(
        "INSERT INTO console_staff (id, email, role, display_name, password_hash, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (email) DO NOTHING",
        params![id, email, role.as_str(), display_name, password_hash, now],
    )?;
    if inserted == 0 {
        return Err(ApiError::invalid_param(
            "email",
            "a staff account with this email exists.",
        ));
    }
    Ok(id)
}

/// Checks a new password's length before it is hashed.
pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD || password.len() > MAX_PASSWORD {
        return Err(ApiError::invalid_param(
            "password",
            format!("password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters."),
        ));
    }
    Ok(())
}

/// The account a sign-in names, if any: its id, role and hash.
pub fn account(conn: &Connection, email: &str) -> Result<Option<(Staff, String)>, ApiError> {
    let email = normal_email(email);
    Ok(conn
        .prepare_cached(
            "SELECT id, email, role, display_name, password_hash FROM console_staff WHERE email = ?1",
        )?
        .query_row([&email], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?
        .and_then(|(id, email, role, display_name, hash)| {
            Role::parse(&role).map(|role| {
                (
                    Staff {
                        id,
                        email,
                        role,
                        display_name,
                    },
                    hash,
                )
            })
        }))
}

/// A staff member by id.
pub fn staff(conn: &Connection, id: &str) -> Result<Option<Staff>, ApiError> {
    Ok(conn
        .prepare_cached("SELECT email, role, display_name FROM console_staff WHERE id = ?1")?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .optional()?
        .and_then(|(email, role, display_name)| {
            Role::parse(&role).map(|role| Staff {
                id: id.to_owned(),
                email,
                role,
                display_name,
            })
        }))
}

/// The rate-limit key of an account: a hash of the normalised email, so the table never holds
/// an address, and an unknown account is limited exactly like a known one.
fn account_key(email: &str) -> String {
    format!(
        "console:account:{}",
        b64url(sha256(normal_email(email).as_bytes()))
    )
}

/// Counts one attempt against the account and the address; `Err(seconds)` when either limit is
/// reached (nothing is hashed then).
pub fn count_attempt(
    tx: &Connection,
    email: &str,
    client: &str,
    now: i64,
) -> Result<Result<(), u64>, ApiError> {
    if let Err(wait) = rate_limit::hit(
        tx,
        &format!("console:address:{client}"),
        ATTEMPTS_PER_ADDRESS,
        ATTEMPT_WINDOW,
        now,
    )? {
        return Ok(Err(wait));
    }
    Ok(rate_limit::hit(
        tx,
        &account_key(email),
        ATTEMPTS_PER_ACCOUNT,
        ATTEMPT_WINDOW,
        now,
    )?)
}

/// Forgets the account's attempts after a good password (the address's stay counted).
pub fn clear_attempts(tx: &Connection, email: &str) -> Result<(), ApiError> {
    tx.execute(
        "DELETE FROM http_rate_hits WHERE key = ?1",
        [account_key(email)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_and_checks_only_its_password() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_off_connection(Some(h.clone()), "correct horse battery".into()).await);
        assert!(!verify_off_connection(Some(h), "correct horse batterY".into()).await);
        // An unknown account never signs in, even with the decoy's own input.
        assert!(!verify_off_connection(None, String::new()).await);
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        assert_ne!(
            hash_password("same password!").unwrap(),
            hash_password("same password!").unwrap()
        );
    }

    #[test]
    fn roles_parse_and_only_finance_and_admin_move_money() {
        for r in [Role::Support, Role::Finance, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(!Role::Support.is_finance());
        assert!(Role::Finance.is_finance() && Role::Admin.is_finance());
    }
}
