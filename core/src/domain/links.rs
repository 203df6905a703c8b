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
    /// A signed payment link (`/l/{token}`), not yet verified: the core checks the token
    /// against the pinned key (`payment_link::verify`) before anything of it is shown.
    PaymentLink {
        /// The token as it came, base64url, at most [`MAX_TOKEN_CHARS`].
        token: String,
    },
    /// An SMS short link (`/s/{code}`): the platform exchanges the code for a signed token,
    /// which is then verified like any other.
    ShortLink {
        /// The code, letters and digits only.
        code: String,
    },
}

/// Longest token path accepted: well above a real token (120), small enough to bound the work.
pub const MAX_TOKEN_CHARS: usize = 256;
/// Longest short-link code accepted.
pub const MAX_SHORT_CODE_CHARS: usize = 32;

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
        // `/l/` with nothing after it (the trailing `/` is trimmed above): a cut link.
        "l" => Ok(Destination::PaymentLink {
            token: String::new(),
        }),
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
        _ => {
            if let Some(code) = path.strip_prefix("p/") {
                return super::provider_code::normalize(code)
                    .map(|code| Destination::Provider { code })
                    .ok_or(LinkError("the link's provider code is malformed"));
            }
            if let Some(token) = path.strip_prefix("l/") {
                // Only the shape is checked here; the token's own checks say what is wrong
                // with it (truncated, altered...), so any base64url text goes through.
                let ok = token.len() <= MAX_TOKEN_CHARS
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                return if ok {
                    Ok(Destination::PaymentLink {
                        token: token.to_owned(),
                    })
                } else {
                    Err(LinkError("this is not a TiersPay payment link"))
                };
            }
            if let Some(code) = path.strip_prefix("s/") {
                let ok = !code.is_empty()
                    && code.len() <= MAX_SHORT_CODE_CHARS
                    && code.bytes().all(|b| b.is_ascii_alphanumeric());
                return if ok {
                    Ok(Destination::ShortLink {
                        code: code.to_owned(),
                    })
                } else {
                    Err(LinkError("this is not a TiersPay payment link"))
                };
            }
            Err(LinkError(
                "the link points to a page this app does not have",
            ))
        }
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
    fn payment_and_short_links_route_unverified_and_bounded() {
        assert_eq!(
            parse("https://app.tierspay.fr/l/AQMx-_y"),
            Ok(Destination::PaymentLink {
                token: "AQMx-_y".into()
            })
        );
        assert_eq!(
            parse("tierspay://l/AQMx"),
            Ok(Destination::PaymentLink {
                token: "AQMx".into()
            })
        );
        // An empty token routes, so the member reads "incomplete" rather than "no such page".
        assert_eq!(
            parse("https://app.tierspay.fr/l/"),
            Ok(Destination::PaymentLink {
                token: String::new()
            })
        );
        assert_eq!(
            parse("https://app.tierspay.fr/s/k7Qm2x9a"),
            Ok(Destination::ShortLink {
                code: "k7Qm2x9a".into()
            })
        );
        for bad in [
            "https://app.tierspay.fr/l/AQ%2e",
            "https://app.tierspay.fr/l/AQ/x",
            "https://app.tierspay.fr/l/AQ.x",
            "https://app.tierspay.fr/s/",
            "https://app.tierspay.fr/s/ab-c",
            "https://app.tierspay.fr/s/abc/..",
            "https://evil.example/l/AQMx",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let long = format!(
            "https://app.tierspay.fr/l/{}",
            "A".repeat(MAX_TOKEN_CHARS + 1)
        );
        assert!(parse(&long).is_err());
        let long = format!(
            "https://app.tierspay.fr/s/{}",
            "a".repeat(MAX_SHORT_CODE_CHARS + 1)
        );
        assert!(parse(&long).is_err());
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
