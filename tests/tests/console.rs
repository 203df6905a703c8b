//! The insurer's support console over HTTP (issue 14, item 1), against the in-process mock:
//! sign-in (Argon2id, limits per account and address, no enumeration), the `__Host-` session
//! cookie and its expiries, CSRF on every POST, roles (support cannot do finance actions),
//! search (bounded, escaped), the invoice view (timeline, masked contact), every action with
//! its confirmation and audit entry, the live event stream, and oversized input. Each refusal is
//! checked to be audited and to change nothing. The same journey runs in real Chromium:
//! tests/browser/console.test.mjs (make test-browser).

use reqwest::redirect::Policy;
use serde_json::{json, Value};
use tierspay_tests::{Mock, DEMO_CONTRACT, DEMO_PHONE, PSP_KEY};

const PASSWORD: &str = "correct horse battery staple";

/// Business tables a refused console action must leave alone.
const MONEY_TABLES: &[&str] = &[
    "psp_invoices",
    "psp_credit_notes",
    "psp_refunds",
    "platform_link_resends",
    "platform_outbox",
];

struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Vec<String>,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// A browser with the session cookie kept by hand (the cookie is `Secure`: a cookie jar would
/// not send it over the test's plain HTTP, a browser does for loopback).
struct Staff {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
    lang: &'static str,
}

impl Staff {
    fn new(mock: &Mock) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: mock.url.clone(),
            cookie: None,
            lang: "fr-FR,fr;q=0.9",
        }
    }

    async fn read(r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let set_cookie = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        Page {
            status,
            location,
            set_cookie,
            headers,
            body: r.text().await.expect("body"),
        }
    }

    fn with_cookie(&self, b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let b = b.header("accept-language", self.lang);
        match &self.cookie {
            Some(c) => b.header("cookie", format!("__Host-tierspay-console={c}")),
            None => b,
        }
    }

    async fn get(&self, path: &str) -> Page {
        let r = self
            .with_cookie(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await
            .expect("GET");
        Self::read(r).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .with_cookie(self.http.post(format!("{}{path}", self.base)))
            .form(form)
            .send()
            .await
            .expect("POST");
        Self::read(r).await
    }

    async fn post_raw(&self, path: &str, body: Vec<u8>) -> Page {
        let r = self
            .with_cookie(self.http.post(format!("{}{path}", self.base)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        Self::read(r).await
    }

    /// Signs in; the page the server answered.
    async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let p = self
            .post(
                "/console/login",
                &[("email", email), ("password", password)],
            )
            .await;
        if let Some(c) = p
            .set_cookie
            .iter()
            .find(|c| c.starts_with("__Host-tierspay-console="))
        {
            let value = c["__Host-tierspay-console=".len()..]
                .split(';')
                .next()
                .unwrap();
            self.cookie = Some(value.to_owned());
        }
        p
    }

    /// The CSRF token of the signed-in session, read from a page's form.
    async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        hidden(&page.body, "csrf").expect("a csrf field")
    }

    /// Runs `action` on `invoice` through its confirmation; the final page.
    async fn act(&self, invoice: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let path = format!("/console/invoices/{invoice}/actions/{action}");
        let csrf = self.csrf(&format!("/console/invoices/{invoice}")).await;
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let confirm = self.post(&path, &form).await;
        if confirm.status != 200 {
            return confirm;
        }
        assert!(
            confirm.body.contains("name=\"confirm\""),
            "{}",
            confirm.body
        );
        let key = hidden(&confirm.body, "key").expect("a key");
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("confirm", "yes"),
        ];
        form.extend_from_slice(fields);
        self.post(&path, &form).await
    }
}

/// The value of the hidden field `name` in a page.
fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_owned())
}

