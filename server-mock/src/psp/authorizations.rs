//! Issuing authorizations (`iauth_…`): a tap at a terminal (`POST
//! /v1/test_helpers/issuing/authorizations`), decided as Stripe Issuing decides it: the card's
//! status, expiry, spending controls and the Issuing balance first ([`super::authorization_rules`];
//! a decline there never reaches the hook), then the real-time decision: an
//! `issuing_authorization.request` event POSTed, signed, to every enabled endpoint subscribed to
//! it, whose `{"approved", "amount"?, "metadata"?}` answer must come within
//! `Limits::authorization_decision_ms` (2 s); no answer applies the configured default
//! (`webhook_timeout`), a bad one too (`webhook_error`). An approval holds the amount on the
//! platform's Issuing balance; capture turns it into an Issuing transaction (`ipi_…`, see
//! `issuing_transactions`), reverse and expire release it.
//!
//! The decision hook may be this very server (the platform's receiver), so the create never
//! holds the database connection while it waits (ADR 0006): it commits the pending
//! authorization with the caller's idempotency key on the row, asks with no connection held,
//! then records the decision and the stored answer in a second transaction. A retry with the
//! same key finds that row: it waits while the first attempt's lease runs, answers the decision
//! once made, and asks again if the first attempt died while pending.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Map, Value};
use tierspay_core::auth::random;
use tierspay_wallet::controls;

use super::authorization_rules::{self as rules, CardFacts, Tap};
use super::balance::{self, Entry, PLATFORM_ACCOUNT};
use super::cards::{card_json, card_row, CardRow};
use super::events::{
    emit, emit_rendered, emit_update, event_of, previous_attributes, record_rendered,
};
use super::form::{invalid, Fields};
use super::issuing_transactions::{self, NewTransaction};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::tokens::token_row;
use super::webhook_delivery::{now_ms, post_signed, SendError};
use super::webhook_endpoints::{endpoints_for, read_bool, Endpoint};
use super::wire::{body_fields, query_fields, rename_param, Psp};
use crate::http::idempotency::Keyed;
use crate::http::ApiError;
use crate::state::AppState;

/// The tables (a PSP migration): authorizations, with the idempotency key of the request that
/// created them (unique per caller), and Issuing transactions.
pub const MIGRATION: &str = r#"
    CREATE TABLE psp_authorizations (
        seq                    INTEGER PRIMARY KEY,
        id                     TEXT NOT NULL UNIQUE,
        card_id                TEXT NOT NULL REFERENCES psp_cards(id),
        cardholder_id          TEXT NOT NULL,
        token_id               TEXT,
        amount                 INTEGER NOT NULL,
        held                   INTEGER NOT NULL DEFAULT 0,
        currency               TEXT NOT NULL,
        approved               INTEGER NOT NULL,
        status                 TEXT NOT NULL CHECK (status IN ('pending', 'closed', 'reversed', 'expired')),
        deciding               INTEGER NOT NULL DEFAULT 0,
        decision_attempt       TEXT,
        decision_deadline_ms   INTEGER,
        authorization_method   TEXT NOT NULL,
        wallet                 TEXT,
        category               TEXT NOT NULL,
        merchant_data          TEXT NOT NULL,
        pending_request        TEXT,
        request_history        TEXT NOT NULL DEFAULT '[]',
        is_amount_controllable INTEGER NOT NULL DEFAULT 0,
        metadata               TEXT NOT NULL DEFAULT '{}',
        balance_transactions   TEXT NOT NULL DEFAULT '[]',
        idem_scope             TEXT,
        idem_key               TEXT,
        request_hash           TEXT,
        created                INTEGER NOT NULL,
        UNIQUE (idem_scope, idem_key)
    );
    CREATE INDEX psp_authorizations_card ON psp_authorizations (card_id, created);
    CREATE TABLE psp_issuing_transactions (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        authorization_id    TEXT REFERENCES psp_authorizations(id),
        card_id             TEXT NOT NULL,
        cardholder_id       TEXT NOT NULL,
        token_id            TEXT,
        type                TEXT NOT NULL CHECK (type IN ('capture', 'refund')),
        amount              INTEGER NOT NULL,
        currency            TEXT NOT NULL,
        merchant_data       TEXT NOT NULL,
        wallet              TEXT,
        balance_transaction TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        created             INTEGER NOT NULL
    );
    CREATE INDEX psp_issuing_transactions_authorization ON psp_issuing_transactions (authorization_id);
    CREATE INDEX psp_issuing_transactions_card ON psp_issuing_transactions (card_id);
"#;

/// Running balances of the ledger (a later PSP migration): one row per account and currency,
/// kept by a trigger in the transaction of every entry (entries are append-only), so a tap's
/// funds check reads one row instead of summing every entry the account ever had (that sum was
/// the mock's hottest path under `make bench-auth`).
pub const BALANCES_MIGRATION: &str = r#"
    CREATE TABLE psp_ledger_balances (
        account  TEXT NOT NULL,
        currency TEXT NOT NULL,
        amount   INTEGER NOT NULL,
        PRIMARY KEY (account, currency)
    ) WITHOUT ROWID;
    INSERT INTO psp_ledger_balances (account, currency, amount)
        SELECT account, currency, SUM(amount) FROM psp_ledger_entries GROUP BY account, currency;
    CREATE TRIGGER psp_ledger_balances_keep AFTER INSERT ON psp_ledger_entries BEGIN
        INSERT INTO psp_ledger_balances (account, currency, amount)
            VALUES (NEW.account, NEW.currency, NEW.amount)
            ON CONFLICT (account, currency) DO UPDATE SET amount = amount + NEW.amount;
    END;
"#;

