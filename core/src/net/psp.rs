//! The one request the phone sends to the PSP itself: the member's own card, form-encoded as
//! Stripe's `POST /v1/payment_methods`, with the publishable key the platform handed out. The
//! card number goes there and nowhere else, so the client is strict about where "there" is:
//! the PSP's URL must be the enrolled server's own origin or an https origin with no user,
//! query or fragment, and redirects are never followed (a 307 would carry the number on).

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use crate::auth::random;
use crate::error::{Error, Result};
use crate::wire::ErrorBody;

/// Largest PSP answer read: a PaymentMethod is well under a kilobyte.
const MAX_PSP_ANSWER: usize = 64 * 1024;
/// Longest publishable key accepted (Stripe's are about 110 characters).
const MAX_KEY_LEN: usize = 255;

/// The card as typed, held only for the one request. Its `Debug` shows nothing.
pub struct CardEntry {
    /// Digits only.
    pub number: String,
    /// 1–12.
    pub exp_month: u32,
    /// Four digits.
    pub exp_year: u32,
    /// 3 or 4 digits.
    pub cvc: String,
}

impl std::fmt::Debug for CardEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardEntry { .. }")
    }
}

/// What the PSP answered: a Stripe PaymentMethod (only the fields the phone reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentMethod {
    /// `pm_…`
    pub id: String,
    /// The card's public facts.
    pub card: PaymentMethodCard,
}

/// A PaymentMethod's `card`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentMethodCard {
    /// `visa`, `mastercard`…
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// 1–12.
    pub exp_month: u32,
    /// Four digits.
    pub exp_year: u32,
}

/// The PSP's origin, once checked: where the card may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PspEndpoint {
    url: Url,
}

