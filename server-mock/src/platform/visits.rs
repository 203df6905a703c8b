//! Visit authorizations: from the phone's offline preview, the platform prices the visit again
//! with the same engine, holds the member's share on their own card (a PaymentIntent with
//! manual capture; none when it is 0) and arms the virtual card for that provider and that
//! amount until `expires_at`. One armed visit per card, enforced by the schema. Cancelling
//! releases the hold; so does expiry, swept by the maintenance loop and on every read.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use rusqlite::{params, Connection, OptionalExtension, Row};
use rust_decimal::Decimal;
use serde::Deserialize;
use tierspay_core::auth::random;
use tierspay_core::domain::coverage::{self, DeductionKind, GuaranteeLine};
use tierspay_core::domain::enrollment::parse_date;
use tierspay_core::domain::money::to_cents;
use tierspay_core::domain::preview::{self, PreviewInput};
use tierspay_core::wire::{
    codes, AuthorizeVisitRequest, StalePreview, Visit, VisitList, VisitSettlement, VisitStatus,
};

use super::payments::{self, Hold};
use crate::http::{ApiError, ApiJson, Caller};
use crate::insurer::{catalogue, directory};
use crate::psp::api as psp;
use crate::state::AppState;

/// Most visits a sweep expires in one transaction.
const SWEEP_BATCH: u32 = 200;
/// Largest price a visit may carry, minor units (the engine's own bound is 100,000 €).
const MAX_PRICE: i64 = 10_000_000;
/// Longest id accepted in a request.
const MAX_ID: usize = 64;

/// The engine's figures for a visit, in minor units, with what the act consumes of the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    /// The server's preview id.
    pub preview_id: String,
    /// What the provider charges.
    pub price: i64,
    /// Statutory share.
    pub amo: i64,
    /// Complementary share.
    pub amc: i64,
    /// The member's share.
    pub member: i64,
    /// Participation forfaitaire withheld.
    pub pf: i64,
    /// Franchise withheld.
    pub franchise: i64,
    /// The care category when the complementary pays a euro line (its ceiling moves).
    pub ceiling_category: Option<String>,
}

/// Prices a visit with the engine the phone uses, from the insurer's data as it stands.
#[allow(clippy::too_many_arguments)]
pub fn price_visit(
    conn: &Connection,
    contract_ref: &str,
    beneficiary_id: &str,
    provider: &tierspay_core::wire::Provider,
    act_code: &str,
    price: i64,
    date: time::Date,
) -> Result<Figures, ApiError> {
    let contract = catalogue::contract_data(conn, contract_ref)?;
    let tariffs = catalogue::tariff_catalogue(conn)?;
    let input = PreviewInput {
        contract: &contract,
        tariffs: &tariffs,
        provider,
        beneficiary_id,
        act_code,
        price: Decimal::new(price, 2),
        date,
    };
    let invalid = |e: coverage::QuoteError| {
        ApiError::invalid_param(&e.field, format!("{}: {}", e.field, e.message))
    };
    let (request, _) = preview::build_request(&input).map_err(invalid)?;
    let quote = coverage::quote_figures(&request).map_err(invalid)?;
    let withheld = |kind: DeductionKind| -> i64 {
        quote
            .deductions
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| to_cents(d.amount))
            .sum()
    };
    let ceiling_category = matches!(request.guarantee, GuaranteeLine::EuroAmount { .. })
        .then(|| request.act.category.as_str().to_owned());
    Ok(Figures {
        preview_id: preview::preview_id(&input, &quote),
        price,
        amo: to_cents(quote.amo),
        amc: to_cents(quote.amc),
        member: to_cents(quote.member),
        pf: withheld(DeductionKind::ParticipationForfaitaire),
        franchise: withheld(DeductionKind::Franchise),
        ceiling_category,
    })
}