/// A ledger account's balance from the running balances (equal to `balance::balance`).
pub fn available(conn: &Connection, account: &str, currency: &str) -> Result<i64, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT amount FROM psp_ledger_balances WHERE account = ?1 AND currency = ?2",
        )?
        .query_row(params![account, currency], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Largest amount of one authorization, minor units (Stripe's bound for eur: 999,999.99).
pub const MAX_AMOUNT: i64 = balance::MAX_AMOUNT;
/// How long past its deadline a first attempt keeps its claim on the decision before a retry
/// with the same key asks again.
const LEASE_GRACE_MS: i64 = 1_000;
/// How often a retry looks at an authorization another attempt is deciding.
const WAIT_STEP: Duration = Duration::from_millis(10);
const MAX_TEXT: usize = 100;
const MAX_ID: usize = 64;
const METHODS: &[&str] = &["chip", "contactless", "keyed_in", "online", "swipe"];

/// The platform's ledger accounts an authorization moves money between.
fn issuing() -> String {
    balance::issuing_account(PLATFORM_ACCOUNT)
}
fn issuing_held() -> String {
    format!("{PLATFORM_ACCOUNT}:issuing_held")
}
/// The card networks, to which captured spend goes.
pub const NETWORK: &str = "external:card_network";

/// Every money movement of an authorization goes through here: `amount` from one ledger account
/// to another, as a balance transaction of `kind`. Returns the balance transaction ids.
fn ledger(
    tx: &Connection,
    ctx: &Ctx,
    kind: &str,
    source: &str,
    (from, to): (&str, &str),
    amount: i64,
    currency: &str,
) -> Result<Vec<String>, ApiError> {
    if amount == 0 {
        return Ok(Vec::new());
    }
    balance::post_movement(
        tx,
        ctx,
        &[
            Entry::new(from, -amount, currency),
            Entry::new(to, amount, currency),
        ],
        kind,
        source,
        None,
    )
}

// ------------------------------------------------------------------- rows and Stripe JSON

/// An authorization's stored facts.
#[derive(Debug, Clone)]
pub struct AuthRow {
    /// `iauth_…`
    pub id: String,
    /// `ic_…`
    pub card_id: String,
    /// `ich_…`
    pub cardholder_id: String,
    /// `intok_…` when the tap came through a wallet token.
    pub token_id: Option<String>,
    /// Authorized amount (0 while deciding and when declined).
    pub amount: i64,
    /// What is still held on the Issuing balance.
    pub held: i64,
    /// `eur`.
    pub currency: String,
    /// Whether it was approved.
    pub approved: bool,
    /// pending | closed | reversed | expired.
    pub status: String,
    /// Whether the real-time decision is still awaited.
    pub deciding: bool,
    /// The attempt that asks the hook now.
    pub attempt: Option<String>,
    /// When that attempt's claim ends (real time, ms).
    pub deadline_ms: Option<i64>,
    /// How the card was presented.
    pub authorization_method: String,
    /// apple_pay | google_pay.
    pub wallet: Option<String>,
    /// The merchant category (Stripe name).
    pub category: String,
    /// Stripe's `merchant_data`.
    pub merchant_data: Value,
    /// Non-null while deciding.
    pub pending_request: Option<Value>,
    /// Every decision on it.
    pub request_history: Vec<Value>,
    /// Whether the decision may approve less.
    pub is_amount_controllable: bool,
    /// Metadata (the decision's included).
    pub metadata: Value,
    /// `txn_…` of its holds and releases.
    pub balance_transactions: Vec<String>,
    /// Hash of the creating request (for a retry with the same key).
    pub request_hash: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

const AUTH_COLUMNS: &str = "id, card_id, cardholder_id, token_id, amount, held, currency, approved, status,
    deciding, decision_attempt, decision_deadline_ms, authorization_method, wallet, category, merchant_data,
    pending_request, request_history, is_amount_controllable, metadata, balance_transactions, request_hash, created";

fn auth_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuthRow> {
    let list = |s: String| match parse_json(&s) {
        Value::Array(v) => v,
        _ => Vec::new(),
    };
    Ok(AuthRow {
        id: r.get(0)?,
        card_id: r.get(1)?,
        cardholder_id: r.get(2)?,
        token_id: r.get(3)?,
        amount: r.get(4)?,
        held: r.get(5)?,
        currency: r.get(6)?,
        approved: r.get(7)?,
        status: r.get(8)?,
        deciding: r.get(9)?,
        attempt: r.get(10)?,
        deadline_ms: r.get(11)?,
        authorization_method: r.get(12)?,
        wallet: r.get(13)?,
        category: r.get(14)?,
        merchant_data: parse_json(&r.get::<_, String>(15)?),
        pending_request: r.get::<_, Option<String>>(16)?.map(|s| parse_json(&s)),
        request_history: list(r.get(17)?),
        is_amount_controllable: r.get(18)?,
        metadata: parse_json(&r.get::<_, String>(19)?),
        balance_transactions: list(r.get(20)?)
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        request_hash: r.get(21)?,
        created: r.get(22)?,
    })
}

/// An authorization's row, or 404 naming `param`.
pub fn auth_row(conn: &Connection, id: &str, param: &str) -> Result<AuthRow, ApiError> {
    conn.prepare_cached(&format!(
        "SELECT {AUTH_COLUMNS} FROM psp_authorizations WHERE id = ?1"
    ))?
    .query_row([id], auth_from)
    .optional()?
    .ok_or_else(|| missing("issuing.authorization", param, id))
}

fn auth_by_key(conn: &Connection, k: &Keyed) -> Result<Option<AuthRow>, ApiError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {AUTH_COLUMNS} FROM psp_authorizations WHERE idem_scope = ?1 AND idem_key = ?2"
        ))?
        .query_row(params![k.scope, k.key], auth_from)
        .optional()?)
}

fn save(tx: &Connection, a: &AuthRow) -> Result<(), ApiError> {
    tx.prepare_cached(
        "UPDATE psp_authorizations SET amount = ?2, held = ?3, approved = ?4, status = ?5, deciding = ?6,
             decision_attempt = ?7, decision_deadline_ms = ?8, pending_request = ?9, request_history = ?10,
             metadata = ?11, balance_transactions = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        a.id,
        a.amount,
        a.held,
        a.approved,
        a.status,
        a.deciding,
        a.attempt,
        a.deadline_ms,
        a.pending_request.as_ref().map(Value::to_string),
        Value::from(a.request_history.clone()).to_string(),
        a.metadata.to_string(),
        Value::from(a.balance_transactions.clone()).to_string(),
    ])?;
    Ok(())
}

/// An authorization as Stripe renders it: the card embedded, balance transactions and
/// transactions as objects.
pub fn auth_json(conn: &Connection, a: &AuthRow) -> Result<Value, ApiError> {
    let card = card_row(conn, &a.card_id, "card")?;
    let bts = a
        .balance_transactions
        .iter()
        .map(|id| balance::balance_transaction_json(conn, PLATFORM_ACCOUNT, id))
        .collect::<Result<Vec<_>, _>>()?;
    let transactions = issuing_transactions::of_authorization(conn, &a.id)?;
    Ok(json!({
        "id": a.id,
        "object": "issuing.authorization",
        "amount": a.amount,
        "amount_details": { "atm_fee": Value::Null, "cashback_amount": Value::Null },
        "approved": a.approved,
        "authorization_method": a.authorization_method,
        "balance_transactions": bts,
        "card": card_json(conn, &card, &[])?,
        "cardholder": a.cardholder_id,
        "created": a.created,
        "currency": a.currency,
        "livemode": false,
        "merchant_amount": a.amount,
        "merchant_currency": a.currency,
        "merchant_data": a.merchant_data,
        "metadata": a.metadata,
        "network_data": Value::Null,
        "pending_request": a.pending_request,
        "request_history": a.request_history,
        "status": a.status,
        "token": a.token_id,
        "transactions": transactions,
        "verification_data": {
            "address_line1_check": "not_provided",
            "address_postal_code_check": "not_provided",
            "cvc_check": "not_provided",
            "expiry_check": "match",
        },
        "wallet": a.wallet,
    }))
}

