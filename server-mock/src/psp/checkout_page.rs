//! The PSP's own card form: the page an invoice's payer is sent to, served by the PSP like
//! Stripe's hosted Checkout, so the card number goes to the PSP only and never through the
//! platform. The platform opens a session for an invoice ([`open_for_invoice`]: the invoice's
//! one live PaymentIntent, made if there is none) and redirects the browser to its URL,
//! `{public_url}/c/pay/{token}`, a 256-bit random token stored only as a hash. The return URL
//! (the payer's link, a bearer credential of its own) is sealed with the vault.
//!
//! `GET` shows the form (no JavaScript, never framed or cached, French or English by
//! `Accept-Language`); `POST` takes `card[number|exp_month|exp_year|cvc]`, checks it as
//! `POST /v1/payment_methods` does, stores a PaymentMethod (number and CVC sealed), and
//! confirms the intent with it. Then:
//! - succeeded: the payment is applied to the invoice in the same transaction (the intent
//!   carries its invoice: `invoices::intent_succeeded`) and the browser goes back (303) to the
//!   platform's page;
//! - 3-D Secure: the browser goes to the challenge page (`challenges.rs`), which comes back to
//!   `/c/pay/{token}/return`, where the same happens;
//! - declined: the form again, saying why, in the reader's language.
//!
//! A session lasts [`SESSION_SECS`] and pays one intent; once that intent has succeeded every
//! URL of the session goes back to the platform's page.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::json;
use tierspay_core::auth::{b64url, random, sha256};

use super::form;
use super::invoice_rules::Status as InvoiceStatus;
use super::invoices;
use super::model::{refuse, Ctx};
use super::payment_intents::{self, confirm_payment_intent, Confirm, Confirmed};
use super::payment_methods::{self, fingerprint, insert_payment_method, FINGERPRINT_PURPOSE};
use crate::http::{accept_language, ApiError};
use crate::state::AppState;

/// How long a checkout session can be used (Stripe's Checkout default: 24 hours).
pub const SESSION_SECS: i64 = 24 * 3600;
/// Longest return URL a session keeps.
const MAX_RETURN_URL: usize = 2048;
/// Longest payee name shown.
const MAX_PAYEE: usize = 140;

/// The checkout sessions table (one migration entry of [`super::MIGRATIONS`]).
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE psp_checkout_sessions (
        seq            INTEGER PRIMARY KEY,
        token_hash     TEXT NOT NULL UNIQUE,
        payment_intent TEXT NOT NULL,
        invoice        TEXT,
        payee          TEXT NOT NULL,
        return_url     TEXT NOT NULL, -- sealed: vault_seal('cs:' || token_hash, …)
        expires_at     INTEGER NOT NULL,
        created        INTEGER NOT NULL
    );
    CREATE INDEX psp_checkout_sessions_intent ON psp_checkout_sessions (payment_intent);
"#;

fn token_hash(token: &str) -> String {
    b64url(sha256(token.as_bytes()))
}

/// Opens a card form for what is left to pay on `invoice_id`; its URL. The invoice's live
/// PaymentIntent is reused while its amount still matches, else canceled and replaced
/// (`invoices::payment_intent_for`; the schema allows one live intent per invoice). `payee` is the name the form shows;
/// `return_url` is where the browser goes when the payment is over.
pub fn open_for_invoice(
    tx: &Connection,
    ctx: &Ctx,
    fingerprint_key: &[u8; 32],
    invoice_id: &str,
    payee: &str,
    return_url: &str,
) -> Result<String, ApiError> {
    if return_url.len() > MAX_RETURN_URL {
        return Err(form::invalid("return_url", "return_url is too long."));
    }
    let invoice = invoices::row(tx, invoice_id, "invoice")?;
    let remaining = invoice.amounts.remaining();
    if !matches!(
        invoice.status,
        InvoiceStatus::Open | InvoiceStatus::Uncollectible
    ) || remaining <= 0
    {
        return Err(refuse(
            "invoice_unexpected_state",
            Some("invoice"),
            format!("The invoice {invoice_id} has nothing left to pay by card."),
        ));
    }
    let intent = invoices::payment_intent_for(tx, ctx, fingerprint_key, &invoice)?;
    let token = random::secret("cs");
    let payee: String = payee.chars().take(MAX_PAYEE).collect();
    tx.execute(
        "INSERT INTO psp_checkout_sessions (token_hash, payment_intent, invoice, payee, return_url,
             expires_at, created) VALUES (?1, ?2, ?3, ?4, vault_seal('cs:' || ?1, ?5), ?6, ?7)",
        params![
            token_hash(&token),
            intent,
            invoice_id,
            payee,
            return_url,
            ctx.now + SESSION_SECS,
            ctx.now
        ],
    )?;
    Ok(format!(
        "{}/c/pay/{token}",
        ctx.base_url.as_deref().unwrap_or_default()
    ))
}

