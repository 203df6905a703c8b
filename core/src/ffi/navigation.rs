use std::collections::HashMap;

use super::CoreError;
use crate::domain::links;

/// A screen the shell should show for a link or a push message.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Route {
    /// The home screen.
    Home,
    /// Enrollment, with the contract number pre-filled when known.
    Enroll {
        /// Pre-filled contract number.
        contract_number: Option<String>,
    },
    /// A provider's page, from a desk QR code or link.
    Provider {
        /// The provider code.
        code: String,
    },
    /// The virtual card's screen (pushes say it was frozen or is active again).
    Card,
    /// A payment link (signed `/l/…` or SMS `/s/…`): nothing of it is trusted yet; hand `url`
    /// to `ArrearsFlow::open_link` (or `Arrears::open_link`), which verifies it against the
    /// pinned key before anything is shown.
    PaymentLink {
        /// The link as received.
        url: String,
    },
}

impl Route {
    fn of(d: links::Destination, url: &str) -> Self {
        match d {
            links::Destination::PaymentLink { .. } | links::Destination::ShortLink { .. } => {
                Self::PaymentLink {
                    url: url.trim().to_owned(),
                }
            }
            links::Destination::Home => Self::Home,
            links::Destination::Enroll { contract_number } => Self::Enroll { contract_number },
            links::Destination::Provider { code } => Self::Provider { code },
            links::Destination::Card => Self::Card,
        }
    }
}

/// Where a universal link, App Link or `tierspay://` URL leads. Foreign hosts are refused.
#[uniffi::export]
pub fn route_for_link(url: String) -> Result<Route, CoreError> {
    links::parse(&url)
        .map(|d| Route::of(d, &url))
        .map_err(|e| CoreError::InvalidInput {
            field: "url".into(),
            detail: e.0.into(),
        })
}

/// Where a push message leads: its `link` entry, or home when it has none.
#[uniffi::export]
pub fn route_for_push(data: HashMap<String, String>) -> Result<Route, CoreError> {
    match data.get("link") {
        Some(link) => route_for_link(link.clone()),
        None => Ok(Route::Home),
    }
}

/// The core's version, e.g. `0.1.0`.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