/// A visit as stored.
#[derive(Debug, Clone)]
pub struct VisitRow {
    /// `vis_…`
    pub id: String,
    /// The member.
    pub member_ref: String,
    /// The contract.
    pub contract_ref: String,
    /// The virtual card armed.
    pub card_id: String,
    /// Who is treated.
    pub beneficiary_id: String,
    /// By whom.
    pub provider_id: String,
    /// The provider's name.
    pub provider_name: String,
    /// The provider's network id.
    pub network_id: String,
    /// The provider's city.
    pub provider_city: String,
    /// Which act.
    pub act_code: String,
    /// Care date.
    pub date: String,
    /// `eur`.
    pub currency: String,
    /// The price, minor units.
    pub price: i64,
    /// Statutory share.
    pub amo: i64,
    /// Complementary share.
    pub amc: i64,
    /// Member's share.
    pub member: i64,
    /// What the member's card holds.
    pub hold: i64,
    /// PF withheld.
    pub pf: i64,
    /// Franchise withheld.
    pub franchise: i64,
    /// The euro line's category, if any.
    pub ceiling_category: Option<String>,
    /// The preview authorized.
    pub preview_id: String,
    /// The hold (`pi_…`).
    pub payment_intent: Option<String>,
    /// The tap (`iauth_…`).
    pub authorization: Option<String>,
    /// `armed`, `authorized`, …
    pub status: String,
    /// Unix seconds.
    pub created: i64,
    /// Armed until.
    pub expires_at: i64,
    /// The last decline's reason.
    pub last_decline: Option<String>,
    /// Settlement: paid to the provider.
    pub provider_paid: Option<i64>,
    /// Settlement: captured from the member.
    pub member_captured: Option<i64>,
    /// Settlement: left as arrears.
    pub arrears: Option<i64>,
    /// Settlement: when.
    pub settled_at: Option<i64>,
}

/// The columns [`VisitRow`] reads, in order.
pub const COLUMNS: &str = "id, member_ref, contract_ref, card_id, beneficiary_id, provider_id, provider_name, network_id, provider_city, act_code, date, currency, price, amo, amc, member, hold, pf, franchise, ceiling_category, preview_id, payment_intent, authorization, status, created, expires_at, last_decline, provider_paid, member_captured, arrears, settled_at";

/// Reads a row selected with [`COLUMNS`].
pub fn row(r: &Row<'_>) -> rusqlite::Result<VisitRow> {
    Ok(VisitRow {
        id: r.get(0)?,
        member_ref: r.get(1)?,
        contract_ref: r.get(2)?,
        card_id: r.get(3)?,
        beneficiary_id: r.get(4)?,
        provider_id: r.get(5)?,
        provider_name: r.get(6)?,
        network_id: r.get(7)?,
        provider_city: r.get(8)?,
        act_code: r.get(9)?,
        date: r.get(10)?,
        currency: r.get(11)?,
        price: r.get(12)?,
        amo: r.get(13)?,
        amc: r.get(14)?,
        member: r.get(15)?,
        hold: r.get(16)?,
        pf: r.get(17)?,
        franchise: r.get(18)?,
        ceiling_category: r.get(19)?,
        preview_id: r.get(20)?,
        payment_intent: r.get(21)?,
        authorization: r.get(22)?,
        status: r.get(23)?,
        created: r.get(24)?,
        expires_at: r.get(25)?,
        last_decline: r.get(26)?,
        provider_paid: r.get(27)?,
        member_captured: r.get(28)?,
        arrears: r.get(29)?,
        settled_at: r.get(30)?,
    })
}

fn status_of(text: &str) -> VisitStatus {
    match text {
        "armed" => VisitStatus::Armed,
        "authorized" => VisitStatus::Authorized,
        "paid" => VisitStatus::Paid,
        "canceled" => VisitStatus::Canceled,
        "expired" => VisitStatus::Expired,
        _ => VisitStatus::Reversed,
    }
}

