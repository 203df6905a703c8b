//! The PSP's money: a double-entry ledger, Stripe's balance transactions on top of it, the
//! balance of an account, and top-ups that bring money in.
//!
//! Every movement of money is one row of `psp_ledger_movements` and two or more rows of
//! `psp_ledger_entries` whose amounts (integer minor units) sum to zero in each currency: money
//! only ever moves from one ledger account to another, and [`post`] refuses anything else.
//! Entries are append-only (triggers refuse updates and deletes); a mistake is corrected by a
//! new movement.
//!
//! Ledger accounts are names:
//! - `acct_…`: the payments balance of a Stripe account (the platform's own,
//!   [`PLATFORM_ACCOUNT`], or a connected one);
//! - `acct_…:issuing`: that account's Issuing balance (what its cards can spend);
//! - `acct_…:<name>` for any other `<name>` (for example `acct_…:issuing_held`): an internal
//!   sub-account of that account (held funds), shown in no balance;
//! - `external:<name>`: the world outside the PSP (`external:card_network`: card schemes
//!   paying for charges and collecting for issuing spend; `external:bank`: bank transfers,
//!   top-ups and payouts; `external:psp_fees`: the PSP's own revenue).
//!
//! The payments and Issuing balances get a Stripe `balance_transaction` (`txn_…`) per movement
//! that changes them, with `amount` (gross), `fee`, `net = amount − fee`, `type`, `source`
//! and `reporting_category`; `GET /v1/balance` sums the ledger, and `GET /v1/balance_transactions`
//! lists the transactions, both for the caller's account or the one named by `Stripe-Account`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post as post_route};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use tierspay_core::auth::random;

use super::events::emit;
use super::form::invalid;
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::wire::{body_fields, query_fields, to_map, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The platform's own Stripe account: implicit, it exists in every database.
pub const PLATFORM_ACCOUNT: &str = "acct_1TiersPayPlatform";
/// Largest amount of one charge, transfer or top-up, in minor units (Stripe's bound for eur:
/// 999,999.99).
pub const MAX_AMOUNT: i64 = 99_999_999;
/// Most entries in one movement (bounds the work of one call).
const MAX_ENTRIES: usize = 16;

/// The ledger's tables (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_accounts (
        seq              INTEGER PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        type             TEXT NOT NULL CHECK (type IN ('custom', 'express', 'standard')),
        country          TEXT NOT NULL,
        email            TEXT,
        business_profile TEXT NOT NULL,
        metadata         TEXT NOT NULL DEFAULT '{}',
        created          INTEGER NOT NULL
    );
    CREATE TABLE psp_ledger_movements (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,
        type           TEXT NOT NULL,
        source         TEXT NOT NULL,
        transfer_group TEXT,
        description    TEXT,
        created        INTEGER NOT NULL
    );
    CREATE INDEX psp_ledger_movements_source ON psp_ledger_movements (source);
    CREATE INDEX psp_ledger_movements_group ON psp_ledger_movements (transfer_group)
        WHERE transfer_group IS NOT NULL;
    CREATE TABLE psp_ledger_entries (
        seq         INTEGER PRIMARY KEY,
        movement_id TEXT NOT NULL REFERENCES psp_ledger_movements(id),
        account     TEXT NOT NULL,
        currency    TEXT NOT NULL,
        amount      INTEGER NOT NULL CHECK (amount <> 0),
        created     INTEGER NOT NULL
    );
    CREATE INDEX psp_ledger_entries_account ON psp_ledger_entries (account, currency);
    CREATE INDEX psp_ledger_entries_movement ON psp_ledger_entries (movement_id);
    CREATE TRIGGER psp_ledger_entries_no_update BEFORE UPDATE ON psp_ledger_entries
        BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TRIGGER psp_ledger_entries_no_delete BEFORE DELETE ON psp_ledger_entries
        BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
    CREATE TABLE psp_balance_transactions (
        seq                INTEGER PRIMARY KEY,
        id                 TEXT NOT NULL UNIQUE,
        movement_id        TEXT NOT NULL REFERENCES psp_ledger_movements(id),
        account            TEXT NOT NULL,
        balance_type       TEXT NOT NULL CHECK (balance_type IN ('payments', 'issuing')),
        currency           TEXT NOT NULL,
        amount             INTEGER NOT NULL,
        fee                INTEGER NOT NULL,
        net                INTEGER NOT NULL CHECK (net = amount - fee),
        type               TEXT NOT NULL,
        reporting_category TEXT NOT NULL,
        source             TEXT NOT NULL,
        description        TEXT,
        payout             TEXT,
        status             TEXT NOT NULL CHECK (status IN ('available', 'pending')),
        available_on       INTEGER NOT NULL,
        created            INTEGER NOT NULL
    );
    CREATE INDEX psp_balance_transactions_account ON psp_balance_transactions (account, seq);
    CREATE INDEX psp_balance_transactions_source ON psp_balance_transactions (source);
    CREATE TABLE psp_topups (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        account             TEXT NOT NULL,
        amount              INTEGER NOT NULL CHECK (amount > 0),
        currency            TEXT NOT NULL,
        destination_balance TEXT NOT NULL CHECK (destination_balance IN ('payments', 'issuing')),
        description         TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        balance_transaction TEXT NOT NULL,
        created             INTEGER NOT NULL
    );
    CREATE INDEX psp_topups_account ON psp_topups (account, seq);
