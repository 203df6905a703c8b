//! `POST /v1/test_helpers/console/staff` (`{"email", "password", "role"}`): a staff account,
//! for tests and demos (behind the test-helper guard: a secret API key, test helpers on).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::auth::{self, Role};
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

/// The request.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Sign-in email.
    pub email: String,
    /// At least [`auth::MIN_PASSWORD`] characters.
    pub password: String,
    /// `support`, `finance` or `admin`.
    pub role: String,
    /// The name members read on answers; the email's local part when not given.
    pub display_name: Option<String>,
}

pub(super) async fn create_staff(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<Json<Value>, ApiError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::invalid_param("role", "role is support, finance or admin."))?;
    auth::check_new_password(&body.password)?;
    // Argon2id takes tens of milliseconds: off the async threads.
    let password = body.password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal("password not hashed"))??;
    let now = state.clock.now();
    let email = body.email;
    let name = body
        .display_name
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Support").to_owned());
    let id = state
        .db
        .transaction(move |tx| auth::create_staff(tx, &email, &name, &hash, role, now))
        .await?;
    Ok(Json(json!({ "id": id, "role": role.as_str() })))
}
