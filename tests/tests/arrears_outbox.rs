//! Paying arrears from the phone exactly once (issue 12), the phone's side against the
//! in-process mock: the outbox row written before anything is sent, sent once when the network
//! is back, and a crash at every step between (a failpoint makes the core stop there; the test
//! drops the app and opens the same data folder again) finished by the next start with exactly
//! one charge, counted at the PSP.

use tierspay_core::failpoints::{self, FailAction};
use tierspay_core::{PaymentProgress, TiersPay};
use tierspay_tests::pay_once::{charges_of, link_paths, premium_invoice, Browser};
use tierspay_tests::{Mock, Phone};

/// An enrolled phone with a saved card that pays (4242…) and one synced open invoice.
async fn phone_owing(mock: &Mock, amount: i64) -> (Phone, String) {
    let phone = Phone::new(mock);
    phone.enroll_demo(mock).await;
    phone
        .app
        .payments()
        .save_member_card("4242424242424242".into(), "12/34".into(), "123".into())
        .await
        .expect("card saved");
    let invoice = premium_invoice(mock, amount).await;
    let list = phone.app.arrears().sync().await.expect("synced");
    assert!(list.invoices.iter().any(|i| i.id == invoice), "synced");
    (phone, invoice)
}

fn progress_of(app: &TiersPay, invoice: &str) -> Option<PaymentProgress> {
    let i = app.arrears().invoice(invoice.into()).ok()?;
    i.payment.map(|p| p.progress)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_every_step_is_finished_by_the_next_start_with_one_charge() {
    let mock = Mock::start().await;
    for point in failpoints::ALL {
        let (mut phone, invoice) = phone_owing(&mock, 4_250).await;
        phone.app.arrears().arm_failpoint(point, FailAction::Error);
        let crashed = phone.app.arrears().pay(invoice.clone()).await;
        assert!(crashed.is_err(), "{point}: the failpoint stopped the core");
        let before = charges_of(&mock, &invoice);
        // Killed there: a new core on the same data folder, which resumes the row.
        phone.restart();
        let report = phone.app.arrears().send_outbox().await.expect("resumed");
        phone.app.arrears().sync().await.expect("synced");
        assert_eq!(
            charges_of(&mock, &invoice),
            1,
            "{point}: exactly one charge"
        );
        assert!(before <= 1, "{point}");
        assert_eq!(
            progress_of(&phone.app, &invoice),
            Some(PaymentProgress::Paid),
            "{point}: {report:?}"
        );
        let outbox = phone.app.arrears().outbox().unwrap();
        assert_eq!(outbox.len(), 1, "{point}: one row, never a second");
        assert!(!outbox[0].pending);
        // The same key every time: the PSP saw one payment however many sends there were.
        phone.app.arrears().send_outbox().await.unwrap();
        assert_eq!(charges_of(&mock, &invoice), 1, "{point}: nothing resent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_the_payment_waits_queued_a_second_tap_adds_nothing_and_it_goes_once_when_back() {
    let mut mock = Mock::start().await;
    let (phone, invoice) = phone_owing(&mock, 1_999).await;
    mock.stop().await;
    let first = phone
        .app
        .arrears()
        .pay(invoice.clone())
        .await
        .expect("queued");
    assert_eq!(first.entry.progress, PaymentProgress::Queued);
    assert!(!first.already_queued);
    let second = phone
        .app
        .arrears()
        .pay(invoice.clone())
        .await
        .expect("answered");
    assert!(second.already_queued, "a second tap while queued");
    assert_eq!(second.entry.seq, first.entry.seq);
    let button = phone
        .app
        .arrears()
        .invoice(invoice.clone())
        .unwrap()
        .pay_button
        .unwrap();
    assert!(button.shows && !button.enabled, "{button:?}");
    mock.restart().await;
    assert_eq!(charges_of(&mock, &invoice), 0, "nothing left the phone");
    phone.app.arrears().network_available().await.expect("sent");
    assert_eq!(charges_of(&mock, &invoice), 1);
    assert_eq!(
        progress_of(&phone.app, &invoice),
        Some(PaymentProgress::Paid)
    );
    assert_eq!(phone.app.arrears().outbox().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_payment_of_an_invoice_paid_meanwhile_from_the_email_link_is_canceled_and_explained(
) {
    let mut mock = Mock::start().await;
    let (phone, invoice) = phone_owing(&mock, 4_250).await;
    mock.stop().await;
    phone
        .app
        .arrears()
        .pay(invoice.clone())
        .await
        .expect("queued");
    mock.restart().await;
    // Meanwhile the member pays from the email's link in a browser.
    let link = link_paths(&mock, &invoice, &["email"]).await.remove(0);
    let browser = Browser::new(&mock);
    let form = browser.open_card_form(&link).await;
    browser.submit_card(&form, "4242424242424242").await;
    assert_eq!(charges_of(&mock, &invoice), 1, "paid from the link");
    phone.app.arrears().network_available().await.expect("sent");
    assert_eq!(
        charges_of(&mock, &invoice),
        1,
        "the phone's payment charged nothing"
    );
    let i = phone.app.arrears().invoice(invoice.clone()).unwrap();
    let payment = i.payment.expect("the phone's row");
    assert_eq!(payment.progress, PaymentProgress::AlreadyPaid);
    assert!(
        payment.message_en.starts_with("Already paid by card on ")
            && payment.message_en.contains("from the email link"),
        "{}",
        payment.message_en
    );
    assert!(
        payment.message_fr.contains("depuis le lien de l'e-mail"),
        "{}",
        payment.message_fr
    );
    assert!(!i.pay_button.unwrap().shows, "nothing left to pay");
}
