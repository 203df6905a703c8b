//! The statutory tariff catalogue, the products' guarantee lines, and the contract data the
//! phone caches, each section with an etag so an unchanged one costs nothing to sync.

use rusqlite::{params, Connection};
use rust_decimal::Decimal;
use tierspay_core::auth::{b64url, sha256};
use tierspay_core::wire::{
    Beneficiary, BeneficiaryTerms, CeilingUsage, ContractData, Counter, GuaranteeLine, PfDay,
    Tariff, TariffCatalogue,
};

use crate::http::ApiError;

fn d(text: &str) -> Decimal {
    text.parse().expect("literal decimal")
}

#[allow(clippy::too_many_arguments)]
fn tariff(
    code: &str,
    label: &str,
    category: &str,
    base: &str,
    non_optam: Option<&str>,
    rate: &str,
    pf: bool,
    franchise: &str,
    from: &str,
    to: Option<&str>,
) -> Tariff {
    Tariff {
        code: code.into(),
        label: label.into(),
        category: category.into(),
        base: d(base),
        base_non_optam: non_optam.map(d),
        amo_rate: d(rate),
        pf,
        franchise: d(franchise),
        valid_from: from.into(),
        valid_to: to.map(Into::into),
    }
}

/// The demo catalogue: tariffs in force in metropolitan France in 2025–2026 (the GP consultation
/// rose from 26.50 € to 30 € on 22 December 2024: both rows are kept, with their dates).
pub fn demo_tariffs() -> Vec<Tariff> {
    vec![
        tariff(
            "G",
            "Consultation de médecin généraliste",
            "consultation",
            "26.50",
            None,
            "0.70",
            true,
            "0",
            "2023-12-21",
            Some("2024-12-22"),
        ),
        tariff(
            "G",
            "Consultation de médecin généraliste",
            "consultation",
            "30.00",
            None,
            "0.70",
            true,
            "0",
            "2024-12-22",
            None,
        ),
        tariff(
            "GMEG",
            "Consultation de généraliste, enfant de moins de 6 ans",
            "consultation",
            "35.00",
            None,
            "0.70",
            true,
            "0",
            "2024-12-22",
            None,
        ),
        tariff(
            "CS",
            "Consultation de spécialiste",
            "specialist",
            "30.00",
            Some("23.00"),
            "0.70",
            true,
            "0",
            "2024-12-22",
            None,
        ),
        tariff(
            "APC",
            "Avis ponctuel de consultant",
            "specialist",
            "60.00",
            Some("48.00"),
            "0.70",
            true,
            "0",
            "2024-12-22",
            None,
        ),
        tariff(
            "C",
            "Consultation de chirurgien-dentiste",
            "dental",
            "23.00",
            None,
            "0.60",
            false,
            "0",
            "2019-04-01",
            None,
        ),
        tariff(
            "HBJD001",
            "Détartrage",
            "dental",
            "28.92",
            None,
            "0.60",
            false,
            "0",
            "2019-04-01",
            None,
        ),
        tariff(
            "OPT-MONTURE",
            "Monture de lunettes (adulte)",
            "optical",
            "0.05",
            None,
            "0.60",
            false,
            "0",
            "2020-01-01",
            None,
        ),
        tariff(
            "OPT-VERRES",
            "Paire de verres simples (adulte)",
            "optical",
            "0.05",
            None,
            "0.60",
            false,
            "0",
            "2020-01-01",
            None,
        ),
        tariff(
            "AMK",
            "Séance de kinésithérapie",
            "auxiliary",
            "17.20",
            None,
            "0.60",
            false,
            "1.00",
            "2024-07-01",
            None,
        ),
        tariff(
            "AMI",
            "Acte infirmier",
            "auxiliary",
            "3.15",
            None,
            "0.60",
            false,
            "1.00",
            "2024-07-01",
            None,
        ),
        tariff(
            "B-NFS",
            "Numération formule sanguine",
            "lab",
            "7.29",
            None,
            "0.60",
            true,
            "0",
            "2024-01-01",
            None,
        ),
        tariff(
            "ZBQK002",
            "Radiographie du thorax",
            "radiology",
            "21.28",
            None,
            "0.70",
            true,
            "0",
            "2024-01-01",
            None,
        ),
        tariff(
            "SF",
            "Consultation de sage-femme",
            "midwife",
            "25.00",
            None,
            "0.70",
            false,
            "0",
            "2024-01-01",
            None,
        ),
        tariff(
            "PH65",
            "Boîte de médicament remboursée à 65 %",
            "pharmacy",
            "5.00",
            None,
            "0.65",
            false,
            "1.00",
            "2024-01-01",
            None,
        ),
    ]
}