"#;

// ------------------------------------------------------------------- the ledger API

/// One side of a movement: `amount_minor` (positive in, negative out) on a ledger account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// A ledger account name (`acct_…`, `acct_…:issuing`, `external:card_network`, …).
    pub account: String,
    /// Minor units; never zero.
    pub amount_minor: i64,
    /// Lowercase ISO 4217 (`eur`).
    pub currency: String,
}

impl Entry {
    /// An entry.
    pub fn new(account: impl Into<String>, amount_minor: i64, currency: &str) -> Self {
        Self {
            account: account.into(),
            amount_minor,
            currency: currency.to_owned(),
        }
    }
}

/// The PSP's fee on a movement, taken from one balance account's side: that account's balance
/// transaction shows the gross amount, the fee and the net, and the fee goes to
/// `external:psp_fees`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fee {
    /// The balance account that pays it (one of the movement's entries).
    pub account: String,
    /// Minor units, positive.
    pub amount_minor: i64,
}

/// A movement to post: its entries and what it is.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    /// The balance transactions' `type` (`charge`, `transfer`, `issuing_authorization_hold`, …).
    pub kind: &'a str,
    /// The object that moved the money (`ch_…`, `tr_…`, `iauth_…`, `tu_…`).
    pub source: &'a str,
    /// Free text shown on the balance transactions.
    pub description: Option<&'a str>,
    /// Entries summing to zero per currency.
    pub entries: &'a [Entry],
    /// The PSP's fee, if any.
    pub fee: Option<Fee>,
    /// Ties the movement to a `transfer_group` (charges and transfers of one visit).
    pub transfer_group: Option<&'a str>,
}

/// Balance transaction types and their `reporting_category` (Stripe's names).
const KINDS: &[(&str, &str)] = &[
    ("charge", "charge"),
    ("payment", "charge"),
    ("refund", "refund"),
    ("transfer", "transfer"),
    ("payout", "payout"),
    ("topup", "topup"),
    ("adjustment", "other_adjustment"),
    ("stripe_fee", "fee"),
    ("issuing_authorization_hold", "issuing_authorization_hold"),
    (
        "issuing_authorization_release",
        "issuing_authorization_release",
    ),
    ("issuing_transaction", "issuing_transaction"),
];

/// Which Stripe balance a ledger account is: `(stripe account, "payments" | "issuing")`, or
/// `None` for external accounts and internal sub-accounts.
pub fn balance_of(account: &str) -> Option<(&str, &'static str)> {
    if !account.starts_with("acct_") {
        return None;
    }
    match account.split_once(':') {
        None => Some((account, "payments")),
        Some((acct, "issuing")) => Some((acct, "issuing")),
        Some(_) => None,
    }
}

/// The ledger account of a Stripe account's Issuing balance.
pub fn issuing_account(stripe_account: &str) -> String {
    format!("{stripe_account}:issuing")
}

fn valid_account_name(name: &str) -> bool {
    let word = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if let Some(rest) = name.strip_prefix("external:") {
        return word(rest);
    }
    let Some(rest) = name.strip_prefix("acct_") else {
        return false;
    };
    let (id, sub) = match rest.split_once(':') {
        Some((id, sub)) => (id, Some(sub)),
        None => (rest, None),
    };
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        && sub.is_none_or(word)
}

fn valid_currency(c: &str) -> bool {
    c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase())
}

