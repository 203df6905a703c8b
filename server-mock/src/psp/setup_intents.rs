//! SetupIntents (`seti_…`): saving the member's card for later payments. Confirming checks the
//! card with the network (a zero-amount check: declines but insufficient funds show here), runs
//! 3D Secure when the card asks for it (through the hosted challenge page), then attaches the
//! method to the customer; with `usage=off_session` (the default, as with Stripe) the card is
//! then set up for off-session payments, so 4000002500003155 pays without a new challenge.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use tierspay_core::auth::{random, sha256};

use super::card_checks::{self, Authentication, Decline};
use super::challenges;
use super::customers::ensure_customer;
use super::events::emit;
use super::form::{invalid, Fields};
use super::model::{self, missing, parse_json, refuse, Ctx, Paging};
use super::payment_intents::{bool_param, return_url, text, CardDeclined};
use super::payment_methods::{self, payment_method_json, FINGERPRINT_PURPOSE};
use super::wire::{body_fields, query_fields, to_map, Psp, PspPublic};
use crate::http::ApiError;
use crate::state::AppState;

/// The SetupIntents table (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_setup_intents (
        seq                 INTEGER PRIMARY KEY,
        id                  TEXT NOT NULL UNIQUE,
        client_secret       BLOB NOT NULL,
        customer            TEXT REFERENCES psp_customers(id),
        payment_method      TEXT REFERENCES psp_payment_methods(id),
        status              TEXT NOT NULL CHECK (status IN ('requires_payment_method', 'requires_confirmation',
                                'requires_action', 'processing', 'canceled', 'succeeded')),
        usage               TEXT NOT NULL CHECK (usage IN ('off_session', 'on_session')),
        description         TEXT,
        metadata            TEXT NOT NULL DEFAULT '{}',
        last_setup_error    TEXT,
        next_action         TEXT,
        return_url          TEXT,
        cancellation_reason TEXT,
        created             INTEGER NOT NULL
    );
    CREATE INDEX psp_setup_intents_customer ON psp_setup_intents (customer, seq);
"#;

/// A SetupIntent to create.
#[derive(Debug, Clone, Default)]
pub struct NewSetupIntent {
    /// `cus_…` the card is saved for.
    pub customer: Option<String>,
    /// `pm_…` (or a test token).
    pub payment_method: Option<String>,
    /// Confirm at once.
    pub confirm: bool,
    /// `false`: `on_session` only.
    pub off_session: bool,
    /// Free text.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: serde_json::Map<String, Value>,
    /// Where the challenge page sends the customer back.
    pub return_url: Option<String>,
}

/// What the platform reads of a SetupIntent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetupIntentView {
    /// `seti_…`
    pub id: String,
    /// Stripe's status.
    pub status: String,
    /// `pm_…`
    pub payment_method: Option<String>,
    /// `cus_…`
    pub customer: Option<String>,
    /// The last error's `code`.
    pub last_error_code: Option<String>,
    /// The last error's `decline_code`.
    pub last_decline_code: Option<String>,
    /// The 3D Secure page to send the member to, in `requires_action`.
    pub redirect_url: Option<String>,
}

/// How a confirmation ended.
#[derive(Debug, Clone)]
pub enum SetupConfirmed {
    /// Succeeded, or waiting for authentication.
    Ok(SetupIntentView),
    /// Declined: back in `requires_payment_method` with `last_setup_error`.
    Declined(SetupIntentView, CardDeclined),
}

impl SetupConfirmed {
    /// The intent, declined or not.
    pub fn view(&self) -> &SetupIntentView {
        match self {
            Self::Ok(v) | Self::Declined(v, _) => v,
        }
    }
}

struct Row {
    customer: Option<String>,
    payment_method: Option<String>,
    status: String,
    off_session: bool,
    return_url: Option<String>,
}

