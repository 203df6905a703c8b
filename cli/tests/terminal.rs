//! The terminal shell as a user runs it: the real `tierspay` binary against a real mock.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{command, enroll_typing_the_code, json};
use serde_json::Value;
use tierspay_tests::{Mock, DEMO_BIRTH_DATE, DEMO_CONTRACT};

fn tierspay(mock: &Mock, data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = command(mock, data_dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tierspay runs");
    if let Some(text) = stdin {
        // A command that refuses its arguments exits without reading what would be typed:
        // the pipe may already be closed, and that is not the test's failure.
        if let Err(e) = child.stdin.take().unwrap().write_all(text.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
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

    let out = enroll_typing_the_code(&mock, &data).await;
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
    assert!(
        out.status.success(),
        "not enrolled, whatever is asked: {out:?}"
    );
    assert_eq!(json(&out)["enrolled"], false);
}

/// `tierspay ARGS` with only a data directory (no server given: what it remembers, if any).
fn bare(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tierspay"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TIERSPAY_SERVER")
        .env_remove("TIERSPAY_SERVER_KEY")
        .output()
        .unwrap()
}

async fn sms_count(mock: &Mock) -> usize {
    mock.get("/v1/test_helpers/outbox?channel=sms&limit=50")
        .await["data"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread")]
async fn input_is_checked_before_any_sms_and_a_fresh_terminal_says_not_enrolled() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    // A malformed code is refused before the SMS is sent (each start spends one of five).
    for code in ["abcdef", "12345", "1234567"] {
        let out = tierspay(
            &mock,
            &data,
            &[
                "--json",
                "enroll",
                "--contract-number",
                DEMO_CONTRACT,
                "--birth-date",
                DEMO_BIRTH_DATE,
                "--code",
                code,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_eq!(json(&out)["error"]["field"], "code");
    }
    assert_eq!(
        sms_count(&mock).await,
        0,
        "no SMS spent on a malformed code"
    );

    // Never enrolled: every command that needs a session says so, not "give --server".
    for args in [
        &["--json", "providers", "--search", "martin"][..],
        &["--json", "beneficiaries"],
        &["--json", "card"],
        &["--json", "sync"],
    ] {
        let out = bare(&data, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let doc = json(&out);
        assert_eq!(doc["error"]["kind"], "not_enrolled", "{args:?}: {doc}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not enrolled"),
            "{doc}"
        );
    }
    let out = bare(&data, &["sign-out"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Not enrolled"));

    // A limit of zero would still list providers: refused as bad input.
    for limit in ["0", "51"] {
        let out = tierspay(
            &mock,
            &data,
            &[
                "--json",
                "providers",
                "--search",
                "martin",
                "--limit",
                limit,
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{limit}: {out:?}");
        assert_eq!(json(&out)["error"]["field"], "limit");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_enrolled_terminal_keeps_its_server_its_files_private_and_reads_prices_strictly() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    // A push token given before enrollment waits for it.
    let out = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "push",
            "register",
            "--service",
            "fcm",
            "--token",
            "cli-token:APA91b",
        ],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["push_token"]["registered"], false);
    let out = enroll_typing_the_code(&mock, &data).await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json(&out)["round_trips"], 4, "…and the push token");

    // The data folder is its owner's only, and so is every file in it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        for name in [
            "tierspay.sqlite3",
            "tierspay.sqlite3-wal",
            "tierspay.sqlite3-shm",
            "terminal.json",
            "secrets.json",
        ] {
            let path = data.join(name);
            if name.ends_with("-wal") || name.ends_with("-shm") {
                // SQLite removes them when the last connection closes cleanly.
                if !path.exists() {
                    continue;
                }
            }
            assert_eq!(mode(&path), 0o600, "{name}");
        }
    }

    // The card freeze pushes to the token registered at enrollment.
    let out = bare(&data, &["--json", "card", "freeze"]);
    assert!(out.status.success(), "{out:?}");
    let pushes = mock
        .get("/v1/test_helpers/outbox?channel=push&recipient=cli-token:APA91b")
        .await;
    assert_eq!(pushes["data"][0]["subject"], "Card frozen", "{pushes}");
    let out = tierspay(
        &mock,
        &data,
        &[
            "--json",
            "push",
            "register",
            "--service",
            "apns",
            "--token",
            "xyz",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(json(&out)["error"]["field"], "token");

    // Another server (a relay, a typo) never gets this terminal's session.
    let relay = mock.url.replace("127.0.0.1", "localhost");
    for args in [
        &["--json", "status", "--sync"][..],
        &["--json", "card", "reveal"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_tierspay"))
            .args(["--server", &relay, "--data-dir"])
            .arg(&data)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let doc = json(&out);
        assert_eq!(doc["error"]["field"], "server_url", "{doc}");
        assert!(
            doc["error"]["message"]
                .as_str()
                .unwrap()
                .contains("sign out first"),
            "{doc}"
        );
    }

    // One grammar for prices: clap lets `-3` through to it, and `1_000` is refused as on
    // the server.
    for price in ["-3", "1_000", "1e3", "+5"] {
        let out = bare(
            &data,
            &[
                "--json",
                "preview",
                "--beneficiary",
                "Camille",
                "--provider",
                "nobody",
                "--act",
                "G",
                "--price",
                price,
            ],
        );
        let doc = json(&out);
        assert_eq!(out.status.code(), Some(2), "{price}: {doc}");
        assert_eq!(doc["error"]["field"], "price", "{price}: {doc}");
    }
    let out = bare(
        &data,
        &[
            "--json",
            "preview",
            "--beneficiary",
            "Camille",
            "--provider",
            "nobody",
            "--act",
            "G",
            "--price",
            "-3",
        ],
    );
    assert!(
        json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than zero"),
        "{out:?}"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_data_folder_is_named_in_the_error() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    let out = enroll_typing_the_code(&mock, &data).await;
    assert!(out.status.success(), "{out:?}");
    // Root writes through any mode: the folder then goes to `nobody`, who runs the terminal.
    let as_root = std::fs::metadata(&data).unwrap().uid() == 0;
    const NOBODY: u32 = 65534;
    if as_root {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in std::fs::read_dir(&data).unwrap() {
            std::os::unix::fs::chown(entry.unwrap().path(), Some(NOBODY), Some(NOBODY)).unwrap();
        }
        std::os::unix::fs::chown(&data, Some(NOBODY), Some(NOBODY)).unwrap();
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o500)).unwrap();
    let mut status = Command::new(env!("CARGO_BIN_EXE_tierspay"));
    status
        .args(["--json", "--data-dir"])
        .arg(&data)
        .arg("status");
    if as_root {
        status.uid(NOBODY).gid(NOBODY);
    }
    let out = status.output().unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let doc = json(&out);
    assert_eq!(doc["error"]["field"], "data_dir", "{doc}");
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&data.display().to_string()) && message.contains("cannot write"),
        "names the folder and what is wrong: {message}"
    );
    assert!(!message.contains("internal error"), "{message}");
}
