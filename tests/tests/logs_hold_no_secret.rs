//! Logs are where secrets leak to unseen (issue 13, item 3). The in-process mock and the
//! phone's core log into one captured buffer, at debug for TiersPay's own crates and info for
//! the rest, during a whole journey: a push token, enrollment with its SMS code, the card shown
//! with its number and CVC, frozen and back, the member's own card saved, a token refresh, an
//! invoice paid from the app and a message written on it. The buffer must hold none of the
//! secrets, and none of the member's personal data.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tierspay_core::PushService;
use tierspay_tests::pay_once::premium_invoice;
use tierspay_tests::secrets::{contains, contains_number, spaced, stored_tokens};
use tierspay_tests::{Mock, Phone, DEMO_BIRTH_DATE, DEMO_PHONE};

/// Where every log line of this test binary goes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut all) = self.0.lock() {
            all.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(
                "info,tierspay_core=debug,tierspay_server_mock=debug,tierspay_tests=debug",
            )
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_whole_journey_logs_no_secret_and_no_personal_data() {
    let logs = captured();
    let mock = Mock::start().await;
    let phone = Phone::new(&mock);
    let push_token = "fcm-token:APA91b_in_the_logs";
    phone
        .app
        .register_push_token(PushService::Fcm, push_token.into())
        .await
        .unwrap();
    phone.enroll_demo(&mock).await;
    let code = mock.latest_code(DEMO_PHONE).await;

    let card = phone.app.card();
    let details = card.reveal().await.unwrap();
    card.freeze().await.unwrap();
    card.unfreeze().await.unwrap();
    let own = "4242424242424242";
    phone
        .app
        .payments()
        .save_member_card(own.into(), "12/34".into(), "737".into())
        .await
        .unwrap();
    mock.advance(11 * 60).await;
    phone.app.refresh_profile().await.unwrap();

    let invoice = premium_invoice(&mock, 4_250).await;
    let arrears = phone.app.arrears();
    arrears.sync().await.unwrap();
    arrears.pay(invoice.clone()).await.unwrap();
    arrears
        .write_message(invoice.clone(), "Réglé, merci.".into())
        .await
        .unwrap();

    let all = logs.0.lock().unwrap().clone();
    // The scan can fail: the journey's own lines are there (the mock logs the message's ids).
    assert!(
        contains(&all, b"tierspay_server_mock") && contains(&all, invoice.as_bytes()),
        "the journey's lines were captured: {} bytes",
        all.len()
    );
    let mut secrets: Vec<(&str, String)> = vec![
        ("card number", details.number.clone()),
        ("card number", spaced(&details.number)),
        ("the member's own card", own.into()),
        ("the member's own card", spaced(own)),
        ("push token", push_token.into()),
        ("birth date", DEMO_BIRTH_DATE.into()),
        ("phone number", DEMO_PHONE.into()),
        ("phone number", "0612345678".into()),
        ("email", "camille.martin@example.fr".into()),
    ];
    for token in stored_tokens(phone.secrets.as_ref()) {
        secrets.push(("token", token));
    }
    for (what, value) in &secrets {
        assert!(
            !contains(&all, value.as_bytes()),
            "the {what} is in the logs"
        );
    }
    assert!(
        !contains_number(&all, &code),
        "the one-time code is in the logs"
    );
    assert!(
        !contains(&all, format!("\"{}\"", details.cvc).as_bytes())
            && !contains(&all, format!("cvc={}", details.cvc).as_bytes()),
        "the CVC is in the logs"
    );
    let lower = all.to_ascii_lowercase();
    for header in [&b"authorization: bearer"[..], b"dpop: ey"] {
        assert!(
            !contains(&lower, header),
            "a credential header is in the logs"
        );
    }
}