async fn staff(mock: &Mock, email: &str, role: &str) {
    let (status, doc) = mock
        .post(
            "/v1/test_helpers/console/staff",
            json!({ "email": email, "password": PASSWORD, "role": role }),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
}

async fn signed_in(mock: &Mock, email: &str, role: &str) -> Staff {
    staff(mock, email, role).await;
    let mut s = Staff::new(mock);
    let p = s.sign_in(email, PASSWORD).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert!(s.cookie.is_some());
    s
}

/// A premium arrears invoice of the demo member; its document (`invoice`, `rf_reference`, …).
async fn invoice(mock: &Mock, amount: i64, description: &str) -> Value {
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(PSP_KEY)
        .json(&json!({ "contract": DEMO_CONTRACT, "amount": amount, "description": description }))
        .send()
        .await
        .expect("arrears");
    let status = r.status().as_u16();
    let doc: Value = r.json().await.expect("json");
    assert_eq!(status, 200, "{doc}");
    doc
}

/// The audit trail's rows (action, outcome, staff email, invoice), oldest first.
fn audit(mock: &Mock) -> Vec<(String, String, Option<String>, Option<String>)> {
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    let mut stmt = conn
        .prepare("SELECT action, outcome, staff_email, invoice FROM console_audit ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn audit_text(mock: &Mock) -> String {
    mock.snapshot(&["console_audit"])
}

#[tokio::test]
async fn sign_in_answers_the_same_for_a_wrong_password_and_an_unknown_account() {
    let mock = Mock::start().await;
    staff(&mock, "agent@insurer.example", "support").await;
    let mut s = Staff::new(&mock);
    let login = s.get("/console/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains("type=\"password\""));

    let wrong = s.sign_in("agent@insurer.example", "not the password").await;
    let unknown = s
        .sign_in("nobody@insurer.example", "not the password")
        .await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert!(wrong.set_cookie.is_empty() && unknown.set_cookie.is_empty());
    // The same page, but for the email typed back into its field.
    assert_eq!(
        wrong.body.replace("agent@insurer.example", "X"),
        unknown.body.replace("nobody@insurer.example", "X")
    );
    assert!(wrong
        .body
        .contains("Adresse e-mail ou mot de passe incorrect."));

    let ok = s.sign_in("Agent@Insurer.example ", PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location.as_deref(), Some("/console/invoices"));
    let cookie = &ok.set_cookie[0];
    for attr in [
        "__Host-tierspay-console=",
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
    ] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Domain"));
    let secret = s.cookie.clone().unwrap();
    // Only a hash of the session id is stored, and the password only as Argon2id.
    let rows = mock.snapshot(&["console_sessions", "console_staff"]);
    assert!(!rows.contains(&secret), "the session id is stored in clear");
    assert!(!rows.contains(PASSWORD));
    assert!(rows.contains("$argon2id$v=19$"));

    let trail = audit(&mock);
    let outcomes: Vec<_> = trail.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(outcomes, ["wrong_password", "wrong_password", "done"]);
    assert_eq!(trail[1].2, None, "an unknown email is not written down");
    let text = audit_text(&mock);
    assert!(
        !text.contains("not the password") && !text.contains(PASSWORD) && !text.contains(&secret)
    );
}

#[tokio::test]
async fn sign_in_is_limited_per_account_known_or_not_and_per_address() {
    let mock = Mock::start().await;
    staff(&mock, "finance@insurer.example", "finance").await;
    let mut s = Staff::new(&mock);
    for email in ["finance@insurer.example", "ghost@insurer.example"] {
        for _ in 0..5 {
            assert_eq!(s.sign_in(email, "wrong wrong wrong").await.status, 401);
        }
        // The sixth is refused before any hashing, even with the right password.
        let limited = s.sign_in(email, PASSWORD).await;
        assert_eq!(limited.status, 429, "{email}");
        assert!(limited.headers.contains_key("retry-after"));
        assert!(limited.body.contains("Trop de tentatives"));
        assert!(limited.set_cookie.is_empty());
    }
    // Every attempt counts against the address (12 so far): eight more accounts reach its 20.
    for i in 0..8 {
        let p = s
            .sign_in(&format!("n{i}@insurer.example"), "wrong wrong wrong")
            .await;
        assert_eq!(p.status, 401);
    }
    let limited = s
        .sign_in("other@insurer.example", "wrong wrong wrong")
        .await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        audit(&mock)
            .iter()
            .filter(|r| r.1 == "rate_limited")
            .count(),
        3
    );
    assert!(mock.snapshot(&["console_sessions"]).is_empty());
}