/// Where SEPA transfers for invoices go: the platform account's collection account at the PSP,
/// as Stripe gives an account bank-transfer details. A fixed test IBAN of the mock (valid check
/// digits); transfers to it are matched to their invoice by RF reference.
pub const TRANSFER_IBAN: &str = "FR7630006000011234567890189";
/// The collection account's BIC.
pub const TRANSFER_BIC: &str = "AGRIFRPPXXX";
/// The collection account's holder, as the payer's bank shows it.
pub const TRANSFER_NAME: &str = "TiersPay";

/// The last payment applied to an invoice, for its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceReceipt {
    /// Unix seconds.
    pub at: i64,
    /// `payment_intent`, `bank_transfer` or `out_of_band`.
    pub kind: String,
    /// The card's brand and last four digits, for a card payment.
    pub card: Option<(String, String)>,
}

/// The last payment applied to `invoice_id`, if any.
pub fn invoice_receipt(
    conn: &Connection,
    invoice_id: &str,
) -> Result<Option<InvoiceReceipt>, ApiError> {
    let last: Option<(String, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT source_kind, source_id, created FROM psp_invoice_payments
             WHERE invoice = ?1 ORDER BY seq DESC LIMIT 1",
        )?
        .query_row([invoice_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((kind, source, at)) = last else {
        return Ok(None);
    };
    let card = match (kind.as_str(), source) {
        ("payment_intent", Some(pi)) => conn
            .prepare_cached(
                "SELECT m.brand, m.last4 FROM psp_payment_intents i
                 JOIN psp_payment_methods m ON m.id = i.payment_method WHERE i.id = ?1",
            )?
            .query_row([pi], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?,
        _ => None,
    };
    Ok(Some(InvoiceReceipt { at, kind, card }))
}

/// Where the card payment of an invoice stands, for its page's status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAttempt {
    /// Waiting for the payer's 3-D Secure step.
    Pending,
    /// The last card tried was declined (or failed its authentication).
    Declined,
}

/// The invoice's live card attempt, if it is waiting or was declined.
pub fn invoice_card_attempt(
    conn: &Connection,
    invoice_id: &str,
) -> Result<Option<CardAttempt>, ApiError> {
    let Some(pi) = invoices::active_intent(conn, invoice_id)? else {
        return Ok(None);
    };
    let v = payment_intents::view(conn, &pi)?;
    Ok(match v.status.as_str() {
        "requires_action" => Some(CardAttempt::Pending),
        "requires_payment_method" if v.last_error_code.is_some() => Some(CardAttempt::Declined),
        _ => None,
    })
}

struct Session {
    intent: String,
    payee: String,
    return_url: String,
    expires_at: i64,
}

fn session(conn: &Connection, token: &str) -> Result<Option<Session>, ApiError> {
    Ok(conn
        .prepare_cached(
            "SELECT payment_intent, payee, vault_open('cs:' || token_hash, return_url), expires_at
             FROM psp_checkout_sessions WHERE token_hash = ?1",
        )?
        .query_row([token_hash(token)], |r| {
            Ok(Session {
                intent: r.get(0)?,
                payee: r.get(1)?,
                return_url: r.get(2)?,
                expires_at: r.get(3)?,
            })
        })
        .optional()?)
}

// ------------------------------------------------------------------- language

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Fr,
    En,
}

impl Lang {
    fn of(headers: &HeaderMap) -> Self {
        let header = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        match accept_language::preferred(header, &["fr", "en"]) {
            Some(1) => Lang::En,
            _ => Lang::Fr,
        }
    }

    fn money(self, minor: i64) -> String {
        match self {
            Lang::Fr => tierspay_core::domain::money::display_fr(minor),
            Lang::En => tierspay_core::domain::money::display_en(minor),
        }
    }
}

struct Texts {
    lang: &'static str,
    title: &'static str,
    payee: &'static str,
    amount: &'static str,
    intro: &'static str,
    number: &'static str,
    exp_month: &'static str,
    exp_year: &'static str,
    cvc: &'static str,
    pay: &'static str,
    back: &'static str,
    expired: &'static str,
    unknown: &'static str,
}

static FR: Texts = Texts {
    lang: "fr",
    title: "Paiement par carte",
    payee: "Bénéficiaire",
    amount: "Montant",
    intro: "Page sécurisée du prestataire de paiement de TiersPay. Votre numéro de carte n'est transmis qu'à lui.",
    number: "Numéro de carte",
    exp_month: "Mois d'expiration (MM)",
    exp_year: "Année d'expiration (AAAA)",
    cvc: "Code de sécurité (CVC)",
    pay: "Payer",
    back: "Revenir à la facture sans payer",
    expired: "Cette page de paiement a expiré. Revenez à la facture pour recommencer.",
    unknown: "Cette page de paiement n'existe pas.",
};

static EN: Texts = Texts {
    lang: "en",
    title: "Card payment",
    payee: "Payee",
    amount: "Amount",
    intro: "TiersPay's payment provider's secure page. Your card number goes to it only.",
    number: "Card number",
    exp_month: "Expiry month (MM)",
    exp_year: "Expiry year (YYYY)",
    cvc: "Security code (CVC)",
    pay: "Pay",
    back: "Back to the invoice without paying",
    expired: "This payment page has expired. Go back to the invoice to start again.",
    unknown: "This payment page does not exist.",
};

impl Lang {
    fn texts(self) -> &'static Texts {
        match self {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }

    /// Why a card was refused, in the reader's language, from Stripe's code; a code not listed
    /// reads as a plain decline.
    fn decline(self, code: &str) -> String {
        let (fr, en) = match code {
            "insufficient_funds" => (
                "Provision insuffisante. Essayez une autre carte.",
                "Insufficient funds. Try another card.",
            ),
            "expired_card" | "invalid_expiry_month" | "invalid_expiry_year" => (
                "La date d'expiration de la carte n'est pas valable.",
                "The card's expiry date is not valid.",
            ),
            "incorrect_cvc" | "invalid_cvc" => (
                "Le code de sécurité de la carte est incorrect.",
                "The card's security code is incorrect.",
            ),
            "invalid_number" | "incorrect_number" => (
                "Le numéro de carte n'est pas valable.",
                "The card number is not valid.",
            ),
            "processing_error" => (
                "Une erreur est survenue pendant le paiement. Réessayez.",
                "An error occurred while processing the card. Try again.",
            ),
            "authentication_failure" | "payment_intent_authentication_failure" => (
                "L'authentification 3-D Secure a échoué. Le paiement n'a pas été fait.",
                "3-D Secure authentication failed. Nothing was paid.",
            ),
            "parameter_missing" | "parameter_invalid_integer" | "parameter_invalid_empty" => (
                "Remplissez chaque champ de la carte.",
                "Fill in every field of the card.",
            ),
            // lost_card, stolen_card, generic_decline and anything else: no detail to act on.
            _ => (
                "Votre carte a été refusée. Essayez une autre carte.",
                "Your card was declined. Try another card.",
            ),
        };
        match self {
            Lang::Fr => fr.to_owned(),
            Lang::En => en.to_owned(),
        }
    }
}

// ------------------------------------------------------------------- pages

#[derive(Template)]
#[template(path = "psp/checkout.html")]
struct FormPage<'a> {
    t: &'static Texts,
    payee: &'a str,
    amount: String,
    error: Option<String>,
    bad_field: &'a str,
    back: &'a str,
}