fn percent(category: &str, optam: u32, non_optam: u32) -> GuaranteeLine {
    let label = if optam == non_optam {
        format!("{optam} % BR incl. SS")
    } else {
        format!("{optam} % BR incl. SS (OPTAM), {non_optam} % (non-OPTAM)")
    };
    GuaranteeLine {
        category: category.into(),
        label,
        percent_br: Some(Decimal::from(optam)),
        percent_br_non_optam: Some(Decimal::from(non_optam)),
        includes_amo: true,
        euro_amount: None,
        annual_ceiling: None,
    }
}

fn euros(category: &str, amount: u32, ceiling: u32) -> GuaranteeLine {
    GuaranteeLine {
        category: category.into(),
        label: format!("{amount} € per item, {ceiling} € a year"),
        percent_br: None,
        percent_br_non_optam: None,
        includes_amo: true,
        euro_amount: Some(Decimal::from(amount)),
        annual_ceiling: Some(Decimal::from(ceiling)),
    }
}

/// The guarantee lines of a product (responsible contracts: non-OPTAM cover at least 20 points
/// below OPTAM cover, excess over BR at most 100 % of BR).
pub fn guarantees_for_product(product: &str) -> Vec<GuaranteeLine> {
    let (gp, spec, spec_non, dental, optical, ceiling) = match product {
        "Santé Sérénité" => ((200, 180), 300, 200, 400, 400, 400),
        "Santé Confort" => ((150, 130), 200, 180, 250, 200, 300),
        _ => ((100, 100), 100, 100, 125, 100, 100),
    };
    let mut lines = vec![
        percent("consultation", gp.0, gp.1),
        percent("specialist", spec, spec_non),
        percent("dental", dental, dental),
        euros("optical", optical, ceiling),
    ];
    for category in [
        "pharmacy",
        "lab",
        "radiology",
        "auxiliary",
        "midwife",
        "hospital",
        "transport",
    ] {
        lines.push(percent(category, 100, 100));
    }
    lines
}

/// Replaces the tariffs with the same code and start date, inserts the others.
pub fn upsert_tariffs(tx: &Connection, tariffs: &[Tariff]) -> Result<(), ApiError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR REPLACE INTO insurer_tariffs (code, label, category, base, base_non_optam, amo_rate, pf, franchise, valid_from, valid_to)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for t in tariffs {
        stmt.execute(params![
            t.code,
            t.label,
            t.category,
            t.base.to_string(),
            t.base_non_optam.map(|b| b.to_string()),
            t.amo_rate.to_string(),
            t.pf,
            t.franchise.to_string(),
            t.valid_from,
            t.valid_to
        ])?;
    }
    Ok(())
}

/// Sets a contract's guarantee lines.
pub fn set_guarantees(
    tx: &Connection,
    contract_id: &str,
    lines: &[GuaranteeLine],
) -> Result<(), ApiError> {
    tx.execute(
        "DELETE FROM insurer_guarantees WHERE contract_id = ?1",
        [contract_id],
    )?;
    let mut stmt = tx.prepare_cached(
        "INSERT INTO insurer_guarantees (contract_id, category, label, percent_br, percent_br_non_optam, includes_amo, euro_amount, annual_ceiling)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let text = |v: Option<Decimal>| v.map(|v| v.to_string());
    for g in lines {
        stmt.execute(params![
            contract_id,
            g.category,
            g.label,
            text(g.percent_br),
            text(g.percent_br_non_optam),
            g.includes_amo,
            text(g.euro_amount),
            text(g.annual_ceiling)
        ])?;
    }
    Ok(())
}

fn etag<T: serde::Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    format!("W/{}", &b64url(sha256(&bytes))[..16])
}

fn dec(text: Option<String>) -> Option<Decimal> {
    text.and_then(|t| t.parse().ok())
}

