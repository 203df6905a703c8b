//! Contracts and beneficiaries: creation (seed and test helpers) and the profile the app shows.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tierspay_core::auth::random;
use tierspay_core::domain::{enrollment as rules, masking};
use tierspay_core::wire::{Beneficiary, ContractSummary, Member, Profile};
use time::Date;

use crate::http::ApiError;

/// A contract to create (test helpers and seed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContract {
    /// Defaults to a fresh random number.
    #[serde(default)]
    pub number: Option<String>,
    /// Defaults to "Mutuelle Horizon".
    #[serde(default)]
    pub insurer_name: Option<String>,
    /// Defaults to "Santé Essentielle".
    #[serde(default)]
    pub product_name: Option<String>,
    /// Defaults to 1 January of the current year.
    #[serde(default)]
    pub start_date: Option<String>,
    /// Defaults to `active`.
    #[serde(default)]
    pub status: Option<String>,
    /// The holder's mobile number, E.164 (`+33612345678`).
    pub phone: String,
    /// The holder's email.
    pub email: String,
    /// Everyone covered; exactly one `holder`.
    pub beneficiaries: Vec<NewBeneficiary>,
    /// Guarantee lines; the product's standard lines when absent.
    #[serde(default)]
    pub guarantees: Option<Vec<tierspay_core::wire::GuaranteeLine>>,
}

/// A beneficiary to create.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBeneficiary {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `holder`, `spouse` or `child`.
    pub relationship: String,
    /// Médecin traitant declared (defaults to true).
    #[serde(default = "yes")]
    pub in_parcours: bool,
    /// Long-term condition (ALD).
    #[serde(default)]
    pub ald: bool,
    /// Complémentaire santé solidaire.
    #[serde(default)]
    pub css: bool,
    /// Pregnant from the 6th month.
    #[serde(default)]
    pub pregnant_6m: bool,
    /// Aide médicale de l'État.
    #[serde(default)]
    pub ame: bool,
}

fn yes() -> bool {
    true
}

/// A created contract, as test helpers return it.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedContract {
    /// Always `"contract"`.
    pub object: &'static str,
    /// `ctr_…`
    pub id: String,
    /// The normalised contract number.
    pub number: String,
    /// The member (holder) id.
    pub member_id: String,
    /// Beneficiaries with their ids.
    pub beneficiaries: Vec<Beneficiary>,
}

