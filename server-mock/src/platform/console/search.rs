//! Finding invoices: by invoice id or number, RF reference (spaces and case ignored), contract
//! number or reference, and by status. The text is bounded and only ever bound as an SQL
//! parameter; results are capped.
//!
//! This reads the PSP's invoice table beside the platform's (a join, not one lookup per row):
//! the same read-only crossing `timeline.rs` makes, see docs/console.md.

use rusqlite::{params, Connection};

use crate::http::ApiError;

/// Longest search text.
pub const MAX_QUERY: usize = 64;
/// Most results on a page.
pub const MAX_RESULTS: u32 = 50;

/// A status to filter on (Stripe's invoice statuses the console shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Any.
    Any,
    /// `open`.
    Open,
    /// `paid`.
    Paid,
    /// `void`.
    Void,
    /// `uncollectible`.
    Uncollectible,
}

impl StatusFilter {
    /// From the form's value; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "" | "any" => Self::Any,
            "open" => Self::Open,
            "paid" => Self::Paid,
            "void" => Self::Void,
            "uncollectible" => Self::Uncollectible,
            _ => return None,
        })
    }

    /// The form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
            Self::Uncollectible => "uncollectible",
        }
    }
}

/// A search.
#[derive(Debug, Clone)]
pub struct Query {
    /// What was typed, trimmed (may be empty: then the status alone filters).
    pub text: String,
    /// The status.
    pub status: StatusFilter,
}

impl Query {
    /// Checks the form's two fields; the error names the field.
    pub fn parse(text: Option<&str>, status: Option<&str>) -> Result<Self, ApiError> {
        let text = text.unwrap_or("").trim();
        if text.chars().count() > MAX_QUERY {
            return Err(ApiError::invalid_param(
                "q",
                format!("q may have at most {MAX_QUERY} characters."),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(ApiError::invalid_param(
                "q",
                "q may not hold control characters.",
            ));
        }
        let status = StatusFilter::parse(status.unwrap_or("")).ok_or_else(|| {
            ApiError::invalid_param(
                "status",
                "status is any, open, paid, void or uncollectible.",
            )
        })?;
        Ok(Self {
            text: text.to_owned(),
            status,
        })
    }
}

/// A line of the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// `in_…`
    pub invoice_id: String,
    /// The PSP's number.
    pub number: Option<String>,
    /// The contract's printed number (the insurer's), else the platform's reference.
    pub contract: String,
    /// Stripe's status.
    pub status: String,
    /// Minor units.
    pub amount_due: i64,
    /// Minor units.
    pub amount_remaining: i64,
    /// Unix seconds.
    pub created: i64,
}

/// Invoices matching `q`, newest first.
pub fn run(conn: &Connection, q: &Query) -> Result<Vec<Hit>, ApiError> {
    let text = q.text.as_str();
    // An RF reference is compared in electronic form: no spaces, capitals.
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let status = match q.status {
        StatusFilter::Any => None,
        s => Some(s.as_str()),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT p.invoice_id, i.number, COALESCE(c.number, p.contract_ref), i.status,
                i.total - i.pre_payment_credit, i.total - i.pre_payment_credit - i.amount_paid,
                p.created
         FROM platform_invoices p
         JOIN psp_invoices i ON i.id = p.invoice_id
         LEFT JOIN insurer_contracts c ON c.member_id = p.member_ref
         WHERE (?1 = '' OR p.invoice_id = ?1 OR i.number = ?1 OR i.rf_reference = ?2
                OR p.contract_ref = ?1 OR c.number = ?1 OR c.number = ?2)
           AND (?3 IS NULL OR i.status = ?3)
         ORDER BY p.seq DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![text, compact, status, MAX_RESULTS], |r| {
        Ok(Hit {
            invoice_id: r.get(0)?,
            number: r.get(1)?,
            contract: r.get(2)?,
            status: r.get(3)?,
            amount_due: r.get(4)?,
            amount_remaining: r.get::<_, i64>(5)?.max(0),
            created: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_bounded_and_named() {
        assert!(Query::parse(Some("  RF04 INV2  "), Some("open")).is_ok());
        let long = "x".repeat(MAX_QUERY + 1);
        let e = Query::parse(Some(&long), None).unwrap_err();
        assert_eq!(e.detail.param.as_deref(), Some("q"));
        let e = Query::parse(Some("a\u{0}b"), None).unwrap_err();
        assert_eq!(e.detail.param.as_deref(), Some("q"));
        let e = Query::parse(None, Some("paid' OR 1=1 --")).unwrap_err();
        assert_eq!(e.detail.param.as_deref(), Some("status"));
    }
}
