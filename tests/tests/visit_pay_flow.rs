//! Paying at the doctor through the facade, against the mock: the member saves their own card
//! (it goes to the PSP only), authorizes the visit the phone priced, a terminal taps and
//! captures, and the phone shows the visit paid with the split; cancel, a stale preview, a
//! declined card, and a lost answer retried after a restart arm one visit only.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tierspay_core::{
    AuthorizeResult, MemberCard, PaymentMethodStatus, Provider, VisitField, VisitFlow,
    VisitFlowState, VisitListener, VisitStatus, VisitStep,
};
use tierspay_tests::{Mock, Phone};

#[derive(Default)]
struct States(Mutex<Vec<VisitFlowState>>);

impl VisitListener for States {
    fn on_state(&self, state: VisitFlowState) {
        self.0.lock().unwrap().push(state);
    }
}

async fn until(
    flow: &VisitFlow,
    what: &str,
    done: impl Fn(&VisitFlowState) -> bool,
) -> VisitFlowState {
    tierspay_tests::wait_for(what, || flow.state().unwrap(), done).await
}

/// The demo holder, enrolled, with her own card saved from `number`.
async fn member_with_card(mock: &Mock, number: &str) -> (Phone, MemberCard) {
    let phone = Phone::new(mock);
    phone.enroll_demo(mock).await;
    let card = phone
        .app
        .payments()
        .save_member_card(number.into(), "12/34".into(), "123".into())
        .await
        .expect("the card is saved");
    (phone, card)
}

/// A provider of the directory in Paris matching `wanted`.
async fn provider(phone: &Phone, specialty: &str, wanted: impl Fn(&Provider) -> bool) -> Provider {
    phone
        .app
        .coverage()
        .search_providers(
            String::new(),
            Some(specialty.into()),
            Some("Paris".into()),
            50,
        )
        .await
        .unwrap()
        .providers
        .into_iter()
        .find(wanted)
        .expect("a provider")
}

/// The visit flow with the figures shown for Camille at `provider`.
async fn priced_flow(
    phone: &Phone,
    provider: &Provider,
    act: &str,
    price: &str,
    date: Option<&str>,
) -> Arc<VisitFlow> {
    let flow = phone.app.visit_flow(Arc::new(States::default()));
    flow.clone().start(None);
    let s = until(&flow, "loaded", |s| !s.loading && !s.searching).await;
    let camille = s
        .beneficiaries
        .iter()
        .find(|b| b.first_name == "Camille")
        .unwrap()
        .id
        .clone();
    flow.clone().choose_beneficiary(camille);
    flow.clone().select_provider(provider.id.clone());
    until(&flow, "selected", |s| s.provider.is_some()).await;
    flow.clone().edit_date(date.map(Into::into));
    flow.clone().choose_act(act.into());
    until(&flow, "act", |s| s.act.is_some()).await;
    flow.clone().edit_price(price.into());
    flow.clone().price();
    until(&flow, "priced", |s| s.preview.is_some() && !s.pricing).await;
    flow
}

/// What a terminal at `provider`'s desk sends (the mock's merchant ids are NET + the code).
fn tap_form(card: &str, amount: i64, provider: &Provider, mcc: &str) -> Vec<(String, String)> {
    vec![
        ("card".into(), card.into()),
        ("amount".into(), amount.to_string()),
        ("currency".into(), "eur".into()),
        (
            "merchant_data[network_id]".into(),
            format!("NET{}", provider.code),
        ),
        ("merchant_data[category]".into(), mcc.into()),
        (
            "merchant_data[name]".into(),
            provider.name.chars().take(22).collect(),
        ),
        ("merchant_data[city]".into(), provider.city.clone()),
        ("merchant_data[country]".into(), "FR".into()),
    ]
}

async fn tap(mock: &Mock, form: &[(String, String)]) -> Value {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, auth) = mock
        .psp_post("/v1/test_helpers/issuing/authorizations", &pairs)
        .await;
    assert_eq!(status, 200, "{auth}");
    auth
}

