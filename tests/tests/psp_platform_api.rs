//! The mock PSP's Rust API, as the platform calls it inside its own database transactions:
//! pseudonymous cardholders, the healthcare card, its secrets, provisioning, tokens and status;
//! what it writes is what the Stripe wire format then serves.

// `ApiError` is large by design (a whole Stripe error document), as in the mock itself.
#![allow(clippy::result_large_err)]

use base64::Engine;
use serde_json::Value;
use tierspay_server_mock::psp::api;
use tierspay_tests::stripe::{now, B64};
use tierspay_tests::{Mock, Stripe};
use tierspay_wallet::test_pki::{TestPki, Variant};
use tierspay_wallet::{applepay, controls};

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