#[tokio::test]
async fn a_session_ends_when_idle_at_its_absolute_expiry_and_on_sign_out() {
    let mock = Mock::start().await;
    let s = signed_in(&mock, "idle@insurer.example", "support").await;
    assert_eq!(s.get("/console/invoices").await.status, 200);
    mock.advance(29 * 60).await;
    assert_eq!(s.get("/console/invoices").await.status, 200, "still active");
    mock.advance(31 * 60).await;
    let p = s.get("/console/invoices").await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (303, Some("/console/login"))
    );
    assert!(mock.snapshot(&["console_sessions"]).is_empty());

    // Busy all day: the absolute expiry still ends it after eight hours.
    let mut busy = Staff::new(&mock);
    assert_eq!(
        busy.sign_in("idle@insurer.example", PASSWORD).await.status,
        303
    );
    for _ in 0..17 {
        mock.advance(28 * 60).await;
        assert_eq!(busy.get("/console/invoices").await.status, 200);
    }
    mock.advance(28 * 60).await;
    assert_eq!(busy.get("/console/invoices").await.status, 303);

    let mut out = Staff::new(&mock);
    out.sign_in("idle@insurer.example", PASSWORD).await;
    // Signing out needs the token too.
    assert_eq!(out.post("/console/logout", &[]).await.status, 403);
    let csrf = out.csrf("/console/invoices").await;
    let p = out.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(p.status, 303);
    assert!(p.set_cookie[0].contains("Max-Age=0"));
    assert_eq!(out.get("/console/invoices").await.status, 303);
}

#[tokio::test]
async fn support_is_refused_every_finance_action_with_403_audited_and_nothing_changed() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation de novembre").await;
    let id = inv["invoice"].as_str().unwrap();
    let s = signed_in(&mock, "support@insurer.example", "support").await;
    let page = s.get(&format!("/console/invoices/{id}")).await;
    assert!(page.body.contains("équipe finance."));
    assert!(
        !page.body.contains("actions/void"),
        "no finance form for support"
    );
    let before = mock.snapshot(MONEY_TABLES);
    let csrf = s.csrf(&format!("/console/invoices/{id}")).await;
    for action in [
        "credit_note",
        "mark_uncollectible",
        "void",
        "refund_overpayment",
    ] {
        let p = s
            .post(
                &format!("/console/invoices/{id}/actions/{action}"),
                &[
                    ("csrf", &csrf),
                    ("amount", "10"),
                    ("reason", "duplicate"),
                    ("confirm", "yes"),
                    ("key", "AAAAAAAAAAAAAAAAAAAAAA"),
                ],
            )
            .await;
        assert_eq!(p.status, 403, "{action}: {}", p.body);
        assert!(p.body.contains("Votre rôle ne permet pas cette action"));
    }
    assert_eq!(mock.snapshot(MONEY_TABLES), before);
    let refused: Vec<_> = audit(&mock)
        .into_iter()
        .filter(|r| r.1 == "role_forbidden")
        .collect();
    assert_eq!(refused.len(), 4);
    assert!(refused
        .iter()
        .all(|r| r.2.as_deref() == Some("support@insurer.example") && r.3.as_deref() == Some(id)));
}

