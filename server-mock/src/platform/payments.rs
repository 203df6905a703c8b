//! The platform's calls into the PSP's payments API (customers, payment methods, SetupIntents,
//! PaymentIntents with manual capture, connected accounts, transfers), each in one small
//! function, inside the caller's transaction: the rest of the platform names no PSP type, so
//! the PSP's shapes can move without touching the journeys.

use rusqlite::{params, Connection, OptionalExtension};

use crate::http::ApiError;
use crate::psp::api as psp;

/// The publishable key the phone creates payment methods with.
pub const PUBLISHABLE_KEY: &str = "pk_test_tierspay";

/// The public facts of a card, as the PSP shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardFacts {
    /// `visa`, `mastercard`…
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// 1–12.
    pub exp_month: u32,
    /// Four digits.
    pub exp_year: u32,
}

/// Where an off-session SetupIntent stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    /// Usable off-session.
    Succeeded,
    /// The bank wants the member: open this page.
    RequiresAction(Option<String>),
    /// Refused, with Stripe's decline code.
    Failed(String),
}

/// A saved card: its facts, its `seti_…` and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCard {
    /// Public facts.
    pub card: CardFacts,
    /// `seti_…`
    pub setup_intent: String,
    /// Its outcome.
    pub setup: Setup,
}

/// What a hold on the member's card became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    /// `requires_capture`: held, with this `pi_…`.
    Held(String),
    /// Declined by the bank: Stripe's decline code.
    Declined(String),
    /// The bank wants an authentication the member did not finish.
    RequiresAction,
    /// Below the PSP's minimum charge: nothing held (settled as arrears).
    BelowMinimum,
}

/// What a capture became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// Captured this many minor units.
    Captured(i64),
    /// Nothing could be captured (hold expired or canceled, declined): why.
    Failed(String),
}

/// What an insurer's connected account is funded with when it is created, and topped up by
/// when a share would overdraw it (the insurer pre-funds its account, as with Connect).
const INSURER_FLOAT: i64 = 1_000_000;

fn ctx(now: i64) -> psp::Ctx {
    psp::Ctx::at(now)
}

/// The member's PSP customer (`cus_…`), created the first time.
pub fn customer_of(tx: &Connection, member_ref: &str, now: i64) -> Result<String, ApiError> {
    if let Some(id) = tx
        .prepare_cached("SELECT customer_id FROM platform_customers WHERE member_ref = ?1")?
        .query_row([member_ref], |r| r.get::<_, String>(0))
        .optional()?
    {
        return Ok(id);
    }
    let id = create_customer(tx, member_ref, now)?;
    tx.execute(
        "INSERT INTO platform_customers (member_ref, customer_id, created) VALUES (?1, ?2, ?3)",
        params![member_ref, id, now],
    )?;
    Ok(id)
}

fn create_customer(tx: &Connection, _member_ref: &str, now: i64) -> Result<String, ApiError> {
    // The PSP never learns who the member is: the link lives in `platform_customers`.
    psp::create_customer(
        tx,
        &ctx(now),
        psp::CustomerFields {
            description: Some("TiersPay member".into()),
            ..Default::default()
        },
    )
}

fn setup_of(view: &psp::SetupIntentView) -> Setup {
    match view.status.as_str() {
        "succeeded" => Setup::Succeeded,
        "requires_action" | "requires_confirmation" | "processing" => {
            Setup::RequiresAction(view.redirect_url.clone())
        }
        _ => Setup::Failed(
            view.last_decline_code
                .clone()
                .or_else(|| view.last_error_code.clone())
                .unwrap_or_else(|| "card_declined".into()),
        ),
    }
}

