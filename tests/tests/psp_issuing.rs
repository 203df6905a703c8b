//! The mock PSP over its Stripe wire format: cardholders and cards (form-encoded bodies, bracket
//! notation, expand, lists, events), spending controls, Apple Pay and Google Pay provisioning
//! end to end with network tokens, and every bad input refused by name with nothing written.

// `ApiError` is large by design (a whole Stripe error document), as in the mock itself.
#![allow(clippy::result_large_err)]

use base64::Engine;
use serde_json::Value;
use tierspay_core::domain::wallet::test_pki::{TestPki, Variant};
use tierspay_core::domain::wallet::{applepay, controls};
use tierspay_server_mock::psp::{api, DEFAULT_API_KEY};
use tierspay_tests::Mock;

/// A form and the refusal it must get: status, code, param.
type FormCase<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);
/// What, which card, the query, and the refusal: code, param.
type PushCase<'a> = (&'a str, String, Vec<(String, String)>, &'a str, &'a str);

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Every PSP table: a refused request must leave all of them as they were.
const PSP_TABLES: &[&str] = &[
    "psp_cardholders",
    "psp_cards",
    "psp_tokens",
    "psp_events",
    "psp_settings",
];

/// Raw Stripe-style calls with a secret key.
struct Stripe<'a> {
    mock: &'a Mock,
    key: String,
}

struct Answer {
    status: u16,
    body: Value,
    replayed: bool,
}

impl<'a> Stripe<'a> {
    fn new(mock: &'a Mock) -> Self {
        Self {
            mock,
            key: DEFAULT_API_KEY.into(),
        }
    }

    fn with_key(mock: &'a Mock, key: &str) -> Self {
        Self {
            mock,
            key: key.into(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let body = response.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            body,
            replayed,
        }
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.send(
            self.mock
                .http
                .post(format!("{}{path}", self.mock.url))
                .form(form),
        )
        .await
    }

    async fn post_idempotent(&self, path: &str, form: &[(&str, &str)], key: &str) -> Answer {
        self.send(
            self.mock
                .http
                .post(format!("{}{path}", self.mock.url))
                .header("idempotency-key", key)
                .form(form),
        )
        .await
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        self.send(
            self.mock
                .http
                .get(format!("{}{path}", self.mock.url))
                .query(query),
        )
        .await
    }

    async fn ok_post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let a = self.post(path, form).await;
        assert_eq!(a.status, 200, "POST {path}: {}", a.body);
        a.body
    }

