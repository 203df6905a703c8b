//! The broker's routes (`/v1/broker/…`, a broker key): its clients' open invoices, a payment
//! link for one of them, and the link and the invoice read back later.
//!
//! A broker's clients are the contracts assigned to it (`platform_broker_contracts`); an invoice
//! is theirs when its contract is. Any other invoice, and any id that is no invoice at all, get
//! the same 404 through the same code path, so a broker learns nothing of invoices not theirs.
//! Answers are built here field by field from the PSP's invoice and the platform's row: the
//! member's name, birth date and contact are never read.
//!
//! A link is the one reminders carry (`arrears::links::sign`, the email channel unless the
//! broker asks for `sms`, which adds the short link): it opens the same hosted page and pays
//! through the same attempts, one active payment per invoice whatever the channel.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::{json, Value};
use tierspay_core::auth::random;
use tierspay_core::domain::payment_link::Channel;

use super::{audit, client_of};
use crate::http::{parse_json, ApiError, BrokerSession, Caller, ClientAddr};
use crate::platform::arrears::{links, short_links};
use crate::platform::payments;
use crate::psp::api::InvoiceStatus;
use crate::state::AppState;

/// Most invoices one page lists.
pub const MAX_LIMIT: u32 = 100;
/// Invoices a page lists unless told.
pub const DEFAULT_LIMIT: u32 = 10;
/// Longest id looked up.
const MAX_ID: usize = 64;

/// An invoice of one of the broker's clients, as the platform records it.
#[derive(Debug, Clone)]
struct Owned {
    number: i64,
    invoice_id: String,
    contract_ref: String,
    member_ref: String,
    source: String,
}

/// Whether `id` has the shape of one of our ids (`prefix…`, letters, digits, `_`, `-`).
fn plausible(id: &str, prefix: &str) -> bool {
    id.len() <= MAX_ID
        && id.starts_with(prefix)
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn owned(conn: &Connection, broker_id: &str, invoice_id: &str) -> Result<Option<Owned>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT p.seq, p.invoice_id, p.contract_ref, p.member_ref, p.source
             FROM platform_invoices p
             JOIN platform_broker_contracts b ON b.contract_ref = p.contract_ref
             WHERE p.invoice_id = ?1 AND b.broker_id = ?2",
        )?
        .query_row(params![invoice_id, broker_id], owned_row)
        .optional()?)
}

fn owned_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Owned> {
    Ok(Owned {
        number: r.get(0)?,
        invoice_id: r.get(1)?,
        contract_ref: r.get(2)?,
        member_ref: r.get(3)?,
        source: r.get(4)?,
    })
}

/// The 404 of an invoice that is not the broker's client's, word for word the one of an id
/// that names no invoice.
fn not_theirs() -> ApiError {
    let mut e = ApiError::not_found("invoice");
    e.detail.param = Some("id".into());
    e
}

fn no_link() -> ApiError {
    let mut e = ApiError::not_found("payment_link");
    e.detail.param = Some("id".into());
    e
}

/// The broker's view of an invoice: reference, amounts (minor units), status, due date.
fn invoice_json(conn: &Connection, broker_id: &str, o: &Owned) -> Result<Value, ApiError> {
    let v = payments::invoice(conn, &o.invoice_id)?;
    let latest_link: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM platform_broker_links WHERE invoice_id = ?1 AND broker_id = ?2
             ORDER BY seq DESC LIMIT 1",
        )?
        .query_row(params![o.invoice_id, broker_id], |r| r.get(0))
        .optional()?;
    Ok(json!({
        "object": "broker_invoice",
        "id": v.id,
        "number": v.number,
        "contract": o.contract_ref,
        "source": o.source,
        "status": v.status.as_str(),
        "currency": v.currency,
        "amount_due": v.amount_due,
        "amount_paid": v.amount_paid,
        "amount_remaining": v.amount_remaining,
        "due_date": v.due_date,
        "rf_reference": v.rf_reference,
        "created": v.created,
        "paid_at": v.paid_at,
        "latest_payment_link": latest_link,
    }))
}

/// Writes an audit line in a transaction of its own and gives back `e`: a refusal outside
/// any effect (reads, checks before a write).
async fn refused(
    state: &AppState,
    b: &BrokerSession,
    action: &'static str,
    invoice: Option<String>,
    outcome: &'static str,
    client: String,
    e: ApiError,
) -> ApiError {
    let now = state.clock.now();
    let broker = b.broker_id.clone();
    let detail = format!("key {}", b.key_id);
    let written = state
        .db
        .transaction(move |tx| {
            audit(
                tx,
                now,
                &broker,
                action,
                invoice.as_deref(),
                outcome,
                &detail,
                &client,
            )
        })
        .await;
    match written {
        Ok(()) => e,
        Err(failed) => failed,
    }
}

