//! The invoices the member owes, on the platform's side. The PSP holds the invoice (`in_…`,
//! Stripe-shaped); the platform knows whose and what for, in `platform_invoices`: the member,
//! the contract, the insurer owed, and the source (`premium` arrears the insurer reports, or the
//! `visit` whose remainder could not be taken from the member's card).
//!
//! # For the rest of the platform (stable signatures)
//!
//! - [`open`]`(tx, NewArrears, now) -> Result<String, ApiError>`: creates and finalizes the PSP
//!   invoice for the member's PSP customer and records it, in the caller's transaction. A visit
//!   is invoiced once (`visit_id` is unique): a second call answers the first invoice.
//! - [`record`]`(conn, invoice_id) -> Result<Option<PlatformInvoice>, ApiError>` and
//!   [`of_member`]: the platform's row of an invoice, and a member's invoices newest first.
//! - [`member_invoice`]: the [`MemberInvoice`] the app reads, from both sides.
//!
//! Routes: `GET /v1/me/invoices`, `GET /v1/me/invoices/{id}` (the member's device), and
//! `POST /v1/insurer/arrears` (a secret API key: the insurer's back office) for premiums, and
//! its test helper `POST /v1/test_helpers/arrears` (`count` invoices at once, for benchmarks).

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tierspay_core::wire::{
    MemberInvoice, MemberInvoiceList, MemberInvoiceSource, MemberInvoiceStatus,
};

use crate::http::{ApiError, ApiJson, Caller};
use crate::platform::payments::{self, Debt};
use crate::psp::api::InvoiceStatus;
use crate::state::AppState;

/// The platform's record of each invoice (a migration entry of the platform's).
pub const MIGRATION: &str = r#"
    CREATE TABLE platform_invoices (
        seq          INTEGER PRIMARY KEY,
        invoice_id   TEXT NOT NULL UNIQUE,
        member_ref   TEXT NOT NULL,
        contract_ref TEXT NOT NULL,
        insurer      TEXT NOT NULL,
        source       TEXT NOT NULL CHECK (source IN ('premium', 'visit')),
        visit_id     TEXT UNIQUE,
        created      INTEGER NOT NULL,
        CHECK ((source = 'visit') = (visit_id IS NOT NULL))
    );
    CREATE INDEX platform_invoices_member ON platform_invoices (member_ref, seq);
"#;

/// Days a member has to pay an invoice the platform makes.
pub const DAYS_UNTIL_DUE: i64 = 30;
/// Longest description an insurer may give.
pub const MAX_DESCRIPTION: usize = 500;

/// What an invoice is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Premiums the insurer could not collect.
    Premium,
    /// A visit's remainder.
    Visit,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Premium => "premium",
            Self::Visit => "visit",
        }
    }
}

/// A debt to invoice.
#[derive(Debug, Clone)]
pub struct NewArrears<'a> {
    /// The member (`mbr_…`).
    pub member_ref: &'a str,
    /// The contract (`ctr_…`).
    pub contract_ref: &'a str,
    /// The insurer owed, as the contract names it.
    pub insurer: &'a str,
    /// What it is for.
    pub source: Source,
    /// The visit, for [`Source::Visit`].
    pub visit_id: Option<&'a str>,
    /// Minor units.
    pub amount: i64,
    /// `eur`.
    pub currency: &'a str,
    /// What the member reads.
    pub description: &'a str,
    /// A connected account paid what the member pays.
    pub transfer_destination: Option<String>,
}

/// The platform's row of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformInvoice {
    /// `in_…`
    pub invoice_id: String,
    /// `mbr_…`
    pub member_ref: String,
    /// `ctr_…`
    pub contract_ref: String,
    /// The insurer owed.
    pub insurer: String,
    /// `premium` or `visit`.
    pub source: String,
    /// The visit, for a visit's remainder.
    pub visit_id: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// Invoices a debt: the member's PSP customer gets a finalized invoice, recorded here.