/// Validates and inserts a contract with its beneficiaries.
pub fn create(
    tx: &Connection,
    new: NewContract,
    today: Date,
    now: i64,
) -> Result<CreatedContract, ApiError> {
    let number = match &new.number {
        Some(n) => rules::normalize_contract_number(n)
            .map_err(|e| ApiError::invalid_param("number", e.message))?,
        None => format!("TP{}", &random::numeric_code(8)),
    };
    let status = new.status.clone().unwrap_or_else(|| "active".into());
    if !["active", "suspended", "terminated"].contains(&status.as_str()) {
        return Err(ApiError::invalid_param(
            "status",
            "status must be active, suspended or terminated.",
        ));
    }
    let phone_ok = new.phone.starts_with('+')
        && (8..=16).contains(&new.phone.len())
        && new.phone[1..].chars().all(|c| c.is_ascii_digit());
    if !phone_ok {
        return Err(ApiError::invalid_param(
            "phone",
            "phone must be in E.164 form, e.g. +33612345678.",
        ));
    }
    if !new.email.contains('@') || new.email.len() > 254 {
        return Err(ApiError::invalid_param(
            "email",
            "email must be an email address.",
        ));
    }
    let holders = new
        .beneficiaries
        .iter()
        .filter(|b| b.relationship == "holder")
        .count();
    if holders != 1 {
        return Err(ApiError::invalid_param(
            "beneficiaries",
            "exactly one beneficiary must be the holder.",
        ));
    }
    let start_date = match &new.start_date {
        Some(d) => rules::parse_date(d, "start_date")
            .map_err(|e| ApiError::invalid_param(e.field, e.message))?
            .to_string(),
        None => format!("{}-01-01", today.year()),
    };
    let exists: Option<String> = tx
        .query_row(
            "SELECT id FROM insurer_contracts WHERE number = ?1",
            [&number],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_some() {
        return Err(ApiError::invalid_param(
            "number",
            "a contract with this number already exists.",
        ));
    }
    let product_name = new
        .product_name
        .clone()
        .unwrap_or_else(|| "Santé Essentielle".into());
    let guarantees = new
        .guarantees
        .clone()
        .unwrap_or_else(|| super::catalogue::guarantees_for_product(&product_name));
    for (i, g) in guarantees.iter().enumerate() {
        if g.category
            .parse::<tierspay_core::domain::coverage::CareCategory>()
            .is_err()
        {
            return Err(ApiError::invalid_param(
                &format!("guarantees[{i}].category"),
                "unknown care category.",
            ));
        }
        if g.percent_br.is_some() == g.euro_amount.is_some() {
            return Err(ApiError::invalid_param(
                &format!("guarantees[{i}]"),
                "give either percent_br or euro_amount.",
            ));
        }
    }
    let id = random::id("ctr");
    let member_id = random::id("mbr");
    tx.execute(
        "INSERT INTO insurer_contracts (id, number, member_id, insurer_name, product_name, start_date, status, phone, email, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            number,
            member_id,
            new.insurer_name.as_deref().unwrap_or("Mutuelle Horizon"),
            product_name,
            start_date,
            status,
            new.phone,
            new.email,
            now
        ],
    )?;
    let mut beneficiaries = Vec::new();
    for (position, b) in new.beneficiaries.into_iter().enumerate() {
        let param = format!("beneficiaries[{position}]");
        if !["holder", "spouse", "child"].contains(&b.relationship.as_str()) {
            return Err(ApiError::invalid_param(
                &format!("{param}.relationship"),
                "relationship must be holder, spouse or child.",
            ));
        }
        if b.first_name.trim().is_empty() || b.last_name.trim().is_empty() {
            return Err(ApiError::invalid_param(
                &format!("{param}.first_name"),
                "names are required.",
            ));
        }
        let birth = rules::parse_birth_date(&b.birth_date, today)
            .map_err(|e| ApiError::invalid_param(&format!("{param}.birth_date"), e.message))?;
        let ben_id = random::id("ben");
        tx.execute(
            "INSERT INTO insurer_beneficiaries (id, contract_id, first_name, last_name, birth_date, relationship, position, in_parcours, ald, css, pregnant_6m, ame)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![ben_id, id, b.first_name, b.last_name, birth.to_string(), b.relationship, position as i64, b.in_parcours, b.ald, b.css, b.pregnant_6m, b.ame],
        )?;
        beneficiaries.push(Beneficiary {
            id: ben_id,
            first_name: b.first_name,
            last_name: b.last_name,
            birth_date: birth.to_string(),
            relationship: b.relationship,
        });
    }
    super::catalogue::set_guarantees(tx, &id, &guarantees)?;
    Ok(CreatedContract {
        object: "contract",
        id,
        number,
        member_id,
        beneficiaries,
    })
}

/// The contract a member holds, with what enrollment needs to check.
pub struct HolderContract {
    /// `ctr_…`
    pub id: String,
    /// `mbr_…`
    pub member_id: String,
    /// The holder's birth date.
    pub birth_date: String,
    /// Contract status.
    pub status: String,
    /// Phone on file.
    pub phone: String,
    /// Contract number.
    pub number: String,
}

