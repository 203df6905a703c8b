//! The enrollment API over raw HTTP: the happy path and every bad input, each refused with a
//! Stripe-style error that names the problem, leaving the business tables untouched.

use p256::ecdsa::SigningKey;
use serde_json::{json, Value};
use tierspay_core::auth::{dpop, ecdsa, signature};
use tierspay_server_mock::Limits;
use tierspay_tests::{Mock, BUSINESS_TABLES, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

fn proof(key: &SigningKey, method: &str, url: &str, iat: i64, token: Option<&str>) -> String {
    let claims = dpop::Claims::new(method, url, iat, token);
    let input = dpop::signing_input(&ecdsa::public_key_sec1(key), &claims).unwrap();
    dpop::assemble(&input, &ecdsa::sign(key, input.as_bytes())).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn start_demo(mock: &Mock) -> Value {
    let (status, body) = mock
        .post(
            "/v1/enrollments",
            json!({"contract_number": DEMO_CONTRACT, "birth_date": DEMO_BIRTH_DATE}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// POSTs a confirm with a proof by `key`; returns status, body, signature header.
async fn confirm(
    mock: &Mock,
    key: &SigningKey,
    id: &str,
    code: &str,
) -> (u16, Value, Option<String>) {
    let url = format!("{}/v1/enrollments/{id}/confirm", mock.url);
    let response = mock
        .http
        .post(&url)
        .header("dpop", proof(key, "POST", &url, now(), None))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let sig = response
        .headers()
        .get("tierspay-signature")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.bytes().await.unwrap();
    if let Some(sig) = &sig {
        let pinned = signature::parse_pinned_key(&mock.key).unwrap();
        signature::verify_body(&pinned, &bytes, sig).expect("signed by the server key");
    }
    (status, serde_json::from_slice(&bytes).unwrap(), sig)
}

/// `GET /v1/me` with an access token and a proof signed by `key`: (status, body).
async fn get_me(mock: &Mock, key: &SigningKey, token: &str) -> (u16, Value) {
    let url = format!("{}/v1/me", mock.url);
    let r = mock
        .http
        .get(&url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof(key, "GET", &url, now(), Some(token)))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn enrollment_happy_path_is_two_round_trips_with_a_signed_answer() {
    let mock = Mock::start().await;
    let challenge = start_demo(&mock).await;
    assert_eq!(challenge["object"], "enrollment");
    assert_eq!(challenge["phone_masked"], "+33 6 •• •• •• 78");
    assert_eq!(challenge["code_length"], 6);
    let code = mock.latest_code(DEMO_PHONE).await;
    let key = ecdsa::generate_signing_key();
    let (status, result, sig) =
        confirm(&mock, &key, challenge["id"].as_str().unwrap(), &code).await;
    assert_eq!(status, 200, "{result}");
    assert!(sig.is_some());
    assert_eq!(result["tokens"]["token_type"], "DPoP");
    assert_eq!(result["member"]["first_name"], "Camille");
    assert_eq!(result["beneficiaries"].as_array().unwrap().len(), 4);

    // The access token works only with a proof by the same key.
    let token = result["tokens"]["access_token"].as_str().unwrap();
    assert_eq!(get_me(&mock, &key, token).await.0, 200);
    let thief = ecdsa::generate_signing_key();
    assert_eq!(get_me(&mock, &thief, token).await.0, 401);
    let url = format!("{}/v1/me", mock.url);
    let bearer = mock
        .http
        .get(&url)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_contract_and_wrong_birth_date_get_the_same_answer_and_change_nothing() {
    let mock = Mock::start().await;
    let before = mock.snapshot(BUSINESS_TABLES);
    let (s1, unknown) = mock
        .post(
            "/v1/enrollments",
            json!({"contract_number": "TP9999999", "birth_date": DEMO_BIRTH_DATE}),
        )
        .await;
    let (s2, wrong_date) = mock
        .post(
            "/v1/enrollments",
            json!({"contract_number": DEMO_CONTRACT, "birth_date": "1985-04-13"}),
        )
        .await;
    assert_eq!((s1, s2), (400, 400));
    assert_eq!(
        unknown, wrong_date,
        "the answer must not tell whether the contract exists"
    );
    assert_eq!(error_code(&unknown), "enrollment_not_matched");
    assert_eq!(mock.snapshot(BUSINESS_TABLES), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_oversized_and_unknown_field_bodies_are_refused_by_name() {
    let mock = Mock::start().await;
    let before = mock.snapshot(BUSINESS_TABLES);
    let url = format!("{}/v1/enrollments", mock.url);
    let send = |body: Vec<u8>, content_type: &'static str| {
        let http = mock.http.clone();
        let url = url.clone();
        async move {
            let r = http
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send(b"{\"contract_number\": ".to_vec(), "application/json").await;
    assert_eq!((status, error_code(&body)), (400, "body_invalid"));
    let (status, body) = send(vec![b' '; 70 * 1024], "application/json").await;
    assert_eq!((status, error_code(&body)), (413, "body_too_large"));
    let (status, body) = send(
        br#"{"contract_number":"TP1000001","birth_date":"1985-04-12","admin":true}"#.to_vec(),
        "application/json",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "admin");
    let (status, body) = send(
        br#"{"contract_number":"TP1000001"}"#.to_vec(),
        "application/json",
    )
    .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("birth_date"))
    );
    let (status, body) = send(b"contract_number=TP1000001".to_vec(), "text/plain").await;
    assert_eq!((status, error_code(&body)), (400, "content_type_invalid"));
    let (status, body) = mock
        .post(
            "/v1/enrollments",
            json!({"contract_number": DEMO_CONTRACT, "birth_date": "12/04/1985"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("birth_date"))
    );
    let (status, body) = mock
        .post(
            "/v1/enrollments",
            json!({"contract_number": "TP'1; DROP", "birth_date": DEMO_BIRTH_DATE}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("contract_number"))
    );
    assert_eq!(mock.snapshot(BUSINESS_TABLES), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_codes_count_down_and_the_sixth_try_is_refused_even_with_the_right_code() {
    let mock = Mock::start().await;
    let challenge = start_demo(&mock).await;
    let id = challenge["id"].as_str().unwrap();
    let code = mock.latest_code(DEMO_PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let key = ecdsa::generate_signing_key();
    let devices_before = mock.snapshot(&["platform_devices", "platform_tokens"]);
    for left in (1..=4).rev() {
        let (status, body, _) = confirm(&mock, &key, id, wrong).await;
        assert_eq!((status, error_code(&body)), (400, "code_incorrect"));
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} tr")),
            "{body}"
        );
    }
    let (_, fifth, _) = confirm(&mock, &key, id, wrong).await;
    assert_eq!(error_code(&fifth), "too_many_attempts");
    let (status, sixth, _) = confirm(&mock, &key, id, &code).await;
    assert_eq!((status, error_code(&sixth)), (400, "too_many_attempts"));
    assert_eq!(
        mock.snapshot(&["platform_devices", "platform_tokens"]),
        devices_before
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_codes_superseded_codes_and_unknown_enrollments_are_refused() {
    let mock = Mock::start().await;
    let key = ecdsa::generate_signing_key();
    let first = start_demo(&mock).await;
    let first_code = mock.latest_code(DEMO_PHONE).await;
    let second = start_demo(&mock).await;
    let (_, body, _) = confirm(&mock, &key, first["id"].as_str().unwrap(), &first_code).await;
    assert_eq!(
        error_code(&body),
        "code_expired",
        "only the newest code is valid"
    );
    let code = mock.latest_code(DEMO_PHONE).await;
    mock.advance(5 * 60).await;
    let before = mock.snapshot(BUSINESS_TABLES);
    let (status, body, _) = confirm(&mock, &key, second["id"].as_str().unwrap(), &code).await;
    assert_eq!((status, error_code(&body)), (400, "code_expired"));
    let (status, body, _) = confirm(&mock, &key, "enr_doesnotexist", &code).await;
    assert_eq!((status, error_code(&body)), (404, "resource_missing"));
    assert_eq!(mock.snapshot(BUSINESS_TABLES), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_stale_and_missing_proofs_are_refused() {
    let mock = Mock::start().await;
    let challenge = start_demo(&mock).await;
    let id = challenge["id"].as_str().unwrap();
    let code = mock.latest_code(DEMO_PHONE).await;
    let key = ecdsa::generate_signing_key();
    let url = format!("{}/v1/enrollments/{id}/confirm", mock.url);
    let before = mock.snapshot(BUSINESS_TABLES);

    let missing = mock
        .http
        .post(&url)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let stale = proof(&key, "POST", &url, now() - 120, None);
    let r = mock
        .http
        .post(&url)
        .header("dpop", stale)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(error_code(&r.json().await.unwrap()), "invalid_dpop_proof");
    let other_url = proof(
        &key,
        "POST",
        &format!("{}/v1/enrollments", mock.url),
        now(),
        None,
    );
    let r = mock
        .http
        .post(&url)
        .header("dpop", other_url)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(mock.snapshot(BUSINESS_TABLES), before);

    let once = proof(&key, "POST", &url, now(), None);
    let r = mock
        .http
        .post(&url)
        .header("dpop", &once)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = mock.snapshot(BUSINESS_TABLES);
    let replay = mock
        .http
        .post(&url)
        .header("dpop", &once)
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert_eq!(
        error_code(&replay.json().await.unwrap()),
        "dpop_proof_replayed"
    );
    assert_eq!(mock.snapshot(BUSINESS_TABLES), after);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_tokens_expire_and_refresh_tokens_are_single_use() {
    let mock = Mock::start().await;
    let challenge = start_demo(&mock).await;
    let code = mock.latest_code(DEMO_PHONE).await;
    let key = ecdsa::generate_signing_key();
    let (_, result, _) = confirm(&mock, &key, challenge["id"].as_str().unwrap(), &code).await;
    let token = result["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refresh = result["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    mock.advance(11 * 60).await;
    let (status, body) = get_me(&mock, &key, &token).await;
    assert_eq!((status, error_code(&body)), (401, "token_expired"));

    let token_url = format!("{}/v1/oauth/token", mock.url);
    let refresh_with = |rt: String| {
        let http = mock.http.clone();
        let url = token_url.clone();
        let p = proof(&key, "POST", &token_url, now(), None);
        async move {
            let r = http
                .post(url)
                .header("dpop", p)
                .json(&json!({"grant_type": "refresh_token", "refresh_token": rt}))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, grant) = refresh_with(refresh.clone()).await;
    assert_eq!(status, 200, "{grant}");
    // Reusing a refresh token is treated as theft: the device is revoked, new tokens included.
    let (status, body) = refresh_with(refresh).await;
    assert_eq!((status, error_code(&body)), (401, "token_revoked"));
    let (status, _) = refresh_with(grant["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotency_keys_replay_refuse_other_bodies_and_serialize_requests_in_flight() {
    let mock = Mock::start().await;
    let url = format!("{}/v1/enrollments", mock.url);
    let body = json!({"contract_number": DEMO_CONTRACT, "birth_date": DEMO_BIRTH_DATE});
    let send = |key: &'static str, body: Value| {
        let http = mock.http.clone();
        let url = url.clone();
        async move {
            let r = http
                .post(url)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            let replayed = r.headers().contains_key("idempotent-replayed");
            (
                r.status().as_u16(),
                replayed,
                r.json::<Value>().await.unwrap(),
            )
        }
    };
    let (s1, replayed1, first) = send("key-1", body.clone()).await;
    let outbox = mock.snapshot(&["platform_outbox"]);
    let (s2, replayed2, second) = send("key-1", body.clone()).await;
    assert_eq!((s1, s2, replayed1, replayed2), (200, 200, false, true));
    assert_eq!(first, second, "the stored answer is replayed");
    assert_eq!(mock.snapshot(&["platform_outbox"]), outbox, "no second SMS");
    let (status, _, other) = send(
        "key-1",
        json!({"contract_number": DEMO_CONTRACT, "birth_date": "1985-04-13"}),
    )
    .await;
    assert_eq!(
        (status, other["error"]["type"].as_str()),
        (400, Some("idempotency_error"))
    );

    // Two requests with one key at once: the second waits for the first's commit and gets its
    // answer (no "in flight" state that a crash could leave behind), and one SMS is sent.
    let messages = || {
        rusqlite::Connection::open(mock.db_path())
            .unwrap()
            .query_row("SELECT COUNT(*) FROM platform_outbox", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    let before = messages();
    let (a, b) = tokio::join!(send("key-2", body.clone()), send("key-2", body.clone()));
    assert_eq!((a.0, b.0), (200, 200));
    assert_eq!(a.2, b.2, "one answer, given twice");
    assert!(a.1 ^ b.1, "exactly one of them is a replay");
    assert_eq!(messages() - before, 1, "one SMS for two requests");
    let (status, _, _) = send("", body).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn enrollment_starts_are_rate_limited_per_contract_whether_it_exists_or_not() {
    let mock = Mock::start_with(Limits {
        starts_per_contract: 2,
        ..Limits::default()
    })
    .await;
    for number in [DEMO_CONTRACT, "TP7777777"] {
        for _ in 0..2 {
            let (status, _) = mock
                .post(
                    "/v1/enrollments",
                    json!({"contract_number": number, "birth_date": DEMO_BIRTH_DATE}),
                )
                .await;
            assert_ne!(status, 429);
        }
        let r = mock
            .http
            .post(format!("{}/v1/enrollments", mock.url))
            .json(&json!({"contract_number": number, "birth_date": DEMO_BIRTH_DATE}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_some());
        assert_eq!(error_code(&r.json().await.unwrap()), "rate_limited");
    }
    let mock = Mock::start_with(Limits {
        starts_per_client: 3,
        ..Limits::default()
    })
    .await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        let (status, _) = mock
            .post(
                "/v1/enrollments",
                json!({"contract_number": format!("TP800000{n}"), "birth_date": DEMO_BIRTH_DATE}),
            )
            .await;
        statuses.push(status);
    }
    assert_eq!(
        statuses,
        vec![400, 400, 400, 429],
        "per-client limit across contract numbers"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_in_the_middle_of_an_enrollment_loses_nothing_committed() {
    let mut mock = Mock::start().await;
    let challenge = start_demo(&mock).await;
    let code = mock.latest_code(DEMO_PHONE).await;
    mock.restart().await;
    assert_eq!(
        mock.latest_code(DEMO_PHONE).await,
        code,
        "the outbox survived"
    );
    let key = ecdsa::generate_signing_key();
    let (status, result, _) = confirm(&mock, &key, challenge["id"].as_str().unwrap(), &code).await;
    assert_eq!(status, 200, "{result}");
    mock.restart().await;
    // The device and its tokens survived the second restart too.
    let token = result["tokens"]["access_token"].as_str().unwrap();
    assert_eq!(get_me(&mock, &key, token).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_helpers_create_contracts_and_refuse_bad_ones_by_field() {
    let mock = Mock::start().await;
    let created = mock
        .create_contract(json!({
            "number": "TP5550001", "phone": "+33611112222", "email": "a@example.fr",
            "beneficiaries": [{"first_name": "Ana", "last_name": "Lopez", "birth_date": "1990-01-01", "relationship": "holder"},
                              {"first_name": "Tom", "last_name": "Lopez", "birth_date": "2020-05-05", "relationship": "child"}]
        }))
        .await;
    assert_eq!(created["beneficiaries"].as_array().unwrap().len(), 2);
    let bad = [
        (
            json!({"phone": "0611", "email": "a@b.fr", "beneficiaries": []}),
            "phone",
        ),
        (
            json!({"phone": "+33611112222", "email": "a@b.fr", "beneficiaries": []}),
            "beneficiaries",
        ),
        (
            json!({"number": "TP5550001", "phone": "+33611112222", "email": "a@b.fr",
                "beneficiaries": [{"first_name": "A", "last_name": "B", "birth_date": "1990-01-01", "relationship": "holder"}]}),
            "number",
        ),
        (
            json!({"phone": "+33611112222", "email": "a@b.fr",
                "beneficiaries": [{"first_name": "A", "last_name": "B", "birth_date": "1990-13-01", "relationship": "holder"}]}),
            "beneficiaries[0].birth_date",
        ),
    ];
    let before = mock.snapshot(BUSINESS_TABLES);
    for (body, param) in bad {
        let (status, err) = mock.post("/v1/test_helpers/contracts", body).await;
        assert_eq!(
            (status, err["error"]["param"].as_str()),
            (400, Some(param)),
            "{err}"
        );
    }
    assert_eq!(
        mock.snapshot(BUSINESS_TABLES),
        before,
        "no half-written contract"
    );
}
