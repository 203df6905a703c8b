//! Messages on an invoice from the terminal, as a member writes them: the real `tierspay`
//! binary against a real mock. A message written offline waits on the terminal and is sent
//! once; one whose process dies after the server took it is sent again with its key and kept
//! once; support's answer shows in the thread; a text the server would refuse is refused
//! before anything is written.

mod common;

use common::{json, tierspay};
use serde_json::Value;
use tierspay_tests::pay_once::premium_invoice;
use tierspay_tests::Mock;

async fn staff_answer(mock: &Mock, invoice: &str, text: &str) {
    let (status, doc) = mock
        .post(
            "/v1/test_helpers/invoice_messages",
            serde_json::json!({"invoice": invoice, "staff_id": "stf_42",
                               "display_name": "Claire", "text": text}),
        )
        .await;
    assert_eq!(status, 200, "{doc}");
}

/// The messages of `invoice` the server holds, one line each.
fn server_messages(mock: &Mock, invoice: &str) -> usize {
    mock.snapshot(&["invoice_messages"])
        .lines()
        .filter(|l| l.contains(invoice))
        .count()
}

fn thread(doc: &Value) -> Vec<(String, String, bool)> {
    doc["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages: {doc}"))
        .iter()
        .map(|m| {
            (
                m["text"].as_str().unwrap_or_default().to_owned(),
                m["state"].as_str().unwrap_or_default().to_owned(),
                m["from_support"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_written_offline_is_sent_once_and_supports_answer_joins_the_thread() {
    let mut mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    common::enroll(&mock, &data).await;
    let invoice = premium_invoice(&mock, 4_250).await;

    let sent = json(&tierspay(
        &mock,
        &data,
        &[
            "--json",
            "write",
            &invoice,
            "  Bonjour, je paierai vendredi.\r\n",
        ],
    ));
    assert_eq!(sent["state"], "sent", "{sent}");
    assert_eq!(
        sent["text"], "Bonjour, je paierai vendredi.",
        "trimmed as the server keeps it"
    );
    assert_eq!(server_messages(&mock, &invoice), 1);

    // Refused on the terminal, naming the field; nothing written, nothing sent.
    for bad in ["   ", "bell\u{7}", &"x".repeat(2_001)] {
        let out = tierspay(&mock, &data, &["--json", "write", &invoice, bad]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert_eq!(json(&out)["error"]["field"], "text", "{out:?}");
    }
    // Another member's or an unknown invoice: the server's 404, kept as refused.
    let unknown = json(&tierspay(
        &mock,
        &data,
        &["--json", "write", "in_unknown", "Allô ?"],
    ));
    assert_eq!(unknown["state"], "failed", "{unknown}");

    // Offline: kept on the terminal, shown as waiting.
    mock.stop().await;
    let waiting = json(&tierspay(
        &mock,
        &data,
        &[
            "--json",
            "write",
            &invoice,
            "Pouvez-vous m'envoyer le détail ?",
        ],
    ));
    assert_eq!(waiting["state"], "pending", "{waiting}");
    let offline = json(&tierspay(
        &mock,
        &data,
        &["--json", "messages", &invoice, "--offline"],
    ));
    assert_eq!(
        thread(&offline),
        vec![
            ("Bonjour, je paierai vendredi.".into(), "sent".into(), false),
            (
                "Pouvez-vous m'envoyer le détail ?".into(),
                "pending".into(),
                false
            ),
        ],
        "{offline}"
    );

    // Back online: the read sends it first, once, and support's answer follows it.
    mock.restart().await;
    staff_answer(
        &mock,
        &invoice,
        "Bien reçu, le détail est en pièce jointe de votre espace.",
    )
    .await;
    let read = json(&tierspay(&mock, &data, &["--json", "messages", &invoice]));
    let shown = thread(&read);
    assert_eq!(shown.len(), 3, "{read}");
    assert!(shown.iter().all(|(_, state, _)| state == "sent"), "{read}");
    // In the server's time order: support answered before the waiting message reached it, in
    // the same second or the one before.
    let staff: Vec<&Value> = read["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from_support"] == true)
        .collect();
    assert_eq!(staff.len(), 1, "{read}");
    assert_eq!(staff[0]["author_name"], "Claire");
    assert_eq!(shown[0].0, "Bonjour, je paierai vendredi.");
    assert_eq!(
        server_messages(&mock, &invoice),
        3,
        "two from the member, one from support"
    );
    // Reading again adds nothing, on either side.
    let again = json(&tierspay(&mock, &data, &["--json", "messages", &invoice]));
    assert_eq!(thread(&again), shown);
    assert_eq!(server_messages(&mock, &invoice), 3);
}

/// The process dies right after the server committed the message and before the terminal
/// wrote the answer (a real exit at the `after_send` failpoint): the next command resends it
/// with the same key, the server answers with the message it kept, and the thread holds it once.
#[tokio::test(flavor = "multi_thread")]
async fn a_message_whose_answer_was_lost_to_a_kill_is_kept_once() {
    use tierspay_core::failpoints;

    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    common::enroll(&mock, &data).await;
    let invoice = premium_invoice(&mock, 4_250).await;
    let killed = common::command(&mock, &data)
        .env(failpoints::ENV, format!("{}=exit", failpoints::AFTER_SEND))
        .args([
            "--json",
            "write",
            &invoice,
            "Une seule fois, s'il vous plaît.",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("tierspay runs");
    assert_eq!(
        killed.status.code(),
        Some(failpoints::EXIT_CODE),
        "{killed:?}"
    );
    assert_eq!(server_messages(&mock, &invoice), 1, "the server took it");

    let read = json(&tierspay(&mock, &data, &["--json", "messages", &invoice]));
    assert_eq!(
        thread(&read),
        vec![(
            "Une seule fois, s'il vous plaît.".into(),
            "sent".into(),
            false
        )],
        "{read}"
    );
    assert_eq!(
        server_messages(&mock, &invoice),
        1,
        "resent with its key, kept once"
    );
}

/// The server took the message but its answer was dropped, and the resend then failed (503)
/// while the thread read went through: the phone held the server's copy and its own pending
/// one for a while. The next command's resend is answered with the kept message, and the
/// thread shows it once, sent, under the terminal's own id.
#[tokio::test(flavor = "multi_thread")]
async fn a_read_between_a_lost_answer_and_its_resend_leaves_one_message() {
    let mock = Mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t");
    common::enroll(&mock, &data).await;
    let invoice = premium_invoice(&mock, 4_250).await;
    let path = format!("/v1/me/invoices/{invoice}/messages");
    let arm = |mode: &'static str, count: u32| {
        let path = path.clone();
        let mock = &mock;
        async move {
            let (status, doc) = mock
                .post(
                    "/v1/test_helpers/faults",
                    serde_json::json!({"method": "POST", "path_prefix": path, "mode": mode,
                                       "count": count}),
                )
                .await;
            assert_eq!(status, 200, "{doc}");
        }
    };
    // The core tries a POST three times (two retries on a broken connection or a 503): the
    // first attempt commits and loses its answer, the two retries meet a 503.
    arm("drop_after_commit", 1).await;
    arm("fail", 2).await;
    let written = json(&tierspay(
        &mock,
        &data,
        &["--json", "write", &invoice, "Reçu ?"],
    ));
    assert_eq!(written["state"], "pending", "{written}");
    assert_eq!(
        server_messages(&mock, &invoice),
        1,
        "committed, answer lost"
    );

    // The next command sends the outbox twice (once as the terminal opens, once before the
    // read), three attempts each: all six meet a 503, and the read goes through.
    arm("fail", 6).await;
    let between = json(&tierspay(&mock, &data, &["--json", "messages", &invoice]));
    assert_eq!(
        thread(&between)
            .iter()
            .filter(|(_, state, _)| state == "pending")
            .count(),
        1,
        "still waiting for its answer: {between}"
    );
    assert_eq!(
        thread(&between).len(),
        2,
        "and the server's copy, read meanwhile: {between}"
    );

    let after = json(&tierspay(&mock, &data, &["--json", "messages", &invoice]));
    assert_eq!(
        thread(&after),
        vec![("Reçu ?".into(), "sent".into(), false)],
        "{after}"
    );
    assert_eq!(server_messages(&mock, &invoice), 1, "never posted twice");
}
