//! Enrollment: prove the contract, confirm the SMS code, register the device key.

use serde::{Deserialize, Serialize};

use super::session::{Beneficiary, ContractSummary, Member, TokenGrant};

/// `POST /v1/enrollments`: start proving a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartEnrollment {
    /// The contract number as typed.
    pub contract_number: String,
    /// The holder's birth date, `YYYY-MM-DD`.
    pub birth_date: String,
}

/// The answer to [`StartEnrollment`]: a code was sent by SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentChallenge {
    /// `enr_…`
    pub id: String,
    /// Always `"enrollment"`.
    pub object: String,
    /// The phone on file, masked (`+33 6 •• •• •• 78`).
    pub phone_masked: String,
    /// Digits in the code.
    pub code_length: u32,
    /// When the code expires, Unix seconds.
    pub expires_at: i64,
}

/// `POST /v1/enrollments/{id}/confirm`: the code; the device key comes in the DPoP proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmEnrollment {
    /// The 6-digit code received by SMS.
    pub code: String,
    /// A label for the device ("Pixel 9", "iPhone"), shown in the member's device list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
}

/// The answer to [`ConfirmEnrollment`], signed by the server (`TiersPay-Signature`): tokens and
/// everything the home screen needs, so the app is ready without another round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentResult {
    /// Always `"enrollment_result"`.
    pub object: String,
    /// The device registered for this key.
    pub device_id: String,
    /// Tokens bound to the device key.
    pub tokens: TokenGrant,
    /// The member.
    pub member: Member,
    /// The contract.
    pub contract: ContractSummary,
    /// Everyone covered by the contract, the member included.
    pub beneficiaries: Vec<Beneficiary>,
    /// The virtual card issued in the same step, when the issuer could issue it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<super::CardInfo>,
}