#[derive(Template)]
#[template(path = "psp/message.html")]
struct MessagePage<'a> {
    t: &'static Texts,
    text: &'a str,
    back: Option<&'a str>,
}

fn page(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return ApiError::internal(&format!("checkout template: {e}")).into_response(),
    };
    let mut r = (status, Html(body)).into_response();
    // A card form: never framed, never cached, posting only to itself.
    let h = r.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

fn message(lang: Lang, status: StatusCode, text: &str, back: Option<&str>) -> Response {
    page(
        status,
        MessagePage {
            t: lang.texts(),
            text,
            back,
        }
        .render(),
    )
}

fn see_other(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => ApiError::internal("checkout redirect is not a header value").into_response(),
    }
}

fn form_page(
    lang: Lang,
    status: StatusCode,
    s: &Session,
    amount: i64,
    error: Option<(String, &'static str)>,
) -> Response {
    let (error, bad_field) = match error {
        Some((text, field)) => (Some(text), field),
        None => (None, ""),
    };
    page(
        status,
        FormPage {
            t: lang.texts(),
            payee: &s.payee,
            amount: lang.money(amount),
            error,
            bad_field,
            back: &s.return_url,
        }
        .render(),
    )
}

/// The card form page and its return from 3-D Secure.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/c/pay/{token}", get(show).post(submit))
        .route("/c/pay/{token}/return", get(back_from_challenge))
}

