//! Paying at the doctor from the terminal: save your own card, authorize a visit, follow it,
//! cancel it, list your visits. The card number goes to the core and from there to the PSP;
//! nothing here prints or keeps it.

use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{
    AuthorizeResult, MemberCard, PaymentMethodStatus, StaleFigures, TiersPay, Visit, VisitStatus,
};

use crate::args::{TestCard, VisitAction};
use crate::output::{Failure, Output};

/// Expiry and code sent with a test card: any future date and any code do.
const TEST_EXPIRY: &str = "12/34";
const TEST_CVC: &str = "123";

fn member_card_json(c: &MemberCard) -> Value {
    json!({"payment_method": c.payment_method, "status": c.status.as_str(), "brand": c.brand,
           "last4": c.last4, "expiry": c.expiry, "next_action_url": c.next_action_url,
           "decline_code": c.decline_code, "decline": c.decline.as_ref().map(|d| json!({"fr": d.fr, "en": d.en}))})
}

fn member_card_text(c: &MemberCard) -> String {
    let head = format!(
        "Your card {} •••• {}  expires {}",
        c.brand.to_uppercase(),
        c.last4,
        c.expiry
    );
    match c.status {
        PaymentMethodStatus::Active => format!("{head}  active: it pays your share of visits."),
        PaymentMethodStatus::RequiresAction => format!(
            "{head}  your bank asks you to authenticate: open {}\n  then run `tierspay card own`.",
            c.next_action_url.as_deref().unwrap_or("(no page given)")
        ),
        PaymentMethodStatus::Failed => format!(
            "{head}  refused: {}",
            c.decline
                .as_ref()
                .map(|d| d.en.as_str())
                .unwrap_or("declined")
        ),
    }
}

/// `tierspay card save`.
pub async fn save_card(
    app: &Arc<TiersPay>,
    out: &Output,
    test_card: Option<TestCard>,
    number: Option<&str>,
    exp: Option<&str>,
    cvc: Option<&str>,
) -> Result<(), Failure> {
    let (number, exp, cvc) = match (test_card, number, exp, cvc) {
        (Some(t), _, _, _) => (t.number(), TEST_EXPIRY, TEST_CVC),
        (None, Some(n), Some(e), Some(c)) => (n, e, c),
        _ => {
            return Err(Failure::input(
                "number",
                "give --test-card, or --number with --exp MM/YY and --cvc",
            ))
        }
    };
    let progress = out.progress("Saving your card at the PSP");
    let card = app
        .payments()
        .save_member_card(number.into(), exp.into(), cvc.into())
        .await?;
    progress.finish();
    out.done(member_card_json(&card), &member_card_text(&card));
    Ok(())
}

/// `tierspay card own`: the own card read again from the server.
pub async fn own_card(app: &Arc<TiersPay>, out: &Output) -> Result<(), Failure> {
    match app.payments().refresh_member_card().await? {
        Some(card) => out.done(member_card_json(&card), &member_card_text(&card)),
        None => out.done(
            json!({"payment_method": null}),
            "No card of yours is saved: run `tierspay card save`.",
        ),
    }
    Ok(())
}

fn status_word(s: VisitStatus) -> &'static str {
    s.as_str()
}

pub fn visit_json(v: &Visit) -> Value {
    json!({
        "id": v.id, "status": v.status.as_str(), "active": v.active, "beneficiary_id": v.beneficiary_id,
        "provider_id": v.provider_id, "provider_name": v.provider_name, "act_code": v.act_code, "date": v.date,
        "price": v.price, "amo": v.amo, "amc": v.amc, "member": v.member, "preview_id": v.preview_id,
        "created": v.created, "expires_at": v.expires_at, "last_decline": v.last_decline,
        "summary": v.summary.as_ref().map(|s| json!({"fr": s.fr, "en": s.en})),
        "receipt": v.receipt.as_ref().map(|r| json!({"provider_paid": r.provider_paid, "amo": r.amo, "amc": r.amc,
            "member_captured": r.member_captured, "arrears": r.arrears, "settled_at": r.settled_at})),
    })
}

fn visit_line(v: &Visit) -> String {
    format!(
        "{}  {:<10} {}  {:<28} {:>8} €  (you {} €)",
        v.id,
        status_word(v.status),
        v.date,
        v.provider_name,
        v.price,
        v.member
    )
}