pub fn open(tx: &Connection, a: NewArrears<'_>, now: i64) -> Result<String, ApiError> {
    if let Some(visit) = a.visit_id {
        let earlier: Option<String> = tx
            .prepare_cached("SELECT invoice_id FROM platform_invoices WHERE visit_id = ?1")?
            .query_row([visit], |r| r.get(0))
            .optional()?;
        if let Some(id) = earlier {
            return Ok(id);
        }
    }
    let customer = payments::customer_of(tx, a.member_ref, now)?;
    let mut metadata = serde_json::Map::new();
    metadata.insert("tierspay_source".into(), json!(a.source.as_str()));
    metadata.insert("tierspay_contract".into(), json!(a.contract_ref));
    if let Some(v) = a.visit_id {
        metadata.insert("tierspay_visit".into(), json!(v));
    }
    let invoice = payments::open_invoice(
        tx,
        Debt {
            customer: &customer,
            amount: a.amount,
            currency: a.currency,
            description: a.description,
            days_until_due: DAYS_UNTIL_DUE,
            metadata,
            transfer_destination: a.transfer_destination,
        },
        now,
    )?;
    tx.prepare_cached(
        "INSERT INTO platform_invoices (invoice_id, member_ref, contract_ref, insurer, source, visit_id, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        invoice,
        a.member_ref,
        a.contract_ref,
        a.insurer,
        a.source.as_str(),
        a.visit_id,
        now
    ])?;
    Ok(invoice)
}

const COLUMNS: &str = "invoice_id, member_ref, contract_ref, insurer, source, visit_id, created";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PlatformInvoice> {
    Ok(PlatformInvoice {
        invoice_id: r.get(0)?,
        member_ref: r.get(1)?,
        contract_ref: r.get(2)?,
        insurer: r.get(3)?,
        source: r.get(4)?,
        visit_id: r.get(5)?,
        created: r.get(6)?,
    })
}

/// The platform's row of an invoice.
pub fn record(conn: &Connection, invoice_id: &str) -> Result<Option<PlatformInvoice>, ApiError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM platform_invoices WHERE invoice_id = ?1"
        ))?
        .query_row([invoice_id], from_row)
        .optional()?)
}

/// A member's invoices, newest first: at most `limit`, older than `starting_after` if given;
/// and whether more follow.
pub fn of_member(
    conn: &Connection,
    member_ref: &str,
    limit: u32,
    starting_after: Option<&str>,
) -> Result<(Vec<PlatformInvoice>, bool), ApiError> {
    let cursor: Option<i64> = match starting_after {
        Some(id) => Some(
            conn.prepare_cached(
                "SELECT seq FROM platform_invoices WHERE invoice_id = ?1 AND member_ref = ?2",
            )?
            .query_row(params![id, member_ref], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                ApiError::invalid_param(
                    "starting_after",
                    "starting_after is not one of your invoices.",
                )
            })?,
        ),
        None => None,
    };
    let mut rows: Vec<PlatformInvoice> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM platform_invoices
             WHERE member_ref = ?1 AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
        ))?
        .query_map(params![member_ref, cursor, i64::from(limit) + 1], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

/// The member's view of an invoice, from the PSP's invoice and the platform's row.
pub fn member_invoice(conn: &Connection, p: &PlatformInvoice) -> Result<MemberInvoice, ApiError> {
    let v = payments::invoice(conn, &p.invoice_id)?;
    let status = match v.status {
        InvoiceStatus::Paid => MemberInvoiceStatus::Paid,
        InvoiceStatus::Void => MemberInvoiceStatus::Void,
        InvoiceStatus::Uncollectible => MemberInvoiceStatus::Uncollectible,
        // The platform finalizes what it makes: a draft is shown as due.
        InvoiceStatus::Open | InvoiceStatus::Draft => MemberInvoiceStatus::Open,
    };
    Ok(MemberInvoice {
        object: "member_invoice".into(),
        id: v.id,
        number: v.number,
        status,
        source: if p.source == "visit" {
            MemberInvoiceSource::Visit
        } else {
            MemberInvoiceSource::Premium
        },
        insurer: p.insurer.clone(),
        contract_ref: p.contract_ref.clone(),
        visit_id: p.visit_id.clone(),
        description: v.description,
        currency: v.currency,
        amount_due: v.amount_due,
        amount_paid: v.amount_paid,
        amount_remaining: v.amount_remaining,
        due_date: v.due_date,
        rf_reference: v.rf_reference,
        extra: super::history::extra(
            conn,
            &p.invoice_id,
            v.created,
            status == MemberInvoiceStatus::Paid,
            v.amount_paid,
        )?,
        created: v.created,
        paid_at: v.paid_at,
    })
}

/// A visit's remainder that could not be taken from the member's card: its invoice, in the
/// settlement's transaction.
#[allow(clippy::too_many_arguments)]
pub fn invoice_visit_remainder(
    tx: &Connection,
    member_ref: &str,
    contract_ref: &str,
    visit_id: &str,
    provider: &str,
    date: &str,
    amount: i64,
    currency: &str,
    now: i64,
) -> Result<String, ApiError> {
    let insurer = crate::insurer::contracts::owner_of(tx, contract_ref)?
        .map(|(_, _, insurer)| insurer)
        .unwrap_or_else(|| "TiersPay".into());
    let description = format!("Reste à charge, consultation du {date} ({provider})");
    open(
        tx,
        NewArrears {
            member_ref,
            contract_ref,
            insurer: &insurer,
            source: Source::Visit,
            visit_id: Some(visit_id),
            amount,
            currency,
            description: &description,
            transfer_destination: None,
        },
        now,
    )
}

// ------------------------------------------------------------------- routes

/// The arrears invoice routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/me/invoices", get(list))
        .route("/v1/me/invoices/{id}", get(retrieve))
        .route(
            "/v1/me/invoices/{id}/payments",
            post(super::payments_from_app::create),
        )
        .route("/v1/me/invoice_changes", get(super::changes::list))
        .route("/v1/me/events", get(super::member_events::list))
        .route("/v1/insurer/arrears", post(create_premium_arrears))
        .route("/v1/test_helpers/arrears", post(helper_arrears))
}

