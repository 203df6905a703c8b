//! The mock PSP's wallet provisioning over its Stripe wire format: Apple Pay (PassKit chain,
//! ECC_V2 pass, activation data) and Google Pay (OPC bound to wallet and device, identity
//! verification, expiry) end to end with their network tokens, and every bad input refused by
//! name with nothing half created.

// `ApiError` is large by design (a whole Stripe error document), as in the mock itself.
#![allow(clippy::result_large_err)]

use base64::Engine;
use tierspay_server_mock::psp::api;
use tierspay_tests::stripe::{
    code, google_push, ios_query, now, param, push_details, tokens, trust_root, B64, PSP_TABLES,
};
use tierspay_tests::{Mock, Stripe};
use tierspay_wallet::applepay;
use tierspay_wallet::test_pki::{TestPki, Variant};

/// What, which card, the query, and the refusal: code, param.
type PushCase<'a> = (&'a str, String, Vec<(String, String)>, &'a str, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn apple_pay_provisioning_end_to_end() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let pki = TestPki::new(now()).unwrap();
    trust_root(&psp, &pki).await;
    let ich = psp.cardholder("Membre A1").await;
    let card = psp.active_card(&ich).await;
    let ic = card["id"].as_str().unwrap();
    let chain = pki.chain(Variant::Good).unwrap();
    let nonce = [0x01u8, 0x02, 0x03, 0x04];
    let nonce_signature = [0xA5u8; 64];

    let a = push_details(
        &psp,
        ic,
        &ios_query(&chain.certificates(), &nonce, &nonce_signature),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["card"], ic, "the answer names its card");
    let contents = B64.decode(a.body["contents"].as_str().unwrap()).unwrap();
    let ephemeral = B64
        .decode(a.body["ephemeral_public_key"].as_str().unwrap())
        .unwrap();
    assert_eq!(ephemeral.len(), 65);
    assert_eq!(ephemeral[0], 4);
    let activation_data = a.body["activation_data"].as_str().unwrap().to_owned();
    let token_id = a.body["token"].as_str().unwrap().to_owned();

    // The wallet's side: decrypt with the leaf key and read the pass.
    let leaf: [u8; 32] = chain.leaf_private_key.clone().try_into().unwrap();
    let plain = applepay::decrypt_pass_data(&leaf, &ephemeral, &contents).unwrap();
    let pass: applepay::PassPlaintext = serde_json::from_slice(&plain).unwrap();
    let full = psp
        .ok_get(
            &format!("/v1/issuing/cards/{ic}"),
            &[("expand[]", "number")],
        )
        .await;
    assert_eq!(
        pass.primary_account_number,
        full["number"].as_str().unwrap()
    );
    assert_eq!(
        pass.expiration,
        format!(
            "{:02}/{:02}",
            full["exp_month"].as_u64().unwrap(),
            full["exp_year"].as_u64().unwrap() % 100
        )
    );
    assert_eq!(pass.nonce, "01020304");
    assert_eq!(pass.nonce_signature, "a5".repeat(64));
    assert_eq!(pass.name, "Membre A1");

    // A requested token with its own device PAN; the card now has its PassKit identifier.
    let listed = tokens(&psp, ic).await;
    assert_eq!(listed.len(), 1);
    let token = &listed[0];
    assert_eq!(token["id"], token_id.as_str());
    assert!(token_id.starts_with("intok_"));
    assert_eq!(token["object"], "issuing.token");
    assert_eq!(token["wallet_provider"], "apple_pay");
    assert_eq!(token["status"], "requested");
    assert_eq!(token["network_data"]["wallet_status"], "pending");
    assert_ne!(token["last4"], full["last4"]);
    let pai = full["wallets"]["primary_account_identifier"]
        .as_str()
        .unwrap();
    assert!(pai.starts_with("V-"));

    // The network activates it only with the activation data issued with the pass.
    let helper = format!("/v1/test_helpers/issuing/tokens/{token_id}/activate");
    let bad = psp
        .post(&helper, &[("activation_data", &B64.encode([0u8; 32]))])
        .await;
    assert_eq!(
        (bad.status, code(&bad), param(&bad)),
        (400, "activation_data_invalid", "activation_data")
    );
    let active = psp
        .ok_post(&helper, &[("activation_data", &activation_data)])
        .await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["network_data"]["wallet_status"], "active");
    let twice = psp
        .post(&helper, &[("activation_data", &activation_data)])
        .await;
    assert_eq!(twice.status, 400, "one-time activation");
    let got = psp
        .ok_get(&format!("/v1/issuing/tokens/{token_id}"), &[])
        .await;
    assert_eq!(got["status"], "active");

    let events = psp
        .ok_get("/v1/events", &[("type", "issuing_token.*")])
        .await;
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["issuing_token.updated", "issuing_token.created"]
    );
    assert_eq!(
        events["data"][0]["data"]["previous_attributes"]["status"],
        "requested"
    );

    // The trusted root survives a restart.
    let mut mock = mock;
    mock.restart().await;
    let psp = Stripe::new(&mock);
    let again = push_details(
        &psp,
        ic,
        &ios_query(
            &pki.chain(Variant::Good).unwrap().certificates(),
            &nonce,
            &nonce_signature,
        ),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn apple_pay_bad_inputs_are_refused_with_nothing_half_created() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let pki = TestPki::new(now()).unwrap();
    let ich = psp.cardholder("Membre B2").await;
    let ic = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let good = pki.chain(Variant::Good).unwrap().certificates();
    let nonce = [9u8; 8];
    let sig = [7u8; 64];

    // No trusted root yet: refused, clearly.
    let before = mock.snapshot(PSP_TABLES);
    let a = push_details(&psp, &ic, &ios_query(&good, &nonce, &sig)).await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "apple_root_missing"),
        "{}",
        a.body
    );
    assert!(a.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("apple_root"));
    assert_eq!(mock.snapshot(PSP_TABLES), before);

    trust_root(&psp, &pki).await;
    let frozen = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    psp.set_status(&frozen, "inactive").await;
    let canceled = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    psp.set_status(&canceled, "canceled").await;
    let before = mock.snapshot(PSP_TABLES);

    let chain_of = |v: Variant| pki.chain(v).unwrap().certificates();
    let cases: Vec<PushCase> = vec![
        (
            "leaf signed by another CA",
            ic.clone(),
            ios_query(&chain_of(Variant::LeafSignedByOtherCa), &nonce, &sig),
            "certificate_chain_invalid",
            "ios[certificates][0]",
        ),
        (
            "sub-CA under another root",
            ic.clone(),
            ios_query(&chain_of(Variant::OtherRoot), &nonce, &sig),
            "certificate_chain_invalid",
            "ios[certificates][1]",
        ),
        (
            "leaf with a P-384 key",
            ic.clone(),
            ios_query(&chain_of(Variant::LeafP384), &nonce, &sig),
            "unsupported_key",
            "ios[certificates][0]",
        ),
        (
            "expired leaf",
            ic.clone(),
            ios_query(&chain_of(Variant::ExpiredLeaf), &nonce, &sig),
            "expired",
            "ios[certificates][0]",
        ),
        (
            "leaf without keyAgreement",
            ic.clone(),
            ios_query(&chain_of(Variant::LeafWithoutKeyAgreement), &nonce, &sig),
            "certificate_chain_invalid",
            "ios[certificates][0]",
        ),
        (
            "leaf only",
            ic.clone(),
            ios_query(&good[..1], &nonce, &sig),
            "parameter_invalid",
            "ios[certificates]",
        ),
        (
            "nonce signature too short",
            ic.clone(),
            ios_query(&good, &nonce, &[7u8; 8]),
            "parameter_invalid",
            "ios[nonce_signature]",
        ),
        (
            "nonce signature too long",
            ic.clone(),
            ios_query(&good, &nonce, &[7u8; 300]),
            "parameter_invalid",
            "ios[nonce_signature]",
        ),
        (
            "nonce too long",
            ic.clone(),
            ios_query(&good, &[1u8; 65], &sig),
            "parameter_invalid",
            "ios[nonce]",
        ),
        (
            "frozen card",
            frozen.clone(),
            ios_query(&good, &nonce, &sig),
            "card_inactive",
            "card",
        ),
        (
            "canceled card",
            canceled.clone(),
            ios_query(&good, &nonce, &sig),
            "card_canceled",
            "card",
        ),
        (
            "unknown card",
            "ic_nope".into(),
            ios_query(&good, &nonce, &sig),
            "resource_missing",
            "card",
        ),
        (
            "certificate not base64",
            ic.clone(),
            vec![
                ("ios[certificates][]".into(), "%%%".into()),
                ("ios[certificates][]".into(), B64.encode(&good[1])),
                ("ios[nonce]".into(), "0909".into()),
                ("ios[nonce_signature]".into(), "07".repeat(64)),
            ],
            "parameter_invalid",
            "ios[certificates][0]",
        ),
        (
            "nonce not hex",
            ic.clone(),
            vec![
                ("ios[certificates][]".into(), B64.encode(&good[0])),
                ("ios[certificates][]".into(), B64.encode(&good[1])),
                ("ios[nonce]".into(), "xyz".into()),
                ("ios[nonce_signature]".into(), "07".repeat(64)),
            ],
            "parameter_invalid",
            "ios[nonce]",
        ),
        (
            "garbage certificate",
            ic.clone(),
            ios_query(
                &[b"not a certificate".to_vec(), good[1].clone()],
                &nonce,
                &sig,
            ),
            "parameter_invalid",
            "ios[certificates][0]",
        ),
    ];
    for (what, card, query, want_code, want_param) in cases {
        let a = push_details(&psp, &card, &query).await;
        assert_eq!(
            (code(&a), param(&a)),
            (want_code, want_param),
            "{what}: {}",
            a.body
        );
        assert!(a.status == 400 || a.status == 404, "{what}");
        assert_eq!(mock.snapshot(PSP_TABLES), before, "{what}: nothing written");
    }
    let p384 = push_details(
        &psp,
        &ic,
        &ios_query(&chain_of(Variant::LeafP384), &nonce, &sig),
    )
    .await;
    assert!(p384.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("leaf key is not P-256"));

    // An unknown key, even with a good chain.
    let stranger = Stripe::with_key(&mock, "sk_test_unknown");
    let a = push_details(&stranger, &ic, &ios_query(&good, &nonce, &sig)).await;
    assert_eq!((a.status, code(&a)), (401, "api_key_invalid"));

    // On behalf of another cardholder (the platform's Rust API): refused as unknown.
    let other = psp.cardholder("Membre C3").await;
    let before = mock.snapshot(PSP_TABLES);
    let conn_path = mock.db_path();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut conn = rusqlite::Connection::open(conn_path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let tx = conn.transaction().unwrap();
        let r = api::apple_provisioning_for(&tx, &other, &ic, &good, &nonce, &sig, now());
        drop(tx);
        r
    })
    .await
    .unwrap();
    let e = outcome.unwrap_err();
    assert_eq!(
        (e.status.as_u16(), e.detail.param.as_deref()),
        (404, Some("card"))
    );
    assert_eq!(mock.snapshot(PSP_TABLES), before, "nothing half-created");
}