/// Checks a movement without writing: names, currencies, bounds, and a zero sum per currency.
/// Returns the entries to write (the fee's two entries added).
pub fn check(m: &Movement<'_>) -> Result<Vec<Entry>, ApiError> {
    let bad = |msg: String| ApiError::internal(&format!("ledger movement refused: {msg}"));
    if !KINDS.iter().any(|(k, _)| *k == m.kind) {
        return Err(bad(format!("unknown type {}", m.kind)));
    }
    if m.source.is_empty() {
        return Err(bad("no source".into()));
    }
    if m.entries.len() < 2 || m.entries.len() > MAX_ENTRIES {
        return Err(bad(format!(
            "{} entries (2 to {MAX_ENTRIES})",
            m.entries.len()
        )));
    }
    let mut all = m.entries.to_vec();
    if let Some(fee) = &m.fee {
        if fee.amount_minor <= 0 || fee.amount_minor > MAX_AMOUNT {
            return Err(bad(format!("fee {}", fee.amount_minor)));
        }
        let Some(payer) = m
            .entries
            .iter()
            .find(|e| e.account == fee.account && balance_of(&e.account).is_some())
        else {
            return Err(bad(format!("fee payer {} is not an entry", fee.account)));
        };
        let currency = payer.currency.clone();
        all.push(Entry::new(&fee.account, -fee.amount_minor, &currency));
        all.push(Entry::new("external:psp_fees", fee.amount_minor, &currency));
    }
    let mut sums: Vec<(String, i64)> = Vec::new();
    for e in &all {
        if !valid_account_name(&e.account) {
            return Err(bad(format!("account name {:?}", e.account)));
        }
        if !valid_currency(&e.currency) {
            return Err(bad(format!("currency {:?}", e.currency)));
        }
        if e.amount_minor == 0 || e.amount_minor.abs() > MAX_AMOUNT {
            return Err(bad(format!("amount {} on {}", e.amount_minor, e.account)));
        }
        match sums.iter_mut().find(|(c, _)| *c == e.currency) {
            Some((_, s)) => *s += e.amount_minor,
            None => sums.push((e.currency.clone(), e.amount_minor)),
        }
    }
    if let Some((c, s)) = sums.iter().find(|(_, s)| *s != 0) {
        return Err(bad(format!("entries sum to {s} {c}, not zero")));
    }
    Ok(all)
}

/// Posts a movement: its entries, and one balance transaction per payments or Issuing balance
/// whose amount it changes. Refuses (500, nothing written) entries that do not sum to zero per
/// currency, unknown types, malformed account names and amounts out of bounds: each is a bug of
/// the caller. Returns the `txn_…` ids, in the order their accounts first appear.
pub fn post(tx: &Connection, ctx: &Ctx, m: &Movement<'_>) -> Result<Vec<String>, ApiError> {
    let entries = check(m)?;
    let movement_id = random::id("lm");
    tx.prepare_cached(
        "INSERT INTO psp_ledger_movements (id, type, source, transfer_group, description, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        movement_id,
        m.kind,
        m.source,
        m.transfer_group,
        m.description,
        ctx.now
    ])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO psp_ledger_entries (movement_id, account, currency, amount, created)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for e in &entries {
        insert.execute(params![
            movement_id,
            e.account,
            e.currency,
            e.amount_minor,
            ctx.now
        ])?;
    }
    // Gross per balance account (the caller's entries); the fee is shown apart from it.
    let mut gross: Vec<(&str, &str, i64)> = Vec::new();
    for e in m.entries {
        if balance_of(&e.account).is_none() {
            continue;
        }
        match gross
            .iter_mut()
            .find(|(a, c, _)| *a == e.account && *c == e.currency)
        {
            Some((_, _, s)) => *s += e.amount_minor,
            None => gross.push((&e.account, &e.currency, e.amount_minor)),
        }
    }
    let category = KINDS
        .iter()
        .find(|(k, _)| *k == m.kind)
        .map_or("other_adjustment", |(_, c)| c);
    let mut ids = Vec::new();
    for (account, currency, amount) in gross {
        let fee = m
            .fee
            .as_ref()
            .filter(|f| f.account == account)
            .map_or(0, |f| f.amount_minor);
        if amount == 0 && fee == 0 {
            continue;
        }
        let Some((stripe_account, balance_type)) = balance_of(account) else {
            continue;
        };
        let id = random::id("txn");
        tx.prepare_cached("INSERT INTO psp_balance_transactions (id, movement_id, account, balance_type, currency, amount,
                 fee, net, type, reporting_category, source, description, status, available_on, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'available', ?13, ?13)")?.execute(
            params![
                id,
                movement_id,
                stripe_account,
                balance_type,
                currency,
                amount,
                fee,
                amount - fee,
                m.kind,
                category,
                m.source,
                m.description,
                ctx.now
            ],
        )?;
        ids.push(id);
    }
    Ok(ids)
}

/// [`post`] without fee or transfer group.
pub fn post_movement(
    tx: &Connection,
    ctx: &Ctx,
    entries: &[Entry],
    kind: &str,
    source_id: &str,
    description: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    post(
        tx,
        ctx,
        &Movement {
            kind,
            source: source_id,
            description,
            entries,
            fee: None,
            transfer_group: None,
        },
    )
}

/// The sum of a ledger account's entries in `currency` (minor units).
pub fn balance(conn: &Connection, account: &str, currency: &str) -> Result<i64, ApiError> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM psp_ledger_entries WHERE account = ?1 AND currency = ?2",
        params![account, currency],
        |r| r.get(0),
    )?)
}