impl VisitRow {
    /// The app's view of it.
    pub fn to_wire(&self) -> Visit {
        let settlement = self.settled_at.map(|settled_at| VisitSettlement {
            provider_paid: self.provider_paid.unwrap_or_default(),
            amo: self.amo,
            amc: self.amc,
            member_captured: self.member_captured.unwrap_or_default(),
            arrears: self.arrears.unwrap_or_default(),
            settled_at,
        });
        Visit {
            object: "visit".into(),
            id: self.id.clone(),
            status: status_of(&self.status),
            beneficiary_id: self.beneficiary_id.clone(),
            provider_id: self.provider_id.clone(),
            provider_name: self.provider_name.clone(),
            act_code: self.act_code.clone(),
            date: self.date.clone(),
            currency: self.currency.clone(),
            price: self.price,
            amo: self.amo,
            amc: self.amc,
            member: self.member,
            preview_id: self.preview_id.clone(),
            payment_intent: self.payment_intent.clone(),
            authorization: self.authorization.clone(),
            created: self.created,
            expires_at: self.expires_at,
            last_decline: self.last_decline.clone(),
            settlement,
        }
    }
}

/// One visit by id.
pub fn load(conn: &Connection, id: &str) -> Result<Option<VisitRow>, ApiError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM platform_visits WHERE id = ?1"
        ))?
        .query_row([id], row)
        .optional()?)
}

/// The visit a tap was approved for.
pub fn by_authorization(
    conn: &Connection,
    authorization: &str,
) -> Result<Option<VisitRow>, ApiError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM platform_visits WHERE authorization = ?1"
        ))?
        .query_row([authorization], row)
        .optional()?)
}

/// The card's most recent visit.
pub fn latest_of_card(conn: &Connection, card_id: &str) -> Result<Option<VisitRow>, ApiError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM platform_visits WHERE card_id = ?1 ORDER BY seq DESC LIMIT 1"
        ))?
        .query_row([card_id], row)
        .optional()?)
}

/// Ends a visit that holds the member's card (expired, canceled, reversed): the hold is
/// released in the same transaction.
pub fn close(tx: &Connection, visit: &VisitRow, status: &str, now: i64) -> Result<(), ApiError> {
    if let Some(pi) = &visit.payment_intent {
        payments::release(tx, pi, now)?;
    }
    tx.prepare_cached("UPDATE platform_visits SET status = ?2 WHERE id = ?1")?
        .execute(params![visit.id, status])?;
    Ok(())
}

/// Expires armed visits past their deadline, releasing their holds: a bounded batch, of one
/// member (`Some`) or of everyone (the maintenance loop). Returns how many.
pub fn sweep_expired(
    tx: &Connection,
    member_ref: Option<&str>,
    now: i64,
) -> Result<usize, ApiError> {
    let due: Vec<VisitRow> = tx
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM platform_visits
             WHERE status = 'armed' AND expires_at <= ?1 AND (?2 IS NULL OR member_ref = ?2)
             LIMIT ?3"
        ))?
        .query_map(params![now, member_ref, SWEEP_BATCH], row)?
        .collect::<rusqlite::Result<_>>()?;
    for visit in &due {
        close(tx, visit, "expired", now)?;
    }
    Ok(due.len())
}

/// A 4xx whose body is the error and, for a stale preview, the figures that hold now.
pub enum Refusal {
    /// An ordinary error.
    Api(ApiError),
    /// 409 `preview_stale`.
    Stale(StalePreview),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            Refusal::Stale(quote) => {
                let mut e = ApiError::invalid(
                    "preview_stale",
                    "The preview no longer holds: the figures changed. Show the new ones and \
                     authorize again.",
                );
                e.status = StatusCode::CONFLICT;
                e.detail.param = Some("preview_id".into());
                let body = serde_json::json!({ "error": e.detail, "quote": quote });
                (StatusCode::CONFLICT, Json(body)).into_response()
            }
        }
    }
}

