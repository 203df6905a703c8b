//! Arrears invoices on the platform's side, through HTTP against the in-process mock: a visit's
//! remainder that the member's card no longer covers becomes a finalized PSP invoice in the
//! settlement's transaction; the insurer reports premium arrears with its secret key (and the
//! test helper makes many at once); the member reads their own invoices, never another's; the
//! insurer follows an invoice at the PSP long after, by id and events.

use serde_json::{json, Value};
use tierspay_core::domain::rf_reference::RfReference;
use tierspay_tests::visits::{
    arm_visit, capture, card_of, network_id, provider, save_card, start, tap, visit_until, Member,
};
use tierspay_tests::{Mock, RawDevice, Stripe, DEMO_CONTRACT};

const DAY: i64 = 86_400;

/// The insurer's back office: the mock's secret key, JSON body.
async fn insurer_post(mock: &Mock, path: &str, body: Value, key: Option<&str>) -> (u16, Value) {
    let mut request = mock.http.post(format!("{}{path}", mock.url)).json(&body);
    request = request.bearer_auth("sk_test_tierspay");
    if let Some(k) = key {
        request = request.header("idempotency-key", k);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The demo contract's id, as the member's profile names it.
async fn contract_id(mock: &Mock, device: &RawDevice) -> String {
    let (status, me) = device.send(mock, "GET", "/v1/me", None).await;
    assert_eq!(status, 200, "{me}");
    me["contract"]["id"]
        .as_str()
        .expect("a contract id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_remainder_the_card_no_longer_covers_is_invoiced_to_the_member() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let (status, saved) = save_card(&mock, &member.device, "4242424242424242").await;
    assert_eq!(status, 200, "{saved}");
    let gp = provider(&mock, &member.device, "Médecin généraliste").await;
    let card = card_of(&mock, &member.device).await;
    let visit = arm_visit(&mock, &member, "Camille", &gp, "G", 3000).await;
    let id = visit["id"].as_str().unwrap();
    let pi = visit["payment_intent"].as_str().unwrap();
    let auth = tap(&mock, &card, 3000, &network_id(&mock, &gp), &[]).await;
    assert_eq!(auth["approved"], true, "{auth}");
    // The hold lapses before the terminal captures.
    let psp = Stripe::new(&mock);
    psp.ok_post(&format!("/v1/payment_intents/{pi}/cancel"), &[])
        .await;
    capture(&mock, &auth).await;
    let paid = visit_until(&mock, &member.device, id, |v| v["status"] == "paid").await;
    assert_eq!(paid["settlement"]["arrears"], 200, "{paid}");

    let (status, list) = member
        .device
        .send(&mock, "GET", "/v1/me/invoices", None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["object"], "list");
    let inv = &list["data"][0];
    assert_eq!(
        (
            &inv["object"],
            &inv["status"],
            &inv["source"],
            &inv["visit_id"]
        ),
        (
            &json!("member_invoice"),
            &json!("open"),
            &json!("visit"),
            &json!(id)
        ),
        "{inv}"
    );
    assert_eq!(
        (
            &inv["amount_due"],
            &inv["amount_remaining"],
            &inv["currency"]
        ),
        (&json!(200), &json!(200), &json!("eur"))
    );
    assert!(RfReference::parse(inv["rf_reference"].as_str().unwrap()).is_ok());
    assert!(inv["due_date"].as_i64().unwrap() >= inv["created"].as_i64().unwrap() + 30 * DAY);
    let invoice_id = inv["id"].as_str().unwrap();
    // The PSP's invoice: finalized, for the member's customer, the platform's ids in metadata.
    let at_psp = psp.ok_get(&format!("/v1/invoices/{invoice_id}"), &[]).await;
    assert_eq!(
        (&at_psp["status"], &at_psp["metadata"]["tierspay_visit"]),
        (&json!("open"), &json!(id))
    );
    assert_eq!(at_psp["lines"]["data"][0]["amount"], 200);
    let (_, one) = member
        .device
        .send(&mock, "GET", &format!("/v1/me/invoices/{invoice_id}"), None)
        .await;
    assert_eq!(one["id"], invoice_id);
    // Settled again (an event delivered twice): still one invoice.
    let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM platform_invoices WHERE visit_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    // Paid at the PSP: the member reads it paid.
    psp.ok_post(
        &format!("/v1/invoices/{invoice_id}/pay"),
        &[("paid_out_of_band", "true")],
    )
    .await;
    let (_, after) = member
        .device
        .send(&mock, "GET", &format!("/v1/me/invoices/{invoice_id}"), None)
        .await;
    assert_eq!(
        (&after["status"], &after["amount_remaining"]),
        (&json!("paid"), &json!(0))
    );
    assert!(after["paid_at"].is_i64());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_insurer_reports_premium_arrears_and_follows_the_invoice_days_later() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let contract = contract_id(&mock, &member.device).await;
    let body = json!({"contract": contract, "amount": 4250, "description": "Cotisation de novembre impayée"});
    let (status, arrears) =
        insurer_post(&mock, "/v1/insurer/arrears", body.clone(), Some("arr-1")).await;
    assert_eq!(status, 200, "{arrears}");
    assert_eq!(
        (
            &arrears["object"],
            &arrears["status"],
            &arrears["amount_due"]
        ),
        (&json!("insurer_arrears"), &json!("open"), &json!(4250))
    );
    let id = arrears["invoice"].as_str().unwrap().to_owned();
    assert!(arrears["hosted_invoice_url"]
        .as_str()
        .unwrap()
        .contains("/i/"));
    // The same key replays the first answer: one invoice.
    let (_, replay) = insurer_post(&mock, "/v1/insurer/arrears", body, Some("arr-1")).await;
    assert_eq!(replay["invoice"], id.as_str());
    // By the contract's number too.
    let (status, by_number) = insurer_post(
        &mock,
        "/v1/insurer/arrears",
        json!({"contract": DEMO_CONTRACT, "amount": 1000, "description": "Frais de dossier"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{by_number}");
    let (_, list) = member
        .device
        .send(&mock, "GET", "/v1/me/invoices", None)
        .await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [by_number["invoice"].as_str().unwrap(), id.as_str()]);
    assert_eq!(list["data"][1]["source"], "premium");
    let (_, page) = member
        .device
        .send(&mock, "GET", "/v1/me/invoices?limit=1", None)
        .await;
    assert_eq!(
        (page["data"].as_array().unwrap().len(), &page["has_more"]),
        (1, &json!(true))
    );

    // Days later the member pays by card; what they pay reaches the insurer's account.
    mock.advance(5 * DAY).await;
    let psp = Stripe::new(&mock);
    psp.ok_post(
        &format!("/v1/invoices/{id}/pay"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    mock.advance(3 * DAY).await;
    let later = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(
        (&later["status"], &later["amount_paid"]),
        (&json!("paid"), &json!(4250))
    );
    assert!(later["hosted_invoice_url"].is_string());
    let destination = later["transfer_data"]["destination"].as_str().unwrap();
    let transfers = psp
        .ok_get("/v1/transfers", &[("destination", destination)])
        .await;
    assert!(transfers["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["amount"] == 4250 && t["transfer_group"] == id.as_str()));
    let events = psp.ok_get("/v1/events", &[("type", "invoice.paid")]).await;
    assert!(events["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["data"]["object"]["id"] == id.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn another_members_invoice_does_not_exist_for_them() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let contract = contract_id(&mock, &member.device).await;
    let (_, arrears) = insurer_post(
        &mock,
        "/v1/insurer/arrears",
        json!({"contract": contract, "amount": 900, "description": "Cotisation"}),
        None,
    )
    .await;
    let id = arrears["invoice"].as_str().unwrap();
    let other = RawDevice::enroll(&mock, "TP1000002", "1992-11-02", "+33698765432").await;
    let (status, _) = other
        .send(&mock, "GET", &format!("/v1/me/invoices/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, list) = other.send(&mock, "GET", "/v1/me/invoices", None).await;
    assert_eq!((status, &list["data"]), (200, &json!([])));
    let (status, _) = other
        .send(
            &mock,
            "GET",
            &format!("/v1/me/invoices?starting_after={id}"),
            None,
        )
        .await;
    assert_eq!(status, 400);
    for bad in ["/v1/me/invoices/ch_1", "/v1/me/invoices/in_nope"] {
        let (status, e) = member.device.send(&mock, "GET", bad, None).await;
        assert_eq!((status, &e["error"]["param"]), (404, &json!("id")), "{bad}");
    }
    let (status, e) = member
        .device
        .send(&mock, "GET", "/v1/me/invoices?limit=500", None)
        .await;
    assert_eq!((status, &e["error"]["param"]), (400, &json!("limit")));
    // Without a device, no invoices.
    let anonymous = mock
        .http
        .get(format!("{}/v1/me/invoices", mock.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_premium_arrears_are_refused_by_field_and_write_nothing() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let contract = contract_id(&mock, &member.device).await;
    let tables = [
        "platform_invoices",
        "psp_invoices",
        "psp_invoice_items",
        "psp_customers",
    ];
    let before = mock.snapshot(&tables);
    let long = "x".repeat(501);
    let cases = [
        (
            json!({"contract": contract, "amount": 0, "description": "x"}),
            400,
            "amount",
        ),
        (
            json!({"contract": contract, "amount": 100_000_000, "description": "x"}),
            400,
            "amount",
        ),
        (
            json!({"contract": contract, "amount": 100, "description": ""}),
            400,
            "description",
        ),
        (
            json!({"contract": contract, "amount": 100, "description": long}),
            400,
            "description",
        ),
        (
            json!({"contract": contract, "amount": 100, "description": "a\nb"}),
            400,
            "description",
        ),
        (
            json!({"contract": contract, "amount": 100, "description": "x", "currency": "usd"}),
            400,
            "currency",
        ),
        (
            json!({"contract": "ctr_nope", "amount": 100, "description": "x"}),
            404,
            "contract",
        ),
        (
            json!({"contract": "c".repeat(65), "amount": 100, "description": "x"}),
            400,
            "contract",
        ),
    ];
    for (body, status, field) in cases {
        let (s, e) = insurer_post(&mock, "/v1/insurer/arrears", body.clone(), None).await;
        assert_eq!(
            (s, e["error"]["param"].as_str()),
            (status, Some(field)),
            "{body}: {e}"
        );
    }
    let (s, _) = insurer_post(
        &mock,
        "/v1/insurer/arrears",
        json!({"contract": contract, "amount": 1, "description": "x", "extra": 1}),
        None,
    )
    .await;
    assert_eq!(s, 400);
    // A member's device is not the insurer.
    let (s, _) = member
        .device
        .send(
            &mock,
            "POST",
            "/v1/insurer/arrears",
            Some(json!({"contract": contract, "amount": 100, "description": "x"})),
        )
        .await;
    assert_eq!(s, 401);
    let pk = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth("pk_test_tierspay")
        .json(&json!({"contract": contract, "amount": 100, "description": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(pk.status().as_u16(), 401);
    assert_eq!(
        mock.snapshot(&tables),
        before,
        "a refused request wrote something"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_test_helper_makes_many_open_invoices_at_once() {
    let mock = start().await;
    let member = Member::demo(&mock).await;
    let contract = contract_id(&mock, &member.device).await;
    let (status, made) = mock
        .post(
            "/v1/test_helpers/arrears",
            json!({"contract": contract, "amount": 1500, "description": "Cotisation", "count": 25}),
        )
        .await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(
        (
            made["count"].as_i64(),
            made["invoices"].as_array().unwrap().len()
        ),
        (Some(25), 25)
    );
    let psp = Stripe::new(&mock);
    let open = psp
        .ok_get("/v1/invoices", &[("status", "open"), ("limit", "100")])
        .await;
    assert_eq!(open["data"].as_array().unwrap().len(), 25);
    let (status, e) = mock
        .post(
            "/v1/test_helpers/arrears",
            json!({"contract": contract, "amount": 1500, "description": "Cotisation", "count": 100_001}),
        )
        .await;
    assert_eq!((status, &e["error"]["param"]), (400, &json!("count")));
}
