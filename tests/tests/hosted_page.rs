//! The hosted payment page over HTTP (issue 11, item 5): a member's link opens the invoice,
//! the card goes through the PSP's own form (never the platform), 3-D Secure goes through the
//! challenge page, a decline is said, every link of a paid invoice shows the receipt, an expired
//! link sends a fresh one to the address on record, and a tampered one shows nothing.
//! The same journey runs in real Chromium: tests/browser (make test-browser).

use reqwest::redirect::Policy;
use serde_json::{json, Value};
use tierspay_tests::pay_once::links;
use tierspay_tests::{Mock, DEMO_CONTRACT, PSP_KEY};

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
}

struct Browser {
    http: reqwest::Client,
    base: String,
    lang: &'static str,
}

impl Browser {
    fn new(mock: &Mock, lang: &'static str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: mock.url.clone(),
            lang,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn read(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Page {
            status,
            location,
            body: r.text().await.expect("body"),
        }
    }

    async fn get(&self, path: &str) -> Page {
        let r = self
            .http
            .get(self.url(path))
            .header("accept-language", self.lang)
            .send()
            .await
            .expect("GET");
        Self::read(r).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(self.url(path))
            .header("accept-language", self.lang)
            .form(form)
            .send()
            .await
            .expect("POST");
        Self::read(r).await
    }
}

/// The path of a link the server wrote for the production origin.
fn path_of(url: &str) -> String {
    url.trim_start_matches("https://app.tierspay.fr").to_owned()
}

/// A premium arrears invoice for the demo member; its id.
async fn invoice(mock: &Mock, amount: i64) -> String {
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(PSP_KEY)
        .json(&json!({
            "contract": DEMO_CONTRACT,
            "amount": amount,
            "description": "Cotisation <b>impayée</b> de novembre",
        }))
        .send()
        .await
        .expect("arrears");
    let status = r.status().as_u16();
    let doc: Value = r.json().await.expect("json");
    assert_eq!(status, 200, "{doc}");
    doc["invoice"].as_str().expect("invoice id").to_owned()
}

async fn pay(b: &Browser, link: &str, number: &str) -> Page {
    let start = b.post(&format!("{link}/card"), &[]).await;
    assert_eq!(start.status, 303, "{}", start.body);
    let form = start.location.expect("to the PSP's form");
    assert!(form.contains("/c/pay/"), "{form}");
    let page = b.get(&form).await;
    assert_eq!(page.status, 200);
    for label in [
        "for=\"number\"",
        "for=\"exp_month\"",
        "for=\"exp_year\"",
        "for=\"cvc\"",
    ] {
        assert!(page.body.contains(label), "{label}");
    }
    b.post(
        &form,
        &[
            ("card[number]", number),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2034"),
            ("card[cvc]", "123"),
        ],
    )
    .await
}

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false)
}

#[tokio::test]
async fn pay_from_the_email_link_then_every_link_shows_the_receipt() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 4250).await;
    let l = links(&mock, &id, &["email", "sms"]).await;
    let (email, sms) = (&l[0].1, &l[1].1);
    let b = Browser::new(&mock, "fr-FR,fr;q=0.9,en;q=0.5");

    let page = b.get(email).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "<html lang=\"fr\">",
        "Mutuelle Horizon",
        "Camille Martin",
        "…0001",
        "42,50\u{a0}€",
        "À payer",
        "Payer par carte",
        "Payer par virement SEPA",
        "FR76 3000 6000 0112 3456 7890 189",
        "SIREN",
    ] {
        assert!(page.body.contains(text), "missing {text:?}");
    }
    assert!(!page.body.contains("<script"), "no script on the page");
    assert!(page
        .body
        .contains("Cotisation &#60;b&#62;impayée&#60;/b&#62; de novembre"));
    assert!(page.body.len() < 30 * 1024, "{} bytes", page.body.len());

    // A decline is said on the PSP's form, and nothing is paid.
    let declined = pay(&b, email, "4000000000000002").await;
    assert_eq!(declined.status, 402);
    assert!(declined.body.contains("role=\"alert\""));
    assert!(declined.body.contains("refusée"), "{}", declined.body);
    let after_decline = b.get(email).await.body;
    assert!(after_decline.contains("À payer"));
    assert!(after_decline.contains("Le dernier paiement par carte a été refusé"));

    let paid = pay(&b, email, "4242424242424242").await;
    assert_eq!(paid.status, 303, "{}", paid.body);
    assert_eq!(
        paid.location.as_deref(),
        Some(format!("{}{email}", mock.url).as_str())
    );

    for link in [email, sms] {
        let page = b.get(link).await;
        assert_eq!(page.status, 200);
        for text in [
            "Facture déjà payée",
            "Reçu",
            "42,50\u{a0}€",
            "Carte Visa •••• 4242",
        ] {
            assert!(page.body.contains(text), "{link}: missing {text:?}");
        }
        assert!(!page.body.contains("<form"), "no way to pay twice");
    }
    // The card number reached the PSP only, sealed: no table or file of the mock holds it.
    let platform_tables = mock.snapshot(&[
        "platform_invoices",
        "platform_outbox",
        "platform_link_resends",
        "platform_customers",
    ]);
    assert!(!platform_tables.contains("4242424242424242"));
    let db = mock.db_path();
    let token = email.trim_start_matches("/l/");
    for file in [db.clone(), db.with_extension("db-wal")] {
        assert!(!file_contains(&file, b"4242424242424242"), "{file:?}");
        // The link is a bearer credential too: the PSP keeps it (its return URL) sealed.
        assert!(
            !file_contains(&file, token.as_bytes()),
            "{file:?} holds the link"
        );
    }
}

