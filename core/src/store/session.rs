//! The enrolled session and the profile shown on the home screen.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::Result;
use crate::wire::{Beneficiary, ContractSummary, Member};

/// What the phone knows about its session without the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalSession {
    /// The device registered on the server.
    pub device_id: String,
    /// When enrollment finished, Unix seconds.
    pub enrolled_at: i64,
    /// The server URL the session was enrolled with (its tokens go nowhere else); `None` for a
    /// session enrolled before the binding existed.
    pub server_url: Option<String>,
    /// The member.
    pub member: Member,
    /// The contract.
    pub contract: ContractSummary,
    /// Everyone covered, in the server's order.
    pub beneficiaries: Vec<Beneficiary>,
}

impl Store {
    /// Replaces the session and its profile in one transaction.
    pub fn save_session(&mut self, session: &LocalSession) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "DELETE FROM session; DELETE FROM beneficiary; DELETE FROM contract; DELETE FROM member;",
        )?;
        let m = &session.member;
        tx.execute(
            "INSERT INTO member (id, first_name, last_name, phone_masked, email_masked) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![m.id, m.first_name, m.last_name, m.phone_masked, m.email_masked],
        )?;
        let c = &session.contract;
        tx.execute(
            "INSERT INTO contract (id, number, insurer_name, product_name, start_date, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![c.id, c.number, c.insurer_name, c.product_name, c.start_date, c.status],
        )?;
        for (position, b) in session.beneficiaries.iter().enumerate() {
            tx.execute(
                "INSERT INTO beneficiary (id, contract_id, first_name, last_name, birth_date, relationship, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![b.id, c.id, b.first_name, b.last_name, b.birth_date, b.relationship, position as i64],
            )?;
        }
        tx.execute(
            "INSERT INTO session (id, device_id, member_id, contract_id, enrolled_at, server_url) VALUES (1, ?1, ?2, ?3, ?4, ?5)",
            params![session.device_id, m.id, c.id, session.enrolled_at, session.server_url],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The session, if this phone is enrolled.
    pub fn load_session(&self) -> Result<Option<LocalSession>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT s.device_id, s.enrolled_at, s.server_url,
                        m.id, m.first_name, m.last_name, m.phone_masked, m.email_masked,
                        c.id, c.number, c.insurer_name, c.product_name, c.start_date, c.status
                 FROM session s JOIN member m ON m.id = s.member_id JOIN contract c ON c.id = s.contract_id",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        Member {
                            id: r.get(3)?,
                            first_name: r.get(4)?,
                            last_name: r.get(5)?,
                            phone_masked: r.get(6)?,
                            email_masked: r.get(7)?,
                        },
                        ContractSummary {
                            id: r.get(8)?,
                            number: r.get(9)?,
                            insurer_name: r.get(10)?,
                            product_name: r.get(11)?,
                            start_date: r.get(12)?,
                            status: r.get(13)?,
                        },
                    ))
                },
            )
            .optional()?;
        let Some((device_id, enrolled_at, server_url, member, contract)) = row else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached(
            "SELECT id, first_name, last_name, birth_date, relationship FROM beneficiary
             WHERE contract_id = ?1 ORDER BY position",
        )?;
        let beneficiaries = stmt
            .query_map([&contract.id], |r| {
                Ok(Beneficiary {
                    id: r.get(0)?,
                    first_name: r.get(1)?,
                    last_name: r.get(2)?,
                    birth_date: r.get(3)?,
                    relationship: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some(LocalSession {
            device_id,
            enrolled_at,
            server_url,
            member,
            contract,
            beneficiaries,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> LocalSession {
        LocalSession {
            device_id: "dev_1".into(),
            enrolled_at: 1_700_000_000,
            server_url: Some("https://api.tierspay.fr".into()),
            member: Member {
                id: "mbr_1".into(),
                first_name: "Camille".into(),
                last_name: "Martin".into(),
                phone_masked: "+33 6 •• •• •• 78".into(),
                email_masked: "c•••@example.fr".into(),
            },
            contract: ContractSummary {
                id: "ctr_1".into(),
                number: "TP1000001".into(),
                insurer_name: "Mutuelle Horizon".into(),
                product_name: "Santé Essentielle".into(),
                start_date: "2024-01-01".into(),
                status: "active".into(),
            },
            beneficiaries: vec![Beneficiary {
                id: "ben_1".into(),
                first_name: "Camille".into(),
                last_name: "Martin".into(),
                birth_date: "1985-04-12".into(),
                relationship: "holder".into(),
            }],
        }
    }

    #[test]
    fn a_session_survives_reopening_and_is_wiped_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load_session().unwrap(), None);
        store.save_session(&sample()).unwrap();
        drop(store);
        let mut store = Store::open(dir.path()).unwrap();
        assert_eq!(store.load_session().unwrap(), Some(sample()));
        store.wipe().unwrap();
        assert_eq!(store.load_session().unwrap(), None);
        let n: i64 = store
            .conn()
            .query_row("SELECT count(*) FROM member", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
