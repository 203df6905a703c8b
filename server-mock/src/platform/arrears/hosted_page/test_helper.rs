//! `POST /v1/test_helpers/invoices/{id}/links` (`{"channels": ["email", "sms"]}`): one link
//! per channel for an invoice, as a reminder would carry it (the SMS's short link too), for tests
//! that open them without waiting for the schedule.

use axum::extract::{Path, State};
use rusqlite::OptionalExtension;
use tierspay_core::domain::payment_link::Channel;

use super::facts;
use super::resend::channel_name;
use crate::http::ApiError;
use crate::platform::arrears::{links, short_links};
use crate::platform::payments;
use crate::state::AppState;

/// The request.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksRequest {
    /// `push`, `email`, `sms`, `app`; at most four.
    pub channels: Vec<String>,
}

pub(super) async fn helper_links(
    State(state): State<AppState>,
    Path(id): Path<String>,
    crate::http::ApiJson(body): crate::http::ApiJson<LinksRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    if body.channels.is_empty() || body.channels.len() > 4 {
        return Err(ApiError::invalid_param(
            "channels",
            "give one to four channels.",
        ));
    }
    let channels = body
        .channels
        .iter()
        .map(|c| match c.as_str() {
            "push" => Ok(Channel::Push),
            "email" => Ok(Channel::Email),
            "sms" => Ok(Channel::Sms),
            "app" => Ok(Channel::App),
            _ => Err(ApiError::invalid_param(
                "channels",
                "a channel is push, email, sms or app.",
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if id.len() > 64 {
        return Err(ApiError::not_found("invoice"));
    }
    let now = state.clock.now();
    let st = state.clone();
    let data = state
        .db
        .transaction(move |tx| {
            let number: Option<u32> = tx
                .query_row(
                    "SELECT seq FROM platform_invoices WHERE invoice_id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            let l = number
                .and_then(|n| facts::linked(tx, n).ok().flatten())
                .ok_or_else(|| ApiError::not_found("invoice"))?;
            let v = payments::invoice(tx, &l.invoice_id)?;
            let mut data = Vec::new();
            for channel in channels {
                let signed = links::sign(
                    &st.signing_key,
                    links::LinkFor {
                        invoice_number: l.number,
                        member_ref: &l.member_ref,
                        amount_minor: v.amount_remaining,
                        currency: &v.currency.to_ascii_uppercase(),
                    },
                    channel,
                    now,
                )?;
                let short = if channel == Channel::Sms {
                    let code = short_links::create(
                        tx,
                        &l.invoice_id,
                        &signed.token,
                        signed.expires_at,
                        now,
                    )?;
                    Some(short_links::url(&code))
                } else {
                    None
                };
                data.push(serde_json::json!({
                    "channel": channel_name(channel),
                    "url": signed.url,
                    "token": signed.token,
                    "short_url": short,
                    "expires_at": signed.expires_at,
                }));
            }
            Ok(data)
        })
        .await?;
    Ok(axum::Json(
        serde_json::json!({ "object": "list", "data": data }),
    ))
}
