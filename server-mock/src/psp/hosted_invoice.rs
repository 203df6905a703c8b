//! The page an invoice's `hosted_invoice_url` opens (`GET /i/{token}`), as Stripe's hosted
//! invoice page: the number, status, amounts, due date and RF reference, and while something
//! remains a button that opens the PSP's card form for it (`POST /i/{token}` →
//! `checkout_page::open_for_invoice`, 303 to `/c/pay/…`, coming back here once paid). The token
//! is 256 random bits, stored sealed and found by its hash; no JavaScript, never framed, never
//! cached. The platform's own member page (signed links, both languages) is another page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rusqlite::{Connection, OptionalExtension};
use tierspay_core::domain::money::display_fr;
use tierspay_core::domain::rf_reference::RfReference;

use super::invoice_rules::Status;
use super::invoices::{self, token_hash};
use super::model::Ctx;
use super::payment_intents::MIN_AMOUNT;
use super::payment_methods::FINGERPRINT_PURPOSE;
use crate::http::ApiError;
use crate::state::AppState;

/// Longest token looked up (a real one is about 48 characters).
const MAX_TOKEN: usize = 128;

#[derive(Template)]
#[template(path = "psp/invoice.html")]
struct InvoicePage {
    number: String,
    status: &'static str,
    description: Option<String>,
    amount_due: String,
    amount_paid: String,
    amount_remaining: String,
    due_date: Option<String>,
    reference: Option<String>,
    payable: bool,
    action: String,
}

/// The page's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/i/{token}", get(show).post(pay))
}

/// The invoice a hosted page token opens.
fn find(conn: &Connection, token: &str) -> Result<Option<String>, ApiError> {
    if token.len() > MAX_TOKEN {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached("SELECT id FROM psp_invoices WHERE hosted_token_hash = ?1")?
        .query_row([token_hash(token)], |r| r.get(0))
        .optional()?)
}

fn status_text(status: Status, remaining: i64) -> &'static str {
    match status {
        Status::Paid => "Paid. Thank you.",
        Status::Void => "This invoice was cancelled: nothing is owed.",
        Status::Draft => "This invoice is not issued yet.",
        Status::Open | Status::Uncollectible if remaining > 0 => "Due.",
        Status::Open | Status::Uncollectible => "Nothing remains to pay.",
    }
}

fn date(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .map(|t| t.date().to_string())
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not found</title><p>This invoice link is not valid.</p></html>".into(),
    )
}

fn render(conn: &Connection, id: &str, token: &str) -> Result<String, ApiError> {
    let v = invoices::view(conn, id)?;
    let payable = matches!(v.status, Status::Open | Status::Uncollectible)
        && v.amount_remaining >= MIN_AMOUNT;
    InvoicePage {
        number: v.number.unwrap_or_default(),
        status: status_text(v.status, v.amount_remaining),
        description: v.description,
        amount_due: display_fr(v.amount_due),
        amount_paid: display_fr(v.amount_paid),
        amount_remaining: display_fr(v.amount_remaining),
        due_date: v.due_date.and_then(date),
        reference: v
            .rf_reference
            .and_then(|rf| RfReference::parse(&rf).ok())
            .map(|rf| rf.grouped()),
        payable,
        action: format!("/i/{token}"),
    }
    .render()
    .map_err(|e| ApiError::internal(&format!("invoice page: {e}")))
}

async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let out = state
        .db
        .call(move |conn| match find(conn, &token)? {
            Some(id) => render(conn, &id, &token).map(Some),
            None => Ok(None),
        })
        .await;
    match out {
        Ok(Some(body)) => html(StatusCode::OK, body),
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}

async fn pay(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let base = state.public_url.trim_end_matches('/').to_owned();
    let ctx = Ctx {
        base_url: Some(base.clone()),
        ..Ctx::at(state.clock.now())
    };
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let out = state
        .db
        .transaction(move |tx| {
            let Some(id) = find(tx, &token)? else {
                return Ok(None);
            };
            let back = format!("{base}/i/{token}");
            let v = invoices::view(tx, &id)?;
            if !matches!(v.status, Status::Open | Status::Uncollectible)
                || v.amount_remaining < MIN_AMOUNT
            {
                // Paid or void meanwhile: the page says so.
                return Ok(Some(back));
            }
            super::checkout_page::open_for_invoice(tx, &ctx, &key, &id, "TiersPay", &back).map(Some)
        })
        .await;
    match out {
        Ok(Some(url)) => match HeaderValue::from_str(&url) {
            Ok(v) => {
                let mut r = StatusCode::SEE_OTHER.into_response();
                r.headers_mut().insert(header::LOCATION, v);
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                r
            }
            Err(_) => ApiError::internal("invoice redirect is not a header value").into_response(),
        },
        Ok(None) => not_found(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_says_what_it_means() {
        assert_eq!(status_text(Status::Paid, 0), "Paid. Thank you.");
        assert_eq!(status_text(Status::Open, 100), "Due.");
        assert_eq!(
            status_text(Status::Uncollectible, 0),
            "Nothing remains to pay."
        );
        assert!(status_text(Status::Void, 100).contains("nothing is owed"));
    }

    #[test]
    fn fields_are_escaped() {
        let page = InvoicePage {
            number: "A-0001".into(),
            status: "Due.",
            description: Some("<script>alert(1)</script>".into()),
            amount_due: "1,00 €".into(),
            amount_paid: "0,00 €".into(),
            amount_remaining: "1,00 €".into(),
            due_date: None,
            reference: None,
            payable: false,
            action: "/i/t".into(),
        }
        .render()
        .unwrap();
        assert!(!page.contains("<script>"));
        assert!(page.contains("&#60;script&#62;") || page.contains("&lt;script&gt;"));
    }
}
