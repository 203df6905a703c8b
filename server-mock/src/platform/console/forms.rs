//! The HTTP side of the actions: a form is read within [`MAX_FORM_BYTES`](super::MAX_FORM_BYTES)
//! (a repeated field is refused), then checked in this order, each refusal audited and
//! answered clearly with nothing changed: signed in, CSRF token, role, the fields, the invoice.
//! The first POST shows a confirmation that carries the checked fields and a one-time key; the
//! second (`confirm=yes`) does the action and writes its audit entry in one transaction. A
//! key submitted again (a double click) shows the first outcome instead of acting twice.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use tierspay_core::auth::{b64url, random};

use super::actions::{self, Action};
use super::audit::{self, Entry};
use super::i18n::{self, Lang};
use super::session::Session;
use super::{client_of, csrf, html, problem, see_other, signed_in, views, MAX_FORM_BYTES};
use crate::http::{ApiError, ClientAddr};
use crate::state::AppState;

/// Most fields a console form has.
const MAX_FIELDS: usize = 16;
/// Longest invoice id looked up.
const MAX_ID: usize = 64;

/// A parsed `application/x-www-form-urlencoded` body.
#[derive(Debug, Default)]
pub struct Fields(HashMap<String, String>);

impl Fields {
    /// Reads `body`: bounded size and count, each name once.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        if body.len() > MAX_FORM_BYTES {
            let mut e = ApiError::too_large();
            e.detail.message = format!("A console form may carry at most {MAX_FORM_BYTES} bytes.");
            return Err(e);
        }
        let mut map = HashMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            if map.len() >= MAX_FIELDS {
                return Err(ApiError::invalid_param(
                    "form",
                    format!("A console form has at most {MAX_FIELDS} fields."),
                ));
            }
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(ApiError::invalid_param(&k, format!("{k} is given twice.")));
            }
        }
        Ok(Self(map))
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// The page for input refused before anything was done: 413 for size, else 400, naming the
/// field.
pub fn refused_input(lang: Lang, s: Option<&Session>, e: &ApiError) -> Response {
    let t = i18n::texts(lang);
    let (status, text) = if e.status == StatusCode::PAYLOAD_TOO_LARGE {
        (StatusCode::PAYLOAD_TOO_LARGE, t.too_large)
    } else {
        (StatusCode::BAD_REQUEST, t.refused)
    };
    let detail = match &e.detail.param {
        Some(p) => format!("{p}: {}", e.detail.message),
        None => e.detail.message.clone(),
    };
    problem(status, lang, s, t.bad_input, text, Some(&detail), None)
}

/// The page for a failure of the server itself.
pub fn failed(lang: Lang, s: Option<&Session>, e: &ApiError) -> Response {
    tracing::error!(error = %e.detail.message, "console request failed");
    let t = i18n::texts(lang);
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        lang,
        s,
        t.refused,
        t.refused,
        None,
        None,
    )
}

fn what(lang: Lang, a: Action) -> &'static str {
    let t = i18n::texts(lang);
    match a {
        Action::ResendLink => t.resend_link,
        Action::CreditNote => t.credit_note,
        Action::MarkUncollectible => t.mark_uncollectible,
        Action::Void => t.void,
        Action::RefundOverpayment => t.refund_overpayment,
        Action::Reply => t.reply,
    }
}

/// Writes a refusal to the audit trail in a transaction of its own (the action's, if any, was
/// rolled back).
async fn audit_refusal(state: &AppState, e: Entry) {
    let r = state
        .db
        .transaction(move |tx| audit::append(tx, &e, None))
        .await;
    if let Err(err) = r {
        tracing::error!(error = %err.detail.message, "console refusal not audited");
    }
}

