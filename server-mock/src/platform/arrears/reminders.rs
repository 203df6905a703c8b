//! The reminder scheduler: a task on the mock's business clock that sends each open invoice's
//! reminders when its insurer's schedule says (`schedule.rs`, held by the quiet hours), each
//! message with its own signed link (`links.rs`; the SMS with a short one, `short_links.rs`).
//!
//! - New invoices join the queue (`platform_reminders`) from `platform_invoices` past a cursor,
//!   so nothing else has to remember to enrol them.
//! - A pass reads a bounded batch of queue rows whose `next_at` has come, through an index, and
//!   handles them in one transaction: for each it reads the invoice's status and what is left
//!   to pay **in the transaction that records the message**, so a reminder never follows a
//!   payment, a void or a credit note that brought it to zero; such an invoice leaves the queue.
//! - A step is sent once: `platform_reminder_sends` has (invoice, step) as its key, claimed
//!   before the message is written. When a catch-up finds several steps due (an invoice made
//!   long after its due date, a server that was down), only the latest day's go out; the
//!   earlier ones are recorded as skipped, so a member never gets a burst.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use p256::ecdsa::SigningKey;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tierspay_core::domain::calendar::paris_date;
use tierspay_core::domain::payment_link::Channel;
use tierspay_core::domain::rf_reference::RfReference;

use super::messages::{email, push, sms, Insurer, Reminder};
use super::schedule::{Kind, Schedule, Step};
use super::{links, short_links};
use crate::http::{ApiError, ApiJson};
use crate::platform::{notifications, payments};
use crate::psp::api::InvoiceStatus;
use crate::state::AppState;

/// Queue rows one transaction handles. A row costs about 4 ms on this machine (two ES256
/// signatures, the QR code, the MIME message; docs/benchmarks.md) while the one writer
/// connection is held, so a batch holds it for about 0.17 s (median, make bench-dunning).
pub const BATCH: u32 = 25;
/// New invoices one pass enrols per transaction.
const ENROL_BATCH: u32 = 1_000;
/// Most batches one pass runs, so a pass always ends (100,000 invoices are 4,000 batches).
const MAX_BATCHES: u32 = 10_000;
/// How often the task looks at the clock. Business time only moves forward, by real time or a
/// test helper, so a second's delay is all a test waits.
const TICK: Duration = Duration::from_secs(1);
/// How long an invoice whose reminder failed waits before the next try.
const RETRY_SECS: i64 = 3_600;

/// The reminders' tables (a migration module of their own, run after the platform's).
pub const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE platform_reminder_schedules (
        insurer TEXT PRIMARY KEY,
        steps   TEXT NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE TABLE platform_reminders (
        invoice_id TEXT PRIMARY KEY,
        insurer    TEXT NOT NULL,
        due_at     INTEGER NOT NULL,
        next_at    INTEGER,
        created    INTEGER NOT NULL
    );
    CREATE INDEX platform_reminders_due ON platform_reminders (next_at) WHERE next_at IS NOT NULL;
    CREATE TABLE platform_reminder_sends (
        invoice_id TEXT NOT NULL,
        step       TEXT NOT NULL,
        outcome    TEXT NOT NULL CHECK (outcome IN ('sent', 'no_recipient', 'skipped')),
        message_id TEXT,
        sent_at    INTEGER NOT NULL,
        PRIMARY KEY (invoice_id, step)
    ) WITHOUT ROWID;
    CREATE TABLE platform_reminder_cursor (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq INTEGER NOT NULL
    );
    INSERT INTO platform_reminder_cursor (id, last_seq) VALUES (1, 0);
    ALTER TABLE platform_outbox ADD COLUMN raw BLOB;
"#];

/// What a pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassReport {
    /// Invoices that joined the queue.
    pub enrolled: usize,
    /// Queue rows looked at.
    pub invoices: usize,
    /// Messages written to the outbox.
    pub sent: usize,
    /// Steps due with nobody to send to (no signed-in phone, no address).
    pub no_recipient: usize,
    /// Earlier steps passed over by a later one due at the same time.
    pub skipped: usize,
    /// Invoices that left the queue: paid, voided, uncollectible or credited to zero.
    pub stopped: usize,
    /// Invoices whose step failed (logged; tried again an hour later).
    pub failed: usize,
    /// Batches run (each one transaction).
    pub batches: usize,
    /// Milliseconds a batch took: median, 10th and 90th percentiles, longest.
    pub batch_ms_median: u64,
    /// See `batch_ms_median`.
    pub batch_ms_p10: u64,
    /// See `batch_ms_median`.
    pub batch_ms_p90: u64,
    /// See `batch_ms_median`.
    pub batch_ms_max: u64,
}

