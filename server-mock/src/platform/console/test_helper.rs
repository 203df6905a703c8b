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
}

pub(super) async fn create_staff(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<Json<Value>, ApiError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::invalid_param("role", "role is support, finance or admin."))?;
    auth::check_new_password(&body.password)?;
    let hash = auth::hash_password(&body.password)?;
    let now = state.clock.now();
    let email = body.email;
    let id = state
        .db
        .transaction(move |tx| auth::create_staff(tx, &email, &hash, role, now))
        .await?;
    Ok(Json(json!({ "id": id, "role": role.as_str() })))
}
