//! Tokens, and the member, contract and beneficiaries the session is about.

use serde::{Deserialize, Serialize};

/// Access and refresh tokens, both bound to the device key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    /// Short-lived access token, sent as `Authorization: DPoP <token>`.
    pub access_token: String,
    /// Always `"DPoP"`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Long-lived, single-use refresh token; kept in secure storage only.
    pub refresh_token: String,
}

impl std::fmt::Debug for TokenGrant {
    // Tokens never reach logs, even through a debug print.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/oauth/token` with `grant_type = refresh_token`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Always `"refresh_token"`.
    pub grant_type: String,
    /// The current refresh token; it is rotated by the answer.
    pub refresh_token: String,
}

/// The member who enrolled (the contract holder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// `mbr_…`
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Phone on file, masked.
    pub phone_masked: String,
    /// Email on file, masked.
    pub email_masked: String,
}

/// The contract, without anything the phone does not need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractSummary {
    /// `ctr_…`
    pub id: String,
    /// The contract number as printed on the member's card.
    pub number: String,
    /// The complementary insurer's trading name.
    pub insurer_name: String,
    /// The product ("Santé Essentielle", …).
    pub product_name: String,
    /// Start of cover, `YYYY-MM-DD`.
    pub start_date: String,
    /// `active`, `suspended` or `terminated`.
    pub status: String,
}

/// Someone covered by the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    /// `ben_…`
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `holder`, `spouse` or `child`.
    pub relationship: String,
}

/// `GET /v1/me`: the session's member, contract and beneficiaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Always `"profile"`.
    pub object: String,
    /// The device making the request.
    pub device_id: String,
    /// The member.
    pub member: Member,
    /// The contract.
    pub contract: ContractSummary,
    /// Everyone covered.
    pub beneficiaries: Vec<Beneficiary>,
}
