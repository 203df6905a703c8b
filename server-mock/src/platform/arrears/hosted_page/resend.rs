//! An expired link's button: a fresh link for the same invoice on the same channel, sent to
//! the member's address on record (an SMS with its short link, or an email; a push's or the
//! app's link is resent by email). The request carries nothing but the old token: no address is
//! read from it. At most [`MAX_RESENDS_PER_DAY`] per invoice.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use rusqlite::{params, Connection};
use tierspay_core::domain::calendar::paris_date;
use tierspay_core::domain::masking::{mask_email, mask_phone};
use tierspay_core::domain::payment_link::Channel;

use super::link::Opened;
use super::{
    error_page, facts, html, lang_of, masked_address, open, page_url, refused, see_other, view,
};
use crate::http::ApiError;
use crate::platform::arrears::{links, messages, short_links};
use crate::platform::{notifications, payments};
use crate::state::AppState;

/// Fresh links one invoice may be sent from expired-link pages in 24 hours.
pub const MAX_RESENDS_PER_DAY: i64 = 3;

/// The resends table (a migration entry of the platform's).
pub const MIGRATION: &str = r#"
    CREATE TABLE platform_link_resends (
        seq        INTEGER PRIMARY KEY,
        invoice_id TEXT NOT NULL,
        channel    TEXT NOT NULL,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_link_resends_invoice ON platform_link_resends (invoice_id, created);
"#;

/// What a resend did.
enum Resent {
    Sent(messages::Insurer, String),
    /// Not expired: the link's own page.
    Valid,
    Refused,
    /// No usable address (200), or too many resends today (429): the expired page again.
    NotSent(messages::Insurer, Option<String>, StatusCode),
}

pub(super) fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Push => "push",
        Channel::Email => "email",
        Channel::Sms => "sms",
        Channel::App => "app",
    }
}

/// Signs a fresh link for the invoice on `channel` and records the message to the member's
/// address on record; the masked address, or `None` if there is none to send to. Also the
/// support console's "resend the link".
pub fn send_fresh_link(
    tx: &Connection,
    state: &AppState,
    l: &facts::LinkedInvoice,
    channel: Channel,
    now: i64,
) -> Result<Option<String>, ApiError> {
    let insurer = messages::Insurer::named(&l.insurer);
    let contact = facts::contact(tx, &l.member_ref)?;
    let v = payments::invoice(tx, &l.invoice_id)?;
    let (first, last) = contact
        .name
        .split_once(' ')
        .map(|(f, l)| (f.to_owned(), l.to_owned()))
        .unwrap_or((contact.name.clone(), String::new()));
    let reminder = messages::Reminder {
        insurer,
        first_name: first,
        last_name: last,
        contract_number: contact.contract_number.clone(),
        invoice_number: v.number.clone().unwrap_or_else(|| l.invoice_id.clone()),
        amount_minor: v.amount_remaining,
        due_date: paris_date(v.due_date.unwrap_or(v.created)),
        reference: v
            .rf_reference
            .as_deref()
            .and_then(|r| tierspay_core::domain::rf_reference::RfReference::parse(r).ok())
            .map(|r| r.grouped())
            .unwrap_or_default(),
        formal_notice: false,
    };
    // Only email and SMS carry a fresh link: a push or in-app link is resent by email.
    let channel = if channel == Channel::Sms {
        Channel::Sms
    } else {
        Channel::Email
    };
    let signed = links::sign(
        &state.signing_key,
        links::LinkFor {
            invoice_number: l.number,
            member_ref: &l.member_ref,
            amount_minor: v.amount_remaining,
            currency: &v.currency.to_ascii_uppercase(),
        },
        channel,
        now,
    )?;
    let masked = match channel {
        Channel::Sms => {
            if contact.phone.is_empty() {
                return Ok(None);
            }
            let code =
                short_links::create(tx, &l.invoice_id, &signed.token, signed.expires_at, now)?;
            let text = messages::sms::text(&reminder, &short_links::url(&code))
                .ok_or_else(|| ApiError::internal("fresh link SMS does not fit"))?;
            notifications::send_sms(tx, &contact.phone, &text, now)?;
            mask_phone(&contact.phone)
        }
        _ => {
            if !messages::email::is_address(&contact.email) {
                return Ok(None);
            }
            let id = tierspay_core::auth::random::id("msg");
            let email = messages::email::build(
                &reminder,
                &contact.email,
                &signed.url,
                now,
                &format!("{id}@app.tierspay.fr"),
            )
            .map_err(|e| ApiError::internal(&format!("fresh link email: {e}")))?;
            notifications::send_mime_email(
                tx,
                &contact.email,
                &email.subject,
                &email.text,
                &email.raw,
                now,
            )?;
            mask_email(&contact.email)
        }
    };
    tx.execute(
        "INSERT INTO platform_link_resends (invoice_id, channel, created) VALUES (?1, ?2, ?3)",
        params![l.invoice_id, channel_name(channel), now],
    )?;
    Ok(Some(masked))
}

pub(super) async fn resend(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers);
    let now = state.clock.now();
    let st = state.clone();
    let token_path = token.clone();
    let resent = state
        .db
        .transaction(move |tx| {
            let (opened, linked) = open(tx, &st, &token, now)?;
            let (channel, l) = match (opened, linked) {
                (Opened::Expired { channel, .. }, Some(l)) => (channel, l),
                (Opened::Valid(_), Some(_)) => return Ok(Resent::Valid),
                _ => return Ok(Resent::Refused),
            };
            let insurer = messages::Insurer::named(&l.insurer);
            let recent: i64 = tx.query_row(
                "SELECT COUNT(*) FROM platform_link_resends WHERE invoice_id = ?1 AND created > ?2",
                params![l.invoice_id, now - 86_400],
                |r| r.get(0),
            )?;
            if recent >= MAX_RESENDS_PER_DAY {
                let contact = facts::contact(tx, &l.member_ref)?;
                return Ok(Resent::NotSent(
                    insurer,
                    masked_address(&contact, channel),
                    StatusCode::TOO_MANY_REQUESTS,
                ));
            }
            Ok(match send_fresh_link(tx, &st, &l, channel, now)? {
                Some(masked) => Resent::Sent(insurer, masked),
                None => Resent::NotSent(insurer, None, StatusCode::OK),
            })
        })
        .await;
    match resent {
        Ok(Resent::Sent(insurer, masked)) => html(
            StatusCode::OK,
            lang,
            view::resent_page(lang, Some(&facts::page_insurer(&insurer)), &masked),
        ),
        Ok(Resent::NotSent(insurer, address, status)) => html(
            status,
            lang,
            view::expired_page(
                lang,
                Some(&facts::page_insurer(&insurer)),
                address.as_deref(),
                &format!("/l/{token_path}/resend"),
            ),
        ),
        Ok(Resent::Valid) => see_other(&page_url(&state, &token_path)),
        Ok(Resent::Refused) => refused(lang),
        Err(e) => {
            tracing::warn!(error = %e.detail.message, "fresh link not sent");
            error_page(lang)
        }
    }
}