fn history_entry(
    amount: i64,
    currency: &str,
    approved: bool,
    reason: &str,
    message: Option<&str>,
    now: i64,
) -> Value {
    json!({
        "amount": amount,
        "amount_details": { "atm_fee": Value::Null, "cashback_amount": Value::Null },
        "approved": approved,
        "authorization_code": approved.then(|| random::numeric_code(6)),
        "currency": currency,
        "merchant_amount": amount,
        "merchant_currency": currency,
        "network_risk_score": Value::Null,
        "reason": reason,
        "reason_message": message,
        "requested_at": now,
    })
}

// ------------------------------------------------------------------- the tap

/// What the terminal sends (validated).
#[derive(Debug, Clone)]
pub struct NewTap {
    /// `ic_…` or `intok_…`.
    pub card: String,
    /// Minor units.
    pub amount: i64,
    /// `eur`.
    pub currency: Option<String>,
    /// Stripe category name.
    pub category: String,
    /// Stripe's `merchant_data` (category_code filled in).
    pub merchant_data: Value,
    /// apple_pay | google_pay.
    pub wallet: Option<String>,
    /// chip | contactless | keyed_in | online | swipe.
    pub authorization_method: Option<String>,
    /// Whether a partial approval is possible.
    pub is_amount_controllable: bool,
}

fn text(
    m: &mut Fields,
    key: &str,
    max: usize,
    ok: impl Fn(char) -> bool,
) -> Result<Option<String>, ApiError> {
    let name = m.name(key);
    match m.str(key)? {
        Some(v) if v.chars().count() > max || !v.chars().all(ok) => Err(invalid(
            &name,
            format!("Invalid {name}: at most {max} characters, no control characters."),
        )),
        other => Ok(other),
    }
}

fn read_amount(f: &mut Fields, key: &str) -> Result<Option<i64>, ApiError> {
    let name = f.name(key);
    match f.int(key)? {
        Some(a) if a <= 0 => Err(invalid(&name, format!("{name} must be at least 1."))),
        Some(a) if a > MAX_AMOUNT => Err(invalid(
            &name,
            format!("{name} must be no more than {MAX_AMOUNT} (in the currency's minor unit)."),
        )),
        other => Ok(other),
    }
}

fn read_merchant(fields: Option<Fields>) -> Result<(String, Value), ApiError> {
    let mut m = match fields {
        Some(m) => m,
        None => super::form::parse(b"")?,
    };
    let visible = |c: char| c.is_ascii_graphic();
    let printable = |c: char| !c.is_control();
    let category = match m.str("category")? {
        None => "ac_refrigeration_repair".to_owned(),
        Some(c) if c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()) => c
            .parse::<u16>()
            .ok()
            .and_then(rules::category_of_code)
            .map(str::to_owned)
            .ok_or_else(|| {
                invalid(
                    "merchant_data[category]",
                    format!("Unknown merchant category code: {c}."),
                )
            })?,
        Some(c) if controls::is_category(&c) => c,
        Some(c) => {
            return Err(invalid(
                "merchant_data[category]",
                format!(
                    "Invalid merchant_data[category]: {} is not a Stripe merchant category.",
                    c.chars().take(MAX_TEXT).collect::<String>()
                ),
            ))
        }
    };
    let name = text(&mut m, "name", MAX_TEXT, printable)?;
    let city = text(&mut m, "city", MAX_TEXT, printable)?;
    let network_id = text(&mut m, "network_id", MAX_ID, visible)?;
    let terminal_id = text(&mut m, "terminal_id", MAX_ID, visible)?;
    let postal_code = text(&mut m, "postal_code", 16, |c| {
        c.is_ascii_alphanumeric() || c == ' ' || c == '-'
    })?;
    let state = text(&mut m, "state", 3, |c| c.is_ascii_alphanumeric())?;
    let url = text(&mut m, "url", 2048, visible)?;
    let country = m.str("country")?;
    if let Some(c) = &country {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                "merchant_data[country]",
                "Invalid merchant_data[country]: a two-letter ISO 3166-1 code in capitals (FR).",
            ));
        }
    }
    m.finish()?;
    let code = rules::category_code(&category).map(|c| format!("{c:04}"));
    Ok((
        category.clone(),
        json!({
            "category": category,
            "category_code": code,
            "city": city.or_else(|| Some("Paris".into())),
            "country": country.or_else(|| Some("FR".into())),
            "name": name.or_else(|| Some("Test merchant".into())),
            "network_id": network_id.unwrap_or_else(|| "1234567890".into()),
            "postal_code": postal_code,
            "state": state,
            "terminal_id": terminal_id,
            "url": url,
        }),
    ))
}

fn read_tap(f: &mut Fields) -> Result<NewTap, ApiError> {
    let card = f.required("card")?;
    if card.len() > 128 {
        return Err(invalid("card", "Invalid card: not an id."));
    }
    let amount = read_amount(f, "amount")?
        .ok_or_else(|| invalid("amount", "Missing required param: amount."))?;
    let currency = f.str("currency")?.map(|c| c.to_ascii_lowercase());
    if let Some(c) = &currency {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(invalid(
                "currency",
                "Invalid currency: a three-letter ISO code (eur).",
            ));
        }
    }
    let (category, merchant_data) = read_merchant(f.map("merchant_data")?)?;
    let wallet = f.one_of("wallet", &["apple_pay", "google_pay"])?;
    let authorization_method = f.one_of("authorization_method", METHODS)?;
    let is_amount_controllable = read_bool(f, "is_amount_controllable")?.unwrap_or(false);
    Ok(NewTap {
        card,
        amount,
        currency,
        category,
        merchant_data,
        wallet,
        authorization_method,
        is_amount_controllable,
    })
}

// ------------------------------------------------------------------- the decision

