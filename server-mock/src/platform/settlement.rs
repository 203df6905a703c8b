//! Settling a captured visit, Connect-style and balanced to the cent: the provider was paid the
//! whole price from the platform's Issuing balance when the terminal captured; here the member's
//! hold is captured for exactly their share, and statutory and complementary insurance each
//! transfer their share from their connected account to the platform, in the visit's transfer
//! group. So for each visit the platform's movements sum to zero and price = AMO + AMC + member.
//! A share that cannot be captured becomes arrears; the insurers' shares settle regardless. The
//! annual counters move here, and only here.

use rusqlite::{params, Connection};
use rust_decimal::Decimal;
use tierspay_core::domain::enrollment::parse_date;
use tierspay_core::domain::money::display_fr;
use tierspay_core::wire::Visit;

use super::arrears;
use super::notifications::{self, Push};
use super::payments::{self, Capture};
use super::visits::{self, VisitRow};
use crate::http::ApiError;
use crate::insurer::{directory, usage};

/// The final split of what the terminal captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// The captured amount, paid to the provider.
    pub price: i64,
    /// Statutory share.
    pub amo: i64,
    /// Complementary share.
    pub amc: i64,
    /// The member's share.
    pub member: i64,
}

/// The split of `amount` when the engine cannot price it: the insurers' authorized shares, cut
/// back if they exceed it, and the member the rest. Always sums to `amount`.
pub fn fallback_split(visit: &VisitRow, amount: i64) -> Split {
    let amo = visit.amo.min(amount);
    let amc = visit.amc.min(amount - amo);
    Split {
        price: amount,
        amo,
        amc,
        member: amount - amo - amc,
    }
}

/// What the member still owes, captured or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberSide {
    /// Captured on their card.
    pub captured: i64,
    /// Left as arrears.
    pub arrears: i64,
}

/// How much of `share` a capture covers: at most the hold, nothing when it failed.
pub fn member_side(share: i64, hold: i64, capture: Option<&Capture>) -> MemberSide {
    let captured = match capture {
        Some(Capture::Captured(amount)) => (*amount).clamp(0, share.min(hold)),
        _ => 0,
    };
    MemberSide {
        captured,
        arrears: share - captured,
    }
}

/// The push the member receives once a visit is paid.
pub fn paid_text(provider: &str, split: &Split, arrears: i64) -> String {
    let mut text = format!(
        "Paid {} to {provider}: your insurers {}, you {}",
        display_fr(split.price),
        display_fr(split.amo + split.amc),
        display_fr(split.member),
    );
    if arrears > 0 {
        text.push_str(&format!(
            " ({} could not be taken from your card and is still due)",
            display_fr(arrears)
        ));
    }
    text
}

fn split_for(tx: &Connection, visit: &VisitRow, amount: i64) -> Result<Split, ApiError> {
    if amount == visit.price {
        return Ok(Split {
            price: visit.price,
            amo: visit.amo,
            amc: visit.amc,
            member: visit.member,
        });
    }
    // The terminal captured another amount than it was authorized for: price that one.
    let provider = directory::find(tx, &visit.provider_id)?;
    let date = parse_date(&visit.date, "date").ok();
    let figures = match (provider, date) {
        (Some(p), Some(d)) => visits::price_visit(
            tx,
            &visit.contract_ref,
            &visit.beneficiary_id,
            &p,
            &visit.act_code,
            amount,
            d,
        )
        .ok(),
        _ => None,
    };
    Ok(match figures {
        Some(f) => Split {
            price: amount,
            amo: f.amo,
            amc: f.amc,
            member: f.member,
        },
        None => fallback_split(visit, amount),
    })
}

