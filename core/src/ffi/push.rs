use crate::domain::push;

/// Which push service gave the app its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PushService {
    /// Apple Push Notification service: the device token of
    /// `didRegisterForRemoteNotificationsWithDeviceToken`, as hex.
    Apns,
    /// Firebase Cloud Messaging: the token of `FirebaseMessagingService.onNewToken`.
    Fcm,
}

impl From<PushService> for push::PushService {
    fn from(s: PushService) -> Self {
        match s {
            PushService::Apns => Self::Apns,
            PushService::Fcm => Self::Fcm,
        }
    }
}
