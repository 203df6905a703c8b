//! What staff can do to an invoice, each through the functions that already do it (the hosted
//! page's fresh link, the PSP's credit notes, invoice lifecycle and refunds), each in one
//! transaction with its audit entry, and each checked against the role first: support may
//! resend a link; credit notes, uncollectible, void and refunds are finance's (and admin's).

use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::domain::payment_link::Channel;

use super::auth::{Role, Staff};
use tierspay_core::wire::invoice_message::MAX_TEXT_CHARS;

use crate::http::ApiError;
use crate::platform::arrears::hosted_page::{self, facts};
use crate::platform::invoice_messages;
use crate::psp::api as psp;
use crate::state::AppState;

/// Longest amount a form may type (`999999,99`).
const MAX_AMOUNT_CHARS: usize = 12;

/// An action on an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A fresh link on a channel, to the member's address on record.
    ResendLink,
    /// A credit note for an amount.
    CreditNote,
    /// Written off, still payable.
    MarkUncollectible,
    /// Cancelled.
    Void,
    /// What was received beyond the amount due, back to the member's card.
    RefundOverpayment,
    /// An answer on the invoice's message thread (through `invoice_messages`).
    Reply,
}

impl Action {
    /// From the path segment.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "resend_link" => Self::ResendLink,
            "credit_note" => Self::CreditNote,
            "mark_uncollectible" => Self::MarkUncollectible,
            "void" => Self::Void,
            "refund_overpayment" => Self::RefundOverpayment,
            "reply" => Self::Reply,
            _ => return None,
        })
    }

    /// The path segment and audit name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResendLink => "resend_link",
            Self::CreditNote => "credit_note",
            Self::MarkUncollectible => "mark_uncollectible",
            Self::Void => "void",
            Self::RefundOverpayment => "refund_overpayment",
            Self::Reply => "reply",
        }
    }

    /// Whether `role` may do it.
    pub fn allowed(self, role: Role) -> bool {
        match self {
            Self::ResendLink | Self::Reply => true,
            _ => role.is_finance(),
        }
    }
}

/// What a form asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Input {
    /// The channel of a resend.
    pub channel: Option<Channel>,
    /// Minor units of a credit note.
    pub amount: Option<i64>,
    /// Stripe's credit note reason.
    pub reason: Option<String>,
    /// A reply's text.
    pub text: Option<String>,
}

/// Euros as a member types them (`12`, `12,5`, `12.50`) to minor units; never a float.
pub fn parse_euros(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_AMOUNT_CHARS {
        return None;
    }
    let (units, cents) = match text.split_once([',', '.']) {
        Some((_, "")) => return None,
        Some((u, c)) => (u, c),
        None => (text, ""),
    };
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let cents: i64 = match cents.len() {
        0 => 0,
        1 => cents.parse::<i64>().ok()? * 10,
        _ => cents.parse().ok()?,
    };
    let minor = units.checked_mul(100)?.checked_add(cents)?;
    (minor > 0).then_some(minor)
}

/// Checks the fields `action` needs; the error names the field.
pub fn input(
    action: Action,
    channel: Option<&str>,
    amount: Option<&str>,
    reason: Option<&str>,
    text: Option<&str>,
) -> Result<Input, ApiError> {
    match action {
        Action::Reply => {
            // The thread's own rules (length, characters) are checked where it is written;
            // this only refuses what is plainly empty or beyond them, before any lookup.
            let text = text.map(str::trim).unwrap_or("");
            if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                return Err(ApiError::invalid_param(
                    "text",
                    format!("text must be 1 to {MAX_TEXT_CHARS} characters."),
                ));
            }
            Ok(Input {
                text: Some(text.to_owned()),
                ..Input::default()
            })
        }
        Action::ResendLink => {
            let channel = match channel {
                Some("email") => Channel::Email,
                Some("sms") => Channel::Sms,
                _ => {
                    return Err(ApiError::invalid_param(
                        "channel",
                        "channel is email or sms.",
                    ))
                }
            };
            Ok(Input {
                channel: Some(channel),
                ..Input::default()
            })
        }
        Action::CreditNote => {
            let amount = amount
                .and_then(parse_euros)
                .filter(|a| *a <= psp::MAX_AMOUNT)
                .ok_or_else(|| {
                    ApiError::invalid_param(
                        "amount",
                        "amount is a positive amount in euros, such as 12,50.",
                    )
                })?;
            let reason = match reason {
                Some(r @ ("duplicate" | "order_change" | "product_unsatisfactory")) => r,
                _ => {
                    return Err(ApiError::invalid_param(
                        "reason",
                        "reason is duplicate, order_change or product_unsatisfactory.",
                    ))
                }
            };
            Ok(Input {
                amount: Some(amount),
                reason: Some(reason.to_owned()),
                ..Input::default()
            })
        }
        _ => Ok(Input::default()),
    }
}

/// 403 for an action the role may not do.
pub fn forbidden(action: Action) -> ApiError {
    let mut e = ApiError::invalid(
        "role_forbidden",
        format!("{} is a finance action.", action.as_str()),
    );
    e.status = axum::http::StatusCode::FORBIDDEN;
    e.not_executed()
}

fn conflict(code: &str, message: &str) -> ApiError {
    let mut e = ApiError::invalid(code, message);
    e.status = axum::http::StatusCode::CONFLICT;
    e
}

