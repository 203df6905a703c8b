//! 3D Secure challenges: the page a card that asks for authentication sends the customer to
//! (`next_action.redirect_to_url.url`), served by the mock at a long random path
//! (`GET /redirect/authenticate/{token}`): a small HTML page, no JavaScript, with a Complete and
//! a Fail button that post a form back to the same URL. The answer goes on to the intent
//! (PaymentIntent or SetupIntent), then to its `return_url` with Stripe's query
//! (`payment_intent`, `payment_intent_client_secret`, `redirect_status`), or shows the result.
//!
//! Tests can skip the page: `POST /v1/test_helpers/payment_intents/{id}/authenticate` and
//! `POST /v1/test_helpers/setup_intents/{id}/authenticate` with `outcome=complete|fail`.
//!
//! Only a SHA-256 of the token is stored: a copy of the database cannot answer a challenge.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::auth::{b64url, random, sha256};

use super::form::{self, invalid};
use super::model::{missing, refuse, Ctx};
use super::payment_intents;
use super::setup_intents;
use super::wire::{body_fields, Psp};
use crate::http::ApiError;
use crate::state::AppState;

/// The challenges table (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_challenges (
        seq        INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        intent     TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('payment_intent', 'setup_intent')),
        status     TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
        return_url TEXT,
        created    INTEGER NOT NULL
    );
    CREATE INDEX psp_challenges_intent ON psp_challenges (intent) WHERE status = 'pending';
"#;

/// Which intent a challenge authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `pi_…`
    PaymentIntent,
    /// `seti_…`
    SetupIntent,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::PaymentIntent => "payment_intent",
            Self::SetupIntent => "setup_intent",
        }
    }
}

fn token_hash(token: &str) -> String {
    b64url(sha256(token.as_bytes()))
}

/// Opens a challenge for an intent; its `next_action` (`redirect_to_url`).
pub(super) fn start(
    tx: &Connection,
    ctx: &Ctx,
    intent: &str,
    kind: Kind,
    return_url: Option<&str>,
) -> Result<Value, ApiError> {
    cancel_pending(tx, intent)?;
    let token = random::secret("3ds");
    tx.execute(
        "INSERT INTO psp_challenges (token_hash, intent, kind, status, return_url, created)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
        params![
            token_hash(&token),
            intent,
            kind.as_str(),
            return_url,
            ctx.now
        ],
    )?;
    let base = ctx.base_url.as_deref().unwrap_or_default();
    Ok(json!({
        "type": "redirect_to_url",
        "redirect_to_url": {
            "url": format!("{base}/redirect/authenticate/{token}"),
            "return_url": return_url,
        },
    }))
}

/// Closes an intent's open challenge (canceled, or confirmed again).
pub(super) fn cancel_pending(tx: &Connection, intent: &str) -> Result<(), ApiError> {
    tx.execute(
        "UPDATE psp_challenges SET status = 'canceled' WHERE intent = ?1 AND status = 'pending'",
        [intent],
    )?;
    Ok(())
}

/// Where an intent went after its challenge: whether it succeeded (or is held), and the
/// client secret for the return URL.
struct Done {
    intent: String,
    kind: Kind,
    succeeded: bool,
    return_url: Option<String>,
}

fn apply(
    tx: &Connection,
    ctx: &Ctx,
    kind: Kind,
    intent: &str,
    complete: bool,
) -> Result<bool, ApiError> {
    tx.execute(
        "UPDATE psp_challenges SET status = ?2 WHERE intent = ?1 AND status = 'pending'",
        params![intent, if complete { "succeeded" } else { "failed" }],
    )?;
    Ok(match kind {
        Kind::PaymentIntent => {
            let c = payment_intents::after_authentication(tx, ctx, intent, complete)?;
            matches!(c.view().status.as_str(), "succeeded" | "requires_capture")
        }
        Kind::SetupIntent => {
            let c = setup_intents::after_authentication(tx, ctx, intent, complete)?;
            c.view().status == "succeeded"
        }
    })
}

