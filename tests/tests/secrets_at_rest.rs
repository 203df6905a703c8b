//! After a whole journey, the phone's database holds no secret: not in the SQLite file, not in
//! its write-ahead log, not in the WAL index. The card number and code are shown once, tokens
//! live in secure storage only, and the one-time code is typed, used and forgotten.

use tierspay_core::{GooglePayAction, PassKitSimulator, PushService};
use tierspay_tests::secrets::{contains, contains_number, spaced, stored_tokens as tokens};
use tierspay_tests::{Mock, Phone, DEMO_PHONE};

/// The bytes of the database and of its companions, whichever exist now.
fn database_bytes(phone: &Phone) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let name = format!("tierspay.sqlite3{suffix}");
            std::fs::read(phone.dir.path().join(&name))
                .ok()
                .map(|b| (name, b))
        })
        .collect()
}

fn assert_clean(phone: &Phone, secrets: &[(&str, String)], moment: &str) {
    let files = database_bytes(phone);
    assert!(files.iter().any(|(n, _)| n.ends_with("-wal")) || moment == "after restart");
    for (name, bytes) in &files {
        for (what, value) in secrets {
            let found = match *what {
                "one-time code" => contains_number(bytes, value),
                // Three digits are everywhere: the code is looked for as a JSON value, next
                // to its name.
                "cvc" => contains(bytes, format!("\"{value}\"").as_bytes()),
                _ => contains(bytes, value.as_bytes()),
            };
            assert!(!found, "{moment}: the {what} is in {name}");
        }
        assert!(
            !contains(&bytes.to_ascii_lowercase(), b"cvc"),
            "{moment}: a cvc field in {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_whole_journey_the_phone_database_and_its_wal_hold_no_secret() {
    let mock = Mock::start().await;
    let mut phone = Phone::new(&mock);
    phone
        .app
        .register_push_token(PushService::Fcm, "fcm-token:APA91b_at_rest".into())
        .await
        .unwrap();
    phone.enroll_demo(&mock).await;
    let code = mock.latest_code(DEMO_PHONE).await;
    let mut secrets = vec![("one-time code", code)];
    for token in tokens(phone.secrets.as_ref()) {
        secrets.push(("token", token));
    }

    // The card: shown once, frozen and back, into both wallets.
    let card = phone.app.card();
    let details = card.reveal().await.unwrap();
    secrets.push(("card number", details.number.clone()));
    secrets.push(("card number", spaced(&details.number)));
    secrets.push(("cvc", details.cvc.clone()));
    card.freeze().await.unwrap();
    card.unfreeze().await.unwrap();
    let wallet = PassKitSimulator::new().unwrap();
    mock.trust_apple_root(&wallet.root_certificate()).await;
    let pass = card
        .apple_pay_pass_data(
            wallet.certificates(),
            wallet.nonce(),
            wallet.nonce_signature(),
        )
        .await
        .unwrap();
    assert!(wallet.open_pass(pass).unwrap().pan_valid);
    match card
        .google_pay_action("wallet-1".into(), "device-1".into(), vec![])
        .await
        .unwrap()
    {
        GooglePayAction::Push { .. } => {}
        other => panic!("{other:?}"),
    }
    phone.app.coverage().sync().await.unwrap();

    // A refresh rotates both tokens: the new ones, too, stay out of the database.
    mock.advance(11 * 60).await;
    phone.app.refresh_profile().await.unwrap();
    for token in tokens(phone.secrets.as_ref()) {
        secrets.push(("token", token));
    }
    assert_clean(&phone, &secrets, "with the app running");

    // Closed and opened again (the WAL checkpointed into the file).
    drop(card);
    phone.restart();
    assert!(phone.app.status().unwrap().enrolled);
    assert_clean(&phone, &secrets, "after restart");
}
