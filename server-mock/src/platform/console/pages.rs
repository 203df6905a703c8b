//! The console's pages: the search, an invoice's view, and its live parts alone (what the
//! page's script fetches when the event stream says the invoice changed).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rusqlite::Connection;
use tierspay_core::domain::masking::{mask_email, mask_phone};
use tierspay_core::domain::rf_reference::RfReference;

use super::i18n::{self, Lang};
use super::search::{self, StatusFilter};
use super::session::Session;
use super::{assets, audit, csrf, forms, html, problem, see_other, signed_in, timeline, views};
use tierspay_core::auth::{b64url, random};
use tierspay_core::wire::invoice_message::{InvoiceMessage, MAX_PAGE};

use crate::http::ApiError;
use crate::platform::arrears::{hosted_page::facts, invoices};
use crate::platform::invoice_messages;
use crate::platform::payments;
use crate::state::AppState;

/// Audit lines an invoice view shows.
const AUDIT_LINES: u32 = 50;

/// The search's query string.
#[derive(Debug, serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    status: Option<String>,
}

/// `GET /console/invoices?q=…&status=…`.
pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let lang = i18n::of_request(&headers);
    let t = i18n::texts(lang);
    let s = match signed_in(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/console/login"),
        Err(e) => return forms::failed(lang, None, &e),
    };
    let frame = || views::Frame::new(lang, t.search, Some(super::who(&s)), "/console/invoices");
    let q = match search::Query::parse(query.q.as_deref(), query.status.as_deref()) {
        Ok(q) => q,
        Err(e) => {
            // What was typed is shown back, escaped, with the field at fault.
            let typed: String = query.q.unwrap_or_default().chars().take(80).collect();
            let msg = format!(
                "{}: {}",
                e.detail.param.unwrap_or_default(),
                e.detail.message
            );
            return html(
                StatusCode::BAD_REQUEST,
                lang,
                views::search_page(frame(), lang, &typed, StatusFilter::Any, None, Some(&msg)),
            );
        }
    };
    let searched = query.q.is_some() || query.status.is_some();
    if !searched {
        return html(
            StatusCode::OK,
            lang,
            views::search_page(frame(), lang, "", StatusFilter::Any, None, None),
        );
    }
    let q2 = q.clone();
    match state.db.call(move |c| search::run(c, &q2)).await {
        Ok(hits) => html(
            StatusCode::OK,
            lang,
            views::search_page(frame(), lang, &q.text, q.status, Some(&hits), None),
        ),
        Err(e) => forms::failed(lang, Some(&s), &e),
    }
}

/// The masked first name and initial support greets the member with (`Camille M.`).
fn short_name(full: &str) -> String {
    match full.split_once(' ') {
        Some((first, last)) => match last.chars().next() {
            Some(initial) => format!("{first} {initial}."),
            None => first.to_owned(),
        },
        None => full.to_owned(),
    }
}

/// What the view shows of `id`, or `None` if it is not a platform invoice.
pub fn load(
    conn: &Connection,
    lang: Lang,
    id: &str,
) -> Result<Option<views::InvoiceView>, ApiError> {
    if id.len() > 64 {
        return Ok(None);
    }
    let Some(p) = invoices::record(conn, id)? else {
        return Ok(None);
    };
    let v = payments::invoice(conn, id)?;
    let contact = facts::contact(conn, &p.member_ref).ok();
    let credited = crate::psp::invoice_history::credited(conn, id)?;
    let f = views::InvoiceFacts {
        id: id.to_owned(),
        number: v.number.clone(),
        status: v.status.as_str().to_owned(),
        amount_due: v.amount_due,
        amount_paid: v.amount_paid,
        amount_remaining: v.amount_remaining,
        amount_overpaid: v.amount_overpaid,
        credited,
        due_date: v.due_date,
        rf_reference: v
            .rf_reference
            .as_deref()
            .and_then(|r| RfReference::parse(r).ok())
            .map(|r| r.grouped()),
        created: p.created,
        contract: contact
            .as_ref()
            .map(|c| c.contract_number.clone())
            .unwrap_or_else(|| p.contract_ref.clone()),
        member: contact
            .as_ref()
            .map(|c| short_name(&c.name))
            .unwrap_or_default(),
        phone: contact
            .as_ref()
            .filter(|c| !c.phone.is_empty())
            .map(|c| mask_phone(&c.phone))
            .unwrap_or_default(),
        email: contact
            .as_ref()
            .filter(|c| !c.email.is_empty())
            .map(|c| mask_email(&c.email))
            .unwrap_or_default(),
    };
    let events = timeline::of_invoice(conn, id)?;
    let entries = audit::of_invoice(conn, id, AUDIT_LINES)?;
    let (messages, more) = newest_messages(conn, id)?;
    Ok(Some(views::invoice_view(
        lang,
        &f,
        &events,
        &entries,
        (&messages, more),
    )))
}