#[tokio::test(flavor = "multi_thread")]
async fn google_pay_provisioning_binding_identity_verification_and_expiry() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let ich = psp.cardholder("Membre G1").await;
    let card = psp.active_card(&ich).await;
    let ic = card["id"].as_str().unwrap();

    let first = google_push(&psp, ic, "wallet-1", "device-1").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let b = &first.body;
    assert_eq!(b["card"], ic, "the answer names its card");
    assert_eq!(b["network"], 4);
    assert_eq!(b["token_service_provider"], 4);
    assert_eq!(b["network_name"], "VISA");
    assert_eq!(b["last_digits"], card["last4"]);
    assert_eq!(b["user_address"]["country_code"], "FR");
    assert_eq!(b["user_address"]["name"], "Membre G1");
    let token = b["token"].as_str().unwrap().to_owned();
    let opc1 = b["opaque_payment_card"].as_str().unwrap().to_owned();
    let full = psp
        .ok_get(
            &format!("/v1/issuing/cards/{ic}"),
            &[("expand[]", "number")],
        )
        .await;
    let raw = B64.decode(&opc1).unwrap();
    assert!(
        !String::from_utf8_lossy(&raw).contains(full["number"].as_str().unwrap()),
        "the OPC is encrypted"
    );

    // A push that never completed: the same token, a fresh OPC.
    let second = google_push(&psp, ic, "wallet-1", "device-1").await;
    assert_eq!(second.body["token"], token.as_str());
    assert_ne!(second.body["opaque_payment_card"], opc1.as_str());
    assert_eq!(tokens(&psp, ic).await.len(), 1);

    // The network refuses an OPC presented from another device; then activates with the right one.
    let helper = format!("/v1/test_helpers/issuing/tokens/{token}/activate");
    let before = mock.snapshot(PSP_TABLES);
    let a = psp
        .post(
            &helper,
            &[
                ("opaque_payment_card", &opc1),
                ("wallet_account_id", "wallet-1"),
                ("device_id", "device-2"),
            ],
        )
        .await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (400, "binding_mismatch", "device_id")
    );
    let mut tampered = B64.decode(&opc1).unwrap();
    tampered[20] ^= 1;
    let a = psp
        .post(
            &helper,
            &[
                ("opaque_payment_card", &B64.encode(&tampered)),
                ("wallet_account_id", "wallet-1"),
                ("device_id", "device-1"),
            ],
        )
        .await;
    assert_eq!((a.status, code(&a)), (400, "decryption_failed"));
    assert_eq!(mock.snapshot(PSP_TABLES), before);
    let active = psp
        .ok_post(
            &helper,
            &[
                ("opaque_payment_card", &opc1),
                ("wallet_account_id", "wallet-1"),
                ("device_id", "device-1"),
            ],
        )
        .await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["wallet_provider"], "google_pay");
    assert_eq!(
        active["network_data"]["wallet_provider"]["account_id"],
        "wallet-1"
    );
    assert_eq!(active["device_fingerprint"], "device-1");

    // Already active on that wallet and device: do not push again.
    let before = mock.snapshot(PSP_TABLES);
    let again = google_push(&psp, ic, "wallet-1", "device-1").await;
    assert_eq!(
        (again.status, code(&again)),
        (400, "token_already_active"),
        "{}",
        again.body
    );
    assert_eq!(mock.snapshot(PSP_TABLES), before);

    // Another device: a second token; identity verification makes the app resume, not push.
    let other = google_push(&psp, ic, "wallet-1", "device-2").await;
    let token2 = other.body["token"].as_str().unwrap().to_owned();
    assert_ne!(token2, token);
    let idv = psp
        .ok_post(
            &format!("/v1/test_helpers/issuing/tokens/{token2}/require_identity_verification"),
            &[],
        )
        .await;
    assert_eq!(idv["status"], "requested");
    assert_eq!(
        idv["network_data"]["wallet_status"],
        "needs_identity_verification"
    );
    let listed = tokens(&psp, ic).await;
    assert_eq!(
        listed[0]["network_data"]["wallet_status"],
        "needs_identity_verification"
    );
    let before = mock.snapshot(PSP_TABLES);
    let again = google_push(&psp, ic, "wallet-1", "device-2").await;
    assert_eq!(
        (again.status, code(&again)),
        (400, "token_needs_identity_verification")
    );
    assert!(again.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains(&token2));
    assert_eq!(mock.snapshot(PSP_TABLES), before);

    // An expired OPC is refused by the network, with nothing changed.
    let third = google_push(&psp, ic, "wallet-2", "device-3").await;
    let token3 = third.body["token"].as_str().unwrap().to_owned();
    let opc3 = third.body["opaque_payment_card"]
        .as_str()
        .unwrap()
        .to_owned();
    mock.advance(api::OPC_TTL_SECS + 1).await;
    let before = mock.snapshot(PSP_TABLES);
    let a = psp
        .post(
            &format!("/v1/test_helpers/issuing/tokens/{token3}/activate"),
            &[
                ("opaque_payment_card", &opc3),
                ("wallet_account_id", "wallet-2"),
                ("device_id", "device-3"),
            ],
        )
        .await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (400, "expired", "opaque_payment_card"),
        "{}",
        a.body
    );
    assert_eq!(mock.snapshot(PSP_TABLES), before);

    // Bad inputs.
    let a = psp
        .post(
            &format!("/v1/issuing/cards/{ic}/google_pay_provisioning"),
            &[("device_id", "d")],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "wallet_account_id"));
    psp.set_status(ic, "inactive").await;
    let before = mock.snapshot(PSP_TABLES);
    let a = google_push(&psp, ic, "wallet-9", "device-9").await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (400, "card_inactive", "card")
    );
    assert_eq!(mock.snapshot(PSP_TABLES), before);
}

