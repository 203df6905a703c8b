//! Brokers over HTTP (issue 14, item 3), against the in-process mock: the back office creates
//! a broker, issues and rotates its keys and assigns it a contract; the broker lists its
//! clients' open invoices, creates a payment link that the member pays on the hosted page, and
//! reads the link and the invoice back. Another broker's invoice is a 404 word for word like an
//! unknown id, a revoked or rotated key is a 401, a broker key elsewhere gets a wrong key's 401,
//! the rate limit answers 429 until the window passes (and survives a restart), a retried link
//! creation makes one link, bad input is a 400 naming the parameter; each refusal is audited
//! and changes nothing. The database file never holds a clear key or a link's token.

use reqwest::Method;
use serde_json::{json, Value};
use tierspay_server_mock::Limits;
use tierspay_tests::pay_once::{charges_of, premium_invoice, Browser};
use tierspay_tests::{Mock, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE, PSP_KEY};

/// Tables a refused broker request must leave alone.
const TABLES: &[&str] = &[
    "platform_broker_links",
    "platform_short_links",
    "platform_invoice_attempts",
    "psp_invoices",
    "psp_payment_intents",
];

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn call(
    mock: &Mock,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
    idempotency: Option<&str>,
) -> Answer {
    let mut r = mock
        .http
        .request(method, format!("{}{path}", mock.url))
        .bearer_auth(key);
    if let Some(body) = body {
        r = r.json(&body);
    }
    if let Some(k) = idempotency {
        r = r.header("idempotency-key", k);
    }
    let response = r.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Answer {
        status,
        headers,
        body: response.json().await.unwrap_or(Value::Null),
    }
}

async fn get(mock: &Mock, path: &str, key: &str) -> Answer {
    call(mock, Method::GET, path, key, None, None).await
}

async fn back_office(mock: &Mock, path: &str, body: Value) -> Value {
    let a = call(mock, Method::POST, path, PSP_KEY, Some(body), None).await;
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    a.body
}

/// A broker with one key; (broker id, key id, clear key).
async fn broker(mock: &Mock, name: &str) -> (String, String, String) {
    let b = back_office(mock, "/v1/insurer/brokers", json!({ "name": name })).await;
    let id = b["id"].as_str().expect("id").to_owned();
    let k = back_office(mock, &format!("/v1/insurer/brokers/{id}/keys"), json!({})).await;
    let secret = k["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("bk_test_"), "{secret}");
    assert_eq!(k["display"].as_str(), Some(&secret[..12]));
    (id, k["id"].as_str().expect("key id").to_owned(), secret)
}

async fn assign(mock: &Mock, broker: &str, contract: &str) {
    let a = back_office(
        mock,
        &format!("/v1/insurer/brokers/{broker}/contracts"),
        json!({ "contract": contract }),
    )
    .await;
    assert_eq!(a["object"], "broker_assignment");
}

fn code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or("")
}

fn param(a: &Answer) -> &str {
    a.body["error"]["param"].as_str().unwrap_or("")
}

/// Audit entries of `actor` with `outcome`.
fn audited(mock: &Mock, actor: &str, outcome: &str) -> i64 {
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    db.query_row(
        "SELECT COUNT(*) FROM console_audit WHERE staff_id = ?1 AND outcome = ?2",
        [actor, outcome],
        |r| r.get(0),
    )
    .expect("audit")
}

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false)
}