fn row(conn: &Connection, id: &str) -> Result<Row, ApiError> {
    conn.query_row(
        "SELECT customer, payment_method, status, usage, return_url FROM psp_setup_intents WHERE id = ?1",
        [id],
        |r| {
            Ok(Row {
                customer: r.get(0)?,
                payment_method: r.get(1)?,
                status: r.get(2)?,
                off_session: r.get::<_, String>(3)? == "off_session",
                return_url: r.get(4)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| missing("setup_intent", "intent", id))
}

/// The view for the platform.
pub fn view(conn: &Connection, id: &str) -> Result<SetupIntentView, ApiError> {
    let doc = setup_intent_json(conn, id)?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    Ok(SetupIntentView {
        id: id.to_owned(),
        status: text(&doc["status"]).unwrap_or_default(),
        payment_method: text(&doc["payment_method"]),
        customer: text(&doc["customer"]),
        last_error_code: text(&doc["last_setup_error"]["code"]),
        last_decline_code: text(&doc["last_setup_error"]["decline_code"]),
        redirect_url: text(&doc["next_action"]["redirect_to_url"]["url"]),
    })
}

fn unexpected_state(id: &str, status: &str, action: &str) -> ApiError {
    refuse(
        "setup_intent_unexpected_state",
        None,
        format!("You cannot {action} the SetupIntent {id} because it has a status of {status}."),
    )
}

/// Creates a SetupIntent (and confirms it when asked).
pub fn create_setup_intent(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    s: NewSetupIntent,
) -> Result<SetupConfirmed, ApiError> {
    if let Some(c) = &s.customer {
        ensure_customer(tx, c, "customer")?;
    }
    let pm = match &s.payment_method {
        Some(id) => Some(payment_methods::resolve(
            tx,
            ctx,
            fingerprint_key,
            id,
            "payment_method",
        )?),
        None => None,
    };
    if let (Some(pm), Some(c)) = (&pm, &s.customer) {
        if pm.customer.as_ref().is_some_and(|owner| owner != c) {
            return Err(refuse(
                "parameter_invalid",
                Some("payment_method"),
                "This PaymentMethod is attached to another customer.",
            ));
        }
    }
    let id = random::id("seti");
    let secret = format!("{id}_secret_{}", random::secret("s"));
    tx.execute(
        "INSERT INTO psp_setup_intents (id, client_secret, customer, payment_method, status, usage, description,
             metadata, return_url, created)
         VALUES (?1, vault_seal('seti:' || ?1, ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            secret,
            s.customer,
            pm.as_ref().map(|p| p.id.clone()),
            if pm.is_some() {
                "requires_confirmation"
            } else {
                "requires_payment_method"
            },
            if s.off_session { "off_session" } else { "on_session" },
            s.description,
            Value::Object(s.metadata).to_string(),
            s.return_url,
            ctx.now
        ],
    )?;
    emit(
        tx,
        ctx,
        "setup_intent.created",
        &setup_intent_json(tx, &id)?,
        None,
    )?;
    if s.confirm {
        return confirm_setup_intent(tx, ctx, fingerprint_key, &id, None, None);
    }
    Ok(SetupConfirmed::Ok(view(tx, &id)?))
}

/// Confirms a SetupIntent: the network's check, 3D Secure when the card asks, then the card is
/// attached (and set up off-session with `usage=off_session`).
pub fn confirm_setup_intent(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    id: &str,
    payment_method: Option<String>,
    return_url: Option<String>,
) -> Result<SetupConfirmed, ApiError> {
    let si = row(tx, id)?;
    if !matches!(
        si.status.as_str(),
        "requires_payment_method" | "requires_confirmation" | "requires_action"
    ) {
        return Err(unexpected_state(id, &si.status, "confirm"));
    }
    let pm_id = match (payment_method, &si.payment_method) {
        (Some(new), _) => {
            payment_methods::resolve(tx, ctx, fingerprint_key, &new, "payment_method")?.id
        }
        (None, Some(old)) => old.clone(),
        (None, None) => {
            return Err(refuse(
                "setup_intent_unexpected_state",
                Some("payment_method"),
                "You cannot confirm this SetupIntent because it's missing a payment method.",
            ))
        }
    };
    tx.execute(
        "UPDATE psp_setup_intents SET payment_method = ?2, status = 'processing', last_setup_error = NULL,
             next_action = NULL, return_url = COALESCE(?3, return_url) WHERE id = ?1",
        params![id, pm_id, return_url],
    )?;
    challenges::cancel_pending(tx, id)?;
    let number = payment_methods::number(tx, &pm_id)?;
    let behaviour = card_checks::behaviour(&number);
    if let Some(d) = behaviour.setup_decline {
        payment_methods::set_cvc_check(tx, &pm_id, d.code != "incorrect_cvc")?;
        return fail(tx, ctx, id, &pm_id, d);
    }
    if behaviour.authentication != Authentication::None {
        let next_action = challenges::start(
            tx,
            ctx,
            id,
            challenges::Kind::SetupIntent,
            return_url.or(si.return_url).as_deref(),
        )?;
        tx.execute(
            "UPDATE psp_setup_intents SET status = 'requires_action', next_action = ?2 WHERE id = ?1",
            params![id, next_action.to_string()],
        )?;
        emit(
            tx,
            ctx,
            "setup_intent.requires_action",
            &setup_intent_json(tx, id)?,
            None,
        )?;
        return Ok(SetupConfirmed::Ok(view(tx, id)?));
    }
    succeed(tx, ctx, id, &pm_id, si.customer.as_deref(), si.off_session)
}

fn succeed(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    pm_id: &str,
    customer: Option<&str>,
    off_session: bool,
) -> Result<SetupConfirmed, ApiError> {
    payment_methods::set_cvc_check(tx, pm_id, true)?;
    if let Some(c) = customer {
        payment_methods::attach_payment_method(tx, ctx, pm_id, c)?;
    }
    if off_session {
        payment_methods::set_off_session_ready(tx, pm_id)?;
    }
    tx.execute(
        "UPDATE psp_setup_intents SET status = 'succeeded', next_action = NULL WHERE id = ?1",
        [id],
    )?;
    emit(
        tx,
        ctx,
        "setup_intent.succeeded",
        &setup_intent_json(tx, id)?,
        None,
    )?;
    Ok(SetupConfirmed::Ok(view(tx, id)?))
}

fn fail(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    pm_id: &str,
    d: Decline,
) -> Result<SetupConfirmed, ApiError> {
    let error = json!({
        "type": "card_error",
        "code": d.code,
        "decline_code": d.decline_code,
        "message": d.message,
        "doc_url": format!("https://stripe.com/docs/error-codes/{}", d.code.replace('_', "-")),
        "payment_method": payment_method_json(tx, pm_id)?,
    });
    tx.execute(
        "UPDATE psp_setup_intents SET status = 'requires_payment_method', last_setup_error = ?2,
             next_action = NULL WHERE id = ?1",
        params![id, error.to_string()],
    )?;
    let doc = setup_intent_json(tx, id)?;
    emit(tx, ctx, "setup_intent.setup_failed", &doc, None)?;
    let mut answer = error;
    answer["setup_intent"] = doc;
    Ok(SetupConfirmed::Declined(
        view(tx, id)?,
        CardDeclined { error: answer },
    ))
}

/// After the challenge page: succeeded, or `setup_intent_authentication_failure`.
pub(super) fn after_authentication(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    succeeded: bool,
) -> Result<SetupConfirmed, ApiError> {
    let si = row(tx, id)?;
    if si.status != "requires_action" {
        return Err(unexpected_state(id, &si.status, "authenticate"));
    }
    let pm_id = si
        .payment_method
        .ok_or_else(|| ApiError::internal("setup in requires_action without payment method"))?;
    if !succeeded {
        let d = Decline {
            code: "setup_intent_authentication_failure",
            decline_code: "authentication_failure",
            message: "We are unable to authenticate your payment method. Please choose a different payment method and try again.",
        };
        return fail(tx, ctx, id, &pm_id, d);
    }
    succeed(tx, ctx, id, &pm_id, si.customer.as_deref(), si.off_session)
}

/// Cancels a SetupIntent that has not succeeded.
pub fn cancel_setup_intent(
    tx: &Connection,
    ctx: &Ctx,
    id: &str,
    reason: Option<&str>,
) -> Result<SetupIntentView, ApiError> {
    let si = row(tx, id)?;
    if matches!(si.status.as_str(), "succeeded" | "canceled") {
        return Err(unexpected_state(id, &si.status, "cancel"));
    }
    challenges::cancel_pending(tx, id)?;
    tx.execute(
        "UPDATE psp_setup_intents SET status = 'canceled', cancellation_reason = ?2, next_action = NULL
         WHERE id = ?1",
        params![id, reason],
    )?;
    emit(
        tx,
        ctx,
        "setup_intent.canceled",
        &setup_intent_json(tx, id)?,
        None,
    )?;
    view(tx, id)
}

fn secret_matches(conn: &Connection, id: &str, secret: &str) -> Result<bool, ApiError> {
    let stored: Option<Option<String>> = conn
        .query_row(
            "SELECT vault_open('seti:' || id, client_secret) FROM psp_setup_intents WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(stored
        .flatten()
        .is_some_and(|s| sha256(s.as_bytes()) == sha256(secret.as_bytes())))
}

/// A SetupIntent as Stripe renders it.
pub fn setup_intent_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    conn.query_row(
        "SELECT id, vault_open('seti:' || id, client_secret), customer, payment_method, status, usage,
                description, metadata, last_setup_error, next_action, cancellation_reason, created
         FROM psp_setup_intents WHERE id = ?1",
        [id],
        |r| {
            let json_col = |i: usize| -> rusqlite::Result<Value> {
                Ok(r.get::<_, Option<String>>(i)?
                    .map_or(Value::Null, |s| parse_json(&s)))
            };
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "object": "setup_intent",
                "application": Value::Null,
                "automatic_payment_methods": Value::Null,
                "cancellation_reason": r.get::<_, Option<String>>(10)?,
                "client_secret": r.get::<_, Option<String>>(1)?,
                "created": r.get::<_, i64>(11)?,
                "customer": r.get::<_, Option<String>>(2)?,
                "description": r.get::<_, Option<String>>(6)?,
                "flow_directions": Value::Null,
                "last_setup_error": json_col(8)?,
                "latest_attempt": Value::Null,
                "livemode": false,
                "mandate": Value::Null,
                "metadata": parse_json(&r.get::<_, String>(7)?),
                "next_action": json_col(9)?,
                "on_behalf_of": Value::Null,
                "payment_method": r.get::<_, Option<String>>(3)?,
                "payment_method_options": { "card": { "request_three_d_secure": "automatic" } },
                "payment_method_types": ["card"],
                "single_use_mandate": Value::Null,
                "status": r.get::<_, String>(4)?,
                "usage": r.get::<_, String>(5)?,
            }))
        },
    )
    .optional()?
    .ok_or_else(|| missing("setup_intent", "intent", id))
}