/// Settles the visit a capture of `amount` belongs to; a visit already paid is answered as it
/// is (captures are delivered at least once).
pub fn settle(tx: &Connection, visit: &VisitRow, amount: i64, now: i64) -> Result<Visit, ApiError> {
    if visit.status == "paid" {
        return Ok(visit.to_wire());
    }
    let split = split_for(tx, visit, amount)?;
    let capture = match (&visit.payment_intent, split.member > 0) {
        (Some(pi), true) => Some(payments::capture(
            tx,
            pi,
            split.member.min(visit.hold),
            now,
        )?),
        // Nothing to take: let the hold go.
        (Some(pi), false) => {
            payments::release(tx, pi, now)?;
            None
        }
        (None, _) => None,
    };
    let member = member_side(split.member, visit.hold, capture.as_ref());
    let description = format!("visit {} ({})", visit.id, visit.act_code);
    for (role, share) in [("amo", split.amo), ("amc", split.amc)] {
        if share > 0 {
            let account = payments::insurer_account(tx, role, now)?;
            payments::transfer_to_platform(
                tx,
                &account,
                share,
                &visit.currency,
                &visit.id,
                &format!("{role} share of {description}"),
                now,
            )?;
        }
    }
    if member.arrears > 0 {
        let reason = match &capture {
            Some(Capture::Failed(reason)) => reason.clone(),
            Some(Capture::Captured(_)) => "hold_insufficient".to_owned(),
            None => "no_hold".to_owned(),
        };
        tx.prepare_cached(
            "INSERT INTO platform_arrears (id, visit_id, member_ref, amount, currency, reason, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (visit_id) DO NOTHING",
        )?
        .execute(params![
            tierspay_core::auth::random::id("arr"),
            visit.id,
            visit.member_ref,
            member.arrears,
            visit.currency,
            reason,
            now
        ])?;
        // The member is invoiced for it at once, in this transaction (issue 11).
        arrears::invoices::invoice_visit_remainder(
            tx,
            &visit.member_ref,
            &visit.contract_ref,
            &visit.id,
            &visit.provider_name,
            &visit.date,
            member.arrears,
            &visit.currency,
            now,
        )?;
    }
    // Only a captured visit consumes the annual counters (at the figures it was authorized
    // with; a different captured amount is rare and re-priced above for the money only).
    usage::record(
        tx,
        &usage::Consumption {
            beneficiary_id: &visit.beneficiary_id,
            provider_id: &visit.provider_id,
            date: &visit.date,
            pf: Decimal::new(visit.pf, 2),
            franchise: Decimal::new(visit.franchise, 2),
            ceiling: visit
                .ceiling_category
                .as_deref()
                .map(|c| (c, Decimal::new(split.amc, 2))),
        },
    )?;
    tx.prepare_cached(
        "UPDATE platform_visits SET status = 'paid', price = ?2, amo = ?3, amc = ?4, member = ?5,
            provider_paid = ?2, member_captured = ?6, arrears = ?7, settled_at = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        visit.id,
        split.price,
        split.amo,
        split.amc,
        split.member,
        member.captured,
        member.arrears,
        now
    ])?;
    let text = paid_text(&visit.provider_name, &split, member.arrears);
    let link = format!("tierspay://visits/{}", visit.id);
    notifications::push_to_member(
        tx,
        &visit.member_ref,
        Push {
            kind: "visit_paid",
            title: "Visit paid",
            body: &text,
            link: &link,
        },
        now,
    )?;
    tracing::info!(visit = %visit.id, arrears = member.arrears, "visit settled");
    let paid = visits::load(tx, &visit.id)?.ok_or_else(|| ApiError::internal("visit vanished"))?;
    Ok(paid.to_wire())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_member_side_never_exceeds_the_share_or_the_hold() {
        let full = member_side(200, 200, Some(&Capture::Captured(200)));
        assert_eq!(
            full,
            MemberSide {
                captured: 200,
                arrears: 0
            }
        );
        let failed = member_side(200, 200, Some(&Capture::Failed("expired".into())));
        assert_eq!(
            failed,
            MemberSide {
                captured: 0,
                arrears: 200
            }
        );
        let short = member_side(300, 200, Some(&Capture::Captured(200)));
        assert_eq!(
            short,
            MemberSide {
                captured: 200,
                arrears: 100
            }
        );
        assert_eq!(
            member_side(0, 0, None),
            MemberSide {
                captured: 0,
                arrears: 0
            }
        );
    }

    #[test]
    fn the_push_reads_like_the_receipt() {
        let split = Split {
            price: 3000,
            amo: 1900,
            amc: 900,
            member: 200,
        };
        assert_eq!(
            paid_text("Dr Hélène Dubois", &split, 0),
            "Paid 30,00\u{a0}€ to Dr Hélène Dubois: your insurers 28,00\u{a0}€, you 2,00\u{a0}€"
        );
        assert!(paid_text("Dr X", &split, 200).ends_with("is still due)"));
    }
}
