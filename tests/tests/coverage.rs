//! Coverage journeys: data synced at enrollment, providers found or scanned, previews priced
//! offline to the cent, and the server's recomputation with the same code.

use serde_json::json;
use tierspay_core::{CoreError, Coverage, DeductionKind, Language, PreviewRequest, Provider};
use tierspay_tests::{Mock, Phone};

async fn provider(
    coverage: &Coverage,
    specialty: &str,
    want: impl Fn(&Provider) -> bool,
) -> Provider {
    let found = coverage
        .search_providers(
            String::new(),
            Some(specialty.into()),
            Some("Paris".into()),
            50,
        )
        .await
        .unwrap();
    let p = found
        .providers
        .into_iter()
        .find(|p| want(p))
        .expect("a matching provider in the demo directory");
    coverage.select_provider(p.id.clone()).await.unwrap()
}

fn id_of(coverage: &Coverage, first_name: &str) -> String {
    coverage
        .beneficiaries()
        .unwrap()
        .into_iter()
        .find(|b| b.first_name == first_name)
        .unwrap()
        .id
}

/// A preview request with its figures' text in English.
fn ask(
    beneficiary_id: String,
    provider_id: String,
    act_code: String,
    price: String,
    date: Option<String>,
) -> PreviewRequest {
    PreviewRequest {
        beneficiary_id,
        provider_id,
        act_code,
        price,
        date,
        language: Language::En,
    }
}

