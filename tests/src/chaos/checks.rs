//! The fault run's checks, each from a view independent of the client that paid: the PSP's
//! charges and double-entry ledger (its database, opened read-only), the PSP's invoice and
//! events (its API), the signed link's page (HTML), and each member's phone twice: once its
//! event stream is drained (`GET /v1/me/events`, which fetches the announced changes), then
//! after a sync (the core's cache, through `GET /v1/me/invoice_changes`).

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use tierspay_core::{InvoiceList, InvoiceStatus};

use super::report::Report;
use super::rng::Rng;
use super::world::{World, MEMBERS};
use crate::PSP_KEY;

/// How many invoices a checkpoint opens the link page of (all of them at the end).
const PAGES_PER_CHECKPOINT: usize = 12;
/// Fewest of its newest invoices a phone lists after a sync (the core's `LIST_LIMIT`).
const PHONE_LIST: usize = 100;

/// A succeeded charge of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// `ch_…`
    pub id: String,
    /// Minor units captured.
    pub captured: i64,
    /// The card's last four digits.
    pub last4: String,
}

/// The succeeded charges of invoice `id` (through its PaymentIntents).
pub fn charges_of(db: &Connection, id: &str) -> Vec<Charge> {
    let mut stmt = db
        .prepare_cached(
            "SELECT c.id, c.amount_captured, m.last4 FROM psp_charges c
             JOIN psp_payment_intents pi ON pi.id = c.payment_intent
             JOIN psp_payment_methods m ON m.id = c.payment_method
             WHERE pi.invoice = ?1 AND c.status = 'succeeded' ORDER BY c.seq",
        )
        .expect("charges query");
    let charges = stmt
        .query_map([id], |r| {
            Ok(Charge {
                id: r.get(0)?,
                captured: r.get(1)?,
                last4: r.get(2)?,
            })
        })
        .expect("charges")
        .collect::<Result<Vec<_>, _>>()
        .expect("charge rows");
    charges
}

/// The PSP's invoice row: (status, total, amount_paid).
fn psp_row(db: &Connection, id: &str) -> (String, i64, i64) {
    db.query_row(
        "SELECT status, total, amount_paid FROM psp_invoices WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .unwrap_or_else(|e| panic!("invoice {id} at the PSP: {e}"))
}

/// Invoice `i` right after its scenario: at most one charge, of at most what is due, and paid
/// exactly when charged.
pub fn one_invoice(world: &World, report: &mut Report, i: usize) {
    let db = world.db();
    let id = &world.invoices[i].id;
    let charges = charges_of(&db, id);
    let (status, total, paid) = psp_row(&db, id);
    if charges.len() > 1 {
        report.duplicates += charges.len() as u64 - 1;
        panic!(
            "seed {}: invoice {id} charged {} times: {charges:?}",
            report.seed,
            charges.len()
        );
    }
    let captured: i64 = charges.iter().map(|c| c.captured).sum();
    assert!(
        paid <= total && captured == paid && total == world.invoices[i].amount,
        "seed {}: invoice {id} total {total} (made {}), amount_paid {paid}, captured {captured}",
        report.seed,
        world.invoices[i].amount
    );
    let expected = if charges.is_empty() { "open" } else { "paid" };
    assert_eq!(
        status,
        expected,
        "seed {}: invoice {id} with {} charges",
        report.seed,
        charges.len()
    );
}

/// The whole ledger: every movement sums to zero per currency, so does every currency, and
/// the running balances agree with the entries.
fn ledger(db: &Connection, report: &Report) {
    let unbalanced: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT movement_id FROM psp_ledger_entries
             GROUP BY movement_id, currency HAVING SUM(amount) <> 0)",
            [],
            |r| r.get(0),
        )
        .expect("movements");
    let currencies: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT currency FROM psp_ledger_entries
             GROUP BY currency HAVING SUM(amount) <> 0)",
            [],
            |r| r.get(0),
        )
        .expect("currencies");
    let drift: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT account, currency, SUM(amount) AS s FROM psp_ledger_entries
             GROUP BY account, currency) e LEFT JOIN psp_ledger_balances b USING (account, currency)
             WHERE b.amount IS NOT e.s",
            [],
            |r| r.get(0),
        )
        .expect("balances");
    assert_eq!(
        (unbalanced, currencies, drift),
        (0, 0, 0),
        "seed {}: ledger (unbalanced movements, currencies, drifting balances)",
        report.seed
    );
}