fn by_token(
    conn: &Connection,
    token: &str,
) -> Result<(String, Kind, String, Option<String>), ApiError> {
    conn.query_row(
        "SELECT intent, kind, status, return_url FROM psp_challenges WHERE token_hash = ?1",
        [token_hash(token)],
        |r| {
            let kind: String = r.get(1)?;
            Ok((
                r.get(0)?,
                if kind == "setup_intent" {
                    Kind::SetupIntent
                } else {
                    Kind::PaymentIntent
                },
                r.get(2)?,
                r.get(3)?,
            ))
        },
    )
    .optional()?
    .ok_or_else(|| missing("challenge", "token", "…"))
}

fn complete_by_token(
    tx: &Connection,
    ctx: &Ctx,
    token: &str,
    complete: bool,
) -> Result<Done, ApiError> {
    let (intent, kind, status, return_url) = by_token(tx, token)?;
    if status != "pending" {
        return Err(refuse(
            "challenge_closed",
            None,
            format!("This authentication is over ({status})."),
        ));
    }
    let succeeded = apply(tx, ctx, kind, &intent, complete)?;
    Ok(Done {
        intent,
        kind,
        succeeded,
        return_url,
    })
}

// ------------------------------------------------------------------- the hosted page

/// The challenge page and the test helpers.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/redirect/authenticate/{token}", get(page).post(answer))
        .route(
            "/v1/test_helpers/payment_intents/{id}/authenticate",
            post(helper_payment_intent),
        )
        .route(
            "/v1/test_helpers/setup_intents/{id}/authenticate",
            post(helper_setup_intent),
        )
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".into(),
            '<' => "&lt;".into(),
            '>' => "&gt;".into(),
            '"' => "&quot;".into(),
            '\'' => "&#39;".into(),
            c => c.to_string(),
        })
        .collect()
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title></head>\n<body style=\"font-family: sans-serif; max-width: 28em; margin: 2em auto\">\
         <h1>{t}</h1>\n{body}\n</body></html>\n",
        t = escape(title)
    );
    let mut r = (status, Html(doc)).into_response();
    // The page is a credential's form: never framed, never cached.
    let h = r.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; form-action 'self'; style-src 'unsafe-inline'",
        ),
    );
    r
}

/// Amount and currency of the intent, for the page.
fn describe(conn: &Connection, kind: Kind, intent: &str) -> Result<String, ApiError> {
    Ok(match kind {
        Kind::PaymentIntent => {
            let doc = payment_intents::payment_intent_json(conn, intent, &[])?;
            let minor = doc["amount"].as_i64().unwrap_or_default();
            format!(
                "Confirm a payment of {}.{:02} {} to TiersPay.",
                minor / 100,
                minor % 100,
                doc["currency"].as_str().unwrap_or_default().to_uppercase()
            )
        }
        Kind::SetupIntent => "Confirm that TiersPay may charge this card for your visits.".into(),
    })
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let found = state
        .db
        .call(move |conn| {
            let (intent, kind, status, _) = by_token(conn, &token)?;
            Ok((describe(conn, kind, &intent)?, status))
        })
        .await;
    match found {
        Err(_) => html(
            StatusCode::NOT_FOUND,
            "Authentication not found",
            "<p>This link is not valid.</p>",
        ),
        Ok((_, status)) if status != "pending" => html(
            StatusCode::OK,
            "Authentication over",
            &format!("<p>This authentication is over ({}).</p>", escape(&status)),
        ),
        Ok((what, _)) => html(
            StatusCode::OK,
            "3D Secure test page",
            &format!(
                "<p>{}</p>\n\
                 <form method=\"post\"><input type=\"hidden\" name=\"outcome\" value=\"complete\">\
                 <button type=\"submit\">Complete authentication</button></form>\n\
                 <form method=\"post\"><input type=\"hidden\" name=\"outcome\" value=\"fail\">\
                 <button type=\"submit\">Fail authentication</button></form>",
                escape(&what)
            ),
        ),
    }
}

fn read_outcome(body: &Bytes) -> Result<bool, ApiError> {
    let mut f = form::parse(body)?;
    let outcome = f
        .one_of("outcome", &["complete", "fail"])?
        .unwrap_or_else(|| "complete".into());
    f.finish()?;
    Ok(outcome == "complete")
}