#[tokio::test]
async fn a_card_that_authenticates_goes_through_the_challenge_page() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 1999).await;
    let l = links(&mock, &id, &["email"]).await;
    let b = Browser::new(&mock, "en");
    let to_challenge = pay(&b, &l[0].1, "4000002500003155").await;
    assert_eq!(to_challenge.status, 303);
    let challenge = to_challenge.location.expect("challenge");
    assert!(challenge.contains("/redirect/authenticate/"), "{challenge}");
    // Until the challenge is answered, the page says a payment waits for it.
    let waiting = b.get(&l[0].1).await.body;
    assert!(
        waiting.contains("waiting for its authentication"),
        "{waiting}"
    );
    let back = b.post(&challenge, &[("outcome", "complete")]).await;
    assert_eq!(back.status, 303);
    let back = back.location.expect("back to the form");
    assert!(back.contains("/return?"), "{back}");
    let done = b.get(&back).await;
    assert_eq!(done.status, 303);
    let page = b.get(&l[0].1).await;
    assert!(page.body.contains("Already paid"), "{}", page.body);
    assert!(page.body.contains("€19.99"));
}

#[tokio::test]
async fn a_failed_challenge_is_said_and_leaves_the_invoice_open() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 1000).await;
    let l = links(&mock, &id, &["email"]).await;
    let b = Browser::new(&mock, "en");
    let challenge = pay(&b, &l[0].1, "4000002760003184")
        .await
        .location
        .expect("challenge");
    let back = b.post(&challenge, &[("outcome", "fail")]).await;
    let form = b.get(&back.location.expect("back")).await;
    assert_eq!(form.status, 402);
    assert!(form.body.contains("authentication failed"), "{}", form.body);
    let page = b.get(&l[0].1).await.body;
    assert!(page.contains("To pay"));
    assert!(page.contains("The last card payment was declined"));
}

#[tokio::test]
async fn english_and_french_follow_accept_language() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 123_456).await;
    let l = links(&mock, &id, &["email"]).await;
    let en = Browser::new(&mock, "en-GB,en;q=0.9,fr;q=0.1")
        .get(&l[0].1)
        .await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("€1,234.56"));
    assert!(en.body.contains("Pay by SEPA transfer"));
    let fr = Browser::new(&mock, "de, fr;q=0.3").get(&l[0].1).await;
    assert!(fr.body.contains("<html lang=\"fr\">"));
    assert!(fr.body.contains("1\u{202f}234,56\u{a0}€"));
}

#[tokio::test]
async fn a_tampered_cut_or_forged_link_is_refused_and_names_nothing() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 4250).await;
    let l = links(&mock, &id, &["email"]).await;
    let good = &l[0].1;
    let token = good.trim_start_matches("/l/");
    let b = Browser::new(&mock, "fr");
    let mut tampered = token.to_owned().into_bytes();
    let i = 40;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    for bad in [
        format!("/l/{tampered}"),
        format!("/l/{}", &token[..80]),
        format!("/l/{token}AAAA"),
        "/l/%3Cscript%3Ealert(1)%3C%2Fscript%3E".to_owned(),
    ] {
        let page = b.get(&bad).await;
        assert_eq!(page.status, 400, "{bad}");
        assert!(page.body.contains("Lien de paiement refusé"));
        for secret in ["Camille", "42,50", "Référence", "<form", "<script"] {
            assert!(!page.body.contains(secret), "{bad} shows {secret}");
        }
        let post = b.post(&format!("{bad}/card"), &[]).await;
        assert_eq!(post.status, 400, "{bad}/card");
    }
    let long = format!("/l/{}", "A".repeat(5000));
    assert!(b.get(&long).await.status >= 400);
}