/// The whole tariff catalogue.
pub fn tariff_catalogue(conn: &Connection) -> Result<TariffCatalogue, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, label, category, base, base_non_optam, amo_rate, pf, franchise, valid_from, valid_to
         FROM insurer_tariffs ORDER BY code, valid_from",
    )?;
    let acts: Vec<Tariff> = stmt
        .query_map([], |r| {
            Ok(Tariff {
                code: r.get(0)?,
                label: r.get(1)?,
                category: r.get(2)?,
                base: dec(r.get(3)?).unwrap_or_default(),
                base_non_optam: dec(r.get(4)?),
                amo_rate: dec(r.get(5)?).unwrap_or_default(),
                pf: r.get(6)?,
                franchise: dec(r.get(7)?).unwrap_or_default(),
                valid_from: r.get(8)?,
                valid_to: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(TariffCatalogue {
        etag: etag(&acts),
        acts,
    })
}

/// Everything about a contract that a preview needs, as the phone caches it.
pub fn contract_data(conn: &Connection, contract_id: &str) -> Result<ContractData, ApiError> {
    let beneficiaries: Vec<BeneficiaryTerms> = conn
        .prepare_cached(
            "SELECT id, first_name, last_name, birth_date, relationship, in_parcours, ald, css, ame, pregnant_6m
             FROM insurer_beneficiaries WHERE contract_id = ?1 ORDER BY position",
        )?
        .query_map([contract_id], |r| {
            Ok(BeneficiaryTerms {
                beneficiary: Beneficiary {
                    id: r.get(0)?,
                    first_name: r.get(1)?,
                    last_name: r.get(2)?,
                    birth_date: r.get(3)?,
                    relationship: r.get(4)?,
                },
                in_parcours: r.get(5)?,
                ald: r.get(6)?,
                css: r.get(7)?,
                ame: r.get(8)?,
                pregnant_6m: r.get(9)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let guarantees: Vec<GuaranteeLine> = conn
        .prepare_cached(
            "SELECT category, label, percent_br, percent_br_non_optam, includes_amo, euro_amount, annual_ceiling
             FROM insurer_guarantees WHERE contract_id = ?1 ORDER BY category",
        )?
        .query_map([contract_id], |r| {
            Ok(GuaranteeLine {
                category: r.get(0)?,
                label: r.get(1)?,
                percent_br: dec(r.get(2)?),
                percent_br_non_optam: dec(r.get(3)?),
                includes_amo: r.get(4)?,
                euro_amount: dec(r.get(5)?),
                annual_ceiling: dec(r.get(6)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let of_contract =
        "beneficiary_id IN (SELECT id FROM insurer_beneficiaries WHERE contract_id = ?1)";
    let counters: Vec<Counter> = conn
        .prepare_cached(&format!(
            "SELECT beneficiary_id, year, pf_paid, franchise_paid FROM insurer_counters WHERE {of_contract} ORDER BY 1, 2"
        ))?
        .query_map([contract_id], |r| {
            Ok(Counter {
                beneficiary_id: r.get(0)?,
                year: r.get(1)?,
                pf_paid: dec(r.get(2)?).unwrap_or_default(),
                franchise_paid: dec(r.get(3)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let ceilings: Vec<CeilingUsage> = conn
        .prepare_cached(&format!(
            "SELECT beneficiary_id, year, category, consumed FROM insurer_ceiling_usage WHERE {of_contract} ORDER BY 1, 2, 3"
        ))?
        .query_map([contract_id], |r| {
            Ok(CeilingUsage {
                beneficiary_id: r.get(0)?,
                year: r.get(1)?,
                category: r.get(2)?,
                consumed: dec(r.get(3)?).unwrap_or_default(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let pf_days: Vec<PfDay> = conn
        .prepare_cached(&format!(
            "SELECT beneficiary_id, provider_id, day, count FROM insurer_pf_daily WHERE {of_contract} ORDER BY 1, 2, 3"
        ))?
        .query_map([contract_id], |r| {
            Ok(PfDay { beneficiary_id: r.get(0)?, provider_id: r.get(1)?, day: r.get(2)?, count: r.get(3)? })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let tag = etag(&(&beneficiaries, &guarantees, &counters, &ceilings, &pf_days));
    Ok(ContractData {
        etag: tag,
        beneficiaries,
        guarantees,
        counters,
        ceilings,
        pf_days,
    })
}