#[tokio::test]
async fn a_forged_or_missing_csrf_token_is_refused_audited_and_changes_nothing() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation").await;
    let id = inv["invoice"].as_str().unwrap();
    let s = signed_in(&mock, "fin@insurer.example", "finance").await;
    let mut other = Staff::new(&mock);
    other.sign_in("fin@insurer.example", PASSWORD).await;
    // Another session's token is as good as a forged one.
    let foreign = other.csrf("/console/invoices").await;
    let before = mock.snapshot(MONEY_TABLES);
    let path = format!("/console/invoices/{id}/actions/void");
    let forged = "A".repeat(43);
    for form in [
        vec![("confirm", "yes")],
        vec![("csrf", forged.as_str()), ("confirm", "yes")],
        vec![("csrf", foreign.as_str()), ("confirm", "yes")],
        vec![("csrf", "<script>"), ("confirm", "yes")],
    ] {
        let p = s.post(&path, &form).await;
        assert_eq!(p.status, 403, "{form:?}");
        assert!(p.body.contains("ne vient pas de la console"));
    }
    assert_eq!(mock.snapshot(MONEY_TABLES), before);
    let outcomes: Vec<_> = audit(&mock)
        .into_iter()
        .filter(|r| r.1.starts_with("csrf_"))
        .map(|r| r.1)
        .collect();
    assert_eq!(
        outcomes,
        [
            "csrf_missing",
            "csrf_invalid",
            "csrf_invalid",
            "csrf_invalid"
        ]
    );
    // Signed out, a POST goes to the sign-in page and does nothing.
    let anon = Staff::new(&mock);
    let p = anon
        .post(&path, &[("csrf", &foreign), ("confirm", "yes")])
        .await;
    assert_eq!(p.location.as_deref(), Some("/console/login"));
    assert_eq!(mock.snapshot(MONEY_TABLES), before);
}

#[tokio::test]
async fn search_finds_by_number_reference_contract_and_status_and_escapes_what_was_typed() {
    let mock = Mock::start().await;
    let a = invoice(&mock, 4250, "Cotisation <b>impayée</b>").await;
    let b = invoice(&mock, 1000, "Autre").await;
    let (a_id, b_id) = (
        a["invoice"].as_str().unwrap(),
        b["invoice"].as_str().unwrap(),
    );
    let s = signed_in(&mock, "search@insurer.example", "support").await;
    let rf = a["rf_reference"].as_str().unwrap();
    let grouped: String = rf
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let q = |text: &str| format!("/console/invoices?q={}", form_urlencoded_byte(text));
    let by_rf = s.get(&q(&grouped)).await;
    assert_eq!(by_rf.status, 200);
    assert!(
        by_rf.body.contains(a_id) && !by_rf.body.contains(b_id),
        "{}",
        by_rf.body
    );
    let by_contract = s.get(&q(DEMO_CONTRACT)).await;
    assert!(by_contract.body.contains(a_id) && by_contract.body.contains(b_id));
    let by_id = s.get(&q(b_id)).await;
    assert!(by_id.body.contains(b_id) && !by_id.body.contains(a_id));
    let paid = s.get("/console/invoices?q=&status=paid").await;
    assert!(!paid.body.contains(a_id) && paid.body.contains("Aucune facture"));
    let open = s.get("/console/invoices?status=open").await;
    assert!(open.body.contains(a_id) && open.body.contains(b_id));

    // Markup and SQL in the box are text: escaped on the page, a bound parameter in SQL.
    let xss = s.get(&q("<script>alert(1)</script>' OR 1=1 --")).await;
    assert_eq!(xss.status, 200);
    assert!(!xss.body.contains("<script>alert(1)"), "{}", xss.body);
    assert!(
        xss.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{}",
        xss.body
    );
    assert!(
        xss.body.contains("Aucune facture"),
        "the injection matched nothing"
    );
    let csp = xss.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));

    let long = s.get(&q(&"9".repeat(65))).await;
    assert_eq!(long.status, 400);
    assert!(long.body.contains("q: q may have at most 64 characters."));
    let bad_status = s.get("/console/invoices?status=%3Cimg%3E").await;
    assert_eq!(bad_status.status, 400);
    assert!(bad_status.body.contains("status:"));
    // Signed out: the sign-in page, no results.
    let anon = Staff::new(&mock).get(&q(DEMO_CONTRACT)).await;
    assert_eq!(anon.status, 303);
}

