//! What the fault run plays on: one mock (restartable on its database), the three demo
//! members each with an enrolled phone, their invoices (made in batches by the test helper as
//! the run pays them off) with the links every channel opens, and the HTTP clients of the
//! "browsers".

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};

use super::rng::Rng;
use crate::{Mock, Phone, PSP_KEY};

/// The demo seed's members: contract number, holder's birth date, phone.
pub const MEMBERS: [(&str, &str, &str); 3] = [
    ("TP1000001", "1985-04-12", "+33612345678"),
    ("TP1000002", "1992-11-02", "+33698765432"),
    ("TP1000003", "1951-07-19", "+33755501234"),
];
/// Invoices one batch makes.
const BATCH: u32 = 20;
/// Below this many open invoices, a new batch is made.
const LOW_WATER: usize = 12;
/// How long a browser waits for an answer it should get.
pub const PATIENT: Duration = Duration::from_secs(30);
/// How long the impatient client waits: far below [`DELAY`], so a delayed answer always
/// times out whatever the machine's load.
pub const IMPATIENT: Duration = Duration::from_millis(150);
/// How long a `delay` fault holds a request before it runs.
pub const DELAY: Duration = Duration::from_millis(400);

/// One invoice of the run and the ways to reach it.
#[derive(Debug, Clone)]
pub struct Invoice {
    /// `in_…`
    pub id: String,
    /// Index in [`MEMBERS`].
    pub member: usize,
    /// Minor units owed.
    pub amount: i64,
    /// `/l/{token}` of the email's link, once minted.
    pub email: Option<String>,
    /// `/l/{token}` of the SMS's link, once minted.
    pub sms: Option<String>,
    /// `/i/{token}` of the PSP's hosted invoice page, once read.
    pub hosted: Option<String>,
}

/// The run's world.
pub struct World {
    /// The mock.
    pub mock: Mock,
    /// One enrolled phone per member of [`MEMBERS`].
    pub phones: Vec<Phone>,
    /// Every invoice made, in the order made.
    pub invoices: Vec<Invoice>,
    /// Invoices some answer said were paid (never to become open again).
    pub seen_paid: BTreeSet<usize>,
    /// A browser: no redirects followed, no connection kept (so a restarted mock is met by a
    /// fresh connection, as a new page load would).
    pub browser: reqwest::Client,
    /// A browser that gives up after [`IMPATIENT`].
    pub impatient: reqwest::Client,
    settle_until: Option<Instant>,
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .timeout(timeout)
        .build()
        .expect("HTTP client")
}

impl World {
    /// A mock with the demo seed, a phone enrolled per member, a first batch each.
    pub async fn start(seed: u64) -> Self {
        let mock = Mock::start().await;
        let mut phones = Vec::new();
        for (contract, birth, phone) in MEMBERS {
            let p = Phone::new(&mock);
            p.enroll(&mock, contract, birth, phone).await;
            p.app
                .payments()
                .save_member_card(
                    super::channels::APP_CARD.into(),
                    "12/34".into(),
                    "123".into(),
                )
                .await
                .expect("the phone saves its card");
            phones.push(p);
        }
        let mut world = Self {
            mock,
            phones,
            invoices: Vec::new(),
            seen_paid: BTreeSet::new(),
            browser: client(PATIENT),
            impatient: client(IMPATIENT),
            settle_until: None,
        };
        for member in 0..MEMBERS.len() {
            // Amounts differ per run but follow the seed.
            let amount = 500 + (seed.wrapping_mul(31).wrapping_add(member as u64) % 20_000) as i64;
            world.batch(member, amount).await;
        }
        world
    }

    /// Makes `BATCH` open invoices of `amount` for `member`.
    pub async fn batch(&mut self, member: usize, amount: i64) {
        let (status, made) = self
            .mock
            .post(
                "/v1/test_helpers/arrears",
                json!({"contract": MEMBERS[member].0, "amount": amount,
                       "description": "Cotisation impayée", "count": BATCH}),
            )
            .await;
        assert_eq!(status, 200, "arrears fixture: {made}");
        for id in made["invoices"].as_array().expect("invoice ids") {
            self.invoices.push(Invoice {
                id: id.as_str().expect("an id").to_owned(),
                member,
                amount,
                email: None,
                sms: None,
                hosted: None,
            });
        }
    }

    /// Indexes of the invoices no answer has yet said were paid.
    pub fn open(&self) -> Vec<usize> {
        (0..self.invoices.len())
            .filter(|i| !self.seen_paid.contains(i))
            .collect()
    }

    /// A new batch for a member chosen by `rng` once few invoices are left to pay.
    pub async fn top_up(&mut self, rng: &mut Rng) {
        if self.open().len() < LOW_WATER {
            let member = rng.index(MEMBERS.len());
            let amount = rng.between(100, 50_000);
            self.batch(member, amount).await;
        }
    }

    /// Mints the links of invoice `i` (email, SMS) and reads its hosted page, once.
    pub async fn reach(&mut self, i: usize) {
        if self.invoices[i].email.is_some() {
            return;
        }
        let id = self.invoices[i].id.clone();
        let (status, links) = self
            .mock
            .post(
                &format!("/v1/test_helpers/invoices/{id}/links"),
                json!({"channels": ["email", "sms"]}),
            )
            .await;
        assert_eq!(status, 200, "links of {id}: {links}");
        let path = |l: &Value| {
            let url = l["url"].as_str().expect("a link");
            url[url.find("/l/").expect("a /l/ link")..].to_owned()
        };
        let invoice = self.psp_invoice(&id).await;
        let hosted = invoice["hosted_invoice_url"]
            .as_str()
            .expect("a hosted invoice page");
        let inv = &mut self.invoices[i];
        inv.email = Some(path(&links["data"][0]));
        inv.sms = Some(path(&links["data"][1]));
        inv.hosted = Some(hosted[hosted.find("/i/").expect("an /i/ page")..].to_owned());
    }

    /// The PSP's invoice, as the insurer reads it.
    pub async fn psp_invoice(&self, id: &str) -> Value {
        let r = self
            .mock
            .http
            .get(format!("{}/v1/invoices/{id}", self.mock.url))
            .bearer_auth(PSP_KEY)
            .send()
            .await
            .expect("GET invoice");
        assert_eq!(r.status().as_u16(), 200);
        r.json().await.expect("JSON")
    }

    /// The mock's database, read-only (the checks never write).
    pub fn db(&self) -> Connection {
        let conn = Connection::open_with_flags(
            self.mock.db_path(),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .expect("open the mock's database read-only");
        conn.busy_timeout(Duration::from_secs(30))
            .expect("busy timeout");
        conn
    }

    /// Stops the mock and starts it again on the same file and port.
    pub async fn restart_mock(&mut self) {
        self.mock.restart().await;
        // The helpers' client may hold connections to the old server.
        self.mock.http = reqwest::Client::new();
    }

    /// A delayed request may still be running on the server: checks wait until it is done.
    pub fn delayed(&mut self) {
        // Its run after the delay takes a few ms; a second is margin for a loaded machine.
        let until = Instant::now() + DELAY + Duration::from_secs(1);
        self.settle_until = Some(self.settle_until.map_or(until, |t| t.max(until)));
    }

    /// Waits for requests left running by `delay` faults (see [`World::delayed`]).
    pub async fn settle(&mut self) {
        if let Some(t) = self.settle_until.take() {
            tokio::time::sleep_until(t.into()).await;
        }
    }
}