/// What one round of the create found.
enum Begin {
    /// The answer (a replay, a decline before the hook, an authorization already decided).
    Answer(Response),
    /// This attempt asks the hook.
    Ask(Ask),
    /// Another attempt is asking; look again shortly.
    Wait,
}

struct Ask {
    id: String,
    attempt: String,
    requested: i64,
    controllable: bool,
    endpoints: Vec<Endpoint>,
    event: Bytes,
}

/// The hook's verdict.
#[derive(Debug, Clone)]
enum Outcome {
    Answered {
        approved: bool,
        amount: Option<i64>,
        metadata: Map<String, Value>,
        message: Option<String>,
    },
    Timeout,
    Error(String),
}

fn json_response(body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

/// Reads an endpoint's answer: HTTP 200 with `{"approved": bool, "amount"?: int,
/// "metadata"?: {string: string}}` (and, from this mock's platform, `reason_message`).
fn read_answer(status: StatusCode, body: &[u8]) -> Result<Outcome, String> {
    if !status.is_success() {
        return Err(format!("the endpoint answered HTTP {}", status.as_u16()));
    }
    let doc: Value =
        serde_json::from_slice(body).map_err(|_| "the endpoint's answer is not JSON".to_owned())?;
    let approved = doc
        .get("approved")
        .and_then(Value::as_bool)
        .ok_or("the endpoint's answer has no boolean `approved`")?;
    let amount = match doc.get("amount") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or("`amount` is not an integer")?),
    };
    let mut metadata = Map::new();
    match doc.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) if m.len() <= 50 => {
            for (k, v) in m {
                let v = v.as_str().ok_or("metadata values are strings")?;
                if k.chars().count() > 40 || v.chars().count() > 500 {
                    return Err("metadata keys have at most 40 characters, values 500".into());
                }
                metadata.insert(k.clone(), Value::String(v.to_owned()));
            }
        }
        Some(_) => return Err("`metadata` is an object of at most 50 strings".into()),
    }
    let message = match doc.get("reason_message") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.chars().take(500).collect()),
        Some(_) => return Err("`reason_message` is a string".into()),
    };
    Ok(Outcome::Answered {
        approved,
        amount,
        metadata,
        message,
    })
}

/// Asks every endpoint at once, with no connection held; the first valid answer decides.
async fn decide(state: &AppState, ask: &Ask) -> Outcome {
    if ask.endpoints.is_empty() {
        return Outcome::Timeout;
    }
    let deadline = Duration::from_millis(state.limits.authorization_decision_ms);
    let mut asks = tokio::task::JoinSet::new();
    for endpoint in ask.endpoints.clone() {
        let client = state.webhooks.client.clone();
        let body = ask.event.clone();
        asks.spawn(async move {
            match post_signed(&client, &endpoint, body, deadline).await {
                // The reason message names the endpoint at fault.
                Ok(reply) => read_answer(reply.status, &reply.body)
                    .map_err(|e| Some(format!("{}: {e}", endpoint.id))),
                Err(SendError::Timeout) => Err(None),
                Err(SendError::Failed(e)) => Err(Some(format!("{}: {e}", endpoint.id))),
            }
        });
    }
    let (mut timed_out, mut error) = (false, None);
    while let Some(joined) = asks.join_next().await {
        match joined {
            Ok(Ok(outcome)) => {
                asks.abort_all();
                return outcome;
            }
            Ok(Err(None)) => timed_out = true,
            Ok(Err(Some(e))) => error = Some(e),
            Err(_) => error = Some("the request task failed".into()),
        }
    }
    match (timed_out, error) {
        (true, _) | (false, None) => Outcome::Timeout,
        (false, Some(e)) => Outcome::Error(e),
    }
}

/// A wallet token's id, status and provider.
type TokenFacts = (String, String, String);

fn card_and_token(tx: &Connection, card: &str) -> Result<(CardRow, Option<TokenFacts>), ApiError> {
    if card.starts_with("intok_") {
        let t = token_row(tx, card).map_err(|e| rename_param(e, "card"))?;
        let row = card_row(tx, &t.card_id, "card")?;
        return Ok((row, Some((t.id, t.status, t.wallet_provider))));
    }
    Ok((card_row(tx, card, "card")?, None))
}