/// Finds a contract by its normalised number.
pub fn find_by_number(conn: &Connection, number: &str) -> Result<Option<HolderContract>, ApiError> {
    Ok(conn
        .query_row(
            "SELECT c.id, c.member_id, b.birth_date, c.status, c.phone, c.number
             FROM insurer_contracts c JOIN insurer_beneficiaries b ON b.contract_id = c.id AND b.relationship = 'holder'
             WHERE c.number = ?1",
            [number],
            |r| {
                Ok(HolderContract {
                    id: r.get(0)?,
                    member_id: r.get(1)?,
                    birth_date: r.get(2)?,
                    status: r.get(3)?,
                    phone: r.get(4)?,
                    number: r.get(5)?,
                })
            },
        )
        .optional()?)
}

/// Whose a contract is and which insurer holds it: `(contract id, member_id, insurer_name)`,
/// by the contract's id (`ctr_…`) or number.
pub fn owner_of(
    conn: &Connection,
    contract: &str,
) -> Result<Option<(String, String, String)>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, member_id, insurer_name FROM insurer_contracts WHERE id = ?1 OR number = ?1",
        )?
        .query_row([contract], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// The profile of a member: member, contract summary, beneficiaries.
pub fn profile(conn: &Connection, member_id: &str, device_id: &str) -> Result<Profile, ApiError> {
    let (contract, phone, email) = conn
        .query_row(
            "SELECT id, number, insurer_name, product_name, start_date, status, phone, email
             FROM insurer_contracts WHERE member_id = ?1",
            [member_id],
            |r| {
                Ok((
                    ContractSummary {
                        id: r.get(0)?,
                        number: r.get(1)?,
                        insurer_name: r.get(2)?,
                        product_name: r.get(3)?,
                        start_date: r.get(4)?,
                        status: r.get(5)?,
                    },
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| ApiError::not_found("member"))?;
    let beneficiaries: Vec<Beneficiary> = conn
        .prepare_cached(
            "SELECT id, first_name, last_name, birth_date, relationship FROM insurer_beneficiaries
             WHERE contract_id = ?1 ORDER BY position",
        )?
        .query_map([&contract.id], |r| {
            Ok(Beneficiary {
                id: r.get(0)?,
                first_name: r.get(1)?,
                last_name: r.get(2)?,
                birth_date: r.get(3)?,
                relationship: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let holder = beneficiaries
        .iter()
        .find(|b| b.relationship == "holder")
        .ok_or_else(|| ApiError::internal("contract without holder"))?;
    Ok(Profile {
        object: "profile".into(),
        device_id: device_id.into(),
        member: Member {
            id: member_id.into(),
            first_name: holder.first_name.clone(),
            last_name: holder.last_name.clone(),
            phone_masked: masking::mask_phone(&phone),
            email_masked: masking::mask_email(&email),
        },
        contract,
        beneficiaries,
    })
}

/// The holder's first and last name, the contract's number, phone and email on record, for
/// arrears messages and the page that sends a fresh payment link (to these addresses only,
/// never to one typed on a page).
pub fn arrears_contact(
    conn: &Connection,
    member_id: &str,
) -> Result<(String, String, String, String, String), ApiError> {
    conn.prepare_cached(
        "SELECT b.first_name, b.last_name, c.number, c.phone, c.email FROM insurer_contracts c
         JOIN insurer_beneficiaries b ON b.contract_id = c.id AND b.relationship = 'holder'
         WHERE c.member_id = ?1",
    )?
    .query_row([member_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .optional()?
    .ok_or_else(|| ApiError::not_found("member"))
}

/// The member's name and phone, for the wallet's user address (the platform passes them to the
/// wallet; the PSP never sees them).
pub fn wallet_contact(conn: &Connection, member_id: &str) -> Result<(String, String), ApiError> {
    conn.query_row(
        "SELECT b.first_name || ' ' || b.last_name, c.phone FROM insurer_contracts c
         JOIN insurer_beneficiaries b ON b.contract_id = c.id AND b.relationship = 'holder'
         WHERE c.member_id = ?1",
        [member_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| ApiError::not_found("member"))
}