/// `?limit=&starting_after=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to [`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]).
    pub limit: Option<u32>,
    /// An `in_…` of the broker's clients: the page starts after it.
    pub starting_after: Option<String>,
}

/// The parameter a query's parsing error is about: the unknown field serde names, else the
/// parameter its message mentions, else `limit`.
fn query_param(text: &str) -> String {
    if let Some(rest) = text.split("unknown field `").nth(1) {
        if let Some(field) = rest.split('`').next() {
            if !field.is_empty() && field.len() <= 40 && field.bytes().all(|b| b.is_ascii_graphic())
            {
                return field.to_owned();
            }
        }
    }
    ["starting_after", "limit"]
        .iter()
        .find(|p| text.contains(*p))
        .map_or_else(|| "limit".to_owned(), |p| (*p).to_owned())
}

/// `GET /v1/broker/invoices`: the clients' open invoices, newest first, paged as the mock's
/// other lists (`has_more`, `starting_after`).
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = caller.broker()?.clone();
    let client = client_of(client.as_deref());
    const ACTION: &str = "broker_invoices_list";
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => {
            let text = e.body_text();
            let err = ApiError::invalid_param(
                &query_param(&text),
                format!("The query is not valid: {text}."),
            );
            return Err(refused(&state, &b, ACTION, None, "invalid_request", client, err).await);
        }
    };
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        let err = ApiError::invalid_param(
            "limit",
            format!("limit must be a whole number from 1 to {MAX_LIMIT}."),
        );
        return Err(refused(&state, &b, ACTION, None, "invalid_request", client, err).await);
    }
    let bad_cursor = || {
        ApiError::invalid_param(
            "starting_after",
            "starting_after is not an invoice of your clients.",
        )
    };
    if q.starting_after
        .as_deref()
        .is_some_and(|s| !plausible(s, "in_"))
    {
        return Err(refused(
            &state,
            &b,
            ACTION,
            None,
            "invalid_request",
            client,
            bad_cursor(),
        )
        .await);
    }
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            let cursor = match q.starting_after.as_deref() {
                Some(id) => match owned(tx, &b.broker_id, id)? {
                    Some(o) => Some(o.number),
                    None => {
                        audit(
                            tx,
                            now,
                            &b.broker_id,
                            ACTION,
                            None,
                            "invalid_request",
                            &format!("key {}", b.key_id),
                            &client,
                        )?;
                        return Ok(Err(bad_cursor()));
                    }
                },
                None => None,
            };
            let mut rows: Vec<Owned> = tx
                .prepare_cached(
                    "SELECT p.seq, p.invoice_id, p.contract_ref, p.member_ref, p.source
                     FROM platform_broker_contracts b
                     JOIN platform_invoices p ON p.contract_ref = b.contract_ref
                     JOIN psp_invoices i ON i.id = p.invoice_id
                     WHERE b.broker_id = ?1 AND i.status = 'open' AND (?2 IS NULL OR p.seq < ?2)
                     ORDER BY p.seq DESC LIMIT ?3",
                )?
                .query_map(
                    params![b.broker_id, cursor, i64::from(limit) + 1],
                    owned_row,
                )?
                .collect::<rusqlite::Result<_>>()?;
            let has_more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let data = rows
                .iter()
                .map(|o| invoice_json(tx, &b.broker_id, o))
                .collect::<Result<Vec<_>, _>>()?;
            audit(
                tx,
                now,
                &b.broker_id,
                ACTION,
                None,
                "done",
                &format!("key {}, {} invoices", b.key_id, data.len()),
                &client,
            )?;
            Ok(Ok(json!({
                "object": "list",
                "url": "/v1/broker/invoices",
                "data": data,
                "has_more": has_more,
            })))
        })
        .await??;
    Ok(Json(answer))
}

/// `GET /v1/broker/invoices/{id}`: one invoice of a client, whatever its status (a link's
/// invoice once paid, say).
pub async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let b = caller.broker()?.clone();
    let client = client_of(client.as_deref());
    const ACTION: &str = "broker_invoice_read";
    if !plausible(&id, "in_") {
        return Err(refused(&state, &b, ACTION, None, "not_found", client, not_theirs()).await);
    }
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            let found = owned(tx, &b.broker_id, &id)?;
            let outcome = if found.is_some() { "done" } else { "not_found" };
            audit(
                tx,
                now,
                &b.broker_id,
                ACTION,
                Some(&id),
                outcome,
                &format!("key {}", b.key_id),
                &client,
            )?;
            match found {
                Some(o) => Ok(Ok(invoice_json(tx, &b.broker_id, &o)?)),
                None => Ok(Err(not_theirs())),
            }
        })
        .await??;
    Ok(Json(answer))
}