/// What the card already spent in each of its limits' current intervals.
fn spent(tx: &Connection, card: &CardRow, now: i64) -> Result<Vec<i64>, ApiError> {
    let mut out = Vec::with_capacity(card.spending_controls.spending_limits.len());
    for limit in &card.spending_controls.spending_limits {
        let Some(since) = rules::interval_start(&limit.interval, now) else {
            out.push(0);
            continue;
        };
        // Summed per category and filtered here, not with json_each in SQL: the SQLite both
        // ships and tests with is built without its JSON functions (.cargo/config.toml).
        let per_category = tx
            .prepare_cached(
                "SELECT category, SUM(amount) FROM psp_authorizations
                 WHERE card_id = ?1 AND approved = 1 AND status IN ('pending', 'closed') AND created >= ?2
                 GROUP BY category",
            )?
            .query_map(params![card.id, since], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<(String, i64)>, _>>()?;
        let sum = sum_in(limit.categories.as_deref(), &per_category);
        out.push(sum);
    }
    Ok(out)
}

/// The total of the categories a limit covers (all of them when it names none).
fn sum_in(categories: Option<&[String]>, per_category: &[(String, i64)]) -> i64 {
    per_category
        .iter()
        .filter(|(c, _)| categories.is_none_or(|listed| listed.contains(c)))
        .fold(0i64, |sum, (_, amount)| sum.saturating_add(*amount))
}

fn year_month(now: i64) -> Result<(i32, u8), ApiError> {
    let d = time::OffsetDateTime::from_unix_timestamp(now)
        .map_err(|_| ApiError::internal("clock out of range"))?;
    Ok((d.year(), u8::from(d.month())))
}

/// Asks again on an authorization whose deciding attempt is gone: a new attempt and lease, a
/// new request event.
fn claim(tx: &Connection, ctx: &Ctx, state: &AppState, mut a: AuthRow) -> Result<Ask, ApiError> {
    a.attempt = Some(random::id("att"));
    a.deadline_ms = Some(lease_end(state));
    save(tx, &a)?;
    ask_for(tx, ctx, &a)
}

/// When a claim made now ends (wall clock, ms).
fn lease_end(state: &AppState) -> i64 {
    now_ms() + state.limits.authorization_decision_ms as i64 + LEASE_GRACE_MS
}

/// The request event for the attempt that claimed `a`, and whom to ask.
fn ask_for(tx: &Connection, ctx: &Ctx, a: &AuthRow) -> Result<Ask, ApiError> {
    let attempt = a.attempt.clone().unwrap_or_default();
    let requested = a
        .pending_request
        .as_ref()
        .and_then(|p| p["amount"].as_i64())
        .unwrap_or(0);
    // The event's object is stored as text and sent inside the event: rendered from the value
    // in hand, not read back and parsed.
    let kind = "issuing_authorization.request";
    let doc = auth_json(tx, a)?;
    let event_id = record_rendered(tx, ctx, kind, &doc.to_string(), None)?;
    let event = event_of(ctx, &event_id, kind, doc, None).to_string();
    Ok(Ask {
        id: a.id.clone(),
        attempt,
        requested,
        controllable: a.is_amount_controllable,
        endpoints: endpoints_for(tx, kind)?,
        event: Bytes::from(event),
    })
}

/// The first transaction of a round: a replay, a decision already made, a decline before the
/// hook, or a pending authorization committed for this attempt to decide.
fn begin(
    tx: &Connection,
    ctx: &Ctx,
    state: &AppState,
    tap: &NewTap,
    keyed: Option<&Keyed>,
) -> Result<Begin, ApiError> {
    if let Some(k) = keyed {
        if let Some(answer) = k.stored(tx, &state.vault)? {
            return Ok(Begin::Answer(answer));
        }
        if let Some(a) = auth_by_key(tx, k)? {
            if a.request_hash.as_deref() != Some(k.hash.as_str()) {
                return Err(ApiError::idempotency(
                    "This Idempotency-Key was used with other parameters; use a new key for a new request.",
                ));
            }
            if !a.deciding {
                let body = auth_json(tx, &a)?.to_string();
                k.store(tx, &state.vault, 200, body.as_bytes())?;
                return Ok(Begin::Answer(json_response(body)));
            }
            if a.deadline_ms.is_some_and(|d| d > now_ms()) {
                return Ok(Begin::Wait);
            }
            return claim(tx, ctx, state, a).map(Begin::Ask);
        }
    }
    let (card, token) = card_and_token(tx, &tap.card)?;
    let currency = tap
        .currency
        .clone()
        .unwrap_or_else(|| card.currency.clone());
    if currency != card.currency {
        return Err(invalid(
            "currency",
            format!(
                "Invalid currency: this card authorizes in {} only.",
                card.currency
            ),
        ));
    }
    let wallet = match (&token, &tap.wallet) {
        (Some((_, _, provider)), Some(w)) if provider != w => {
            return Err(invalid(
                "wallet",
                format!("Invalid wallet: the token is a {provider} token."),
            ))
        }
        (Some((_, _, provider)), _) => Some(provider.clone()),
        (None, w) => w.clone(),
    };
    let method = tap.authorization_method.clone().unwrap_or_else(|| {
        if wallet.is_some() {
            "contactless"
        } else {
            "online"
        }
        .to_owned()
    });
    let holder_status: String = tx
        .prepare_cached("SELECT status FROM psp_cardholders WHERE id = ?1")?
        .query_row([&card.cardholder_id], |r| r.get(0))?;
    let facts = CardFacts {
        status: &card.status,
        cardholder_status: &holder_status,
        token_status: token.as_ref().map(|(_, s, _)| s.as_str()),
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        controls: &card.spending_controls,
    };
    let t = Tap {
        amount: tap.amount,
        category: &tap.category,
        country: tap.merchant_data["country"].as_str(),
        year_month: year_month(ctx.now)?,
    };
    let spent = spent(tx, &card, ctx.now)?;
    let available = available(tx, &issuing(), &currency)?;
    let verdict = rules::check(&facts, &t, &spent, available);
    let id = random::id("iauth");
    let pending_request = json!({
        "amount": tap.amount,
        "amount_details": { "atm_fee": Value::Null, "cashback_amount": Value::Null },
        "currency": currency,
        "is_amount_controllable": tap.is_amount_controllable,
        "merchant_amount": tap.amount,
        "merchant_currency": currency,
        "network_risk_score": Value::Null,
    });
    let mut a = AuthRow {
        id: id.clone(),
        card_id: card.id.clone(),
        cardholder_id: card.cardholder_id.clone(),
        token_id: token.as_ref().map(|(id, _, _)| id.clone()),
        amount: 0,
        held: 0,
        currency: currency.clone(),
        approved: false,
        status: "pending".into(),
        deciding: true,
        attempt: None,
        deadline_ms: None,
        authorization_method: method,
        wallet,
        category: tap.category.clone(),
        merchant_data: tap.merchant_data.clone(),
        pending_request: Some(pending_request),
        request_history: Vec::new(),
        is_amount_controllable: tap.is_amount_controllable,
        metadata: json!({}),
        balance_transactions: Vec::new(),
        request_hash: keyed.map(|k| k.hash.clone()),
        created: ctx.now,
    };
    if let Err(d) = &verdict {
        a.status = "closed".into();
        a.deciding = false;
        a.pending_request = None;
        a.request_history.push(history_entry(
            tap.amount,
            &currency,
            false,
            d.reason,
            Some(&d.message),
            ctx.now,
        ));
    } else {
        a.attempt = Some(random::id("att"));
        a.deadline_ms = Some(lease_end(state));
    }
    // One write of the whole row: its decline, or its claim for this attempt to decide.
    tx.prepare_cached(
        "INSERT INTO psp_authorizations (id, card_id, cardholder_id, token_id, amount, currency, approved, status,
             authorization_method, wallet, category, merchant_data, is_amount_controllable, idem_scope, idem_key,
             request_hash, created, deciding, decision_attempt, decision_deadline_ms, pending_request,
             request_history)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, 0, ?15, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16, ?17, ?18, ?19, ?20)",
    )?
    .execute(params![
        a.id,
        a.card_id,
        a.cardholder_id,
        a.token_id,
        a.currency,
        a.authorization_method,
        a.wallet,
        a.category,
        a.merchant_data.to_string(),
        a.is_amount_controllable,
        keyed.map(|k| k.scope.clone()),
        keyed.map(|k| k.key.clone()),
        a.request_hash,
        a.created,
        a.status,
        a.deciding,
        a.attempt,
        a.deadline_ms,
        a.pending_request.as_ref().map(Value::to_string),
        Value::from(a.request_history.clone()).to_string(),
    ])?;
    if verdict.is_err() {
        return answer(tx, ctx, state, &a, keyed).map(Begin::Answer);
    }
    ask_for(tx, ctx, &a).map(Begin::Ask)
}

