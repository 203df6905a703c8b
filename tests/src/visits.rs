//! Visits paid at the doctor, as the end-to-end tests set them up: the demo member enrolled with
//! their beneficiaries, a provider of the directory, the server's figures for a visit, a card
//! saved at the PSP, the virtual card tapped and captured at a terminal, the visit polled until it
//! settles.

use serde_json::{json, Value};
use tierspay_server_mock::Limits;

use crate::{Mock, RawDevice, Stripe, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

/// The demo mock, with access tokens that outlive the business clock's jumps.
pub async fn start() -> Mock {
    Mock::start_with(Limits {
        access_token_ttl: 7 * 24 * 3600,
        ..Limits::default()
    })
    .await
}

/// An amount string of the API (`"12.5"`) in cents.
pub fn cents(v: &Value) -> i64 {
    let text = v.as_str().expect("an amount string");
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    whole.parse::<i64>().unwrap() * 100 + format!("{frac:0<2}")[..2].parse::<i64>().unwrap()
}

/// An enrolled member: the raw device and the contract's beneficiaries (first name, id).
pub struct Member {
    /// The member's enrolled device.
    pub device: RawDevice,
    /// The contract's beneficiaries: (first name, id).
    pub beneficiaries: Vec<(String, String)>,
}

impl Member {
    /// Enrolls the demo contract and reads its beneficiaries from `/v1/sync`.
    pub async fn demo(mock: &Mock) -> Self {
        let device = RawDevice::enroll(mock, DEMO_CONTRACT, DEMO_BIRTH_DATE, DEMO_PHONE).await;
        let (status, sync) = device.send(mock, "GET", "/v1/sync", None).await;
        assert_eq!(status, 200, "{sync}");
        let beneficiaries = sync["contract"]["beneficiaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["first_name"].as_str().unwrap().to_owned(),
                    b["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Self {
            device,
            beneficiaries,
        }
    }

    /// The id of the beneficiary whose first name is `name`.
    pub fn id(&self, name: &str) -> String {
        self.beneficiaries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id.clone())
            .expect("a beneficiary")
    }
}

/// A provider of the demo directory: a sector-1 GP in Paris, or any `specialty`.
pub async fn provider(mock: &Mock, device: &RawDevice, specialty: &str) -> Value {
    let path = format!(
        "/v1/providers?specialty={}&city=Paris&limit=50",
        specialty.replace(' ', "%20")
    );
    let (status, list) = device.send(mock, "GET", &path, None).await;
    assert_eq!(status, 200, "{list}");
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sector"] == 1)
        .cloned()
        .expect("a sector-1 provider")
}

/// Today's date (UTC), as the API writes dates.
pub fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The server's figures for a visit (the preview check with a probe id), as the request the
/// phone would send.
pub async fn request(
    mock: &Mock,
    device: &RawDevice,
    beneficiary: &str,
    provider: &Value,
    act: &str,
    price: i64,
) -> Value {
    let (status, check) = device
        .send(
            mock,
            "POST",
            "/v1/previews",
            Some(
                json!({"beneficiary_id": beneficiary, "provider_id": provider["id"],
                "act_code": act, "price": format!("{}.{:02}", price / 100, price % 100),
                "date": today(), "preview_id": "pv_probe"}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{check}");
    json!({"beneficiary_id": beneficiary, "provider_id": provider["id"], "act_code": act,
        "price": price, "currency": "eur", "date": today(), "preview_id": check["preview_id"],
        "amo": cents(&check["amo"]), "amc": cents(&check["amc"]), "member": cents(&check["member"])})
}

/// Arms a visit for the beneficiary named `beneficiary`, act `act` at `provider`, `price` in
/// cents: the server's figures ([`request`]), then `POST /v1/visits`; the visit as answered.
pub async fn arm_visit(
    mock: &Mock,
    member: &Member,
    beneficiary: &str,
    provider: &Value,
    act: &str,
    price: i64,
) -> Value {
    let body = request(
        mock,
        &member.device,
        &member.id(beneficiary),
        provider,
        act,
        price,
    )
    .await;
    let (_, visit) = member
        .device
        .send(mock, "POST", "/v1/visits", Some(body))
        .await;
    visit
}

/// Creates a card at the PSP as the phone does (publishable key) and saves it on the platform.
pub async fn save_card(mock: &Mock, device: &RawDevice, number: &str) -> (u16, Value) {
    let pk = Stripe::with_key(mock, "pk_test_tierspay");
    let pm = pk
        .post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2031"),
                ("card[cvc]", "123"),
            ],
        )
        .await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    device
        .send(
            mock,
            "POST",
            "/v1/me/payment_method",
            Some(json!({"payment_method": pm.body["id"]})),
        )
        .await
}

/// The card network's id of a provider, as a terminal at its practice names it.
pub fn network_id(mock: &Mock, provider: &Value) -> String {
    let conn = rusqlite::Connection::open(mock.db_path()).expect("db");
    conn.query_row(
        "SELECT network_id FROM insurer_providers WHERE id = ?1",
        [provider["id"].as_str().unwrap()],
        |r| r.get(0),
    )
    .expect("a network id")
}

/// The id of the member's virtual card at the PSP.
pub async fn card_of(mock: &Mock, device: &RawDevice) -> String {
    let (status, card) = device.send(mock, "GET", "/v1/card", None).await;
    assert_eq!(status, 200, "{card}");
    card["id"].as_str().unwrap().to_owned()
}

/// A tap at a terminal (the PSP's test helper), by default at a doctor in Paris; `changes`
/// replace or add form fields.
pub async fn tap(
    mock: &Mock,
    card: &str,
    amount: i64,
    network: &str,
    changes: &[(&str, &str)],
) -> Value {
    let amount = amount.to_string();
    let mut form: Vec<(&str, &str)> = vec![
        ("card", card),
        ("amount", &amount),
        ("currency", "eur"),
        ("merchant_data[category]", "doctors"),
        ("merchant_data[network_id]", network),
        ("merchant_data[city]", "Paris"),
        ("merchant_data[country]", "FR"),
    ];
    for (k, v) in changes {
        form.retain(|(key, _)| key != k);
        form.push((k, v));
    }
    let answer = Stripe::new(mock)
        .post("/v1/test_helpers/issuing/authorizations", &form)
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// The terminal captures an authorization (the PSP's test helper).
pub async fn capture(mock: &Mock, authorization: &Value) {
    let captured = Stripe::new(mock)
        .post(
            &format!(
                "/v1/test_helpers/issuing/authorizations/{}/capture",
                authorization["id"].as_str().unwrap()
            ),
            &[],
        )
        .await;
    assert_eq!(captured.status, 200, "{}", captured.body);
}

/// One visit as the member reads it.
pub async fn read_visit(mock: &Mock, device: &RawDevice, id: &str) -> Value {
    let (status, visit) = device
        .send(mock, "GET", &format!("/v1/visits/{id}"), None)
        .await;
    assert_eq!(status, 200, "{visit}");
    visit
}

/// Polls the visit until `done` (the settlement arrives as an event, after the capture's answer).
pub async fn visit_until(
    mock: &Mock,
    device: &RawDevice,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..500 {
        let visit = read_visit(mock, device, id).await;
        if done(&visit) {
            return visit;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("visit {id}: {}", read_visit(mock, device, id).await);
}