/// A checkpoint (`last`: the end of the run, everything checked).
pub async fn checkpoint(world: &mut World, report: &mut Report, rng: &mut Rng, last: bool) {
    report.checkpoints += 1;
    let db = world.db();
    // No invoice of the platform (ours or not) has two succeeded charges.
    let doubled: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM (SELECT pi.invoice FROM psp_charges c
             JOIN psp_payment_intents pi ON pi.id = c.payment_intent
             WHERE c.status = 'succeeded' AND pi.invoice IS NOT NULL
             GROUP BY pi.invoice HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .expect("doubled charges");
    report.duplicates = report.duplicates.max(doubled as u64);
    assert_eq!(doubled, 0, "seed {}: invoices charged twice", report.seed);
    ledger(&db, report);
    let mut status = Vec::with_capacity(world.invoices.len());
    for i in 0..world.invoices.len() {
        one_invoice(world, report, i);
        status.push(psp_row(&db, &world.invoices[i].id).0);
    }
    drop(db);
    report.invoices = status.len() as u64;
    report.paid_invoices = status.iter().filter(|s| *s == "paid").count() as u64;
    // Nothing an answer called paid went back to open, across every restart.
    for &i in &world.seen_paid {
        assert_eq!(
            status[i], "paid",
            "seed {}: invoice {} was answered paid, now {}",
            report.seed, world.invoices[i].id, status[i]
        );
    }
    pages(world, report, rng, &status, last).await;
    phones(world, report, rng, &status, last).await;
    if last {
        events(world, report, &status).await;
    }
}

/// The signed links' page says paid or open as the PSP does.
async fn pages(
    world: &mut World,
    report: &mut Report,
    rng: &mut Rng,
    status: &[String],
    last: bool,
) {
    let chosen: Vec<usize> = if last {
        (0..world.invoices.len()).collect()
    } else {
        (0..PAGES_PER_CHECKPOINT)
            .map(|_| rng.index(world.invoices.len()))
            .collect()
    };
    for i in chosen {
        world.reach(i).await;
        let inv = &world.invoices[i];
        for page in [inv.email.as_deref(), inv.sms.as_deref()]
            .into_iter()
            .flatten()
        {
            let r = world
                .browser
                .get(format!("{}{page}", world.mock.url))
                .header("accept-language", "fr-FR")
                .send()
                .await
                .expect("GET page");
            assert_eq!(r.status().as_u16(), 200, "{page}");
            let body = r.text().await.expect("page");
            let says = match (
                body.contains("Facture déjà payée"),
                body.contains("À payer"),
            ) {
                (true, false) => "paid",
                (false, true) => "open",
                _ => panic!("seed {}: {page} says neither paid nor open", report.seed),
            };
            assert_eq!(
                says, status[i],
                "seed {}: the link page of {} disagrees with the PSP",
                report.seed, inv.id
            );
            report.pages_checked += 1;
        }
    }
}

fn phone_status(s: InvoiceStatus) -> &'static str {
    match s {
        InvoiceStatus::Open => "open",
        InvoiceStatus::Paid => "paid",
        InvoiceStatus::Void => "void",
        InvoiceStatus::Uncollectible => "uncollectible",
    }
}

