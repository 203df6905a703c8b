//! Enrollment endpoints: the platform's orchestration of proving a contract. Starts are limited
//! per contract number and per client; the insurer checks the contract and makes the code
//! (`insurer::enrollment`), the platform sends it by SMS. On the right code, in the transaction
//! that spends it, the platform registers the device (signing an older phone out), issues the
//! card, and signs the answer.

use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use tierspay_core::auth::{b64url, sha256, signature};
use tierspay_core::domain::{enrollment as rules, masking};
use tierspay_core::wire::{
    ConfirmEnrollment, EnrollmentChallenge, EnrollmentResult, StartEnrollment,
};
use time::OffsetDateTime;

use super::{card, devices, notifications};
use crate::http::{ApiError, ApiJson, Caller, ClientAddr};
use crate::insurer::contracts;
use crate::insurer::enrollment::{self as insurer, Verdict};
use crate::rate_limit;
use crate::state::AppState;

fn today(state: &AppState) -> time::Date {
    OffsetDateTime::from_unix_timestamp(state.clock.now())
        .map(|t| t.date())
        .unwrap_or(time::Date::MIN)
}

/// `POST /v1/enrollments`
pub async fn start(
    State(state): State<AppState>,
    Extension(client): Extension<ClientAddr>,
    ApiJson(body): ApiJson<StartEnrollment>,
) -> Result<Json<EnrollmentChallenge>, ApiError> {
    let invalid = |e: rules::FieldError| ApiError::invalid_param(e.field, e.message).not_executed();
    let number = rules::normalize_contract_number(&body.contract_number).map_err(invalid)?;
    let birth_date = rules::parse_birth_date(&body.birth_date, today(&state)).map_err(invalid)?;
    let now = state.clock.now();
    let limits = &state.limits;
    // Keyed by a hash: the limiter must not hold contract numbers in clear.
    let contract_key = format!("contract:{}", b64url(sha256(number.as_bytes())));
    // The network peer (or the client a trusted proxy names), never something the request
    // chooses, such as an API key.
    let client_key = format!("client:{}", client.0);
    let (per_client, per_contract, window) = (
        limits.starts_per_client,
        limits.starts_per_contract,
        limits.window_secs,
    );
    // Counted in a commit of their own: a refused start (unknown contract, wrong birth date)
    // still spends its attempt.
    state
        .db
        .transaction(move |tx| {
            if let Err(wait) = rate_limit::hit(tx, &client_key, per_client, window, now)? {
                return Ok(Err(wait));
            }
            Ok(rate_limit::hit(
                tx,
                &contract_key,
                per_contract,
                window,
                now,
            )?)
        })
        .await?
        .map_err(ApiError::rate_limited)?;

    let secret = state.code_secret;
    let (ttl, attempts) = (limits.code_ttl, limits.code_attempts);
    let challenge = state
        .db
        .transaction(move |tx| {
            let issued = insurer::issue_code(tx, &number, birth_date, &secret, ttl, attempts, now)?;
            let code = &issued.code;
            let text = format!(
                "TiersPay: {code} is your code to link contract ••{}. It expires in {} minutes. \
                 Never share it: nobody from TiersPay or your insurer will ever ask for it.",
                masking::last_chars(&issued.contract_number, 4),
                ttl / 60
            );
            notifications::send_sms(tx, &issued.phone, &text, now)?;
            Ok(EnrollmentChallenge {
                id: issued.id,
                object: "enrollment".into(),
                phone_masked: masking::mask_phone(&issued.phone),
                code_length: rules::CODE_LENGTH as u32,
                expires_at: issued.expires_at,
            })
        })
        .await?;
    tracing::info!(enrollment = %challenge.id, "enrollment started");
    Ok(Json(challenge))
}

enum Outcome {
    Confirmed(Box<EnrollmentResult>),
    Refused(ApiError),
}

/// `POST /v1/enrollments/{id}/confirm` with a DPoP proof by the new device key.
pub async fn confirm(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ConfirmEnrollment>,
) -> Result<Response, ApiError> {
    let (jkt, public_key) = caller.key_holder()?;
    let (jkt, public_key) = (jkt.to_owned(), public_key.to_vec());
    let code = rules::normalize_code(&body.code)
        .map_err(|e| ApiError::invalid_param(e.field, e.message).not_executed())?;
    let device_name = body
        .device_name
        .map(|n| n.chars().take(64).collect::<String>());
    let now = state.clock.now();
    let secret = state.code_secret;
    let limits = state.limits.clone();
    // Wrong codes must still count: the transaction commits the decrement, then refuses.
    let outcome = state
        .db
        .transaction(move |tx| {
            let (member_id, contract_id) = match insurer::verify_code(tx, &id, &code, &secret, now)?
            {
                Verdict::Member {
                    member_id,
                    contract_id,
                } => (member_id, contract_id),
                Verdict::Refused(e) => return Ok(Outcome::Refused(e)),
            };
            let (device_id, tokens) = devices::register(
                tx,
                &member_id,
                &contract_id,
                &jkt,
                &public_key,
                device_name.as_deref(),
                now,
                &limits,
            )?;
            insurer::mark_confirmed(tx, &id, &device_id, now)?;
            let profile = contracts::profile(tx, &member_id, &device_id)?;
            // The card is issued in the same step: the app is ready to pay after this answer.
            let card = card::issue_for(tx, &member_id, now)?;
            Ok(Outcome::Confirmed(Box::new(EnrollmentResult {
                object: "enrollment_result".into(),
                device_id,
                tokens,
                member: profile.member,
                contract: profile.contract,
                beneficiaries: profile.beneficiaries,
                card: Some(card),
            })))
        })
        .await?;
    let result = match outcome {
        Outcome::Refused(e) => return Err(e),
        Outcome::Confirmed(result) => result,
    };
    tracing::info!(device = %result.device_id, "enrollment confirmed");
    let body = serde_json::to_vec(&*result).map_err(|e| ApiError::internal(&e.to_string()))?;
    let sig = signature::sign_body(&state.signing_key, &body);
    let mut response = ([("content-type", "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&sig) {
        response.headers_mut().insert(signature::HEADER, v);
    }
    Ok(response)
}
