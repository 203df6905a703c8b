//! Money applied to an invoice: [`apply_payment`] for a bank transfer, a card or out of band
//! (compare-and-set on the amounts, one application per source, its events),
//! [`find_by_reference`] for a transfer's RF reference, and [`intent_succeeded`] when a
//! PaymentIntent made for an invoice succeeds (transfer to the destination, refund of an
//! overpayment). One place for the rule that money is counted once.

use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::auth::random;
use tierspay_core::domain::rf_reference::RfReference;

use crate::http::ApiError;
use crate::psp::events::{emit, emit_update};
use crate::psp::invoice_rules::{self as rules, PayMode, Status};
use crate::psp::model::Ctx;

use super::object::invoice_json;
use super::refused;
use super::store::{invoice_of_intent, row, store_amounts};

/// Where money applied to an invoice came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentSource {
    /// Paid outside the PSP (`paid_out_of_band=true`): no money moved through the ledger.
    OutOfBand,
    /// A PaymentIntent (`pi_…`) that succeeded for this invoice.
    PaymentIntent(String),
    /// An incoming SEPA credit transfer, by its id at the PSP.
    BankTransfer(String),
}

impl PaymentSource {
    fn kind(&self) -> &'static str {
        match self {
            Self::OutOfBand => "out_of_band",
            Self::PaymentIntent(_) => "payment_intent",
            Self::BankTransfer(_) => "bank_transfer",
        }
    }

    fn id(&self) -> Option<&str> {
        match self {
            Self::OutOfBand => None,
            Self::PaymentIntent(id) | Self::BankTransfer(id) => Some(id),
        }
    }
}

/// What [`apply_payment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// `in_…`
    pub invoice: String,
    /// The invoice payment's id (`inpay_…`).
    pub payment: String,
    /// What lowered `amount_remaining`.
    pub applied: i64,
    /// Beyond what remained: added to `amount_overpaid`, for the caller to refund.
    pub overpaid: i64,
    /// `amount_remaining` after it.
    pub amount_remaining: i64,
    /// The invoice's status after it.
    pub status: Status,
    /// This payment made the invoice paid.
    pub settled: bool,
}

/// Applies money that has arrived for `invoice_id` (see the module's documentation).
pub(crate) fn apply_payment(
    tx: &Connection,
    invoice_id: &str,
    amount: i64,
    source: PaymentSource,
    now: i64,
) -> Result<Applied, ApiError> {
    apply(
        tx,
        &Ctx::at(now),
        invoice_id,
        amount,
        source,
        PayMode::Received,
    )
}

/// The invoice whose RF reference `rf` is (spaces and case tolerated, checksum verified).
pub(crate) fn find_by_reference(conn: &Connection, rf: &str) -> Option<String> {
    let rf = RfReference::parse(rf).ok()?;
    conn.prepare_cached("SELECT id FROM psp_invoices WHERE rf_reference = ?1")
        .ok()?
        .query_row([rf.as_str()], |r| r.get(0))
        .optional()
        .ok()
        .flatten()
}

// ------------------------------------------------------------------- rows