/// Refuses (400 `balance_insufficient`, naming `param`, as Stripe refuses a transfer) spending
/// `amount` from `account` when its balance is lower.
pub fn ensure_funds(
    conn: &Connection,
    account: &str,
    currency: &str,
    amount: i64,
    param: &str,
) -> Result<(), ApiError> {
    let have = balance(conn, account, currency)?;
    if have < amount {
        return Err(refuse(
            "balance_insufficient",
            Some(param),
            format!(
                "Insufficient funds in the balance of {account}: {have} {currency} available, {amount} needed."
            ),
        ));
    }
    Ok(())
}

/// One ledger entry as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    /// `lm_…`: the movement it belongs to.
    pub movement_id: String,
    /// The movement's type.
    pub kind: String,
    /// The movement's source object.
    pub source: String,
    /// The movement's transfer group.
    pub transfer_group: Option<String>,
    /// Ledger account.
    pub account: String,
    /// Minor units.
    pub amount_minor: i64,
    /// Currency.
    pub currency: String,
    /// Unix seconds.
    pub created: i64,
}

/// Entries of the movements whose transfer group or source is `key`, oldest first.
pub fn ledger_entries_for(conn: &Connection, key: &str) -> Result<Vec<LedgerEntry>, ApiError> {
    let rows = conn
        .prepare_cached(
            "SELECT m.id, m.type, m.source, m.transfer_group, e.account, e.amount, e.currency, e.created
             FROM psp_ledger_entries e JOIN psp_ledger_movements m ON m.id = e.movement_id
             WHERE m.id IN (SELECT id FROM psp_ledger_movements WHERE source = ?1
                            UNION SELECT id FROM psp_ledger_movements WHERE transfer_group = ?1)
             ORDER BY e.seq",
        )?
        .query_map([key], |r| {
            Ok(LedgerEntry {
                movement_id: r.get(0)?,
                kind: r.get(1)?,
                source: r.get(2)?,
                transfer_group: r.get(3)?,
                account: r.get(4)?,
                amount_minor: r.get(5)?,
                currency: r.get(6)?,
                created: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Movements whose entries do not sum to zero per currency (the ledger's invariant: always
/// empty), as `(movement, currency, sum)`.
pub fn unbalanced(conn: &Connection) -> Result<Vec<(String, String, i64)>, ApiError> {
    let rows = conn
        .prepare(
            "SELECT movement_id, currency, SUM(amount) FROM psp_ledger_entries
             GROUP BY movement_id, currency HAVING SUM(amount) <> 0",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The PSP's standard fee on a European card charge: 1.5 % + 0.25 (Stripe's published EEA
/// price), rounded half away from zero to the minor unit.
pub fn card_fee(amount_minor: i64) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    use rust_decimal::{Decimal, RoundingStrategy};
    let pct = Decimal::new(amount_minor, 0) * Decimal::new(15, 3);
    let fee =
        pct.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) + Decimal::new(25, 0);
    fee.to_i64().unwrap_or(i64::MAX).min(amount_minor)
}

// ------------------------------------------------------------------- Connect: whose balance

/// The Stripe account a request acts for: the `Stripe-Account` header's connected account, else
/// the platform. An unknown or malformed account is refused.
pub(super) fn acting_account(conn: &Connection, headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(value) = headers.get("stripe-account") else {
        return Ok(PLATFORM_ACCOUNT.to_owned());
    };
    let id = value.to_str().unwrap_or_default().trim().to_owned();
    if id == PLATFORM_ACCOUNT {
        return Ok(id);
    }
    if !id.starts_with("acct_") || !valid_account_name(&id) || !account_exists(conn, &id)? {
        let mut e = ApiError::unauthorized(
            "account_invalid",
            "The provided key does not have access to the account in the Stripe-Account header, or that account does not exist.",
        );
        e.status = axum::http::StatusCode::FORBIDDEN;
        e.detail.param = Some("Stripe-Account".into());
        return Err(e);
    }
    Ok(id)
}

/// Whether a Stripe account exists (the platform, or a connected account).
pub(super) fn account_exists(conn: &Connection, id: &str) -> Result<bool, ApiError> {
    if id == PLATFORM_ACCOUNT {
        return Ok(true);
    }
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM psp_accounts WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?)
}

// ------------------------------------------------------------------- Stripe JSON

/// A balance transaction of `account` as Stripe renders it.
pub fn balance_transaction_json(
    conn: &Connection,
    account: &str,
    id: &str,
) -> Result<Value, ApiError> {
    conn.prepare_cached("SELECT id, amount, fee, net, currency, type, reporting_category, source, description, status,
                available_on, created, balance_type
         FROM psp_balance_transactions WHERE id = ?1 AND account = ?2")?.query_row(
        params![id, account],
        |r| {
            let fee: i64 = r.get(2)?;
            let currency: String = r.get(4)?;
            let fee_details = if fee == 0 {
                json!([])
            } else {
                json!([{ "amount": fee, "currency": currency, "type": "stripe_fee",
                         "description": "Stripe processing fees", "application": Value::Null }])
            };
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "balance_transaction",
                "amount": r.get::<_, i64>(1)?,
                "available_on": r.get::<_, i64>(10)?,
                "balance_type": r.get::<_, String>(12)?,
                "created": r.get::<_, i64>(11)?,
                "currency": currency,
                "description": r.get::<_, Option<String>>(8)?,
                "exchange_rate": Value::Null,
                "fee": fee,
                "fee_details": fee_details,
                "net": r.get::<_, i64>(3)?,
                "reporting_category": r.get::<_, String>(6)?,
                "source": r.get::<_, String>(7)?,
                "status": r.get::<_, String>(9)?,
                "type": r.get::<_, String>(5)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("balance_transaction", "id", id))
}

/// `GET /v1/balance` for one Stripe account: available per currency (payments), Issuing's
/// available, `pending` (always zero: charges are available at once in the mock).
pub fn balance_json(conn: &Connection, account: &str) -> Result<Value, ApiError> {
    let sums = |ledger: &str| -> Result<Vec<(String, i64)>, ApiError> {
        Ok(conn
            .prepare_cached(
                "SELECT currency, SUM(amount) FROM psp_ledger_entries WHERE account = ?1
                 GROUP BY currency ORDER BY currency",
            )?
            .query_map([ledger], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    };
    let mut payments = sums(account)?;
    if payments.is_empty() {
        payments.push(("eur".into(), 0));
    }
    let available: Vec<Value> = payments
        .iter()
        .map(|(c, a)| json!({ "amount": a, "currency": c, "source_types": { "card": a } }))
        .collect();
    let pending: Vec<Value> = payments
        .iter()
        .map(|(c, _)| json!({ "amount": 0, "currency": c, "source_types": { "card": 0 } }))
        .collect();
    let issuing: Vec<Value> = sums(&issuing_account(account))?
        .iter()
        .map(|(c, a)| json!({ "amount": a, "currency": c }))
        .collect();
    Ok(json!({
        "object": "balance",
        "available": available,
        "pending": pending,
        "issuing": { "available": issuing },
        "livemode": false,
    }))
}

// ------------------------------------------------------------------- top-ups

/// Where a top-up goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalanceType {
    /// The payments balance (`acct_…`).
    Payments,
    /// The Issuing balance (`acct_…:issuing`).
    Issuing,
}

impl BalanceType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Payments => "payments",
            Self::Issuing => "issuing",
        }
    }
}

/// A top-up as Stripe renders it.
fn topup_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, amount, currency, destination_balance, description, metadata, balance_transaction, created
         FROM psp_topups WHERE id = ?1",
        [id],
        |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "topup",
                "amount": r.get::<_, i64>(1)?,
                "currency": r.get::<_, String>(2)?,
                "destination_balance": r.get::<_, String>(3)?,
                "description": r.get::<_, Option<String>>(4)?,
                "metadata": parse_json(&r.get::<_, String>(5)?),
                "balance_transaction": r.get::<_, String>(6)?,
                "created": r.get::<_, i64>(7)?,
                "expected_availability_date": r.get::<_, i64>(7)?,
                "failure_code": Value::Null,
                "failure_message": Value::Null,
                "livemode": false,
                "source": Value::Null,
                "statement_descriptor": Value::Null,
                "status": "succeeded",
                "transfer_group": Value::Null,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("topup", "id", id))
}

/// Brings `amount` from `external:bank` into a Stripe account's payments or Issuing balance (a
/// top-up that succeeds at once, as in Stripe's test mode). Returns the `tu_…` object.
pub fn fund_account(
    tx: &Connection,
    ctx: &Ctx,
    account: &str,
    amount: i64,
    currency: &str,
    destination: BalanceType,
) -> Result<Value, ApiError> {
    create_topup(
        tx,
        ctx,
        NewTopup {
            account,
            amount,
            currency,
            destination,
            description: None,
            metadata: serde_json::Map::new(),
        },
    )
}

/// A top-up to make.
#[derive(Debug, Clone)]
pub struct NewTopup<'a> {
    /// The Stripe account funded.
    pub account: &'a str,
    /// Minor units, 1 to [`MAX_AMOUNT`].
    pub amount: i64,
    /// `eur`.
    pub currency: &'a str,
    /// Which of its balances.
    pub destination: BalanceType,
    /// Free text.
    pub description: Option<&'a str>,
    /// Metadata.
    pub metadata: serde_json::Map<String, Value>,
}

/// Makes a top-up (see [`fund_account`]).
pub fn create_topup(tx: &Connection, ctx: &Ctx, t: NewTopup<'_>) -> Result<Value, ApiError> {
    let NewTopup {
        account,
        amount,
        currency,
        destination,
        description,
        metadata,
    } = t;
    check_amount(amount, "amount")?;
    if !account_exists(tx, account)? {
        return Err(missing("account", "account", account));
    }
    let ledger = match destination {
        BalanceType::Payments => account.to_owned(),
        BalanceType::Issuing => issuing_account(account),
    };
    let id = random::id("tu");
    let txns = post(
        tx,
        ctx,
        &Movement {
            kind: "topup",
            source: &id,
            description,
            entries: &[
                Entry::new("external:bank", -amount, currency),
                Entry::new(ledger, amount, currency),
            ],
            fee: None,
            transfer_group: None,
        },
    )?;
    let txn = txns
        .first()
        .ok_or_else(|| ApiError::internal("top-up without balance transaction"))?;
    tx.execute(
        "INSERT INTO psp_topups (id, account, amount, currency, destination_balance, description, metadata,
                                 balance_transaction, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            account,
            amount,
            currency,
            destination.as_str(),
            description,
            Value::Object(metadata).to_string(),
            txn,
            ctx.now
        ],
    )?;
    let doc = topup_json(tx, &id)?;
    emit(tx, ctx, "topup.created", &doc, None)?;
    emit(tx, ctx, "topup.succeeded", &doc, None)?;
    emit(
        tx,
        ctx,
        "balance.available",
        &balance_json(tx, account)?,
        None,
    )?;
    Ok(doc)
}

