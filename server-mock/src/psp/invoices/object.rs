//! The Stripe JSON of an invoice (`object: "invoice"`, API version 2024-06-20, plus
//! `rf_reference`) and of its lines, and [`InvoiceView`], the typed reading of it the platform
//! uses. Rendering only: nothing here writes.

use rusqlite::{Connection, OptionalExtension};
use serde_json::{json, Value};
use tierspay_core::domain::rf_reference::RfReference;

use crate::http::ApiError;
use crate::psp::invoice_rules::{Amounts, Status};
use crate::psp::model::{missing, parse_json};

use super::store::active_intent;

/// The invoice's lines as Stripe's list of `line_item`s.
pub(super) fn lines_json(conn: &Connection, invoice: &str) -> Result<Value, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT line_id, id, amount, currency, description, quantity, unit_amount, period_start,
                period_end, metadata
         FROM psp_invoice_items WHERE invoice = ?1 ORDER BY seq",
    )?;
    let data: Vec<Value> = stmt
        .query_map([invoice], |r| {
            let item: String = r.get(1)?;
            Ok(json!({
                "id": r.get::<_, Option<String>>(0)?.unwrap_or_else(|| item.clone()),
                "object": "line_item",
                "amount": r.get::<_, i64>(2)?,
                "amount_excluding_tax": r.get::<_, i64>(2)?,
                "currency": r.get::<_, String>(3)?,
                "description": r.get::<_, Option<String>>(4)?,
                "discount_amounts": [],
                "discountable": true,
                "discounts": [],
                "invoice": invoice,
                "invoice_item": item,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(9)?),
                "period": { "start": r.get::<_, i64>(7)?, "end": r.get::<_, i64>(8)? },
                "price": Value::Null,
                "proration": false,
                "quantity": r.get::<_, i64>(5)?,
                "tax_amounts": [],
                "tax_rates": [],
                "type": "invoiceitem",
                "unit_amount_excluding_tax": r.get::<_, i64>(6)?.to_string(),
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({
        "object": "list",
        "data": data,
        "has_more": false,
        "total_count": data.len(),
        "url": format!("/v1/invoices/{invoice}/lines"),
    }))
}

/// An invoice as Stripe renders it (API version 2024-06-20), plus `rf_reference`, the one
/// field Stripe has no place for (see docs/psp.md).
pub fn invoice_json(conn: &Connection, id: &str) -> Result<Value, ApiError> {
    let mut doc = conn
        .prepare_cached(
            "SELECT id, account, customer, status, number, currency, days_until_due, due_date,
                    description, footer, total, pre_payment_credit, post_payment_credit, amount_paid,
                    amount_overpaid, paid_out_of_band, rf_reference, vault_open('in:' || id, hosted_url),
                    transfer_destination, on_behalf_of, metadata, finalized_at,
                    marked_uncollectible_at, paid_at, voided_at, created
             FROM psp_invoices WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let total: i64 = r.get(10)?;
            let a = Amounts {
                total,
                pre_payment_credit: r.get(11)?,
                post_payment_credit: r.get(12)?,
                paid: r.get(13)?,
                overpaid: r.get(14)?,
            };
            let status: String = r.get(3)?;
            let rf: Option<String> = r.get(16)?;
            let hosted_url: Option<String> = r.get(17)?;
            let destination: Option<String> = r.get(18)?;
            let customer: String = r.get(2)?;
            let mut doc = json!({
                "id": r.get::<_, String>(0)?,
                "object": "invoice",
                "account_country": "FR",
                "account_name": Value::Null,
                "amount_due": a.due(),
                "amount_paid": a.paid,
                "amount_overpaid": a.overpaid,
                "amount_remaining": a.remaining(),
                "amount_shipping": 0,
                "application": Value::Null,
                "attempt_count": 0,
                "attempted": status != "draft",
                "auto_advance": false,
                "automatic_tax": { "enabled": false, "liability": Value::Null, "status": Value::Null },
                "billing_reason": "manual",
                "collection_method": "send_invoice",
                "created": r.get::<_, i64>(25)?,
                "currency": r.get::<_, String>(5)?,
                "custom_fields": rf.as_ref().map(|rf| json!([{
                    "name": "RF creditor reference",
                    "value": RfReference::parse(rf).map(|x| x.grouped()).unwrap_or_else(|_| rf.clone()),
                }])),
                "customer": customer,
                "days_until_due": r.get::<_, Option<i64>>(6)?,
                "default_payment_method": Value::Null,
                "description": r.get::<_, Option<String>>(8)?,
                "discount": Value::Null,
                "discounts": [],
                "due_date": r.get::<_, Option<i64>>(7)?,
                "effective_at": r.get::<_, Option<i64>>(21)?,
                "ending_balance": if status == "draft" { Value::Null } else { json!(0) },
            });
            // Two halves: one json! of every field passes the macro's recursion limit.
            let rest = json!({
                "footer": r.get::<_, Option<String>>(9)?,
                "hosted_invoice_url": hosted_url,
                "invoice_pdf": Value::Null,
                "issuer": { "type": "self" },
                "last_finalization_error": Value::Null,
                "lines": Value::Null,
                "livemode": false,
                "metadata": parse_json(&r.get::<_, String>(20)?),
                "next_payment_attempt": Value::Null,
                "number": r.get::<_, Option<String>>(4)?,
                "on_behalf_of": r.get::<_, Option<String>>(19)?,
                "paid": status == "paid",
                "paid_out_of_band": r.get::<_, bool>(15)?,
                "payment_intent": Value::Null,
                "payment_settings": {
                    "default_mandate": Value::Null,
                    "payment_method_options": Value::Null,
                    "payment_method_types": Value::Null,
                },
                "period_end": r.get::<_, i64>(25)?,
                "period_start": r.get::<_, i64>(25)?,
                "post_payment_credit_notes_amount": a.post_payment_credit,
                "pre_payment_credit_notes_amount": a.pre_payment_credit,
                "receipt_number": Value::Null,
                "rf_reference": rf,
                "starting_balance": 0,
                "statement_descriptor": Value::Null,
                "status": status,
                "status_transitions": {
                    "finalized_at": r.get::<_, Option<i64>>(21)?,
                    "marked_uncollectible_at": r.get::<_, Option<i64>>(22)?,
                    "paid_at": r.get::<_, Option<i64>>(23)?,
                    "voided_at": r.get::<_, Option<i64>>(24)?,
                },
                "subscription": Value::Null,
                "subtotal": total,
                "subtotal_excluding_tax": total,
                "tax": Value::Null,
                "test_clock": Value::Null,
                "total": total,
                "total_discount_amounts": [],
                "total_excluding_tax": total,
                "total_tax_amounts": [],
                "transfer_data": destination.map(|d| json!({ "amount": Value::Null, "destination": d })),
                "webhooks_delivered_at": Value::Null,
            });
            if let (Value::Object(d), Value::Object(r)) = (&mut doc, rest) {
                d.extend(r);
            }
            Ok(doc)
        })
        .optional()?
        .ok_or_else(|| missing("invoice", "id", id))?;
    doc["lines"] = lines_json(conn, id)?;
    doc["payment_intent"] = json!(active_intent(conn, id)?);
    Ok(doc)
}

/// What the platform reads of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceView {
    /// `in_…`
    pub id: String,
    /// `cus_…`
    pub customer: String,
    /// Stripe's status.
    pub status: Status,
    /// Set at finalization.
    pub number: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `eur`.
    pub currency: String,
    /// Minor units.
    pub amount_due: i64,
    /// Minor units.
    pub amount_paid: i64,
    /// Minor units.
    pub amount_remaining: i64,
    /// Minor units, to refund.
    pub amount_overpaid: i64,
    /// Unix seconds.
    pub due_date: Option<i64>,
    /// ISO 11649, electronic form.
    pub rf_reference: Option<String>,
    /// The PSP's page for it.
    pub hosted_invoice_url: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// Unix seconds.
    pub paid_at: Option<i64>,
}

/// The invoice's view for the platform.
pub fn view(conn: &Connection, id: &str) -> Result<InvoiceView, ApiError> {
    let doc = invoice_json(conn, id)?;
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let int = |v: &Value| v.as_i64().unwrap_or_default();
    Ok(InvoiceView {
        id: id.to_owned(),
        customer: text(&doc["customer"]).unwrap_or_default(),
        status: doc["status"]
            .as_str()
            .and_then(Status::parse)
            .ok_or_else(|| ApiError::internal("invoice without status"))?,
        number: text(&doc["number"]),
        description: text(&doc["description"]),
        currency: text(&doc["currency"]).unwrap_or_default(),
        amount_due: int(&doc["amount_due"]),
        amount_paid: int(&doc["amount_paid"]),
        amount_remaining: int(&doc["amount_remaining"]),
        amount_overpaid: int(&doc["amount_overpaid"]),
        due_date: doc["due_date"].as_i64(),
        rf_reference: text(&doc["rf_reference"]),
        hosted_invoice_url: text(&doc["hosted_invoice_url"]),
        created: int(&doc["created"]),
        paid_at: doc["status_transitions"]["paid_at"].as_i64(),
    })
}