/// What the member is known by, none of which a broker may read.
fn identity(mock: &Mock) -> Vec<String> {
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    let (member, email): (String, String) = db
        .query_row(
            "SELECT member_id, email FROM insurer_contracts WHERE number = ?1",
            [DEMO_CONTRACT],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("contract");
    vec![
        member,
        email,
        "Camille".into(),
        "Martin".into(),
        DEMO_BIRTH_DATE.into(),
        DEMO_PHONE.into(),
        "cus_".into(),
    ]
}

#[tokio::test]
async fn a_broker_sends_a_link_the_member_pays_and_sees_it_paid() {
    let mock = Mock::start().await;
    let (broker_id, _, key) = broker(&mock, "Courtage Dupont").await;
    assign(&mock, &broker_id, DEMO_CONTRACT).await;
    let older = premium_invoice(&mock, 1500).await;
    let invoice = premium_invoice(&mock, 4250).await;

    // Newest first, paged.
    let page = get(&mock, "/v1/broker/invoices?limit=1", &key).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["data"][0]["id"], invoice.as_str());
    assert_eq!(page.body["data"][0]["amount_remaining"], 4250);
    assert_eq!(page.body["data"][0]["status"], "open");
    assert!(page.body["data"][0]["due_date"].is_i64());
    assert!(page.body["data"][0]["rf_reference"].is_string());
    assert_eq!(page.body["has_more"], true);
    let next = get(
        &mock,
        &format!("/v1/broker/invoices?limit=1&starting_after={invoice}"),
        &key,
    )
    .await;
    assert_eq!(next.body["data"][0]["id"], older.as_str());
    assert_eq!(next.body["has_more"], false);

    let link = call(
        &mock,
        Method::POST,
        &format!("/v1/broker/invoices/{invoice}/payment_links"),
        &key,
        None,
        Some("link-1"),
    )
    .await;
    assert_eq!(link.status, 200, "{}", link.body);
    let link_id = link.body["id"].as_str().expect("link id").to_owned();
    let url = link.body["url"].as_str().expect("url").to_owned();
    assert!(url.starts_with("https://app.tierspay.fr/l/"), "{url}");
    assert_eq!(link.body["amount"], 4250);
    assert_eq!(link.body["invoice"]["status"], "open");
    let text = format!("{}{}{}", page.body, next.body, link.body);
    for secret in identity(&mock) {
        assert!(!text.contains(&secret), "a broker read {secret:?}");
    }

    // The member opens the broker's link: the same hosted page, paid by card.
    let path = url.trim_start_matches("https://app.tierspay.fr");
    let browser = Browser::new(&mock);
    let (status, _, page) = browser.get(path).await;
    assert_eq!(status, 200);
    assert!(page.contains("42,50\u{a0}€"), "{page}");
    let form = browser.open_card_form(path).await;
    let (status, _, body) = browser.submit_card(&form, "4242424242424242").await;
    assert_eq!(status, 303, "{body}");

    let later = get(&mock, &format!("/v1/broker/payment_links/{link_id}"), &key).await;
    assert_eq!(later.status, 200, "{}", later.body);
    assert_eq!(later.body["url"], url.as_str());
    assert_eq!(later.body["invoice"]["status"], "paid");
    assert_eq!(later.body["invoice"]["amount_paid"], 4250);
    assert_eq!(later.body["invoice"]["amount_remaining"], 0);
    let status = get(&mock, &format!("/v1/broker/invoices/{invoice}"), &key).await;
    assert_eq!(status.body["status"], "paid");
    assert_eq!(status.body["latest_payment_link"], link_id.as_str());
    let open = get(&mock, "/v1/broker/invoices", &key).await;
    let ids: Vec<_> = open.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(older)], "paid invoices leave the open list");

    // One charge, through the attempts every channel uses; the PSP's customer has no name.
    assert_eq!(charges_of(&mock, &invoice), 1);
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    let attempts: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM platform_invoice_attempts WHERE invoice_id = ?1 AND channel = 'email'",
            [&invoice],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attempts, 1);
    let customers = mock.snapshot(&["psp_customers"]);
    for secret in &identity(&mock)[1..6] {
        assert!(!customers.contains(secret.as_str()), "{secret}");
    }
    assert_eq!(audited(&mock, &broker_id, "done"), 6);
}

#[tokio::test]
async fn another_brokers_invoice_is_missing_exactly_like_an_unknown_one_and_nothing_changes() {
    let mock = Mock::start().await;
    let (a, _, key_a) = broker(&mock, "Courtier A").await;
    let (b, _, key_b) = broker(&mock, "Courtier B").await;
    assign(&mock, &a, DEMO_CONTRACT).await;
    mock.create_contract(json!({
        "number": "TP5550001", "phone": "+33611112222", "email": "ana@example.fr",
        "beneficiaries": [{"first_name": "Ana", "last_name": "Lopez", "birth_date": "1990-01-01", "relationship": "holder"}]
    }))
    .await;
    assign(&mock, &b, "TP5550001").await;
    let theirs = premium_invoice(&mock, 4250).await;
    let link_a = call(
        &mock,
        Method::POST,
        &format!("/v1/broker/invoices/{theirs}/payment_links"),
        &key_a,
        Some(json!({"channel": "sms"})),
        None,
    )
    .await;
    assert_eq!(link_a.status, 200, "{}", link_a.body);
    assert!(link_a.body["short_url"]
        .as_str()
        .unwrap()
        .starts_with("https://app.tierspay.fr/s/"));
    let link_a = link_a.body["id"].as_str().unwrap().to_owned();

    let before = mock.snapshot(TABLES);
    let listed = get(&mock, "/v1/broker/invoices", &key_b).await;
    assert_eq!(listed.body["data"], json!([]), "B's client owes nothing");
    let unknown = "in_doesnotexist000000000";
    for (path, missing) in [
        (
            format!("/v1/broker/invoices/{theirs}"),
            format!("/v1/broker/invoices/{unknown}"),
        ),
        (
            format!("/v1/broker/payment_links/{link_a}"),
            "/v1/broker/payment_links/bpl_doesnotexist".to_owned(),
        ),
    ] {
        let other = get(&mock, &path, &key_b).await;
        let none = get(&mock, &missing, &key_b).await;
        assert_eq!((other.status, code(&other)), (404, "resource_missing"));
        assert_eq!(other.body, none.body, "no hint that {path} exists");
    }
    let post = |invoice: String| {
        let key = key_b.clone();
        let mock = &mock;
        async move {
            call(
                mock,
                Method::POST,
                &format!("/v1/broker/invoices/{invoice}/payment_links"),
                &key,
                None,
                Some(&format!("k-{invoice}")),
            )
            .await
        }
    };
    let other = post(theirs.clone()).await;
    let none = post(unknown.to_owned()).await;
    assert_eq!(other.status, 404);
    assert_eq!(other.body, none.body);
    assert_eq!(mock.snapshot(TABLES), before, "a refusal changes nothing");
    assert_eq!(audited(&mock, &b, "not_found"), 6);
}

