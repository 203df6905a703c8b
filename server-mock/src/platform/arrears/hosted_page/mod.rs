//! The hosted payment page: what a payment link (`/l/{token}`, docs/arrears.md) opens in a
//! browser without the app. Server-rendered HTML (askama templates, every value escaped),
//! French or English by `Accept-Language`, no JavaScript at all, never framed or cached.
//!
//! - `GET /l/{token}`: the token is checked as the app checks it ([`link`]); a good one shows
//!   the invoice ([`view::invoice_page`]): the insurer, the contract's last digits, the member,
//!   amount, due date, status and RF reference, and two ways to pay, or "already paid" with the
//!   receipt on every link of a paid invoice. An expired one offers a fresh link (410); any other
//!   is refused (400) without naming an invoice.
//! - `POST /l/{token}/card`: opens the PSP's own card form for the invoice
//!   (`psp::api::open_invoice_checkout`) and redirects there (303): the card number goes to
//!   the PSP only, which sends the browser back here once the payment is over.
//! - `POST /l/{token}/resend` (an expired link only): a fresh link on the same channel, to the
//!   member's address on record; the page has no input for an address. At most
//!   [`MAX_RESENDS_PER_DAY`] per invoice.
//! - `POST /v1/test_helpers/invoices/{id}/links`: one link per channel, for tests
//!   (`test_helper.rs`).

pub mod facts;
pub mod i18n;
pub mod link;
pub mod qr;
mod resend;
mod test_helper;
pub mod view;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rusqlite::Connection;
use tierspay_core::domain::masking::{mask_email, mask_phone};
use tierspay_core::domain::payment_link::{Channel, TOKEN_CHARS};

use self::i18n::Lang;
use self::link::Opened;
use crate::http::ApiError;
use crate::platform::arrears::{attempts, messages};
use crate::platform::payments;
use crate::state::AppState;

pub use resend::{send_fresh_link, MAX_RESENDS_PER_DAY, MIGRATION};

/// The page's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/l/{token}", get(show))
        .route("/l/{token}/card", post(pay_by_card))
        .route("/l/{token}/resend", post(resend::resend))
        .route(
            "/v1/test_helpers/invoices/{id}/links",
            post(test_helper::helper_links),
        )
}

fn lang_of(headers: &HeaderMap) -> Lang {
    i18n::negotiate(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// An HTML answer with the page's headers: no script may run (CSP), never framed, never cached
/// (it shows a member's debt), no referrer (the URL is a bearer link).
fn html(status: StatusCode, lang: Lang, body: Result<String, view::ViewError>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "hosted page not rendered");
            return error_page(lang);
        }
    };
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
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
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.tag()),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-language"));
    r
}

