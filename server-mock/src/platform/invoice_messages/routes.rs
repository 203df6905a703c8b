//! The member's routes: `GET /v1/me/invoices/{id}/messages` (the thread, oldest first, by
//! pages), `POST /v1/me/invoices/{id}/messages` (a message, `Idempotency-Key` required) and
//! `GET /v1/me/invoices/{id}/messages/{message}/attachment` (the file). Another member's
//! invoice is a 404, as if it did not exist. Nothing here logs a message's text.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use tierspay_core::auth::b64_decode;
use tierspay_core::wire::{
    InvoiceMessage, InvoiceMessageList, NewInvoiceMessage, MAX_ATTACHMENT_BYTES, MAX_PAGE,
};

use super::store::{self, Attachment, Staff};
use crate::http::{ApiError, ApiJson, Caller};
use crate::state::AppState;

/// The member's message routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/me/invoices/{id}/messages", get(list).post(create))
        .route(
            "/v1/me/invoices/{id}/messages/{message}/attachment",
            get(download),
        )
        .route(
            "/v1/test_helpers/invoice_messages",
            post(helper_staff_answer),
        )
        .route(
            "/v1/test_helpers/invoice_messages/member",
            post(helper_member_message),
        )
}

/// `?limit=&starting_after=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadQuery {
    /// 1 to `MAX_PAGE` (default 20).
    pub limit: Option<u32>,
    /// An `imsg_…` of this thread.
    pub starting_after: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    query: Result<Query<ThreadQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<InvoiceMessageList>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    let Query(q) = query.map_err(|e| ApiError::invalid_param("limit", e.body_text()))?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid_param(
            "limit",
            format!("limit must be a whole number from 1 to {MAX_PAGE}."),
        ));
    }
    if q.starting_after.as_ref().is_some_and(|s| s.len() > 64) {
        return Err(ApiError::invalid_param(
            "starting_after",
            "starting_after is not a message of this invoice.",
        ));
    }
    let page = state
        .db
        .call(move |conn| {
            store::invoice_of(conn, &id, Some(&member_ref))?;
            let (data, has_more) = store::thread(conn, &id, limit, q.starting_after.as_deref())?;
            Ok(InvoiceMessageList {
                object: "list".into(),
                data,
                has_more,
            })
        })
        .await?;
    Ok(Json(page))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<NewInvoiceMessage>,
) -> Result<Json<InvoiceMessage>, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    // A message is sent once: without a key, a retry after a lost answer would post it twice.
    if headers.get("idempotency-key").is_none() {
        let mut e = ApiError::invalid_param(
            "Idempotency-Key",
            "Send an Idempotency-Key with each message, the same one on retries.",
        );
        e.detail.code = "idempotency_key_missing".into();
        return Err(e.not_executed());
    }
    let attachment = match &body.attachment {
        None => None,
        Some(a) => {
            // The body is already bounded (64 KiB); this refuses an oversized file before
            // decoding it, naming the field rather than the whole body.
            if a.data.len() > MAX_ATTACHMENT_BYTES.div_ceil(3) * 4 {
                return Err(ApiError::invalid_param(
                    "attachment[data]",
                    format!("attachment[data] must be 1 to {MAX_ATTACHMENT_BYTES} bytes."),
                )
                .not_executed());
            }
            let bytes = b64_decode(&a.data).map_err(|_| {
                ApiError::invalid_param("attachment[data]", "attachment[data] must be base64.")
                    .not_executed()
            })?;
            Some((a.content_type.clone(), bytes))
        }
    };
    let now = state.clock.now();
    let vault = state.vault.clone();
    let message = state
        .db
        .transaction(move |tx| {
            store::post_member(
                tx,
                &vault,
                &id,
                &member_ref,
                &body.text,
                attachment.as_ref().map(|(content_type, bytes)| Attachment {
                    content_type,
                    bytes,
                }),
                now,
            )
        })
        .await
        // A refusal changed nothing: the key stays free for a corrected message.
        .map_err(|e| {
            if e.status.is_client_error() {
                e.not_executed()
            } else {
                e
            }
        })?;
    tracing::info!(invoice = %message.invoice_id, message = %message.id, "member message");
    Ok(Json(message))
}

async fn download(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, message_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let member_ref = caller.device()?.member_ref.clone();
    let vault = state.vault.clone();
    let (content_type, bytes) = state
        .db
        .call(move |conn| {
            store::invoice_of(conn, &id, Some(&member_ref))?;
            let missing = || {
                let mut e = ApiError::not_found("attachment");
                e.detail.param = Some("message".into());
                e
            };
            if message_id.len() > 64 || store::message(conn, &id, &message_id)?.is_none() {
                return Err(missing());
            }
            store::attachment(conn, &vault, &message_id)?.ok_or_else(missing)
        })
        .await?;
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    // Only the three checked types are ever stored, so the value is always a valid header.
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // Downloaded, never rendered in place; and no browser guesses another type.
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}

/// `POST /v1/test_helpers/invoice_messages`: a support answer as the console posts it
/// ([`store::post_staff`]), for tests, benchmarks and the demo before the console exists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAnswer {
    /// The `in_…` answered.
    pub invoice: String,
    /// The agent's id at the console.
    pub staff_id: String,
    /// The name the member reads.
    pub display_name: String,
    /// The answer.
    pub text: String,
}

/// `POST /v1/test_helpers/invoice_messages/member`: the invoice's member writes
/// ([`store::post_member`], text only), for a test that has no phone to sign the member's
/// request, such as the console's browser test watching a reply arrive.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberMessage {
    /// The `in_…` written on.
    pub invoice: String,
    /// The message.
    pub text: String,
}

async fn helper_member_message(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MemberMessage>,
) -> Result<Json<InvoiceMessage>, ApiError> {
    let now = state.clock.now();
    let vault = state.vault.clone();
    let message = state
        .db
        .transaction(move |tx| {
            let member = store::invoice_of(tx, &body.invoice, None)?.member_ref;
            store::post_member(tx, &vault, &body.invoice, &member, &body.text, None, now)
        })
        .await?;
    Ok(Json(message))
}

async fn helper_staff_answer(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<StaffAnswer>,
) -> Result<Json<InvoiceMessage>, ApiError> {
    if body.staff_id.is_empty() || body.staff_id.len() > 64 {
        return Err(
            ApiError::invalid_param("staff_id", "staff_id must be 1 to 64 bytes.").not_executed(),
        );
    }
    let now = state.clock.now();
    let message = state
        .db
        .transaction(move |tx| {
            let staff = Staff {
                id: &body.staff_id,
                display_name: &body.display_name,
            };
            store::post_staff(tx, &body.invoice, staff, &body.text, now)
        })
        .await?;
    Ok(Json(message))
}