/// `?limit=&starting_after=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 100 (default 10).
    pub limit: Option<u32>,
    /// An `in_…` of the member's.
    pub starting_after: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MemberInvoiceList>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    let Query(q) = query.map_err(|e| ApiError::invalid_param("limit", e.body_text()))?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_param(
            "limit",
            "limit must be a whole number from 1 to 100.",
        ));
    }
    if q.starting_after.as_ref().is_some_and(|s| s.len() > 64) {
        return Err(ApiError::invalid_param(
            "starting_after",
            "starting_after is not one of your invoices.",
        ));
    }
    let list = state
        .db
        .call(move |conn| {
            let (rows, has_more) =
                of_member(conn, &member_ref, limit, q.starting_after.as_deref())?;
            let data = rows
                .iter()
                .map(|p| member_invoice(conn, p))
                .collect::<Result<_, _>>()?;
            Ok(MemberInvoiceList {
                object: "list".into(),
                data,
                has_more,
            })
        })
        .await?;
    Ok(Json(list))
}

/// 404 for an invoice that is not the member's: another member's invoice does not exist for
/// them (no hint that it exists at all).
fn not_theirs() -> ApiError {
    let mut e = ApiError::not_found("invoice");
    e.detail.param = Some("id".into());
    e
}

async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<MemberInvoice>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    if id.len() > 64 || !id.starts_with("in_") {
        return Err(not_theirs());
    }
    let invoice = state
        .db
        .call(move |conn| {
            let p = record(conn, &id)?
                .filter(|p| p.member_ref == member_ref)
                .ok_or_else(not_theirs)?;
            member_invoice(conn, &p)
        })
        .await?;
    Ok(Json(invoice))
}

/// `POST /v1/insurer/arrears`: premiums a member owes the insurer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PremiumArrearsRequest {
    /// The contract (`ctr_…` or its number).
    pub contract: String,
    /// Minor units, 1 to the PSP's largest amount.
    pub amount: i64,
    /// `eur` (the default).
    #[serde(default)]
    pub currency: Option<String>,
    /// What the member reads (at most 500 characters).
    pub description: String,
}

/// The insurer's answer: the invoice, and where to follow it at the PSP.
#[derive(Debug, Clone, Serialize)]
pub struct PremiumArrears {
    /// Always `"insurer_arrears"`.
    pub object: &'static str,
    /// `in_…`: `GET /v1/invoices/{id}` and `/v1/events` follow it.
    pub invoice: String,
    /// Printed on letters.
    pub number: Option<String>,
    /// `open`.
    pub status: &'static str,
    /// Minor units.
    pub amount_due: i64,
    /// Unix seconds.
    pub due_date: Option<i64>,
    /// The RF creditor reference.
    pub rf_reference: Option<String>,
    /// The PSP's page for it.
    pub hosted_invoice_url: Option<String>,
    /// The contract.
    pub contract_ref: String,
}