/// The second transaction: records the decision if this attempt still holds the claim (and the
/// stored answer with it). `None` if another attempt took over.
fn finish(
    tx: &Connection,
    ctx: &Ctx,
    state: &AppState,
    ask: &Ask,
    outcome: Outcome,
    keyed: Option<&Keyed>,
) -> Result<Option<Response>, ApiError> {
    let mut a = auth_row(tx, &ask.id, "id")?;
    if !a.deciding || a.attempt.as_deref() != Some(ask.attempt.as_str()) {
        return Ok(None);
    }
    let default = state.limits.authorization_timeout_approves;
    let (mut approved, mut amount, reason, message) = match outcome {
        Outcome::Answered {
            approved,
            amount,
            metadata,
            message,
        } => {
            if let Some(m) = a.metadata.as_object_mut() {
                m.extend(metadata);
            }
            // A partial approval only where the terminal can take one.
            let amount = match amount {
                Some(x) if ask.controllable && (1..=ask.requested).contains(&x) => x,
                _ => ask.requested,
            };
            let reason = if approved {
                "webhook_approved"
            } else {
                "webhook_declined"
            };
            (approved, amount, reason, message)
        }
        Outcome::Timeout => (
            default,
            ask.requested,
            "webhook_timeout",
            Some("No decision arrived in time; the default applied.".to_owned()),
        ),
        Outcome::Error(e) => (default, ask.requested, "webhook_error", Some(e)),
    };
    let mut reason = reason;
    if approved && available(tx, &issuing(), &a.currency)? < amount {
        // Other approvals spent the balance while this one was being decided.
        (approved, reason) = (false, "insufficient_funds");
    }
    if !approved {
        amount = 0;
    }
    a.request_history.push(history_entry(
        ask.requested,
        &a.currency,
        approved,
        reason,
        message.as_deref(),
        ctx.now,
    ));
    a.approved = approved;
    a.amount = amount;
    a.deciding = false;
    a.attempt = None;
    a.deadline_ms = None;
    a.pending_request = None;
    if approved {
        a.held = amount;
        a.balance_transactions.extend(ledger(
            tx,
            ctx,
            "issuing_authorization_hold",
            &a.id,
            (&issuing(), &issuing_held()),
            amount,
            &a.currency,
        )?);
    } else {
        a.status = "closed".into();
    }
    save(tx, &a)?;
    answer(tx, ctx, state, &a, keyed).map(Some)
}

/// A decided authorization's `issuing_authorization.created` event, its stored idempotent
/// answer and the response: one rendering of it serves all three.
fn answer(
    tx: &Connection,
    ctx: &Ctx,
    state: &AppState,
    a: &AuthRow,
    keyed: Option<&Keyed>,
) -> Result<Response, ApiError> {
    let body = auth_json(tx, a)?.to_string();
    emit_rendered(tx, ctx, "issuing_authorization.created", &body, None)?;
    if let Some(k) = keyed {
        k.store(tx, &state.vault, 200, body.as_bytes())?;
    }
    Ok(json_response(body))
}

async fn helper_create(
    State(state): State<AppState>,
    psp: Psp,
    keyed: Option<Extension<Keyed>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let tap = read_tap(&mut f)?;
    f.finish()?;
    let keyed = keyed.map(|Extension(k)| k);
    let ctx = psp.ctx;
    // A waiting retry gives up well after any first attempt's lease would have ended.
    let give_up = Instant::now()
        + Duration::from_millis(state.limits.authorization_decision_ms).saturating_mul(3)
        + Duration::from_millis(LEASE_GRACE_MS as u64 * 3);
    loop {
        let (s, c, t, k) = (state.clone(), ctx.clone(), tap.clone(), keyed.clone());
        let round = state
            .db
            .transaction(move |tx| begin(tx, &c, &s, &t, k.as_ref()))
            .await?;
        match round {
            Begin::Answer(r) => {
                state.webhooks.wake.notify_one();
                return Ok(r);
            }
            Begin::Wait => {
                if Instant::now() > give_up {
                    return Err(ApiError::key_in_use());
                }
                tokio::time::sleep(WAIT_STEP).await;
            }
            Begin::Ask(ask) => {
                let outcome = decide(&state, &ask).await;
                let (s, c, k) = (state.clone(), ctx.clone(), keyed.clone());
                let done = state
                    .db
                    .transaction(move |tx| finish(tx, &c, &s, &ask, outcome, k.as_ref()))
                    .await?;
                if let Some(r) = done {
                    state.webhooks.wake.notify_one();
                    return Ok(r);
                }
            }
        }
    }
}

// ------------------------------------------------------------------- after the decision

fn pending_approved(a: &AuthRow, param: &str) -> Result<(), ApiError> {
    if a.deciding {
        return Err(refuse(
            "authorization_pending_decision",
            Some(param),
            "This authorization is still being decided.",
        ));
    }
    if !a.approved || a.status != "pending" {
        return Err(refuse(
            "authorization_not_pending",
            Some(param),
            format!(
                "This authorization is {} ({}); only a pending approved authorization can change.",
                a.status,
                if a.approved { "approved" } else { "declined" }
            ),
        ));
    }
    Ok(())
}

/// Runs `change` on a pending approved authorization and emits `issuing_authorization.updated`.
async fn change(
    state: &AppState,
    ctx: Ctx,
    id: String,
    change: impl FnOnce(&Connection, &Ctx, &mut AuthRow) -> Result<(), ApiError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .transaction(move |tx| {
            let mut a = auth_row(tx, &id, "id")?;
            let before = auth_json(tx, &a)?;
            change(tx, &ctx, &mut a)?;
            save(tx, &a)?;
            let after = auth_json(tx, &a)?;
            if let Some(prev) = previous_attributes(&before, &after) {
                emit(
                    tx,
                    &ctx,
                    "issuing_authorization.updated",
                    &after,
                    Some(prev),
                )?;
            }
            Ok(after)
        })
        .await?;
    state.webhooks.wake.notify_one();
    Ok(Json(doc))
}

fn release(tx: &Connection, ctx: &Ctx, a: &mut AuthRow, amount: i64) -> Result<(), ApiError> {
    let amount = amount.min(a.held);
    let ids = ledger(
        tx,
        ctx,
        "issuing_authorization_release",
        &a.id,
        (&issuing_held(), &issuing()),
        amount,
        &a.currency,
    )?;
    a.balance_transactions.extend(ids);
    a.held -= amount;
    Ok(())
}