fn form_urlencoded_byte(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_invoice_view_shows_amounts_timeline_and_no_more_personal_data_than_needed() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation <script>x()</script>").await;
    let id = inv["invoice"].as_str().unwrap();
    let mut s = signed_in(&mock, "view@insurer.example", "support").await;
    s.lang = "en-GB";
    let sent = s.act(id, "resend_link", &[("channel", "sms")]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let page = s.get(&format!("/console/invoices/{id}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-language"], "en");
    let b = &page.body;
    for fact in [
        "Open",
        "€42.50",
        DEMO_CONTRACT,
        "Camille M.",
        "Invoice created",
        "Fresh link sent · sms",
        "resend_link",
    ] {
        assert!(b.contains(fact), "missing {fact}: {b}");
    }
    // Masked contact; no birth date, full phone or email.
    assert!(!b.contains(DEMO_PHONE) && !b.contains("camille.martin@example.fr"));
    assert!(!b.contains("1985") && !b.contains("Martin"));
    assert!(b.contains("No message on this invoice."));
    // One external script, its integrity matching the bytes served.
    let src = b
        .split("<script src=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let integrity = b
        .split("integrity=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let js = s.get(src).await;
    assert_eq!(js.status, 200);
    use base64::Engine as _;
    let digest = tierspay_core::auth::sha256(js.body.as_bytes());
    assert_eq!(
        integrity,
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    );
    assert_eq!(b.matches("<script").count(), 1, "no inline script");
    let fr = Staff {
        lang: "fr",
        ..Staff::new(&mock)
    };
    let fr = Staff {
        cookie: s.cookie.clone(),
        ..fr
    };
    let switched = fr
        .get(&format!("/console/lang/en?back=/console/invoices/{id}"))
        .await;
    assert_eq!(switched.status, 303);
    assert!(switched.set_cookie[0].starts_with("__Host-tierspay-console-lang=en"));
    let evil = fr.get("/console/lang/en?back=//evil.example/").await;
    assert_eq!(evil.location.as_deref(), Some("/console/invoices"));
    assert_eq!(s.get("/console/invoices/in_nope").await.status, 404);
}

#[tokio::test]
async fn every_action_confirms_first_acts_once_and_is_audited() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation").await;
    let id = inv["invoice"].as_str().unwrap();
    let s = signed_in(&mock, "money@insurer.example", "finance").await;
    let psp = |field: &str| -> Value {
        let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
        conn.query_row(
            &format!("SELECT {field} FROM psp_invoices WHERE id = ?1"),
            [id],
            |r| r.get::<_, rusqlite::types::Value>(0),
        )
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => json!(i),
            rusqlite::types::Value::Text(t) => json!(t),
            _ => Value::Null,
        })
        .unwrap()
    };

    // The first POST only shows what will happen.
    let csrf = s.csrf(&format!("/console/invoices/{id}")).await;
    let before = mock.snapshot(MONEY_TABLES);
    let confirm = s
        .post(
            &format!("/console/invoices/{id}/actions/credit_note"),
            &[
                ("csrf", &csrf),
                ("amount", "12,50"),
                ("reason", "order_change"),
            ],
        )
        .await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("12,50"));
    assert_eq!(
        mock.snapshot(MONEY_TABLES),
        before,
        "a confirmation changes nothing"
    );
    let key = hidden(&confirm.body, "key").unwrap();
    let form = [
        ("csrf", csrf.as_str()),
        ("amount", "12.50"),
        ("reason", "order_change"),
        ("confirm", "yes"),
        ("key", key.as_str()),
    ];
    let done = s
        .post(
            &format!("/console/invoices/{id}/actions/credit_note"),
            &form,
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("est fait."));
    // The same confirmation again (a double click) does not issue a second note.
    let again = s
        .post(
            &format!("/console/invoices/{id}/actions/credit_note"),
            &form,
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(psp("pre_payment_credit"), json!(1250));
    let notes = mock.snapshot(&["psp_credit_notes"]);
    assert_eq!(notes.lines().count(), 1, "{notes}");

    // Bad amounts are named and change nothing.
    for bad in ["0", "-5", "1,234", "<b>9</b>", "99999999999"] {
        let p = s
            .post(
                &format!("/console/invoices/{id}/actions/credit_note"),
                &[("csrf", &csrf), ("amount", bad), ("reason", "duplicate")],
            )
            .await;
        assert_eq!(p.status, 400, "{bad}");
        assert!(p.body.contains("amount:"), "{}", p.body);
    }
    // More than is left is the PSP's refusal, said and audited.
    let too_much = s
        .act(
            id,
            "credit_note",
            &[("amount", "100"), ("reason", "duplicate")],
        )
        .await;
    assert_eq!(too_much.status, 409, "{}", too_much.body);

    let resent = s.act(id, "resend_link", &[("channel", "email")]).await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert!(mock
        .snapshot(&["platform_outbox"])
        .contains("camille.martin@example.fr"));
    assert!(
        resent.body.contains("email c"),
        "the masked address: {}",
        resent.body
    );

    // Nothing was overpaid: the refund is refused and says why.
    let refund = s.act(id, "refund_overpayment", &[]).await;
    assert_eq!(refund.status, 409);
    assert!(refund
        .body
        .contains("Nothing was received beyond the amount due"));

    assert_eq!(s.act(id, "mark_uncollectible", &[]).await.status, 200);
    assert_eq!(psp("status"), json!("uncollectible"));
    assert_eq!(s.act(id, "void", &[]).await.status, 200);
    assert_eq!(psp("status"), json!("void"));
    // A void invoice can be neither voided again nor sent a link.
    assert_eq!(s.act(id, "void", &[]).await.status, 409);
    assert_eq!(
        s.act(id, "resend_link", &[("channel", "email")])
            .await
            .status,
        409
    );

    let rows: Vec<_> = audit(&mock)
        .into_iter()
        .filter(|r| r.0 != "sign_in")
        .map(|r| (r.0, r.1))
        .collect();
    let expect: Vec<(String, String)> = [
        ("credit_note", "done"),
        ("credit_note", "parameter_invalid"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(rows[..2], expect[..], "{rows:?}");
    let done: Vec<_> = rows
        .iter()
        .filter(|r| r.1 == "done")
        .map(|r| r.0.as_str())
        .collect();
    assert_eq!(
        done,
        ["credit_note", "resend_link", "mark_uncollectible", "void"]
    );
    assert!(rows
        .iter()
        .any(|r| r.0 == "refund_overpayment" && r.1 == "nothing_to_refund"));
    let page = s.get(&format!("/console/invoices/{id}")).await;
    for line in [
        "Avoir",
        "Classée irrécouvrable",
        "Annulée",
        "Nouveau lien envoyé · email",
    ] {
        assert!(page.body.contains(line), "timeline lacks {line}");
    }
}

#[tokio::test]
async fn oversized_and_repeated_fields_are_refused_clearly_and_audited() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation").await;
    let id = inv["invoice"].as_str().unwrap();
    let s = signed_in(&mock, "big@insurer.example", "finance").await;
    let csrf = s.csrf(&format!("/console/invoices/{id}")).await;
    let before = mock.snapshot(MONEY_TABLES);
    let mut body = format!("csrf={csrf}&amount=1&reason=duplicate&memo=").into_bytes();
    body.extend(std::iter::repeat_n(b'x', 40_000));
    let p = s
        .post_raw(&format!("/console/invoices/{id}/actions/credit_note"), body)
        .await;
    assert_eq!(p.status, 413);
    assert!(p.body.contains("trop volumineux"));
    let twice = format!("csrf={csrf}&amount=1&amount=2000&reason=duplicate");
    let p = s
        .post_raw(
            &format!("/console/invoices/{id}/actions/credit_note"),
            twice.into_bytes(),
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("amount is given twice"));
    // A password beyond its bound is refused before any hashing.
    let long = "p".repeat(200);
    let p = Staff::new(&mock)
        .post(
            "/console/login",
            &[("email", "big@insurer.example"), ("password", &long)],
        )
        .await;
    assert_eq!(p.status, 400);
    assert!(p.body.contains("password"));
    assert_eq!(mock.snapshot(MONEY_TABLES), before);
    let outcomes: Vec<_> = audit(&mock).into_iter().map(|r| r.1).collect();
    assert!(
        outcomes.contains(&"body_too_large".to_string()),
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&"parameter_invalid".to_string()));
}