fn check_premium(body: &PremiumArrearsRequest) -> Result<String, ApiError> {
    if body.contract.is_empty() || body.contract.len() > 64 {
        return Err(ApiError::invalid_param(
            "contract",
            "contract must be a contract id or number.",
        ));
    }
    if !(1..=crate::psp::api::MAX_AMOUNT).contains(&body.amount) {
        return Err(ApiError::invalid_param(
            "amount",
            format!(
                "amount must be 1 to {} minor units.",
                crate::psp::api::MAX_AMOUNT
            ),
        ));
    }
    let currency = body
        .currency
        .clone()
        .unwrap_or_else(|| "eur".into())
        .to_ascii_lowercase();
    if currency != "eur" {
        return Err(ApiError::invalid_param("currency", "currency must be eur."));
    }
    let d = body.description.trim();
    if d.is_empty() || d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control) {
        return Err(ApiError::invalid_param(
            "description",
            format!("description must be 1 to {MAX_DESCRIPTION} characters, on one line."),
        ));
    }
    Ok(currency)
}

async fn create_premium_arrears(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<PremiumArrearsRequest>,
) -> Result<Json<PremiumArrears>, ApiError> {
    // The insurer's back office holds a secret key; a phone or a publishable key never may.
    match &caller {
        Caller::ApiKey { key } if key.starts_with("sk_") => {}
        _ => return Err(ApiError::unauthorized(
            "api_key_missing",
            "This endpoint is the insurer's: send its secret key as `Authorization: Bearer sk_…`.",
        )),
    }
    let currency = check_premium(&body).map_err(ApiError::not_executed)?;
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| premium(tx, &body, &currency, now))
        .await?;
    Ok(Json(answer))
}

/// Invoices premiums a contract's member owes (checked by [`check_premium`]).
fn premium(
    tx: &Connection,
    body: &PremiumArrearsRequest,
    currency: &str,
    now: i64,
) -> Result<PremiumArrears, ApiError> {
    let (contract_ref, member_ref, insurer) =
        crate::insurer::contracts::owner_of(tx, &body.contract)?.ok_or_else(|| {
            let mut e = ApiError::not_found("contract");
            e.detail.param = Some("contract".into());
            e
        })?;
    // Premiums are owed to the complementary insurer: what the member pays goes to its
    // connected account.
    let destination = payments::insurer_account(tx, "amc", now)?;
    let id = open(
        tx,
        NewArrears {
            member_ref: &member_ref,
            contract_ref: &contract_ref,
            insurer: &insurer,
            source: Source::Premium,
            visit_id: None,
            amount: body.amount,
            currency,
            description: body.description.trim(),
            transfer_destination: Some(destination),
        },
        now,
    )?;
    let v = payments::invoice(tx, &id)?;
    Ok(PremiumArrears {
        object: "insurer_arrears",
        invoice: id,
        number: v.number,
        status: "open",
        amount_due: v.amount_due,
        due_date: v.due_date,
        rf_reference: v.rf_reference,
        hosted_invoice_url: v.hosted_invoice_url,
        contract_ref,
    })
}

/// Most invoices one test-helper call makes (the dunning benchmark's 100,000 open invoices).
pub const MAX_FIXTURE_INVOICES: u32 = 100_000;

/// `POST /v1/test_helpers/arrears`: what the insurer's route does, `count` times at once (1 to
/// [`MAX_FIXTURE_INVOICES`]), for tests and benchmarks that need many open invoices.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrearsFixture {
    /// As for the insurer's route.
    pub contract: String,
    /// As for the insurer's route.
    pub amount: i64,
    /// As for the insurer's route.
    #[serde(default)]
    pub currency: Option<String>,
    /// As for the insurer's route.
    pub description: String,
    /// How many invoices (default 1).
    #[serde(default)]
    pub count: Option<u32>,
}

async fn helper_arrears(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ArrearsFixture>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let count = body.count.unwrap_or(1);
    if !(1..=MAX_FIXTURE_INVOICES).contains(&count) {
        return Err(ApiError::invalid_param(
            "count",
            format!("count must be 1 to {MAX_FIXTURE_INVOICES}."),
        ));
    }
    let request = PremiumArrearsRequest {
        contract: body.contract,
        amount: body.amount,
        currency: body.currency,
        description: body.description,
    };
    let currency = check_premium(&request).map_err(ApiError::not_executed)?;
    let now = state.clock.now();
    let answer = state
        .db
        .transaction_long(move |tx| {
            let mut first = None;
            let mut ids = Vec::new();
            for _ in 0..count {
                let a = premium(tx, &request, &currency, now)?;
                if ids.len() < 100 {
                    ids.push(a.invoice.clone());
                }
                first.get_or_insert(a);
            }
            Ok(json!({
                "object": "arrears_fixture",
                "count": count,
                "first": first,
                "invoices": ids,
            }))
        })
        .await?;
    Ok(Json(answer))
}
