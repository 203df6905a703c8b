//! Coverage commands: sync, beneficiaries, acts, providers, preview, quote.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use tierspay_core::{
    quote_document, CoveragePreview, Language, PreviewRequest, Provider, TiersPay,
};

use crate::output::{Failure, Output};

/// The guarantees' part of `tierspay sync`: what changed, as JSON members and a line of text.
pub async fn sync_coverage(app: &Arc<TiersPay>, out: &Output) -> Result<(Value, String), Failure> {
    let progress = out.progress("Downloading your guarantees");
    let s = app.coverage().sync().await?;
    progress.finish();
    let text = match (s.contract_updated, s.tariffs_updated) {
        (false, false) => "Already up to date.".to_owned(),
        _ => format!("Updated ({} bytes).", s.bytes),
    };
    Ok((
        json!({"contract_updated": s.contract_updated, "tariffs_updated": s.tariffs_updated, "bytes": s.bytes}),
        text,
    ))
}

pub fn beneficiaries(app: &Arc<TiersPay>, out: &Output) -> Result<(), Failure> {
    let list = app.coverage().beneficiaries()?;
    let doc: Vec<Value> = list
        .iter()
        .map(|b| json!({"id": b.id, "first_name": b.first_name, "last_name": b.last_name, "birth_date": b.birth_date,
                        "relationship": b.relationship, "in_parcours": b.in_parcours, "ald": b.ald}))
        .collect();
    let text = list
        .iter()
        .map(|b| {
            format!(
                "{:<28} {} {} ({}, born {}){}",
                b.id,
                b.first_name,
                b.last_name,
                b.relationship,
                b.birth_date,
                if b.in_parcours {
                    ""
                } else {
                    " — no médecin traitant declared"
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    out.done(json!({"beneficiaries": doc}), &text);
    Ok(())
}

pub fn acts(app: &Arc<TiersPay>, out: &Output, date: Option<String>) -> Result<(), Failure> {
    let acts = app.coverage().acts(date)?;
    let doc: Vec<Value> = acts
        .iter()
        .map(|a| json!({"code": a.code, "label": a.label, "category": a.category, "base": a.base}))
        .collect();
    let text = acts
        .iter()
        .map(|a| format!("{:<12} {:<52} BR {:>7} €", a.code, a.label, a.base))
        .collect::<Vec<_>>()
        .join("\n");
    out.done(json!({"acts": doc}), &text);
    Ok(())
}

fn provider_json(p: &Provider) -> Value {
    json!({"id": p.id, "code": p.code, "name": p.name, "specialty": p.specialty, "sector": p.sector,
           "optam": p.optam, "direct_access": p.direct_access, "city": p.city, "postcode": p.postcode})
}

fn provider_line(p: &Provider) -> String {
    let terms = match (p.sector, p.optam) {
        (1, _) => "secteur 1".to_owned(),
        (s, true) => format!("secteur {s}, OPTAM"),
        (s, false) => format!("secteur {s}"),
    };
    format!(
        "{}  {:<34} {:<26} {:<16} {}",
        p.code, p.name, p.specialty, p.city, terms
    )
}

pub async fn providers(
    app: &Arc<TiersPay>,
    out: &Output,
    search: &str,
    specialty: Option<String>,
    city: Option<String>,
    limit: u32,
) -> Result<(), Failure> {
    let found = app
        .coverage()
        .search_providers(search.into(), specialty, city, limit)
        .await?;
    let mut text = found
        .providers
        .iter()
        .map(provider_line)
        .collect::<Vec<_>>()
        .join("\n");
    if found.providers.is_empty() {
        text = "No provider found.".into();
    }
    if found.offline {
        text.push_str("\n(offline: only providers you used recently were searched)");
    }
    out.done(
        json!({"providers": found.providers.iter().map(provider_json).collect::<Vec<_>>(), "offline": found.offline}),
        &text,
    );
    Ok(())
}

pub async fn provider(app: &Arc<TiersPay>, out: &Output, key: &str) -> Result<(), Failure> {
    let p = app.coverage().select_provider(key.into()).await?;
    out.done(provider_json(&p), &provider_line(&p));
    Ok(())
}

pub struct PreviewArgs<'a> {
    pub beneficiary: &'a str,
    pub provider: &'a str,
    pub act: &'a str,
    pub price: &'a str,
    pub date: Option<&'a str>,
    pub check: bool,
}

/// The explanations of a preview, in French and in English.
struct Explained {
    fr: Vec<String>,
    en: Vec<String>,
}

fn preview_json(asked: &PreviewRequest, p: &CoveragePreview, why: &Explained) -> Value {
    json!({
        "id": p.id, "beneficiary_id": asked.beneficiary_id, "provider_id": asked.provider_id,
        "act_code": asked.act_code.to_ascii_uppercase(),
        "act_label": p.act_label, "price": p.price, "date": p.date, "amo": p.amo, "amc": p.amc, "member": p.member,
        "base": p.base, "amo_rate": p.amo_rate, "guarantee": p.guarantee,
        "deductions": p.deductions.iter().map(|d| json!({"kind": d.kind, "amount": d.amount})).collect::<Vec<_>>(),
        "explanations": why.fr.iter().zip(&why.en).map(|(fr, en)| json!({"fr": fr, "en": en})).collect::<Vec<_>>(),
    })
}

fn preview_text(p: &CoveragePreview, why: &Explained) -> String {
    let mut text = format!(
        "{} — {} €\n  Sécurité sociale   {:>8} €\n  Mutuelle           {:>8} €\n  You pay            {:>8} €\n  ({}; BR {} € at {})",
        p.act_label, p.price, p.amo, p.amc, p.member, p.guarantee, p.base, p.amo_rate
    );
    for e in &why.en {
        text.push_str(&format!("\n  · {e}"));
    }
    text
}

pub async fn preview(
    app: &Arc<TiersPay>,
    out: &Output,
    args: PreviewArgs<'_>,
) -> Result<(), Failure> {
    // Bad input first, before any request: the core's own price grammar.
    tierspay_core::domain::money::parse_price(args.price)
        .map_err(|e| Failure::input(e.field, e.message))?;
    let coverage = app.coverage();
    // Accept a first name for convenience, when it designates one beneficiary.
    let beneficiary = if args.beneficiary.starts_with("ben_") {
        args.beneficiary.to_owned()
    } else {
        let matches: Vec<_> = coverage
            .beneficiaries()?
            .into_iter()
            .filter(|b| b.first_name.eq_ignore_ascii_case(args.beneficiary))
            .collect();
        match matches.as_slice() {
            [one] => one.id.clone(),
            [] => {
                return Err(Failure::input(
                    "beneficiary",
                    "no beneficiary of your contract has this id or first name",
                ))
            }
            _ => {
                return Err(Failure::input(
                    "beneficiary",
                    "several beneficiaries have this first name; give the id",
                ))
            }
        }
    };
    let provider = coverage.select_provider(args.provider.into()).await?;
    // The terminal prints its figures in English and its JSON explanations in both languages.
    let asked = PreviewRequest {
        beneficiary_id: beneficiary,
        provider_id: provider.id,
        act_code: args.act.into(),
        price: args.price.into(),
        date: args.date.map(Into::into),
        language: Language::En,
    };
    let p = coverage.preview(asked.clone())?;
    let why = Explained {
        fr: coverage.explain(p.id.clone(), Language::Fr)?,
        en: coverage.explain(p.id.clone(), Language::En)?,
    };
    let mut doc = preview_json(&asked, &p, &why);
    let mut text = preview_text(&p, &why);
    if args.check {
        let check = coverage.check_preview(p.id.clone()).await?;
        doc["check"] = json!({"holds": check.holds, "server_preview_id": check.server_preview_id,
                              "amo": check.amo, "amc": check.amc, "member": check.member});
        text.push_str(&if check.holds {
            "\n  ✓ the server confirms these figures".to_owned()
        } else {
            format!(
                "\n  ✗ no longer holds: the server now computes {} / {} / {} €",
                check.amo, check.amc, check.member
            )
        });
    }
    out.done(doc, &text);
    Ok(())
}

pub fn quote(out: &Output, file: &Path) -> Result<(), Failure> {
    let mut document = String::new();
    let read = if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut document).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|text| document = text)
    };
    read.map_err(|e| Failure::input("file", format!("cannot read {}: {e}", file.display())))?;
    let answer: Value = serde_json::from_str(&quote_document(document)?)
        .map_err(|e| Failure::internal(format!("unreadable answer: {e}")))?;
    let s = |k: &str| answer[k].as_str().unwrap_or_default().to_owned();
    let mut text = format!(
        "Sécurité sociale {:>8} €\nMutuelle         {:>8} €\nYou pay          {:>8} €",
        s("amo"),
        s("amc"),
        s("member")
    );
    if let Some(items) = answer["deductions"].as_array() {
        for d in items {
            text.push_str(&format!(
                "\n  − {} {} €",
                d["kind"].as_str().unwrap_or_default(),
                d["amount"].as_str().unwrap_or_default()
            ));
        }
    }
    out.done(answer, &text);
    Ok(())
}
