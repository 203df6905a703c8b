//! The mock PSP's cardholders and cards over its Stripe wire format: form-encoded bodies,
//! bracket notation, expand, lists and paging, the events they emit, spending controls,
//! idempotent posts, and every bad parameter or key refused by name with nothing written.

use serde_json::Value;
use tierspay_server_mock::psp::DEFAULT_API_KEY;
use tierspay_tests::stripe::{code, param, PSP_TABLES};
use tierspay_tests::{Mock, Stripe};

/// A form and the refusal it must get: status, code, param.
type FormCase<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);

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

    // Retrieve: the cardholder is embedded, as Stripe does; number and cvc only on request.
    let plain = psp.ok_get(&format!("/v1/issuing/cards/{ic}"), &[]).await;
    assert_eq!(plain["cardholder"]["id"], ich.as_str());
    assert_eq!(plain["cardholder"]["object"], "issuing.cardholder");
    assert!(plain.get("number").is_none() && plain.get("cvc").is_none());
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
    assert!(tierspay_wallet::pan::luhn_valid(number));
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
