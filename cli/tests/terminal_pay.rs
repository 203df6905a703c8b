//! Paying at the doctor from the terminal, as a user runs it: the real `tierspay` binary
//! against a real mock. The card number is never echoed; `tierspay tap` is the simulated desk
//! terminal (a test tool with the PSP's secret key).

mod common;

use std::process::Output;

use common::{enroll, json, tierspay};
use serde_json::Value;
use tierspay_tests::Mock;

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mistyped_card_is_refused_on_its_field_without_echoing_the_number() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    for (args, field) in [
        (
            [
                "--number",
                "4242424242424241",
                "--exp",
                "12/34",
                "--cvc",
                "123",
            ],
            "number",
        ),
        (
            [
                "--number",
                "4242424242424242",
                "--exp",
                "13/34",
                "--cvc",
                "123",
            ],
            "expiry",
        ),
        (
            [
                "--number",
                "4242424242424242",
                "--exp",
                "12/34",
                "--cvc",
                "12a",
            ],
            "cvc",
        ),
    ] {
        let mut all = vec!["--json", "card", "save"];
        all.extend(args);
        let out = tierspay(&mock, dir.path(), &all);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_eq!(json(&out)["error"]["field"], field);
        assert!(!printed(&out).contains("424242424242"), "{}", printed(&out));
    }
    // Human output names the field too, and still not the number.
    let out = tierspay(
        &mock,
        dir.path(),
        &[
            "card",
            "save",
            "--number",
            "4000 0000 0000 0003",
            "--exp",
            "12/34",
            "--cvc",
            "123",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(printed(&out).contains("number"), "{}", printed(&out));
    assert!(!printed(&out).contains("0000 0000"), "{}", printed(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn save_a_card_authorize_tap_and_see_the_visit_paid_from_the_terminal() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    enroll(&mock, &data).await;

    let out = tierspay(
        &mock,
        &data,
        &["--json", "card", "save", "--test-card", "visa"],
    );
    assert!(out.status.success(), "{out:?}");
    let card = json(&out);
    assert_eq!(
        (card["status"].as_str(), card["last4"].as_str()),
        (Some("active"), Some("4242"))
    );
    assert!(!printed(&out).contains("4242424242424242"));

    let providers = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "providers",
            "--specialty",
            "Médecin généraliste",
            "--city",
            "Paris",
            "--limit",
            "50",
        ],
    );
    let gp = json(&providers)["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sector"] == 1)
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_owned();

    // Nothing armed: the terminal's tap is declined.
    let out = tierspay(
        &mock,
        &data,
        &["--json", "tap", "--amount", "30", "--provider", &gp],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["approved"], false);

    let out = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "visit",
            "authorize",
            "--beneficiary",
            "Camille",
            "--provider",
            &gp,
            "--act",
            "G",
            "--price",
            "30",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let armed = json(&out);
    assert_eq!(armed["visit"]["status"], "armed");
    let id = armed["visit"]["id"].as_str().unwrap().to_owned();

    // A spa's terminal is refused even with a visit armed; the doctor's is approved.
    let out = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "tap",
            "--amount",
            "30",
            "--provider",
            &gp,
            "--mcc",
            "7298",
        ],
    );
    assert_eq!(json(&out)["approved"], false, "{out:?}");
    let out = tierspay(
        &mock,
        &data,
        &["--json", "tap", "--amount", "30", "--provider", &gp],
    );
    let tap = json(&out);
    assert_eq!(
        (tap["approved"].as_bool(), tap["captured"].as_bool()),
        (Some(true), Some(true)),
        "{tap}"
    );

    let mut status = Value::Null;
    for _ in 0..100 {
        status = json(&tierspay(&mock, &data, &["--json", "visit", "status", &id]));
        if status["status"] == "paid" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status["status"], "paid", "{status}");
    assert_eq!(status["receipt"]["provider_paid"], "30.00");
    assert!(status["summary"]["en"]
        .as_str()
        .unwrap()
        .starts_with("Paid €30.00 to "));

    let out = tierspay(&mock, &data, &["--json", "visits", "--offline"]);
    assert_eq!(json(&out)["visits"][0]["id"], id.as_str());
}
