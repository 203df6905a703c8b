//! The facts a link's page shows, gathered from the platform's records (whose invoice, which
//! contract, which insurer), the insurer's (the member's name and known addresses) and the
//! PSP's invoice (amounts, status, RF reference, the receipt), read in one connection.

use rusqlite::{Connection, OptionalExtension};
use tierspay_core::domain::calendar::paris_date;
use tierspay_core::domain::rf_reference::RfReference;

use super::view::{InvoiceFacts, Method, Notice, Payee, Receipt, Status};
use crate::http::ApiError;
use crate::platform::arrears::messages;
use crate::platform::payments;
// The receipt's card and the transfer account are the PSP's hosted-page facts.
use crate::psp::api as psp;

/// The platform's side of the invoice a link names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedInvoice {
    /// The link's short number (`platform_invoices.seq`).
    pub number: u32,
    /// `in_…` at the PSP.
    pub invoice_id: String,
    /// Whose.
    pub member_ref: String,
    /// Which contract.
    pub contract_ref: String,
    /// The insurer owed, as the contract names it.
    pub insurer: String,
}

/// The invoice whose link number is `number`.
pub fn linked(conn: &Connection, number: u32) -> Result<Option<LinkedInvoice>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT invoice_id, member_ref, contract_ref, insurer FROM platform_invoices WHERE seq = ?1",
        )?
        .query_row([number], |r| {
            Ok(LinkedInvoice {
                number,
                invoice_id: r.get(0)?,
                member_ref: r.get(1)?,
                contract_ref: r.get(2)?,
                insurer: r.get(3)?,
            })
        })
        .optional()?)
}

/// The member's name and the addresses the insurer has on record (never one typed on a page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// `Camille Martin`.
    pub name: String,
    /// The contract's number, as printed.
    pub contract_number: String,
    /// E.164.
    pub phone: String,
    /// An email address.
    pub email: String,
}

/// The contact of `member_ref`.
pub fn contact(conn: &Connection, member_ref: &str) -> Result<Contact, ApiError> {
    let (first, last, number, phone, email) =
        crate::insurer::contracts::arrears_contact(conn, member_ref)?;
    Ok(Contact {
        name: format!("{first} {last}"),
        contract_number: number,
        phone,
        email,
    })
}

/// Logos drawn so far, by colour: each insurer's is the same on every page, so it is encoded
/// once per process (a handful of insurers; the map is cleared past 64 colours).
fn logo(colour: [u8; 3]) -> Option<Vec<u8>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static LOGOS: OnceLock<Mutex<HashMap<[u8; 3], Vec<u8>>>> = OnceLock::new();
    let cache = LOGOS.get_or_init(Default::default);
    if let Some(png) = cache.lock().ok()?.get(&colour) {
        return Some(png.clone());
    }
    let png = messages::images::logo_png(colour).ok()?;
    let mut map = cache.lock().ok()?;
    if map.len() >= 64 {
        map.clear();
    }
    map.insert(colour, png.clone());
    Some(png)
}

/// The identity the frame of a page shows.
pub fn page_insurer(insurer: &messages::Insurer) -> super::view::Insurer {
    super::view::Insurer {
        name: insurer.name.clone(),
        legal_entity: insurer.legal_entity.clone(),
        registration: insurer.registration.clone(),
        contact: insurer.contact.clone(),
        logo: logo(insurer.colour).map(|bytes| super::view::Logo {
            mime: "image/png".into(),
            bytes,
        }),
    }
}

/// Everything the invoice page shows for `linked`.
pub fn invoice_facts(
    conn: &Connection,
    linked: &LinkedInvoice,
    insurer: &messages::Insurer,
) -> Result<InvoiceFacts, ApiError> {
    let v = payments::invoice(conn, &linked.invoice_id)?;
    let contact = contact(conn, &linked.member_ref)?;
    let status = Status::of(v.status.as_str(), v.amount_paid, v.amount_remaining)
        .ok_or_else(|| ApiError::internal("a linked invoice is still a draft"))?;
    let reference = v
        .rf_reference
        .as_deref()
        .and_then(|r| RfReference::parse(r).ok())
        .ok_or_else(|| ApiError::internal("a finalized invoice without its RF reference"))?;
    let receipt = match (status, psp::invoice_receipt(conn, &linked.invoice_id)?) {
        (Status::Paid, Some(r)) => Some(Receipt {
            paid_on: paris_date(v.paid_at.unwrap_or(r.at)),
            amount: v.amount_paid,
            method: match r.card {
                Some((brand, last4)) => Method::Card { brand, last4 },
                None if r.kind == "bank_transfer" => Method::Transfer,
                None => Method::OutOfBand,
            },
        }),
        _ => None,
    };
    Ok(InvoiceFacts {
        insurer: page_insurer(insurer),
        member_name: contact.name,
        contract_ref: contact.contract_number,
        number: v.number.unwrap_or_else(|| linked.invoice_id.clone()),
        description: v.description,
        amount_due: v.amount_due,
        amount_remaining: v.amount_remaining,
        due_date: paris_date(v.due_date.unwrap_or(v.created)),
        status,
        reference,
        payee: Some(Payee {
            name: psp::TRANSFER_NAME.to_owned(),
            iban: psp::TRANSFER_IBAN.to_owned(),
            bic: Some(psp::TRANSFER_BIC.to_owned()),
        }),
        receipt,
    })
}

/// What the page's status line adds about a card payment: waiting for 3-D Secure, or the last
/// card declined.
pub fn card_notice(conn: &Connection, invoice_id: &str) -> Result<Option<Notice>, ApiError> {
    Ok(match psp::invoice_card_attempt(conn, invoice_id)? {
        Some(psp::CardAttempt::Pending) => Some(Notice::Pending),
        Some(psp::CardAttempt::Declined) => Some(Notice::Declined),
        None => None,
    })
}