fn conflict(code: &str, message: &str) -> ApiError {
    let mut e = ApiError::invalid(code, message.to_owned());
    e.status = StatusCode::CONFLICT;
    e
}

/// A 402 about the member's card (`card_error` with Stripe's decline code) or its setup.
fn payment_refused(code: &str, decline: Option<&str>, message: &str, param: &str) -> ApiError {
    let mut e = ApiError::invalid(code, message.to_owned());
    e.status = StatusCode::PAYMENT_REQUIRED;
    if let Some(decline) = decline {
        e.detail.kind = "card_error".into();
        e.detail.decline_code = Some(decline.to_owned());
    }
    e.detail.param = Some(param.into());
    e
}

fn check_id(value: &str, param: &str) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > MAX_ID || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_param(
            param,
            format!("{param} must be 1 to {MAX_ID} visible ASCII characters."),
        )
        .not_executed());
    }
    Ok(())
}

fn check_request(req: &AuthorizeVisitRequest) -> Result<time::Date, ApiError> {
    check_id(&req.beneficiary_id, "beneficiary_id")?;
    check_id(&req.provider_id, "provider_id")?;
    check_id(&req.act_code, "act_code")?;
    check_id(&req.preview_id, "preview_id")?;
    if req.currency != "eur" {
        return Err(ApiError::invalid_param("currency", "currency must be `eur`.").not_executed());
    }
    if !(1..=MAX_PRICE).contains(&req.price) {
        return Err(ApiError::invalid_param(
            "price",
            format!("price must be from 1 to {MAX_PRICE} minor units."),
        )
        .not_executed());
    }
    for (value, param) in [(req.amo, "amo"), (req.amc, "amc"), (req.member, "member")] {
        if !(0..=MAX_PRICE).contains(&value) {
            return Err(ApiError::invalid_param(
                param,
                format!("{param} must be from 0 to {MAX_PRICE} minor units."),
            )
            .not_executed());
        }
    }
    parse_date(&req.date, "date")
        .map_err(|e| ApiError::invalid_param(e.field, e.message).not_executed())
}