async fn answer(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    let complete = match read_outcome(&body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let ctx = Ctx {
        base_url: Some(state.public_url.trim_end_matches('/').to_owned()),
        ..Ctx::at(state.clock.now())
    };
    let done = state
        .db
        .transaction(move |tx| {
            let done = complete_by_token(tx, &ctx, &token, complete)?;
            let secret = client_secret(tx, done.kind, &done.intent)?;
            Ok((done, secret))
        })
        .await;
    match done {
        Err(e) if e.status == StatusCode::NOT_FOUND => html(
            StatusCode::NOT_FOUND,
            "Authentication not found",
            "<p>This link is not valid.</p>",
        ),
        Err(e) => html(
            e.status,
            "Authentication over",
            &format!("<p>{}</p>", escape(&e.detail.message)),
        ),
        Ok((done, secret)) => {
            let status = if done.succeeded {
                "succeeded"
            } else {
                "failed"
            };
            match done.return_url {
                Some(url) => {
                    let kind = done.kind.as_str();
                    let query: String = form_urlencoded::Serializer::new(String::new())
                        .append_pair(kind, &done.intent)
                        .append_pair(&format!("{kind}_client_secret"), &secret)
                        .append_pair("redirect_status", status)
                        .finish();
                    let sep = if url.contains('?') { '&' } else { '?' };
                    let target = format!("{url}{sep}{query}");
                    match HeaderValue::from_str(&target) {
                        Ok(v) => {
                            let mut r = StatusCode::SEE_OTHER.into_response();
                            r.headers_mut().insert(header::LOCATION, v);
                            r
                        }
                        Err(_) => html(
                            StatusCode::OK,
                            "Authentication done",
                            "<p>You can close this window.</p>",
                        ),
                    }
                }
                None => html(
                    StatusCode::OK,
                    if done.succeeded {
                        "Authentication complete"
                    } else {
                        "Authentication failed"
                    },
                    &format!(
                        "<p>Result: {status}. You can close this window and go back to the app.</p>"
                    ),
                ),
            }
        }
    }
}

fn client_secret(conn: &Connection, kind: Kind, intent: &str) -> Result<String, ApiError> {
    let doc = match kind {
        Kind::PaymentIntent => payment_intents::payment_intent_json(conn, intent, &[])?,
        Kind::SetupIntent => setup_intents::setup_intent_json(conn, intent)?,
    };
    Ok(doc["client_secret"].as_str().unwrap_or_default().to_owned())
}

async fn helper(
    state: AppState,
    ctx: Ctx,
    kind: Kind,
    id: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let outcome = f
        .one_of("outcome", &["complete", "fail"])?
        .unwrap_or_else(|| "complete".into());
    f.finish()?;
    let doc = state
        .db
        .transaction(move |tx| {
            let pending: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM psp_challenges WHERE intent = ?1 AND kind = ?2 AND status = 'pending')",
                params![id, kind.as_str()],
                |r| r.get(0),
            )?;
            if !pending {
                return Err(refuse(
                    &format!("{}_unexpected_state", kind.as_str()),
                    Some("id"),
                    format!("{id} is not waiting for authentication (requires_action)."),
                ));
            }
            apply(tx, &ctx, kind, &id, outcome == "complete")?;
            match kind {
                Kind::PaymentIntent => payment_intents::payment_intent_json(tx, &id, &[]),
                Kind::SetupIntent => setup_intents::setup_intent_json(tx, &id),
            }
        })
        .await?;
    Ok(Json(doc))
}

async fn helper_payment_intent(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if !id.starts_with("pi_") {
        return Err(invalid("id", "Not a PaymentIntent id."));
    }
    helper(state, psp.ctx, Kind::PaymentIntent, id, headers, body).await
}

async fn helper_setup_intent(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    if !id.starts_with("seti_") {
        return Err(invalid("id", "Not a SetupIntent id."));
    }
    helper(state, psp.ctx, Kind::SetupIntent, id, headers, body).await
}