/// Refreshes until the visit is `status` (settlement follows the capture through the PSP's
/// events, so it may take a few rounds).
async fn refresh_until(flow: &Arc<VisitFlow>, status: VisitStatus) -> VisitFlowState {
    for _ in 0..200 {
        flow.clone().refresh();
        let s = until(flow, "refreshed", |s| !s.payment.refreshing).await;
        if s.payment.visit.as_ref().map(|v| v.status) == Some(status) {
            return s;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("never {status:?}: {:?}", flow.state().unwrap().payment);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visit_priced_authorized_tapped_and_captured_shows_paid_with_the_split() {
    let mock = Mock::start().await;
    let (phone, card) = member_with_card(&mock, "4242 4242 4242 4242").await;
    assert_eq!(
        (card.status, card.last4.as_str(), card.expiry.as_str()),
        (PaymentMethodStatus::Active, "4242", "12/34")
    );
    assert_eq!(phone.app.payments().member_card().unwrap(), Some(card));

    let gp = provider(&phone, "Médecin généraliste", |p| p.sector == 1).await;
    let flow = priced_flow(&phone, &gp, "G", "30", None).await;
    let s = flow.state().unwrap();
    assert!(s.payment.can_authorize && s.payment.visit.is_none());
    let preview = s.preview.clone().unwrap();

    let before = phone.app.round_trips();
    flow.clone().authorize();
    assert!(flow.state().unwrap().payment.locked, "locked at once");
    let s = until(&flow, "armed", |s| !s.payment.authorizing).await;
    assert_eq!(s.step, VisitStep::Armed, "{:?}", s.error);
    assert_eq!(
        phone.app.round_trips() - before,
        1,
        "priced again on the phone, one POST"
    );
    let visit = s.payment.visit.clone().unwrap();
    assert_eq!(visit.status, VisitStatus::Armed);
    assert_eq!(
        visit.expires_at - visit.created,
        30 * 60,
        "armed for 30 minutes"
    );
    assert_eq!(
        (
            visit.price.minor_units,
            visit.amo.minor_units,
            visit.amc.minor_units,
            visit.member.minor_units
        ),
        (
            3000,
            preview.amo.minor_units,
            preview.amc.minor_units,
            preview.member.minor_units
        ),
        "the server armed the figures the member saw"
    );
    assert!(s.payment.can_cancel);

    let card_id = phone.app.card().refresh().await.unwrap().id;
    let auth = tap(&mock, &tap_form(&card_id, 3000, &gp, "8011")).await;
    assert_eq!(auth["approved"], true, "{auth}");
    let id = auth["id"].as_str().unwrap();
    let (status, captured) = mock
        .psp_post(
            &format!("/v1/test_helpers/issuing/authorizations/{id}/capture"),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{captured}");

    let s = refresh_until(&flow, VisitStatus::Paid).await;
    assert_eq!(s.step, VisitStep::Finished);
    let paid = s.payment.visit.unwrap();
    let receipt = paid.receipt.clone().expect("a receipt once paid");
    assert_eq!(receipt.provider_paid.minor_units, 3000);
    assert_eq!(
        (receipt.amo.minor_units, receipt.amc.minor_units),
        (preview.amo.minor_units, preview.amc.minor_units)
    );
    assert_eq!(
        receipt.member_captured.minor_units + receipt.arrears.minor_units,
        preview.member.minor_units
    );
    let insurers = preview.amo.minor_units + preview.amc.minor_units;
    let member = preview.member.minor_units;
    let summary = paid.summary.clone().unwrap();
    assert_eq!(
        summary.en,
        format!(
            "Paid €30.00 to {}: your insurers €{}.{:02}, you €{}.{:02}",
            paid.provider_name,
            insurers / 100,
            insurers % 100,
            member / 100,
            member % 100
        )
    );
    assert!(
        summary.fr.starts_with("30,00\u{a0}€ payés à "),
        "{}",
        summary.fr
    );

    // The history, offline and from the server, has it first.
    let offline = phone.app.payments().visits().unwrap();
    assert_eq!(
        offline.first().map(|v| (v.id.clone(), v.status)),
        Some((paid.id.clone(), VisitStatus::Paid))
    );
    let listed = phone.app.payments().refresh_visits().await.unwrap();
    assert_eq!(listed.first().map(|v| v.id.clone()), Some(paid.id.clone()));
    assert_eq!(
        phone
            .app
            .payments()
            .visit(paid.id.clone())
            .unwrap()
            .unwrap()
            .receipt,
        Some(receipt)
    );

    // A paid visit lets another start.
    flow.clone().new_visit();
    assert_eq!(flow.state().unwrap().step, VisitStep::Beneficiary);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_visit_declines_the_tap_and_the_wrong_merchant_is_declined_too() {
    let mock = Mock::start().await;
    let (phone, _) = member_with_card(&mock, "4242424242424242").await;
    let gp = provider(&phone, "Médecin généraliste", |p| p.sector == 1).await;
    let card_id = phone.app.card().refresh().await.unwrap().id;

    // No armed visit: the card pays nothing.
    let auth = tap(&mock, &tap_form(&card_id, 3000, &gp, "8011")).await;
    assert_eq!(auth["approved"], false, "{auth}");

    let flow = priced_flow(&phone, &gp, "G", "30", None).await;
    flow.clone().authorize();
    let s = until(&flow, "armed", |s| !s.payment.authorizing).await;
    assert_eq!(s.step, VisitStep::Armed, "{:?}", s.error);
    // A spa and a bar are not care, even with a visit armed.
    for mcc in ["7298", "5813"] {
        let auth = tap(&mock, &tap_form(&card_id, 3000, &gp, mcc)).await;
        assert_eq!(auth["approved"], false, "{mcc}: {auth}");
    }
    flow.clone().cancel();
    let s = until(&flow, "cancelled", |s| !s.payment.canceling).await;
    assert_eq!(
        s.payment.visit.as_ref().map(|v| v.status),
        Some(VisitStatus::Canceled)
    );
    assert_eq!(s.step, VisitStep::Finished);
    let auth = tap(&mock, &tap_form(&card_id, 3000, &gp, "8011")).await;
    assert_eq!(auth["approved"], false, "cancelled: {auth}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_preview_shows_the_servers_figures_and_authorizing_again_arms_them() {
    let mock = Mock::start().await;
    let (phone, _) = member_with_card(&mock, "4242424242424242").await;
    let optician = provider(&phone, "Opticien", |_| true).await;
    let flow = priced_flow(&phone, &optician, "OPT-MONTURE", "250", None).await;
    let shown = flow.state().unwrap().preview.unwrap();
    assert_eq!(
        shown.amc.minor_units, 20_000,
        "Santé Confort: 200 € per item"
    );
    let camille = flow.state().unwrap().beneficiary.unwrap().id;
    let year: i64 = shown.date[..4].parse().unwrap();
    // Meanwhile the insurer records 250 € of the 300 € yearly optical ceiling.
    let (status, body) = mock
        .post(
            "/v1/test_helpers/usage",
            json!({"beneficiary_id": camille, "year": year, "ceiling": {"category": "optical", "consumed": "250"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    flow.clone().authorize();
    let s = until(&flow, "answered", |s| !s.payment.authorizing).await;
    let stale = s.payment.stale.clone().expect("the server's figures");
    assert_eq!(stale.amc.minor_units, 5_000, "300 € a year, 250 € consumed");
    assert_eq!(s.step, VisitStep::Result);
    assert!(s.payment.visit.is_none() && s.payment.can_authorize);

    flow.clone().authorize();
    let s = until(&flow, "armed", |s| !s.payment.authorizing).await;
    let visit = s
        .payment
        .visit
        .unwrap_or_else(|| panic!("not armed: {:?}", s.error));
    assert_eq!(
        (visit.amc.minor_units, visit.preview_id.clone()),
        (5_000, stale.preview_id)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_declined_for_the_members_share_shows_on_the_card_and_nothing_is_armed() {
    let mock = Mock::start().await;
    // Saved fine, declined at the first payment for lack of funds.
    let (phone, card) = member_with_card(&mock, "4000000000009995").await;
    assert_eq!(card.status, PaymentMethodStatus::Active);
    let spec = provider(&phone, "Dermatologue", |p| p.sector == 2 && !p.optam).await;
    let flow = priced_flow(&phone, &spec, "CS", "60", None).await;
    assert!(flow.state().unwrap().preview.unwrap().member.minor_units > 0);
    flow.clone().authorize();
    let s = until(&flow, "refused", |s| !s.payment.authorizing).await;
    let error = s.error.expect("a decline");
    assert_eq!(error.field, VisitField::PaymentMethod);
    assert!(
        error.message.contains("insufficient funds"),
        "{}",
        error.message
    );
    assert_eq!((s.step, s.payment.visit), (VisitStep::Result, None));
    assert!(phone
        .app
        .payments()
        .refresh_visits()
        .await
        .unwrap()
        .iter()
        .all(|v| v.status != VisitStatus::Armed));
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_the_bank_refuses_or_challenges_say_so_and_the_number_stays_off_the_phone() {
    let mock = Mock::start().await;
    let (mut phone, card) = member_with_card(&mock, "4000000000000002").await;
    assert_eq!(card.status, PaymentMethodStatus::Failed);
    assert!(card.decline.is_some() && card.decline_code.is_some());

    let payments = phone.app.payments();
    let challenged = payments
        .save_member_card("4000002500003155".into(), "12/34".into(), "123".into())
        .await
        .unwrap();
    assert_eq!(challenged.status, PaymentMethodStatus::RequiresAction);
    let url = challenged
        .next_action_url
        .clone()
        .expect("a challenge page");
    assert!(url.starts_with(&mock.url), "the server's own page: {url}");
    // The member authenticates on the bank's page (as the browser would post it), then the
    // app reads the card again.
    let answered = mock
        .http
        .post(&url)
        .form(&[("outcome", "complete")])
        .send()
        .await
        .unwrap();
    assert!(answered.status().is_success(), "{answered:?}");
    let after = payments.refresh_member_card().await.unwrap().unwrap();
    assert_eq!(after.status, PaymentMethodStatus::Active);
    assert_eq!(
        payments.member_card().unwrap().unwrap().status,
        PaymentMethodStatus::Active
    );

    // Refused on the phone before anything is sent, on the right field.
    for (number, expiry, cvc, field) in [
        ("4242424242424241", "12/34", "123", "number"),
        ("4242424242424242", "01/20", "123", "expiry"),
        ("4242424242424242", "12/34", "12", "cvc"),
    ] {
        match payments
            .save_member_card(number.into(), expiry.into(), cvc.into())
            .await
        {
            Err(tierspay_core::CoreError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }

    // Neither the numbers nor the code are anywhere in the database or its WAL.
    phone.restart();
    let _ = phone.app.payments().member_card().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let Ok(bytes) = std::fs::read(phone.dir.path().join(format!("tierspay.sqlite3{suffix}")))
        else {
            continue;
        };
        for secret in [
            "4000000000000002",
            "4000002500003155",
            "4242424242424241",
            "\"123\"",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in tierspay.sqlite3{suffix}"
            );
        }
    }
    // And no table has a place for one. (Scanning the file for the three letters "cvc" would
    // also find them inside random ids.)
    let db = rusqlite::Connection::open(phone.dir.path().join("tierspay.sqlite3")).unwrap();
    let mut columns = db
        .prepare(
            "SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table'",
        )
        .unwrap();
    let columns: Vec<String> = columns
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(columns.len() > 10, "{columns:?}");
    for column in &columns {
        let c = column.to_ascii_lowercase();
        let parts: Vec<&str> = c.split(['.', '_']).collect();
        let card_table = c.starts_with("card") || c.starts_with("payment");
        assert!(
            !parts
                .iter()
                .any(|p| ["cvc", "cvv", "pan"].contains(p) || (card_table && *p == "number")),
            "{column} could hold a card secret"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_retried_after_a_restart_arms_one_visit() {
    let mock = Mock::start().await;
    let (mut phone, _) = member_with_card(&mock, "4242424242424242").await;
    let gp = provider(&phone, "Médecin généraliste", |p| p.sector == 1).await;
    let flow = priced_flow(&phone, &gp, "G", "30", None).await;
    let request = flow.state().unwrap();
    let beneficiary = request.beneficiary.unwrap().id;
    // The server arms the visit, then every answer (the first and both retries) is lost.
    let (status, _) = mock
        .post(
            "/v1/test_helpers/faults",
            json!({"method": "POST", "path_prefix": "/v1/visits", "mode": "drop_after_commit", "count": 3}),
        )
        .await;
    assert_eq!(status, 200);
    flow.clone().authorize();
    let s = until(&flow, "lost", |s| !s.payment.authorizing).await;
    assert_eq!(s.payment.visit, None, "{:?}", s.error);
    drop(flow);

    // The app is killed and started again; the member pays the same visit again.
    phone.restart();
    phone
        .app
        .coverage()
        .select_provider(gp.id.clone())
        .await
        .unwrap();
    let again = phone
        .app
        .payments()
        .authorize_visit(
            beneficiary,
            gp.id.clone(),
            "G".into(),
            "30".into(),
            None,
            None,
        )
        .await
        .unwrap();
    let AuthorizeResult::Armed { visit } = again else {
        panic!("{again:?}");
    };
    let armed: Vec<_> = phone
        .app
        .payments()
        .refresh_visits()
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.status == VisitStatus::Armed)
        .collect();
    assert_eq!(armed.len(), 1, "one visit armed, not two: {armed:?}");
    assert_eq!(armed[0].id, visit.id, "the retry replayed the first answer");

    // The visit flow opened now shows the armed visit at once.
    let flow = phone.app.visit_flow(Arc::new(States::default()));
    flow.clone().start(None);
    let s = until(&flow, "resumed", |s| s.payment.visit.is_some()).await;
    assert_eq!(s.step, VisitStep::Armed);
}