/// Attaches `payment_method` to `customer` and sets it up for off-session use (a SetupIntent
/// confirmed at once). A decline is an outcome (`Setup::Failed`), not an error.
pub fn save_card(
    tx: &Connection,
    fingerprint_key: &[u8; 32],
    customer: &str,
    payment_method: &str,
    now: i64,
) -> Result<SavedCard, ApiError> {
    let c = ctx(now);
    let pm = psp::attach_payment_method(tx, &c, payment_method, customer)?;
    let confirmed = psp::create_setup_intent(
        tx,
        &c,
        fingerprint_key,
        psp::NewSetupIntent {
            customer: Some(customer.into()),
            payment_method: Some(payment_method.into()),
            confirm: true,
            off_session: true,
            description: Some("TiersPay: what the insurers do not pay".into()),
            ..Default::default()
        },
    )?;
    let view = confirmed.view();
    Ok(SavedCard {
        card: CardFacts {
            brand: pm.brand.to_lowercase(),
            last4: pm.last4,
            exp_month: u32::from(pm.exp_month),
            exp_year: u32::try_from(pm.exp_year).unwrap_or_default(),
        },
        setup_intent: view.id.clone(),
        setup: setup_of(view),
    })
}

/// Reads a SetupIntent again (after the member authenticated).
pub fn setup_status(conn: &Connection, setup_intent: &str) -> Result<Setup, ApiError> {
    Ok(setup_of(&psp::setup_intent(conn, setup_intent)?))
}

/// Holds `amount` on the member's saved card: a PaymentIntent with manual capture, confirmed
/// off-session, in the visit's transfer group. A share under the PSP's minimum charge is not
/// held ([`Hold::BelowMinimum`]).
#[allow(clippy::too_many_arguments)]
pub fn hold(
    tx: &Connection,
    fingerprint_key: &[u8; 32],
    customer: &str,
    payment_method: &str,
    amount: i64,
    currency: &str,
    visit: &str,
    now: i64,
) -> Result<Hold, ApiError> {
    if amount < psp::MIN_AMOUNT {
        return Ok(Hold::BelowMinimum);
    }
    let confirmed = psp::create_payment_intent(
        tx,
        &ctx(now),
        fingerprint_key,
        psp::NewPaymentIntent {
            amount,
            currency: currency.into(),
            customer: Some(customer.into()),
            payment_method: Some(payment_method.into()),
            manual_capture: true,
            confirm: true,
            off_session: true,
            transfer_group: Some(visit.into()),
            description: Some(format!("TiersPay {visit}: your share")),
            ..Default::default()
        },
    )?;
    let view = confirmed.view();
    let code = view
        .last_decline_code
        .clone()
        .or_else(|| view.last_error_code.clone());
    Ok(match (view.status.as_str(), code.as_deref()) {
        ("requires_capture", _) => Hold::Held(view.id.clone()),
        ("requires_action", _) | (_, Some("authentication_required")) => Hold::RequiresAction,
        (_, code) => Hold::Declined(code.unwrap_or("card_declined").to_owned()),
    })
}

/// Captures exactly `amount` of a hold (the rest is released). A hold that lapsed or was
/// canceled captures nothing ([`Capture::Failed`] names its state).
pub fn capture(
    tx: &Connection,
    payment_intent: &str,
    amount: i64,
    now: i64,
) -> Result<Capture, ApiError> {
    let view = psp::payment_intent(tx, payment_intent)?;
    if view.status != "requires_capture" {
        return Ok(Capture::Failed(format!("hold_{}", view.status)));
    }
    if view.capture_before.is_some_and(|t| t <= now) {
        // Let the PSP expire it as it would by itself.
        psp::cancel_payment_intent(tx, &ctx(now), payment_intent, Some("abandoned"))?;
        return Ok(Capture::Failed("hold_expired".into()));
    }
    let amount = amount.min(view.amount_capturable);
    if amount < 1 {
        return Ok(Capture::Failed("hold_empty".into()));
    }
    let captured = psp::capture_payment_intent(tx, &ctx(now), payment_intent, Some(amount))?;
    Ok(Capture::Captured(captured.amount_received))
}

/// Releases a hold (cancels the PaymentIntent); one already captured or canceled is left.
pub fn release(tx: &Connection, payment_intent: &str, now: i64) -> Result<(), ApiError> {
    let view = psp::payment_intent(tx, payment_intent)?;
    if matches!(view.status.as_str(), "succeeded" | "canceled") {
        return Ok(());
    }
    psp::cancel_payment_intent(tx, &ctx(now), payment_intent, Some("abandoned"))?;
    Ok(())
}