async fn helper_capture(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let capture = read_amount(&mut f, "capture_amount")?;
    let close = read_bool(&mut f, "close_authorization")?.unwrap_or(true);
    // Stripe's purchase_details (receipts, fuel, flights) have no effect on money here.
    f.finish()?;
    change(&state, psp.ctx, id, move |tx, ctx, a| {
        pending_approved(a, "id")?;
        let amount = capture.unwrap_or(a.amount);
        // The hold goes back to the balance, then the captured amount leaves it for the network,
        // as Stripe's balance transactions show a capture.
        let released = if close { a.held } else { amount.min(a.held) };
        release(tx, ctx, a, released)?;
        let ipi = random::id("ipi");
        let bt = ledger(
            tx,
            ctx,
            "issuing_transaction",
            &ipi,
            (&issuing(), NETWORK),
            amount,
            &a.currency,
        )?;
        let doc = issuing_transactions::insert(
            tx,
            ctx,
            NewTransaction {
                id: &ipi,
                authorization: a,
                kind: "capture",
                amount: -amount,
                balance_transaction: bt.first().map(String::as_str),
            },
        )?;
        emit(tx, ctx, "issuing_transaction.created", &doc, None)?;
        if close {
            a.status = "closed".into();
        }
        Ok(())
    })
    .await
}

async fn helper_reverse(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let reverse = read_amount(&mut f, "reverse_amount")?;
    f.finish()?;
    change(&state, psp.ctx, id, move |tx, ctx, a| {
        pending_approved(a, "id")?;
        let amount = reverse.unwrap_or(a.held);
        if amount > a.held {
            return Err(refuse(
                "amount_too_large",
                Some("reverse_amount"),
                format!("reverse_amount is more than the {} still held.", a.held),
            ));
        }
        release(tx, ctx, a, amount)?;
        a.amount -= amount;
        if a.held == 0 {
            a.status = "reversed".into();
        }
        Ok(())
    })
    .await
}

async fn helper_expire(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    body_fields(&headers, &body)?.finish()?;
    change(&state, psp.ctx, id, move |tx, ctx, a| {
        pending_approved(a, "id")?;
        let held = a.held;
        release(tx, ctx, a, held)?;
        a.status = "expired".into();
        Ok(())
    })
    .await
}

async fn helper_increment(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let increment = read_amount(&mut f, "increment_amount")?.ok_or_else(|| {
        invalid(
            "increment_amount",
            "Missing required param: increment_amount.",
        )
    })?;
    let _ = read_bool(&mut f, "is_amount_controllable")?;
    f.finish()?;
    change(&state, psp.ctx, id, move |tx, ctx, a| {
        pending_approved(a, "id")?;
        let total = a.amount.saturating_add(increment);
        if total > MAX_AMOUNT {
            return Err(invalid(
                "increment_amount",
                "The authorization would exceed the largest amount.",
            ));
        }
        // The card's controls and the balance decide an increment; the mock asks no webhook for
        // it (the caller holds the connection: see ADR 0006).
        let card = card_row(tx, &a.card_id, "card")?;
        let holder: String = tx.query_row(
            "SELECT status FROM psp_cardholders WHERE id = ?1",
            [&a.cardholder_id],
            |r| r.get(0),
        )?;
        let token_status = match &a.token_id {
            Some(t) => Some(token_row(tx, t)?.status),
            None => None,
        };
        let facts = CardFacts {
            status: &card.status,
            cardholder_status: &holder,
            token_status: token_status.as_deref(),
            exp_month: card.exp_month,
            exp_year: card.exp_year,
            controls: &card.spending_controls,
        };
        // Per-authorization limits count the new total; interval limits already count the
        // authorized amount, so only the increment is added to them.
        let mut spent = spent(tx, &card, ctx.now)?;
        for (s, l) in spent
            .iter_mut()
            .zip(&card.spending_controls.spending_limits)
        {
            if l.interval == "per_authorization" {
                *s = a.amount;
            }
        }
        let per_auth_total: Vec<i64> = spent.clone();
        let tap = Tap {
            amount: increment,
            category: &a.category,
            country: a.merchant_data["country"].as_str(),
            year_month: year_month(ctx.now)?,
        };
        let mut verdict = rules::check(
            &facts,
            &tap,
            &per_auth_total,
            available(tx, &issuing(), &a.currency)?,
        );
        if verdict.is_ok() {
            for l in &card.spending_controls.spending_limits {
                let applies = l
                    .categories
                    .as_ref()
                    .is_none_or(|c| c.contains(&a.category));
                if applies && l.interval == "per_authorization" && total > l.amount {
                    verdict = Err(rules::Decline {
                        reason: "spending_controls",
                        message: format!(
                            "The per_authorization spending limit of {} is exceeded.",
                            l.amount
                        ),
                    });
                }
            }
        }
        let (approved, reason, message) = match &verdict {
            Ok(()) => (
                true,
                "card_active",
                "Increment approved by the card's controls and balance.".to_owned(),
            ),
            Err(d) => (false, d.reason, d.message.clone()),
        };
        a.request_history.push(history_entry(
            increment,
            &a.currency,
            approved,
            reason,
            Some(&message),
            ctx.now,
        ));
        if approved {
            let ids = ledger(
                tx,
                ctx,
                "issuing_authorization_hold",
                &a.id,
                (&issuing(), &issuing_held()),
                increment,
                &a.currency,
            )?;
            a.balance_transactions.extend(ids);
            a.amount = total;
            a.held += increment;
        }
        Ok(())
    })
    .await
}

async fn helper_finalize_amount(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let name = "final_amount";
    let final_amount = f
        .int(name)?
        .ok_or_else(|| invalid(name, "Missing required param: final_amount."))?;
    f.finish()?;
    change(&state, psp.ctx, id, move |tx, ctx, a| {
        pending_approved(a, "id")?;
        if !(0..=a.amount).contains(&final_amount) {
            return Err(refuse(
                "parameter_invalid_integer",
                Some(name),
                format!(
                    "final_amount must be between 0 and the authorized {}.",
                    a.amount
                ),
            ));
        }
        let less = a.amount - final_amount;
        release(tx, ctx, a, less)?;
        a.amount = final_amount;
        Ok(())
    })
    .await
}

