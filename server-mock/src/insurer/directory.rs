//! The provider directory: a deterministic generator for demo and benchmark directories, the
//! table, and an in-memory search index using the core's search (the phone's cache uses the
//! same scoring).

use std::sync::RwLock;

use rusqlite::{params, Connection, OptionalExtension};
use tierspay_core::domain::{provider_code, search};
use tierspay_core::wire::Provider;

use crate::http::ApiError;

/// (specialty label, MCC, direct access, share of sector 2, share of OPTAM among sector 2).
const SPECIALTIES: &[(&str, &str, bool, u32, u32)] = &[
    ("Médecin généraliste", "8011", false, 10, 50),
    ("Pédiatre", "8011", false, 30, 60),
    ("Gynécologue", "8011", true, 50, 50),
    ("Ophtalmologue", "8042", true, 60, 40),
    ("Psychiatre", "8011", true, 40, 50),
    ("Dermatologue", "8011", false, 50, 40),
    ("Cardiologue", "8011", false, 40, 60),
    ("Chirurgien-dentiste", "8021", false, 0, 0),
    ("Opticien", "8043", false, 0, 0),
    ("Pharmacie", "5912", false, 0, 0),
    ("Masseur-kinésithérapeute", "8099", false, 0, 0),
    ("Infirmier", "8050", false, 0, 0),
    ("Laboratoire de biologie médicale", "8071", false, 0, 0),
    ("Radiologue", "8011", false, 30, 60),
    ("Sage-femme", "8099", false, 0, 0),
];

/// Frequency weights of the specialties above (general practice is the most common).
const WEIGHTS: &[u32] = &[30, 4, 5, 5, 3, 4, 4, 12, 6, 10, 8, 8, 3, 3, 3];

const CITIES: &[(&str, &str)] = &[
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13006"),
    ("Toulouse", "31000"),
    ("Nice", "06000"),
    ("Nantes", "44000"),
    ("Strasbourg", "67000"),
    ("Montpellier", "34000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Rennes", "35000"),
    ("Reims", "51100"),
    ("Saint-Étienne", "42000"),
    ("Le Havre", "76600"),
    ("Toulon", "83000"),
    ("Grenoble", "38000"),
    ("Dijon", "21000"),
    ("Angers", "49000"),
    ("Nîmes", "30000"),
    ("Clermont-Ferrand", "63000"),
];

const FIRST: &[&str] = &[
    "Camille",
    "Hélène",
    "Julien",
    "Sophie",
    "Thomas",
    "Nathalie",
    "Nicolas",
    "Isabelle",
    "Pierre",
    "Claire",
    "Antoine",
    "Émilie",
    "Mathieu",
    "Aurélie",
    "François",
    "Chloé",
    "Olivier",
    "Inès",
    "Karim",
    "Fatima",
    "Mehdi",
    "Léa",
    "Hugo",
    "Manon",
    "Louis",
    "Sarah",
    "Yann",
    "Anne",
];

const LAST: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefebvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Benali",
    "Nguyen",
    "Haddad",
    "Rousseau",
    "Blanc",
    "Guérin",
];

const PLACES: &[&str] = &[
    "du Centre",
    "de la Gare",
    "des Halles",
    "du Marché",
    "de l'Hôtel de Ville",
    "Saint-Michel",
    "des Lilas",
    "du Parc",
    "de la République",
    "Pasteur",
    "Victor Hugo",
    "des Arts",
];

/// xorshift64*: a tiny deterministic generator (the same directory on every machine).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Generates providers number `start .. start + count` of the deterministic directory.
pub fn generate(start: u64, count: u64) -> Vec<Provider> {
    let total: u32 = WEIGHTS.iter().sum();
    (start..start + count)
        .map(|n| {
            let mut rng = Rng(
                0x9E37_79B9_7F4A_7C15 ^ (n.wrapping_add(1)).wrapping_mul(0xA24B_AED4_963E_E407)
            );
            rng.next();
            let mut roll = rng.below(u64::from(total)) as u32;
            let index = WEIGHTS
                .iter()
                .position(|w| {
                    if roll < *w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .unwrap_or(0);
            let (specialty, mcc, direct_access, sector2, optam_share) = SPECIALTIES[index];
            let (city, postcode) = CITIES[rng.below(CITIES.len() as u64) as usize];
            let sector = if (rng.below(100) as u32) < sector2 {
                2
            } else {
                1
            };
            let optam = sector == 2 && (rng.below(100) as u32) < optam_share;
            let name = match specialty {
                "Pharmacie" => format!("Pharmacie {}", rng.pick(PLACES)),
                "Opticien" => format!("Optique {} {}", rng.pick(LAST), rng.pick(PLACES)),
                "Laboratoire de biologie médicale" => format!("Laboratoire {}", rng.pick(PLACES)),
                _ => format!("Dr {} {}", rng.pick(FIRST), rng.pick(LAST)),
            };
            let code = provider_code::nth(n);
            let merchant_name = search::normalize(&format!("{name} {city}"))
                .to_uppercase()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(22)
                .collect();
            Provider {
                id: format!("prv_{}", code.to_lowercase()),
                code,
                name,
                specialty: specialty.into(),
                sector,
                optam,
                direct_access,
                city: city.into(),
                postcode: postcode.into(),
                merchant_name,
                mcc: mcc.into(),
            }
        })
        .collect()
}

/// Inserts providers.
pub fn insert(tx: &Connection, providers: &[Provider], now: i64) -> Result<(), ApiError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO insurer_providers (id, code, name, specialty, sector, optam, direct_access, city, postcode, merchant_name, mcc, network_id, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for p in providers {
        stmt.execute(params![
            p.id,
            p.code,
            p.name,
            p.specialty,
            p.sector,
            p.optam,
            p.direct_access,
            p.city,
            p.postcode,
            p.merchant_name,
            p.mcc,
            format!("NET{}", p.code),
            now
        ])?;
    }
    Ok(())
}

/// Number of providers in the table.
pub fn count(conn: &Connection) -> Result<u64, ApiError> {
    Ok(
        conn.query_row("SELECT COUNT(*) FROM insurer_providers", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Provider> {
    Ok(Provider {
        id: r.get(0)?,
        code: r.get(1)?,
        name: r.get(2)?,
        specialty: r.get(3)?,
        sector: r.get(4)?,
        optam: r.get(5)?,
        direct_access: r.get(6)?,
        city: r.get(7)?,
        postcode: r.get(8)?,
        merchant_name: r.get(9)?,
        mcc: r.get(10)?,
    })
}

const COLUMNS: &str =
    "id, code, name, specialty, sector, optam, direct_access, city, postcode, merchant_name, mcc";

/// Every provider.
pub fn all(conn: &Connection) -> Result<Vec<Provider>, ApiError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM insurer_providers ORDER BY id"
    ))?;
    let rows = stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// One provider by id or by code.
pub fn find(conn: &Connection, id_or_code: &str) -> Result<Option<Provider>, ApiError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM insurer_providers WHERE id = ?1 OR code = ?1"),
            [id_or_code],
            row,
        )
        .optional()?)
}