#[tokio::test]
async fn a_rotated_key_stops_at_once_and_its_successor_works_until_revoked() {
    let mock = Mock::start().await;
    let (id, old_id, old) = broker(&mock, "Courtier").await;
    assert_eq!(get(&mock, "/v1/broker/invoices", &old).await.status, 200);
    let rotated = back_office(
        &mock,
        &format!("/v1/insurer/brokers/{id}/keys/{old_id}/rotate"),
        json!({}),
    )
    .await;
    assert_eq!(rotated["rotated_from"]["id"], old_id.as_str());
    let new = rotated["secret"].as_str().unwrap().to_owned();
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);

    let refused = get(&mock, "/v1/broker/invoices", &old).await;
    assert_eq!((refused.status, code(&refused)), (401, "api_key_invalid"));
    assert_eq!(get(&mock, "/v1/broker/invoices", &new).await.status, 200);
    // Rotating the revoked key again is refused: nothing is issued.
    let again = call(
        &mock,
        Method::POST,
        &format!("/v1/insurer/brokers/{id}/keys/{old_id}/rotate"),
        PSP_KEY,
        None,
        None,
    )
    .await;
    assert_eq!((again.status, code(&again)), (400, "broker_key_revoked"));

    back_office(
        &mock,
        &format!("/v1/insurer/brokers/{id}/keys/{new_id}/revoke"),
        json!({}),
    )
    .await;
    let revoked = get(&mock, "/v1/broker/invoices", &new).await;
    assert_eq!((revoked.status, code(&revoked)), (401, "api_key_invalid"));
    assert_eq!(audited(&mock, &id, "key_revoked"), 2);
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    let trail: Vec<String> = db
        .prepare(
            "SELECT action FROM console_audit WHERE staff_id = 'insurer_back_office' ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        trail,
        [
            "broker_create",
            "broker_key_issue",
            "broker_key_issue",
            "broker_key_revoke",
            "broker_key_revoke"
        ]
    );

    // Only the hash is stored: neither key, nor its secret part, is in the file.
    let path = mock.db_path();
    let files = [path.clone(), path.with_extension("db-wal")];
    for file in &files {
        for key in [&old, &new] {
            assert!(!file_contains(file, key.as_bytes()), "{file:?}");
            assert!(!file_contains(file, &key.as_bytes()["bk_test_".len()..]));
        }
    }
    // The scan reads what was written: the hashes are there.
    let hashes: Vec<String> = db
        .prepare("SELECT hash FROM platform_broker_keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for h in &hashes {
        assert!(files.iter().any(|f| file_contains(f, h.as_bytes())), "{h}");
    }
    let stored: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM platform_broker_keys WHERE broker_id = ?1 AND length(hash) = 43",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 2);
}

#[tokio::test]
async fn a_broker_key_elsewhere_gets_what_a_wrong_key_gets() {
    let mock = Mock::start().await;
    let (id, _, key) = broker(&mock, "Courtier").await;
    let wrong = format!("bk_test_{}", "A".repeat(43));
    for path in [
        "/v1/me/invoices",
        "/v1/invoices",
        "/v1/customers",
        "/v1/test_helpers/outbox",
    ] {
        let with_broker_key = get(&mock, path, &key).await;
        let with_wrong_key = get(&mock, path, &wrong).await;
        assert_eq!(
            (with_broker_key.status, code(&with_broker_key)),
            (401, "api_key_invalid"),
            "{path}"
        );
        assert_eq!(
            with_broker_key.body["error"]["type"],
            with_wrong_key.body["error"]["type"]
        );
    }
    let posted = call(
        &mock,
        Method::POST,
        "/v1/insurer/brokers",
        &key,
        Some(json!({"name": "Moi"})),
        None,
    )
    .await;
    assert_eq!(posted.status, 401, "a broker manages no broker");
    assert_eq!(audited(&mock, &id, "not_a_broker_route"), 5);
    // And the other way round: a secret key is no broker.
    let sk = get(&mock, "/v1/broker/invoices", PSP_KEY).await;
    assert_eq!(sk.status, 401);
}