fn ctx_of(state: &AppState) -> Ctx {
    Ctx {
        base_url: Some(state.public_url.trim_end_matches('/').to_owned()),
        ..Ctx::at(state.clock.now())
    }
}

/// What a session's page should do now.
enum Next {
    Unknown,
    Expired(String),
    /// The intent succeeded (and is applied): back to the platform's page.
    Done(String),
    /// Waiting for 3-D Secure.
    Challenge(String),
    /// The form, with the intent's amount and the last refusal, if any: its code and the
    /// form field at fault (empty for a decline).
    Form(Session, i64, Option<(String, String)>),
}

fn next_step(tx: &Connection, ctx: &Ctx, token: &str) -> Result<Next, ApiError> {
    let Some(s) = session(tx, token)? else {
        return Ok(Next::Unknown);
    };
    let pi = payment_intents::view(tx, &s.intent)?;
    match pi.status.as_str() {
        // Its invoice was paid in the same transaction (`invoices::intent_succeeded`).
        "succeeded" => Ok(Next::Done(s.return_url)),
        _ if ctx.now >= s.expires_at => Ok(Next::Expired(s.return_url)),
        "requires_action" => Ok(Next::Challenge(pi.redirect_url.unwrap_or_default())),
        "requires_payment_method" | "requires_confirmation" => {
            let last = pi
                .last_decline_code
                .clone()
                .or(pi.last_error_code.clone())
                .map(|code| (code, String::new()));
            Ok(Next::Form(s, pi.amount, last))
        }
        // Canceled (the invoice changed, or paid another way) or held: nothing to do here.
        _ => Ok(Next::Expired(s.return_url)),
    }
}

fn answer(lang: Lang, next: Result<Next, ApiError>) -> Response {
    let t = lang.texts();
    match next {
        Err(e) => message(lang, e.status, &e.detail.message, None),
        Ok(Next::Unknown) => message(lang, StatusCode::NOT_FOUND, t.unknown, None),
        Ok(Next::Expired(back)) => message(lang, StatusCode::GONE, t.expired, Some(&back)),
        Ok(Next::Done(back)) => see_other(&back),
        Ok(Next::Challenge(url)) => see_other(&url),
        Ok(Next::Form(s, amount, last)) => {
            let status = match &last {
                None => StatusCode::OK,
                Some((_, field)) if !field.is_empty() && !field.starts_with("card[") => {
                    StatusCode::BAD_REQUEST
                }
                Some(_) => StatusCode::PAYMENT_REQUIRED,
            };
            let error = last.map(|(code, field)| {
                let bad = match field.as_str() {
                    "card[number]" => "number",
                    "card[exp_month]" => "exp_month",
                    "card[exp_year]" => "exp_year",
                    "card[cvc]" => "cvc",
                    _ => "",
                };
                (lang.decline(&code), bad)
            });
            form_page(lang, status, &s, amount, error)
        }
    }
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let ctx = ctx_of(&state);
    let next = state
        .db
        .transaction(move |tx| {
            let next = next_step(tx, &ctx, &token)?;
            // A first visit shows a clean form: an old refusal is shown only right after it.
            Ok(match next {
                Next::Form(s, amount, _) => Next::Form(s, amount, None),
                other => other,
            })
        })
        .await;
    answer(lang, next)
}

