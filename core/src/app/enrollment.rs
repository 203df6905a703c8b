//! Enrollment: contract number + birth date → SMS code → confirm with the device key.
//! Two round trips; the second answer carries everything the home screen needs.

use reqwest::Method;
use time::OffsetDateTime;

use super::{Core, CoreEvent};
use crate::auth::signature;
use crate::domain::enrollment as rules;
use crate::error::{Error, Result};
use crate::net::http::Request;
use crate::store::LocalSession;
use crate::wire::{ConfirmEnrollment, EnrollmentChallenge, EnrollmentResult, StartEnrollment};

impl Core {
    /// Asks the server to send a one-time code to the phone on file for this contract.
    pub async fn start_enrollment(
        &self,
        contract_number: &str,
        birth_date: &str,
    ) -> Result<EnrollmentChallenge> {
        let contract_number = rules::normalize_contract_number(contract_number)?;
        let birth_date = rules::parse_birth_date(birth_date, OffsetDateTime::now_utc().date())?;
        // Enrolled with another server: sign out there first, not leave that session behind.
        self.check_server()?;
        let body = StartEnrollment {
            contract_number,
            birth_date: birth_date.to_string(),
        };
        let challenge: EnrollmentChallenge = self
            .api
            .send(Request::new(Method::POST, "/v1/enrollments").json(&body)?)
            .await?
            .json()?;
        tracing::info!(enrollment = %challenge.id, "enrollment started");
        Ok(challenge)
    }

    /// Confirms the code, registers this device's key and stores the session.
    pub async fn confirm_enrollment(
        &self,
        enrollment_id: &str,
        code: &str,
    ) -> Result<LocalSession> {
        let code = rules::normalize_code(code)?;
        if enrollment_id.is_empty()
            || enrollment_id.len() > 64
            || !enrollment_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::invalid("enrollment_id", "is not an enrollment id"));
        }
        let body = ConfirmEnrollment {
            code,
            device_name: self.settings.device_name.clone(),
        };
        let path = format!("/v1/enrollments/{enrollment_id}/confirm");
        let response = self
            .api
            .send(
                Request::new(Method::POST, path)
                    .json(&body)?
                    .proof(self.auth.key()),
            )
            .await?;
        // Tokens and identity are trusted only if the pinned server key signed them.
        let sig = response
            .signature
            .as_deref()
            .ok_or_else(|| Error::Protocol("the enrollment answer is not signed".into()))?;
        signature::verify_body(&self.settings.server_key, &response.body, sig).map_err(|_| {
            Error::Protocol("the enrollment answer is not signed by the pinned server key".into())
        })?;
        let result: EnrollmentResult = response.json()?;
        self.auth.store_grant(&result.tokens).await?;
        let session = LocalSession {
            device_id: result.device_id.clone(),
            enrolled_at: crate::net::unix_now(),
            // The session's tokens will only ever be sent to the server that issued them.
            server_url: Some(self.api.base_url().to_owned()),
            member: result.member.clone(),
            contract: result.contract.clone(),
            beneficiaries: result.beneficiaries.clone(),
        };
        let saved = self.save_session(&session).and_then(|_| {
            result
                .card
                .as_ref()
                .map_or(Ok(()), |card| self.remember_card(card, false))
        });
        if let Err(e) = saved {
            // Never leave tokens without the session they belong to.
            let _ = self.auth.clear().await;
            return Err(e);
        }
        tracing::info!(device = %session.device_id, "enrollment confirmed");
        // Third and last round trip: guarantees and tariffs for offline previews. Enrollment
        // has succeeded either way; a failed sync is retried by the next `sync_coverage`.
        if let Err(e) = self.sync_coverage(false).await {
            tracing::warn!("coverage data not synced after enrollment: {e}");
        }
        // A push token the OS gave before enrollment is registered now (one more round trip,
        // only then); a failure is retried the next time the shell hands the token over.
        if let Err(e) = self.send_push_token().await {
            tracing::warn!("push token not registered after enrollment: {e}");
        }
        self.events.emit(CoreEvent::Enrolled);
        Ok(session)
    }
}
