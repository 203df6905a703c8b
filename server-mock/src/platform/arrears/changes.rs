//! `GET /v1/me/invoice_changes?after={cursor}&limit={1..=100}`: the member's invoices that
//! changed after the cursor, whole, oldest change first. The cursor is a position in the
//! platform's change sequence (`platform_invoice_changes`, bumped by triggers in the
//! transaction of each change, `pay_once.rs`): an invoice appears once, at its last change, so
//! a phone that syncs seldom fetches each invoice once however often it changed.

use axum::extract::{Query, State};
use axum::{Extension, Json};
use rusqlite::{params, Connection};
use serde::Deserialize;
use tierspay_core::wire::MemberInvoiceChanges;

use super::invoices::{member_invoice, record};
use super::member_events::parse_cursor;
use crate::http::{ApiError, Caller};
use crate::state::AppState;

/// Most invoices per answer.
pub const MAX_LIMIT: u32 = 100;
/// Invoices per answer when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 100;

/// `?after=&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangesQuery {
    /// The cursor of the last answer (absent or `0`: everything).
    pub after: Option<String>,
    /// 1 to 100.
    pub limit: Option<String>,
}

fn parse_limit(text: Option<&str>) -> Result<u32, ApiError> {
    let Some(t) = text else {
        return Ok(DEFAULT_LIMIT);
    };
    t.parse::<u32>()
        .ok()
        .filter(|l| t.len() <= 3 && (1..=MAX_LIMIT).contains(l))
        .ok_or_else(|| {
            ApiError::invalid_param(
                "limit",
                format!("limit must be a whole number from 1 to {MAX_LIMIT}."),
            )
        })
}

/// The member's changes after `after` (see the module's documentation).
pub fn changes(
    conn: &Connection,
    member_ref: &str,
    after: i64,
    limit: u32,
) -> Result<MemberInvoiceChanges, ApiError> {
    let mut rows: Vec<(String, i64)> = conn
        .prepare_cached(
            "SELECT invoice_id, seq FROM platform_invoice_changes
             WHERE member_ref = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?
        .query_map(params![member_ref, after, i64::from(limit) + 1], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let cursor = rows.last().map_or(after, |(_, seq)| *seq);
    let mut data = Vec::with_capacity(rows.len());
    for (id, _) in rows {
        if let Some(p) = record(conn, &id)? {
            data.push(member_invoice(conn, &p)?);
        }
    }
    Ok(MemberInvoiceChanges {
        object: "member_invoice_changes".into(),
        data,
        cursor: cursor.to_string(),
        has_more,
    })
}

/// `GET /v1/me/invoice_changes`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ChangesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MemberInvoiceChanges>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    let Query(q) = query.map_err(|e| ApiError::invalid_param("after", e.body_text()))?;
    let after = parse_cursor(q.after.as_deref(), "after")?;
    let limit = parse_limit(q.limit.as_deref())?;
    let answer = state
        .db
        .call(move |conn| changes(conn, &member_ref, after, limit))
        .await?;
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_one_to_a_hundred() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(Some("1")).unwrap(), 1);
        assert_eq!(parse_limit(Some("100")).unwrap(), 100);
        for bad in ["0", "101", "-1", "x", "0001", ""] {
            let e = parse_limit(Some(bad)).unwrap_err();
            assert_eq!(e.detail.param.as_deref(), Some("limit"), "{bad:?}");
        }
    }
}