/// The member's saved card, usable off-session: (customer, payment method), or why not.
fn usable_card(tx: &Connection, member_ref: &str) -> Result<(String, String), ApiError> {
    let saved: Option<(String, String, Option<String>, Option<String>)> = tx
        .prepare_cached(
            "SELECT c.customer_id, m.payment_method, m.status, m.decline_code
             FROM platform_payment_methods m JOIN platform_customers c USING (member_ref)
             WHERE m.member_ref = ?1",
        )?
        .query_row([member_ref], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    match saved {
        None => Err(payment_refused(
            "payment_method_missing",
            None,
            "Save your own card first: it pays what your insurers do not.",
            "payment_method",
        )),
        Some((customer, pm, Some(status), _)) if status == "active" => Ok((customer, pm)),
        Some((_, _, Some(status), _)) if status == "requires_action" => Err(payment_refused(
            "payment_method_requires_action",
            None,
            "Your bank is waiting for you to confirm your card: finish that first.",
            "payment_method",
        )),
        Some((_, _, _, decline)) => Err(payment_refused(
            "payment_method_failed",
            decline.as_deref(),
            "Your bank refused your card: save another one.",
            "payment_method",
        )),
    }
}

fn card_of(tx: &Connection, member_ref: &str) -> Result<String, ApiError> {
    tx.prepare_cached("SELECT card_id FROM platform_cards WHERE member_ref = ?1")?
        .query_row([member_ref], |r| r.get(0))
        .optional()?
        .ok_or_else(|| ApiError::not_found("card"))
}

/// `POST /v1/visits`: authorize one visit (201), or refuse with nothing held or armed.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(req): ApiJson<AuthorizeVisitRequest>,
) -> Result<Response, Refusal> {
    let device = caller.device()?.clone();
    let date = check_request(&req)?;
    let now = state.clock.now();
    let ttl = state.limits.visit_ttl;
    let tolerance = state.limits.tap_amount_tolerance;
    let key = psp::fingerprint_key(&state.vault);
    let outcome = state
        .db
        .transaction(move |tx| -> Result<Result<Visit, StalePreview>, ApiError> {
            let member = &device.member_ref;
            sweep_expired(tx, Some(member), now)?;
            let card_id = card_of(tx, member)?;
            let card = psp::card(tx, &card_id)?;
            if card.status != "active" {
                let mut e = payment_refused(
                    codes::CARD_INACTIVE,
                    None,
                    "Your TiersPay card is frozen: unfreeze it to pay a visit.",
                    "card",
                );
                e.status = StatusCode::CONFLICT;
                return Err(e);
            }
            let provider = directory::find(tx, &req.provider_id)?
                .ok_or_else(|| ApiError::invalid_param("provider_id", "No such provider."))?;
            let network_id = directory::network_id(tx, &provider.id)?
                .ok_or_else(|| ApiError::invalid_param("provider_id", "No such provider."))?;
            let figures = price_visit(
                tx,
                &device.contract_ref,
                &req.beneficiary_id,
                &provider,
                &req.act_code,
                req.price,
                date,
            )?;
            if figures.preview_id != req.preview_id
                || (figures.amo, figures.amc, figures.member) != (req.amo, req.amc, req.member)
            {
                return Ok(Err(StalePreview {
                    preview_id: figures.preview_id,
                    amo: figures.amo,
                    amc: figures.amc,
                    member: figures.member,
                }));
            }
            let armed: Option<String> = tx
                .prepare_cached(
                    "SELECT id FROM platform_visits WHERE card_id = ?1 AND status = 'armed'",
                )?
                .query_row([&card_id], |r| r.get(0))
                .optional()?;
            if armed.is_some() {
                return Err(already_armed());
            }
            let id = random::id("vis");
            let payment_intent = if figures.member > 0 {
                let (customer, pm) = usable_card(tx, member)?;
                match payments::hold(tx, &key, &customer, &pm, figures.member, "eur", &id, now)? {
                    Hold::Held(pi) => Some(pi),
                    Hold::BelowMinimum => None,
                    Hold::Declined(code) => {
                        return Err(payment_refused(
                            "card_declined",
                            Some(&code),
                            "Your bank declined the hold for your share: nothing was armed.",
                            "payment_method",
                        ))
                    }
                    Hold::RequiresAction => {
                        return Err(payment_refused(
                            "authentication_required",
                            Some("authentication_required"),
                            "Your bank wants you to confirm this payment, which cannot be done \
                             at the desk: nothing was armed. Save your card again to confirm it.",
                            "payment_method",
                        ))
                    }
                }
            } else {
                None
            };
            payments::fund_issuing(tx, figures.price + tolerance, "eur", now)?;
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO platform_visits (id, member_ref, contract_ref, card_id, beneficiary_id,
                        provider_id, provider_name, network_id, provider_city, act_code, date, currency,
                        price, amo, amc, member, hold, pf, franchise, ceiling_category, preview_id,
                        payment_intent, status, created, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'eur', ?12, ?13, ?14, ?15, ?15,
                        ?16, ?17, ?18, ?19, ?20, 'armed', ?21, ?22)",
                )?
                .execute(params![
                    id,
                    member,
                    device.contract_ref,
                    card_id,
                    req.beneficiary_id,
                    provider.id,
                    provider.name,
                    network_id,
                    provider.city,
                    req.act_code.to_ascii_uppercase(),
                    req.date,
                    figures.price,
                    figures.amo,
                    figures.amc,
                    figures.member,
                    figures.pf,
                    figures.franchise,
                    figures.ceiling_category,
                    figures.preview_id,
                    payment_intent,
                    now,
                    now + ttl,
                ]);
            match inserted {
                Ok(_) => {}
                // The schema's own guard: one armed visit per card, whatever raced.
                Err(rusqlite::Error::SqliteFailure(f, _))
                    if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
                {
                    return Err(already_armed())
                }
                Err(e) => return Err(e.into()),
            }
            let visit = load(tx, &id)?.ok_or_else(|| ApiError::internal("visit vanished"))?;
            Ok(Ok(visit.to_wire()))
        })
        .await?;
    match outcome {
        Ok(visit) => {
            tracing::info!(visit = %visit.id, "visit armed");
            Ok((StatusCode::CREATED, Json(visit)).into_response())
        }
        Err(stale) => Err(Refusal::Stale(stale)),
    }
}

