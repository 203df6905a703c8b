//! The mock probed as an attacker would (issue 8): every request here once crashed the server,
//! stored a secret in clear, trusted what a request claims, left a key stuck, or slipped past a
//! limit. Each test sends the hostile request for real, over loopback, and checks both the
//! Stripe-shaped answer and that the server is still whole afterwards.

use serde_json::{json, Value};
use tierspay_core::auth::random;
use tierspay_server_mock::{start, Limits, ServerConfig};
use tierspay_tests::{raw_proof, Mock, Phone, RawDevice, DEMO_BIRTH_DATE, DEMO_CONTRACT, PSP_KEY};

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The server still serves: the whole process survived.
async fn still_alive(mock: &Mock) {
    let clock = mock.get("/v1/test_helpers/clock").await;
    assert_eq!(clock["object"], "test_clock", "{clock}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_or_numerous_parameters_are_a_400_naming_the_parameter_not_a_crash() {
    let mock = Mock::start().await;
    // 4 KB of brackets once overflowed a worker's stack and aborted the whole process.
    let body = format!("metadata{}=1", "[]".repeat(2000));
    let (status, e) = send(
        mock.http
            .post(format!("{}/v1/issuing/cardholders", mock.url))
            .bearer_auth(PSP_KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await;
    assert_eq!(
        (status, e["error"]["param"].as_str()),
        (400, Some("metadata")),
        "{e}"
    );
    assert_eq!(e["error"]["type"], "invalid_request_error");
    let (status, e) = send(
        mock.http
            .get(format!(
                "{}/v1/issuing/cards?expand{}=1",
                mock.url,
                "[]".repeat(1500)
            ))
            .bearer_auth(PSP_KEY),
    )
    .await;
    assert_eq!(
        (status, e["error"]["param"].as_str()),
        (400, Some("expand")),
        "{e}"
    );
    let many: String = (0..600).map(|i| format!("metadata[k{i}]=v&")).collect();
    let (status, e) = send(
        mock.http
            .post(format!("{}/v1/issuing/cardholders", mock.url))
            .bearer_auth(PSP_KEY)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(many),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    // JSON nesting is bounded by the parser (serde_json stops at 128 levels).
    let deep_json = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let (status, e) = send(
        mock.http
            .post(format!("{}/v1/enrollments", mock.url))
            .header("content-type", "application/json")
            .body(deep_json),
    )
    .await;
    assert_eq!((status, code(&e)), (400, "body_invalid"), "{e}");
    still_alive(&mock).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_headers_and_malformed_urls_get_stripe_shaped_errors() {
    let mock = Mock::start().await;
    let url = format!("{}/v1/issuing/cards", mock.url);
    let mut many = mock.http.get(&url).bearer_auth(PSP_KEY);
    for i in 0..200 {
        many = many.header(format!("x-filler-{i}"), "1");
    }
    let (status, e) = send(many).await;
    assert_eq!((status, code(&e)), (431, "headers_too_large"), "{e}");
    let (status, e) = send(
        mock.http
            .get(&url)
            .bearer_auth(PSP_KEY)
            .header("x-big", "a".repeat(2 * 1024 * 1024)),
    )
    .await;
    assert_eq!((status, code(&e)), (431, "headers_too_large"), "{e}");
    let (status, e) = send(
        mock.http
            .get(format!("{}/v1/issuing/cards/%FF", mock.url))
            .bearer_auth(PSP_KEY),
    )
    .await;
    assert_eq!((status, code(&e)), (400, "url_invalid"), "{e}");
    let (status, e) = send(
        mock.http
            .get(format!("{}/v1{}", mock.url, "/a".repeat(40)))
            .bearer_auth(PSP_KEY),
    )
    .await;
    assert_eq!((status, code(&e)), (414, "url_too_long"), "{e}");
    let (status, e) = send(
        mock.http
            .post(format!("{}/v1/enrollments", mock.url))
            .header("idempotency-key", "k".repeat(256))
            .json(&json!({"contract_number": DEMO_CONTRACT, "birth_date": DEMO_BIRTH_DATE})),
    )
    .await;
    assert_eq!((status, code(&e)), (400, "idempotency_key_invalid"), "{e}");
    assert_eq!(e["error"]["param"], "Idempotency-Key");
    still_alive(&mock).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dpop_proofs_bind_to_the_configured_url_never_to_the_host_header() {
    let mock = Mock::start().await;
    let device = RawDevice::enroll(&mock, DEMO_CONTRACT, DEMO_BIRTH_DATE, "+33612345678").await;
    let forged = "http://evil.example/v1/me";
    let (status, e) = send(
        mock.http
            .get(format!("{}/v1/me", mock.url))
            .header("host", "evil.example")
            .header("authorization", format!("DPoP {}", device.access_token))
            .header(
                "dpop",
                raw_proof(&device.key, "GET", forged, Some(&device.access_token)),
            ),
    )
    .await;
    assert_eq!((status, code(&e)), (401, "invalid_dpop_proof"), "{e}");
    // Two proofs: ambiguous, refused (RFC 9449 section 4.3).
    let url = format!("{}/v1/me", mock.url);
    let (status, e) = send(
        mock.http
            .get(&url)
            .header("authorization", format!("DPoP {}", device.access_token))
            .header(
                "dpop",
                raw_proof(&device.key, "GET", &url, Some(&device.access_token)),
            )
            .header(
                "dpop",
                raw_proof(&device.key, "GET", &url, Some(&device.access_token)),
            ),
    )
    .await;
    assert_eq!((status, code(&e)), (401, "invalid_dpop_proof"), "{e}");
    let (status, me) = device.send(&mock, "GET", "/v1/me", None).await;
    assert_eq!(status, 200, "the right URL still works: {me}");
}

#[tokio::test(flavor = "multi_thread")]
async fn listening_on_every_interface_needs_a_public_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::loopback(dir.path().join("mock.db"));
    config.addr = "0.0.0.0:0".parse().unwrap();
    let refused = start(config.clone()).await;
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("--public-url")),
        "the Host header must never become the URL proofs sign"
    );
    config.public_url = Some("https://mock.example".into());
    start(config)
        .await
        .expect("starts with a public URL")
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_dies_before_its_commit_leaves_its_key_free() {
    let mock = Mock::start().await;
    let providers = |mock: &Mock| {
        rusqlite::Connection::open(mock.db_path())
            .unwrap()
            .query_row("SELECT COUNT(*) FROM insurer_providers", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    let before = providers(&mock);
    let batch = json!({"count": 20_000});
    // The client gives up after 30 ms and closes the socket, mid-request.
    let gave_up = mock
        .request(reqwest::Method::POST, "/v1/test_helpers/providers")
        .header("idempotency-key", "disc-1")
        .timeout(std::time::Duration::from_millis(30))
        .json(&batch)
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    // Retried with the same key: never a 409, and the batch is added exactly once, whether the
    // first attempt committed (its answer is replayed) or died (the retry runs it).
    let (status, answer) = send(
        mock.request(reqwest::Method::POST, "/v1/test_helpers/providers")
            .header("idempotency-key", "disc-1")
            .json(&batch),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(providers(&mock) - before, 20_000);
    let (status, again) = send(
        mock.request(reqwest::Method::POST, "/v1/test_helpers/providers")
            .header("idempotency-key", "disc-1")
            .json(&batch),
    )
    .await;
    assert_eq!((status, &again), (200, &answer), "replayed");
    assert_eq!(providers(&mock) - before, 20_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_api_keys_are_refused_before_any_handler_or_limit() {
    let mock = Mock::start_with(Limits {
        starts_per_client: 3,
        ..Limits::default()
    })
    .await;
    let start = |auth: Option<String>| {
        let mut r = mock
            .http
            .post(format!("{}/v1/enrollments", mock.url))
            .json(&json!({"contract_number": "TP9999999", "birth_date": "1990-01-01"}));
        if let Some(auth) = auth {
            r = r.header("authorization", auth);
        }
        send(r)
    };
    for _ in 0..3 {
        let (status, e) = start(None).await;
        assert_eq!(status, 400, "{e}");
    }
    assert_eq!(start(None).await.0, 429, "the peer's limit is spent");
    for _ in 0..20 {
        let made_up = format!("Bearer sk_{}", random::id("x"));
        let (status, e) = start(Some(made_up)).await;
        assert_eq!((status, code(&e)), (401, "api_key_invalid"), "{e}");
        assert!(e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid API Key provided"));
    }
    for key in ["Bearer pk_test_abc", "Bearer rk_test_abc"] {
        let (status, e) = start(Some(key.into())).await;
        assert_eq!((status, code(&e)), (401, "api_key_invalid"), "{key}: {e}");
    }
    // The real secret key does not buy a fresh limit either: limits key on the peer.
    let (status, _) = start(Some(format!("Bearer {PSP_KEY}"))).await;
    assert_eq!(status, 429);
}

#[tokio::test(flavor = "multi_thread")]
async fn attempt_limits_survive_a_restart() {
    let mut mock = Mock::start_with(Limits {
        starts_per_contract: 2,
        ..Limits::default()
    })
    .await;
    let body = json!({"contract_number": DEMO_CONTRACT, "birth_date": "1985-04-13"});
    for _ in 0..2 {
        assert_eq!(mock.post("/v1/enrollments", body.clone()).await.0, 400);
    }
    mock.restart().await;
    let (status, e) = mock.post("/v1/enrollments", body).await;
    assert_eq!((status, code(&e)), (429, "rate_limited"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_helpers_are_off_by_default_and_need_the_secret_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::loopback(dir.path().join("mock.db"));
    config.seed_demo = true;
    let server = start(config).await.unwrap();
    let http = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::GET, "/v1/test_helpers/outbox"),
        (reqwest::Method::POST, "/v1/test_helpers/clock/advance"),
    ] {
        let (status, e) = send(
            http.request(method, format!("{}{path}", server.url))
                .bearer_auth(PSP_KEY)
                .json(&json!({"seconds": 3600})),
        )
        .await;
        assert_eq!((status, code(&e)), (404, "route_unknown"), "{path}: {e}");
    }
    server.stop().await;

    let mock = Mock::start().await;
    for auth in [None, Some("Bearer pk_test_x")] {
        let mut r = mock
            .http
            .get(format!("{}/v1/test_helpers/outbox", mock.url));
        if let Some(auth) = auth {
            r = r.header("authorization", auth);
        }
        let (status, e) = send(r).await;
        assert_eq!(status, 401, "{e}");
    }
    let (status, _) = send(
        mock.http
            .post(format!("{}/v1/test_helpers/clock/advance", mock.url))
            .json(&json!({"seconds": 3600})),
    )
    .await;
    assert_eq!(
        status, 401,
        "an anonymous caller cannot move the clock past a limit"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fixtures_are_validated_like_any_input() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let profile = phone.enroll_demo(&mock).await;
    let beneficiary = profile.beneficiaries[0].id.clone();
    for (body, field) in [
        (
            json!({"beneficiary_id": beneficiary, "year": 2026, "pf_paid": "-5"}),
            "pf_paid",
        ),
        (
            json!({"beneficiary_id": beneficiary, "year": 2026, "franchise_paid": "1.001"}),
            "franchise_paid",
        ),
        (
            json!({"beneficiary_id": beneficiary, "year": 2026, "ceiling": {"category": "optical", "consumed": "-1"}}),
            "ceiling.consumed",
        ),
        (
            json!({"beneficiary_id": beneficiary, "year": 99999}),
            "year",
        ),
    ] {
        let (status, e) = mock.post("/v1/test_helpers/usage", body).await;
        assert_eq!(
            (status, e["error"]["param"].as_str()),
            (400, Some(field)),
            "{e}"
        );
    }
}

/// Every value of every table, and the raw bytes of the database and its WAL.
fn dump(path: &std::path::Path) -> (Vec<(String, String)>, Vec<u8>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut values = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| {
                        Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                            rusqlite::types::Value::Text(t) => t,
                            rusqlite::types::Value::Blob(b) => String::from_utf8_lossy(&b).into(),
                            other => format!("{other:?}"),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap();
        for row in rows {
            values.extend(row.into_iter().map(|v| (table.clone(), v)));
        }
    }
    let mut raw = std::fs::read(path).unwrap();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    raw.extend(std::fs::read(wal).unwrap_or_default());
    (values, raw)
}

/// `needle` as a whole number inside `hay` (not part of a longer run of digits).
fn contains_number(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn no_card_number_code_or_token_is_stored_in_clear_by_the_mock() {
    let mock = Mock::start().await;
    // A raw enrollment whose confirm carries an Idempotency-Key, so its answer (with the tokens)
    // is stored for replay.
    let (_, challenge) = mock
        .post(
            "/v1/enrollments",
            json!({"contract_number": DEMO_CONTRACT, "birth_date": DEMO_BIRTH_DATE}),
        )
        .await;
    let otp = mock.latest_code("+33612345678").await;
    let key = tierspay_core::auth::ecdsa::generate_signing_key();
    let url = format!(
        "{}/v1/enrollments/{}/confirm",
        mock.url,
        challenge["id"].as_str().unwrap()
    );
    let (status, result) = send(
        mock.http
            .post(&url)
            .header("dpop", raw_proof(&key, "POST", &url, None))
            .header("idempotency-key", "confirm-1")
            .json(&json!({ "code": otp })),
    )
    .await;
    assert_eq!(status, 200, "{result}");
    let access = result["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = result["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The card revealed through the platform (keyed POST) and created through the PSP with its
    // number expanded (keyed POST): both answers carry the number and the code.
    let device = RawDevice {
        key,
        device_id: result["device_id"].as_str().unwrap().into(),
        access_token: access.clone(),
    };
    let (status, secret) = device.send(&mock, "POST", "/v1/card/reveal", None).await;
    assert_eq!(status, 200, "{secret}");
    let (status, holder) = mock
        .psp_post(
            "/v1/issuing/cardholders",
            &[
                ("name", "Test Holder"),
                ("type", "individual"),
                ("billing[address][line1]", "1 rue de la Paix"),
                ("billing[address][city]", "Paris"),
                ("billing[address][postal_code]", "75002"),
                ("billing[address][country]", "FR"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{holder}");
    let (status, psp_card) = send(
        mock.http
            .post(format!("{}/v1/issuing/cards", mock.url))
            .bearer_auth(PSP_KEY)
            .header("idempotency-key", "card-1")
            .form(&[
                ("cardholder", holder["id"].as_str().unwrap()),
                ("currency", "eur"),
                ("type", "virtual"),
                ("expand[]", "number"),
                ("expand[]", "cvc"),
            ]),
    )
    .await;
    assert_eq!(status, 200, "{psp_card}");

    // A second member through the core, the way the app goes: coverage sync, both wallets
    // (their payloads carry the card encrypted), and the number revealed.
    let phone = Phone::new(&mock);
    phone
        .enroll(&mock, "TP1000002", "1992-11-02", "+33698765432")
        .await;
    phone.app.coverage().sync().await.unwrap();
    let wallet = tierspay_core::PassKitSimulator::new().unwrap();
    mock.trust_apple_root(&wallet.root_certificate()).await;
    let card = phone.app.card();
    card.apple_pay_pass_data(
        wallet.certificates(),
        wallet.nonce(),
        wallet.nonce_signature(),
    )
    .await
    .unwrap();
    card.google_pay_action("wallet-abc".into(), "hardware-123".into(), vec![])
        .await
        .unwrap();
    let details = card.reveal().await.unwrap();

    let pans = [
        secret["number"].as_str().unwrap().to_owned(),
        psp_card["number"].as_str().unwrap().to_owned(),
        details.number.clone(),
    ];
    let cvcs = [
        secret["cvc"].as_str().unwrap().to_owned(),
        psp_card["cvc"].as_str().unwrap().to_owned(),
        details.cvc.clone(),
    ];
    let (values, raw) = dump(&mock.db_path());
    let raw = String::from_utf8_lossy(&raw);
    for (table, value) in &values {
        // The PSP's card table is where the number and code live, by design.
        if table == "psp_cards" {
            continue;
        }
        for pan in &pans {
            assert!(!value.contains(pan.as_str()), "card number in {table}");
        }
        for cvc in &cvcs {
            assert!(
                !value.contains(&format!("\"cvc\":\"{cvc}\"")),
                "CVC in {table}"
            );
        }
        assert!(!contains_number(value, &otp), "one-time code in {table}");
        assert!(!value.contains(&access), "access token in {table}");
        assert!(!value.contains(&refresh), "refresh token in {table}");
    }
    // Freed pages and the WAL keep old bytes: no secret there either (the card number lives in
    // psp_cards, so only the tokens and the code are checked in the raw bytes).
    assert!(!raw.contains(&access), "access token in the file bytes");
    assert!(!raw.contains(&refresh), "refresh token in the file bytes");
    assert!(
        !raw.contains(&format!("{otp} is your code")),
        "code in the file bytes"
    );
    // Replays still work: sealed, not lost.
    let (status, replayed) = send(
        mock.http
            .post(&url)
            .header("dpop", raw_proof(&device.key, "POST", &url, None))
            .header("idempotency-key", "confirm-1")
            .json(&json!({ "code": otp })),
    )
    .await;
    assert_eq!((status, &replayed), (200, &result));
}

/// A server that answers every request with a valid enrollment challenge padded to `len` bytes:
/// read whole, it would parse, so only a bound on the size can refuse it.
async fn flooding_server(len: usize, chunked: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = if chunked {
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n".to_owned()
                } else {
                    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len}\r\n\r\n")
                };
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let prefix = br#"{"id":"enr_x","object":"enrollment","phone_masked":"+33 6 xx xx xx 78","code_length":6,"expires_at":4102444800,"pad":""#;
                let suffix = br#""}"#;
                let block = vec![b'a'; 64 * 1024];
                let body_len = len - prefix.len() - suffix.len();
                let send_piece = |piece: &[u8]| {
                    if chunked {
                        let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                        framed.extend_from_slice(piece);
                        framed.extend_from_slice(b"\r\n");
                        framed
                    } else {
                        piece.to_vec()
                    }
                };
                if socket.write_all(&send_piece(prefix)).await.is_err() {
                    return;
                }
                let mut sent = 0;
                while sent < body_len {
                    let n = block.len().min(body_len - sent);
                    if socket.write_all(&send_piece(&block[..n])).await.is_err() {
                        return;
                    }
                    sent += n;
                }
                if socket.write_all(&send_piece(suffix)).await.is_err() {
                    return;
                }
                if chunked {
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn the_phone_refuses_an_endless_answer_instead_of_buffering_it() {
    let mock = Mock::start().await;
    // The padded answer parses when it fits the bound: the refusal below is the bound's.
    for (len, chunked, refused) in [
        (1024 * 1024, false, false),
        (64 * 1024 * 1024, false, true),
        (64 * 1024 * 1024, true, true),
    ] {
        let url = flooding_server(len, chunked).await;
        let dir = tempfile::tempdir().unwrap();
        let secrets: std::sync::Arc<dyn tierspay_core::SecureStorage> =
            std::sync::Arc::new(tierspay_core::MemorySecureStorage::default());
        let key: std::sync::Arc<dyn tierspay_core::DeviceKey> =
            std::sync::Arc::new(tierspay_core::SoftwareDeviceKey::new(secrets.clone()));
        let app = tierspay_core::TiersPay::new(
            tierspay_core::CoreConfig {
                server_url: url,
                data_dir: dir.path().to_string_lossy().into_owned(),
                server_public_key: mock.key.clone(),
                device_name: None,
                link_public_key: None,
                link_key_id: None,
            },
            secrets,
            key,
        )
        .unwrap();
        let answer = app
            .enrollment()
            .start(DEMO_CONTRACT.into(), DEMO_BIRTH_DATE.into())
            .await;
        assert_eq!(
            answer.is_err(),
            refused,
            "{len} bytes, chunked={chunked}: {answer:?}"
        );
    }
}