/// Each member's phone, after a sync, shows what the PSP says; some are killed mid-sync
/// first (the core dropped and opened again on the same data folder).
async fn phones(
    world: &mut World,
    report: &mut Report,
    rng: &mut Rng,
    status: &[String],
    last: bool,
) {
    let index: BTreeMap<&str, usize> = world
        .invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| (inv.id.as_str(), i))
        .collect();
    for m in 0..MEMBERS.len() {
        if last || rng.percent(30) {
            let app = world.phones[m].app.clone();
            let killed_after = std::time::Duration::from_micros(rng.below(20_000));
            let sync = tokio::spawn(async move { app.arrears().sync().await.map(|_| ()) });
            tokio::time::sleep(killed_after).await;
            sync.abort();
            let _ = sync.await;
            world.phones[m].restart();
            report.count("app_killed");
            // What was cached before the kill is there at once, offline.
            world.phones[m]
                .app
                .arrears()
                .invoices()
                .expect("the cache opens after a kill");
            report.count("app_resumed_after_kill");
        }
        // The event stream alone: drained, it must have brought the phone to the truth before
        // any sync is asked (each invoice's change is announced in the change's transaction).
        let mut drained = false;
        let mut failures = 0;
        for _ in 0..100 {
            match world.phones[m].app.arrears().poll_events(0).await {
                Ok(0) => {
                    drained = true;
                    break;
                }
                Ok(_) => {}
                // A restarted mock may meet a connection the core kept.
                Err(e) if failures < 3 => {
                    failures += 1;
                    report.note(format!("phone events retried: {e:?}"));
                }
                Err(e) => panic!("seed {}: phone {m} events: {e:?}", report.seed),
            }
        }
        assert!(
            drained,
            "seed {}: phone {m} events never drained",
            report.seed
        );
        let offline = world.phones[m]
            .app
            .arrears()
            .invoices()
            .expect("the phone's cache");
        agrees(world, report, &index, status, m, &offline, "events");
        let mut synced = None;
        for _ in 0..3 {
            // A restarted mock may meet a connection the core kept: one retry is enough.
            match world.phones[m].app.arrears().sync().await {
                Ok(list) => {
                    synced = Some(list);
                    break;
                }
                Err(e) => report.note(format!("phone sync retried: {e:?}")),
            }
        }
        let list = synced.unwrap_or_else(|| panic!("seed {}: phone {m} never synced", report.seed));
        agrees(world, report, &index, status, m, &list, "sync");
    }
}

/// Phone `m`'s list (`how`: after draining its events, or after a sync) shows its own
/// invoices only, each with the status the PSP holds.
fn agrees(
    world: &World,
    report: &mut Report,
    index: &BTreeMap<&str, usize>,
    status: &[String],
    m: usize,
    list: &InvoiceList,
    how: &str,
) {
    let seed = report.seed;
    let mine: BTreeSet<usize> = (0..world.invoices.len())
        .filter(|&i| world.invoices[i].member == m)
        .collect();
    // The newest page at least (issue 11's list); all of them once the sync is incremental.
    let shown = list.invoices.len();
    assert!(
        (mine.len().min(PHONE_LIST)..=mine.len()).contains(&shown),
        "seed {seed}: phone {m} lists {shown} of {} invoices ({how})",
        mine.len()
    );
    for shown in &list.invoices {
        let i = *index.get(shown.id.as_str()).unwrap_or_else(|| {
            panic!(
                "seed {seed}: phone {m} shows {} (not made by the run, {how})",
                shown.id
            )
        });
        assert!(
            mine.contains(&i),
            "seed {seed}: phone {m} shows another member's {} ({how})",
            shown.id
        );
        assert_eq!(
            phone_status(shown.status),
            status[i],
            "seed {seed}: phone {m} disagrees on {} ({how})",
            shown.id
        );
        report.phone_invoices_checked += 1;
    }
}

/// The PSP's events: one `invoice.paid` for each paid invoice, none for an open one.
async fn events(world: &World, report: &mut Report, status: &[String]) {
    let mut paid_events: BTreeMap<String, u32> = BTreeMap::new();
    let mut after: Option<String> = None;
    // Bounded by what the run can have made: one event per invoice, 100 a page.
    for _ in 0..=world.invoices.len() / 100 + 100 {
        let mut query = vec![
            ("type", "invoice.paid".to_owned()),
            ("limit", "100".to_owned()),
        ];
        if let Some(a) = &after {
            query.push(("starting_after", a.clone()));
        }
        let page: serde_json::Value = world
            .mock
            .http
            .get(format!("{}/v1/events", world.mock.url))
            .bearer_auth(PSP_KEY)
            .query(&query)
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("events JSON");
        let data = page["data"].as_array().expect("events data");
        for e in data {
            let id = e["data"]["object"]["id"].as_str().unwrap_or_default();
            *paid_events.entry(id.to_owned()).or_default() += 1;
        }
        after = data
            .last()
            .and_then(|e| e["id"].as_str())
            .map(str::to_owned);
        if page["has_more"] != true || after.is_none() {
            break;
        }
    }
    for (i, inv) in world.invoices.iter().enumerate() {
        let n = paid_events.get(&inv.id).copied().unwrap_or(0);
        let expected = u32::from(status[i] == "paid");
        assert_eq!(
            n, expected,
            "seed {}: {} invoice.paid events for {}",
            report.seed, n, inv.id
        );
        report.events_checked += 1;
    }
}
