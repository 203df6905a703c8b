use std::sync::Arc;

use super::runtime::CoreRuntime;
use super::{CoreError, EnrollmentChallenge, Profile};
use crate::app::Core;

/// Enrollment: prove the contract with a one-time code and register this device.
#[derive(uniffi::Object)]
pub struct Enrollment {
    pub(crate) core: Arc<Core>,
    pub(crate) runtime: Arc<CoreRuntime>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Enrollment {
    /// Sends a one-time code by SMS to the phone on file for the contract. The error does not
    /// say whether the contract exists.
    pub async fn start(
        &self,
        contract_number: String,
        birth_date: String,
    ) -> Result<EnrollmentChallenge, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                core.start_enrollment(&contract_number, &birth_date)
                    .await
                    .map(Into::into)
            })
            .await
    }

    /// Confirms the code, registers the device key, stores the session; returns the profile.
    pub async fn confirm(&self, enrollment_id: String, code: String) -> Result<Profile, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                core.confirm_enrollment(&enrollment_id, &code)
                    .await
                    .map(Into::into)
            })
            .await
    }
}
