//! The trusted Apple root from `TIERSPAY_APPLE_ROOT` (a PEM file here), without the test helper.
//! Its own test binary: the variable is read once per process.

use base64::Engine;
use tierspay_server_mock::psp::DEFAULT_API_KEY;
use tierspay_tests::Mock;
use tierspay_wallet::applepay;
use tierspay_wallet::test_pki::{TestPki, Variant};

#[tokio::test(flavor = "multi_thread")]
async fn the_apple_root_comes_from_the_environment_and_is_kept() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let pki = TestPki::new(now).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("apple-root.pem");
    std::fs::write(&pem, pki.root_pem()).unwrap();
    std::env::set_var("TIERSPAY_APPLE_ROOT", &pem);

    let mut mock = Mock::start().await;
    let http = &mock.http;
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        http.post(format!("{}{path}", mock.url))
            .bearer_auth(DEFAULT_API_KEY)
            .form(&form)
            .send()
    };
    let holder: serde_json::Value = post(
        "/v1/issuing/cardholders",
        vec![
            ("name", "Membre E1".into()),
            ("billing[address][line1]", "1 rue de la Paix".into()),
            ("billing[address][city]", "Paris".into()),
            ("billing[address][postal_code]", "75002".into()),
            ("billing[address][country]", "FR".into()),
        ],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let card: serde_json::Value = post(
        "/v1/issuing/cards",
        vec![
            ("cardholder", holder["id"].as_str().unwrap().to_owned()),
            ("currency", "eur".into()),
            ("type", "virtual".into()),
            ("status", "active".into()),
        ],
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let ic = card["id"].as_str().unwrap().to_owned();

    let b64 = base64::engine::general_purpose::STANDARD;
    let chain = pki.chain(Variant::Good).unwrap();
    let (status, body) = provision(&mock.url, &ic, &chain.certificates()).await;
    assert_eq!(status, 200, "{body}");
    let leaf: [u8; 32] = chain.leaf_private_key.clone().try_into().unwrap();
    let plain = applepay::decrypt_pass_data(
        &leaf,
        &b64.decode(body["ephemeral_public_key"].as_str().unwrap())
            .unwrap(),
        &b64.decode(body["contents"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(String::from_utf8(plain)
        .unwrap()
        .contains("\"nonce\":\"0a0b\""));

    let stored = mock.snapshot(&["psp_settings"]);
    assert!(
        stored.contains("apple_root") && stored.contains("Text(\"env\")"),
        "{stored}"
    );
    mock.restart().await;
    let (status, _) = provision(&mock.url, &ic, &chain.certificates()).await;
    assert_eq!(status, 200);
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

async fn provision(url: &str, ic: &str, certs: &[Vec<u8>]) -> (u16, serde_json::Value) {
    let mut q: Vec<(&str, String)> = certs
        .iter()
        .map(|c| ("ios[certificates][]", B64.encode(c)))
        .collect();
    q.push(("ios[nonce]", "0a0b".into()));
    q.push(("ios[nonce_signature]", "11".repeat(32)));
    let r = reqwest::Client::new()
        .get(format!(
            "{url}/v1/issuing/cards/{ic}/push_provisioning_details"
        ))
        .bearer_auth(DEFAULT_API_KEY)
        .query(&q)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}
