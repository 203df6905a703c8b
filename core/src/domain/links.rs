//! Where a link or a push message takes the member. The shells only hand over the URL (App
//! Links, universal links, the `tierspay://` scheme) or the push payload; the core decides.

/// The host of TiersPay's universal links and App Links.
pub const LINK_HOST: &str = "app.tierspay.fr";
/// The app's custom URL scheme.
pub const SCHEME: &str = "tierspay";

/// A screen to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The home screen.
    Home,
    /// Enrollment, with the contract number pre-filled when the link carries one.
    Enroll {
        /// From `?contract=`.
        contract_number: Option<String>,
    },
    /// A provider, from its desk QR code (`/p/{CODE}`).
    Provider {
        /// The provider code.
        code: String,
    },
    /// The virtual card (`/card`): pushes about it (frozen, active again) open it.
    Card,
}

/// Why a link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LinkError(pub &'static str);

/// Parses `https://app.tierspay.fr/…` or `tierspay://…` into a destination. Anything else
/// (another host, plain http, an unknown path) is refused: links are an attack surface.
pub fn parse(url: &str) -> Result<Destination, LinkError> {
    let url = url.trim();
    if url.len() > 2048 {
        return Err(LinkError("the link is too long"));
    }
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if !host.eq_ignore_ascii_case(LINK_HOST) {
            return Err(LinkError("the link is not a TiersPay link"));
        }
        path
    } else if let Some(rest) = url.strip_prefix(&format!("{SCHEME}://")) {
        rest
    } else {
        return Err(LinkError("the link is not a TiersPay link"));
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.split('#').next().unwrap_or("").trim_matches('/');
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    match path {
        "" | "home" => Ok(Destination::Home),
        "card" => Ok(Destination::Card),
        "enroll" => {
            let contract_number = match param("contract") {
                None => None,
                Some(raw) => Some(
                    super::enrollment::normalize_contract_number(&raw)
                        .map_err(|_| LinkError("the link's contract number is malformed"))?,
                ),
            };
            Ok(Destination::Enroll { contract_number })
        }
        _ => match path.strip_prefix("p/") {
            Some(code) => super::provider_code::normalize(code)
                .map(|code| Destination::Provider { code })
                .ok_or(LinkError("the link's provider code is malformed")),
            None => Err(LinkError(
                "the link points to a page this app does not have",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_of_our_host_and_scheme_route() {
        assert_eq!(parse("tierspay://home"), Ok(Destination::Home));
        assert_eq!(parse("https://app.tierspay.fr/"), Ok(Destination::Home));
        assert_eq!(
            parse("https://app.tierspay.fr/enroll?contract=tp-1000001"),
            Ok(Destination::Enroll {
                contract_number: Some("TP1000001".into())
            })
        );
        assert_eq!(
            parse("tierspay://enroll"),
            Ok(Destination::Enroll {
                contract_number: None
            })
        );
        assert_eq!(parse("tierspay://card"), Ok(Destination::Card));
        assert_eq!(parse("https://app.tierspay.fr/card"), Ok(Destination::Card));
        assert_eq!(
            parse("https://app.tierspay.fr/p/k7m2qx"),
            Ok(Destination::Provider {
                code: "K7M2QX".into()
            })
        );
    }

    #[test]
    fn other_hosts_schemes_and_paths_are_refused() {
        for bad in [
            "http://app.tierspay.fr/",
            "https://app.tierspay.fr.evil.com/",
            "https://evil.com/app.tierspay.fr/",
            "javascript:alert(1)",
            "tierspay://admin",
            "tierspay://card/1",
            "https://app.tierspay.fr/enroll?contract=%27;--",
            "https://app.tierspay.fr/p/K7M2Q0",
            "https://app.tierspay.fr/p/",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
