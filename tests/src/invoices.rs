//! The PSP's invoices as the end-to-end tests set them up over HTTP: a customer, a draft with
//! one invoice item, the same finalized (open, with its number and RF creditor reference), a
//! card created with the publishable key, and the event types an object went through.

use serde_json::Value;

use crate::{Mock, Stripe};

/// A string field of an answer, or `""`.
pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A new customer's id.
pub async fn customer(psp: &Stripe<'_>) -> String {
    let c = psp
        .ok_post("/v1/customers", &[("name", "Membre 7Q2M")])
        .await;
    s(&c["id"]).to_owned()
}

/// A draft (`send_invoice`, due in 30 days) with one line of `amount` for a new customer: the
/// customer's id and the draft.
pub async fn draft(psp: &Stripe<'_>, amount: i64) -> (String, Value) {
    let cus = customer(psp).await;
    let amount = amount.to_string();
    psp.ok_post(
        "/v1/invoiceitems",
        &[
            ("customer", &cus),
            ("amount", &amount),
            ("currency", "eur"),
            ("description", "Cotisation de novembre"),
        ],
    )
    .await;
    let inv = psp
        .ok_post(
            "/v1/invoices",
            &[
                ("customer", &cus),
                ("collection_method", "send_invoice"),
                ("days_until_due", "30"),
                ("pending_invoice_items_behavior", "include"),
                ("metadata[member_ref]", "mbr_1"),
            ],
        )
        .await;
    (cus, inv)
}

/// An open invoice of `amount` for a new customer: [`draft`], finalized.
pub async fn open(psp: &Stripe<'_>, amount: i64) -> Value {
    let (_, inv) = draft(psp, amount).await;
    psp.ok_post(&format!("/v1/invoices/{}/finalize", s(&inv["id"])), &[])
        .await
}

/// A card payment method (expiring 12/2034) created as the phone does, with the publishable key.
pub async fn card(mock: &Mock, number: &str) -> Value {
    Stripe::with_key(mock, "pk_test_tierspay")
        .ok_post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", number),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
        )
        .await
}

/// The types of the events in the list `events` whose object is `object`, oldest first.
pub fn event_types(events: &Value, object: &str) -> Vec<String> {
    let mut kinds: Vec<String> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["object"]["id"] == object)
        .map(|e| s(&e["type"]).to_owned())
        .collect();
    kinds.reverse();
    kinds
}