fn figures(p: &tierspay_core::CoveragePreview) -> (String, String, String) {
    (p.amo.to_string(), p.amc.to_string(), p.member.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn previews_are_exact_offline_and_confirmed_by_the_server() {
    let mut mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    assert_eq!(phone.app.round_trips(), 3, "start, confirm, sync");
    let coverage = phone.app.coverage();
    assert_eq!(coverage.beneficiaries().unwrap().len(), 4);
    let gp = provider(&coverage, "Médecin généraliste", |p| p.sector == 1).await;
    let dentist = provider(&coverage, "Chirurgien-dentiste", |_| true).await;

    // Airplane mode: everything below is computed on the phone.
    mock.stop().await;
    let camille = id_of(&coverage, "Camille");
    let adult = coverage
        .preview(ask(
            camille.clone(),
            gp.id.clone(),
            "G".into(),
            "30".into(),
            Some("2026-03-02".into()),
        ))
        .unwrap();
    assert_eq!(
        figures(&adult),
        ("19.00".to_owned(), "9.00".to_owned(), "2.00".to_owned()),
        "docs/coverage.md: GP, sector 1, adult, in parcours"
    );
    assert!(adult
        .deductions
        .iter()
        .any(|d| d.kind == DeductionKind::ParticipationForfaitaire && d.amount == "2.00"));
    assert_eq!(
        (adult.member.display.as_str(), adult.member.currency),
        ("€2.00", tierspay_core::CurrencyCode::Eur)
    );
    // The explanations come apart, one language at a time, for a preview the phone priced.
    let fr = coverage.explain(adult.id.clone(), Language::Fr).unwrap();
    let en = coverage.explain(adult.id.clone(), Language::En).unwrap();
    assert!(!fr.is_empty() && fr.len() == en.len() && fr != en);
    assert!(fr.iter().chain(&en).all(|e| !e.is_empty()));
    assert!(
        en.iter().any(|e| e.contains("€2.00")),
        "the participation forfaitaire is told: {en:?}"
    );
    match coverage.explain(format!("{}x", adult.id), Language::Fr) {
        Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "preview_id"),
        other => panic!("{other:?}"),
    }
    let lea = id_of(&coverage, "Léa");
    let child = coverage
        .preview(ask(
            lea,
            gp.id.clone(),
            "GMEG".into(),
            "35.00".into(),
            Some("2026-03-02".into()),
        ))
        .unwrap();
    assert_eq!(child.amo, "24.50", "child under 6: no PF");
    let tooth = coverage
        .preview(ask(
            camille.clone(),
            dentist.id.clone(),
            "C".into(),
            "23,00".into(),
            Some("2026-03-02".into()),
        ))
        .unwrap();
    assert_eq!(tooth.amo, "13.80");
    // Same inputs, same id: previews are deterministic.
    let again = coverage
        .preview(ask(
            camille.clone(),
            gp.id.clone(),
            "G".into(),
            "30.00".into(),
            Some("2026-03-02".into()),
        ))
        .unwrap();
    assert_eq!(again.id, adult.id);

    mock.restart().await;
    let check = coverage.check_preview(adult.id.clone()).await.unwrap();
    assert!(
        check.holds,
        "the server computes the same figures with the same code"
    );
    assert_eq!(check.server_preview_id, adult.id);
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_parcours_costs_the_member_not_the_insurer() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone
        .enroll(&mock, "TP1000002", "1992-11-02", "+33698765432")
        .await;
    let coverage = phone.app.coverage();
    let gp = provider(&coverage, "Médecin généraliste", |p| p.sector == 1).await;
    let sofia = id_of(&coverage, "Sofia");
    let p = coverage
        .preview(ask(
            sofia,
            gp.id,
            "G".into(),
            "30".into(),
            Some("2026-03-02".into()),
        ))
        .unwrap();
    assert_eq!(
        figures(&p),
        ("7.00".to_owned(), "9.00".to_owned(), "14.00".to_owned()),
        "docs/coverage.md: the same visit outside the parcours"
    );
    assert!(p
        .deductions
        .iter()
        .any(|d| d.kind == DeductionKind::OutOfParcours));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_preview_no_longer_holds_once_a_ceiling_is_consumed() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let coverage = phone.app.coverage();
    let optician = provider(&coverage, "Opticien", |_| true).await;
    let camille = id_of(&coverage, "Camille");
    let date = "2026-03-02".to_owned();
    let before = coverage
        .preview(ask(
            camille.clone(),
            optician.id.clone(),
            "OPT-MONTURE".into(),
            "250".into(),
            Some(date.clone()),
        ))
        .unwrap();
    assert_eq!(before.amc, "200.00", "Santé Confort: 200 € per item");
    let (status, _) = mock
        .post(
            "/v1/test_helpers/usage",
            json!({"beneficiary_id": camille, "year": 2026, "ceiling": {"category": "optical", "consumed": "250"}}),
        )
        .await;
    assert_eq!(status, 200);
    let check = coverage.check_preview(before.id.clone()).await.unwrap();
    assert!(!check.holds);
    assert_eq!(check.amc, "50.00", "300 € a year, 250 € consumed");
    // The phone catches up with one cheap sync, then agrees.
    let sync = coverage.sync().await.unwrap();
    assert!(sync.contract_updated && !sync.tariffs_updated);
    let after = coverage
        .preview(ask(
            camille,
            optician.id,
            "OPT-MONTURE".into(),
            "250".into(),
            Some(date),
        ))
        .unwrap();
    assert_eq!(after.amc, "50.00");
    assert!(after
        .deductions
        .iter()
        .any(|d| d.kind == DeductionKind::Ceiling));
    assert!(coverage.check_preview(after.id).await.unwrap().holds);
    let unchanged = coverage.sync().await.unwrap();
    assert!(!unchanged.contract_updated && !unchanged.tariffs_updated);
    assert!(
        unchanged.bytes < 100,
        "an unchanged sync is nearly free: {} bytes",
        unchanged.bytes
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_are_found_with_typos_scanned_from_qr_codes_and_searched_offline() {
    let mut mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let coverage = phone.app.coverage();
    let found = coverage
        .search_providers("ophtalmologe paris".into(), None, None, 5)
        .await
        .unwrap();
    assert!(!found.offline);
    assert!(!found.providers.is_empty());
    assert!(found
        .providers
        .iter()
        .all(|p| p.specialty == "Ophtalmologue" && p.city == "Paris"));

    let target = found.providers[0].clone();
    let svg = mock
        .http
        .get(format!("{}/v1/providers/{}/qr.svg", mock.url, target.id))
        .send()
        .await
        .unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().starts_with("<?xml"));
    let scanned = coverage
        .select_provider(format!("https://app.tierspay.fr/p/{}", target.code))
        .await
        .unwrap();
    assert_eq!(scanned, target);
    for bad in [
        "https://evil.example/p/ABCDEF",
        "hello",
        "https://app.tierspay.fr/enroll",
    ] {
        assert!(
            matches!(
                coverage.select_provider(bad.into()).await,
                Err(CoreError::InvalidInput { .. })
            ),
            "{bad}"
        );
    }

    mock.stop().await;
    let surname = target.name.split_whitespace().last().unwrap().to_owned();
    let offline = coverage
        .search_providers(surname, None, None, 5)
        .await
        .unwrap();
    assert!(offline.offline);
    assert_eq!(
        offline.providers,
        vec![target],
        "the recently used provider, from the cache"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_preview_input_names_the_field_and_gives_no_figure() {
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let coverage = phone.app.coverage();
    let gp = provider(&coverage, "Médecin généraliste", |_| true).await;
    let camille = id_of(&coverage, "Camille");
    let field = |r: Result<tierspay_core::CoveragePreview, CoreError>| match r {
        Err(CoreError::InvalidInput { field, .. }) => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let p = |ben: &str, prv: &str, act: &str, price: &str| {
        coverage.preview(ask(ben.into(), prv.into(), act.into(), price.into(), None))
    };
    assert_eq!(field(p(&camille, &gp.id, "G", "-30")), "price");
    assert_eq!(field(p(&camille, &gp.id, "G", "9999999")), "price");
    assert_eq!(field(p(&camille, &gp.id, "G", "abc")), "price");
    assert_eq!(field(p(&camille, &gp.id, "NOPE", "30")), "act_code");
    assert_eq!(field(p(&camille, "prv_unknown", "G", "30")), "provider_id");
    assert_eq!(
        field(p("ben_of_someone_else", &gp.id, "G", "30")),
        "beneficiary_id"
    );
    assert_eq!(
        field(coverage.preview(ask(
            camille.clone(),
            gp.id.clone(),
            "G".into(),
            "30".into(),
            Some("2026-02-30".into())
        ))),
        "date"
    );

    // The server refuses a beneficiary of another contract by name, too.
    let other = Phone::new(&mock);
    other
        .enroll(&mock, "TP1000003", "1951-07-19", "+33755501234")
        .await;
    let bernard = id_of(&other.app.coverage(), "Bernard");
    let priced = coverage
        .preview(ask(camille, gp.id.clone(), "G".into(), "30".into(), None))
        .unwrap();
    // The phone checks only what it priced: a preview id it never made is refused before any
    // request.
    match coverage.check_preview(format!("{}x", priced.id)).await {
        Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "preview_id"),
        other => panic!("{other:?}"),
    }
    // A forged request, sent by hand, names the field.
    let device = tierspay_tests::RawDevice::enroll(
        &mock,
        tierspay_tests::DEMO_CONTRACT,
        tierspay_tests::DEMO_BIRTH_DATE,
        tierspay_tests::DEMO_PHONE,
    )
    .await;
    let forged = json!({"beneficiary_id": bernard, "provider_id": gp.id, "act_code": "G",
                        "price": "30.00", "date": priced.date, "preview_id": priced.id});
    let (status, answer) = device
        .send(&mock, "POST", "/v1/previews", Some(forged))
        .await;
    assert_eq!(
        (status, &answer["error"]["param"]),
        (400, &json!("beneficiary_id")),
        "{answer}"
    );
}

#[test]
fn the_quote_document_of_the_design_answers_the_published_figures() {
    let doc = r#"{
      "date": "2026-03-02", "price": "30.00",
      "act": {"code": "G", "category": "consultation", "base": "30.00", "base_non_optam": "23.00", "amo_rate": "0.70", "pf": true, "franchise": "0.00"},
      "provider": {"sector": 1, "optam": false, "direct_access": false},
      "beneficiary": {"birth_date": "1985-04-12", "in_parcours": true, "ald": false, "css": false, "pregnant_6m": false,
                      "pf_paid_this_year": "0.00", "franchise_paid_this_year": "0.00", "pf_count_today_same_provider": 0},
      "guarantee": {"percent_br": "100", "percent_br_non_optam": "100", "includes_amo": true}
    }"#;
    let answer: serde_json::Value =
        serde_json::from_str(&tierspay_core::quote_document(doc.into()).unwrap()).unwrap();
    assert_eq!(
        (
            answer["amo"].as_str(),
            answer["amc"].as_str(),
            answer["member"].as_str()
        ),
        (Some("19.00"), Some("9.00"), Some("2.00"))
    );
    match tierspay_core::quote_document(doc.replace("\"0.70\"", "\"1.70\"")) {
        Err(CoreError::InvalidInput { field, .. }) => assert_eq!(field, "act.amo_rate"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_reads_a_price_with_the_phones_grammar_and_names_the_field() {
    let mock = Mock::start().await;
    let device = tierspay_tests::RawDevice::enroll(
        &mock,
        tierspay_tests::DEMO_CONTRACT,
        tierspay_tests::DEMO_BIRTH_DATE,
        tierspay_tests::DEMO_PHONE,
    )
    .await;
    let (status, sync) = device.send(&mock, "GET", "/v1/sync", None).await;
    assert_eq!(status, 200, "{sync}");
    let beneficiary = sync["contract"]["beneficiaries"][0]["id"].clone();
    let (status, list) = device
        .send(&mock, "GET", "/v1/providers?city=Paris&limit=1", None)
        .await;
    assert_eq!(status, 200, "{list}");
    let provider = list["data"][0]["id"].clone();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let body = |price: serde_json::Value| {
        json!({"beneficiary_id": beneficiary, "provider_id": provider, "act_code": "G",
               "price": price, "date": today, "preview_id": "pv_test"})
    };
    let (status, answer) = device
        .send(&mock, "POST", "/v1/previews", Some(body(json!("30.00"))))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["member"], "2.00");
    // `Decimal::from_str` takes all of these; the phone takes none, and now neither does the
    // server.
    for price in [
        json!("1_000"),
        json!("-3"),
        json!("+5"),
        json!("1e3"),
        json!("30.001"),
        json!(" 30"),
        json!(30),
        json!("0"),
        json!("100000.01"),
    ] {
        let (status, answer) = device
            .send(&mock, "POST", "/v1/previews", Some(body(price.clone())))
            .await;
        assert_eq!(status, 400, "{price}: {answer}");
        assert_eq!(answer["error"]["param"], "price", "{price}: {answer}");
    }
}