/// Reads the event stream until `event: {name}` or the deadline.
async fn wait_event(r: &mut reqwest::Response, name: &str) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(8);
    let mut seen = String::new();
    while tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, r.chunk()).await {
            Ok(Ok(Some(bytes))) => {
                seen.push_str(&String::from_utf8_lossy(&bytes));
                if seen.contains(&format!("event: {name}")) {
                    return true;
                }
            }
            _ => return false,
        }
    }
    false
}

#[tokio::test]
async fn the_event_stream_says_when_the_invoice_changed_and_is_bounded() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation").await;
    let id = inv["invoice"].as_str().unwrap();
    let s = signed_in(&mock, "live@insurer.example", "finance").await;
    let open = |s: &Staff| {
        s.with_cookie(
            s.http
                .get(format!("{}/console/invoices/{id}/events", s.base)),
        )
        .send()
    };
    let anon = Staff::new(&mock);
    assert_eq!(open(&anon).await.unwrap().status(), 401);
    let mut stream = open(&s).await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_eq!(
        s.act(
            id,
            "credit_note",
            &[("amount", "5"), ("reason", "duplicate")]
        )
        .await
        .status,
        200
    );
    assert!(wait_event(&mut stream, "changed").await, "no change event");
    let live = s.get(&format!("/console/invoices/{id}/live")).await;
    assert!(live.body.contains("Avoir"), "{}", live.body);

    // Four per session: a fifth is refused until one closes.
    let mut more = Vec::new();
    for _ in 0..3 {
        let r = open(&s).await.unwrap();
        assert_eq!(r.status(), 200);
        more.push(r);
    }
    let fifth = open(&s).await.unwrap();
    assert_eq!(fifth.status(), 503);
    assert!(fifth.headers().contains_key("retry-after"));
    drop(more.pop());
    let mut ok = None;
    for _ in 0..50 {
        let r = open(&s).await.unwrap();
        if r.status() == 200 {
            ok = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok.is_some(), "a closed stream gives its place back");

    // Signing out ends the open streams with a last word.
    let csrf = s.csrf("/console/invoices").await;
    s.post("/console/logout", &[("csrf", &csrf)]).await;
    assert!(wait_event(&mut stream, "signed_out").await);
}

