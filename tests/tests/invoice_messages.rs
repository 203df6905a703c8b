//! Messages on an invoice (issue 14, item 2), through HTTP against the in-process mock: the
//! member writes on their own invoice, support answers (the console's `post_staff`, through
//! its test helper) and the member's phone gets a push; both read one thread, oldest first,
//! with who wrote and when. Text is kept as written (HTML included) and never interpreted;
//! oversized text or attachments, undeclared types and bytes that are not what they claim are
//! refused naming the field, changing nothing; another member's invoice does not exist.

use base64::Engine as _;
use serde_json::{json, Value};
use tierspay_tests::visits::{start, Member};
use tierspay_tests::{raw_proof, Mock, RawDevice};

const FCM: &str = "fcm-token-invoice-messages-0123456789abcdefghij";
/// A PNG's signature and IHDR tag, then the bytes 0 to 255.
fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend(0..=255u8);
    b
}
/// SHA-256 of [`png`], computed outside the code under test (Python's hashlib).
const PNG_SHA256: &str = "8e2733d86f0bb3b49726a81f17cde4382d0756df99b42e304352cf7b92747bde";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An invoice of the member's: premiums the insurer reports with its secret key.
async fn invoice_of(mock: &Mock, device: &RawDevice) -> String {
    let (_, me) = device.send(mock, "GET", "/v1/me", None).await;
    let contract = me["contract"]["id"]
        .as_str()
        .expect("a contract")
        .to_owned();
    let response = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth("sk_test_tierspay")
        .json(&json!({"contract": contract, "amount": 4250, "description": "Cotisation"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.expect("JSON");
    doc["invoice"].as_str().expect("an invoice").to_owned()
}

/// POSTs a message with the given key (none at all for `None`); (status, body, replayed?).
async fn post(
    mock: &Mock,
    device: &RawDevice,
    invoice: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, Value, bool) {
    let url = format!("{}/v1/me/invoices/{invoice}/messages", mock.url);
    let mut request = mock
        .http
        .post(&url)
        .header("authorization", format!("DPoP {}", device.access_token))
        .header(
            "dpop",
            raw_proof(&device.key, "POST", &url, Some(&device.access_token)),
        )
        .json(body);
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        replayed,
    )
}

async fn thread(mock: &Mock, device: &RawDevice, invoice: &str, query: &str) -> (u16, Value) {
    device
        .send(
            mock,
            "GET",
            &format!("/v1/me/invoices/{invoice}/messages{query}"),
            None,
        )
        .await
}

async fn staff_answer(mock: &Mock, invoice: &str, text: &str) -> (u16, Value) {
    mock.post(
        "/v1/test_helpers/invoice_messages",
        json!({"invoice": invoice, "staff_id": "stf_42", "display_name": "Claire (support)",
               "text": text}),
    )
    .await
}

fn message_rows(mock: &Mock) -> String {
    mock.snapshot(&["invoice_messages", "invoice_message_attachments"])
}

#[tokio::test(flavor = "multi_thread")]
async fn support_answers_the_member_who_gets_a_push_and_both_read_one_thread() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let (status, doc) = member
        .device
        .send(
            &mock,
            "POST",
            "/v1/devices/push_token",
            Some(json!({"service": "fcm", "token": FCM})),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let invoice = invoice_of(&mock, &member.device).await;

    let (status, mine, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "Bonjour,\nje paierai le 15."}),
        Some("msg-1"),
    )
    .await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(
        (&mine["object"], &mine["author"], &mine["text"]),
        (
            &json!("invoice_message"),
            &json!({"kind": "member", "name": null}),
            &json!("Bonjour,\nje paierai le 15.")
        )
    );
    mock.advance(3_600).await;
    let (status, answer) = staff_answer(&mock, &invoice, "Merci, c'est noté.").await;
    assert_eq!(status, 200, "{answer}");

    let (status, page) = thread(&mock, &member.device, &invoice, "").await;
    assert_eq!(status, 200, "{page}");
    let data = page["data"].as_array().expect("messages");
    assert_eq!(data.len(), 2, "{page}");
    assert_eq!(data[0]["id"], mine["id"]);
    assert_eq!(
        data[1]["author"],
        json!({"kind": "staff", "name": "Claire (support)"})
    );
    assert_eq!(data[1]["text"], "Merci, c'est noté.");
    // Timestamps are the business clock's: an hour apart.
    assert_eq!(
        data[1]["created"].as_i64().unwrap() - data[0]["created"].as_i64().unwrap(),
        3_600
    );
    // The staff id never reaches the member.
    assert!(!page.to_string().contains("stf_42"), "{page}");

    // The answer queued one push to the member's phone, naming the invoice but not the text.
    let outbox = mock
        .get(&format!(
            "/v1/test_helpers/outbox?channel=push&recipient={FCM}"
        ))
        .await;
    let pushes: Vec<&Value> = outbox["data"]
        .as_array()
        .expect("outbox")
        .iter()
        .filter(|m| m["data"]["kind"] == "invoice_message")
        .collect();
    assert_eq!(pushes.len(), 1, "{outbox}");
    assert_eq!(pushes[0]["data"]["invoice"], invoice.as_str());
    assert_eq!(pushes[0]["data"]["message"], answer["id"]);
    assert!(!pushes[0]["body"].as_str().unwrap().contains("noté"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_thread_is_read_oldest_first_a_page_at_a_time() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    for (i, text) in ["un", "deux", "trois"].iter().enumerate() {
        let (status, doc, _) = post(
            &mock,
            &member.device,
            &invoice,
            &json!({ "text": text }),
            Some(&format!("k{i}")),
        )
        .await;
        assert_eq!(status, 200, "{doc}");
    }
    let (_, first) = thread(&mock, &member.device, &invoice, "?limit=2").await;
    let texts = |p: &Value| -> Vec<String> {
        p["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        (texts(&first), &first["has_more"]),
        (vec!["un".to_owned(), "deux".to_owned()], &json!(true))
    );
    let last = first["data"][1]["id"].as_str().unwrap();
    let (_, rest) = thread(
        &mock,
        &member.device,
        &invoice,
        &format!("?limit=2&starting_after={last}"),
    )
    .await;
    assert_eq!(
        (texts(&rest), &rest["has_more"]),
        (vec!["trois".to_owned()], &json!(false))
    );
    for bad in ["?limit=0", "?limit=101", "?limit=x"] {
        let (status, e) = thread(&mock, &member.device, &invoice, bad).await;
        assert_eq!(
            (status, &e["error"]["param"]),
            (400, &json!("limit")),
            "{bad}"
        );
    }
    let (status, e) = thread(&mock, &member.device, &invoice, "?starting_after=imsg_x").await;
    assert_eq!(
        (status, &e["error"]["param"]),
        (400, &json!("starting_after"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn html_in_a_message_is_kept_as_text_and_never_served_as_html() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    let html = "<script>alert('x')</script><img src=x onerror=alert(1)> & co";
    let (status, doc, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({ "text": html }),
        Some("h"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let (status, answer) = staff_answer(&mock, &invoice, "<b>gras</b>").await;
    assert_eq!(status, 200, "{answer}");
    let response = member
        .device
        .send(
            &mock,
            "GET",
            &format!("/v1/me/invoices/{invoice}/messages"),
            None,
        )
        .await;
    assert_eq!(response.1["data"][0]["text"], html);
    assert_eq!(response.1["data"][1]["text"], "<b>gras</b>");
    // Served as JSON only: a browser pointed at the API never renders the markup.
    let url = format!("{}/v1/me/invoices/{invoice}/messages", mock.url);
    let raw = mock
        .http
        .get(&url)
        .header(
            "authorization",
            format!("DPoP {}", member.device.access_token),
        )
        .header(
            "dpop",
            raw_proof(
                &member.device.key,
                "GET",
                &url,
                Some(&member.device.access_token),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "application/json");
    // Stored sealed, not in clear: the file alone shows no message.
    assert!(
        !message_rows(&mock).contains("script"),
        "{}",
        message_rows(&mock)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_or_malformed_messages_are_refused_naming_the_field_and_change_nothing() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    let before = message_rows(&mock);
    let cases = [
        (json!({"text": "é".repeat(2_001)}), 400, "text"),
        (json!({"text": "  \n "}), 400, "text"),
        (json!({"text": "bip\u{7}"}), 400, "text"),
        (json!({"text": "x", "html": true}), 400, "html"),
        (
            json!({"text": "x", "attachment": {"content_type": "image/svg+xml", "data": b64(b"<svg/>")}}),
            400,
            "attachment[content_type]",
        ),
        (
            json!({"text": "x", "attachment": {"content_type": "image/png", "data": b64(b"%PDF-1.7\n")}}),
            400,
            "attachment[data]",
        ),
        (
            json!({"text": "x", "attachment": {"content_type": "application/pdf", "data": b64(&png())}}),
            400,
            "attachment[data]",
        ),
        (
            json!({"text": "x", "attachment": {"content_type": "image/png", "data": "not base64!"}}),
            400,
            "attachment[data]",
        ),
    ];
    for (body, status, param) in cases {
        let (got, e, _) = post(&mock, &member.device, &invoice, &body, Some("same-key")).await;
        assert_eq!(
            (got, e["error"]["param"].as_str()),
            (status, Some(param)),
            "{e}"
        );
    }
    // Over the attachment limit but within the request's: refused naming the field.
    let mut big = png();
    big.resize(32 * 1024 + 1, 7);
    let (status, e, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "x", "attachment": {"content_type": "image/png", "data": b64(&big)}}),
        Some("same-key"),
    )
    .await;
    assert_eq!(
        (status, &e["error"]["param"]),
        (400, &json!("attachment[data]")),
        "{e}"
    );
    // Over the request's bound (64 KiB): refused. Just over it, so the client has written the
    // whole body before the answer comes: a body of megabytes races the server's close of a
    // connection it did not read to the end, and the client can see a reset instead of the 413.
    big.resize(60 * 1024, 7);
    let (status, e, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "x", "attachment": {"content_type": "image/png", "data": b64(&big)}}),
        Some("same-key"),
    )
    .await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (413, &json!("body_too_large")),
        "{e}"
    );
    // Without an Idempotency-Key a message could be sent twice: refused.
    let (status, e, _) = post(&mock, &member.device, &invoice, &json!({"text": "x"}), None).await;
    assert_eq!(
        (status, &e["error"]["param"]),
        (400, &json!("Idempotency-Key")),
        "{e}"
    );
    assert_eq!(message_rows(&mock), before);
    // The key every refusal used is still free: a corrected message goes through with it.
    let (status, doc, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "ok"}),
        Some("same-key"),
    )
    .await;
    assert_eq!((status, &doc["text"]), (200, &json!("ok")), "{doc}");
    // A staff answer is checked the same way.
    let (status, e) = staff_answer(&mock, &invoice, &"a".repeat(2_001)).await;
    assert_eq!((status, &e["error"]["param"]), (400, &json!("text")), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attachment_is_kept_with_its_digest_and_downloaded_as_it_came() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    let (status, doc, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "Mon avis d'imposition", "attachment": {"content_type": "image/png", "data": b64(&png())}}),
        Some("att"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(
        doc["attachment"],
        json!({"content_type": "image/png", "size": 272, "sha256": PNG_SHA256})
    );
    let id = doc["id"].as_str().unwrap();
    let url = format!(
        "{}/v1/me/invoices/{invoice}/messages/{id}/attachment",
        mock.url
    );
    let response = mock
        .http
        .get(&url)
        .header(
            "authorization",
            format!("DPoP {}", member.device.access_token),
        )
        .header(
            "dpop",
            raw_proof(
                &member.device.key,
                "GET",
                &url,
                Some(&member.device.access_token),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["content-disposition"], "attachment");
    assert_eq!(response.bytes().await.unwrap().to_vec(), png());
    // Sealed at rest: the PNG's bytes are not in the file's row.
    let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
    let stored: Vec<u8> = conn
        .query_row("SELECT data FROM invoice_message_attachments", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!stored.windows(8).any(|w| w == b"\x89PNG\r\n\x1a\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_members_invoice_does_not_exist_for_their_messages() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    let (status, doc, _) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "à moi"}),
        Some("a"),
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    let other = RawDevice::enroll(&mock, "TP1000002", "1992-11-02", "+33698765432").await;
    let before = message_rows(&mock);
    let (status, e) = thread(&mock, &other, &invoice, "").await;
    assert_eq!((status, &e["error"]["param"]), (404, &json!("id")), "{e}");
    let (status, e, _) = post(
        &mock,
        &other,
        &invoice,
        &json!({"text": "à toi ?"}),
        Some("b"),
    )
    .await;
    assert_eq!((status, &e["error"]["param"]), (404, &json!("id")), "{e}");
    let id = doc["id"].as_str().unwrap();
    let (status, _) = other
        .send(
            &mock,
            "GET",
            &format!("/v1/me/invoices/{invoice}/messages/{id}/attachment"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    for bad in ["ch_1", "in_nope"] {
        let (status, e) = thread(&mock, &member.device, bad, "").await;
        assert_eq!((status, &e["error"]["param"]), (404, &json!("id")), "{bad}");
    }
    // Support cannot answer an invoice that does not exist.
    let (status, e) = staff_answer(&mock, "in_nope", "bonjour").await;
    assert_eq!((status, &e["error"]["param"]), (404, &json!("id")), "{e}");
    assert_eq!(message_rows(&mock), before);
    // Without a device, no thread.
    let anonymous = mock
        .http
        .get(format!("{}/v1/me/invoices/{invoice}/messages", mock.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_whose_answer_was_lost_is_posted_once_when_retried_with_its_key() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    let (status, doc) = mock
        .post(
            "/v1/test_helpers/faults",
            json!({"method": "POST", "path_prefix": format!("/v1/me/invoices/{invoice}/messages"),
                   "mode": "drop_after_commit", "count": 1}),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
    let url = format!("{}/v1/me/invoices/{invoice}/messages", mock.url);
    let lost = mock
        .http
        .post(&url)
        .header(
            "authorization",
            format!("DPoP {}", member.device.access_token),
        )
        .header(
            "dpop",
            raw_proof(
                &member.device.key,
                "POST",
                &url,
                Some(&member.device.access_token),
            ),
        )
        .header("idempotency-key", "once")
        .json(&json!({"text": "Une seule fois"}))
        .send()
        .await;
    // The connection broke after the commit: the answer never arrived in full.
    assert!(lost.is_err() || lost.unwrap().bytes().await.is_err());
    let (status, doc, replayed) = post(
        &mock,
        &member.device,
        &invoice,
        &json!({"text": "Une seule fois"}),
        Some("once"),
    )
    .await;
    assert_eq!((status, replayed), (200, true), "{doc}");
    let (_, page) = thread(&mock, &member.device, &invoice, "").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["data"][0]["id"], doc["id"]);
}

/// The figure of docs/benchmarks.md, "Message round trip": the member writes (POST with its
/// key), support answers (the console's `post_staff`, here through its test helper), the member
/// reads the answer (GET after their own message), on loopback; 200 rounds after 10 warm-ups.
/// `cargo test -p tierspay-tests --test invoice_messages -- --ignored --nocapture` (debug build)
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a test: run it with --ignored --nocapture"]
async fn measure_message_round_trip_member_support_member() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let invoice = invoice_of(&mock, &member.device).await;
    let mut micros = Vec::new();
    for round in 0..210 {
        let t = std::time::Instant::now();
        let (status, mine, _) = post(
            &mock,
            &member.device,
            &invoice,
            &json!({"text": format!("question {round}")}),
            Some(&format!("round-{round}")),
        )
        .await;
        assert_eq!(status, 200, "{mine}");
        let (status, answer) = staff_answer(&mock, &invoice, &format!("réponse {round}")).await;
        assert_eq!(status, 200, "{answer}");
        let after = mine["id"].as_str().unwrap();
        let (status, page) = thread(
            &mock,
            &member.device,
            &invoice,
            &format!("?limit=1&starting_after={after}"),
        )
        .await;
        assert_eq!((status, &page["data"][0]["id"]), (200, &answer["id"]));
        if round >= 10 {
            micros.push(t.elapsed().as_micros() as u64);
        }
    }
    micros.sort_unstable();
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize];
    println!(
        "message round trip over {} rounds: median {} us, p10 {} us, p90 {} us, p99 {} us, max {} us",
        micros.len(),
        at(0.5),
        at(0.1),
        at(0.9),
        at(0.99),
        micros[micros.len() - 1]
    );
}
