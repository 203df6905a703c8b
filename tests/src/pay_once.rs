//! Helpers for paying arrears exactly once (issue 12): a member with a saved card and an open
//! premium invoice, the app's payment with an explicit `Idempotency-Key`, the browser that
//! follows a link to the PSP's card form, and the counts that prove one charge.

use reqwest::redirect::Policy;
use serde_json::{json, Value};

use crate::visits::{save_card, Member};
use crate::{raw_proof, Mock, RawDevice, DEMO_CONTRACT, PSP_KEY};

/// A premium invoice of the demo member for `amount` minor units; its `in_…`.
pub async fn premium_invoice(mock: &Mock, amount: i64) -> String {
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(PSP_KEY)
        .json(&json!({"contract": DEMO_CONTRACT, "amount": amount, "description": "Cotisation de novembre"}))
        .send()
        .await
        .expect("arrears");
    let status = r.status().as_u16();
    let doc: Value = r.json().await.expect("json");
    assert_eq!(status, 200, "{doc}");
    doc["invoice"].as_str().expect("invoice").to_owned()
}

/// The demo member, enrolled, with `card` saved (4242… pays), and one open invoice.
pub async fn member_owing(mock: &Mock, card: &str, amount: i64) -> (Member, String) {
    let member = Member::demo(mock).await;
    let (status, saved) = save_card(mock, &member.device, card).await;
    assert_eq!(status, 200, "{saved}");
    let invoice = premium_invoice(mock, amount).await;
    (member, invoice)
}

/// `POST /v1/me/invoices/{invoice}/payments` with `key` (none: no header) and `body`; (status,
/// body), or `None` if the connection broke before an answer.
pub async fn pay_with(
    mock: &Mock,
    device: &RawDevice,
    invoice: &str,
    key: Option<&str>,
    body: Value,
) -> Option<(u16, Value)> {
    let url = format!("{}/v1/me/invoices/{invoice}/payments", mock.url);
    let mut request = mock
        .http
        .post(&url)
        .header("authorization", format!("DPoP {}", device.access_token))
        .header(
            "dpop",
            raw_proof(&device.key, "POST", &url, Some(&device.access_token)),
        )
        .json(&body);
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Some((status, body))
}

/// Pays `amount` euro cents of `invoice` from the app with `key`.
pub async fn pay(
    mock: &Mock,
    device: &RawDevice,
    invoice: &str,
    amount: i64,
    key: &str,
) -> (u16, Value) {
    pay_with(
        mock,
        device,
        invoice,
        Some(key),
        json!({"amount": amount, "currency": "eur"}),
    )
    .await
    .expect("an answer")
}

/// Succeeded charges of an invoice at the PSP (intents that carry it).
pub fn charges_of(mock: &Mock, invoice: &str) -> i64 {
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    db.query_row(
        "SELECT COUNT(*) FROM psp_charges c JOIN psp_payment_intents p ON c.payment_intent = p.id
         WHERE p.invoice = ?1 AND c.status = 'succeeded'",
        [invoice],
        |r| r.get(0),
    )
    .expect("charges")
}

/// Ledger movements whose entries do not sum to zero (must be none).
pub fn unbalanced(mock: &Mock) -> i64 {
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    db.query_row(
        "SELECT COUNT(*) FROM (SELECT movement_id FROM psp_ledger_entries
         GROUP BY movement_id, currency HAVING SUM(amount) <> 0)",
        [],
        |r| r.get(0),
    )
    .expect("ledger")
}

/// The payment links of `invoice` for `channels`, in that order: (channel, path `/l/{token}`).
pub async fn links(mock: &Mock, invoice: &str, channels: &[&str]) -> Vec<(String, String)> {
    let (status, doc) = mock
        .post(
            &format!("/v1/test_helpers/invoices/{invoice}/links"),
            json!({ "channels": channels }),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    doc["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|l| {
            (
                l["channel"].as_str().expect("channel").to_owned(),
                l["url"]
                    .as_str()
                    .expect("url")
                    .trim_start_matches("https://app.tierspay.fr")
                    .to_owned(),
            )
        })
        .collect()
}

/// The payment link paths of `invoice` for `channels` (`/l/{token}`), in that order.
pub async fn link_paths(mock: &Mock, invoice: &str, channels: &[&str]) -> Vec<String> {
    links(mock, invoice, channels)
        .await
        .into_iter()
        .map(|(_, path)| path)
        .collect()
}

/// A browser that does not follow redirects: (status, location, body) of each answer.
pub struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    /// A browser for `mock`, in French.
    pub fn new(mock: &Mock) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: mock.url.clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn read(r: reqwest::Response) -> (u16, Option<String>, String) {
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, location, r.text().await.unwrap_or_default())
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> (u16, Option<String>, String) {
        let r = self
            .http
            .get(self.url(path))
            .header("accept-language", "fr-FR")
            .send()
            .await
            .expect("GET");
        Self::read(r).await
    }

    /// `POST path` with a form.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Option<String>, String) {
        let r = self
            .http
            .post(self.url(path))
            .header("accept-language", "fr-FR")
            .form(form)
            .send()
            .await
            .expect("POST");
        Self::read(r).await
    }

    /// Opens the PSP's card form from a link (`POST {link}/card`); the form's URL.
    pub async fn open_card_form(&self, link: &str) -> String {
        let (status, location, body) = self.post(&format!("{link}/card"), &[]).await;
        assert_eq!(status, 303, "{body}");
        let form = location.expect("a redirect");
        assert!(form.contains("/c/pay/"), "{form}");
        form
    }

    /// Submits `number` on the card form at `form`.
    pub async fn submit_card(&self, form: &str, number: &str) -> (u16, Option<String>, String) {
        self.post(
            form,
            &[
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
        )
        .await
    }
}