/// The newest [`MAX_PAGE`] messages of the thread, oldest first, and whether older ones were
/// left out (the thread API pages forward, so older pages are read and dropped; a thread has
/// at most `MAX_MESSAGES_PER_INVOICE`).
fn newest_messages(conn: &Connection, id: &str) -> Result<(Vec<InvoiceMessage>, bool), ApiError> {
    let mut all: Vec<InvoiceMessage> = Vec::new();
    let mut after: Option<String> = None;
    let mut dropped = false;
    loop {
        let (page, more) = invoice_messages::thread(conn, id, MAX_PAGE, after.as_deref())?;
        after = page.last().map(|m| m.id.clone());
        all.extend(page);
        if all.len() > MAX_PAGE as usize {
            all.drain(..all.len() - MAX_PAGE as usize);
            dropped = true;
        }
        if !more || after.is_none() {
            break;
        }
    }
    Ok((all, dropped))
}

async fn view_of(
    state: &AppState,
    lang: Lang,
    id: &str,
) -> Result<Option<views::InvoiceView>, ApiError> {
    let id = id.to_owned();
    state.db.call(move |c| load(c, lang, &id)).await
}

fn not_found(lang: Lang, s: &Session) -> Response {
    let t = i18n::texts(lang);
    problem(
        StatusCode::NOT_FOUND,
        lang,
        Some(s),
        t.not_found,
        t.not_found,
        None,
        None,
    )
}

/// `GET /console/invoices/{id}`.
pub async fn invoice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::of_request(&headers);
    let s = match signed_in(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/console/login"),
        Err(e) => return forms::failed(lang, None, &e),
    };
    match view_of(&state, lang, &id).await {
        Ok(Some(v)) => {
            let t = i18n::texts(lang);
            let path = format!("/console/invoices/{}", v.id);
            let mut f = views::Frame::new(
                lang,
                &format!("{} {}", t.invoice, v.number),
                Some(super::who(&s)),
                &path,
            );
            f.script = Some(assets::script());
            f.events = Some(format!("{path}/events"));
            f.live_href = format!("{path}/live");
            let finance = s.staff.role.is_finance();
            html(
                StatusCode::OK,
                lang,
                views::invoice_page(
                    f,
                    v,
                    csrf::token(&s.secret),
                    finance,
                    b64url(random::bytes::<16>()),
                ),
            )
        }
        Ok(None) => not_found(lang, &s),
        Err(e) => forms::failed(lang, Some(&s), &e),
    }
}

/// `GET /console/invoices/{id}/live`: the live parts alone; 401 without a session (the
/// script then goes to the sign-in page).
pub async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = i18n::of_request(&headers);
    let s = match signed_in(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let t = i18n::texts(lang);
            return problem(
                StatusCode::UNAUTHORIZED,
                lang,
                None,
                t.sign_in,
                t.sign_in,
                None,
                None,
            );
        }
        Err(e) => return forms::failed(lang, None, &e),
    };
    match view_of(&state, lang, &id).await {
        Ok(Some(v)) => {
            let f = views::Frame::new(lang, "", None, "/console/invoices");
            html(StatusCode::OK, lang, views::live_fragment(f, v))
        }
        Ok(None) => not_found(lang, &s),
        Err(e) => forms::failed(lang, Some(&s), &e),
    }
}
