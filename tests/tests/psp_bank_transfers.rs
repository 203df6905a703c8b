//! Incoming SEPA credits reconciled by RF creditor reference, the review queue, and refunds
//! (`re_…`): a card charge refunded through the ledger, an overpaid transfer refunded to its
//! debtor, Stripe's errors for refunds that cannot be.

use serde_json::Value;
use tierspay_tests::invoices::{card, open, s};
use tierspay_tests::stripe::{code, param};
use tierspay_tests::{Mock, Stripe};

const PLATFORM: &str = "acct_1TiersPayPlatform";
const IBAN: &str = "FR76 3000 6000 0112 3456 7890 189";

async fn credit(psp: &Stripe<'_>, amount: i64, remittance: &str) -> Value {
    let amount = amount.to_string();
    psp.ok_post(
        "/v1/test_helpers/bank_transfers",
        &[
            ("amount", &amount),
            ("currency", "eur"),
            ("remittance_information", remittance),
            ("debtor_name", "Jean Dupont"),
            ("debtor_iban", IBAN),
            ("end_to_end_id", "NOTPROVIDED"),
        ],
    )
    .await
}

async fn invoice(psp: &Stripe<'_>, id: &str) -> Value {
    psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await
}

/// The grouped paper form, in lower case, as a member may type it.
fn typed(rf: &str) -> String {
    rf.to_lowercase()
        .chars()
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn ledger_sum(mock: &Mock, account: &str) -> i64 {
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    db.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM psp_ledger_entries WHERE account = ?1",
        [account],
        |r| r.get(0),
    )
    .unwrap()
}