fn already_armed() -> ApiError {
    conflict(
        "visit_already_armed",
        "A visit is already armed on your card: pay it or cancel it first.",
    )
}

fn own_visit(conn: &Connection, member_ref: &str, id: &str) -> Result<VisitRow, ApiError> {
    load(conn, id)?
        .filter(|v| v.member_ref == member_ref)
        .ok_or_else(|| ApiError::not_found("visit"))
}

/// `GET /v1/visits/{id}`
pub async fn retrieve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Visit>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let now = state.clock.now();
    let visit = state
        .db
        .transaction(move |tx| {
            sweep_expired(tx, Some(&member), now)?;
            own_visit(tx, &member, &id)
        })
        .await?;
    Ok(Json(visit.to_wire()))
}

/// `GET /v1/visits` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// 1 to 100, default 10.
    pub limit: Option<String>,
    /// A visit id: the ones created before it.
    pub starting_after: Option<String>,
}

/// `GET /v1/visits`: the member's visits, newest first.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<VisitList>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let Query(query) = query.map_err(|_| {
        ApiError::invalid(
            "parameter_unknown",
            "Only limit and starting_after are accepted.",
        )
    })?;
    let limit = match query.limit.as_deref() {
        None => 10,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| {
                ApiError::invalid_param("limit", "limit must be a whole number from 1 to 100.")
            })?,
    };
    let now = state.clock.now();
    let after = query.starting_after;
    let (data, has_more) = state
        .db
        .transaction(move |tx| {
            sweep_expired(tx, Some(&member), now)?;
            let before_seq = match &after {
                None => i64::MAX,
                Some(id) => tx
                    .prepare_cached(
                        "SELECT seq FROM platform_visits WHERE id = ?1 AND member_ref = ?2",
                    )?
                    .query_row(params![id, member], |r| r.get(0))
                    .optional()?
                    .ok_or_else(|| ApiError::invalid_param("starting_after", "No such visit."))?,
            };
            let mut rows: Vec<VisitRow> = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM platform_visits WHERE member_ref = ?1 AND seq < ?2
                     ORDER BY seq DESC LIMIT ?3"
                ))?
                .query_map(params![member, before_seq, limit + 1], row)?
                .collect::<rusqlite::Result<_>>()?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            Ok((rows, more))
        })
        .await?;
    Ok(Json(VisitList {
        object: "list".into(),
        data: data.iter().map(VisitRow::to_wire).collect(),
        has_more,
    }))
}

/// `POST /v1/visits/{id}/cancel`: disarms the card and releases the hold. Cancelling again
/// answers the canceled visit; one already tapped cannot be cancelled here.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<Visit>, ApiError> {
    let member = caller.device()?.member_ref.clone();
    let now = state.clock.now();
    let visit = state
        .db
        .transaction(move |tx| {
            sweep_expired(tx, Some(&member), now)?;
            let visit = own_visit(tx, &member, &id)?;
            match visit.status.as_str() {
                "armed" => {
                    close(tx, &visit, "canceled", now)?;
                    own_visit(tx, &member, &id)
                }
                "canceled" | "expired" | "reversed" => Ok(visit),
                _ => Err(conflict(
                    "visit_not_cancelable",
                    "The card was already used for this visit: it can no longer be cancelled.",
                )),
            }
        })
        .await?;
    Ok(Json(visit.to_wire()))
}
