//! What a paid visit consumes of the beneficiary's annual counters: the participations
//! forfaitaires and franchises withheld (yearly caps, and the daily count per provider), and the
//! complementary's euro lines (annual ceilings). Recorded only when a visit is captured, so the
//! next sync, and the next preview on the phone or the server, price with them.

use rusqlite::{params, Connection, OptionalExtension};
use rust_decimal::Decimal;

use crate::http::ApiError;

/// What one paid act consumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumption<'a> {
    /// Who was treated.
    pub beneficiary_id: &'a str,
    /// By whom.
    pub provider_id: &'a str,
    /// The care date, `YYYY-MM-DD` (its year is the counters' year).
    pub date: &'a str,
    /// The participation forfaitaire withheld.
    pub pf: Decimal,
    /// The franchise withheld.
    pub franchise: Decimal,
    /// A euro line with an annual ceiling: its category and what the complementary paid.
    pub ceiling: Option<(&'a str, Decimal)>,
}

fn add(stored: Option<String>, more: Decimal) -> String {
    let before: Decimal = stored.and_then(|s| s.parse().ok()).unwrap_or_default();
    (before + more).to_string()
}

/// Adds a paid act to the counters.
pub fn record(tx: &Connection, c: &Consumption<'_>) -> Result<(), ApiError> {
    let year: i32 = c
        .date
        .get(..4)
        .and_then(|y| y.parse().ok())
        .ok_or_else(|| ApiError::internal("a visit's date has no year"))?;
    if !c.pf.is_zero() || !c.franchise.is_zero() {
        let (pf, franchise): (Option<String>, Option<String>) = tx
            .query_row(
                "SELECT pf_paid, franchise_paid FROM insurer_counters WHERE beneficiary_id = ?1 AND year = ?2",
                params![c.beneficiary_id, year],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((None, None));
        tx.execute(
            "INSERT INTO insurer_counters (beneficiary_id, year, pf_paid, franchise_paid) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (beneficiary_id, year) DO UPDATE SET pf_paid = ?3, franchise_paid = ?4",
            params![c.beneficiary_id, year, add(pf, c.pf), add(franchise, c.franchise)],
        )?;
    }
    if !c.pf.is_zero() {
        tx.execute(
            "INSERT INTO insurer_pf_daily (beneficiary_id, provider_id, day, count) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (beneficiary_id, provider_id, day) DO UPDATE SET count = count + 1",
            params![c.beneficiary_id, c.provider_id, c.date],
        )?;
    }
    if let Some((category, paid)) = c.ceiling.filter(|(_, paid)| !paid.is_zero()) {
        let consumed: Option<String> = tx
            .query_row(
                "SELECT consumed FROM insurer_ceiling_usage WHERE beneficiary_id = ?1 AND year = ?2 AND category = ?3",
                params![c.beneficiary_id, year, category],
                |r| r.get(0),
            )
            .optional()?;
        tx.execute(
            "INSERT INTO insurer_ceiling_usage (beneficiary_id, year, category, consumed) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (beneficiary_id, year, category) DO UPDATE SET consumed = ?4",
            params![c.beneficiary_id, year, category, add(consumed, paid)],
        )?;
    }
    Ok(())
}