fn unbalanced(mock: &Mock) -> i64 {
    let db = rusqlite::Connection::open(mock.db_path()).unwrap();
    db.query_row(
        "SELECT COUNT(*) FROM (SELECT movement_id FROM psp_ledger_entries
         GROUP BY movement_id, currency HAVING SUM(amount) <> 0)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

async fn event_types(psp: &Stripe<'_>, object: &str) -> Vec<String> {
    let list = psp.ok_get("/v1/events", &[("limit", "100")]).await;
    tierspay_tests::invoices::event_types(&list, object)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_with_the_reference_typed_any_way_pays_its_invoice_through_the_ledger() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 4250).await;
    let id = s(&inv["id"]).to_owned();
    let rf = s(&inv["rf_reference"]).to_owned();
    assert!(rf.starts_with("RF"), "{inv}");
    let platform_before = ledger_sum(&mock, PLATFORM);
    let bank_before = ledger_sum(&mock, "external:bank");

    let sct = credit(&psp, 4250, &format!("Cotisation {} merci", typed(&rf))).await;
    assert_eq!(sct["object"], "bank_transfer");
    assert!(s(&sct["id"]).starts_with("sct_"));
    assert_eq!(sct["status"], "matched", "{sct}");
    assert_eq!(sct["invoice"], id.as_str());
    assert_eq!(sct["reference"], rf.as_str());
    assert_eq!(sct["amount_applied"], 4250);
    assert_eq!(sct["amount_overpaid"], 0);
    assert_eq!(sct["debtor"]["iban_last4"], "0189");
    assert_eq!(sct["refunds"], serde_json::json!([]));

    let paid = invoice(&psp, &id).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_remaining"], 0);
    assert_eq!(paid["amount_paid"], 4250);
    // From the bank to the platform's payments balance, no fee, one balance transaction.
    assert_eq!(ledger_sum(&mock, PLATFORM) - platform_before, 4250);
    assert_eq!(ledger_sum(&mock, "external:bank") - bank_before, -4250);
    let txn = psp
        .ok_get(
            &format!(
                "/v1/balance_transactions/{}",
                s(&sct["balance_transaction"])
            ),
            &[],
        )
        .await;
    assert_eq!(txn["type"], "payment");
    assert_eq!(txn["amount"], 4250);
    assert_eq!(txn["net"], 4250);
    assert_eq!(txn["source"], sct["id"]);
    assert_eq!(unbalanced(&mock), 0);
    let kinds = event_types(&psp, &id).await;
    assert!(
        kinds.contains(&"invoice.payment_succeeded".to_owned()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"invoice.paid".to_owned()), "{kinds:?}");
    let read = psp
        .ok_get(
            &format!("/v1/test_helpers/bank_transfers/{}", s(&sct["id"])),
            &[],
        )
        .await;
    assert_eq!(read, sct);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_transfer_leaves_the_rest_due_and_a_long_one_is_refunded_to_the_debtor() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 10_000).await;
    let id = s(&inv["id"]).to_owned();
    let rf = s(&inv["rf_reference"]).to_owned();

    let first = credit(&psp, 3_000, &rf).await;
    assert_eq!(first["status"], "matched");
    let part = invoice(&psp, &id).await;
    assert_eq!(part["status"], "open");
    assert_eq!(part["amount_paid"], 3_000);
    assert_eq!(part["amount_remaining"], 7_000);

    let platform_before = ledger_sum(&mock, PLATFORM);
    let second = credit(&psp, 9_500, &format!("solde {rf}")).await;
    assert_eq!(second["amount_applied"], 7_000);
    assert_eq!(second["amount_overpaid"], 2_500);
    let paid = invoice(&psp, &id).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_remaining"], 0);
    assert_eq!(paid["amount_overpaid"], 2_500);
    assert!(event_types(&psp, &id)
        .await
        .contains(&"invoice.overpaid".to_owned()));

    // The excess went back to the debtor at once: a refund to their account.
    let refunds = second["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{second}");
    let re = psp
        .ok_get(&format!("/v1/refunds/{}", s(&refunds[0])), &[])
        .await;
    assert_eq!(re["object"], "refund");
    assert_eq!(re["amount"], 2_500);
    assert_eq!(re["status"], "succeeded");
    assert_eq!(re["charge"], Value::Null);
    assert_eq!(re["bank_transfer"], second["id"]);
    assert_eq!(re["destination_details"]["type"], "eu_bank_transfer");
    assert_eq!(
        re["destination_details"]["eu_bank_transfer"]["iban_last4"],
        "0189"
    );
    let txn = psp
        .ok_get(
            &format!("/v1/balance_transactions/{}", s(&re["balance_transaction"])),
            &[],
        )
        .await;
    assert_eq!(txn["type"], "refund");
    assert_eq!(txn["amount"], -2_500);
    assert_eq!(txn["net"], -2_500);
    // The platform keeps exactly what was due.
    assert_eq!(ledger_sum(&mock, PLATFORM) - platform_before, 7_000);
    assert_eq!(unbalanced(&mock), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_after_a_card_payment_is_wholly_refunded_and_recorded_as_overpaid() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 5_000).await;
    let id = s(&inv["id"]).to_owned();
    let by_card = psp
        .ok_post(
            &format!("/v1/invoices/{id}/pay"),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
    assert_eq!(by_card["status"], "paid", "{by_card}");
    let late = credit(&psp, 5_000, s(&inv["rf_reference"])).await;
    assert_eq!(late["status"], "matched");
    assert_eq!(late["amount_applied"], 0);
    assert_eq!(late["amount_overpaid"], 5_000);
    let after = invoice(&psp, &id).await;
    assert_eq!(after["amount_overpaid"], 5_000);
    assert_eq!(after["amount_paid"], 5_000);
    let re = psp
        .ok_get(&format!("/v1/refunds/{}", s(&late["refunds"][0])), &[])
        .await;
    assert_eq!(re["amount"], 5_000);
    assert_eq!(re["status"], "succeeded");
    assert!(event_types(&psp, &id)
        .await
        .contains(&"invoice.overpaid".to_owned()));
    assert_eq!(unbalanced(&mock), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_cannot_be_matched_waits_in_review_and_never_pays_the_wrong_invoice() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let a = open(&psp, 2_000).await;
    let b = open(&psp, 3_000).await;
    let void = open(&psp, 1_000).await;
    psp.ok_post(&format!("/v1/invoices/{}/void", s(&void["id"])), &[])
        .await;
    let rf_a = s(&a["rf_reference"]).to_owned();
    let rf_b = s(&b["rf_reference"]).to_owned();
    // One character mistyped: the check digits refuse it.
    let mut typo: Vec<char> = rf_a.chars().collect();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == '0' { '1' } else { '0' };
    let typo: String = typo.into_iter().collect();
    let unknown = tierspay_core::domain::rf_reference::RfReference::make("NOBODY42")
        .unwrap()
        .to_string();

    let platform_before = ledger_sum(&mock, PLATFORM);
    let cases = [
        (typo.clone(), "reference_checksum_failed"),
        (unknown.clone(), "reference_unknown"),
        (format!("{rf_a} {rf_b}"), "several_references"),
        ("Cotisation de Jean".to_owned(), "no_reference"),
        (s(&void["rf_reference"]).to_owned(), "invoice_void"),
    ];
    let mut ids = Vec::new();
    for (text, reason) in &cases {
        let sct = credit(&psp, 2_000, text).await;
        assert_eq!(sct["status"], "review", "{text}: {sct}");
        assert_eq!(sct["review"]["reason"], *reason, "{text}: {sct}");
        assert!(s(&sct["review"]["message"]).len() > 10);
        assert_eq!(sct["amount_applied"], 0);
        ids.push(s(&sct["id"]).to_owned());
    }
    // No invoice moved; the money waits outside every balance.
    for inv in [&a, &b] {
        let now = invoice(&psp, s(&inv["id"])).await;
        assert_eq!(now["amount_paid"], 0, "{now}");
        assert_eq!(now["status"], "open");
    }
    assert_eq!(ledger_sum(&mock, PLATFORM), platform_before);
    assert_eq!(
        ledger_sum(&mock, &format!("{PLATFORM}:unreconciled")),
        2_000 * cases.len() as i64
    );
    let queue = psp
        .ok_get(
            "/v1/test_helpers/bank_transfers/review",
            &[("limit", "100")],
        )
        .await;
    let queued: Vec<&str> = queue["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| s(&t["id"]))
        .collect();
    assert_eq!(queued.len(), cases.len());
    for id in &ids {
        assert!(queued.contains(&id.as_str()));
    }

    // A person applies the mistyped one to the invoice it meant, and returns the anonymous one.
    let applied = psp
        .ok_post(
            &format!("/v1/test_helpers/bank_transfers/{}/apply", ids[0]),
            &[("invoice", s(&a["id"]))],
        )
        .await;
    assert_eq!(applied["status"], "matched", "{applied}");
    assert_eq!(applied["review"], Value::Null);
    assert_eq!(applied["amount_applied"], 2_000);
    assert_eq!(invoice(&psp, s(&a["id"])).await["status"], "paid");
    let returned = psp
        .ok_post(
            &format!("/v1/test_helpers/bank_transfers/{}/return", ids[3]),
            &[],
        )
        .await;
    assert_eq!(returned["status"], "returned");
    let re = psp
        .ok_get(&format!("/v1/refunds/{}", s(&returned["refunds"][0])), &[])
        .await;
    assert_eq!(re["amount"], 2_000);
    assert_eq!(ledger_sum(&mock, PLATFORM) - platform_before, 2_000);
    assert_eq!(
        ledger_sum(&mock, &format!("{PLATFORM}:unreconciled")),
        2_000 * (cases.len() as i64 - 2)
    );
    // Not twice, not to a void invoice, not an unknown one.
    let again = psp
        .post(
            &format!("/v1/test_helpers/bank_transfers/{}/return", ids[3]),
            &[],
        )
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(code(&again), "bank_transfer_unexpected_state");
    let to_void = psp
        .post(
            &format!("/v1/test_helpers/bank_transfers/{}/apply", ids[1]),
            &[("invoice", s(&void["id"]))],
        )
        .await;
    assert_eq!((to_void.status, param(&to_void)), (400, "invoice"));
    let nowhere = psp
        .post(
            &format!("/v1/test_helpers/bank_transfers/{}/apply", ids[1]),
            &[("invoice", "in_missing")],
        )
        .await;
    assert_eq!(nowhere.status, 404);
    let queue = psp
        .ok_get("/v1/test_helpers/bank_transfers/review", &[])
        .await;
    assert_eq!(queue["data"].as_array().unwrap().len(), cases.len() - 2);
    assert_eq!(unbalanced(&mock), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_credits_are_refused_naming_the_field_and_a_retry_books_once() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let long = "x".repeat(141);
    let base = [
        ("amount", "1000"),
        ("currency", "eur"),
        ("remittance_information", "RF18539007547034"),
        ("debtor_name", "Jean Dupont"),
        ("end_to_end_id", "E2E-1"),
    ];
    let with = |k: &'static str, v: &'static str| {
        let mut f: Vec<(&str, &str)> = base.iter().copied().filter(|(n, _)| *n != k).collect();
        f.push((k, v));
        f
    };
    let without =
        |k: &str| -> Vec<(&str, &str)> { base.iter().copied().filter(|(n, _)| *n != k).collect() };
    let long: &'static str = Box::leak(long.into_boxed_str());
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (without("amount"), "amount"),
        (with("amount", "0"), "amount"),
        (with("amount", "100000000"), "amount"),
        (with("amount", "12.5"), "amount"),
        (with("currency", "usd"), "currency"),
        (
            with("remittance_information", long),
            "remittance_information",
        ),
        (
            with("remittance_information", "RF18\u{202E}5390"),
            "remittance_information",
        ),
        (without("debtor_name"), "debtor_name"),
        (with("debtor_name", "  "), "debtor_name"),
        (
            with("debtor_iban", "FR7630006000011234567890188"),
            "debtor_iban",
        ),
        (without("end_to_end_id"), "end_to_end_id"),
        (with("end_to_end_id", "E2E 1"), "end_to_end_id"),
        (with("colour", "red"), "colour"),
    ];
    let tables = ["psp_bank_transfers", "psp_ledger_entries", "psp_refunds"];
    let before = mock.snapshot(&tables);
    for (form, field) in &cases {
        let a = psp.post("/v1/test_helpers/bank_transfers", form).await;
        assert_eq!(a.status, 400, "{form:?}: {}", a.body);
        assert_eq!(param(&a), *field, "{form:?}: {}", a.body);
    }
    assert_eq!(mock.snapshot(&tables), before);

    let first = psp
        .post_idempotent("/v1/test_helpers/bank_transfers", &base, "sct-key-1")
        .await;
    let again = psp
        .post_idempotent("/v1/test_helpers/bank_transfers", &base, "sct-key-1")
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(again.body["id"], first.body["id"]);
    let all = psp
        .ok_get("/v1/test_helpers/bank_transfers", &[("limit", "100")])
        .await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    let bad = psp
        .get("/v1/test_helpers/bank_transfers", &[("status", "lost")])
        .await;
    assert_eq!((bad.status, param(&bad)), (400, "status"));
    let missing = psp
        .get("/v1/test_helpers/bank_transfers/sct_missing", &[])
        .await;
    assert_eq!(missing.status, 404);
}

/// A captured card payment of `amount` (and its charge), or an uncaptured one.
async fn card_payment(psp: &Stripe<'_>, amount: i64, capture: bool) -> (String, String) {
    let amount = amount.to_string();
    let mut form = vec![
        ("amount", amount.as_str()),
        ("currency", "eur"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    if !capture {
        form.push(("capture_method", "manual"));
    }
    let pi = psp.ok_post("/v1/payment_intents", &form).await;
    (s(&pi["id"]).to_owned(), s(&pi["latest_charge"]).to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn card_refunds_move_money_back_and_refuse_what_cannot_be_refunded() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let (pi, ch) = card_payment(&psp, 10_000, true).await;
    let platform_before = ledger_sum(&mock, PLATFORM);

    let re = psp
        .ok_post(
            "/v1/refunds",
            &[
                ("payment_intent", &pi),
                ("amount", "4000"),
                ("reason", "requested_by_customer"),
                ("metadata[case]", "42"),
            ],
        )
        .await;
    assert!(s(&re["id"]).starts_with("re_"));
    assert_eq!(re["object"], "refund");
    assert_eq!(re["amount"], 4_000);
    assert_eq!(re["charge"], ch.as_str());
    assert_eq!(re["payment_intent"], pi.as_str());
    assert_eq!(re["currency"], "eur");
    assert_eq!(re["status"], "succeeded");
    assert_eq!(re["reason"], "requested_by_customer");
    assert_eq!(re["metadata"]["case"], "42");
    assert_eq!(re["destination_details"]["type"], "card");
    let txn = psp
        .ok_get(
            &format!("/v1/balance_transactions/{}", s(&re["balance_transaction"])),
            &[],
        )
        .await;
    assert_eq!(txn["type"], "refund");
    assert_eq!(txn["reporting_category"], "refund");
    assert_eq!(txn["amount"], -4_000);
    assert_eq!(txn["net"], -4_000);
    assert_eq!(ledger_sum(&mock, PLATFORM) - platform_before, -4_000);
    let charge = psp.ok_get(&format!("/v1/charges/{ch}"), &[]).await;
    assert_eq!(charge["amount_refunded"], 4_000);
    assert_eq!(charge["refunded"], false);

    // More than is left: Stripe's amount_too_large, nothing written.
    let tables = ["psp_refunds", "psp_ledger_entries", "psp_charges"];
    let before = mock.snapshot(&tables);
    let too_much = psp
        .post("/v1/refunds", &[("charge", &ch), ("amount", "6001")])
        .await;
    assert_eq!(too_much.status, 400, "{}", too_much.body);
    assert_eq!(
        (code(&too_much), param(&too_much)),
        ("amount_too_large", "amount")
    );
    assert!(s(&too_much.body["error"]["message"]).contains("€60.00"));
    assert_eq!(mock.snapshot(&tables), before);
    // The rest, then nothing left.
    let rest = psp.ok_post("/v1/refunds", &[("charge", &ch)]).await;
    assert_eq!(rest["amount"], 6_000);
    let charge = psp.ok_get(&format!("/v1/charges/{ch}"), &[]).await;
    assert_eq!(charge["refunded"], true);
    let done = psp.post("/v1/refunds", &[("charge", &ch)]).await;
    assert_eq!(code(&done), "charge_already_refunded");
    assert!(event_types(&psp, &ch)
        .await
        .contains(&"charge.refunded".to_owned()));
    assert!(event_types(&psp, s(&rest["id"]))
        .await
        .contains(&"refund.created".to_owned()));

    // An authorization never captured is canceled, not refunded.
    let (held, held_charge) = card_payment(&psp, 2_000, false).await;
    for form in [
        vec![("payment_intent", held.as_str())],
        vec![("charge", held_charge.as_str())],
    ] {
        let a = psp.post("/v1/refunds", &form).await;
        assert_eq!(a.status, 400, "{}", a.body);
        assert_eq!(code(&a), "charge_not_refundable", "{}", a.body);
    }
    // Other bad input.
    let (other_pi, _) = card_payment(&psp, 1_000, true).await;
    for (form, field, status) in [
        (vec![], "charge", 400),
        (vec![("charge", "ch_missing")], "charge", 404),
        (
            vec![("payment_intent", "pi_missing")],
            "payment_intent",
            404,
        ),
        (vec![("charge", "pi_wrong")], "charge", 400),
        (
            vec![
                ("charge", ch.as_str()),
                ("payment_intent", other_pi.as_str()),
            ],
            "charge",
            400,
        ),
        (
            vec![("payment_intent", other_pi.as_str()), ("amount", "0")],
            "amount",
            400,
        ),
        (
            vec![("payment_intent", other_pi.as_str()), ("reason", "bored")],
            "reason",
            400,
        ),
        (
            vec![("payment_intent", other_pi.as_str()), ("colour", "red")],
            "colour",
            400,
        ),
    ] {
        let a = psp.post("/v1/refunds", &form).await;
        assert_eq!(
            (a.status, param(&a)),
            (status, field),
            "{form:?}: {}",
            a.body
        );
    }

    // Read and list.
    let listed = psp.ok_get("/v1/refunds", &[("charge", &ch)]).await;
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| s(&r["id"]))
        .collect();
    assert_eq!(ids, [s(&rest["id"]), s(&re["id"])]);
    let by_intent = psp.ok_get("/v1/refunds", &[("payment_intent", &pi)]).await;
    assert_eq!(by_intent["data"].as_array().unwrap().len(), 2);
    let one = psp
        .ok_get(&format!("/v1/refunds/{}", s(&re["id"])), &[])
        .await;
    assert_eq!(one, re);
    assert_eq!(psp.get("/v1/refunds/re_missing", &[]).await.status, 404);
    assert_eq!(unbalanced(&mock), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_payment_completing_after_a_transfer_paid_the_invoice_is_refunded_to_the_card() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 2_000).await;
    let id = s(&inv["id"]).to_owned();
    let pm = card(&mock, "4000002760003184").await;
    // The member starts paying by card (3-D Secure pending) and meanwhile their transfer lands.
    let answer = psp
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("payment_method", s(&pm["id"])), ("off_session", "false")],
        )
        .await;
    assert_eq!(answer.status, 402, "{}", answer.body);
    let pi = s(&answer.body["error"]["payment_intent"]["id"]).to_owned();
    let sct = credit(&psp, 2_000, s(&inv["rf_reference"])).await;
    assert_eq!(sct["amount_applied"], 2_000);
    assert_eq!(invoice(&psp, &id).await["status"], "paid");
    psp.ok_post(
        &format!("/v1/test_helpers/payment_intents/{pi}/authenticate"),
        &[("outcome", "complete")],
    )
    .await;
    let after = invoice(&psp, &id).await;
    assert_eq!(after["amount_overpaid"], 2_000);
    let refunds = psp.ok_get("/v1/refunds", &[("payment_intent", &pi)]).await;
    let data = refunds["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{refunds}");
    assert_eq!(data[0]["amount"], 2_000);
    assert_eq!(data[0]["reason"], "duplicate");
    assert_eq!(data[0]["destination_details"]["type"], "card");
    assert_eq!(unbalanced(&mock), 0);
}
