//! Fixtures the invoice unit tests share: a database and an open invoice.

use std::sync::Arc;

use rusqlite::Connection;

use crate::db::Db;
use crate::psp::customers::{create_customer, CustomerFields};
use crate::psp::invoice_items::{create_item, NewItem};
use crate::psp::model::Ctx;
use crate::vault::Vault;

use super::lifecycle::{create_invoice, finalize_invoice, NewInvoice};
use super::object::invoice_json;

/// Business time of the tests.
pub(super) const NOW: i64 = 1_780_000_000;

/// A fresh database in a temporary folder (kept alive by the returned guard).
pub(super) fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(
        &dir.path().join("t.sqlite"),
        Arc::new(Vault::from_key([7; 32])),
    )
    .unwrap();
    (dir, db)
}

/// An open invoice of `amount` for a new customer; its id and RF reference.
pub(super) fn open_invoice(tx: &Connection, amount: i64) -> (String, String) {
    let ctx = Ctx::at(NOW);
    let customer = create_customer(tx, &ctx, CustomerFields::default()).unwrap();
    let id = create_invoice(
        tx,
        &ctx,
        NewInvoice {
            customer: customer.clone(),
            currency: "eur".into(),
            days_until_due: Some(30),
            ..Default::default()
        },
    )
    .unwrap();
    create_item(
        tx,
        &ctx,
        NewItem {
            customer,
            invoice: Some(id.clone()),
            unit_amount: amount,
            quantity: 1,
            currency: "eur".into(),
            ..Default::default()
        },
    )
    .unwrap();
    finalize_invoice(tx, &ctx, &id).unwrap();
    let rf = invoice_json(tx, &id).unwrap()["rf_reference"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, rf)
}

/// How many events of `kind` were emitted.
pub(super) fn events(tx: &Connection, kind: &str) -> i64 {
    tx.query_row(
        "SELECT COUNT(*) FROM psp_events WHERE type = ?1",
        [kind],
        |r| r.get(0),
    )
    .unwrap()
}