#[tokio::test]
async fn the_rate_limit_answers_429_until_the_window_passes_even_across_a_restart() {
    let mut mock = Mock::start_with(Limits {
        broker_requests_per_window: 3,
        broker_window_secs: 60,
        ..Limits::default()
    })
    .await;
    let (id, _, key) = broker(&mock, "Courtier").await;
    for _ in 0..3 {
        assert_eq!(get(&mock, "/v1/broker/invoices", &key).await.status, 200);
    }
    let limited = get(&mock, "/v1/broker/invoices", &key).await;
    assert_eq!((limited.status, code(&limited)), (429, "rate_limit"));
    let wait: i64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    mock.restart().await;
    assert_eq!(get(&mock, "/v1/broker/invoices", &key).await.status, 429);
    assert_eq!(audited(&mock, &id, "rate_limited"), 2);
    mock.advance(61).await;
    assert_eq!(get(&mock, "/v1/broker/invoices", &key).await.status, 200);
}

#[tokio::test]
async fn a_retried_link_creation_makes_one_link() {
    let mock = Mock::start().await;
    let (id, _, key) = broker(&mock, "Courtier").await;
    assign(&mock, &id, DEMO_CONTRACT).await;
    let invoice = premium_invoice(&mock, 4250).await;
    let path = format!("/v1/broker/invoices/{invoice}/payment_links");
    let body = json!({"channel": "email"});
    let first = call(
        &mock,
        Method::POST,
        &path,
        &key,
        Some(body.clone()),
        Some("once"),
    )
    .await;
    let second = call(&mock, Method::POST, &path, &key, Some(body), Some("once")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body, second.body);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    let other = call(
        &mock,
        Method::POST,
        &path,
        &key,
        Some(json!({"channel": "sms"})),
        Some("once"),
    )
    .await;
    assert_eq!(other.status, 400);
    assert_eq!(other.body["error"]["type"], "idempotency_error");
    let db = rusqlite::Connection::open(mock.db_path()).expect("db");
    let links: i64 = db
        .query_row("SELECT COUNT(*) FROM platform_broker_links", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(links, 1);
    // The link is a bearer credential: the file holds it sealed only.
    let token = first.body["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let file = mock.db_path();
    let files = [file.clone(), file.with_extension("db-wal")];
    for f in &files {
        assert!(!file_contains(f, token.as_bytes()), "{f:?}");
    }
    let id = first.body["id"].as_str().unwrap();
    assert!(files.iter().any(|f| file_contains(f, id.as_bytes())));
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_parameter_and_changes_nothing() {
    let mock = Mock::start().await;
    let (id, _, key) = broker(&mock, "Courtier").await;
    assign(&mock, &id, DEMO_CONTRACT).await;
    let invoice = premium_invoice(&mock, 4250).await;
    let before = mock.snapshot(TABLES);
    let long = "x".repeat(5_000);
    for (query, expected) in [
        ("limit=0".to_owned(), "limit"),
        ("limit=101".to_owned(), "limit"),
        ("limit=abc".to_owned(), "limit"),
        ("limit=-1".to_owned(), "limit"),
        (format!("starting_after=in_{long}"), "starting_after"),
        ("starting_after=in_nope".to_owned(), "starting_after"),
        ("expand=member".to_owned(), "expand"),
    ] {
        let a = get(&mock, &format!("/v1/broker/invoices?{query}"), &key).await;
        assert_eq!(
            (a.status, param(&a)),
            (400, expected),
            "{query}: {}",
            a.body
        );
        assert_eq!(a.body["error"]["type"], "invalid_request_error");
    }
    let path = format!("/v1/broker/invoices/{invoice}/payment_links");
    for (body, expected) in [
        (json!({"channel": "fax"}), "channel"),
        (json!({"channel": long}), "channel"),
        (json!({"member_name": "Camille"}), "member_name"),
    ] {
        let a = call(&mock, Method::POST, &path, &key, Some(body.clone()), None).await;
        assert_eq!((a.status, param(&a)), (400, expected), "{body}: {}", a.body);
    }
    let not_json = mock
        .http
        .post(format!("{}{path}", mock.url))
        .bearer_auth(&key)
        .body("{\"channel\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 400);
    let huge = mock
        .http
        .get(format!(
            "{}/v1/broker/invoices/in_{}",
            mock.url,
            &long[..1_000]
        ))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status().as_u16(), 404);
    assert_eq!(mock.snapshot(TABLES), before);
    assert_eq!(audited(&mock, &id, "invalid_request"), 11);
}
