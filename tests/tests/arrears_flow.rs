//! The arrears screens' flow through the facade, against the in-process mock: the invoices
//! shown offline and refreshed, a detail, the platform's own email and SMS links verified, an
//! altered one refused with the core's words and its report on the server; the list survives a
//! restart offline, and sign-out leaves none of it.

use std::sync::{Arc, Mutex};

use serde_json::json;
use tierspay_core::{
    ArrearsFlow, ArrearsFlowState, ArrearsListener, InvoiceStatus, LinkChannel, LinkRefusal,
    LinkResult,
};
use tierspay_tests::{Mock, Phone, DEMO_CONTRACT, PSP_KEY};

#[derive(Default)]
struct States(Mutex<Vec<ArrearsFlowState>>);

impl ArrearsListener for States {
    fn on_state(&self, state: ArrearsFlowState) {
        self.0.lock().unwrap().push(state);
    }
}

async fn until(
    flow: &ArrearsFlow,
    what: &str,
    done: impl Fn(&ArrearsFlowState) -> bool,
) -> ArrearsFlowState {
    tierspay_tests::wait_for(what, || flow.state().unwrap(), done).await
}

async fn premium_invoice(mock: &Mock, amount: i64) -> String {
    let r = mock
        .http
        .post(format!("{}/v1/insurer/arrears", mock.url))
        .bearer_auth(PSP_KEY)
        .json(&json!({"contract": DEMO_CONTRACT, "amount": amount, "description": "Cotisation"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: serde_json::Value = r.json().await.unwrap();
    doc["invoice"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn invoices_and_links_through_the_arrears_flow() {
    let mock = Mock::start().await;
    let mut phone = Phone::new(&mock);
    phone.enroll_demo(&mock).await;
    let invoice = premium_invoice(&mock, 4_250).await;

    let states = Arc::new(States::default());
    let flow = phone.app.arrears_flow(states.clone());
    let first = flow.state().unwrap();
    assert!(
        first.invoices.is_empty() && first.synced_at.is_none(),
        "never synced"
    );
    flow.clone().start();
    let s = until(&flow, "synced", |s| !s.syncing && s.synced_at.is_some()).await;
    assert_eq!(s.error, None);
    let shown = &s.invoices[0];
    assert_eq!(shown.id, invoice);
    assert_eq!(shown.status, InvoiceStatus::Open);
    assert!(shown.payable);
    assert_eq!(shown.amount_remaining.display_fr, "42,50\u{a0}€");
    assert!(shown
        .rf_reference_display
        .as_deref()
        .unwrap()
        .starts_with("RF"));
    flow.clone().select(invoice.clone());
    assert_eq!(flow.state().unwrap().selected.unwrap().id, invoice);

    // The platform's own links: one per channel, the SMS's as a short code.
    let (status, links) = mock
        .post(
            &format!("/v1/test_helpers/invoices/{invoice}/links"),
            json!({"channels": ["email", "sms"]}),
        )
        .await;
    assert_eq!(status, 200, "{links}");
    let email = links["data"][0]["url"].as_str().unwrap().to_owned();
    let short = links["data"][1]["short_url"].as_str().unwrap().to_owned();
    let seen = states.0.lock().unwrap().len();
    flow.clone().open_link(email.clone());
    let s = until(&flow, "email link", |s| s.link.is_some()).await;
    let Some(LinkResult::Verified { link }) = s.link else {
        panic!("refused: {:?}", s.link)
    };
    assert_eq!(
        (link.amount.minor_units, link.channel),
        (4_250, LinkChannel::Email)
    );
    assert_eq!(link.page_url, email);
    // The state the intent sent first showed the link as being checked, and nothing of it.
    let opened = states.0.lock().unwrap()[seen].clone();
    assert!(opened.opening_link && opened.link.is_none(), "{opened:?}");

    flow.clone().open_link(short);
    let s = until(&flow, "short link", |s| {
        matches!(&s.link, Some(LinkResult::Verified { link }) if link.channel == LinkChannel::Sms)
    })
    .await;
    assert!(!s.opening_link);

    // An altered copy: refused in both languages, then reported (the flow sends it at once).
    let token = email.rsplit('/').next().unwrap();
    let mut bytes = token.as_bytes().to_vec();
    bytes[100] = if bytes[100] == b'A' { b'B' } else { b'A' };
    let altered = format!("tierspay://l/{}", String::from_utf8(bytes).unwrap());
    flow.clone().open_link(altered);
    let s = until(&flow, "refused", |s| {
        matches!(&s.link, Some(LinkResult::Refused { .. }))
    })
    .await;
    let Some(LinkResult::Refused { refusal }) = s.link else {
        unreachable!()
    };
    assert_eq!(refusal.reason, LinkRefusal::BadSignature);
    assert!(refusal.message_fr.contains("Ne payez pas"));
    tierspay_tests::wait_for(
        "reported",
        || phone.app.arrears().pending_reports().unwrap(),
        |n| *n == 0,
    )
    .await;
    assert!(mock
        .snapshot(&["platform_link_reports"])
        .contains("\"bad_signature\""));
    flow.clone().back();
    assert_eq!(flow.state().unwrap().link, None);
    assert_eq!(
        flow.state().unwrap().selected.map(|i| i.id),
        Some(invoice.clone())
    );
    drop(flow);

    // A restart offline: the list is there at once, from the phone.
    phone.restart();
    let flow = phone.app.arrears_flow(Arc::new(States::default()));
    let s = flow.state().unwrap();
    assert_eq!(s.invoices.len(), 1);
    assert!(s.synced_at.is_some());

    phone.app.sign_out().await.unwrap();
    assert!(
        phone.app.arrears().invoices().is_err(),
        "signed out: no list"
    );
}