fn error_page(lang: Lang) -> Response {
    let text = match lang {
        Lang::Fr => "Une erreur est survenue ; rien n'a été modifié. Réessayez plus tard.",
        Lang::En => "An error occurred; nothing was changed. Try again later.",
    };
    let mut r = (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html(format!(
            "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>TiersPay</title></head><body><main><h1>TiersPay</h1><p role=\"alert\">{text}</p></main></body></html>\n",
            lang.tag()
        )),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refused(lang: Lang) -> Response {
    html(StatusCode::BAD_REQUEST, lang, view::refused_page(lang))
}

fn see_other(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => ApiError::internal("redirect is not a header value").into_response(),
    }
}

/// Checks `token` against the server's key and finds its invoice.
fn open(
    conn: &Connection,
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<(Opened, Option<facts::LinkedInvoice>), ApiError> {
    // A token has one length: anything else is refused before any lookup.
    if token.len() > 2 * TOKEN_CHARS {
        return Ok((
            Opened::Refused(tierspay_core::domain::payment_link::LinkError::Malformed),
            None,
        ));
    }
    let mut found = None;
    let opened = link::open(token, &state.signing_key, now, |number| {
        let linked = facts::linked(conn, number).ok().flatten()?;
        let member = linked.member_ref.clone();
        found = Some(linked);
        Some(member)
    });
    Ok((opened, found))
}

/// What a `GET` shows.
enum Shown {
    Invoice(Box<view::InvoiceFacts>, Option<view::Notice>),
    Expired(messages::Insurer, Option<String>),
    Refused,
}

fn masked_address(contact: &facts::Contact, channel: Channel) -> Option<String> {
    match channel {
        Channel::Sms if !contact.phone.is_empty() => Some(mask_phone(&contact.phone)),
        _ if messages::email::is_address(&contact.email) => Some(mask_email(&contact.email)),
        _ => None,
    }
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let now = state.clock.now();
    let st = state.clone();
    let token_path = token.clone();
    let shown = state
        .db
        .call(move |conn| {
            let (opened, linked) = open(conn, &st, &token, now)?;
            Ok(match (opened, linked) {
                (Opened::Valid(claims), Some(l)) => {
                    record_open(conn, &l.invoice_id, claims.channel, now)?;
                    let insurer = messages::Insurer::named(&l.insurer);
                    let notice = facts::card_notice(conn, &l.invoice_id)?;
                    Shown::Invoice(Box::new(facts::invoice_facts(conn, &l, &insurer)?), notice)
                }
                (Opened::Expired { channel, .. }, Some(l)) => {
                    let contact = facts::contact(conn, &l.member_ref)?;
                    Shown::Expired(
                        messages::Insurer::named(&l.insurer),
                        masked_address(&contact, channel),
                    )
                }
                _ => Shown::Refused,
            })
        })
        .await;
    match shown {
        Err(e) => {
            tracing::error!(error = %e.detail.message, "hosted page facts");
            error_page(lang)
        }
        Ok(Shown::Refused) => refused(lang),
        Ok(Shown::Expired(insurer, address)) => html(
            StatusCode::GONE,
            lang,
            view::expired_page(
                lang,
                Some(&facts::page_insurer(&insurer)),
                address.as_deref(),
                &format!("/l/{token_path}/resend"),
            ),
        ),
        Ok(Shown::Invoice(f, notice)) => html(
            StatusCode::OK,
            lang,
            view::invoice_page(
                lang,
                &f,
                notice.as_ref(),
                Some(&format!("/l/{token_path}/card")),
            ),
        ),
    }
}

/// The attempt channel of a link's channel.
fn attempt_channel(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
        Channel::Push => "push",
        Channel::App => "app_link",
    }
}

/// A link opened in a browser, once per invoice, channel and day, for the invoice's history
/// (its trigger bumps the invoice's change, `pay_once.rs`).
fn record_open(
    conn: &Connection,
    invoice_id: &str,
    channel: Channel,
    now: i64,
) -> Result<(), ApiError> {
    let channel = match channel {
        Channel::App => "app",
        other => attempt_channel(other),
    };
    conn.prepare_cached(
        "INSERT OR IGNORE INTO platform_link_opens (invoice_id, channel, day, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(rusqlite::params![invoice_id, channel, now.div_euclid(86_400), now])?;
    Ok(())
}

/// Where the browser returns once the card form is done: this same link.
fn page_url(state: &AppState, token: &str) -> String {
    format!("{}/l/{token}", state.public_url.trim_end_matches('/'))
}

async fn pay_by_card(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let now = state.clock.now();
    let st = state.clone();
    let back = page_url(&state, &token);
    let key = crate::psp::api::fingerprint_key(&state.vault);
    let target = state
        .db
        .transaction(move |tx| {
            let (opened, linked) = open(tx, &st, &token, now)?;
            let (Opened::Valid(claims), Some(l)) = (opened, linked) else {
                return Ok(None);
            };
            let channel = claims.channel;
            let insurer = messages::Insurer::named(&l.insurer);
            let f = facts::invoice_facts(tx, &l, &insurer)?;
            if f.amount_remaining <= 0 || f.status == view::Status::Void {
                // Paid or cancelled meanwhile: the page says so.
                return Ok(Some(back));
            }
            // One active attempt per invoice, whatever the channel: a 3-D Secure under way
            // elsewhere sends the reader back to the page, which says a payment is waiting.
            let currency = payments::invoice(tx, &l.invoice_id)?.currency;
            match attempts::reconcile(tx, &l.invoice_id, &l.member_ref, &currency, now)? {
                Some(a) if a.status == attempts::Status::Processing => return Ok(Some(back)),
                // A form opened earlier with no card given pays the same live intent: this
                // one takes its place.
                Some(a) => {
                    attempts::move_status(
                        tx,
                        &a.id,
                        attempts::Status::Pending,
                        attempts::Status::Canceled,
                        None,
                        now,
                    )?;
                }
                None => {}
            }
            let payee = format!("{} (TiersPay)", insurer.name);
            let url = payments::open_invoice_checkout(
                tx,
                &key,
                &st.public_url,
                &l.invoice_id,
                &payee,
                &back,
                now,
            )?;
            let intent = payments::invoice_live_intent(tx, &l.invoice_id)?;
            let new = attempts::NewAttempt {
                invoice_id: &l.invoice_id,
                member_ref: &l.member_ref,
                channel: attempt_channel(channel),
                payment_intent: intent.as_ref().map(|i| i.id.as_str()),
                amount: intent.as_ref().map_or(f.amount_remaining, |i| i.amount),
                currency: &currency,
            };
            if attempts::insert(tx, &new, attempts::Status::Pending, None, now)?.is_err() {
                return Ok(Some(back));
            }
            Ok(Some(url))
        })
        .await;
    match target {
        Ok(Some(url)) => see_other(&url),
        Ok(None) => refused(lang),
        Err(e) => {
            tracing::warn!(error = %e.detail.message, "card checkout not opened");
            error_page(lang)
        }
    }
}
