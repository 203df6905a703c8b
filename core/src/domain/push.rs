//! Push tokens as the platforms hand them over: an APNs device token (the bytes Apple gives,
//! written in hex) or an FCM registration token. One set of rules: the core checks a token
//! before storing or sending it, and the platform checks it again on arrival.

use super::enrollment::FieldError;

/// Shortest APNs device token, in hex digits (32 bytes today).
pub const APNS_MIN_HEX: usize = 64;
/// Longest APNs device token accepted, in hex digits (Apple says tokens may grow: 100 bytes).
pub const APNS_MAX_HEX: usize = 200;
/// Longest FCM registration token accepted (about 160 today; Firebase gives no bound).
pub const FCM_MAX: usize = 4096;

/// Which push service delivers to the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushService {
    /// Apple Push Notification service (iOS).
    Apns,
    /// Firebase Cloud Messaging (Android).
    Fcm,
}

impl PushService {
    /// The name on the wire: `apns` or `fcm`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Apns => "apns",
            Self::Fcm => "fcm",
        }
    }

    /// Reads the wire name.
    pub fn parse(name: &str) -> Result<Self, FieldError> {
        match name {
            "apns" => Ok(Self::Apns),
            "fcm" => Ok(Self::Fcm),
            _ => Err(FieldError {
                field: "service",
                message: "must be `apns` or `fcm`".into(),
            }),
        }
    }
}

/// Checks a push token for `service` and returns it as it is stored and sent: an APNs token
/// in lower-case hex, an FCM token unchanged.
pub fn normalize_token(service: PushService, raw: &str) -> Result<String, FieldError> {
    let err = |m: &str| FieldError {
        field: "token",
        message: m.to_owned(),
    };
    let token = raw.trim();
    if token.is_empty() {
        return Err(err("is required"));
    }
    match service {
        PushService::Apns => {
            if !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(err("must be the APNs device token in hex"));
            }
            // Whole bytes only: the shell writes each byte of Apple's token as two digits.
            if !(APNS_MIN_HEX..=APNS_MAX_HEX).contains(&token.len()) || token.len() % 2 != 0 {
                return Err(err("must be 64 to 200 hex digits (an APNs device token)"));
            }
            Ok(token.to_ascii_lowercase())
        }
        PushService::Fcm => {
            if token.len() > FCM_MAX {
                return Err(err("is longer than 4096 characters"));
            }
            // Firebase tokens are URL-safe text (letters, digits, `:`, `-`, `_`); spaces or
            // control characters mean the shell handed over something else.
            if !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(err("must be printable ASCII without spaces (an FCM token)"));
            }
            Ok(token.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apns_tokens_are_hex_of_whole_bytes() {
        let token = "AB".repeat(32);
        assert_eq!(
            normalize_token(PushService::Apns, &format!(" {token} ")).unwrap(),
            "ab".repeat(32)
        );
        assert!(normalize_token(PushService::Apns, &"a".repeat(200)).is_ok());
        for bad in [
            "",
            "   ",
            &"a".repeat(62),
            &"a".repeat(65),
            &"a".repeat(202),
            &format!("{}g", "a".repeat(63)),
            "fcm-token:APA91b",
        ] {
            assert_eq!(
                normalize_token(PushService::Apns, bad).unwrap_err().field,
                "token",
                "{bad}"
            );
        }
    }

    #[test]
    fn fcm_tokens_are_bounded_printable_text() {
        let token = "dGVzdA:APA91bH-x_y";
        assert_eq!(normalize_token(PushService::Fcm, token).unwrap(), token);
        assert!(normalize_token(PushService::Fcm, &"x".repeat(FCM_MAX)).is_ok());
        for bad in ["", &"x".repeat(FCM_MAX + 1), "a b", "a\nb", "é"] {
            assert_eq!(
                normalize_token(PushService::Fcm, bad).unwrap_err().field,
                "token"
            );
        }
    }

    #[test]
    fn services_by_wire_name() {
        for s in [PushService::Apns, PushService::Fcm] {
            assert_eq!(PushService::parse(s.as_str()), Ok(s));
        }
        assert_eq!(PushService::parse("gcm").unwrap_err().field, "service");
        assert_eq!(PushService::parse("APNS").unwrap_err().field, "service");
    }
}