/// Loopback timing of the provisioning endpoints (client-observed, so server time plus a
/// loopback round trip). Ignored by default: `cargo test -p tierspay-tests
/// --test psp_provisioning -- --ignored --nocapture provisioning_latency`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn provisioning_latency() {
    const N: usize = 200;
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let pki = TestPki::new(now()).unwrap();
    trust_root(&psp, &pki).await;
    let ich = psp.cardholder("Membre L1").await;
    let ic = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let query = ios_query(
        &pki.chain(Variant::Good).unwrap().certificates(),
        &[1; 16],
        &[2; 64],
    );
    let summary = |name: &str, mut v: Vec<std::time::Duration>| {
        v.sort();
        let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
        println!(
            "{name}: n={} median={:?} p99={:?} max={:?}",
            v.len(),
            at(0.5),
            at(0.99),
            v[v.len() - 1]
        );
    };
    let mut apple = Vec::with_capacity(N);
    for _ in 0..N {
        let t = std::time::Instant::now();
        let a = push_details(&psp, &ic, &query).await;
        apple.push(t.elapsed());
        assert_eq!(a.status, 200);
    }
    let mut google = Vec::with_capacity(N);
    for i in 0..N {
        let device = format!("device-{i}");
        let t = std::time::Instant::now();
        let a = google_push(&psp, &ic, "wallet-l", &device).await;
        google.push(t.elapsed());
        assert_eq!(a.status, 200);
    }
    let mut card_get = Vec::with_capacity(N);
    for _ in 0..N {
        let t = std::time::Instant::now();
        let a = psp.get(&format!("/v1/issuing/cards/{ic}"), &[]).await;
        card_get.push(t.elapsed());
        assert_eq!(a.status, 200);
    }
    summary("apple push_provisioning_details", apple);
    summary("google_pay_provisioning", google);
    summary("GET card (baseline)", card_get);
}
