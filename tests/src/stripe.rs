//! A Stripe-style client for the mock PSP's wire format: form-encoded bodies, query strings with
//! bracket notation, a secret key, idempotency keys; and the few calls the PSP tests share
//! (a cardholder, an active card, Apple and Google provisioning, a card's tokens, a connected
//! account).

use base64::Engine;
use serde_json::Value;
use tierspay_server_mock::psp::DEFAULT_API_KEY;
use tierspay_wallet::test_pki::TestPki;

use crate::Mock;

/// Standard base64, as PassKit and TapAndPay exchange it.
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Every PSP table: a refused request must leave all of them as they were.
pub const PSP_TABLES: &[&str] = &[
    "psp_cardholders",
    "psp_cards",
    "psp_tokens",
    "psp_events",
    "psp_settings",
];

/// Raw Stripe-style calls with a secret key.
pub struct Stripe<'a> {
    mock: &'a Mock,
    key: String,
    /// `Stripe-Account`: act for a connected account.
    account: Option<String>,
}

/// What the PSP answered.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The JSON body (null if there was none).
    pub body: Value,
    /// Whether the answer is a replay of an earlier request with the same idempotency key.
    pub replayed: bool,
    /// The answer's headers (`Request-Id`, `Idempotency-Key`, `Original-Request`, …).
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// A header's value (empty if absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl<'a> Stripe<'a> {
    /// A client with the mock's default secret key.
    pub fn new(mock: &'a Mock) -> Self {
        Self {
            mock,
            key: DEFAULT_API_KEY.into(),
            account: None,
        }
    }

    /// The same key, acting for a connected account (`Stripe-Account: acct_…`).
    pub fn for_account(&self, account: &str) -> Self {
        Self {
            mock: self.mock,
            key: self.key.clone(),
            account: Some(account.into()),
        }
    }

    /// A client with another key (unknown, publishable…).
    pub fn with_key(mock: &'a Mock, key: &str) -> Self {
        Self {
            mock,
            key: key.into(),
            account: None,
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let mut request = request.bearer_auth(&self.key);
        if let Some(account) = &self.account {
            request = request.header("stripe-account", account);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            body,
            replayed,
            headers,
        }
    }

    /// POST a form with extra headers (`Idempotency-Key`, `Stripe-Version`, …).
    pub async fn post_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self
            .mock
            .http
            .post(format!("{}{path}", self.mock.url))
            .form(form);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request).await
    }

    /// POST a form.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(
            self.mock
                .http
                .post(format!("{}{path}", self.mock.url))
                .form(form),
        )
        .await
    }

    /// POST a form with an `Idempotency-Key`.
    pub async fn post_idempotent(&self, path: &str, form: &[(&str, &str)], key: &str) -> Answer {
        self.send(
            self.mock
                .http
                .post(format!("{}{path}", self.mock.url))
                .header("idempotency-key", key)
                .form(form),
        )
        .await
    }

    /// GET with a query string.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        self.send(
            self.mock
                .http
                .get(format!("{}{path}", self.mock.url))
                .query(query),
        )
        .await
    }

    /// DELETE.
    pub async fn send_delete(&self, path: &str) -> Answer {
        self.send(self.mock.http.delete(format!("{}{path}", self.mock.url)))
            .await
    }

    /// POST a form that must succeed; its body.
    pub async fn ok_post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let a = self.post(path, form).await;
        assert_eq!(a.status, 200, "POST {path}: {}", a.body);
        a.body
    }

    /// GET that must succeed; its body.
    pub async fn ok_get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let a = self.get(path, query).await;
        assert_eq!(a.status, 200, "GET {path}: {}", a.body);
        a.body
    }

    /// A new individual cardholder in Paris; its id.
    pub async fn cardholder(&self, name: &str) -> String {
        let body = self
            .ok_post(
                "/v1/issuing/cardholders",
                &[
                    ("name", name),
                    ("type", "individual"),
                    ("billing[address][line1]", "1 rue de la Paix"),
                    ("billing[address][city]", "Paris"),
                    ("billing[address][postal_code]", "75002"),
                    ("billing[address][country]", "FR"),
                ],
            )
            .await;
        body["id"].as_str().unwrap().to_owned()
    }

    /// A new active virtual card for doctors and pharmacies in France.
    pub async fn active_card(&self, cardholder: &str) -> Value {
        self.ok_post(
            "/v1/issuing/cards",
            &[
                ("cardholder", cardholder),
                ("currency", "eur"),
                ("type", "virtual"),
                ("status", "active"),
                ("spending_controls[allowed_categories][0]", "doctors"),
                (
                    "spending_controls[allowed_categories][1]",
                    "drug_stores_and_pharmacies",
                ),
                ("spending_controls[allowed_merchant_countries][0]", "FR"),
            ],
        )
        .await
    }

    /// Sets a card's status (which must succeed); the card.
    pub async fn set_status(&self, card: &str, status: &str) -> Value {
        self.ok_post(&format!("/v1/issuing/cards/{card}"), &[("status", status)])
            .await
    }
}

/// The error code of a refusal (empty if none).
pub fn code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or_default()
}

/// The param a refusal names (empty if none).
pub fn param(a: &Answer) -> &str {
    a.body["error"]["param"].as_str().unwrap_or_default()
}

/// A new custom connected account in France (an insurer) named `name`, with the form fields
/// `extra` besides; the account.
pub async fn connected_account(psp: &Stripe<'_>, name: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("type", "custom"),
        ("country", "FR"),
        ("business_profile[name]", name),
    ];
    form.extend_from_slice(extra);
    psp.ok_post("/v1/accounts", &form).await
}

/// Wall-clock Unix seconds (test certificates are valid around now).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Trusts the test PKI's root for Apple provisioning, through the test helper.
pub async fn trust_root(psp: &Stripe<'_>, pki: &TestPki) {
    let root = B64.encode(pki.root_der());
    let a = psp
        .ok_post(
            "/v1/test_helpers/issuing/apple_root",
            &[("certificate", &root)],
        )
        .await;
    assert_eq!(a["object"], "apple_root");
}

/// The query of `push_provisioning_details` (PassKit's certificates, nonce, nonce signature).
pub fn ios_query(certs: &[Vec<u8>], nonce: &[u8], signature: &[u8]) -> Vec<(String, String)> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut q: Vec<(String, String)> = certs
        .iter()
        .map(|c| ("ios[certificates][]".to_owned(), B64.encode(c)))
        .collect();
    q.push(("ios[nonce]".into(), hex(nonce)));
    q.push(("ios[nonce_signature]".into(), hex(signature)));
    q
}

/// Apple in-app provisioning of `card` with an [`ios_query`].
pub async fn push_details(psp: &Stripe<'_>, card: &str, query: &[(String, String)]) -> Answer {
    let q: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    psp.get(
        &format!("/v1/issuing/cards/{card}/push_provisioning_details"),
        &q,
    )
    .await
}

/// Google push provisioning of `card` to a wallet account and device.
pub async fn google_push(psp: &Stripe<'_>, card: &str, wallet: &str, device: &str) -> Answer {
    psp.post(
        &format!("/v1/issuing/cards/{card}/google_pay_provisioning"),
        &[("wallet_account_id", wallet), ("device_id", device)],
    )
    .await
}

/// The tokens of a card (first page), as JSON.
pub async fn tokens(psp: &Stripe<'_>, card: &str) -> Vec<Value> {
    psp.ok_get("/v1/issuing/tokens", &[("card", card)]).await["data"]
        .as_array()
        .unwrap()
        .clone()
}