#[tokio::test]
async fn an_answer_goes_on_the_invoice_thread_with_the_display_name_and_once() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation").await;
    let id = inv["invoice"].as_str().unwrap();
    let (status, doc) = mock
        .post(
            "/v1/test_helpers/console/staff",
            json!({ "email": "alice@insurer.example", "password": PASSWORD, "role": "support",
                    "display_name": "Alice <support>" }),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let mut s = Staff::new(&mock);
    assert_eq!(
        s.sign_in("alice@insurer.example", PASSWORD).await.status,
        303
    );
    let page = s.get(&format!("/console/invoices/{id}")).await;
    assert!(page.body.contains("Aucun message sur cette facture."));
    let csrf = hidden(&page.body, "csrf").unwrap();
    let key = page
        .body
        .split("actions/reply")
        .nth(1)
        .and_then(|rest| hidden(rest, "key"))
        .expect("the reply form's key");
    let form = [
        ("csrf", csrf.as_str()),
        ("key", key.as_str()),
        ("confirm", "yes"),
        ("text", "Bonjour, <script>x()</script> c'est noté."),
    ];
    let path = format!("/console/invoices/{id}/actions/reply");
    let p = s.post(&path, &form).await;
    assert_eq!(
        (p.status, p.location.as_deref()),
        (303, Some(&*format!("/console/invoices/{id}")))
    );
    // Sent again (a double click): still one message.
    assert_eq!(s.post(&path, &form).await.status, 303);
    let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM invoice_messages WHERE invoice_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let page = s.get(&format!("/console/invoices/{id}")).await;
    assert!(
        page.body.contains("Alice &#60;support&#62;"),
        "{}",
        page.body
    );
    assert!(page.body.contains("&#60;script&#62;x()&#60;/script&#62;"));
    assert!(!page.body.contains("<script>x()"));
    // The audit names the message, never its text.
    let trail = audit_text(&mock);
    assert!(trail.contains("reply") && trail.contains("imsg_"));
    assert!(!trail.contains("noté"));
    // An empty or overlong answer is refused, naming the field.
    let long = "a".repeat(2001);
    for text in ["   ", long.as_str()] {
        let p = s
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("key", "BBBBBBBBBBBBBBBBBBBBBB"),
                    ("confirm", "yes"),
                    ("text", text),
                ],
            )
            .await;
        assert_eq!(p.status, 400);
        assert!(p.body.contains("text:"));
    }
}

