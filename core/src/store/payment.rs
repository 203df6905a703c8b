//! The member's own card, as public facts (brand, last four, expiry, status: the table has no
//! column for a number or a code), and every visit the phone learned of, newest first.

use rusqlite::{params, OptionalExtension};

use super::Store;
use crate::error::{Error, Result};
use crate::wire::{MemberPaymentMethod, PaymentMethodStatus, Visit};

/// Visits kept on the phone; older ones are dropped (the server keeps them all).
const KEPT_VISITS: i64 = 500;

fn status_text(s: PaymentMethodStatus) -> &'static str {
    match s {
        PaymentMethodStatus::Active => "active",
        PaymentMethodStatus::RequiresAction => "requires_action",
        PaymentMethodStatus::Failed => "failed",
    }
}

fn status_of(text: &str) -> Result<PaymentMethodStatus> {
    match text {
        "active" => Ok(PaymentMethodStatus::Active),
        "requires_action" => Ok(PaymentMethodStatus::RequiresAction),
        "failed" => Ok(PaymentMethodStatus::Failed),
        other => Err(Error::Internal(format!(
            "stored payment method status {other:?}"
        ))),
    }
}

impl Store {
    /// Replaces the member's own card.
    pub fn save_payment_method(&self, pm: &MemberPaymentMethod, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT OR REPLACE INTO payment_method (id, payment_method, status, brand, last4,
                 exp_month, exp_year, setup_intent, next_action_url, decline_code, synced_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                pm.payment_method,
                status_text(pm.status),
                pm.brand,
                pm.last4,
                pm.exp_month,
                pm.exp_year,
                pm.setup_intent,
                pm.next_action_url,
                pm.decline_code,
                now
            ],
        )?;
        Ok(())
    }

    /// Forgets the member's own card (the server has none).
    pub fn delete_payment_method(&self) -> Result<()> {
        self.conn().execute("DELETE FROM payment_method", [])?;
        Ok(())
    }

    /// The member's own card as last known.
    pub fn load_payment_method(&self) -> Result<Option<MemberPaymentMethod>> {
        let row = self
            .conn()
            .query_row(
                "SELECT payment_method, status, brand, last4, exp_month, exp_year, setup_intent,
                        next_action_url, decline_code
                 FROM payment_method WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, u32>(4)?,
                        r.get::<_, u32>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(pm, status, brand, last4, m, y, seti, url, decline)| {
            Ok(MemberPaymentMethod {
                object: "member_payment_method".into(),
                payment_method: pm,
                status: status_of(&status)?,
                brand,
                last4,
                exp_month: m,
                exp_year: y,
                setup_intent: seti,
                next_action_url: url,
                decline_code: decline,
            })
        })
        .transpose()
    }

    /// Records visits as the server last described them (newer answers replace older ones),
    /// keeping the newest [`KEPT_VISITS`].
    pub fn save_visits(&mut self, visits: &[Visit], now: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        for v in visits {
            let body = serde_json::to_string(v).map_err(|e| Error::Internal(e.to_string()))?;
            let status = serde_json::to_value(v.status)
                .ok()
                .and_then(|s| s.as_str().map(str::to_owned))
                .unwrap_or_default();
            tx.execute(
                "INSERT OR REPLACE INTO visit (id, created, status, body, synced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![v.id, v.created, status, body, now],
            )?;
        }
        tx.execute(
            "DELETE FROM visit WHERE id NOT IN
               (SELECT id FROM visit ORDER BY created DESC, id DESC LIMIT ?1)",
            params![KEPT_VISITS],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Visits known on this phone, newest first.
    pub fn load_visits(&self) -> Result<Vec<Visit>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT body FROM visit ORDER BY created DESC, id DESC")?;
        let bodies = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        bodies.iter().map(|b| parse_visit(b)).collect()
    }

    /// One visit, if known on this phone.
    pub fn load_visit(&self, id: &str) -> Result<Option<Visit>> {
        let body: Option<String> = self
            .conn()
            .query_row("SELECT body FROM visit WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        body.as_deref().map(parse_visit).transpose()
    }
}

fn parse_visit(body: &str) -> Result<Visit> {
    serde_json::from_str(body).map_err(|e| Error::Internal(format!("stored visit: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::VisitStatus;

    fn visit(id: &str, created: i64, status: VisitStatus) -> Visit {
        Visit {
            object: "visit".into(),
            id: id.into(),
            status,
            beneficiary_id: "ben_1".into(),
            provider_id: "prv_1".into(),
            provider_name: "Dr Martin".into(),
            act_code: "G".into(),
            date: "2026-03-02".into(),
            currency: "eur".into(),
            price: 3000,
            amo: 1900,
            amc: 900,
            member: 200,
            preview_id: "pv_1".into(),
            payment_intent: None,
            authorization: None,
            created,
            expires_at: created + 1800,
            last_decline: None,
            settlement: None,
        }
    }

    #[test]
    fn visits_list_newest_first_and_a_newer_answer_replaces_an_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .save_visits(
                &[
                    visit("vis_a", 100, VisitStatus::Paid),
                    visit("vis_b", 300, VisitStatus::Armed),
                    visit("vis_c", 200, VisitStatus::Canceled),
                ],
                1,
            )
            .unwrap();
        store
            .save_visits(&[visit("vis_b", 300, VisitStatus::Authorized)], 2)
            .unwrap();
        let ids: Vec<_> = store
            .load_visits()
            .unwrap()
            .into_iter()
            .map(|v| (v.id, v.status))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("vis_b".to_owned(), VisitStatus::Authorized),
                ("vis_c".to_owned(), VisitStatus::Canceled),
                ("vis_a".to_owned(), VisitStatus::Paid),
            ]
        );
        assert_eq!(store.load_visit("vis_c").unwrap().unwrap().created, 200);
        assert!(store.load_visit("vis_z").unwrap().is_none());
        store.wipe().unwrap();
        assert!(store.load_visits().unwrap().is_empty());
    }

    #[test]
    fn the_own_card_keeps_its_public_facts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let pm = MemberPaymentMethod {
            object: "member_payment_method".into(),
            payment_method: "pm_1".into(),
            status: PaymentMethodStatus::RequiresAction,
            brand: "visa".into(),
            last4: "3155".into(),
            exp_month: 3,
            exp_year: 2031,
            setup_intent: "seti_1".into(),
            next_action_url: Some("https://psp.example/3ds/seti_1".into()),
            decline_code: None,
        };
        store.save_payment_method(&pm, 1).unwrap();
        assert_eq!(store.load_payment_method().unwrap(), Some(pm));
        store.delete_payment_method().unwrap();
        assert_eq!(store.load_payment_method().unwrap(), None);
    }
}
