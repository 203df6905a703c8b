//! Enrollment endpoints. The code is 6 digits, valid 5 minutes, 5 tries; starts are limited per
//! contract number and per client; an unknown contract and a wrong birth date get the same
//! answer, so contract numbers cannot be probed.

use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ring::hmac;
use rusqlite::{params, OptionalExtension};
use tierspay_core::auth::{b64url, b64url_decode, random, sha256, signature};
use tierspay_core::domain::{enrollment as rules, masking};
use tierspay_core::wire::{
    codes, ConfirmEnrollment, EnrollmentChallenge, EnrollmentResult, StartEnrollment,
};
use time::OffsetDateTime;

use super::contracts;
use crate::http::{ApiError, ApiJson, Caller, ClientAddr};
use crate::platform::{devices, notifications};
use crate::rate_limit;
use crate::state::AppState;

fn code_mac(secret: &[u8; 32], enrollment_id: &str, code: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    b64url(hmac::sign(
        &key,
        format!("{enrollment_id}:{code}").as_bytes(),
    ))
}

fn code_matches(secret: &[u8; 32], enrollment_id: &str, code: &str, stored: &str) -> bool {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let Ok(tag) = b64url_decode(stored) else {
        return false;
    };
    // Constant-time comparison.
    hmac::verify(&key, format!("{enrollment_id}:{code}").as_bytes(), &tag).is_ok()
}

fn not_matched() -> ApiError {
    ApiError::invalid(
        codes::ENROLLMENT_NOT_MATCHED,
        "No contract matches this contract number and birth date. Check both on your insurance card.",
    )
}

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
            let contract = contracts::find_by_number(tx, &number)?
                .filter(|c| c.birth_date == birth_date.to_string())
                .ok_or_else(not_matched)?;
            if contract.status != "active" {
                return Err(ApiError::invalid(
                    codes::CONTRACT_INACTIVE,
                    "This contract is not active. Contact your insurer.",
                ));
            }
            // Only the newest code of a contract is valid.
            tx.execute(
                "UPDATE insurer_enrollments SET status = 'superseded' WHERE contract_id = ?1 AND status = 'pending'",
                [&contract.id],
            )?;
            let id = random::id("enr");
            let code = random::numeric_code(rules::CODE_LENGTH as u32);
            tx.execute(
                "INSERT INTO insurer_enrollments (id, contract_id, code_mac, expires_at, attempts_left, status, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                params![id, contract.id, code_mac(&secret, &id, &code), now + ttl, attempts, now],
            )?;
            let text = format!(
                "TiersPay: {code} is your code to link contract ••{}. It expires in {} minutes. \
                 Never share it: nobody from TiersPay or your insurer will ever ask for it.",
                masking::last_chars(&contract.number, 4),
                ttl / 60
            );
            notifications::send_sms(tx, &contract.phone, &text, now)?;
            Ok(EnrollmentChallenge {
                id,
                object: "enrollment".into(),
                phone_masked: masking::mask_phone(&contract.phone),
                code_length: rules::CODE_LENGTH as u32,
                expires_at: now + ttl,
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
            let row = tx
                .query_row(
                    "SELECT e.contract_id, e.code_mac, e.expires_at, e.attempts_left, e.status, c.member_id
                     FROM insurer_enrollments e JOIN insurer_contracts c ON c.id = e.contract_id WHERE e.id = ?1",
                    [&id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                        ))
                    },
                )
                .optional()?;
            let Some((contract_id, mac, expires_at, attempts_left, status, member_id)) = row else {
                return Err(ApiError::not_found("enrollment"));
            };
            let refuse = |code: &str, message: &str| Ok(Outcome::Refused(ApiError::invalid(code, message)));
            match status.as_str() {
                "pending" => {}
                "locked" => return refuse(codes::TOO_MANY_ATTEMPTS, "Too many wrong codes. Start again to receive a new code."),
                "superseded" => return refuse(codes::CODE_EXPIRED, "A newer code was sent; use the latest one."),
                _ => return refuse(codes::ENROLLMENT_USED, "This enrollment is already confirmed. Start again to enroll another device."),
            }
            if now >= expires_at {
                return refuse(codes::CODE_EXPIRED, "This code has expired. Start again to receive a new code.");
            }
            if !code_matches(&secret, &id, &code, &mac) {
                let left = attempts_left - 1;
                let new_status = if left <= 0 { "locked" } else { "pending" };
                tx.execute(
                    "UPDATE insurer_enrollments SET attempts_left = ?2, status = ?3 WHERE id = ?1",
                    params![id, left.max(0), new_status],
                )?;
                return if left <= 0 {
                    refuse(codes::TOO_MANY_ATTEMPTS, "Too many wrong codes. Start again to receive a new code.")
                } else {
                    refuse(
                        codes::CODE_INCORRECT,
                        &format!("The code is incorrect; {left} {} left.", if left == 1 { "try" } else { "tries" }),
                    )
                };
            }
            let (device_id, tokens) = devices::register(
                tx, &member_id, &contract_id, &jkt, &public_key, device_name.as_deref(), now, &limits,
            )?;
            tx.execute(
                "UPDATE insurer_enrollments SET status = 'confirmed', confirmed_at = ?2, device_ref = ?3 WHERE id = ?1",
                params![id, now, device_id],
            )?;
            let profile = contracts::profile(tx, &member_id, &device_id)?;
            // The card is issued in the same step: the app is ready to pay after this answer.
            let card = crate::platform::card::issue_for(tx, &member_id, now)?;
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