async fn back_from_challenge(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::of(&headers);
    let ctx = ctx_of(&state);
    let next = state
        .db
        .transaction(move |tx| next_step(tx, &ctx, &token))
        .await;
    answer(lang, next)
}

fn read_card(body: &Bytes, now: i64) -> Result<payment_methods::CardInput, ApiError> {
    let mut f = form::parse(body)?;
    let card = payment_methods::read_card(&mut f, now)?;
    f.finish()?;
    Ok(card)
}

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::of(&headers);
    let ctx = ctx_of(&state);
    let key = state.vault.subkey(FINGERPRINT_PURPOSE);
    let card = read_card(&body, ctx.now);
    let next = state
        .db
        .transaction(move |tx| {
            let step = next_step(tx, &ctx, &token)?;
            let Next::Form(s, amount, _) = step else {
                return Ok(step);
            };
            // A refused form field is shown on the form; nothing is stored.
            let card = match card {
                Ok(card) => card,
                Err(e) => {
                    let code = e.detail.code.clone();
                    let field = e.detail.param.clone().unwrap_or_default();
                    return Ok(Next::Form(s, amount, Some((code, field))));
                }
            };
            let fp = fingerprint(&key, &card.number);
            let pm = insert_payment_method(tx, &ctx, &card, &fp, json!({}), Default::default())?;
            let return_url = format!(
                "{}/c/pay/{token}/return",
                ctx.base_url.as_deref().unwrap_or_default()
            );
            let confirmed = confirm_payment_intent(
                tx,
                &ctx,
                &key,
                &s.intent,
                Confirm {
                    payment_method: Some(pm),
                    off_session: Some(false),
                    return_url: Some(return_url),
                },
            )?;
            match confirmed {
                Confirmed::Declined(v, _) => {
                    let code = v
                        .last_decline_code
                        .or(v.last_error_code)
                        .unwrap_or_default();
                    Ok(Next::Form(s, amount, Some((code, String::new()))))
                }
                Confirmed::Ok(_) => next_step(tx, &ctx, &token),
            }
        })
        .await;
    answer(lang, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decline_is_said_in_the_readers_language_and_an_unknown_code_plainly() {
        assert_eq!(
            Lang::Fr.decline("insufficient_funds"),
            "Provision insuffisante. Essayez une autre carte."
        );
        assert_eq!(
            Lang::En.decline("payment_intent_authentication_failure"),
            "3-D Secure authentication failed. Nothing was paid."
        );
        assert_eq!(
            Lang::En.decline("stolen_card"),
            Lang::En.decline("something_new")
        );
        assert!(Lang::Fr
            .decline("parameter_missing")
            .contains("chaque champ"));
    }

    #[test]
    fn the_form_labels_every_field_and_escapes_the_payee() {
        let html = FormPage {
            t: Lang::En.texts(),
            payee: "<b>Mutuelle</b>",
            amount: Lang::En.money(4250),
            error: Some("Your card was declined.".into()),
            bad_field: "number",
            back: "/l/t",
        }
        .render()
        .expect("page");
        for id in ["number", "exp_month", "exp_year", "cvc"] {
            assert!(html.contains(&format!("<label for=\"{id}\">")), "{id}");
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        }
        assert!(html.contains("&#60;b&#62;Mutuelle&#60;/b&#62;"));
        assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"card-error\""));
        assert!(html.contains("role=\"alert\""));
        assert!(!html.contains("<script"));
        assert!(html.contains("Pay €42.50"));
    }
}