/// The connected account of statutory (`amo`) or complementary (`amc`) insurance, created and
/// funded the first time.
pub fn insurer_account(tx: &Connection, role: &str, now: i64) -> Result<String, ApiError> {
    if let Some(id) = tx
        .prepare_cached("SELECT account_id FROM platform_insurer_accounts WHERE role = ?1")?
        .query_row([role], |r| r.get::<_, String>(0))
        .optional()?
    {
        return Ok(id);
    }
    let id = create_insurer_account(tx, role, now)?;
    tx.execute(
        "INSERT INTO platform_insurer_accounts (role, account_id, created) VALUES (?1, ?2, ?3)",
        params![role, id, now],
    )?;
    Ok(id)
}

fn create_insurer_account(tx: &Connection, role: &str, now: i64) -> Result<String, ApiError> {
    let name = match role {
        "amo" => "Assurance Maladie (part obligatoire)",
        _ => "Mutuelle Horizon (part complémentaire)",
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("tierspay_role".into(), role.into());
    let account = psp::create_account(
        tx,
        &ctx(now),
        psp::NewAccount {
            country: "FR".into(),
            business_name: Some(name.into()),
            email: None,
            metadata,
        },
    )?;
    psp::fund_account(
        tx,
        &ctx(now),
        &account.id,
        INSURER_FLOAT,
        "eur",
        psp::BalanceType::Payments,
    )?;
    Ok(account.id)
}

/// Moves `amount` from a connected account to the platform, in the visit's transfer group.
pub fn transfer_to_platform(
    tx: &Connection,
    from: &str,
    amount: i64,
    currency: &str,
    group: &str,
    description: &str,
    now: i64,
) -> Result<String, ApiError> {
    let available = psp::balance(tx, from, currency)?;
    if available < amount {
        psp::fund_account(
            tx,
            &ctx(now),
            from,
            (amount - available).max(INSURER_FLOAT),
            currency,
            psp::BalanceType::Payments,
        )?;
    }
    let transfer = psp::create_transfer(
        tx,
        &ctx(now),
        psp::NewTransfer {
            from: from.into(),
            destination: psp::PLATFORM_ACCOUNT.into(),
            amount,
            currency: currency.into(),
            transfer_group: Some(group.into()),
            source_transaction: None,
            description: Some(description.into()),
            metadata: serde_json::Map::new(),
        },
    )?;
    Ok(transfer.id)
}

/// Makes sure the platform's Issuing balance can pay `amount` at a terminal: the provider is
/// paid from it when the tap is captured, so a visit is armed only with the money there (topped
/// up from the bank, as Stripe Issuing balances are).
pub fn fund_issuing(
    tx: &Connection,
    amount: i64,
    currency: &str,
    now: i64,
) -> Result<(), ApiError> {
    let issuing = psp::issuing_account(psp::PLATFORM_ACCOUNT);
    let available = psp::balance(tx, &issuing, currency)?;
    if available < amount {
        psp::fund_account(
            tx,
            &ctx(now),
            psp::PLATFORM_ACCOUNT,
            (amount - available).max(INSURER_FLOAT),
            currency,
            psp::BalanceType::Issuing,
        )?;
    }
    Ok(())
}

/// The secret the platform's event receiver verifies `Stripe-Signature` with.
pub fn webhook_secret(conn: &Connection) -> Result<Option<String>, ApiError> {
    psp::platform_webhook_secret(conn)
}

/// An invoice the platform makes for a debt: one line, finalized at once (numbered, with its
/// RF reference and the PSP's page).
#[derive(Debug, Clone)]
pub struct Debt<'a> {
    /// The member's `cus_…`.
    pub customer: &'a str,
    /// Minor units.
    pub amount: i64,
    /// `eur`.
    pub currency: &'a str,
    /// What the member reads.
    pub description: &'a str,
    /// Due this many days after today.
    pub days_until_due: i64,
    /// The platform's ids, kept on the invoice (`metadata`).
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The connected account paid what the member pays (the insurer, for premiums).
    pub transfer_destination: Option<String>,
}