// ------------------------------------------------------------------- endpoints

/// The SetupIntent endpoints.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/setup_intents", post(create).get(list))
        .route("/v1/setup_intents/{id}", get(retrieve))
        .route("/v1/setup_intents/{id}/confirm", post(confirm))
        .route("/v1/setup_intents/{id}/cancel", post(cancel))
}

fn respond(conn: &Connection, c: SetupConfirmed) -> Result<Result<Value, CardDeclined>, ApiError> {
    match c {
        SetupConfirmed::Ok(v) => Ok(Ok(setup_intent_json(conn, &v.id)?)),
        SetupConfirmed::Declined(_, e) => Ok(Err(e)),
    }
}

fn into_response(r: Result<Value, CardDeclined>) -> Response {
    match r {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => e.into_response(),
    }
}

fn read_types(f: &mut Fields) -> Result<(), ApiError> {
    if let Some(types) = f.strings("payment_method_types")? {
        if types.iter().any(|t| t != "card") {
            return Err(invalid(
                "payment_method_types",
                "Only cards are saved here (payment_method_types[]=card).",
            ));
        }
    }
    Ok(())
}

async fn create(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let customer = text(&mut f, "customer", 255)?;
    let payment_method = text(&mut f, "payment_method", 255)?;
    let confirm = bool_param(&mut f, "confirm")?.unwrap_or(false);
    let usage = f.one_of("usage", &["off_session", "on_session"])?;
    read_types(&mut f)?;
    let description = text(&mut f, "description", 1000)?;
    let return_url = return_url(&mut f)?;
    let metadata = to_map(f.metadata()?);
    f.finish()?;
    let ctx = psp.ctx;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let out = state
        .db
        .transaction(move |tx| {
            let c = create_setup_intent(
                tx,
                &ctx,
                &key,
                NewSetupIntent {
                    customer,
                    payment_method,
                    confirm,
                    off_session: usage.as_deref() != Some("on_session"),
                    description,
                    metadata,
                    return_url,
                },
            )?;
            respond(tx, c)
        })
        .await?;
    Ok(into_response(out))
}

