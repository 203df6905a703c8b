//! What the terminal's end-to-end tests share: running the real `tierspay` binary against a
//! mock, reading its JSON output, and enrolling the demo holder by typing the SMS code at the
//! prompt. Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use tierspay_tests::{Mock, DEMO_BIRTH_DATE, DEMO_CONTRACT, DEMO_PHONE};

/// The `tierspay` binary bound to the mock (its URL and pinned key) and the data folder
/// `data_dir`; the caller adds the arguments and runs it.
pub fn command(mock: &Mock, data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tierspay"));
    command
        .args([
            "--server",
            &mock.url,
            "--server-key",
            &mock.key,
            "--data-dir",
        ])
        .arg(data_dir);
    command
}

/// `tierspay` with `args` (see [`command`]), with nothing on its standard input.
pub fn tierspay(mock: &Mock, data_dir: &std::path::Path, args: &[&str]) -> Output {
    command(mock, data_dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("tierspay runs")
}

/// The one JSON document a `--json` command printed on its standard output.
pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("one JSON document: {output:?}"))
}

/// `tierspay --json enroll` for the demo holder, the code typed at the prompt once the SMS
/// has arrived; the command's output, whatever it is.
pub async fn enroll_typing_the_code(mock: &Mock, data: &std::path::Path) -> Output {
    let mut child = command(mock, data)
        .args([
            "--json",
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
    child.wait_with_output().unwrap()
}

/// Enrolls the demo holder in `data` (as [`enroll_typing_the_code`], which must succeed) and
/// gives the member's id.
pub async fn enroll(mock: &Mock, data: &std::path::Path) -> String {
    let out = enroll_typing_the_code(mock, data).await;
    assert!(out.status.success(), "{out:?}");
    json(&out)["profile"]["member"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A terminal enrolled as the demo holder in a fresh folder, with the Visa test card saved:
/// the folder's guard (keep it alive) and the data path in it.
pub async fn enrolled_with_card(mock: &Mock) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    enroll(mock, &data).await;
    let out = tierspay(
        mock,
        &data,
        &["--json", "card", "save", "--test-card", "visa"],
    );
    assert!(out.status.success(), "{out:?}");
    (dir, data)
}