/// Creates and finalizes the invoice of a debt; its `in_…`.
pub fn open_invoice(tx: &Connection, debt: Debt<'_>, now: i64) -> Result<String, ApiError> {
    let invoice = psp::create_invoice(
        tx,
        &ctx(now),
        psp::NewInvoice {
            customer: debt.customer.into(),
            currency: debt.currency.into(),
            days_until_due: Some(debt.days_until_due),
            description: Some(debt.description.into()),
            metadata: debt.metadata,
            transfer_destination: debt.transfer_destination,
            ..Default::default()
        },
    )?;
    psp::create_invoice_item(
        tx,
        &ctx(now),
        psp::NewInvoiceItem {
            customer: debt.customer.into(),
            invoice: Some(invoice.clone()),
            unit_amount: debt.amount,
            quantity: 1,
            currency: debt.currency.into(),
            description: Some(debt.description.into()),
            ..Default::default()
        },
    )?;
    psp::finalize_invoice(tx, &ctx(now), &invoice)?;
    Ok(invoice)
}

/// An invoice as the PSP shows it.
pub fn invoice(conn: &Connection, id: &str) -> Result<psp::InvoiceView, ApiError> {
    psp::invoice(conn, id)
}

/// The PSP's own card form for what is left to pay on an invoice (the hosted page's "pay by
/// card"): the URL to send the member's browser to, under `psp_base_url`; the PSP sends it back
/// to `return_url` once the payment is over. The card number goes to the PSP only.
pub fn open_invoice_checkout(
    tx: &Connection,
    fingerprint_key: &[u8; 32],
    psp_base_url: &str,
    invoice: &str,
    payee: &str,
    return_url: &str,
    now: i64,
) -> Result<String, ApiError> {
    let ctx = psp::Ctx {
        base_url: Some(psp_base_url.trim_end_matches('/').to_owned()),
        ..ctx(now)
    };
    psp::open_invoice_checkout(tx, &ctx, fingerprint_key, invoice, payee, return_url)
}

/// How paying an invoice with a saved card ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardPayment {
    /// Taken: the invoice is paid (in this transaction).
    Succeeded,
    /// Refused: nothing taken; the Stripe decline code.
    Declined(String),
}

/// Pays what remains on an invoice with a saved card, off-session, through the PSP invoice's
/// own pay path (its one live PaymentIntent, so no other channel can charge it meanwhile).
pub fn pay_invoice_off_session(
    tx: &Connection,
    fingerprint_key: &[u8; 32],
    invoice: &str,
    payment_method: &str,
    now: i64,
) -> Result<CardPayment, ApiError> {
    let outcome = psp::pay_invoice_with(
        tx,
        &ctx(now),
        fingerprint_key,
        invoice,
        psp::InvoicePayWith::Card {
            payment_method: Some(payment_method.to_owned()),
            off_session: true,
        },
    )?;
    Ok(match outcome {
        psp::InvoicePayOutcome::Done => CardPayment::Succeeded,
        psp::InvoicePayOutcome::Declined(e) => CardPayment::Declined(
            e.error["decline_code"]
                .as_str()
                .or(e.error["code"].as_str())
                .unwrap_or("card_declined")
                .to_owned(),
        ),
        // Off-session, the PSP declines a card that asks for 3-D Secure; should it ever wait
        // for one, nobody is there to answer: it counts as refused for that reason.
        psp::InvoicePayOutcome::RequiresAction(_) => {
            CardPayment::Declined("authentication_required".into())
        }
    })
}

/// The invoice's live PaymentIntent at the PSP, if any.
pub fn invoice_live_intent(
    conn: &Connection,
    invoice: &str,
) -> Result<Option<psp::LiveIntent>, ApiError> {
    psp::invoice_live_intent(conn, invoice)
}