fn check_client_secret(
    conn: &Connection,
    id: &str,
    publishable: bool,
    secret: Option<&str>,
) -> Result<(), ApiError> {
    if !publishable {
        return Ok(());
    }
    match secret {
        Some(s) if secret_matches(conn, id, s)? => Ok(()),
        _ => Err(missing("setup_intent", "intent", id)),
    }
}

async fn retrieve(
    State(state): State<AppState>,
    psp: PspPublic,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let secret = f.str("client_secret")?;
    f.finish()?;
    let publishable = psp.publishable;
    let doc = state
        .db
        .call(move |conn| {
            check_client_secret(conn, &id, publishable, secret.as_deref())?;
            setup_intent_json(conn, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn confirm(
    State(state): State<AppState>,
    psp: PspPublic,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let secret = f.str("client_secret")?;
    let payment_method = text(&mut f, "payment_method", 255)?;
    let return_url = return_url(&mut f)?;
    f.finish()?;
    let ctx = psp.ctx;
    let publishable = psp.publishable;
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let out = state
        .db
        .transaction(move |tx| {
            check_client_secret(tx, &id, publishable, secret.as_deref())?;
            let c = confirm_setup_intent(tx, &ctx, &key, &id, payment_method, return_url)?;
            respond(tx, c)
        })
        .await?;
    Ok(into_response(out))
}

async fn cancel(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let reason = f.one_of(
        "cancellation_reason",
        &["abandoned", "requested_by_customer", "duplicate"],
    )?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            cancel_setup_intent(tx, &ctx, &id, reason.as_deref())?;
            setup_intent_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn list(State(state): State<AppState>, _psp: Psp, uri: Uri) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let customer = f.str("customer")?;
    let payment_method = f.str("payment_method")?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_setup_intents",
                "(?1 IS NULL OR customer = ?1) AND (?2 IS NULL OR payment_method = ?2)",
                &[&customer, &payment_method],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| setup_intent_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/setup_intents"))
        })
        .await?;
    Ok(Json(doc))
}