/// Stripe's deprecated synchronous decision (`approve` / `decline`): decides a pending
/// authorization whose real-time decision was not made (its attempt died); an answer from the
/// webhook wins otherwise.
async fn decide_by_api(
    state: AppState,
    ctx: Ctx,
    id: String,
    approved: bool,
    amount: Option<i64>,
    metadata: Option<super::form::MetadataChanges>,
) -> Result<Json<Value>, ApiError> {
    let s = state.clone();
    let doc = state
        .db
        .transaction(move |tx| {
            let a = auth_row(tx, &id, "id")?;
            if !a.deciding {
                return Err(refuse(
                    "authorization_not_pending",
                    Some("id"),
                    "This authorization was already decided.",
                ));
            }
            let attempt = random::id("att");
            let mut claimed = a.clone();
            claimed.attempt = Some(attempt.clone());
            save(tx, &claimed)?;
            let requested = a
                .pending_request
                .as_ref()
                .and_then(|p| p["amount"].as_i64())
                .unwrap_or(0);
            let ask = Ask {
                id: a.id.clone(),
                attempt,
                requested,
                controllable: a.is_amount_controllable,
                endpoints: Vec::new(),
                event: Bytes::new(),
            };
            let mut meta = Map::new();
            super::form::merge_metadata(&mut meta, metadata.unwrap_or_default());
            let outcome = Outcome::Answered {
                approved,
                amount,
                metadata: meta,
                message: None,
            };
            finish(tx, &ctx, &s, &ask, outcome, None)?;
            auth_json(tx, &auth_row(tx, &a.id, "id")?)
        })
        .await?;
    state.webhooks.wake.notify_one();
    Ok(Json(doc))
}

async fn approve(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let amount = read_amount(&mut f, "amount")?;
    let metadata = f.metadata()?;
    f.finish()?;
    decide_by_api(state, psp.ctx, id, true, amount, metadata).await
}

async fn decline(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let metadata = f.metadata()?;
    f.finish()?;
    decide_by_api(state, psp.ctx, id, false, None, metadata).await
}

// ------------------------------------------------------------------- reads

async fn retrieve(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let _ = f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| auth_json(conn, &auth_row(conn, &id, "id")?))
        .await?;
    Ok(Json(doc))
}

/// `created`, `created[gt|gte|lt|lte]`: bounds on the creation time.
pub(super) fn read_created(f: &mut Fields) -> Result<(i64, i64), ApiError> {
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    match f.map("created")? {
        Some(mut m) => {
            if let Some(v) = m.int("gt")? {
                lo = lo.max(v.saturating_add(1));
            }
            if let Some(v) = m.int("gte")? {
                lo = lo.max(v);
            }
            if let Some(v) = m.int("lt")? {
                hi = hi.min(v.saturating_sub(1));
            }
            if let Some(v) = m.int("lte")? {
                hi = hi.min(v);
            }
            m.finish()?;
        }
        None => {
            if let Some(v) = f.int("created")? {
                (lo, hi) = (v, v);
            }
        }
    }
    Ok((lo, hi))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let card = f.str("card")?;
    let cardholder = f.str("cardholder")?;
    let status = f.one_of("status", &["pending", "closed", "reversed", "expired"])?;
    let (lo, hi) = read_created(&mut f)?;
    let _ = f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_authorizations",
                "(?1 IS NULL OR card_id = ?1) AND (?2 IS NULL OR cardholder_id = ?2) AND (?3 IS NULL OR status = ?3)
                 AND created BETWEEN ?4 AND ?5",
                &[&card, &cardholder, &status, &lo, &hi],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| auth_row(conn, id, "id").and_then(|a| auth_json(conn, &a)))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/authorizations"))
        })
        .await?;
    Ok(Json(doc))
}

/// The authorization routes (the test helpers are a tap and what the network does next).
pub(super) fn router() -> Router<AppState> {
    let helper = "/v1/test_helpers/issuing/authorizations";
    Router::new()
        .route(helper, post(helper_create))
        .route(&format!("{helper}/{{id}}/capture"), post(helper_capture))
        .route(&format!("{helper}/{{id}}/reverse"), post(helper_reverse))
        .route(&format!("{helper}/{{id}}/expire"), post(helper_expire))
        .route(
            &format!("{helper}/{{id}}/increment"),
            post(helper_increment),
        )
        .route(
            &format!("{helper}/{{id}}/finalize_amount"),
            post(helper_finalize_amount),
        )
        .route("/v1/issuing/authorizations", get(list))
        .route(
            "/v1/issuing/authorizations/{id}",
            get(retrieve).post(update),
        )
        .route("/v1/issuing/authorizations/{id}/approve", post(approve))
        .route("/v1/issuing/authorizations/{id}/decline", post(decline))
}

async fn update(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let metadata = f.metadata()?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let mut a = auth_row(tx, &id, "id")?;
            let before = auth_json(tx, &a)?;
            if let Some(changes) = metadata {
                let mut meta = a.metadata.as_object().cloned().unwrap_or_default();
                super::form::merge_metadata(&mut meta, changes);
                a.metadata = Value::Object(meta);
                save(tx, &a)?;
            }
            let after = auth_json(tx, &a)?;
            emit_update(tx, &ctx, "issuing_authorization", &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(Json(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_sums_only_the_categories_it_names() {
        let spent = [
            ("dentists".to_owned(), 1_000),
            ("opticians".to_owned(), 250),
            ("taxicabs_limousines".to_owned(), 40),
        ];
        let named = ["dentists".to_owned(), "opticians".to_owned()];
        assert_eq!(sum_in(Some(&named), &spent), 1_250);
        assert_eq!(sum_in(None, &spent), 1_290);
        assert_eq!(sum_in(Some(&[]), &spent), 0);
        assert_eq!(sum_in(Some(&named[..1]), &[]), 0);
        assert_eq!(
            sum_in(None, &[("a".into(), i64::MAX), ("b".into(), 1)]),
            i64::MAX
        );
    }

    #[test]
    fn answers_are_read_strictly() {
        let ok = |b: &str| read_answer(StatusCode::OK, b.as_bytes());
        assert!(matches!(
            ok(r#"{"approved": true}"#),
            Ok(Outcome::Answered {
                approved: true,
                amount: None,
                ..
            })
        ));
        assert!(matches!(
            ok(r#"{"approved": false, "metadata": {"cause": "not_covered"}, "reason_message": "Not covered"}"#),
            Ok(Outcome::Answered { approved: false, ref message, .. }) if message.as_deref() == Some("Not covered")
        ));
        assert!(matches!(
            ok(r#"{"approved": true, "amount": 500}"#),
            Ok(Outcome::Answered {
                amount: Some(500),
                ..
            })
        ));
        for bad in [
            "",
            "null",
            r#"{"approved": "yes"}"#,
            r#"{"approved": true, "amount": 1.5}"#,
            r#"{"approved": true, "metadata": {"k": 1}}"#,
            r#"{"approved": true, "metadata": []}"#,
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        assert!(read_answer(StatusCode::INTERNAL_SERVER_ERROR, br#"{"approved": true}"#).is_err());
    }
}