/// `POST /v1/broker/invoices/{id}/payment_links` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLink {
    /// How the broker will pass it on: `email` (the default) or `sms` (adds the short link).
    pub channel: Option<String>,
}

fn channel_of(body: &NewLink) -> Result<Channel, ApiError> {
    match body.channel.as_deref() {
        None | Some("email") => Ok(Channel::Email),
        Some("sms") => Ok(Channel::Sms),
        Some(_) => Err(ApiError::invalid_param(
            "channel",
            "channel must be email or sms.",
        )),
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Sms => "sms",
        _ => "email",
    }
}

/// A stored link, as the broker reads it.
struct StoredLink {
    id: String,
    invoice_id: String,
    channel: String,
    token: Option<String>,
    short_code: Option<String>,
    amount: i64,
    currency: String,
    expires_at: i64,
    created: i64,
}

fn link_json(l: &StoredLink, invoice: Value, now: i64) -> Value {
    json!({
        "object": "broker_payment_link",
        "id": l.id,
        "channel": l.channel,
        "url": l.token.as_deref().map(|t| tierspay_core::domain::payment_link::url(links::LINK_BASE, t)),
        "short_url": l.short_code.as_deref().map(short_links::url),
        "amount": l.amount,
        "currency": l.currency,
        "expires_at": l.expires_at,
        "expired": now >= l.expires_at,
        "created": l.created,
        "invoice": invoice,
    })
}

/// `POST /v1/broker/invoices/{id}/payment_links`: a signed link for what is left to pay on one
/// of the clients' open invoices (`Idempotency-Key`: a retry gets the same link).
pub async fn create_link(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b = caller.broker()?.clone();
    let client = client_of(client.as_deref());
    const ACTION: &str = "broker_payment_link";
    // Refusals are answers of this endpoint: stored against the key with their audit line
    // (a body is bound to its key, so the same request always gets the same refusal).
    let executed = |mut e: ApiError| {
        e.executed = true;
        e
    };
    let parsed = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(NewLink::default())
    } else {
        parse_json::<NewLink>(&body).map_err(executed)
    };
    let channel = parsed.and_then(|n| channel_of(&n));
    let channel = match channel {
        Ok(c) => c,
        Err(e) => {
            return Err(refused(&state, &b, ACTION, None, "invalid_request", client, e).await)
        }
    };
    if !plausible(&id, "in_") {
        return Err(refused(&state, &b, ACTION, None, "not_found", client, not_theirs()).await);
    }
    let now = state.clock.now();
    let st = state.clone();
    let answer = state
        .db
        .transaction(move |tx| {
            let refuse = |outcome: &str, e: ApiError| -> Result<Result<Value, ApiError>, ApiError> {
                audit(
                    tx,
                    now,
                    &b.broker_id,
                    ACTION,
                    Some(&id),
                    outcome,
                    &format!("key {}", b.key_id),
                    &client,
                )?;
                Ok(Err(e))
            };
            let Some(o) = owned(tx, &b.broker_id, &id)? else {
                return refuse("not_found", not_theirs());
            };
            let v = payments::invoice(tx, &o.invoice_id)?;
            if v.status != InvoiceStatus::Open || v.amount_remaining <= 0 {
                let mut e = ApiError::invalid(
                    "invoice_not_open",
                    format!(
                        "This invoice is {}: there is nothing to pay by link.",
                        v.status.as_str()
                    ),
                );
                e.detail.param = Some("id".into());
                return refuse("invoice_not_open", e);
            }
            let number = u32::try_from(o.number)
                .map_err(|_| ApiError::internal("invoice number past a link's range"))?;
            let currency = v.currency.to_ascii_uppercase();
            let signed = links::sign(
                &st.signing_key,
                links::LinkFor {
                    invoice_number: number,
                    member_ref: &o.member_ref,
                    amount_minor: v.amount_remaining,
                    currency: &currency,
                },
                channel,
                now,
            )?;
            let short_code = match channel {
                Channel::Sms => Some(short_links::create(
                    tx,
                    &o.invoice_id,
                    &signed.token,
                    signed.expires_at,
                    now,
                )?),
                _ => None,
            };
            let link = StoredLink {
                id: random::id("bpl"),
                invoice_id: o.invoice_id.clone(),
                channel: channel_name(channel).to_owned(),
                token: Some(signed.token.clone()),
                short_code,
                amount: v.amount_remaining,
                currency: v.currency.clone(),
                expires_at: signed.expires_at,
                created: now,
            };
            tx.prepare_cached(
                "INSERT INTO platform_broker_links
                     (id, broker_id, key_id, invoice_id, channel, token, short_code, amount, currency, expires_at, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, vault_seal('broker_link:' || ?1, ?6), ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                link.id,
                b.broker_id,
                b.key_id,
                link.invoice_id,
                link.channel,
                signed.token,
                link.short_code,
                link.amount,
                link.currency,
                link.expires_at,
                link.created
            ])?;
            audit(
                tx,
                now,
                &b.broker_id,
                ACTION,
                Some(&o.invoice_id),
                "done",
                &format!(
                    "key {}, link {}, {}, {} {}",
                    b.key_id, link.id, link.channel, link.amount, link.currency
                ),
                &client,
            )?;
            let invoice = invoice_json(tx, &b.broker_id, &o)?;
            Ok(Ok(link_json(&link, invoice, now)))
        })
        .await??;
    Ok(Json(answer))
}

