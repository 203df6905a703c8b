//! Push: the device tells the platform where its notifications go.

use serde::{Deserialize, Serialize};

/// `POST /v1/devices/push_token`: this device's APNs or FCM token, replacing any earlier one.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushTokenRequest {
    /// `apns` or `fcm`.
    pub service: String,
    /// The token the platform's push service gave the app.
    pub token: String,
}

impl std::fmt::Debug for PushTokenRequest {
    // A push token addresses one phone: kept out of logs like the session's tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTokenRequest")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// The answer: which device the token now addresses. The token itself is not echoed back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTokenInfo {
    /// Always `"push_token"`.
    pub object: String,
    /// The device the token belongs to.
    pub device_id: String,
    /// `apns` or `fcm`.
    pub service: String,
    /// When it was registered (or replaced), Unix seconds.
    pub updated: i64,
}
