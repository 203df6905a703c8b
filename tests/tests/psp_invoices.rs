//! The PSP's invoices and credit notes over HTTP, as Stripe's clients drive them: invoice items
//! pulled into a draft, finalization (number, RF creditor reference, hosted link), partial and
//! out-of-band payments, a card through the invoice's one PaymentIntent, void and uncollectible,
//! credit notes before and after payment, the events of every transition, bad input (each a
//! Stripe-shaped error naming its field, nothing written) and idempotent replays.

use tierspay_core::domain::rf_reference::RfReference;
use tierspay_tests::invoices::{card, customer, draft, event_types, open, s};
use tierspay_tests::stripe::{code, connected_account, param};
use tierspay_tests::{Mock, Stripe};

/// The tables an invoice lives in: a refused request leaves them as they were.
const INVOICE_TABLES: &[&str] = &[
    "psp_invoices",
    "psp_invoice_items",
    "psp_invoice_payments",
    "psp_credit_notes",
    "psp_payment_intents",
    "psp_ledger_entries",
];

/// A refused request: path, form, status, the field named.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

async fn events_of(psp: &Stripe<'_>, object: &str) -> Vec<String> {
    let list = psp
        .ok_get("/v1/events", &[("limit", "100"), ("type", "invoice.*")])
        .await;
    event_types(&list, object)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draft_takes_pending_items_and_finalizing_numbers_it_with_an_rf_reference() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let (cus, inv) = draft(&psp, 4250).await;
    assert_eq!(inv["object"], "invoice");
    assert_eq!(inv["status"], "draft");
    assert_eq!(inv["customer"], cus.as_str());
    assert_eq!(inv["collection_method"], "send_invoice");
    assert_eq!(
        (&inv["total"], &inv["subtotal"], &inv["amount_due"]),
        (&4250.into(), &4250.into(), &4250.into())
    );
    assert_eq!(inv["lines"]["object"], "list");
    assert_eq!(inv["lines"]["data"][0]["amount"], 4250);
    assert!(s(&inv["lines"]["data"][0]["id"]).starts_with("il_"));
    assert!(
        inv["number"].is_null()
            && inv["hosted_invoice_url"].is_null()
            && inv["invoice_pdf"].is_null()
    );
    assert!(inv["rf_reference"].is_null());
    assert_eq!(inv["livemode"], false);
    assert_eq!(inv["metadata"]["member_ref"], "mbr_1");
    let id = s(&inv["id"]).to_owned();
    // A draft is editable; the item is no longer pending.
    let pending = psp
        .ok_get(
            "/v1/invoiceitems",
            &[("customer", &cus), ("pending", "true")],
        )
        .await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 0);
    let edited = psp
        .ok_post(
            &format!("/v1/invoices/{id}"),
            &[("description", "Arriérés")],
        )
        .await;
    assert_eq!(edited["description"], "Arriérés");

    let open = psp
        .ok_post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    assert_eq!(open["status"], "open");
    let number = s(&open["number"]);
    assert!(number.ends_with("-0001"), "{number}");
    let finalized = open["status_transitions"]["finalized_at"].as_i64().unwrap();
    assert_eq!(open["due_date"].as_i64().unwrap(), finalized + 30 * 86_400);
    let rf = RfReference::parse(s(&open["rf_reference"])).expect("a valid RF reference");
    assert_eq!(open["custom_fields"][0]["value"], rf.grouped());
    let url = s(&open["hosted_invoice_url"]);
    assert!(
        url.starts_with(&mock.url) && url.len() > mock.url.len() + 40,
        "{url}"
    );
    assert_eq!(open["amount_remaining"], 4250);

    // Immutable now: Stripe's error, naming the field; metadata may still change.
    let refused = psp
        .post(&format!("/v1/invoices/{id}"), &[("description", "autre")])
        .await;
    assert_eq!(
        (refused.status, code(&refused), param(&refused)),
        (400, "invoice_not_editable", "description")
    );
    let meta = psp
        .ok_post(
            &format!("/v1/invoices/{id}"),
            &[("metadata[platform]", "pi_1")],
        )
        .await;
    assert_eq!(meta["metadata"]["platform"], "pi_1");
    let item = psp
        .post(
            "/v1/invoiceitems",
            &[
                ("customer", &cus),
                ("invoice", &id),
                ("amount", "100"),
                ("currency", "eur"),
            ],
        )
        .await;
    assert_eq!(
        (item.status, code(&item), param(&item)),
        (400, "invoice_not_editable", "invoice")
    );
    let again = psp.post(&format!("/v1/invoices/{id}/finalize"), &[]).await;
    assert_eq!(
        (again.status, code(&again)),
        (400, "invoice_unexpected_state")
    );
    let deleted = psp.send_delete(&format!("/v1/invoices/{id}")).await;
    assert_eq!(
        (deleted.status, code(&deleted)),
        (400, "invoice_not_editable")
    );

    let kinds = events_of(&psp, &id).await;
    assert_eq!(
        &kinds[..3],
        ["invoice.created", "invoice.updated", "invoice.finalized"],
        "{kinds:?}"
    );
    assert!(kinds.contains(&"invoice.updated".to_owned()));
    let updated = psp
        .ok_get(
            "/v1/events",
            &[("type", "invoice.updated"), ("limit", "100")],
        )
        .await;
    let finalize_update = updated["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["data"]["object"]["id"] == id.as_str()
                && e["data"]["previous_attributes"]["status"] == "draft"
        })
        .expect("an invoice.updated from draft");
    assert!(finalize_update["data"]["previous_attributes"]["number"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn partial_payments_lower_what_remains_and_the_last_pays_it() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 4250).await;
    let id = s(&inv["id"]);
    let part = psp
        .ok_post(
            &format!("/v1/invoices/{id}/pay"),
            &[("paid_out_of_band", "true"), ("amount", "1000")],
        )
        .await;
    assert_eq!(
        (
            &part["status"],
            &part["amount_paid"],
            &part["amount_remaining"]
        ),
        (&"open".into(), &1000.into(), &3250.into())
    );
    let before = mock.snapshot(INVOICE_TABLES);
    let too_much = psp
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("paid_out_of_band", "true"), ("amount", "3251")],
        )
        .await;
    assert_eq!(
        (too_much.status, code(&too_much), param(&too_much)),
        (400, "amount_too_large", "amount")
    );
    assert_eq!(
        mock.snapshot(INVOICE_TABLES),
        before,
        "a refused payment wrote something"
    );
    let paid = psp
        .ok_post(
            &format!("/v1/invoices/{id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(
        (
            &paid["status"],
            &paid["amount_paid"],
            &paid["amount_remaining"]
        ),
        (&"paid".into(), &4250.into(), &0.into())
    );
    assert_eq!(paid["paid_out_of_band"], true);
    assert!(paid["status_transitions"]["paid_at"].is_i64());
    let twice = psp
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!((twice.status, code(&twice)), (400, "invoice_already_paid"));
    let void = psp.post(&format!("/v1/invoices/{id}/void"), &[]).await;
    assert_eq!(
        (void.status, code(&void)),
        (400, "invoice_unexpected_state")
    );
    let kinds = events_of(&psp, id).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "invoice.payment_succeeded")
            .count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "invoice.paid").count(),
        1,
        "{kinds:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_pays_through_the_invoices_one_payment_intent_and_the_ledger() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 3000).await;
    let id = s(&inv["id"]);
    let balance_before = psp.ok_get("/v1/balance", &[]).await["available"][0]["amount"]
        .as_i64()
        .unwrap_or(0);
    // A decline is committed on the intent and answered as Stripe's 402; the invoice stays open.
    let declined = psp
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("payment_method", "pm_card_chargeDeclined")],
        )
        .await;
    assert_eq!(
        (declined.status, s(&declined.body["error"]["type"])),
        (402, "card_error"),
        "{}",
        declined.body
    );
    let after = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(after["status"], "open");
    let pi = s(&after["payment_intent"]).to_owned();
    assert!(pi.starts_with("pi_"), "{after}");
    // The same attempt is retried with another card: never a second live intent.
    let paid = psp
        .ok_post(
            &format!("/v1/invoices/{id}/pay"),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
    assert_eq!(
        (&paid["status"], &paid["amount_paid"]),
        (&"paid".into(), &3000.into()),
        "{paid}"
    );
    assert_eq!(paid["payment_intent"], pi.as_str());
    let intent = psp
        .ok_get(
            &format!("/v1/payment_intents/{pi}"),
            &[("expand[]", "latest_charge.balance_transaction")],
        )
        .await;
    assert_eq!(
        (
            &intent["status"],
            &intent["invoice"],
            &intent["amount_received"]
        ),
        (&"succeeded".into(), &id.into(), &3000.into())
    );
    let fee = intent["latest_charge"]["balance_transaction"]["fee"]
        .as_i64()
        .unwrap();
    let balance_after = psp.ok_get("/v1/balance", &[]).await["available"][0]["amount"]
        .as_i64()
        .unwrap();
    assert_eq!(balance_after - balance_before, 3000 - fee);
    let kinds = events_of(&psp, id).await;
    assert!(
        kinds.contains(&"invoice.payment_failed".to_owned()),
        "{kinds:?}"
    );
    assert!(
        kinds.ends_with(&[
            "invoice.updated".to_owned(),
            "invoice.payment_succeeded".to_owned(),
            "invoice.paid".to_owned()
        ]),
        "{kinds:?}"
    );
    // A schema rule, not only code: a second live intent for the invoice is refused.
    let other = psp
        .ok_post(
            "/v1/payment_intents",
            &[("amount", "3000"), ("currency", "eur")],
        )
        .await;
    let conn = rusqlite::Connection::open(mock.db_path()).unwrap();
    let second = conn.execute(
        "UPDATE psp_payment_intents SET invoice = ?2 WHERE id = ?1",
        [s(&other["id"]), id],
    );
    assert!(second.is_err(), "a second live attempt was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_that_authenticates_answers_requires_action_and_its_challenge_pays() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 2000).await;
    let id = s(&inv["id"]);
    let pm = card(&mock, "4000002760003184").await;
    let answer = psp
        .post(
            &format!("/v1/invoices/{id}/pay"),
            &[("payment_method", s(&pm["id"])), ("off_session", "false")],
        )
        .await;
    assert_eq!(
        (answer.status, code(&answer)),
        (402, "invoice_payment_intent_requires_action"),
        "{}",
        answer.body
    );
    let pi = s(&answer.body["error"]["payment_intent"]["id"]).to_owned();
    assert_eq!(
        psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await["status"],
        "open"
    );
    psp.ok_post(
        &format!("/v1/test_helpers/payment_intents/{pi}/authenticate"),
        &[("outcome", "complete")],
    )
    .await;
    let paid = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(
        (&paid["status"], &paid["amount_remaining"]),
        (&"paid".into(), &0.into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn void_and_uncollectible_follow_stripe_and_uncollectible_can_still_be_paid() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let a = open(&psp, 1500).await;
    let a_id = s(&a["id"]);
    let voided = psp.ok_post(&format!("/v1/invoices/{a_id}/void"), &[]).await;
    assert_eq!(voided["status"], "void");
    assert!(voided["status_transitions"]["voided_at"].is_i64());
    let pay_void = psp
        .post(
            &format!("/v1/invoices/{a_id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(
        (pay_void.status, code(&pay_void)),
        (400, "invoice_unexpected_state")
    );
    let unc = psp
        .post(&format!("/v1/invoices/{a_id}/mark_uncollectible"), &[])
        .await;
    assert_eq!(unc.status, 400);

    let b = open(&psp, 1500).await;
    let b_id = s(&b["id"]);
    let sent = psp.ok_post(&format!("/v1/invoices/{b_id}/send"), &[]).await;
    assert_eq!(sent["status"], "open");
    let unc = psp
        .ok_post(&format!("/v1/invoices/{b_id}/mark_uncollectible"), &[])
        .await;
    assert_eq!(unc["status"], "uncollectible");
    assert!(unc["status_transitions"]["marked_uncollectible_at"].is_i64());
    let paid = psp
        .ok_post(
            &format!("/v1/invoices/{b_id}/pay"),
            &[("paid_out_of_band", "true")],
        )
        .await;
    assert_eq!(paid["status"], "paid");
    let kinds = events_of(&psp, b_id).await;
    for k in [
        "invoice.sent",
        "invoice.marked_uncollectible",
        "invoice.paid",
    ] {
        assert!(kinds.contains(&k.to_owned()), "{k} in {kinds:?}");
    }
    assert!(events_of(&psp, a_id)
        .await
        .contains(&"invoice.voided".to_owned()));

    // A draft is deleted, its items pending again.
    let (cus, d) = draft(&psp, 700).await;
    let gone = psp
        .send_delete(&format!("/v1/invoices/{}", s(&d["id"])))
        .await;
    assert_eq!((gone.status, &gone.body["deleted"]), (200, &true.into()));
    let pending = psp
        .ok_get(
            "/v1/invoiceitems",
            &[("customer", &cus), ("pending", "true")],
        )
        .await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 1);
    let missing = psp.get(&format!("/v1/invoices/{}", s(&d["id"])), &[]).await;
    assert_eq!(missing.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn credit_notes_lower_what_is_due_before_payment_and_need_cover_after() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 3000).await;
    let id = s(&inv["id"]);
    let line = s(&inv["lines"]["data"][0]["id"]).to_owned();
    let cn = psp
        .ok_post(
            "/v1/credit_notes",
            &[
                ("invoice", id),
                ("amount", "1000"),
                ("reason", "order_change"),
                ("memo", "Geste"),
            ],
        )
        .await;
    assert_eq!(
        (&cn["object"], &cn["status"], &cn["type"]),
        (
            &"credit_note".into(),
            &"issued".into(),
            &"pre_payment".into()
        )
    );
    assert_eq!(
        (&cn["pre_payment_amount"], &cn["post_payment_amount"]),
        (&1000.into(), &0.into())
    );
    assert!(s(&cn["number"]).ends_with("-CN-01"));
    let after = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(
        (
            &after["amount_due"],
            &after["amount_remaining"],
            &after["total"]
        ),
        (&2000.into(), &2000.into(), &3000.into())
    );
    assert_eq!(after["pre_payment_credit_notes_amount"], 1000);
    // Voiding it gives the amount back while the invoice is open.
    let void = psp
        .ok_post(&format!("/v1/credit_notes/{}/void", s(&cn["id"])), &[])
        .await;
    assert_eq!(void["status"], "void");
    assert_eq!(
        psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await["amount_due"],
        3000
    );
    // By line: at most the line's amount.
    let too_much = psp
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", id),
                ("lines[0][type]", "invoice_line_item"),
                ("lines[0][invoice_line_item]", &line),
                ("lines[0][amount]", "3001"),
            ],
        )
        .await;
    assert_eq!(
        (too_much.status, code(&too_much), param(&too_much)),
        (400, "amount_too_large", "lines[0][amount]")
    );
    // Paid in part, then credited beyond what remains: the rest must be given back.
    psp.ok_post(
        &format!("/v1/invoices/{id}/pay"),
        &[("paid_out_of_band", "true"), ("amount", "2500")],
    )
    .await;
    let uncovered = psp
        .post("/v1/credit_notes", &[("invoice", id), ("amount", "1000")])
        .await;
    assert_eq!(
        (uncovered.status, code(&uncovered), param(&uncovered)),
        (400, "credit_note_amounts_mismatch", "out_of_band_amount")
    );
    let mixed = psp
        .ok_post(
            "/v1/credit_notes",
            &[
                ("invoice", id),
                ("amount", "1000"),
                ("out_of_band_amount", "500"),
            ],
        )
        .await;
    assert_eq!(
        (
            &mixed["type"],
            &mixed["pre_payment_amount"],
            &mixed["post_payment_amount"]
        ),
        (&"mixed".into(), &500.into(), &500.into())
    );
    let paid = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(
        (
            &paid["status"],
            &paid["amount_due"],
            &paid["amount_remaining"]
        ),
        (&"paid".into(), &2500.into(), &0.into())
    );
    assert_eq!(paid["post_payment_credit_notes_amount"], 500);
    let refund = psp
        .post(
            "/v1/credit_notes",
            &[("invoice", id), ("amount", "100"), ("refund_amount", "100")],
        )
        .await;
    assert_eq!((refund.status, param(&refund)), (400, "refund_amount"));
    let list = psp.ok_get("/v1/credit_notes", &[("invoice", id)]).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let cn_events = psp.ok_get("/v1/events", &[("type", "credit_note.*")]).await;
    let kinds: Vec<&str> = cn_events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| s(&e["type"]))
        .collect();
    assert_eq!(
        kinds,
        [
            "credit_note.created",
            "credit_note.voided",
            "credit_note.created"
        ]
    );

    // Credited to zero before any payment: paid.
    let other = open(&psp, 800).await;
    psp.ok_post(
        "/v1/credit_notes",
        &[
            ("invoice", s(&other["id"])),
            ("amount", "800"),
            ("reason", "duplicate"),
        ],
    )
    .await;
    let zero = psp
        .ok_get(&format!("/v1/invoices/{}", s(&other["id"])), &[])
        .await;
    assert_eq!(
        (&zero["status"], &zero["amount_due"]),
        (&"paid".into(), &0.into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_by_name_and_writes_nothing() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let cus = customer(&psp).await;
    let inv = open(&psp, 1000).await;
    let id = s(&inv["id"]);
    let before = mock.snapshot(INVOICE_TABLES);
    let long = "x".repeat(1501);
    let huge_id = format!("in_{}", "a".repeat(500));
    let cases: Vec<Case> = vec![
        (
            "/v1/invoices",
            vec![("days_until_due", "30")],
            400,
            "customer",
        ),
        (
            "/v1/invoices",
            vec![("customer", "cus_nope"), ("days_until_due", "30")],
            404,
            "customer",
        ),
        (
            "/v1/invoices",
            vec![("customer", &cus)],
            400,
            "days_until_due",
        ),
        (
            "/v1/invoices",
            vec![("customer", &cus), ("days_until_due", "0")],
            400,
            "days_until_due",
        ),
        (
            "/v1/invoices",
            vec![
                ("customer", &cus),
                ("days_until_due", "30"),
                ("due_date", "4102444800"),
            ],
            400,
            "due_date",
        ),
        (
            "/v1/invoices",
            vec![
                ("customer", &cus),
                ("days_until_due", "30"),
                ("currency", "usd"),
            ],
            400,
            "currency",
        ),
        (
            "/v1/invoices",
            vec![
                ("customer", &cus),
                ("days_until_due", "30"),
                ("collection_method", "charge_automatically"),
            ],
            400,
            "collection_method",
        ),
        (
            "/v1/invoices",
            vec![
                ("customer", &cus),
                ("days_until_due", "30"),
                ("description", &long),
            ],
            400,
            "description",
        ),
        (
            "/v1/invoices",
            vec![
                ("customer", &cus),
                ("days_until_due", "30"),
                ("transfer_data[destination]", "acct_nope"),
            ],
            404,
            "transfer_data[destination]",
        ),
        (
            "/v1/invoices",
            vec![
                ("customer", &cus),
                ("days_until_due", "30"),
                ("colour", "red"),
            ],
            400,
            "colour",
        ),
        (
            "/v1/invoiceitems",
            vec![("customer", &cus), ("amount", "-5"), ("currency", "eur")],
            400,
            "unit_amount",
        ),
        (
            "/v1/invoiceitems",
            vec![
                ("customer", &cus),
                ("amount", "100000000"),
                ("currency", "eur"),
            ],
            400,
            "unit_amount",
        ),
        (
            "/v1/invoiceitems",
            vec![
                ("customer", &cus),
                ("unit_amount", "9999999"),
                ("quantity", "11"),
                ("currency", "eur"),
            ],
            400,
            "quantity",
        ),
        (
            "/v1/credit_notes",
            vec![("invoice", id), ("amount", "1001")],
            400,
            "amount",
        ),
        (
            "/v1/credit_notes",
            vec![("invoice", id), ("amount", "10"), ("reason", "whim")],
            400,
            "reason",
        ),
        (
            "/v1/credit_notes",
            vec![("invoice", "in_nope"), ("amount", "10")],
            404,
            "invoice",
        ),
    ];
    for (path, form, status, field) in &cases {
        let a = psp.post(path, form).await;
        assert_eq!(
            (a.status, param(&a)),
            (*status, *field),
            "{path} {form:?}: {}",
            a.body
        );
        assert!(a.body["error"]["message"].is_string());
    }
    for path in [
        format!("/v1/invoices/{id}/pay"),
        format!("/v1/invoices/{huge_id}/pay"),
        "/v1/invoices/in_nope/void".to_owned(),
        "/v1/invoices/ch_123/finalize".to_owned(),
    ] {
        let form: &[(&str, &str)] = if path.contains(id) {
            &[("paid_out_of_band", "true"), ("amount", "0")]
        } else {
            &[]
        };
        let a = psp.post(&path, form).await;
        assert!(matches!(a.status, 400 | 404), "{path}: {}", a.body);
        assert!(a.body["error"]["param"].is_string(), "{path}: {}", a.body);
    }
    let bad_list = psp.get("/v1/invoices", &[("status", "lost")]).await;
    assert_eq!((bad_list.status, param(&bad_list)), (400, "status"));
    let bad_limit = psp.get("/v1/invoices", &[("limit", "0")]).await;
    assert_eq!((bad_limit.status, param(&bad_limit)), (400, "limit"));
    let pk = Stripe::with_key(&mock, "pk_test_tierspay")
        .post("/v1/invoices", &[("customer", &cus)])
        .await;
    assert_eq!(pk.status, 403);
    assert_eq!(
        mock.snapshot(INVOICE_TABLES),
        before,
        "a refused request wrote something"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_request_answers_the_first_and_pays_once() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let cus = customer(&psp).await;
    let form = [("customer", cus.as_str()), ("days_until_due", "15")];
    let first = psp
        .post_idempotent("/v1/invoices", &form, "inv-create-1")
        .await;
    let again = psp
        .post_idempotent("/v1/invoices", &form, "inv-create-1")
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body["id"], again.body["id"]);
    assert!(again.replayed && !first.replayed);
    let other = psp
        .post_idempotent(
            "/v1/invoices",
            &[("customer", cus.as_str()), ("days_until_due", "16")],
            "inv-create-1",
        )
        .await;
    assert_eq!(
        (other.status, s(&other.body["error"]["type"])),
        (400, "idempotency_error")
    );

    let inv = open(&psp, 2000).await;
    let id = s(&inv["id"]);
    let path = format!("/v1/invoices/{id}/pay");
    let pay = [("paid_out_of_band", "true"), ("amount", "500")];
    let p1 = psp.post_idempotent(&path, &pay, "inv-pay-1").await;
    let p2 = psp.post_idempotent(&path, &pay, "inv-pay-1").await;
    assert_eq!((p1.status, p2.status, p2.replayed), (200, 200, true));
    assert_eq!(p2.body["amount_remaining"], 1500);
    let now = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(now["amount_paid"], 500, "the replay paid again");
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_filter_by_customer_and_status_and_page() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let a = open(&psp, 100).await;
    let b = open(&psp, 200).await;
    let (cus_c, c) = draft(&psp, 300).await;
    let open_list = psp.ok_get("/v1/invoices", &[("status", "open")]).await;
    let ids: Vec<&str> = open_list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| s(&i["id"]))
        .collect();
    assert_eq!(ids, [s(&b["id"]), s(&a["id"])]);
    let mine = psp.ok_get("/v1/invoices", &[("customer", &cus_c)]).await;
    assert_eq!(mine["data"][0]["id"], c["id"]);
    let page = psp.ok_get("/v1/invoices", &[("limit", "1")]).await;
    assert_eq!(page["has_more"], true);
    let next = psp
        .ok_get(
            "/v1/invoices",
            &[
                ("limit", "2"),
                ("starting_after", s(&page["data"][0]["id"])),
            ],
        )
        .await;
    assert_eq!(next["data"].as_array().unwrap().len(), 2);
    assert_eq!(next["has_more"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_card_pays_reaches_the_invoices_connected_account() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let acct = connected_account(&psp, "Mutuelle Horizon", &[]).await;
    let acct = s(&acct["id"]);
    let cus = customer(&psp).await;
    let inv = psp
        .ok_post(
            "/v1/invoices",
            &[
                ("customer", &cus),
                ("days_until_due", "30"),
                ("transfer_data[destination]", acct),
            ],
        )
        .await;
    let id = s(&inv["id"]);
    assert_eq!(inv["transfer_data"]["destination"], acct);
    psp.ok_post(
        "/v1/invoiceitems",
        &[
            ("customer", &cus),
            ("invoice", id),
            ("amount", "5000"),
            ("currency", "eur"),
        ],
    )
    .await;
    psp.ok_post(&format!("/v1/invoices/{id}/finalize"), &[])
        .await;
    psp.ok_post(
        &format!("/v1/invoices/{id}/pay"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    let transfers = psp.ok_get("/v1/transfers", &[("destination", acct)]).await;
    assert_eq!(transfers["data"][0]["amount"], 5000, "{transfers}");
    assert_eq!(transfers["data"][0]["transfer_group"], id);
    let connected = psp.for_account(acct).ok_get("/v1/balance", &[]).await;
    assert_eq!(connected["available"][0]["amount"], 5000);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credit_note_after_a_card_payment_refunds_the_card() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 5000).await;
    let id = s(&inv["id"]);
    let paid = psp
        .ok_post(
            &format!("/v1/invoices/{id}/pay"),
            &[("payment_method", "pm_card_visa")],
        )
        .await;
    let pi = s(&paid["payment_intent"]).to_owned();
    let before = mock.snapshot(INVOICE_TABLES);
    let too_much = psp
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", id),
                ("amount", "6000"),
                ("refund_amount", "6000"),
            ],
        )
        .await;
    assert_eq!((too_much.status, param(&too_much)), (400, "amount"));
    assert_eq!(mock.snapshot(INVOICE_TABLES), before);
    let note = psp
        .ok_post(
            "/v1/credit_notes",
            &[
                ("invoice", id),
                ("amount", "1500"),
                ("refund_amount", "1000"),
                ("out_of_band_amount", "500"),
                ("reason", "product_unsatisfactory"),
            ],
        )
        .await;
    assert_eq!(
        (
            &note["type"],
            &note["post_payment_amount"],
            &note["out_of_band_amount"]
        ),
        (&"post_payment".into(), &1500.into(), &500.into())
    );
    let refund = s(&note["refund"]).to_owned();
    assert!(refund.starts_with("re_"), "{note}");
    assert_eq!(note["refunds"][0]["amount_refunded"], 1000);
    let refunds = psp.ok_get("/v1/refunds", &[("payment_intent", &pi)]).await;
    let r = &refunds["data"][0];
    assert_eq!(
        (&r["id"], &r["amount"], &r["metadata"]["credit_note"]),
        (&refund.as_str().into(), &1000.into(), &note["id"])
    );
    let invoice = psp.ok_get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!(
        (
            &invoice["status"],
            &invoice["post_payment_credit_notes_amount"]
        ),
        (&"paid".into(), &1500.into())
    );
    let void = psp
        .post(&format!("/v1/credit_notes/{}/void", s(&note["id"])), &[])
        .await;
    assert_eq!(
        (void.status, code(&void)),
        (400, "credit_note_unexpected_state")
    );
    let rest = psp
        .ok_post(
            "/v1/credit_notes",
            &[
                ("invoice", id),
                ("amount", "3500"),
                ("refund_amount", "3500"),
            ],
        )
        .await;
    assert_eq!(rest["refunds"][0]["amount_refunded"], 3500);
    // Paid 1,000 out of band and 4,000 by card: a refund beyond the card's 4,000 is the refund's
    // own refusal, naming refund_amount, and nothing is written.
    let other = open(&psp, 5000).await;
    let other_id = s(&other["id"]);
    psp.ok_post(
        &format!("/v1/invoices/{other_id}/pay"),
        &[("paid_out_of_band", "true"), ("amount", "1000")],
    )
    .await;
    psp.ok_post(
        &format!("/v1/invoices/{other_id}/pay"),
        &[("payment_method", "pm_card_visa")],
    )
    .await;
    let before = mock.snapshot(INVOICE_TABLES);
    let over = psp
        .post(
            "/v1/credit_notes",
            &[
                ("invoice", other_id),
                ("amount", "5000"),
                ("refund_amount", "5000"),
            ],
        )
        .await;
    assert_eq!(
        (over.status, code(&over), param(&over)),
        (400, "amount_too_large", "refund_amount"),
        "{}",
        over.body
    );
    assert_eq!(mock.snapshot(INVOICE_TABLES), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hosted_invoice_url_shows_the_invoice_and_opens_the_card_form() {
    let mock = Mock::start().await;
    let psp = Stripe::new(&mock);
    let inv = open(&psp, 4250).await;
    let url = s(&inv["hosted_invoice_url"]).to_owned();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let body = page.text().await.unwrap();
    let rf = RfReference::parse(s(&inv["rf_reference"])).unwrap();
    assert!(
        body.contains(s(&inv["number"])) && body.contains(&rf.grouped()),
        "{body}"
    );
    assert!(
        body.contains("42,50") && body.contains("<form method=\"post\""),
        "{body}"
    );
    let go = browser.post(&url).send().await.unwrap();
    assert_eq!(go.status().as_u16(), 303);
    let location = go.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("/c/pay/"), "{location}");
    let intent = psp
        .ok_get(&format!("/v1/invoices/{}", s(&inv["id"])), &[])
        .await["payment_intent"]
        .clone();
    assert!(
        intent.is_string(),
        "the card form has the invoice's one intent"
    );
    psp.ok_post(
        &format!("/v1/invoices/{}/pay", s(&inv["id"])),
        &[("paid_out_of_band", "true")],
    )
    .await;
    let paid = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        paid.contains("Paid. Thank you.") && !paid.contains("<form"),
        "{paid}"
    );
    let back = browser.post(&url).send().await.unwrap();
    assert_eq!(back.headers()["location"].to_str().unwrap(), url);
    let unknown = browser
        .get(format!("{}/i/test_{}", mock.url, "x".repeat(43)))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}