impl PassReport {
    fn add(&mut self, o: PassReport) {
        self.enrolled += o.enrolled;
        self.invoices += o.invoices;
        self.sent += o.sent;
        self.no_recipient += o.no_recipient;
        self.skipped += o.skipped;
        self.stopped += o.stopped;
        self.failed += o.failed;
    }
}

/// Sets an insurer's schedule (`3:push,10:email,…`, checked); it applies to the steps not yet
/// sent of its open invoices from their next pass.
pub fn set_schedule(tx: &Connection, insurer: &str, text: &str, now: i64) -> Result<(), ApiError> {
    if insurer.is_empty() || insurer.len() > 200 {
        return Err(ApiError::invalid_param(
            "insurer",
            "insurer must be 1 to 200 bytes.",
        ));
    }
    let schedule =
        Schedule::parse(text).map_err(|e| ApiError::invalid_param("steps", e.to_string()))?;
    tx.execute(
        "INSERT INTO platform_reminder_schedules (insurer, steps, updated) VALUES (?1, ?2, ?3)
         ON CONFLICT (insurer) DO UPDATE SET steps = excluded.steps, updated = excluded.updated",
        params![insurer, schedule.to_text(), now],
    )?;
    // Due times change with the schedule: recompute them at the next pass.
    tx.execute(
        "UPDATE platform_reminders SET next_at = ?2 WHERE insurer = ?1 AND next_at IS NOT NULL",
        params![insurer, now],
    )?;
    Ok(())
}

/// The schedule of `insurer`: its own, or the default.
pub fn schedule_of(conn: &Connection, insurer: &str) -> Result<Schedule, ApiError> {
    let text: Option<String> = conn
        .prepare_cached("SELECT steps FROM platform_reminder_schedules WHERE insurer = ?1")?
        .query_row([insurer], |r| r.get(0))
        .optional()?;
    // Stored text was checked when set.
    Ok(text
        .and_then(|t| Schedule::parse(&t).ok())
        .unwrap_or_else(Schedule::default_schedule))
}

struct Schedules(HashMap<String, Schedule>);

impl Schedules {
    fn get(&mut self, conn: &Connection, insurer: &str) -> Result<&Schedule, ApiError> {
        if !self.0.contains_key(insurer) {
            let s = schedule_of(conn, insurer)?;
            self.0.insert(insurer.to_owned(), s);
        }
        self.0
            .get(insurer)
            .ok_or_else(|| ApiError::internal("schedule cache"))
    }
}

fn open_with_balance(status: InvoiceStatus, remaining: i64) -> bool {
    status == InvoiceStatus::Open && remaining > 0
}

