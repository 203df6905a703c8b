//! Broker keys: issued with a fresh random secret (`http::broker_key`), stored as its SHA-256
//! only, rotated (a new key, the old one revoked in the same transaction) and revoked. The
//! resolver the HTTP layer calls for every request with a broker key lives here too: it finds
//! the key by its hash, refuses a revoked one or a broker key outside the broker routes, counts
//! the request against the key's rate limit, and audits each refusal.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use tierspay_core::auth::random;

use super::audit;
use crate::http::broker_key::{self, IssuedKey};
use crate::http::{ApiError, BrokerAttempt, BrokerRefusal, BrokerSession};
use crate::rate_limit;

/// Audit entries of one kind of refusal per key per window: a key hammering a closed door
/// leaves a bounded trail (the rate limit and the refusal still apply to every request).
pub const AUDITED_REFUSALS_PER_WINDOW: u32 = 5;

/// A key as the back office sees it (never the secret, never the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyView {
    /// Always `"broker_key"`.
    pub object: &'static str,
    /// `bkk_…`
    pub id: String,
    /// `brk_…`
    pub broker: String,
    /// `bk_test_` and the secret's first four characters.
    pub display: String,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds, once revoked.
    pub revoked_at: Option<i64>,
    /// The key that replaced it, after a rotation.
    pub replaced_by: Option<String>,
}

/// Records a new key for `broker_id`; the clear key is in the result and nowhere else.
pub fn issue(tx: &Connection, broker_id: &str, now: i64) -> Result<(KeyView, IssuedKey), ApiError> {
    let issued = broker_key::issue();
    let id = random::id("bkk");
    tx.prepare_cached(
        "INSERT INTO platform_broker_keys (id, broker_id, hash, display, created) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![id, broker_id, issued.hash, issued.display, now])?;
    Ok((
        KeyView {
            object: "broker_key",
            id,
            broker: broker_id.to_owned(),
            display: issued.display.clone(),
            created: now,
            revoked_at: None,
            replaced_by: None,
        },
        issued,
    ))
}

/// The key `key_id` of `broker_id`, if it is theirs.
pub fn key(tx: &Connection, broker_id: &str, key_id: &str) -> Result<Option<KeyView>, ApiError> {
    Ok(tx
        .prepare_cached(
            "SELECT id, broker_id, display, created, revoked_at, replaced_by FROM platform_broker_keys
             WHERE id = ?1 AND broker_id = ?2",
        )?
        .query_row(params![key_id, broker_id], |r| {
            Ok(KeyView {
                object: "broker_key",
                id: r.get(0)?,
                broker: r.get(1)?,
                display: r.get(2)?,
                created: r.get(3)?,
                revoked_at: r.get(4)?,
                replaced_by: r.get(5)?,
            })
        })
        .optional()?)
}

/// Revokes a live key (and names its successor, for a rotation); false if it was not live.
pub fn revoke(
    tx: &Connection,
    key_id: &str,
    replaced_by: Option<&str>,
    now: i64,
) -> Result<bool, ApiError> {
    let changed = tx
        .prepare_cached(
            "UPDATE platform_broker_keys SET revoked_at = ?2, replaced_by = ?3
             WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![key_id, now, replaced_by])?;
    Ok(changed == 1)
}

/// Audits a refusal unless this key's refusals of this kind already filled the window.
fn audit_refusal(
    tx: &Connection,
    a: &BrokerAttempt<'_>,
    broker_id: &str,
    key_id: &str,
    outcome: &str,
    now: i64,
) -> Result<(), ApiError> {
    let counter = format!("broker:audit:{outcome}:{key_id}");
    if rate_limit::hit(
        tx,
        &counter,
        AUDITED_REFUSALS_PER_WINDOW,
        a.window_secs,
        now,
    )?
    .is_ok()
    {
        audit(
            tx,
            now,
            broker_id,
            "broker_request",
            None,
            outcome,
            &format!("key {key_id}, {}", method_word(a.method)),
            a.client,
        )?;
    }
    Ok(())
}

/// The method as a fixed word (the audit trail holds no text a request chose).
fn method_word(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        _ => "other method",
    }
}