/// The platform's link record of a console invoice.
fn linked(conn: &Connection, invoice: &str) -> Result<facts::LinkedInvoice, ApiError> {
    let number: Option<u32> = conn
        .prepare_cached("SELECT seq FROM platform_invoices WHERE invoice_id = ?1")?
        .query_row([invoice], |r| r.get(0))
        .optional()?;
    number
        .map(|n| facts::linked(conn, n))
        .transpose()?
        .flatten()
        .ok_or_else(|| ApiError::not_found("invoice"))
}

/// Does `action` on `invoice` in the caller's transaction; a short detail for the audit
/// (fixed words and numbers: a masked address at most). A refusal is an error and the caller's
/// transaction rolls back, so nothing of it stays.
pub fn perform(
    tx: &Connection,
    state: &AppState,
    staff: &Staff,
    action: Action,
    invoice: &str,
    input: &Input,
    now: i64,
) -> Result<String, ApiError> {
    if !action.allowed(staff.role) {
        return Err(forbidden(action));
    }
    let l = linked(tx, invoice)?;
    let ctx = psp::Ctx::at(now);
    match action {
        Action::ResendLink => {
            let channel = input
                .channel
                .ok_or_else(|| ApiError::invalid_param("channel", "channel is email or sms."))?;
            let recent: i64 = tx.query_row(
                "SELECT COUNT(*) FROM platform_link_resends WHERE invoice_id = ?1 AND created > ?2",
                params![invoice, now - 86_400],
                |r| r.get(0),
            )?;
            if recent >= hosted_page::MAX_RESENDS_PER_DAY {
                return Err(conflict(
                    "resend_limit",
                    "This invoice was sent the most fresh links a day allows.",
                ));
            }
            let v = crate::platform::payments::invoice(tx, invoice)?;
            if v.amount_remaining <= 0 || matches!(v.status, psp::InvoiceStatus::Void) {
                return Err(conflict(
                    "nothing_to_pay",
                    "This invoice has nothing left to pay: no link is sent.",
                ));
            }
            match hosted_page::send_fresh_link(tx, state, &l, channel, now)? {
                Some(masked) => Ok(format!(
                    "{} {masked}",
                    if channel == Channel::Sms {
                        "sms"
                    } else {
                        "email"
                    }
                )),
                None => Err(conflict(
                    "no_recipient",
                    "The member has no address on record for this channel.",
                )),
            }
        }
        Action::CreditNote => {
            let amount = input
                .amount
                .ok_or_else(|| ApiError::invalid_param("amount", "amount is required."))?;
            let mut metadata = serde_json::Map::new();
            metadata.insert("console_staff".into(), staff.id.clone().into());
            let id = psp::create_credit_note(
                tx,
                &ctx,
                psp::NewCreditNote {
                    invoice: invoice.to_owned(),
                    amount: Some(amount),
                    reason: input.reason.clone(),
                    memo: Some("Support console".into()),
                    metadata,
                    ..psp::NewCreditNote::default()
                },
            )?;
            Ok(format!("{id} amount={amount}"))
        }
        Action::MarkUncollectible => {
            psp::mark_uncollectible(tx, &ctx, invoice)?;
            Ok(String::new())
        }
        Action::Void => {
            psp::void_invoice(tx, &ctx, invoice)?;
            Ok(String::new())
        }
        Action::RefundOverpayment => {
            let (left, charge) = crate::psp::invoice_history::overpayment_left(tx, invoice)?;
            if left <= 0 {
                return Err(conflict(
                    "nothing_to_refund",
                    "Nothing was received beyond the amount due, or it was refunded already.",
                ));
            }
            let Some(charge) = charge else {
                return Err(conflict(
                    "no_card_payment",
                    "The overpayment came by transfer: it is refunded to the payer's account by the transfer itself.",
                ));
            };
            let id = psp::refund_charge(
                tx,
                &ctx,
                &charge,
                psp::NewRefund {
                    amount: Some(left),
                    reason: Some("duplicate".into()),
                    metadata: serde_json::Map::new(),
                },
            )?;
            Ok(format!("{id} amount={left}"))
        }
        Action::Reply => {
            let text = input
                .text
                .as_deref()
                .ok_or_else(|| ApiError::invalid_param("text", "text is required."))?;
            let m = invoice_messages::post_staff(
                tx,
                invoice,
                invoice_messages::Staff {
                    id: &staff.id,
                    display_name: &staff.display_name,
                },
                text,
                now,
            )?;
            // The audit names the message, never its text.
            Ok(m.id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_parse_to_minor_units_or_not_at_all() {
        assert_eq!(parse_euros("12"), Some(1200));
        assert_eq!(parse_euros("12,5"), Some(1250));
        assert_eq!(parse_euros(" 12.50 "), Some(1250));
        for bad in [
            "",
            "0",
            "0,00",
            "-1",
            "1,234",
            "1e3",
            "12,",
            ",5",
            "١٢",
            "99999999999,99",
            "1 000",
        ] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
    }

    #[test]
    fn support_may_only_resend_a_link() {
        assert!(Action::ResendLink.allowed(Role::Support));
        for a in [
            Action::CreditNote,
            Action::MarkUncollectible,
            Action::Void,
            Action::RefundOverpayment,
        ] {
            assert!(!a.allowed(Role::Support), "{a:?}");
            assert!(a.allowed(Role::Finance) && a.allowed(Role::Admin));
        }
    }
}