/// Applies a payment through the rules, records it, and emits its events.
pub(super) fn apply(
    tx: &Connection,
    ctx: &Ctx,
    invoice_id: &str,
    amount: i64,
    source: PaymentSource,
    mode: PayMode,
) -> Result<Applied, ApiError> {
    if let Some(source_id) = source.id() {
        if let Some(earlier) = earlier_payment(tx, source.kind(), source_id)? {
            return Ok(earlier);
        }
    }
    let before_row = row(tx, invoice_id, "invoice")?;
    let (amounts, status, p) = rules::pay(before_row.status, before_row.amounts, amount, mode)
        .map_err(|r| {
            let param = r.code.starts_with("amount").then_some("amount");
            refused(r, param)
        })?;
    let before = invoice_json(tx, invoice_id)?;
    store_amounts(tx, &before_row, amounts, status, ctx.now)?;
    if source == PaymentSource::OutOfBand && p.settled {
        tx.execute(
            "UPDATE psp_invoices SET paid_out_of_band = 1 WHERE id = ?1",
            [invoice_id],
        )?;
    }
    let payment = random::id("inpay");
    tx.prepare_cached(
        "INSERT INTO psp_invoice_payments (id, invoice, source_kind, source_id, amount, applied, overpaid, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        payment,
        invoice_id,
        source.kind(),
        source.id(),
        amount,
        p.applied,
        p.overpaid,
        ctx.now
    ])?;
    let after = invoice_json(tx, invoice_id)?;
    emit_update(tx, ctx, "invoice", &before, &after)?;
    if p.applied > 0 {
        emit(tx, ctx, "invoice.payment_succeeded", &after, None)?;
    }
    if p.settled {
        emit(tx, ctx, "invoice.paid", &after, None)?;
    }
    if p.overpaid > 0 {
        emit(tx, ctx, "invoice.overpaid", &after, None)?;
    }
    Ok(Applied {
        invoice: invoice_id.to_owned(),
        payment,
        applied: p.applied,
        overpaid: p.overpaid,
        amount_remaining: amounts.remaining(),
        status,
        settled: p.settled,
    })
}