/// `GET /v1/broker/payment_links/{id}`: a link the broker created, with its invoice as it is
/// now (paid, say). A link of another broker, or whose contract is no longer the broker's, is
/// a 404.
pub async fn retrieve_link(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    client: Option<Extension<ClientAddr>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let b = caller.broker()?.clone();
    let client = client_of(client.as_deref());
    const ACTION: &str = "broker_payment_link_read";
    if !plausible(&id, "bpl_") {
        return Err(refused(&state, &b, ACTION, None, "not_found", client, no_link()).await);
    }
    let now = state.clock.now();
    let answer = state
        .db
        .transaction(move |tx| {
            let link: Option<StoredLink> = tx
                .prepare_cached(
                    "SELECT id, invoice_id, channel, vault_open('broker_link:' || id, token), short_code,
                            amount, currency, expires_at, created
                     FROM platform_broker_links WHERE id = ?1 AND broker_id = ?2",
                )?
                .query_row(params![id, b.broker_id], |r| {
                    Ok(StoredLink {
                        id: r.get(0)?,
                        invoice_id: r.get(1)?,
                        channel: r.get(2)?,
                        token: r.get(3)?,
                        short_code: r.get(4)?,
                        amount: r.get(5)?,
                        currency: r.get(6)?,
                        expires_at: r.get(7)?,
                        created: r.get(8)?,
                    })
                })
                .optional()?;
            let found = match link {
                Some(l) => owned(tx, &b.broker_id, &l.invoice_id)?.map(|o| (l, o)),
                None => None,
            };
            let invoice = found.as_ref().map(|(l, _)| l.invoice_id.clone());
            audit(
                tx,
                now,
                &b.broker_id,
                ACTION,
                invoice.as_deref(),
                if found.is_some() { "done" } else { "not_found" },
                &format!("key {}", b.key_id),
                &client,
            )?;
            match found {
                Some((l, o)) => {
                    let invoice = invoice_json(tx, &b.broker_id, &o)?;
                    Ok(Ok(link_json(&l, invoice, now)))
                }
                None => Ok(Err(no_link())),
            }
        })
        .await??;
    Ok(Json(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_id_shapes_are_looked_up() {
        assert!(plausible("in_1AbC-d_9", "in_"));
        for bad in [
            "",
            "in",
            "ch_1",
            "in_1'--",
            "in_é",
            &format!("in_{}", "a".repeat(62)),
        ] {
            assert!(!plausible(bad, "in_"), "{bad}");
        }
    }

    #[test]
    fn a_query_error_names_its_parameter() {
        assert_eq!(
            query_param("Failed to deserialize query string: limit: invalid digit"),
            "limit"
        );
        assert_eq!(
            query_param(
                "Failed to deserialize query string: unknown field `expand`, expected `limit` or `starting_after`"
            ),
            "expand"
        );
        assert_eq!(
            query_param("starting_after: expected a string"),
            "starting_after"
        );
    }

    #[test]
    fn a_link_is_asked_for_email_or_sms_only() {
        let c = |s: Option<&str>| {
            channel_of(&NewLink {
                channel: s.map(str::to_owned),
            })
        };
        assert_eq!(c(None).unwrap(), Channel::Email);
        assert_eq!(c(Some("sms")).unwrap(), Channel::Sms);
        for bad in ["push", "app", "EMAIL", ""] {
            assert_eq!(
                c(Some(bad)).unwrap_err().detail.param.as_deref(),
                Some("channel")
            );
        }
    }
}