fn visit_text(v: &Visit) -> String {
    let mut text = visit_line(v);
    match v.status {
        VisitStatus::Armed => {
            let left = v.expires_at - now();
            text.push_str(&format!(
                "\n  The card pays this visit only, for {} more minutes: tap it at the desk.",
                (left.max(0) + 59) / 60
            ));
        }
        VisitStatus::Authorized => {
            text.push_str("\n  The tap was approved; waiting for the terminal's capture.")
        }
        _ => {}
    }
    if let Some(s) = &v.summary {
        text.push_str(&format!("\n  {}", s.en));
    }
    if let Some(r) = &v.receipt {
        text.push_str(&format!(
            "\n  Receipt: provider paid {} €, Sécurité sociale {} €, mutuelle {} €, your card {} €{}",
            r.provider_paid,
            r.amo,
            r.amc,
            r.member_captured,
            if r.arrears.minor_units > 0 {
                format!(", owed {} €", r.arrears)
            } else {
                String::new()
            }
        ));
    }
    if let Some(d) = &v.last_decline {
        text.push_str(&format!("\n  Last tap declined: {d}"));
    }
    text
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A beneficiary id, or the id of the one beneficiary with this first name.
fn beneficiary_id(app: &Arc<TiersPay>, given: &str) -> Result<String, Failure> {
    if given.starts_with("ben_") {
        return Ok(given.to_owned());
    }
    let matches: Vec<_> = app
        .coverage()
        .beneficiaries()?
        .into_iter()
        .filter(|b| b.first_name.eq_ignore_ascii_case(given))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Failure::input(
            "beneficiary",
            "no beneficiary of your contract has this id or first name",
        )),
        _ => Err(Failure::input(
            "beneficiary",
            "several beneficiaries have this first name; give the id",
        )),
    }
}

/// The visit named, or (after asking the server) the one the card is armed for when
/// `armed`, the newest otherwise.
async fn visit_id(app: &Arc<TiersPay>, id: Option<&str>, armed: bool) -> Result<String, Failure> {
    if let Some(id) = id {
        return Ok(id.to_owned());
    }
    let visits = app.payments().refresh_visits().await?;
    visits
        .iter()
        .find(|v| !armed || v.active)
        .map(|v| v.id.clone())
        .ok_or_else(|| {
            Failure::input(
                "id",
                if armed {
                    "no visit is armed: nothing to cancel"
                } else {
                    "no visit yet: run `tierspay visit authorize` first"
                },
            )
        })
}

fn stale_text(f: &StaleFigures) -> String {
    format!(
        "The server's figures differ from this terminal's: Sécurité sociale {} €, mutuelle {} €, you {} €.",
        f.amo, f.amc, f.member
    )
}

/// `tierspay visit …`.
pub async fn visit(app: &Arc<TiersPay>, out: &Output, action: &VisitAction) -> Result<(), Failure> {
    let payments = app.payments();
    match action {
        VisitAction::Authorize {
            beneficiary,
            provider,
            act,
            price,
            date,
            accept_new_figures,
        } => {
            tierspay_core::domain::money::parse_price(price)
                .map_err(|e| Failure::input(e.field, e.message))?;
            let beneficiary = beneficiary_id(app, beneficiary)?;
            let provider = app.coverage().select_provider(provider.clone()).await?;
            let authorize = |accepted: Option<StaleFigures>| {
                payments.authorize_visit(
                    beneficiary.clone(),
                    provider.id.clone(),
                    act.clone(),
                    price.clone(),
                    date.clone(),
                    accepted,
                )
            };
            let progress = out.progress("Arming your card for this visit");
            let mut result = authorize(None).await?;
            let mut note = String::new();
            if let (AuthorizeResult::Stale { figures }, true) = (&result, *accept_new_figures) {
                note = format!(
                    "{}\nAuthorizing the server's figures.\n",
                    stale_text(figures)
                );
                result = authorize(Some(figures.clone())).await?;
            }
            progress.finish();
            match result {
                AuthorizeResult::Armed { visit } => {
                    out.done(
                        json!({"result": "armed", "visit": visit_json(&visit)}),
                        &format!("{note}{}", visit_text(&visit)),
                    );
                    Ok(())
                }
                AuthorizeResult::Stale { figures } => Err(Failure {
                    kind: "rejected",
                    field: None,
                    code: Some("preview_stale".into()),
                    message: format!(
                        "{} Run `tierspay sync`, or again with --accept-new-figures.",
                        stale_text(&figures)
                    ),
                }),
                AuthorizeResult::Declined {
                    decline_code,
                    explanation,
                } => Err(Failure {
                    kind: "rejected",
                    field: Some("payment_method".into()),
                    code: Some(decline_code),
                    message: explanation.en,
                }),
            }
        }
        VisitAction::Status { id } => {
            let id = visit_id(app, id.as_deref(), false).await?;
            let visit = payments.refresh_visit(id).await?;
            out.done(visit_json(&visit), &visit_text(&visit));
            Ok(())
        }
        VisitAction::Cancel { id } => {
            let id = visit_id(app, id.as_deref(), true).await?;
            let visit = payments.cancel_visit(id).await?;
            out.done(visit_json(&visit), &visit_text(&visit));
            Ok(())
        }
    }
}

/// `tierspay visits [--offline]`.
pub async fn visits(app: &Arc<TiersPay>, out: &Output, offline: bool) -> Result<(), Failure> {
    let payments = app.payments();
    let visits = if offline {
        payments.visits()?
    } else {
        payments.refresh_visits().await?
    };
    let text = if visits.is_empty() {
        "No visit yet.".to_owned()
    } else {
        visits.iter().map(visit_line).collect::<Vec<_>>().join("\n")
    };
    out.done(
        json!({"visits": visits.iter().map(visit_json).collect::<Vec<_>>(), "offline": offline}),
        &text,
    );
    Ok(())
}