#[tokio::test]
async fn an_expired_link_sends_a_fresh_one_to_the_known_address_only() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 4250).await;
    let l = links(&mock, &id, &["email"]).await;
    mock.advance(61 * 86_400).await;
    let b = Browser::new(&mock, "en");
    let page = b.get(&l[0].1).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("This link has expired"));
    assert!(page.body.contains("c•••@example.fr"));
    assert!(!page.body.contains("<input"), "no address can be typed");
    for secret in ["€42.50", "Reference", "Camille", "0001"] {
        assert!(!page.body.contains(secret), "shows {secret}");
    }
    // A typed address in the body is not read: the form has no field, the server takes none.
    let sent = b
        .post(
            &format!("{}/resend", l[0].1),
            &[("email", "attacker@evil.example")],
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("Fresh link sent"));
    let outbox = mock
        .get("/v1/test_helpers/outbox?channel=email&recipient=camille.martin%40example.fr")
        .await;
    let messages = outbox["data"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{outbox}");
    let body = messages[0]["body"].as_str().unwrap_or_default();
    // A real MIME message, built by the reminders' email builder.
    let raw = messages[0]["raw"].as_str().unwrap_or_default();
    assert!(raw.contains("MIME-Version: 1.0"), "{raw}");
    assert!(body.contains("https://app.tierspay.fr/l/"), "{body}");
    let evil = mock
        .get("/v1/test_helpers/outbox?recipient=attacker%40evil.example")
        .await;
    assert_eq!(evil["data"].as_array().map(Vec::len), Some(0));
    // The fresh link opens the invoice.
    let fresh = body
        .split_whitespace()
        .find(|w| w.starts_with("https://app.tierspay.fr/l/"))
        .expect("link in the email");
    // Trim the sentence's punctuation, never the token's own `-` and `_` (base64url).
    let fresh = path_of(
        fresh.trim_end_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')),
    );
    assert_eq!(b.get(&fresh).await.status, 200);
    // Resends are bounded.
    for _ in 1..hosted_page_limit() {
        assert_eq!(b.post(&format!("{}/resend", l[0].1), &[]).await.status, 200);
    }
    assert_eq!(b.post(&format!("{}/resend", l[0].1), &[]).await.status, 429);
}

fn hosted_page_limit() -> i64 {
    tierspay_server_mock::platform::arrears::hosted_page::MAX_RESENDS_PER_DAY
}

#[tokio::test]
async fn the_page_is_never_framed_cached_or_scripted() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 4250).await;
    let l = links(&mock, &id, &["email"]).await;
    let r = reqwest::get(format!("{}{}", mock.url, l[0].1))
        .await
        .expect("GET");
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn bodies_paths_and_languages_are_bounded() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 4250).await;
    let l = links(&mock, &id, &["email"]).await;
    let lang: &'static str = "fr;q=0.1, ".repeat(400).leak();
    let b = Browser::new(&mock, lang);
    // An absurd Accept-Language is read to its bound only: the page still answers, in French.
    let page = b.get(&l[0].1).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html lang=\"fr\">"));
    // The card form's body has the server's limit (64 KiB).
    let form = b
        .post(&format!("{}/card", l[0].1), &[])
        .await
        .location
        .expect("form");
    let huge = "4".repeat(70 * 1024);
    let refused = b.post(&form, &[("card[number]", huge.as_str())]).await;
    assert_eq!(refused.status, 413);
    // A card number of the wrong shape is refused on the form, nothing stored.
    let bad = b
        .post(
            &form,
            &[
                ("card[number]", "4242424242424241"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
        )
        .await;
    assert_eq!(bad.status, 402);
    assert!(bad.body.contains("aria-invalid=\"true\""));
    assert!(mock.snapshot(&["psp_payment_methods"]).is_empty());
    // An unknown checkout token says so.
    let unknown = b.get("/c/pay/cs_unknown").await;
    assert_eq!(unknown.status, 404);
}

#[tokio::test]
async fn a_void_invoice_asks_for_nothing_and_cannot_be_paid() {
    let mock = Mock::start().await;
    let id = invoice(&mock, 4250).await;
    let l = links(&mock, &id, &["sms"]).await;
    let (status, doc) = mock.psp_post(&format!("/v1/invoices/{id}/void"), &[]).await;
    assert_eq!(status, 200, "{doc}");
    let b = Browser::new(&mock, "en");
    let page = b.get(&l[0].1).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("This invoice was cancelled"));
    assert!(!page.body.contains("<form") && !page.body.contains("<svg"));
    // The button's target, posted anyway, leads back to the page, not to a card form.
    let post = b.post(&format!("{}/card", l[0].1), &[]).await;
    assert_eq!(post.status, 303);
    assert!(post.location.expect("back").ends_with(&l[0].1));
}
