//! The insurer's support console (issue 14, item 1): a web app for the insurer's staff, served
//! under `/console/`, server-rendered (askama, every value escaped) with one static script for
//! live updates. docs/console.md describes roles, sessions, CSRF and the audit trail.
//!
//! - [`auth`]: staff accounts (support, finance, admin), Argon2id passwords, sign-in limits.
//! - [`session`]: `__Host-` session cookie, the id stored hashed, idle and absolute expiry.
//! - [`csrf`]: the per-session token every POST carries, checked in constant time.
//! - [`audit`]: every action and every refusal, appended.
//! - [`search`], [`timeline`]: finding an invoice, and its history from the existing tables.
//! - [`actions`]: resend the link, credit note, uncollectible, void, refund an overpayment.
//! - `pages.rs`, `forms.rs`, `signin.rs`, `events.rs`: the HTTP side of each (the event
//!   stream tells an open invoice view to refresh its parts when the invoice changes).
//! - `test_helper.rs`: `POST /v1/test_helpers/console/staff` creates a staff account.
//!
//! Every page answers with a strict CSP (scripts and styles from the console's origin only, no
//! inline script, never framed), `no-store`, and no referrer.

pub mod actions;
mod assets;
pub mod audit;
pub mod auth;
pub mod csrf;
mod events;
mod forms;
mod i18n;
mod pages;
pub mod search;
pub mod session;
mod signin;
mod test_helper;
pub mod timeline;
mod views;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use self::i18n::Lang;
use self::session::Session;
use crate::http::ApiError;
use crate::state::AppState;

/// The console's tables, registered under the module name `console` in `db.rs`.
pub const MIGRATIONS: &[&str] = &[
    auth::MIGRATION,
    session::MIGRATION,
    audit::MIGRATION,
    // 4: the history's reads of the PSP's tables by invoice, which its own indexes do not
    // cover (the one-live-intent index is partial; charges and transfers by intent or group).
    r#"
    CREATE INDEX IF NOT EXISTS console_psp_intents_invoice ON psp_payment_intents (invoice)
        WHERE invoice IS NOT NULL;
    CREATE INDEX IF NOT EXISTS console_psp_charges_intent ON psp_charges (payment_intent);
    CREATE INDEX IF NOT EXISTS console_psp_bank_transfers_invoice ON psp_bank_transfers (invoice)
        WHERE invoice IS NOT NULL;
"#,
    // 5: the name members read on answers (issue 14, item 2's thread).
    auth::DISPLAY_NAME_MIGRATION,
];

/// Most bytes a console form may carry: a reply of 2,000 characters, each up to four UTF-8
/// bytes and three URL-encoded characters per byte, with room for the other fields.
pub const MAX_FORM_BYTES: usize = 32 * 1024;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(signin::home))
        .route("/console/", get(signin::home))
        .route(
            "/console/login",
            get(signin::login_page).post(signin::login),
        )
        .route("/console/logout", post(signin::logout))
        .route("/console/lang/{lang}", get(signin::switch_language))
        .route("/console/static/{name}", get(assets::serve))
        .route("/console/invoices", get(pages::search))
        .route("/console/invoices/{id}", get(pages::invoice))
        .route("/console/invoices/{id}/live", get(pages::live))
        .route("/console/invoices/{id}/events", get(events::stream))
        .route(
            "/console/invoices/{id}/actions/{action}",
            post(forms::action),
        )
        .route(
            "/v1/test_helpers/console/staff",
            post(test_helper::create_staff),
        )
}

/// An HTML answer with the console's headers.
fn html(status: StatusCode, lang: Lang, body: askama::Result<String>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "console page not rendered");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "console page not rendered",
            )
                .into_response();
        }
    };
    let mut r = (status, Html(body)).into_response();
    secure_headers(r.headers_mut());
    r.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    r
}

/// The headers of every console answer: the CSP allows the console's own script and
/// stylesheet only (no inline code), its own origin for fetches and the event stream, forms
/// posting back to it; nothing frames it, nothing caches it, no referrer leaves it.
fn secure_headers(h: &mut HeaderMap) {
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        header::VARY,
        HeaderValue::from_static("accept-language, cookie"),
    );
}

/// A redirect (303) with the console's headers.
fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    secure_headers(r.headers_mut());
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The signed-in session of a request, if any (its idle clock restarted).
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let Some(secret) = session::cookie_of(headers) else {
        return Ok(None);
    };
    let now = state.clock.now();
    state
        .db
        .transaction(move |tx| session::resolve(tx, &secret, now))
        .await
}

/// The client address the authentication layer found.
fn client_of(ext: Option<&crate::http::ClientAddr>) -> String {
    ext.map(|a| a.0.to_string()).unwrap_or_default()
}

/// The header's staff member.
fn who(s: &Session) -> views::Who {
    views::Who {
        email: s.staff.email.clone(),
        role: s.staff.role.as_str(),
        csrf: csrf::token(&s.secret),
    }
}

/// An error page (refusal, 403, 404, 413) in the console's frame.
fn problem(
    status: StatusCode,
    lang: Lang,
    s: Option<&Session>,
    heading: &str,
    text: &str,
    detail: Option<&str>,
    invoice: Option<&str>,
) -> Response {
    let f = views::Frame::new(lang, heading, s.map(who), "/console/invoices");
    html(
        status,
        lang,
        views::outcome_page(f, heading, text, detail, true, invoice),
    )
}