fn sent_steps(conn: &Connection, invoice_id: &str) -> Result<Vec<String>, ApiError> {
    Ok(conn
        .prepare_cached("SELECT step FROM platform_reminder_sends WHERE invoice_id = ?1")?
        .query_map([invoice_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}

fn next_at(schedule: &Schedule, sent: &[String], due_at: i64) -> Option<i64> {
    let done: Vec<Step> = schedule
        .steps()
        .iter()
        .filter(|s| sent.contains(&s.name()))
        .copied()
        .collect();
    schedule.pending(&done, due_at).map(|(_, at)| at)
}

/// Enrols invoices recorded since the last call (at most [`ENROL_BATCH`]); how many.
pub fn enrol_new(tx: &Connection, now: i64) -> Result<usize, ApiError> {
    let last: i64 = tx.query_row(
        "SELECT last_seq FROM platform_reminder_cursor WHERE id = 1",
        [],
        |r| r.get(0),
    )?;
    let rows: Vec<(i64, String, String)> = tx
        .prepare_cached(
            "SELECT seq, invoice_id, insurer FROM platform_invoices WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?
        .query_map(params![last, ENROL_BATCH], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut schedules = Schedules(HashMap::new());
    for (_, invoice_id, insurer) in &rows {
        let v = payments::invoice(tx, invoice_id)?;
        let due_at = v.due_date.unwrap_or(v.created);
        let next = if open_with_balance(v.status, v.amount_remaining) {
            next_at(schedules.get(tx, insurer)?, &[], due_at)
        } else {
            None
        };
        tx.prepare_cached(
            "INSERT OR IGNORE INTO platform_reminders (invoice_id, insurer, due_at, next_at, created)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![invoice_id, insurer, due_at, next, now])?;
    }
    if let Some((seq, _, _)) = rows.last() {
        tx.execute(
            "UPDATE platform_reminder_cursor SET last_seq = ?1 WHERE id = 1",
            [seq],
        )?;
    }
    Ok(rows.len())
}

/// One bounded batch: the queue rows due at `now` (at most `limit`), each handled as the module
/// documentation says, in the caller's transaction.
pub fn run_batch(
    tx: &Connection,
    key: &SigningKey,
    now: i64,
    limit: u32,
) -> Result<PassReport, ApiError> {
    let due: Vec<(String, String, i64)> = tx
        .prepare_cached(
            "SELECT invoice_id, insurer, due_at FROM platform_reminders
             WHERE next_at IS NOT NULL AND next_at <= ?1 ORDER BY next_at LIMIT ?2",
        )?
        .query_map(params![now, limit], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut report = PassReport {
        invoices: due.len(),
        ..PassReport::default()
    };
    let mut schedules = Schedules(HashMap::new());
    for (invoice_id, insurer, due_at) in due {
        let schedule = schedules.get(tx, &insurer)?.clone();
        // One invoice's failure (a member whose contract is gone, say) must not roll back the
        // batch and come back every pass: its work is undone alone and it waits an hour.
        tx.execute_batch("SAVEPOINT reminder")?;
        match remind(tx, key, &invoice_id, &insurer, due_at, &schedule, now) {
            Ok(r) => {
                tx.execute_batch("RELEASE reminder")?;
                report.add(r);
            }
            Err(e) => {
                tx.execute_batch("ROLLBACK TO reminder; RELEASE reminder")?;
                tracing::warn!(invoice = %invoice_id, "reminder failed: {}", e.detail.message);
                tx.prepare_cached(
                    "UPDATE platform_reminders SET next_at = ?2 WHERE invoice_id = ?1",
                )?
                .execute(params![invoice_id, now + RETRY_SECS])?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

fn remind(
    tx: &Connection,
    key: &SigningKey,
    invoice_id: &str,
    insurer: &str,
    due_at: i64,
    schedule: &Schedule,
    now: i64,
) -> Result<PassReport, ApiError> {
    let mut report = PassReport::default();
    let v = payments::invoice(tx, invoice_id)?;
    if !open_with_balance(v.status, v.amount_remaining) {
        tx.prepare_cached("UPDATE platform_reminders SET next_at = NULL WHERE invoice_id = ?1")?
            .execute([invoice_id])?;
        report.stopped = 1;
        return Ok(report);
    }
    let mut sent = sent_steps(tx, invoice_id)?;
    let due: Vec<Step> = schedule
        .steps()
        .iter()
        .filter(|s| !sent.contains(&s.name()) && s.send_at(due_at) <= now)
        .copied()
        .collect();
    let latest = due.iter().map(|s| s.day).max();
    let mut facts = None;
    for step in due {
        let name = step.name();
        // Claim the step first: the key makes a second claim fail, so it is sent once.
        let claimed = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO platform_reminder_sends (invoice_id, step, outcome, sent_at)
                 VALUES (?1, ?2, 'skipped', ?3)",
            )?
            .execute(params![invoice_id, name, now])?;
        sent.push(name.clone());
        if claimed == 0 {
            continue;
        }
        if Some(step.day) != latest {
            report.skipped += 1;
            continue;
        }
        if facts.is_none() {
            facts = Some(Facts::read(tx, invoice_id, insurer, &v, due_at)?);
        }
        let Some(f) = facts.as_ref() else { continue };
        let message = send(tx, key, f, step.kind, &name, now)?;
        let outcome = if message.is_some() {
            report.sent += 1;
            "sent"
        } else {
            report.no_recipient += 1;
            "no_recipient"
        };
        tx.prepare_cached(
            "UPDATE platform_reminder_sends SET outcome = ?3, message_id = ?4
             WHERE invoice_id = ?1 AND step = ?2",
        )?
        .execute(params![invoice_id, name, outcome, message])?;
    }
    tx.prepare_cached("UPDATE platform_reminders SET next_at = ?2 WHERE invoice_id = ?1")?
        .execute(params![invoice_id, next_at(schedule, &sent, due_at)])?;
    Ok(report)
}

/// What every message of one invoice is made from.
struct Facts {
    reminder: Reminder,
    number: u32,
    invoice_id: String,
    member_ref: String,
    currency: String,
    phone: String,
    email: String,
}

impl Facts {
    fn read(
        tx: &Connection,
        invoice_id: &str,
        insurer: &str,
        v: &crate::psp::api::InvoiceView,
        due_at: i64,
    ) -> Result<Self, ApiError> {
        let (number, member_ref): (i64, String) = tx
            .prepare_cached("SELECT seq, member_ref FROM platform_invoices WHERE invoice_id = ?1")?
            .query_row([invoice_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let number =
            u32::try_from(number).map_err(|_| ApiError::internal("invoice number past u32"))?;
        let (first_name, last_name, contract_number, phone, email) = contact(tx, &member_ref)?;
        let reference = v
            .rf_reference
            .as_deref()
            .and_then(|r| RfReference::parse(r).ok())
            .map(|r| r.grouped())
            .unwrap_or_default();
        Ok(Self {
            reminder: Reminder {
                insurer: Insurer::named(insurer),
                first_name,
                last_name,
                contract_number,
                invoice_number: v.number.clone().unwrap_or_else(|| invoice_id.to_owned()),
                amount_minor: v.amount_remaining,
                due_date: paris_date(due_at),
                reference,
                formal_notice: false,
            },
            number,
            invoice_id: invoice_id.to_owned(),
            member_ref,
            currency: v.currency.to_ascii_uppercase(),
            phone,
            email,
        })
    }

    fn link(
        &self,
        key: &SigningKey,
        channel: Channel,
        now: i64,
    ) -> Result<links::SignedLink, ApiError> {
        links::sign(
            key,
            links::LinkFor {
                invoice_number: self.number,
                member_ref: &self.member_ref,
                amount_minor: self.reminder.amount_minor,
                currency: &self.currency,
            },
            channel,
            now,
        )
    }
}

/// The holder's name, the contract's number and the addresses the insurer has on record.
fn contact(
    conn: &Connection,
    member_ref: &str,
) -> Result<(String, String, String, String, String), ApiError> {
    conn.prepare_cached(
        "SELECT b.first_name, b.last_name, c.number, c.phone, c.email FROM insurer_contracts c
         JOIN insurer_beneficiaries b ON b.contract_id = c.id AND b.relationship = 'holder'
         WHERE c.member_id = ?1",
    )?
    .query_row([member_ref], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .optional()?
    .ok_or_else(|| ApiError::not_found("member"))
}

/// Writes one step's message; its outbox id, or `None` with nobody to send it to.
fn send(
    tx: &Connection,
    key: &SigningKey,
    f: &Facts,
    kind: Kind,
    step: &str,
    now: i64,
) -> Result<Option<String>, ApiError> {
    match kind {
        Kind::Push => {
            let link = f.link(key, Channel::Push, now)?;
            let text = push::text(&f.reminder);
            let pushed = notifications::push_to_member_with(
                tx,
                &f.member_ref,
                notifications::Push {
                    kind: "invoice_reminder",
                    title: &text.title,
                    body: &text.summary,
                    link: &link.url,
                },
                &[("summary", &text.summary), ("invoice", &f.invoice_id)],
                now,
            )?;
            Ok((pushed > 0).then(|| format!("push:{pushed}")))
        }
        Kind::Sms => {
            if f.phone.is_empty() {
                return Ok(None);
            }
            let link = f.link(key, Channel::Sms, now)?;
            let code = short_links::create(tx, &f.invoice_id, &link.token, link.expires_at, now)?;
            let text = sms::text(&f.reminder, &short_links::url(&code))
                .ok_or_else(|| ApiError::internal("reminder SMS does not fit one part"))?;
            notifications::send_sms(tx, &f.phone, &text, now).map(Some)
        }
        Kind::Email | Kind::Notice => {
            if !email::is_address(&f.email) {
                return Ok(None);
            }
            let link = f.link(key, Channel::Email, now)?;
            let mut reminder = f.reminder.clone();
            reminder.formal_notice = kind == Kind::Notice;
            let message_id = format!("{}.{step}@app.tierspay.fr", f.invoice_id);
            let mail = email::build(&reminder, &f.email, &link.url, now, &message_id)
                .map_err(|e| ApiError::internal(&format!("reminder email: {e}")))?;
            notifications::send_mime_email(tx, &f.email, &mail.subject, &mail.text, &mail.raw, now)
                .map(Some)
        }
    }
}

/// One pass at business time: enrol new invoices, then batches of due reminders until none is
/// left (bounded by [`MAX_BATCHES`]).
pub async fn run_pass(state: &AppState) -> Result<PassReport, ApiError> {
    let now = state.clock.now();
    let mut report = PassReport::default();
    loop {
        let enrolled = state.db.transaction(move |tx| enrol_new(tx, now)).await?;
        report.enrolled += enrolled;
        if enrolled < ENROL_BATCH as usize {
            break;
        }
    }
    let mut times = Vec::new();
    for _ in 0..MAX_BATCHES {
        let key = state.signing_key.clone();
        let started = Instant::now();
        let batch = state
            .db
            .transaction_long(move |tx| run_batch(tx, &key, now, BATCH))
            .await?;
        times.push(started.elapsed().as_millis() as u64);
        report.add(batch);
        if batch.invoices < BATCH as usize {
            break;
        }
    }
    times.sort_unstable();
    let at = |q: usize| {
        times
            .get((times.len().saturating_sub(1)) * q / 100)
            .copied()
            .unwrap_or(0)
    };
    report.batches = times.len();
    report.batch_ms_median = at(50);
    report.batch_ms_p10 = at(10);
    report.batch_ms_p90 = at(90);
    report.batch_ms_max = at(100);
    Ok(report)
}

/// The scheduler: a pass every [`TICK`] until the server stops (the task is aborted with it).
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let started = Instant::now();
        match run_pass(&state).await {
            Ok(r) if r.sent + r.stopped + r.enrolled > 0 => tracing::info!(
                sent = r.sent,
                stopped = r.stopped,
                enrolled = r.enrolled,
                ms = started.elapsed().as_millis() as u64,
                "reminders pass"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("reminders: {}", e.detail.message),
        }
    }
}

/// How many steps ended each way (`sent`, `no_recipient`, `skipped`): for tests and the
/// benchmark.
pub fn sends_by_outcome(conn: &Connection) -> Result<HashMap<String, i64>, ApiError> {
    Ok(conn
        .prepare("SELECT outcome, COUNT(*) FROM platform_reminder_sends GROUP BY outcome")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// The routes of the links the reminders carry, and the test helpers that drive them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/platform/link_key", get(links::link_key))
        .route("/s/{code}", get(short_links::open))
        .route(
            "/v1/platform/short_links/{code}",
            get(short_links::retrieve),
        )
        .route("/v1/test_helpers/reminders/run", post(run_now))
        .route("/v1/test_helpers/reminder_schedules", post(put_schedule))
}

/// `POST /v1/test_helpers/reminders/run`: one pass now, at business time, and what it did
/// (the task does the same every second; this makes a test's wait exact).
async fn run_now(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let r = run_pass(&state).await?;
    Ok(Json(
        json!({"object": "reminder_pass", "now": state.clock.now(), "report": r}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSchedule {
    insurer: String,
    steps: String,
}

/// `POST /v1/test_helpers/reminder_schedules` `{insurer, steps}`: an insurer's own schedule.
async fn put_schedule(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewSchedule>,
) -> Result<Json<Value>, ApiError> {
    let now = state.clock.now();
    let (insurer, steps) = (body.insurer, body.steps);
    let stored = state
        .db
        .transaction(move |tx| {
            set_schedule(tx, &insurer, &steps, now)?;
            Ok(json!({
                "object": "reminder_schedule",
                "insurer": insurer,
                "steps": schedule_of(tx, &insurer)?.to_text(),
            }))
        })
        .await?;
    Ok(Json(stored))
}