fn earlier_payment(
    conn: &Connection,
    kind: &str,
    source_id: &str,
) -> Result<Option<Applied>, ApiError> {
    let found: Option<(String, String, i64, i64)> = conn
        .prepare_cached(
            "SELECT id, invoice, applied, overpaid FROM psp_invoice_payments
             WHERE source_kind = ?1 AND source_id = ?2",
        )?
        .query_row(params![kind, source_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((payment, invoice, applied, overpaid)) = found else {
        return Ok(None);
    };
    let now = row(conn, &invoice, "invoice")?;
    Ok(Some(Applied {
        invoice,
        payment,
        applied,
        overpaid,
        amount_remaining: now.amounts.remaining(),
        status: now.status,
        settled: false,
    }))
}

/// A PaymentIntent succeeded: if it was made for an invoice, its money is applied there (and
/// passed on to the invoice's `transfer_data[destination]`). Called by `payment_intents.rs`.
pub(in crate::psp) fn intent_succeeded(
    tx: &Connection,
    ctx: &Ctx,
    intent: &str,
) -> Result<(), ApiError> {
    let Some(invoice) = invoice_of_intent(tx, intent)? else {
        return Ok(());
    };
    let (received, charge): (i64, Option<String>) = tx.query_row(
        "SELECT amount_received, latest_charge FROM psp_payment_intents WHERE id = ?1",
        [intent],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if received <= 0 {
        return Ok(());
    }
    let applied = apply(
        tx,
        ctx,
        &invoice,
        received,
        PaymentSource::PaymentIntent(intent.to_owned()),
        PayMode::Received,
    )?;
    let destination: Option<String> = tx.query_row(
        "SELECT transfer_destination FROM psp_invoices WHERE id = ?1",
        [&invoice],
        |r| r.get(0),
    )?;
    if let (Some(destination), true) = (destination, applied.applied > 0) {
        let currency = row(tx, &invoice, "invoice")?.currency;
        crate::psp::transfers::create_transfer(
            tx,
            ctx,
            crate::psp::transfers::NewTransfer {
                from: crate::psp::balance::PLATFORM_ACCOUNT.to_owned(),
                destination,
                amount: applied.applied,
                currency,
                transfer_group: Some(invoice.clone()),
                source_transaction: charge.clone(),
                description: Some(format!("Invoice {invoice}")),
                metadata: serde_json::Map::new(),
            },
        )?;
    }
    // Beyond what was due (the invoice was paid meanwhile, by a transfer): back to the card at
    // once, never kept.
    if let (Some(charge), true) = (charge, applied.overpaid > 0) {
        crate::psp::refunds::refund_charge(
            tx,
            ctx,
            &charge,
            crate::psp::refunds::NewRefund {
                amount: Some(applied.overpaid),
                reason: Some("duplicate".into()),
                metadata: serde_json::Map::new(),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psp::invoices::lifecycle::void_invoice;
    use crate::psp::invoices::test_support::*;

    #[tokio::test]
    async fn transfers_pay_in_part_then_settle_then_overpay() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 4250);
            let a = apply_payment(
                tx,
                &id,
                1000,
                PaymentSource::BankTransfer("sct_1".into()),
                NOW,
            )?;
            assert_eq!(
                (a.applied, a.overpaid, a.amount_remaining, a.status),
                (1000, 0, 3250, Status::Open)
            );
            let b = apply_payment(
                tx,
                &id,
                4000,
                PaymentSource::BankTransfer("sct_2".into()),
                NOW,
            )?;
            assert_eq!(
                (
                    b.applied,
                    b.overpaid,
                    b.amount_remaining,
                    b.status,
                    b.settled
                ),
                (3250, 750, 0, Status::Paid, true)
            );
            // A late transfer on a paid invoice is wholly overpaid, never dropped.
            let c = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_3".into()),
                NOW,
            )?;
            assert_eq!(
                (c.applied, c.overpaid, c.status, c.settled),
                (0, 500, Status::Paid, false)
            );
            let doc = invoice_json(tx, &id)?;
            assert_eq!(
                (doc["amount_paid"].as_i64(), doc["amount_overpaid"].as_i64()),
                (Some(4250), Some(1250))
            );
            assert_eq!(doc["status_transitions"]["paid_at"], NOW);
            assert_eq!(events(tx, "invoice.paid"), 1);
            assert_eq!(events(tx, "invoice.overpaid"), 2);
            assert_eq!(events(tx, "invoice.payment_succeeded"), 2);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn the_same_transfer_applied_twice_counts_once() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 2000);
            let first = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_x".into()),
                NOW,
            )?;
            let again = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_x".into()),
                NOW,
            )?;
            assert_eq!(first.payment, again.payment);
            assert_eq!(invoice_json(tx, &id)?["amount_remaining"], 1500);
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_void_invoice_refuses_money_and_nothing_is_written() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, _) = open_invoice(tx, 2000);
            void_invoice(tx, &Ctx::at(NOW), &id)?;
            let e = apply_payment(
                tx,
                &id,
                500,
                PaymentSource::BankTransfer("sct_v".into()),
                NOW,
            )
            .unwrap_err();
            assert_eq!(e.detail.code, "invoice_unexpected_state");
            let payments: i64 =
                tx.query_row("SELECT COUNT(*) FROM psp_invoice_payments", [], |r| {
                    r.get(0)
                })?;
            assert_eq!(payments, 0);
            assert!(apply_payment(tx, "in_nope", 500, PaymentSource::OutOfBand, NOW).is_err());
            Ok(())
        })
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn a_reference_is_found_with_spaces_and_lower_case_and_only_with_its_checksum() {
        let (_dir, db) = db();
        db.transaction(|tx| {
            let (id, rf) = open_invoice(tx, 900);
            assert!(RfReference::parse(&rf).is_ok(), "{rf}");
            let spaced = RfReference::parse(&rf).unwrap().grouped().to_lowercase();
            assert_eq!(find_by_reference(tx, &rf), Some(id.clone()));
            assert_eq!(find_by_reference(tx, &spaced), Some(id));
            // One character changed: the checksum fails before any lookup.
            let mut typo: Vec<char> = rf.chars().collect();
            let last = typo.len() - 1;
            typo[last] = if typo[last] == '1' { '2' } else { '1' };
            assert_eq!(
                find_by_reference(tx, &typo.iter().collect::<String>()),
                None
            );
            assert_eq!(find_by_reference(tx, "RF18539007547034"), None);
            assert_eq!(find_by_reference(tx, &"RF".repeat(500)), None);
            Ok(())
        })
        .await
        .unwrap();
    }
}
