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
    /// An invoice's message thread (a push saying support answered): open
    /// `TiersPay::thread_flow` with `invoice_id` and call `start`.
    InvoiceThread {
        /// The `in_…`.
        invoice_id: String,
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
    // Support answered on an invoice: its thread, when the id is one the core would send.
    if data.get("kind").map(String::as_str) == Some("invoice_message") {
        if let Some(id) = data
            .get("invoice")
            .filter(|id| crate::app::messages::path_safe(id, "in"))
        {
            return Ok(Route::InvoiceThread {
                invoice_id: id.clone(),
            });
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn push(entries: &[(&str, &str)]) -> HashMap<String, String> {
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn supports_answer_leads_to_its_thread_and_a_bad_id_home() {
        assert_eq!(
            route_for_push(push(&[
                ("kind", "invoice_message"),
                ("link", "tierspay://home"),
                ("invoice", "in_Ab-9"),
            ]))
            .unwrap(),
            Route::InvoiceThread {
                invoice_id: "in_Ab-9".into()
            }
        );
        for bad in ["in_../x", "imsg_1", "", "in_a/b"] {
            assert_eq!(
                route_for_push(push(&[
                    ("kind", "invoice_message"),
                    ("link", "tierspay://home"),
                    ("invoice", bad),
                ]))
                .unwrap(),
                Route::Home,
                "{bad}"
            );
        }
        // Another kind's `invoice` entry leads where its link does.
        assert_eq!(
            route_for_push(push(&[("kind", "card_frozen"), ("invoice", "in_1")])).unwrap(),
            Route::Home
        );
    }
}