/// The invoice view with a 200-event timeline: server time of `GET /console/invoices/{id}`,
/// median, p99 and spread over 300 requests (a measurement, not a pass/fail test: `make
/// bench-console`, figures in docs/benchmarks.md). The events are written straight into the
/// tables that record them (reminders, fresh links, credit notes' rows would need 200 PSP
/// calls), as many as a long-lived invoice gathers.
#[tokio::test]
#[ignore = "a timing: make bench-console"]
async fn bench_console_invoice_view_with_200_events() {
    let mock = Mock::start().await;
    let inv = invoice(&mock, 4250, "Cotisation").await;
    let id = inv["invoice"].as_str().unwrap().to_owned();
    {
        let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
        let created: i64 = conn
            .query_row(
                "SELECT created FROM platform_invoices WHERE invoice_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        for i in 0..100 {
            conn.execute(
                "INSERT INTO platform_reminder_sends (invoice_id, step, outcome, sent_at) VALUES (?1, ?2, 'sent', ?3)",
                rusqlite::params![id, format!("{i}:email"), created + 60 * i],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO platform_link_resends (invoice_id, channel, created) VALUES (?1, 'sms', ?2)",
                rusqlite::params![id, created + 60 * i + 30],
            )
            .unwrap();
        }
    }
    let s = signed_in(&mock, "bench@insurer.example", "finance").await;
    let path = format!("/console/invoices/{id}");
    let page = s.get(&path).await;
    assert!(page.body.matches("<li data-kind=").count() >= 200);
    let mut times = Vec::new();
    for _ in 0..300 {
        let t = std::time::Instant::now();
        let p = s.get(&path).await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(p.status, 200);
    }
    times.sort_by(f64::total_cmp);
    let q = |f: f64| times[((times.len() as f64 - 1.0) * f) as usize];
    println!(
        "console invoice view, 200 events, {} bytes: p50 {:.2} ms, p99 {:.2} ms, min {:.2} ms, max {:.2} ms, p25-p75 {:.2}-{:.2} ms ({} requests)",
        page.body.len(),
        q(0.5),
        q(0.99),
        times[0],
        times[times.len() - 1],
        q(0.25),
        q(0.75),
        times.len()
    );
}
