//! The demo insurer: a few families, created once (a restart with `--seed demo` adds nothing).

use time::Date;

use super::contracts::{self, NewBeneficiary, NewContract};
use crate::http::ApiError;

fn person(first: &str, last: &str, birth: &str, relationship: &str) -> NewBeneficiary {
    NewBeneficiary {
        first_name: first.into(),
        last_name: last.into(),
        birth_date: birth.into(),
        relationship: relationship.into(),
        in_parcours: true,
        ald: false,
        css: false,
        pregnant_6m: false,
        ame: false,
    }
}

/// The demo contracts: (number, holder birth date) pairs are listed in the README.
pub fn demo_contracts() -> Vec<NewContract> {
    let contract =
        |number: &str, product: &str, phone: &str, email: &str, people: Vec<NewBeneficiary>| {
            NewContract {
                number: Some(number.into()),
                insurer_name: Some("Mutuelle Horizon".into()),
                product_name: Some(product.into()),
                start_date: Some("2024-01-01".into()),
                status: None,
                phone: phone.into(),
                email: email.into(),
                beneficiaries: people,
                guarantees: None,
            }
        };
    let mut retiree = person("Bernard", "Petit", "1951-07-19", "holder");
    retiree.ald = true;
    let mut not_in_parcours = person("Sofia", "Haddad", "1992-11-02", "holder");
    not_in_parcours.in_parcours = false;
    vec![
        contract(
            "TP1000001",
            "Santé Confort",
            "+33612345678",
            "camille.martin@example.fr",
            vec![
                person("Camille", "Martin", "1985-04-12", "holder"),
                person("Julien", "Martin", "1983-09-30", "spouse"),
                person("Léa", "Martin", "2021-06-15", "child"),
                person("Hugo", "Martin", "2011-02-03", "child"),
            ],
        ),
        contract(
            "TP1000002",
            "Santé Essentielle",
            "+33698765432",
            "sofia.haddad@example.fr",
            vec![not_in_parcours],
        ),
        contract(
            "TP1000003",
            "Santé Sérénité",
            "+33755501234",
            "bernard.petit@example.fr",
            vec![retiree, person("Monique", "Petit", "1953-03-08", "spouse")],
        ),
    ]
}

/// Providers in the demo directory.
pub const DEMO_PROVIDERS: u64 = 3000;

/// Loads what the demo needs and is not there yet: contracts, tariff catalogue, directory, and a
/// few counters (Julien has nearly reached the yearly cap of participations forfaitaires).
pub fn load_demo(tx: &rusqlite::Connection, today: Date, now: i64) -> Result<usize, ApiError> {
    let mut created = 0;
    for contract in demo_contracts() {
        let number = contract.number.clone().unwrap_or_default();
        if contracts::find_by_number(tx, &number)?.is_none() {
            let made = contracts::create(tx, contract, today, now)?;
            if number == "TP1000001" {
                if let Some(julien) = made.beneficiaries.iter().find(|b| b.first_name == "Julien") {
                    tx.execute(
                        "INSERT INTO insurer_counters (beneficiary_id, year, pf_paid, franchise_paid) VALUES (?1, ?2, '49.00', '12.00')",
                        rusqlite::params![julien.id, today.year()],
                    )?;
                }
            }
            created += 1;
        }
    }
    super::catalogue::upsert_tariffs(tx, &super::catalogue::demo_tariffs())?;
    let existing = super::directory::count(tx)?;
    if existing < DEMO_PROVIDERS {
        super::directory::insert(
            tx,
            &super::directory::generate(existing, DEMO_PROVIDERS - existing),
            now,
        )?;
    }
    Ok(created)
}