/// Refuses (400 naming `param`) an amount that is not 1 to [`MAX_AMOUNT`] minor units.
pub fn check_amount(amount: i64, param: &str) -> Result<(), ApiError> {
    if amount <= 0 {
        return Err(refuse(
            "parameter_invalid_integer",
            Some(param),
            format!("This value must be greater than or equal to 1 ({param})."),
        ));
    }
    if amount > MAX_AMOUNT {
        return Err(refuse(
            "amount_too_large",
            Some(param),
            format!("Amount must be no more than {MAX_AMOUNT} (in the currency's minor unit)."),
        ));
    }
    Ok(())
}

/// Reads `currency`: eur only, as the platform's accounts are French.
pub(super) fn read_currency(f: &mut super::form::Fields, param: &str) -> Result<String, ApiError> {
    let currency = f.required(param)?.to_ascii_lowercase();
    if currency != "eur" {
        return Err(invalid(
            param,
            format!("Invalid currency: {currency}. This PSP's accounts hold eur only."),
        ));
    }
    Ok(currency)
}

// ------------------------------------------------------------------- endpoints

/// The balance, balance transaction and top-up endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/balance", get(retrieve_balance))
        .route("/v1/balance_transactions", get(list_transactions))
        .route("/v1/balance_transactions/{id}", get(retrieve_transaction))
        .route("/v1/topups", post_route(post_topup).get(list_topups))
        .route("/v1/topups/{id}", get(retrieve_topup))
}