    async fn ok_get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let a = self.get(path, query).await;
        assert_eq!(a.status, 200, "GET {path}: {}", a.body);
        a.body
    }

    async fn cardholder(&self, name: &str) -> String {
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

    async fn active_card(&self, cardholder: &str) -> Value {
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

    async fn set_status(&self, card: &str, status: &str) -> Value {
        self.ok_post(&format!("/v1/issuing/cards/{card}"), &[("status", status)])
            .await
    }
}

fn code(a: &Answer) -> &str {
    a.body["error"]["code"].as_str().unwrap_or_default()
}

fn param(a: &Answer) -> &str {
    a.body["error"]["param"].as_str().unwrap_or_default()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn trust_root(psp: &Stripe<'_>, pki: &TestPki) {
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
fn ios_query(certs: &[Vec<u8>], nonce: &[u8], signature: &[u8]) -> Vec<(String, String)> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut q: Vec<(String, String)> = certs
        .iter()
        .map(|c| ("ios[certificates][]".to_owned(), B64.encode(c)))
        .collect();
    q.push(("ios[nonce]".into(), hex(nonce)));
    q.push(("ios[nonce_signature]".into(), hex(signature)));
    q
}

async fn push_details(psp: &Stripe<'_>, card: &str, query: &[(String, String)]) -> Answer {
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

async fn google_push(psp: &Stripe<'_>, card: &str, wallet: &str, device: &str) -> Answer {
    psp.post(
        &format!("/v1/issuing/cards/{card}/google_pay_provisioning"),
        &[("wallet_account_id", wallet), ("device_id", device)],
    )
    .await
}

async fn tokens(psp: &Stripe<'_>, card: &str) -> Vec<Value> {
    psp.ok_get("/v1/issuing/tokens", &[("card", card)]).await["data"]
        .as_array()
        .unwrap()
        .clone()
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn cardholders_and_cards_over_form_encoded_http_with_expand_lists_and_events() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);

    let holder = psp
        .ok_post(
            "/v1/issuing/cardholders",
            &[
                ("name", "Membre 7F3A"),
                ("email", "m7f3a@example.invalid"),
                ("billing[address][line1]", "1 rue de la Paix"),
                ("billing[address][city]", "Paris"),
                ("billing[address][postal_code]", "75002"),
                ("billing[address][country]", "FR"),
                ("metadata[member_ref_hash]", "h-123"),
                ("metadata[tier]", "gold"),
            ],
        )
        .await;
    let ich = holder["id"].as_str().unwrap().to_owned();
    assert!(ich.starts_with("ich_"));
    assert_eq!(holder["object"], "issuing.cardholder");
    assert_eq!(holder["livemode"], false);
    assert_eq!(holder["type"], "individual");
    assert_eq!(holder["status"], "active");
    assert_eq!(holder["billing"]["address"]["city"], "Paris");
    assert_eq!(holder["metadata"]["tier"], "gold");

    // Update: remove a metadata key with an empty value, change the email.
    let updated = psp
        .ok_post(
            &format!("/v1/issuing/cardholders/{ich}"),
            &[("metadata[tier]", ""), ("email", "other@example.invalid")],
        )
        .await;
    assert!(updated["metadata"].get("tier").is_none());
    assert_eq!(updated["metadata"]["member_ref_hash"], "h-123");
    assert_eq!(
        psp.ok_get(&format!("/v1/issuing/cardholders/{ich}"), &[])
            .await,
        updated
    );

    // Cards: both list notations (indexed and []), limits as a list of hashes.
    let card = psp
        .ok_post(
            "/v1/issuing/cards",
            &[
                ("cardholder", &ich),
                ("currency", "eur"),
                ("type", "virtual"),
                ("spending_controls[allowed_categories][]", "doctors"),
                ("spending_controls[allowed_categories][]", "hospitals"),
                ("spending_controls[allowed_merchant_countries][0]", "FR"),
                ("spending_controls[spending_limits][0][amount]", "150000"),
                (
                    "spending_controls[spending_limits][0][interval]",
                    "per_authorization",
                ),
                ("spending_controls[spending_limits][1][amount]", "20000"),
                ("spending_controls[spending_limits][1][interval]", "daily"),
                (
                    "spending_controls[spending_limits][1][categories][0]",
                    "doctors",
                ),
                ("metadata[purpose]", "health"),
                ("expand[]", "cardholder"),
            ],
        )
        .await;
    let ic = card["id"].as_str().unwrap().to_owned();
    assert!(ic.starts_with("ic_"));
    assert_eq!(card["object"], "issuing.card");
    assert_eq!(card["status"], "inactive", "Stripe's default status");
    assert_eq!(card["brand"], "Visa");
    assert_eq!(card["currency"], "eur");
    assert_eq!(card["type"], "virtual");
    assert_eq!(card["cardholder"]["id"], ich, "expanded");
    assert_eq!(card["last4"].as_str().unwrap().len(), 4);
    assert!(card.get("number").is_none() && card.get("cvc").is_none());
    let sc = &card["spending_controls"];
    assert_eq!(
        sc["allowed_categories"],
        serde_json::json!(["doctors", "hospitals"])
    );
    assert_eq!(sc["blocked_categories"], Value::Null);
    assert_eq!(sc["allowed_merchant_countries"], serde_json::json!(["FR"]));
    assert_eq!(
        sc["spending_limits"][1]["categories"],
        serde_json::json!(["doctors"])
    );
    assert_eq!(sc["spending_limits"][0]["amount"], 150000);
    assert_eq!(card["wallets"]["apple_pay"]["eligible"], true);
    assert_eq!(card["wallets"]["primary_account_identifier"], Value::Null);

    // Retrieve: the cardholder is an id unless expanded; number and cvc only on request.
    let plain = psp.ok_get(&format!("/v1/issuing/cards/{ic}"), &[]).await;
    assert_eq!(plain["cardholder"], ich.as_str());
    let full = psp
        .ok_get(
            &format!("/v1/issuing/cards/{ic}"),
            &[
                ("expand[0]", "number"),
                ("expand[1]", "cvc"),
                ("expand[2]", "cardholder"),
            ],
        )
        .await;
    let number = full["number"].as_str().unwrap();
    assert_eq!(number.len(), 16);
    assert!(number.ends_with(card["last4"].as_str().unwrap()));
    assert!(tierspay_core::domain::wallet::pan::luhn_valid(number));
    assert_eq!(full["cvc"].as_str().unwrap().len(), 3);
    assert_eq!(full["cardholder"]["name"], "Membre 7F3A");

    // Lists: newest first, limit, has_more, starting_after, ending_before, filters.
    let mut ids = vec![ic.clone()];
    for _ in 0..3 {
        ids.push(
            psp.active_card(&ich).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let page1 = psp
        .ok_get("/v1/issuing/cards", &[("limit", "2"), ("cardholder", &ich)])
        .await;
    assert_eq!(page1["object"], "list");
    assert_eq!(page1["url"], "/v1/issuing/cards");
    assert_eq!(page1["has_more"], true);
    let got: Vec<&str> = page1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[3].as_str(), ids[2].as_str()]);
    let page2 = psp
        .ok_get(
            "/v1/issuing/cards",
            &[
                ("limit", "2"),
                ("cardholder", &ich),
                ("starting_after", got[1]),
            ],
        )
        .await;
    let got2: Vec<&str> = page2["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(got2, vec![ids[1].as_str(), ids[0].as_str()]);
    assert_eq!(page2["has_more"], false);
    let back = psp
        .ok_get(
            "/v1/issuing/cards",
            &[
                ("limit", "1"),
                ("cardholder", &ich),
                ("ending_before", &ids[1]),
            ],
        )
        .await;
    assert_eq!(back["data"][0]["id"], ids[2].as_str());
    assert_eq!(back["has_more"], true);
    let active = psp
        .ok_get(
            "/v1/issuing/cards",
            &[("status", "active"), ("cardholder", &ich)],
        )
        .await;
    assert_eq!(active["data"].as_array().unwrap().len(), 3);
    let expanded = psp
        .ok_get(
            "/v1/issuing/cards",
            &[("limit", "1"), ("expand[]", "data.cardholder")],
        )
        .await;
    assert_eq!(
        expanded["data"][0]["cardholder"]["object"],
        "issuing.cardholder"
    );
    let holders = psp
        .ok_get(
            "/v1/issuing/cardholders",
            &[("email", "other@example.invalid")],
        )
        .await;
    assert_eq!(holders["data"].as_array().unwrap().len(), 1);

    // Status: activate, freeze, cancel (final).
    assert_eq!(psp.set_status(&ic, "active").await["status"], "active");
    assert_eq!(psp.set_status(&ic, "inactive").await["status"], "inactive");
    let canceled = psp
        .ok_post(
            &format!("/v1/issuing/cards/{ic}"),
            &[("status", "canceled"), ("cancellation_reason", "lost")],
        )
        .await;
    assert_eq!(canceled["cancellation_reason"], "lost");
    assert_eq!(canceled["wallets"]["apple_pay"]["eligible"], false);
    let again = psp
        .post(&format!("/v1/issuing/cards/{ic}"), &[("status", "active")])
        .await;
    assert_eq!((again.status, code(&again)), (400, "card_canceled"));

    // Events: created and updated, with previous attributes; filter by type, with a wildcard.
    let events = psp
        .ok_get(
            "/v1/events",
            &[("type", "issuing_card.updated"), ("limit", "100")],
        )
        .await;
    let data = events["data"].as_array().unwrap();
    assert!(data
        .iter()
        .all(|e| e["type"] == "issuing_card.updated" && e["object"] == "event"));
    let cancel_event = &data[0];
    assert_eq!(cancel_event["data"]["object"]["id"], ic.as_str());
    assert_eq!(cancel_event["data"]["object"]["status"], "canceled");
    assert_eq!(
        cancel_event["data"]["previous_attributes"]["status"],
        "inactive"
    );
    assert!(
        cancel_event["data"]["object"].get("number").is_none(),
        "events never carry the number"
    );
    let created = psp
        .ok_get(
            "/v1/events",
            &[("type", "issuing_card.created"), ("limit", "100")],
        )
        .await;
    assert_eq!(created["data"].as_array().unwrap().len(), 4);
    let holder_events = psp
        .ok_get("/v1/events", &[("type", "issuing_cardholder.*")])
        .await;
    let types: Vec<&str> = holder_events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["issuing_cardholder.updated", "issuing_cardholder.created"]
    );
    let one = psp
        .ok_get(
            &format!("/v1/events/{}", data[0]["id"].as_str().unwrap()),
            &[],
        )
        .await;
    assert_eq!(one["id"], data[0]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_parameters_and_keys_are_refused_by_name_and_change_nothing() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let ich = psp.cardholder("Membre 0001").await;
    let ic = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = mock.snapshot(PSP_TABLES);

    let card = |extra: &'static [(&'static str, &'static str)]| {
        let mut form: Vec<(&str, &str)> =
            vec![("cardholder", ""), ("currency", "eur"), ("type", "virtual")];
        form.extend_from_slice(extra);
        form
    };
    let cases: Vec<FormCase> = vec![
        (
            card(&[
                ("spending_controls[allowed_categories][0]", "doctors"),
                ("spending_controls[allowed_categories][1]", "spas"),
            ]),
            400,
            "parameter_invalid",
            "spending_controls[allowed_categories][1]",
        ),
        (
            card(&[
                ("spending_controls[allowed_categories][0]", "doctors"),
                ("spending_controls[blocked_categories][0]", "bars"),
            ]),
            400,
            "parameter_invalid",
            "spending_controls[blocked_categories][0]",
        ),
        (
            card(&[
                ("spending_controls[allowed_categories][0]", "doctors"),
                (
                    "spending_controls[blocked_categories][0]",
                    "health_and_beauty_spas",
                ),
            ]),
            400,
            "parameter_invalid",
            "spending_controls[blocked_categories]",
        ),
        (
            card(&[
                ("spending_controls[spending_limits][0][amount]", "100"),
                ("spending_controls[spending_limits][0][interval]", "hourly"),
            ]),
            400,
            "parameter_invalid",
            "spending_controls[spending_limits][0][interval]",
        ),
        (
            card(&[
                ("spending_controls[spending_limits][0][amount]", "-5"),
                ("spending_controls[spending_limits][0][interval]", "daily"),
            ]),
            400,
            "parameter_invalid",
            "spending_controls[spending_limits][0][amount]",
        ),
        (
            card(&[("spending_controls[spending_limits][0][interval]", "daily")]),
            400,
            "parameter_invalid",
            "spending_controls[spending_limits][0][amount]",
        ),
        (
            card(&[("spending_controls[allowed_merchant_countries][0]", "France")]),
            400,
            "parameter_invalid",
            "spending_controls[allowed_merchant_countries][0]",
        ),
        (
            card(&[("spending_controls[velocity]", "3")]),
            400,
            "parameter_unknown",
            "spending_controls[velocity]",
        ),
        (
            card(&[("colour", "blue")]),
            400,
            "parameter_unknown",
            "colour",
        ),
        (
            card(&[("expand[]", "transactions")]),
            400,
            "parameter_invalid",
            "expand",
        ),
        (
            vec![
                ("cardholder", "ich_nope"),
                ("currency", "eur"),
                ("type", "virtual"),
            ],
            404,
            "resource_missing",
            "cardholder",
        ),
        (
            vec![("currency", "eur"), ("type", "virtual")],
            400,
            "parameter_invalid",
            "cardholder",
        ),
        (
            vec![
                ("cardholder", "x"),
                ("currency", "usd"),
                ("type", "virtual"),
            ],
            400,
            "parameter_invalid",
            "currency",
        ),
        (
            vec![
                ("cardholder", "x"),
                ("currency", "eur"),
                ("type", "physical"),
            ],
            400,
            "parameter_invalid",
            "type",
        ),
        (
            vec![
                ("cardholder", "x"),
                ("currency", "eur"),
                ("type", "virtual"),
                ("status", "frozen"),
            ],
            400,
            "parameter_invalid",
            "status",
        ),
    ];
    for (mut form, status, want_code, want_param) in cases {
        if let Some(slot) = form
            .iter_mut()
            .find(|(k, v)| *k == "cardholder" && v.is_empty())
        {
            slot.1 = &ich;
        }
        let a = psp.post("/v1/issuing/cards", &form).await;
        assert_eq!(
            (a.status, code(&a), param(&a)),
            (status, want_code, want_param),
            "{form:?}: {}",
            a.body
        );
        assert_eq!(a.body["error"]["type"], "invalid_request_error");
    }

    let holder_cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("billing[address][line1]", "x"),
                ("billing[address][city]", "Paris"),
                ("billing[address][postal_code]", "1"),
                ("billing[address][country]", "FR"),
            ],
            "name",
        ),
        (
            vec![
                ("name", "A"),
                ("billing[address][city]", "Paris"),
                ("billing[address][postal_code]", "1"),
                ("billing[address][country]", "FR"),
            ],
            "billing[address][line1]",
        ),
        (
            vec![
                ("name", "A"),
                ("billing[address][line1]", "x"),
                ("billing[address][city]", "Paris"),
                ("billing[address][postal_code]", "1"),
                ("billing[address][country]", "fra"),
            ],
            "billing[address][country]",
        ),
        (vec![("name", "A")], "billing"),
        (
            vec![
                ("name", "A name far too long for a card, surely"),
                ("billing[address][line1]", "x"),
            ],
            "name",
        ),
        (
            vec![
                ("name", "A"),
                ("email", "nope"),
                ("billing[address][line1]", "x"),
            ],
            "email",
        ),
        (
            vec![
                ("name", "A"),
                ("phone_number", "0612"),
                ("billing[address][line1]", "x"),
            ],
            "phone_number",
        ),
    ];
    for (form, want_param) in holder_cases {
        let a = psp.post("/v1/issuing/cardholders", &form).await;
        assert_eq!(
            (a.status, param(&a)),
            (400, want_param),
            "{form:?}: {}",
            a.body
        );
    }

    let a = psp.get("/v1/issuing/cards", &[("limit", "0")]).await;
    assert_eq!((a.status, param(&a)), (400, "limit"));
    let a = psp.get("/v1/issuing/cards", &[("limit", "101")]).await;
    assert_eq!((a.status, param(&a)), (400, "limit"));
    let a = psp
        .get("/v1/issuing/cards", &[("starting_after", "ic_unknown")])
        .await;
    assert_eq!((a.status, param(&a)), (400, "starting_after"));
    let a = psp.get("/v1/issuing/cards/ic_unknown", &[]).await;
    assert_eq!(
        (a.status, code(&a), param(&a)),
        (404, "resource_missing", "id")
    );
    let a = psp.get("/v1/issuing/tokens", &[]).await;
    assert_eq!((a.status, param(&a)), (400, "card"));
    let a = psp
        .post(
            &format!("/v1/issuing/cards/{ic}"),
            &[("cancellation_reason", "lost")],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "cancellation_reason"));
    let a = psp
        .post(
            &format!("/v1/issuing/cards/{ic}"),
            &[("spending_controls[allowed_categories][0]", "bars_nope")],
        )
        .await;
    assert_eq!(
        (a.status, param(&a)),
        (400, "spending_controls[allowed_categories][0]")
    );
    // Adding blocked categories to a card that allows some: exclusive.
    let a = psp
        .post(
            &format!("/v1/issuing/cards/{ic}"),
            &[("spending_controls[blocked_categories][0]", "bakeries")],
        )
        .await;
    assert_eq!(
        (a.status, param(&a)),
        (400, "spending_controls[blocked_categories]")
    );
    // JSON is not Stripe's format.
    let r = mock
        .http
        .post(format!("{}/v1/issuing/cardholders", mock.url))
        .bearer_auth(DEFAULT_API_KEY)
        .json(&serde_json::json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Keys: unknown, missing, or not a secret key.
    let stranger = Stripe::with_key(&mock, "sk_test_somebody_else_1234");
    let a = stranger
        .post("/v1/issuing/cardholders", &[("name", "x")])
        .await;
    assert_eq!((a.status, code(&a)), (401, "api_key_invalid"));
    assert!(
        !a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("somebody"),
        "the key is masked"
    );
    let a = stranger
        .get(
            &format!("/v1/issuing/cards/{ic}"),
            &[("expand[]", "number")],
        )
        .await;
    assert_eq!(a.status, 401);
    let r = mock
        .http
        .get(format!("{}/v1/issuing/cards", mock.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    assert_eq!(
        mock.snapshot(PSP_TABLES),
        before,
        "refused requests changed nothing"
    );
}

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

#[tokio::test(flavor = "multi_thread")]
async fn freezing_suspends_tokens_unfreezing_resumes_them_and_canceling_deletes_them() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let ich = psp.cardholder("Membre F1").await;
    let ic = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for device in ["d1", "d2"] {
        let push = google_push(&psp, &ic, "w", device).await;
        let id = push.body["token"].as_str().unwrap().to_owned();
        let opc = push.body["opaque_payment_card"]
            .as_str()
            .unwrap()
            .to_owned();
        psp.ok_post(
            &format!("/v1/test_helpers/issuing/tokens/{id}/activate"),
            &[
                ("opaque_payment_card", &opc),
                ("wallet_account_id", "w"),
                ("device_id", device),
            ],
        )
        .await;
        ids.push(id);
    }
    let requested = google_push(&psp, &ic, "w", "d3").await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The member suspended the d2 token themselves: unfreezing must not resume it.
    let s = psp
        .ok_post(
            &format!("/v1/issuing/tokens/{}", ids[1]),
            &[("status", "suspended")],
        )
        .await;
    assert_eq!(s["status"], "suspended");

    let status_of = |list: &[Value], id: &str| {
        list.iter().find(|t| t["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    psp.set_status(&ic, "inactive").await;
    let list = tokens(&psp, &ic).await;
    assert_eq!(status_of(&list, &ids[0]), "suspended");
    assert_eq!(status_of(&list, &ids[1]), "suspended");
    assert_eq!(status_of(&list, &requested), "requested");
    // A token of a frozen card cannot be resumed on its own.
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{}", ids[0]),
            &[("status", "active")],
        )
        .await;
    assert_eq!((a.status, code(&a)), (400, "card_inactive"));

    psp.set_status(&ic, "active").await;
    let list = tokens(&psp, &ic).await;
    assert_eq!(status_of(&list, &ids[0]), "active");
    assert_eq!(status_of(&list, &ids[1]), "suspended");
    let events = psp
        .ok_get(
            "/v1/events",
            &[("type", "issuing_token.updated"), ("limit", "100")],
        )
        .await;
    assert!(events["data"].as_array().unwrap().len() >= 4);

    // Token rules: a requested token is not activated by the API; deleted is final.
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{requested}"),
            &[("status", "active")],
        )
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "token_status_transition_invalid")
    );
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{}", ids[0]),
            &[("status", "requested")],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "status"));

    psp.set_status(&ic, "canceled").await;
    let list = tokens(&psp, &ic).await;
    assert!(list.iter().all(|t| t["status"] == "deleted"), "{list:?}");
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{}", ids[0]),
            &[("status", "active")],
        )
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "token_status_transition_invalid")
    );
    let deleted = psp
        .ok_get(
            "/v1/issuing/tokens",
            &[("card", &ic), ("status", "deleted")],
        )
        .await;
    assert_eq!(deleted["data"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn form_posts_are_idempotent() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let form = [
        ("name", "Membre I1"),
        ("billing[address][line1]", "1 rue de la Paix"),
        ("billing[address][city]", "Paris"),
        ("billing[address][postal_code]", "75002"),
        ("billing[address][country]", "FR"),
    ];
    let first = psp
        .post_idempotent("/v1/issuing/cardholders", &form, "idem-1")
        .await;
    assert_eq!(first.status, 200);
    assert!(!first.replayed);
    let second = psp
        .post_idempotent("/v1/issuing/cardholders", &form, "idem-1")
        .await;
    assert!(second.replayed);
    assert_eq!(second.body, first.body);
    let other = psp
        .post_idempotent("/v1/issuing/cardholders", &form[..4], "idem-1")
        .await;
    assert_eq!(
        (other.status, other.body["error"]["type"].as_str().unwrap()),
        (400, "idempotency_error")
    );
    let list = psp.ok_get("/v1/issuing/cardholders", &[]).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let created = psp
        .ok_get("/v1/events", &[("type", "issuing_cardholder.created")])
        .await;
    assert_eq!(created["data"][0]["request"]["idempotency_key"], "idem-1");

    // A refused card creation (bad parameters) is not stored: the fixed retry succeeds.
    let ich = first.body["id"].as_str().unwrap();
    let bad = psp
        .post_idempotent(
            "/v1/issuing/cards",
            &[
                ("cardholder", ich),
                ("currency", "usd"),
                ("type", "virtual"),
            ],
            "idem-2",
        )
        .await;
    assert_eq!(bad.status, 400);
    let retry = psp
        .post_idempotent(
            "/v1/issuing/cards",
            &[
                ("cardholder", ich),
                ("currency", "usd"),
                ("type", "virtual"),
            ],
            "idem-2",
        )
        .await;
    assert!(!retry.replayed);
    // A provisioning refusal is a business answer: replayed.
    let card = psp.active_card(ich).await;
    let ic = card["id"].as_str().unwrap();
    psp.set_status(ic, "inactive").await;
    let path = format!("/v1/issuing/cards/{ic}/google_pay_provisioning");
    let r1 = psp
        .post_idempotent(
            &path,
            &[("wallet_account_id", "w"), ("device_id", "d")],
            "idem-3",
        )
        .await;
    assert_eq!(code(&r1), "card_inactive");
    psp.set_status(ic, "active").await;
    let r2 = psp
        .post_idempotent(
            &path,
            &[("wallet_account_id", "w"), ("device_id", "d")],
            "idem-3",
        )
        .await;
    assert!(r2.replayed);
    assert_eq!(code(&r2), "card_inactive");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_platform_rust_api_works_inside_its_own_transactions() {
    let mock = Mock::start().await;
    let path = mock.db_path();
    let t = now();
    let pki = TestPki::new(t).unwrap();
    let root = pki.root_der();
    let chain = pki.chain(Variant::Good).unwrap();
    let certs = chain.certificates();
    let (card_id, holder, apple) = tokio::task::spawn_blocking(move || {
        let mut conn = rusqlite::Connection::open(path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .unwrap();
        let tx = conn.transaction().unwrap();
        let holder = api::create_cardholder(&tx, "Membre P1", "hash-of-member-1", t).unwrap();
        assert_eq!(
            api::create_cardholder(&tx, "Membre P1", "hash-of-member-1", t).unwrap(),
            holder,
            "one per member"
        );
        assert_eq!(
            api::cardholder_by_member_ref_hash(&tx, "hash-of-member-1")
                .unwrap()
                .as_deref(),
            Some(holder.as_str())
        );
        let card = api::issue_healthcare_card(&tx, &holder, t).unwrap();
        assert_eq!(card.status, "active");
        assert_eq!(card.brand, "Visa");
        assert!(card.apple_pay_eligible && card.google_pay_eligible);
        let allowed = card.spending_controls.allowed_categories.clone().unwrap();
        assert_eq!(allowed.len(), 14);
        assert!(allowed.iter().all(|c| controls::mcc(c).is_some()));
        assert!(!allowed.iter().any(|c| c == "health_and_beauty_spas"));
        assert_eq!(
            card.spending_controls.allowed_merchant_countries,
            Some(vec!["FR".to_owned()])
        );
        let limits: Vec<(i64, &str)> = card
            .spending_controls
            .spending_limits
            .iter()
            .map(|l| (l.amount, l.interval.as_str()))
            .collect();
        assert_eq!(
            limits,
            vec![(150_000, "per_authorization"), (300_000, "daily")]
        );
        serde_json::to_value(&card).unwrap();

        let secret = api::reveal(&tx, &card.id).unwrap();
        assert!(secret.number.ends_with(&card.last4));
        assert_eq!(
            (secret.exp_month, secret.exp_year),
            (card.exp_month, card.exp_year)
        );
        api::set_apple_root(&tx, &root, t).unwrap();
        let apple = api::apple_provisioning(&tx, &card.id, &certs, b"nonce", &[1; 32], t).unwrap();
        let google = api::google_provisioning(&tx, &card.id, "w", "d", t).unwrap();
        assert_eq!((google.network, google.tsp), (4, 4));
        assert_eq!(google.last_digits, card.last4);
        let list = api::tokens(&tx, &card.id).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].wallet_provider, "google_pay");
        assert_eq!(list[0].device_id.as_deref(), Some("d"));
        assert_ne!(list[1].last4, card.last4);
        let frozen = api::set_card_status(&tx, &card.id, "inactive", t).unwrap();
        assert_eq!(frozen.status, "inactive");
        assert!(api::apple_provisioning(&tx, &card.id, &certs, b"n", &[1; 32], t).is_err());
        assert_eq!(
            api::set_card_status(&tx, &card.id, "canceled", t)
                .unwrap_err()
                .detail
                .param
                .as_deref(),
            Some("status")
        );
        api::set_card_status(&tx, &card.id, "active", t).unwrap();
        api::ensure_card_of(&tx, &card.id, &holder).unwrap();
        assert!(api::ensure_card_of(&tx, &card.id, "ich_other").is_err());
        assert_eq!(api::cards_of_cardholder(&tx, &holder).unwrap().len(), 1);
        tx.commit().unwrap();
        (card.id, holder, apple)
    })
    .await
    .unwrap();

    // What the platform wrote is what the HTTP side serves.
    let psp = Stripe::new(&mock);
    let card = psp
        .ok_get(
            &format!("/v1/issuing/cards/{card_id}"),
            &[("expand[]", "cardholder")],
        )
        .await;
    assert_eq!(card["cardholder"]["id"], holder.as_str());
    assert_eq!(
        card["cardholder"]["metadata"]["member_ref_hash"],
        "hash-of-member-1"
    );
    assert_eq!(card["cardholder"]["email"], Value::Null, "pseudonymous");
    let leaf: [u8; 32] = chain.leaf_private_key.clone().try_into().unwrap();
    let plain = applepay::decrypt_pass_data(
        &leaf,
        &B64.decode(&apple.ephemeral_public_key).unwrap(),
        &B64.decode(&apple.contents).unwrap(),
    )
    .unwrap();
    let pass: applepay::PassPlaintext = serde_json::from_slice(&plain).unwrap();
    assert_eq!(pass.name, "Membre P1");
}

/// Loopback timing of the provisioning endpoints (client-observed, so server time plus a
/// loopback round trip). Ignored by default: `cargo test -p tierspay-tests --test psp_issuing
/// -- --ignored --nocapture provisioning_latency`.
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