/// A form's one-time key: what [`random`] gives, nothing else.
fn valid_key(k: &str) -> bool {
    k.len() == 22
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /console/invoices/{id}/actions/{action}`.
pub async fn action(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    client: Option<Extension<ClientAddr>>,
    body: Bytes,
) -> Response {
    let lang = i18n::of_request(&headers);
    let t = i18n::texts(lang);
    let client = client_of(client.as_deref());
    let now = state.clock.now();
    let s = match signed_in(&state, &headers).await {
        Ok(Some(s)) => s,
        Ok(None) => return see_other("/console/login"),
        Err(e) => return failed(lang, None, &e),
    };
    let shown_id: String = id.chars().take(MAX_ID).collect();
    let refusal = |outcome: &str, action: &str, detail: String| Entry {
        at: now,
        staff_id: Some(s.staff.id.clone()),
        staff_email: Some(s.staff.email.clone()),
        action: action.to_owned(),
        invoice: Some(shown_id.clone()),
        outcome: outcome.to_owned(),
        detail,
        client: client.clone(),
    };
    let action_name: String = name.chars().take(32).collect();
    let fields = match Fields::parse(&body) {
        Ok(f) => f,
        Err(e) => {
            audit_refusal(
                &state,
                refusal(
                    &e.detail.code,
                    &action_name,
                    format!("{} bytes", body.len()),
                ),
            )
            .await;
            return refused_input(lang, Some(&s), &e);
        }
    };
    if !csrf::check(&s.secret, fields.get(csrf::FIELD)) {
        let outcome = if fields.get(csrf::FIELD).is_some() {
            "csrf_invalid"
        } else {
            "csrf_missing"
        };
        audit_refusal(&state, refusal(outcome, &action_name, String::new())).await;
        return problem(
            StatusCode::FORBIDDEN,
            lang,
            Some(&s),
            t.refused,
            t.csrf_refused,
            None,
            Some(&shown_id),
        );
    }
    let Some(action) = Action::parse(&name) else {
        audit_refusal(
            &state,
            refusal("unknown_action", &action_name, String::new()),
        )
        .await;
        return problem(
            StatusCode::NOT_FOUND,
            lang,
            Some(&s),
            t.refused,
            t.refused,
            None,
            Some(&shown_id),
        );
    };
    if !action.allowed(s.staff.role) {
        audit_refusal(
            &state,
            refusal(
                "role_forbidden",
                action.as_str(),
                s.staff.role.as_str().into(),
            ),
        )
        .await;
        return problem(
            StatusCode::FORBIDDEN,
            lang,
            Some(&s),
            what(lang, action),
            t.forbidden,
            None,
            Some(&shown_id),
        );
    }
    let input = match actions::input(
        action,
        fields.get("channel"),
        fields.get("amount"),
        fields.get("reason"),
        fields.get("text"),
    ) {
        Ok(i) => i,
        Err(e) => {
            audit_refusal(
                &state,
                refusal(
                    &e.detail.code,
                    action.as_str(),
                    e.detail.param.clone().unwrap_or_default(),
                ),
            )
            .await;
            return refused_input(lang, Some(&s), &e);
        }
    };
    let exists = if id.len() > MAX_ID {
        Ok(false)
    } else {
        let id = id.clone();
        state
            .db
            .call(move |c| Ok(crate::platform::arrears::invoices::record(c, &id)?.is_some()))
            .await
    };
    match exists {
        Ok(true) => {}
        Ok(false) => {
            audit_refusal(
                &state,
                refusal("resource_missing", action.as_str(), String::new()),
            )
            .await;
            return problem(
                StatusCode::NOT_FOUND,
                lang,
                Some(&s),
                t.not_found,
                t.not_found,
                None,
                None,
            );
        }
        Err(e) => return failed(lang, Some(&s), &e),
    }
    let csrf_token = csrf::token(&s.secret);
    let frame = |title: &str| {
        views::Frame::new(
            lang,
            title,
            Some(super::who(&s)),
            &format!("/console/invoices/{id}"),
        )
    };
    if fields.get("confirm") != Some("yes") {
        let key = b64url(random::bytes::<16>());
        let mut facts = vec![views::Row {
            label: t.invoice,
            value: id.clone(),
        }];
        let mut carried = Vec::new();
        if let Some(c) = input.channel {
            let c = if c == tierspay_core::domain::payment_link::Channel::Sms {
                "sms"
            } else {
                "email"
            };
            facts.push(views::Row {
                label: t.channel,
                value: c.into(),
            });
            carried.push(views::Field {
                name: "channel",
                value: c.into(),
            });
        }
        if let Some(a) = input.amount {
            facts.push(views::Row {
                label: t.amount_eur,
                value: lang.money(a),
            });
            carried.push(views::Field {
                name: "amount",
                value: format!("{}.{:02}", a / 100, a % 100),
            });
        }
        if let Some(r) = &input.reason {
            facts.push(views::Row {
                label: t.reason,
                value: r.clone(),
            });
            carried.push(views::Field {
                name: "reason",
                value: r.clone(),
            });
        }
        let w = what(lang, action);
        return html(
            StatusCode::OK,
            lang,
            views::confirm_page(
                frame(w),
                views::Confirmation {
                    what: w,
                    id: &id,
                    action: action.as_str(),
                    csrf: &csrf_token,
                    key: &key,
                    facts,
                    fields: carried,
                },
            ),
        );
    }
    let Some(key) = fields
        .get("key")
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        let e = ApiError::invalid_param("key", "The confirmation's key is missing or malformed.");
        audit_refusal(
            &state,
            refusal(&e.detail.code, action.as_str(), "key".into()),
        )
        .await;
        return refused_input(lang, Some(&s), &e);
    };
    enum Done {
        Now(String),
        Before(String),
    }
    let (st, staff, inv, k, cl) = (
        state.clone(),
        s.staff.clone(),
        id.clone(),
        key.clone(),
        client.clone(),
    );
    let out = state
        .db
        .transaction(move |tx| {
            if let Some(outcome) = audit::outcome_of_key(tx, &k)? {
                return Ok(Done::Before(outcome));
            }
            let detail = actions::perform(tx, &st, &staff, action, &inv, &input, now)?;
            audit::append(
                tx,
                &Entry {
                    at: now,
                    staff_id: Some(staff.id.clone()),
                    staff_email: Some(staff.email.clone()),
                    action: action.as_str().into(),
                    invoice: Some(inv.clone()),
                    outcome: "done".into(),
                    detail: detail.clone(),
                    client: cl,
                },
                Some(&k),
            )?;
            Ok(Done::Now(detail))
        })
        .await;
    let w = what(lang, action);
    match out {
        // An answer is shown in the thread itself: back to the invoice (POST, redirect, GET).
        Ok(Done::Now(_) | Done::Before(_)) if action == Action::Reply => {
            see_other(&format!("/console/invoices/{id}"))
        }
        Ok(Done::Now(detail)) => html(
            StatusCode::OK,
            lang,
            views::outcome_page(
                frame(w),
                w,
                t.done,
                Some(&detail).filter(|d| !d.is_empty()).map(|d| d.as_str()),
                false,
                Some(&id),
            ),
        ),
        Ok(Done::Before(outcome)) if outcome == "done" => html(
            StatusCode::OK,
            lang,
            views::outcome_page(frame(w), w, t.done, None, false, Some(&id)),
        ),
        Ok(Done::Before(outcome)) => problem(
            StatusCode::CONFLICT,
            lang,
            Some(&s),
            w,
            t.refused,
            Some(&outcome),
            Some(&id),
        ),
        Err(e) if e.status.is_server_error() => failed(lang, Some(&s), &e),
        Err(e) => {
            let detail = e.detail.message.clone();
            let k = key.clone();
            let entry = refusal(&e.detail.code, action.as_str(), String::new());
            let _ = state
                .db
                .transaction(move |tx| audit::append(tx, &entry, Some(&k)))
                .await;
            let status = if e.status == StatusCode::FORBIDDEN {
                StatusCode::FORBIDDEN
            } else if e.status == StatusCode::NOT_FOUND {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::CONFLICT
            };
            problem(
                status,
                lang,
                Some(&s),
                w,
                t.refused,
                Some(&detail),
                Some(&id),
            )
        }
    }
}