async fn retrieve_balance(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    query_fields(&uri)?.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            balance_json(conn, &account)
        })
        .await?;
    Ok(Json(doc))
}

async fn list_transactions(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let kind = f.str("type")?;
    if let Some(k) = &kind {
        if !KINDS.iter().any(|(t, _)| t == k) {
            return Err(invalid("type", format!("Invalid type: {k}")));
        }
    }
    let source = f.str("source")?;
    let payout = f.str("payout")?;
    let currency = f.str("currency")?.map(|c| c.to_ascii_lowercase());
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            let (ids, more) = model::page(
                conn,
                "psp_balance_transactions",
                "account = ?1 AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR source = ?3)
                 AND (?4 IS NULL OR payout = ?4) AND (?5 IS NULL OR currency = ?5)",
                &[&account, &kind, &source, &payout, &currency],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| balance_transaction_json(conn, &account, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/balance_transactions"))
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve_transaction(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            balance_transaction_json(conn, &account, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn post_topup(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let amount = f
        .int("amount")?
        .ok_or_else(|| invalid("amount", "Missing required param: amount."))?;
    check_amount(amount, "amount").map_err(ApiError::not_executed)?;
    let currency = read_currency(&mut f, "currency")?;
    let destination = match f
        .one_of("destination_balance", &["payments", "issuing"])?
        .as_deref()
    {
        Some("issuing") => BalanceType::Issuing,
        _ => BalanceType::Payments,
    };
    let description = f.str("description")?;
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        return Err(invalid(
            "description",
            "description has at most 500 characters.",
        ));
    }
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let account = acting_account(tx, &headers)?;
            create_topup(
                tx,
                &ctx,
                NewTopup {
                    account: &account,
                    amount,
                    currency: &currency,
                    destination,
                    description: description.as_deref(),
                    metadata,
                },
            )
        })
        .await?;
    Ok(Json(doc))
}

async fn list_topups(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            let (ids, more) =
                model::page(conn, "psp_topups", "account = ?1", &[&account], &paging)?;
            let data = ids
                .iter()
                .map(|id| topup_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/topups"))
        })
        .await?;
    Ok(Json(doc))
}

async fn retrieve_topup(
    State(state): State<AppState>,
    _psp: Psp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| {
            let account = acting_account(conn, &headers)?;
            let owner: Option<String> = conn
                .query_row("SELECT account FROM psp_topups WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()?;
            if owner.as_deref() != Some(account.as_str()) {
                return Err(missing("topup", "id", &id));
            }
            topup_json(conn, &id)
        })
        .await?;
    Ok(Json(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        // The vault's SQL functions, as identities: these tests seal nothing.
        for name in ["vault_seal", "vault_open"] {
            conn.create_scalar_function(
                name,
                2,
                rusqlite::functions::FunctionFlags::SQLITE_UTF8,
                |ctx| ctx.get::<Option<String>>(1),
            )
            .unwrap();
        }
        for m in super::super::MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO psp_accounts (id, type, country, business_profile, metadata, created)
                 VALUES ('acct_insurer', 'custom', 'FR', '{}', '{}', 0);",
        )
        .unwrap();
        conn
    }

    fn movement<'a>(entries: &'a [Entry]) -> Movement<'a> {
        Movement {
            kind: "transfer",
            source: "tr_1",
            description: None,
            entries,
            fee: None,
            transfer_group: Some("visit_1"),
        }
    }

    #[test]
    fn an_unbalanced_movement_is_refused_and_writes_nothing() {
        let conn = db();
        let ctx = Ctx::at(1_000);
        let entries = [
            Entry::new(PLATFORM_ACCOUNT, -1000, "eur"),
            Entry::new("acct_insurer", 999, "eur"),
        ];
        let e = post(&conn, &ctx, &movement(&entries)).unwrap_err();
        assert_eq!(e.status, 500);
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM psp_ledger_entries", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
        let movements: i64 = conn
            .query_row("SELECT COUNT(*) FROM psp_ledger_movements", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(movements, 0);
    }

    #[test]
    fn zero_sum_in_each_currency_not_overall() {
        // +5 eur and −5 usd sum to zero as numbers, but money never changes currency here.
        let entries = [
            Entry::new("acct_insurer", 5, "eur"),
            Entry::new("external:bank", -5, "usd"),
        ];
        assert!(check(&movement(&entries)).is_err());
    }

    #[test]
    fn bad_names_amounts_and_sizes_are_refused() {
        let cases: Vec<Vec<Entry>> = vec![
            vec![
                Entry::new("bank", -1, "eur"),
                Entry::new("acct_x", 1, "eur"),
            ],
            vec![
                Entry::new("external:Bank", -1, "eur"),
                Entry::new("acct_x", 1, "eur"),
            ],
            vec![
                Entry::new("acct_x:", -1, "eur"),
                Entry::new("acct_y", 1, "eur"),
            ],
            vec![
                Entry::new("acct_x", 0, "eur"),
                Entry::new("acct_y", 0, "eur"),
            ],
            vec![
                Entry::new("acct_x", -1, "EUR"),
                Entry::new("acct_y", 1, "EUR"),
            ],
            vec![
                Entry::new("acct_x", -(MAX_AMOUNT + 1), "eur"),
                Entry::new("acct_y", MAX_AMOUNT + 1, "eur"),
            ],
            vec![Entry::new("acct_x", 0, "eur")],
            (0..=MAX_ENTRIES)
                .map(|i| Entry::new("acct_x", if i % 2 == 0 { 1 } else { -1 }, "eur"))
                .collect(),
        ];
        for entries in &cases {
            assert!(check(&movement(entries)).is_err(), "{entries:?}");
        }
        let mut unknown = movement(&cases[0]);
        unknown.kind = "gift";
        assert!(check(&unknown).is_err());
    }

    #[test]
    fn a_transfer_moves_money_and_writes_a_transaction_per_balance() {
        let conn = db();
        let ctx = Ctx::at(1_000);
        let entries = [
            Entry::new(PLATFORM_ACCOUNT, -2500, "eur"),
            Entry::new("acct_insurer", 2500, "eur"),
        ];
        let ids = post(&conn, &ctx, &movement(&entries)).unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(balance(&conn, PLATFORM_ACCOUNT, "eur").unwrap(), -2500);
        assert_eq!(balance(&conn, "acct_insurer", "eur").unwrap(), 2500);
        let platform = balance_transaction_json(&conn, PLATFORM_ACCOUNT, &ids[0]).unwrap();
        assert_eq!(platform["amount"], -2500);
        assert_eq!(platform["net"], -2500);
        assert_eq!(platform["type"], "transfer");
        assert_eq!(platform["source"], "tr_1");
        // Each account sees only its own transactions.
        assert!(balance_transaction_json(&conn, "acct_insurer", &ids[0]).is_err());
        let by_group = ledger_entries_for(&conn, "visit_1").unwrap();
        assert_eq!(by_group.len(), 2);
        assert_eq!(by_group.iter().map(|e| e.amount_minor).sum::<i64>(), 0);
        assert_eq!(ledger_entries_for(&conn, "tr_1").unwrap(), by_group);
        assert!(unbalanced(&conn).unwrap().is_empty());
    }

    #[test]
    fn a_fee_shows_gross_fee_and_net_and_still_sums_to_zero() {
        let conn = db();
        let entries = [
            Entry::new("external:card_network", -10_000, "eur"),
            Entry::new(PLATFORM_ACCOUNT, 10_000, "eur"),
        ];
        let m = Movement {
            kind: "charge",
            source: "ch_1",
            description: Some("visit"),
            entries: &entries,
            fee: Some(Fee {
                account: PLATFORM_ACCOUNT.into(),
                amount_minor: card_fee(10_000),
            }),
            transfer_group: None,
        };
        let ids = post(&conn, &Ctx::at(5), &m).unwrap();
        let txn = balance_transaction_json(&conn, PLATFORM_ACCOUNT, &ids[0]).unwrap();
        assert_eq!(txn["amount"], 10_000);
        assert_eq!(txn["fee"], 175);
        assert_eq!(txn["net"], 9_825);
        assert_eq!(txn["reporting_category"], "charge");
        assert_eq!(balance(&conn, PLATFORM_ACCOUNT, "eur").unwrap(), 9_825);
        assert_eq!(balance(&conn, "external:psp_fees", "eur").unwrap(), 175);
        assert!(unbalanced(&conn).unwrap().is_empty());
    }

    #[test]
    fn entries_cannot_be_edited_or_deleted() {
        let conn = db();
        let entries = [
            Entry::new("external:bank", -100, "eur"),
            Entry::new(issuing_account(PLATFORM_ACCOUNT), 100, "eur"),
        ];
        post_movement(&conn, &Ctx::at(1), &entries, "topup", "tu_1", None).unwrap();
        assert!(conn
            .execute("UPDATE psp_ledger_entries SET amount = 1", [])
            .is_err());
        assert!(conn.execute("DELETE FROM psp_ledger_entries", []).is_err());
    }

    #[test]
    fn internal_sub_accounts_hold_money_without_a_balance_transaction() {
        let conn = db();
        let issuing = issuing_account(PLATFORM_ACCOUNT);
        let held = format!("{PLATFORM_ACCOUNT}:issuing_held");
        let entries = [
            Entry::new(&issuing, -300, "eur"),
            Entry::new(&held, 300, "eur"),
        ];
        let ids = post_movement(
            &conn,
            &Ctx::at(1),
            &entries,
            "issuing_authorization_hold",
            "iauth_1",
            None,
        )
        .unwrap();
        assert_eq!(ids.len(), 1);
        let txn = balance_transaction_json(&conn, PLATFORM_ACCOUNT, &ids[0]).unwrap();
        assert_eq!(txn["balance_type"], "issuing");
        assert_eq!(txn["amount"], -300);
        assert_eq!(balance_of(&held), None);
        assert_eq!(balance_of("external:bank"), None);
        assert_eq!(balance_of(&issuing), Some((PLATFORM_ACCOUNT, "issuing")));
    }

    #[test]
    fn funds_are_checked_before_spending() {
        let conn = db();
        let ctx = Ctx::at(1);
        fund_account(
            &conn,
            &ctx,
            "acct_insurer",
            500,
            "eur",
            BalanceType::Payments,
        )
        .unwrap();
        assert!(ensure_funds(&conn, "acct_insurer", "eur", 500, "amount").is_ok());
        let e = ensure_funds(&conn, "acct_insurer", "eur", 501, "amount").unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.detail.code, "balance_insufficient");
        assert!(
            fund_account(&conn, &ctx, "acct_nobody", 1, "eur", BalanceType::Payments,).is_err()
        );
        assert!(check_amount(0, "amount").is_err());
        assert!(check_amount(MAX_AMOUNT + 1, "amount").is_err());
    }

    #[test]
    fn card_fee_is_one_and_a_half_percent_and_25_cents() {
        assert_eq!(card_fee(10_000), 175);
        assert_eq!(card_fee(2_500), 63); // 37.5 rounds up
        assert_eq!(card_fee(10), 10); // never more than the charge
    }
}