impl PspEndpoint {
    /// Accepts `psp_url` only when it is the origin of `server_url` (the enrolled server) or an
    /// https URL; never with a user, password, query or fragment. The refusal names
    /// `psp_url`, and never sends anything.
    pub fn check(psp_url: &str, server_url: &str) -> Result<Self> {
        let refuse = |why: &str| {
            Error::Protocol(format!(
                "the platform's psp_url is refused ({why}); the card was not sent"
            ))
        };
        if psp_url.len() > 2048 {
            return Err(refuse("too long"));
        }
        let url = Url::parse(psp_url).map_err(|_| refuse("not a URL"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("it carries credentials"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(refuse("it carries a query or fragment"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(refuse("no host"));
        }
        let server = Url::parse(server_url).map_err(|_| refuse("the server URL is not a URL"))?;
        let same_origin = url.origin() == server.origin();
        if !(same_origin || url.scheme() == "https") {
            return Err(refuse("neither https nor the enrolled server's origin"));
        }
        Ok(Self { url })
    }

    /// `{psp_url}/v1/payment_methods`.
    fn payment_methods(&self) -> String {
        format!(
            "{}/v1/payment_methods",
            self.url.as_str().trim_end_matches('/')
        )
    }
}

/// Checks the key the platform gave: publishable (`pk_`), printable, bounded. A secret key
/// (`sk_`) is refused: the phone must never hold one.
pub fn check_publishable_key(key: &str) -> Result<()> {
    let printable = key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !key.starts_with("pk_") || key.len() <= 3 || key.len() > MAX_KEY_LEN || !printable {
        return Err(Error::Protocol(
            "the platform's publishable key is not a pk_ key; the card was not sent".into(),
        ));
    }
    Ok(())
}

/// The form body, percent-encoded (`card[number]=…&…`).
fn form(card: &CardEntry) -> String {
    let pairs = [
        ("type", "card".to_owned()),
        ("card[number]", card.number.clone()),
        ("card[exp_month]", card.exp_month.to_string()),
        ("card[exp_year]", card.exp_year.to_string()),
        ("card[cvc]", card.cvc.clone()),
    ];
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Creates the PaymentMethod at the PSP. One attempt with an `Idempotency-Key`: a second
/// PaymentMethod would be harmless, but a card number is sent no more often than needed.
pub async fn create_payment_method(
    endpoint: &PspEndpoint,
    publishable_key: &str,
    card: &CardEntry,
    timeout: Duration,
) -> Result<PaymentMethod> {
    check_publishable_key(publishable_key)?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("tierspay-core/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("http client: {e}")))?;
    let response = client
        .post(endpoint.payment_methods())
        .header("authorization", format!("Bearer {publishable_key}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("idempotency-key", random::id("idk"))
        .body(form(card))
        .send()
        .await?;
    let status = response.status();
    if status.is_redirection() {
        return Err(Error::Protocol(format!(
            "the PSP answered a redirect ({status}); it was not followed"
        )));
    }
    let body = read_bounded(response).await?;
    if status.is_success() {
        let pm: PaymentMethod = serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("unexpected answer from the PSP: {e}")))?;
        if !pm.id.starts_with("pm_") || pm.id.len() > 255 || pm.card.last4.len() != 4 {
            return Err(Error::Protocol(
                "the PSP's PaymentMethod is malformed".into(),
            ));
        }
        return Ok(pm);
    }
    match serde_json::from_slice::<ErrorBody>(&body) {
        // A card the PSP refuses is the member's to fix: on the form's field (Stripe names
        // them `card[number]`, or only says `incorrect_number`).
        Ok(err) if err.error.kind == "card_error" || err.error.param.is_some() => {
            let detail = err.error;
            let field = field_of(detail.param.as_deref().unwrap_or(&detail.code));
            let field = if field == "card" {
                field_of(&detail.code)
            } else {
                field
            };
            Err(Error::invalid(field, detail.message))
        }
        Ok(err) => Err(Error::Api {
            status: status.as_u16(),
            detail: Box::new(err.error),
            retry_after: None,
            extra: None,
        }),
        Err(_) if status.is_server_error() => {
            Err(Error::Network(format!("the PSP is unavailable ({status})")))
        }
        Err(_) => Err(Error::Protocol(format!(
            "the PSP answered {status} without an error document"
        ))),
    }
}

/// The member's form field for a Stripe card parameter or error code.
pub fn field_of(param_or_code: &str) -> &'static str {
    match param_or_code {
        "card[number]" | "number" | "incorrect_number" | "invalid_number" => "number",
        "card[exp_month]"
        | "card[exp_year]"
        | "exp_month"
        | "exp_year"
        | "invalid_expiry_month"
        | "invalid_expiry_year"
        | "expired_card" => "expiry",
        "card[cvc]" | "cvc" | "invalid_cvc" | "incorrect_cvc" => "cvc",
        _ => "card",
    }
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_PSP_ANSWER {
            return Err(Error::Protocol(format!(
                "the PSP's answer exceeds {MAX_PSP_ANSWER} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "http://127.0.0.1:4010";

    #[test]
    fn the_card_goes_to_the_enrolled_origin_or_to_https_only() {
        assert!(PspEndpoint::check("http://127.0.0.1:4010", SERVER).is_ok());
        assert!(PspEndpoint::check("http://127.0.0.1:4010/", SERVER).is_ok());
        assert!(PspEndpoint::check("https://psp.example", SERVER).is_ok());
        for hostile in [
            "http://127.0.0.1:4011",
            "http://evil.example",
            "http://127.0.0.1:4010@evil.example",
            "https://user:pw@psp.example",
            "https://psp.example/?next=http://evil.example",
            "https://psp.example/#x",
            "ftp://psp.example",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "",
            "psp.example",
            // Non-ASCII hosts (a Cyrillic "а", an umlaut): the URL parser has no IDNA tables
            // (idna_adapter 1.0, see the workspace Cargo.toml), so a look-alike host never parses.
            "https://p\u{0430}ypal.example",
            "https://psp.ex\u{e4}mple",
        ] {
            assert!(
                PspEndpoint::check(hostile, SERVER).is_err(),
                "{hostile} accepted"
            );
        }
        assert_eq!(
            PspEndpoint::check("https://psp.example/base/", SERVER)
                .unwrap()
                .payment_methods(),
            "https://psp.example/base/v1/payment_methods"
        );
    }

    #[test]
    fn only_a_publishable_key_is_sent() {
        assert!(check_publishable_key("pk_test_abc123").is_ok());
        for bad in [
            "sk_test_tierspay",
            "pk_test_a\r\nX: y",
            "",
            "pk_",
            "rk_live_x",
        ] {
            assert!(check_publishable_key(bad).is_err(), "{bad:?}");
        }
        assert!(check_publishable_key(&format!("pk_{}", "a".repeat(300))).is_err());
    }

    #[test]
    fn the_form_is_stripes_and_the_entry_prints_nothing() {
        let card = CardEntry {
            number: "4242424242424242".into(),
            exp_month: 3,
            exp_year: 2030,
            cvc: "123".into(),
        };
        assert_eq!(
            form(&card),
            "type=card&card%5Bnumber%5D=4242424242424242&card%5Bexp_month%5D=3&\
             card%5Bexp_year%5D=2030&card%5Bcvc%5D=123"
        );
        let shown = format!("{card:?}");
        assert!(!shown.contains("4242") && !shown.contains("123"), "{shown}");
    }

    #[test]
    fn stripe_card_params_land_on_the_forms_fields() {
        assert_eq!(field_of("card[number]"), "number");
        assert_eq!(field_of("card[exp_year]"), "expiry");
        assert_eq!(field_of("incorrect_cvc"), "cvc");
        assert_eq!(field_of("card_declined"), "card");
    }
}
