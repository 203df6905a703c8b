//! The terminal shell as a user runs it: the real `tierspay` binary against a real mock.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tierspay_tests::{Mock, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

fn tierspay(mock: &Mock, data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierspay"))
        .args([
            "--server",
            &mock.url,
            "--server-key",
            &mock.key,
            "--data-dir",
        ])
        .arg(data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tierspay runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("one JSON document: {output:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn enroll_status_and_sign_out_from_the_terminal() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");

    let out = tierspay(&mock, &data, &["--json", "status"], None);
    assert!(out.status.success());
    assert_eq!(json(&out)["enrolled"], false);

    // The code is typed at the prompt: start with a wrong birth date first.
    let out = tierspay(
        &mock,
        &data,
        &[
            "enroll",
            "--contract-number",
            DEMO_CONTRACT,
            "--birth-date",
            "1985-04-13",
        ],
        Some("123456\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No contract matches"));

    // The member types the code once the SMS has arrived.
    let mut child = Command::new(env!("CARGO_BIN_EXE_tierspay"))
        .args([
            "--server",
            &mock.url,
            "--server-key",
            &mock.key,
            "--json",
            "--data-dir",
        ])
        .arg(&data)
        .args([
            "enroll",
            "--contract-number",
            DEMO_CONTRACT,
            "--birth-date",
            DEMO_BIRTH_DATE,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let code = loop {
        let list = mock
            .get("/v1/test_helpers/outbox?channel=sms&limit=1")
            .await;
        if list["data"].as_array().is_some_and(|d| !d.is_empty()) {
            break mock.latest_code(DEMO_PHONE).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{code}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["enrolled"], true);
    assert_eq!(doc["round_trips"], 3, "start, confirm, coverage sync");
    assert_eq!(doc["profile"]["beneficiaries"].as_array().unwrap().len(), 4);

    // Later commands remember the server; status is offline, --sync goes through DPoP.
    let out = Command::new(env!("CARGO_BIN_EXE_tierspay"))
        .args(["--json", "--data-dir"])
        .arg(&data)
        .args(["status", "--sync"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["profile"]["member"]["first_name"], "Camille");
    // Tokens live in secure storage only, never in the database.
    let secrets: Value =
        serde_json::from_slice(&std::fs::read(data.join("secrets.json")).unwrap()).unwrap();
    let tokens =
        tierspay_core::auth::b64url_decode(secrets["tierspay.tokens"].as_str().unwrap()).unwrap();
    let tokens: Value = serde_json::from_slice(&tokens).unwrap();
    let db = String::from_utf8_lossy(&std::fs::read(data.join("tierspay.sqlite3")).unwrap())
        .into_owned();
    for token in [&tokens["access"], &tokens["refresh"]] {
        let token = token.as_str().unwrap();
        assert!(
            token.len() > 20 && !db.contains(token),
            "no token in the database"
        );
    }

    let out = tierspay(&mock, &data, &["--json", "sign-out"], None);
    assert!(out.status.success());
    let out = tierspay(&mock, &data, &["--json", "status"], None);
    assert_eq!(json(&out)["enrolled"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_named_error_and_exit_code_2() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = tierspay(
        &mock,
        dir.path(),
        &[
            "--json",
            "enroll",
            "--contract-number",
            "x",
            "--birth-date",
            "1985-04-12",
            "--code",
            "123456",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["field"], "contract_number");
    let out = tierspay(
        &mock,
        dir.path(),
        &["--json", "link", "https://evil.example/enroll"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["field"], "url");
    let out = tierspay(
        &mock,
        dir.path(),
        &["--json", "link", "tierspay://enroll?contract=TP1000002"],
        None,
    );
    assert_eq!(json(&out)["contract_number"], "TP1000002");
    let out = Command::new(env!("CARGO_BIN_EXE_tierspay"))
        .args(["--json", "--data-dir"])
        .arg(dir.path().join("none"))
        .arg("status")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "never configured: not enrolled, no server needed"
    );
    assert_eq!(json(&out)["enrolled"], false);
    let out = Command::new(env!("CARGO_BIN_EXE_tierspay"))
        .args(["--json", "--data-dir"])
        .arg(dir.path().join("none"))
        .args(["status", "--sync"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["field"], "server");
}
