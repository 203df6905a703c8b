//! The mock PSP's network tokens through their card's life: freezing suspends them, unfreezing
//! resumes the ones the freeze suspended, canceling deletes them all; and Stripe's token update
//! with its transition rules.

use serde_json::Value;
use tierspay_tests::stripe::{code, google_push, param, tokens};
use tierspay_tests::{Mock, Stripe};

#[tokio::test(flavor = "multi_thread")]
async fn freezing_suspends_tokens_unfreezing_resumes_them_and_canceling_deletes_them() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let ich = psp.cardholder("Membre F1").await;
    let ic = psp.active_card(&ich).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ids = Vec::new();
    for device in ["d1", "d2"] {
        let push = google_push(&psp, &ic, "w", device).await;
        let id = push.body["token"].as_str().unwrap().to_owned();
        let opc = push.body["opaque_payment_card"]
            .as_str()
            .unwrap()
            .to_owned();
        psp.ok_post(
            &format!("/v1/test_helpers/issuing/tokens/{id}/activate"),
            &[
                ("opaque_payment_card", &opc),
                ("wallet_account_id", "w"),
                ("device_id", device),
            ],
        )
        .await;
        ids.push(id);
    }
    let requested = google_push(&psp, &ic, "w", "d3").await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The member suspended the d2 token themselves: unfreezing must not resume it.
    let s = psp
        .ok_post(
            &format!("/v1/issuing/tokens/{}", ids[1]),
            &[("status", "suspended")],
        )
        .await;
    assert_eq!(s["status"], "suspended");

    let status_of = |list: &[Value], id: &str| {
        list.iter().find(|t| t["id"] == id).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    psp.set_status(&ic, "inactive").await;
    let list = tokens(&psp, &ic).await;
    assert_eq!(status_of(&list, &ids[0]), "suspended");
    assert_eq!(status_of(&list, &ids[1]), "suspended");
    assert_eq!(status_of(&list, &requested), "requested");
    // A token of a frozen card cannot be resumed on its own.
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{}", ids[0]),
            &[("status", "active")],
        )
        .await;
    assert_eq!((a.status, code(&a)), (400, "card_inactive"));

    psp.set_status(&ic, "active").await;
    let list = tokens(&psp, &ic).await;
    assert_eq!(status_of(&list, &ids[0]), "active");
    assert_eq!(status_of(&list, &ids[1]), "suspended");
    let events = psp
        .ok_get(
            "/v1/events",
            &[("type", "issuing_token.updated"), ("limit", "100")],
        )
        .await;
    assert!(events["data"].as_array().unwrap().len() >= 4);

    // Token rules: a requested token is not activated by the API; deleted is final.
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{requested}"),
            &[("status", "active")],
        )
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "token_status_transition_invalid")
    );
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{}", ids[0]),
            &[("status", "requested")],
        )
        .await;
    assert_eq!((a.status, param(&a)), (400, "status"));

    psp.set_status(&ic, "canceled").await;
    let list = tokens(&psp, &ic).await;
    assert!(list.iter().all(|t| t["status"] == "deleted"), "{list:?}");
    let a = psp
        .post(
            &format!("/v1/issuing/tokens/{}", ids[0]),
            &[("status", "active")],
        )
        .await;
    assert_eq!(
        (a.status, code(&a)),
        (400, "token_status_transition_invalid")
    );
    let deleted = psp
        .ok_get(
            "/v1/issuing/tokens",
            &[("card", &ic), ("status", "deleted")],
        )
        .await;
    assert_eq!(deleted["data"].as_array().unwrap().len(), 3);
}