/// The network id of a provider's terminal (what a card authorization's merchant names).
pub fn network_id(conn: &Connection, id: &str) -> Result<Option<String>, ApiError> {
    Ok(conn
        .prepare_cached("SELECT network_id FROM insurer_providers WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

struct Entry {
    specialty: String,
    city: String,
    provider: Provider,
}

/// The directory in memory, for searches in a few milliseconds over tens of thousands.
#[derive(Default)]
pub struct Index {
    inner: RwLock<search::Index<Entry>>,
}

/// A directory search.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Free text (name, specialty, city), typo-tolerant.
    pub text: String,
    /// Only this specialty (accent- and case-insensitive prefix).
    pub specialty: Option<String>,
    /// Only this city.
    pub city: Option<String>,
    /// At most this many.
    pub limit: usize,
}

impl Index {
    /// Adds providers to the index.
    pub fn add(&self, providers: Vec<Provider>) {
        let Ok(mut index) = self.inner.write() else {
            return;
        };
        for p in providers {
            let fields = [p.name.clone(), p.specialty.clone(), p.city.clone()];
            let entry = Entry {
                specialty: search::normalize(&p.specialty),
                city: search::normalize(&p.city),
                provider: p,
            };
            index.add(&[&fields[0], &fields[1], &fields[2]], entry);
        }
    }

    /// Best matches first; `has_more` when more than `limit` matched.
    pub fn search(&self, req: &SearchRequest) -> (Vec<Provider>, bool) {
        let Ok(index) = self.inner.read() else {
            return (Vec::new(), false);
        };
        let specialty = req
            .specialty
            .as_deref()
            .map(|s| search::normalize(s).trim().to_owned());
        let city = req
            .city
            .as_deref()
            .map(|c| search::normalize(c).trim().to_owned());
        let keep = |e: &Entry| {
            specialty
                .as_deref()
                .is_none_or(|s| e.specialty.starts_with(s))
                && city.as_deref().is_none_or(|c| e.city == c)
        };
        let (hits, has_more) = index.search(&search::Query::parse(&req.text), keep, req.limit);
        (
            hits.into_iter().map(|e| e.provider.clone()).collect(),
            has_more,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_is_deterministic_and_varied() {
        let a = generate(0, 500);
        assert_eq!(a, generate(0, 500));
        assert_eq!(generate(100, 1)[0], a[100]);
        let gps = a
            .iter()
            .filter(|p| p.specialty == "Médecin généraliste")
            .count();
        assert!((100..250).contains(&gps), "{gps}");
        assert!(a.iter().any(|p| p.sector == 2 && p.optam));
        assert!(a.iter().any(|p| p.sector == 2 && !p.optam));
        assert!(a.iter().all(|p| p.merchant_name.len() <= 22));
    }

    #[test]
    fn the_index_finds_by_name_specialty_and_city_with_typos() {
        let index = Index::default();
        let providers = generate(0, 2000);
        let target = providers
            .iter()
            .find(|p| p.name.starts_with("Dr "))
            .unwrap()
            .clone();
        index.add(providers);
        let surname = target
            .name
            .split_whitespace()
            .last()
            .unwrap()
            .to_lowercase();
        let (hits, _) = index.search(&SearchRequest {
            text: format!("{surname} {}", target.city),
            limit: 50,
            ..Default::default()
        });
        assert!(hits.iter().any(|p| p.id == target.id));
        let (hits, more) = index.search(&SearchRequest {
            text: String::new(),
            specialty: Some("pharmacie".into()),
            city: Some("lyon".into()),
            limit: 5,
        });
        assert!(hits
            .iter()
            .all(|p| p.specialty == "Pharmacie" && p.city == "Lyon"));
        assert!(more || hits.len() <= 5);
        let (hits, _) = index.search(&SearchRequest {
            text: "ophtalmologe".into(),
            limit: 3,
            ..Default::default()
        });
        assert!(!hits.is_empty() && hits.iter().all(|p| p.specialty == "Ophtalmologue"));
    }
}