/// The HTTP layer's resolver ([`crate::http::ResolveBroker`]): the broker behind a key's hash.
/// An unknown hash is refused without an audit entry (nothing names a broker, and random keys
/// must not fill the trail); a revoked key, a broker key outside the broker routes and a key
/// past its rate limit are refused and audited.
pub fn resolve(
    tx: &Connection,
    a: &BrokerAttempt<'_>,
    now: i64,
) -> Result<Result<BrokerSession, BrokerRefusal>, ApiError> {
    let row: Option<(String, String, String, Option<i64>)> = tx
        .prepare_cached(
            "SELECT id, broker_id, hash, revoked_at FROM platform_broker_keys WHERE hash = ?1",
        )?
        .query_row([a.key_hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    // The index found the row by hash; the comparison that decides is constant-time.
    let Some((key_id, broker_id, _, revoked_at)) =
        row.filter(|r| broker_key::same_hash(&r.2, a.key_hash))
    else {
        return Ok(Err(BrokerRefusal::Refused));
    };
    if revoked_at.is_some() {
        audit_refusal(tx, a, &broker_id, &key_id, "key_revoked", now)?;
        return Ok(Err(BrokerRefusal::Refused));
    }
    if !a.broker_route {
        audit_refusal(tx, a, &broker_id, &key_id, "not_a_broker_route", now)?;
        return Ok(Err(BrokerRefusal::Refused));
    }
    if let Err(wait) = rate_limit::hit(
        tx,
        &format!("broker:key:{key_id}"),
        a.per_window,
        a.window_secs,
        now,
    )? {
        audit_refusal(tx, a, &broker_id, &key_id, "rate_limited", now)?;
        return Ok(Err(BrokerRefusal::RateLimited(wait)));
    }
    Ok(Ok(BrokerSession { broker_id, key_id }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::console::audit::MIGRATION as AUDIT_TABLE;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE http_rate_hits (key TEXT NOT NULL, at INTEGER NOT NULL);
             CREATE TABLE platform_invoices (seq INTEGER PRIMARY KEY, contract_ref TEXT);",
        )
        .unwrap();
        c.execute_batch(super::super::MIGRATION).unwrap();
        c.execute_batch(AUDIT_TABLE).unwrap();
        c.execute(
            "INSERT INTO platform_brokers (id, name, created) VALUES ('brk_1', 'Courtier', 0)",
            [],
        )
        .unwrap();
        c
    }

    fn attempt<'a>(hash: &'a str, broker_route: bool) -> BrokerAttempt<'a> {
        BrokerAttempt {
            key_hash: hash,
            broker_route,
            method: "GET",
            client: "127.0.0.1",
            per_window: 2,
            window_secs: 60,
        }
    }

    fn audited(c: &Connection, outcome: &str) -> i64 {
        c.query_row(
            "SELECT COUNT(*) FROM console_audit WHERE outcome = ?1 AND staff_id = 'brk_1'",
            [outcome],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn a_key_resolves_until_revoked_and_only_on_broker_routes() {
        let c = conn();
        let (view, issued) = issue(&c, "brk_1", 0).unwrap();
        let stored: String = c
            .query_row("SELECT hash FROM platform_broker_keys", [], |r| r.get(0))
            .unwrap();
        let secret = broker_key::parse(&issued.clear).unwrap();
        assert_eq!(stored, broker_key::hash(&secret));
        let ok = resolve(&c, &attempt(&stored, true), 1).unwrap().unwrap();
        assert_eq!(ok.broker_id, "brk_1");
        assert_eq!(ok.key_id, view.id);
        assert_eq!(
            resolve(&c, &attempt(&stored, false), 1).unwrap(),
            Err(BrokerRefusal::Refused)
        );
        assert_eq!(audited(&c, "not_a_broker_route"), 1);
        assert!(revoke(&c, &view.id, None, 2).unwrap());
        assert!(!revoke(&c, &view.id, None, 3).unwrap(), "revoked once");
        assert_eq!(
            resolve(&c, &attempt(&stored, true), 4).unwrap(),
            Err(BrokerRefusal::Refused)
        );
        assert_eq!(audited(&c, "key_revoked"), 1);
        // An unknown key is refused and names nobody.
        assert_eq!(
            resolve(&c, &attempt("nope", true), 4).unwrap(),
            Err(BrokerRefusal::Refused)
        );
    }

    #[test]
    fn the_rate_limit_counts_per_key_and_its_refusals_are_audited_a_bounded_number_of_times() {
        let c = conn();
        let (_, issued) = issue(&c, "brk_1", 0).unwrap();
        let hash = broker_key::hash(&broker_key::parse(&issued.clear).unwrap());
        let (_, other) = issue(&c, "brk_1", 0).unwrap();
        let other = broker_key::hash(&broker_key::parse(&other.clear).unwrap());
        assert!(resolve(&c, &attempt(&hash, true), 10).unwrap().is_ok());
        assert!(resolve(&c, &attempt(&hash, true), 20).unwrap().is_ok());
        for _ in 0..10 {
            assert_eq!(
                resolve(&c, &attempt(&hash, true), 30).unwrap(),
                Err(BrokerRefusal::RateLimited(40))
            );
        }
        assert_eq!(
            audited(&c, "rate_limited"),
            i64::from(AUDITED_REFUSALS_PER_WINDOW)
        );
        assert!(resolve(&c, &attempt(&other, true), 30).unwrap().is_ok());
        assert!(resolve(&c, &attempt(&hash, true), 71).unwrap().is_ok());
    }
}
