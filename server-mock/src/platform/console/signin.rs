//! Signing in and out, and the language switch.
//!
//! A sign-in counts against the account (a hash of the email, known or not) and the client
//! address before any hashing; the password is then checked with Argon2id off the connection,
//! against a decoy hash when the account is unknown, and every outcome gets the same words and
//! status (401) whatever the reason: nothing tells an unknown account from a wrong password.
//! A good one replaces any session the browser had (no fixation).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;

use super::audit::{self, Entry};
use super::forms::{self, Fields};
use super::i18n::{self, Lang};
use super::{auth, client_of, csrf, html, problem, see_other, session, signed_in, views};
use crate::http::ClientAddr;
use crate::state::AppState;

/// `GET /console/`: the search when signed in, else the sign-in page.
pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers).await {
        Ok(Some(_)) => see_other("/console/invoices"),
        _ => see_other("/console/login"),
    }
}

fn login_form(lang: Lang, status: StatusCode, error: Option<&str>, email: &str) -> Response {
    let t = i18n::texts(lang);
    let f = views::Frame::new(lang, t.sign_in, None, "/console/login");
    html(status, lang, views::login_page(f, error, email))
}

/// `GET /console/login`.
pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = signed_in(&state, &headers).await {
        return see_other("/console/invoices");
    }
    login_form(i18n::of_request(&headers), StatusCode::OK, None, "")
}

/// Whether a browser says the request came from another site (login CSRF: a page elsewhere
/// signing the staff member into an attacker's account). Fetch Metadata, then Origin.
fn cross_site(headers: &HeaderMap, state: &AppState) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "cross-site";
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => false,
        Some(origin) => {
            let own = state.public_url.trim_end_matches('/');
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            origin != own && host.is_none_or(|h| origin.split_once("://").map(|x| x.1) != Some(h))
        }
    }
}

fn entry(now: i64, client: &str, staff: Option<&auth::Staff>, outcome: &str) -> Entry {
    Entry {
        at: now,
        staff_id: staff.map(|s| s.id.clone()),
        staff_email: staff.map(|s| s.email.clone()),
        action: "sign_in".into(),
        invoice: None,
        outcome: outcome.into(),
        detail: String::new(),
        client: client.to_owned(),
    }
}

/// `POST /console/login` (`email`, `password`).
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    body: Bytes,
) -> Response {
    let lang = i18n::of_request(&headers);
    let t = i18n::texts(lang);
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    if cross_site(&headers, &state) {
        return problem(
            StatusCode::FORBIDDEN,
            lang,
            None,
            t.sign_in,
            t.csrf_refused,
            None,
            None,
        );
    }
    let fields = match Fields::parse(&body) {
        Ok(f) => f,
        Err(e) => return forms::refused_input(lang, None, &e),
    };
    let email = fields.get("email").unwrap_or("").trim().to_owned();
    let password = fields.get("password").unwrap_or("").to_owned();
    if email.len() > auth::MAX_EMAIL || password.len() > auth::MAX_PASSWORD {
        let e = crate::http::ApiError::invalid_param(
            if email.len() > auth::MAX_EMAIL {
                "email"
            } else {
                "password"
            },
            format!(
                "email may have at most {} bytes and password {}.",
                auth::MAX_EMAIL,
                auth::MAX_PASSWORD
            ),
        );
        return forms::refused_input(lang, None, &e);
    }
    let (em, cl) = (email.clone(), client.clone());
    let first = state
        .db
        .transaction(move |tx| {
            let counted = auth::count_attempt(tx, &em, &cl, now)?;
            let account = auth::account(tx, &em)?;
            if counted.is_err() {
                audit::append(
                    tx,
                    &entry(now, &cl, account.as_ref().map(|a| &a.0), "rate_limited"),
                    None,
                )?;
            }
            Ok((counted, account))
        })
        .await;
    let (counted, account) = match first {
        Ok(x) => x,
        Err(e) => return forms::failed(lang, None, &e),
    };
    if let Err(wait) = counted {
        let mut r = login_form(
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            Some(t.too_many_attempts),
            &email,
        );
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let (staff, hash) = match account {
        Some((s, h)) => (Some(s), Some(h)),
        None => (None, None),
    };
    let ok = auth::verify_off_connection(hash, password).await;
    let old = session::cookie_of(&headers);
    let (em, cl) = (email.clone(), client.clone());
    let done = state
        .db
        .transaction(move |tx| {
            let staff = match staff {
                Some(s) if ok => s,
                other => {
                    audit::append(tx, &entry(now, &cl, other.as_ref(), "wrong_password"), None)?;
                    return Ok(None);
                }
            };
            if let Some(old) = old {
                if let Some(s) = session::resolve(tx, &old, now)? {
                    session::end(tx, &s.id_hash)?;
                }
            }
            auth::clear_attempts(tx, &em)?;
            let secret = session::create(tx, &staff.id, now)?;
            audit::append(tx, &entry(now, &cl, Some(&staff), "done"), None)?;
            Ok(Some(secret))
        })
        .await;
    match done {
        Ok(Some(secret)) => {
            let mut r = see_other("/console/invoices");
            if let Some(c) = session::set_cookie(&secret) {
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Ok(None) => login_form(
            lang,
            StatusCode::UNAUTHORIZED,
            Some(t.wrong_credentials),
            &email,
        ),
        Err(e) => forms::failed(lang, None, &e),
    }
}

/// `POST /console/logout` (`csrf`).
pub async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = i18n::of_request(&headers);
    let t = i18n::texts(lang);
    let s = match signed_in(&state, &headers).await {
        Ok(Some(s)) => s,
        _ => return see_other("/console/login"),
    };
    let fields = match Fields::parse(&body) {
        Ok(f) => f,
        Err(e) => return forms::refused_input(lang, Some(&s), &e),
    };
    if !csrf::check(&s.secret, fields.get(csrf::FIELD)) {
        return problem(
            StatusCode::FORBIDDEN,
            lang,
            Some(&s),
            t.sign_out,
            t.csrf_refused,
            None,
            None,
        );
    }
    let hash = s.id_hash.clone();
    let _ = state
        .db
        .transaction(move |tx| session::end(tx, &hash))
        .await;
    let mut r = see_other("/console/login");
    r.headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie());
    r
}

/// The switch's query.
#[derive(Debug, serde::Deserialize)]
pub struct Back {
    back: Option<String>,
}

/// `GET /console/lang/{fr|en}?back=/console/…`: remembers the language and goes back (only to
/// a console path: never an open redirect).
pub async fn switch_language(Path(lang): Path<String>, Query(q): Query<Back>) -> Response {
    let code = match lang.as_str() {
        "fr" | "en" => lang,
        _ => "fr".to_owned(),
    };
    let back = q
        .back
        .filter(|b| {
            b.len() <= 256
                && b.starts_with("/console/")
                && !b.contains("//")
                && !b.contains('\\')
                && b.bytes().all(|c| c.is_ascii_graphic())
        })
        .unwrap_or_else(|| "/console/invoices".into());
    let mut r = see_other(&back);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{}={code}; Path=/; Secure; SameSite=Lax; Max-Age=31536000",
        i18n::COOKIE
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}
