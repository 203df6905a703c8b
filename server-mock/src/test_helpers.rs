//! `/v1/test_helpers/…`: fixtures, time and the outbox, so tests and demos make their own data.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use rust_decimal::Decimal;
use tierspay_core::domain::coverage::CareCategory;
use tierspay_core::domain::enrollment::parse_date;
use tierspay_core::wire::Tariff;

use crate::http::{ApiError, ApiJson};
use crate::insurer::contracts::{self, CreatedContract, NewContract};
use crate::insurer::{catalogue, directory};
use crate::platform::notifications;
use crate::state::AppState;

/// Test-helper routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/test_helpers/contracts", post(create_contract))
        .route("/v1/test_helpers/outbox", get(outbox))
        .route("/v1/test_helpers/clock", get(clock))
        .route("/v1/test_helpers/clock/advance", post(advance_clock))
        .route("/v1/test_helpers/providers", post(generate_providers))
        .route("/v1/test_helpers/tariffs", post(upsert_tariffs))
        .route("/v1/test_helpers/usage", post(record_usage))
        .route("/v1/test_helpers/faults", post(arm_fault))
}

/// Arms a fault for the next requests of a route (see `faults.rs`).
async fn arm_fault(
    State(state): State<AppState>,
    ApiJson(fault): ApiJson<crate::faults::Fault>,
) -> Result<Json<Value>, ApiError> {
    if !(1..=100).contains(&fault.count) {
        return Err(ApiError::invalid_param(
            "count",
            "count must be from 1 to 100.",
        ));
    }
    // Any route a client reaches (the API, and the pages a browser posts to: /l/, /c/pay/,
    // /i/), except the test helpers, so a fault can never lock a test out of disarming it.
    let path = &fault.path_prefix;
    if !path.starts_with('/') || path.len() > 512 || path.starts_with("/v1/test_helpers") {
        return Err(ApiError::invalid_param(
            "path_prefix",
            "path_prefix must be a path of at most 512 characters outside /v1/test_helpers/.",
        ));
    }
    state.faults.arm(fault);
    Ok(Json(json!({"object": "fault", "armed": true})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generate {
    count: u64,
}

/// Adds the next `count` providers of the deterministic directory (benchmarks use 50,000).
async fn generate_providers(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Generate>,
) -> Result<Json<Value>, ApiError> {
    if !(1..=200_000).contains(&body.count) {
        return Err(ApiError::invalid_param(
            "count",
            "count must be from 1 to 200000.",
        ));
    }
    let now = state.clock.now();
    let made = state
        .db
        .transaction_long(move |tx| {
            let start = directory::count(tx)?;
            let providers = directory::generate(start, body.count);
            directory::insert(tx, &providers, now)?;
            Ok(providers)
        })
        .await?;
    let created = made.len();
    state.providers.add(made);
    let total = state.db.call(|conn| directory::count(conn)).await?;
    Ok(Json(
        json!({"object": "provider_batch", "created": created, "total": total}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tariffs {
    tariffs: Vec<Tariff>,
}

async fn upsert_tariffs(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Tariffs>,
) -> Result<Json<Value>, ApiError> {
    for (i, t) in body.tariffs.iter().enumerate() {
        let param = |f: &str| format!("tariffs[{i}].{f}");
        if t.category.parse::<CareCategory>().is_err() {
            return Err(ApiError::invalid_param(
                &param("category"),
                "unknown care category.",
            ));
        }
        if t.amo_rate < Decimal::ZERO || t.amo_rate > Decimal::ONE {
            return Err(ApiError::invalid_param(
                &param("amo_rate"),
                "amo_rate must be between 0 and 1.",
            ));
        }
        if t.base < Decimal::ZERO {
            return Err(ApiError::invalid_param(
                &param("base"),
                "base must not be negative.",
            ));
        }
        parse_date(&t.valid_from, "valid_from")
            .map_err(|e| ApiError::invalid_param(&param(e.field), e.message))?;
    }
    let count = body.tariffs.len();
    state
        .db
        .transaction(move |tx| catalogue::upsert_tariffs(tx, &body.tariffs))
        .await?;
    Ok(Json(json!({"object": "tariff_batch", "upserted": count})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Usage {
    beneficiary_id: String,
    year: i32,
    #[serde(default)]
    pf_paid: Option<String>,
    #[serde(default)]
    franchise_paid: Option<String>,
    #[serde(default)]
    ceiling: Option<CeilingUsage>,
    #[serde(default)]
    pf_day: Option<PfDayUsage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CeilingUsage {
    category: String,
    consumed: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PfDayUsage {
    provider_id: String,
    day: String,
    count: u32,
}

/// A fixture amount in the core's one amount grammar (the phone's and the previews'), at most
/// what a year of care can consume.
fn usage_amount(text: &str, field: &str) -> Result<Decimal, ApiError> {
    let refuse =
        |why: String| ApiError::invalid_param(field, format!("{field} {why}.")).not_executed();
    let value =
        tierspay_core::domain::money::parse_amount(text).map_err(|e| refuse(e.to_string()))?;
    if value > Decimal::from(100_000) {
        return Err(refuse("is more than 100000 euros".into()));
    }
    Ok(value)
}

/// The amounts of a usage fixture, parsed.
struct UsageAmounts {
    pf_paid: Option<Decimal>,
    franchise_paid: Option<Decimal>,
    consumed: Option<Decimal>,
}

/// Fixtures are input like any other: a negative counter once made every later preview of the
/// beneficiary fail.
fn validate_usage(body: &Usage) -> Result<UsageAmounts, ApiError> {
    if !(2000..=2100).contains(&body.year) {
        return Err(
            ApiError::invalid_param("year", "year must be from 2000 to 2100.").not_executed(),
        );
    }
    let amounts = UsageAmounts {
        pf_paid: body
            .pf_paid
            .as_deref()
            .map(|v| usage_amount(v, "pf_paid"))
            .transpose()?,
        franchise_paid: body
            .franchise_paid
            .as_deref()
            .map(|v| usage_amount(v, "franchise_paid"))
            .transpose()?,
        consumed: body
            .ceiling
            .as_ref()
            .map(|c| usage_amount(&c.consumed, "ceiling.consumed"))
            .transpose()?,
    };
    if let Some(c) = &body.ceiling {
        if c.category.is_empty() || c.category.len() > 64 {
            return Err(ApiError::invalid_param(
                "ceiling.category",
                "ceiling.category must name a guarantee category.",
            )
            .not_executed());
        }
    }
    if let Some(d) = &body.pf_day {
        if d.count > 50 {
            return Err(ApiError::invalid_param(
                "pf_day.count",
                "pf_day.count must be from 0 to 50.",
            )
            .not_executed());
        }
    }
    Ok(amounts)
}

/// Sets a beneficiary's counters: what visits would have consumed (PF, franchises, ceilings).
async fn record_usage(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Usage>,
) -> Result<Json<Value>, ApiError> {
    let amounts = validate_usage(&body)?;
    state
        .db
        .transaction(move |tx| {
            let known: i64 = tx.query_row(
                "SELECT COUNT(*) FROM insurer_beneficiaries WHERE id = ?1",
                [&body.beneficiary_id],
                |r| r.get(0),
            )?;
            if known == 0 {
                return Err(ApiError::invalid_param("beneficiary_id", "No such beneficiary."));
            }
            if body.pf_paid.is_some() || body.franchise_paid.is_some() {
                tx.execute(
                    "INSERT INTO insurer_counters (beneficiary_id, year, pf_paid, franchise_paid) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (beneficiary_id, year) DO UPDATE SET
                       pf_paid = COALESCE(?5, pf_paid), franchise_paid = COALESCE(?6, franchise_paid)",
                    rusqlite::params![
                        body.beneficiary_id, body.year,
                        amounts.pf_paid.unwrap_or_default().to_string(), amounts.franchise_paid.unwrap_or_default().to_string(),
                        amounts.pf_paid.map(|v| v.to_string()), amounts.franchise_paid.map(|v| v.to_string())
                    ],
                )?;
            }
            if let Some(c) = body.ceiling {
                tx.execute(
                    "INSERT OR REPLACE INTO insurer_ceiling_usage (beneficiary_id, year, category, consumed) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![body.beneficiary_id, body.year, c.category, amounts.consumed.unwrap_or_default().to_string()],
                )?;
            }
            if let Some(d) = body.pf_day {
                parse_date(&d.day, "pf_day.day").map_err(|e| ApiError::invalid_param(e.field, e.message))?;
                tx.execute(
                    "INSERT OR REPLACE INTO insurer_pf_daily (beneficiary_id, provider_id, day, count) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![body.beneficiary_id, d.provider_id, d.day, d.count],
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(Json(json!({"object": "usage", "recorded": true})))
}

async fn create_contract(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewContract>,
) -> Result<Json<CreatedContract>, ApiError> {
    let now = state.clock.now();
    let today = OffsetDateTime::from_unix_timestamp(now)
        .map(|t| t.date())
        .map_err(|_| ApiError::internal("clock out of range"))?;
    let created = state
        .db
        .transaction(move |tx| contracts::create(tx, body, today, now))
        .await?;
    Ok(Json(created))
}

async fn outbox(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let limit = match query.get("limit") {
        None => 10,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| {
                ApiError::invalid_param("limit", "limit must be a whole number from 1 to 100.")
            })?,
    };
    let channel = query.get("channel").cloned();
    if let Some(c) = &channel {
        if !["sms", "email", "push"].contains(&c.as_str()) {
            return Err(ApiError::invalid_param(
                "channel",
                "channel must be sms, email or push.",
            ));
        }
    }
    let recipient = query.get("recipient").cloned();
    let messages = state
        .db
        .call(move |conn| {
            notifications::list(conn, channel.as_deref(), recipient.as_deref(), limit + 1)
        })
        .await?;
    let has_more = messages.len() > limit as usize;
    let data: Vec<_> = messages.into_iter().take(limit as usize).collect();
    Ok(Json(
        json!({"object": "list", "data": data, "has_more": has_more}),
    ))
}

fn clock_json(state: &AppState) -> Value {
    json!({"object": "test_clock", "now": state.clock.now(), "offset": state.clock.offset()})
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_json(&state))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Advance>,
) -> Result<Json<Value>, ApiError> {
    if !(0..=10 * 365 * 24 * 3600).contains(&body.seconds) {
        return Err(ApiError::invalid_param(
            "seconds",
            "seconds must be between 0 and ten years.",
        ));
    }
    state.clock.advance(body.seconds);
    Ok(Json(clock_json(&state)))
}
