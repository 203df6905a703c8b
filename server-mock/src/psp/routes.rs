//! The PSP's HTTP endpoints, in Stripe's wire format: form-encoded parameters (bodies and query
//! strings), `sk_test_…` secret keys, `expand[]`, lists, Stripe-shaped errors naming the param.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Map, Value};
use tierspay_core::domain::wallet::controls::{SpendingControls, SpendingLimit};
use tierspay_core::domain::wallet::hex_decode;

use super::api::{self, ActivationProof, NewCard, NewCardholder};
use super::form::{self, invalid, Fields};
use super::model::{self, card_row, Ctx, Paging};
use crate::http::{ApiError, Caller};
use crate::state::AppState;

/// The PSP routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/issuing/cardholders",
            post(create_cardholder).get(list_cardholders),
        )
        .route(
            "/v1/issuing/cardholders/{id}",
            get(get_cardholder).post(update_cardholder),
        )
        .route("/v1/issuing/cards", post(create_card).get(list_cards))
        .route("/v1/issuing/cards/{id}", get(get_card).post(update_card))
        .route(
            "/v1/issuing/cards/{id}/push_provisioning_details",
            get(push_provisioning_details),
        )
        .route(
            "/v1/issuing/cards/{id}/google_pay_provisioning",
            post(google_pay_provisioning),
        )
        .route("/v1/issuing/tokens", get(list_tokens))
        .route("/v1/issuing/tokens/{id}", get(get_token).post(update_token))
        .route("/v1/events", get(list_events))
        .route("/v1/events/{id}", get(get_event))
        .route("/v1/test_helpers/issuing/apple_root", post(set_apple_root))
        .route(
            "/v1/test_helpers/issuing/tokens/{id}/activate",
            post(activate_token),
        )
        .route(
            "/v1/test_helpers/issuing/tokens/{id}/require_identity_verification",
            post(require_identity_verification),
        )
}

/// An authenticated PSP request: a known secret key (checked by the authentication layer),
/// business time, the idempotency key.
pub struct Psp {
    ctx: Ctx,
}

impl FromRequestParts<AppState> for Psp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(Caller::ApiKey { key }) = parts.extensions.get::<Caller>().cloned() else {
            return Err(ApiError::unauthorized(
                "api_key_missing",
                "You did not provide an API key. Send it as `Authorization: Bearer sk_test_…`.",
            ));
        };
        // The authentication layer refused unknown keys already; a publishable key is known
        // but cannot call the issuer's secret endpoints.
        if !key.starts_with("sk_") {
            return Err(ApiError::unauthorized(
                "secret_key_required",
                "This API call cannot be made with a publishable or restricted API key; use a secret key (sk_…).",
            ));
        }
        let idempotency_key = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(Self {
            ctx: Ctx {
                now: state.clock.now(),
                idempotency_key,
            },
        })
    }
}

fn body_fields(headers: &HeaderMap, body: &Bytes) -> Result<Fields, ApiError> {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json && !body.is_empty() {
        return Err(ApiError::invalid(
            "content_type_invalid",
            "Send parameters form-encoded (application/x-www-form-urlencoded), as Stripe's API expects.",
        )
        .not_executed());
    }
    form::parse(body)
}

fn query_fields(uri: &Uri) -> Result<Fields, ApiError> {
    form::parse(uri.query().unwrap_or_default().as_bytes())
}

fn to_map(changes: Option<form::MetadataChanges>) -> Map<String, Value> {
    let mut m = Map::new();
    form::merge_metadata(&mut m, changes.unwrap_or_default());
    m
}

// ------------------------------------------------------------------- cardholders

fn read_address(
    billing: Option<Fields>,
    current: Option<Value>,
) -> Result<Option<Value>, ApiError> {
    let Some(mut billing) = billing else {
        return Ok(None);
    };
    let mut address = billing.map("address")?.ok_or_else(|| {
        invalid(
            "billing[address]",
            "Missing required param: billing[address].",
        )
    })?;
    let mut out = current.unwrap_or_else(|| json!({"line2": null, "state": null}));
    for key in ["line1", "line2", "city", "state", "postal_code", "country"] {
        if let Some(v) = address.str(key)? {
            if v.chars().count() > 200 {
                return Err(invalid(
                    &address.name(key),
                    "Must be at most 200 characters.",
                ));
            }
            out[key] = if v.is_empty() {
                Value::Null
            } else {
                Value::String(v)
            };
        }
    }
    for key in ["line1", "city", "postal_code", "country"] {
        if out.get(key).and_then(Value::as_str).is_none() {
            let name = address.name(key);
            return Err(invalid(&name, format!("Missing required param: {name}.")));
        }
    }
    let country = out["country"].as_str().unwrap_or_default();
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            &address.name("country"),
            "Must be an ISO 3166-1 alpha-2 country code such as FR.",
        ));
    }
    address.finish()?;
    billing.finish()?;
    Ok(Some(out))
}

fn check_contact(f: &mut Fields) -> Result<(Option<String>, Option<String>), ApiError> {
    let email = f.str("email")?;
    if let Some(e) = &email {
        if !e.is_empty() && (!e.contains('@') || e.len() > 800) {
            return Err(invalid("email", "Invalid email address."));
        }
    }
    let phone = f.str("phone_number")?;
    if let Some(p) = &phone {
        let digits = p.strip_prefix('+').unwrap_or(p);
        if !p.is_empty()
            && (!p.starts_with('+')
                || !(6..=15).contains(&digits.len())
                || !digits.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(
                "phone_number",
                "Must be in E.164 format, such as +33612345678.",
            ));
        }
    }
    Ok((email, phone))
}

fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() || name.chars().count() > 24 {
        return Err(invalid(
            "name",
            "The name must be 1 to 24 characters (it is printed on cards).",
        ));
    }
    Ok(())
}

async fn create_cardholder(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let name = f.required("name")?;
    check_name(&name)?;
    let (email, phone_number) = check_contact(&mut f)?;
    let kind = f
        .one_of("type", &["individual", "company"])?
        .unwrap_or_else(|| "individual".into());
    let status = f
        .one_of("status", &["active", "inactive"])?
        .unwrap_or_else(|| "active".into());
    let billing_address = read_address(f.map("billing")?, None)?
        .ok_or_else(|| invalid("billing", "Missing required param: billing."))?;
    let metadata = to_map(f.metadata()?);
    let expand = f.expand()?;
    if !expand.is_empty() {
        return Err(invalid("expand", "This object has no expandable fields."));
    }
    f.finish()?;
    let new = NewCardholder {
        name,
        email: email.filter(|e| !e.is_empty()),
        phone_number: phone_number.filter(|p| !p.is_empty()),
        kind,
        status,
        billing_address,
        metadata,
        member_ref_hash: None,
    };
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let id = api::insert_cardholder(tx, &ctx, new)?;
            model::cardholder_json(tx, &id)
        })
        .await?;
    Ok(Json(doc))
}

async fn get_cardholder(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| model::cardholder_json(conn, &id).map_err(|e| rename_param(e, "id")))
        .await?;
    Ok(Json(doc))
}

fn rename_param(mut e: ApiError, param: &str) -> ApiError {
    if e.detail.code == "resource_missing" {
        e.detail.param = Some(param.into());
    }
    e
}

async fn update_cardholder(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let name = f.str("name")?;
    if let Some(n) = &name {
        check_name(n)?;
    }
    let (email, phone) = check_contact(&mut f)?;
    let status = f.one_of("status", &["active", "inactive"])?;
    let billing_fields = f.map("billing")?;
    let metadata = f.metadata()?;
    f.expand()?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let before = model::cardholder_json(tx, &id).map_err(|e| rename_param(e, "id"))?;
            let billing = read_address(billing_fields, Some(before["billing"]["address"].clone()))?;
            let mut meta = before["metadata"].as_object().cloned().unwrap_or_default();
            form::merge_metadata(&mut meta, metadata.unwrap_or_default());
            tx.execute(
                "UPDATE psp_cardholders SET
                   name = COALESCE(?2, name),
                   email = CASE WHEN ?3 IS NULL THEN email WHEN ?3 = '' THEN NULL ELSE ?3 END,
                   phone_number = CASE WHEN ?4 IS NULL THEN phone_number WHEN ?4 = '' THEN NULL ELSE ?4 END,
                   status = COALESCE(?5, status),
                   billing = COALESCE(?6, billing),
                   metadata = ?7
                 WHERE id = ?1",
                rusqlite::params![
                    id,
                    name,
                    email,
                    phone,
                    status,
                    billing.map(|b| b.to_string()),
                    Value::Object(meta).to_string()
                ],
            )?;
            let after = model::cardholder_json(tx, &id)?;
            model::emit_update(tx, &ctx, "issuing_cardholder", &before, &after)?;
            Ok(after)
        })
        .await?;
    Ok(Json(doc))
}

async fn list_cardholders(
    State(state): State<AppState>,
    _psp: Psp,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let status = f.one_of("status", &["active", "inactive", "blocked"])?;
    let kind = f.one_of("type", &["individual", "company"])?;
    let email = f.str("email")?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_cardholders",
                "(?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR email = ?3)",
                &[&status, &kind, &email],
                &paging,
            )?;
            let data = ids.iter().map(|id| model::cardholder_json(conn, id)).collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/cardholders"))
        })
        .await?;
    Ok(Json(doc))
}

// ------------------------------------------------------------------- cards

fn read_controls(
    fields: Option<Fields>,
    base: SpendingControls,
) -> Result<SpendingControls, ApiError> {
    let Some(mut sc) = fields else {
        return Ok(base);
    };
    let mut c = base;
    let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
    if let Some(v) = sc.strings("allowed_categories")? {
        c.allowed_categories = some(v);
    }
    if let Some(v) = sc.strings("blocked_categories")? {
        c.blocked_categories = some(v);
    }
    if let Some(v) = sc.strings("allowed_merchant_countries")? {
        c.allowed_merchant_countries = some(v);
    }
    if let Some(v) = sc.strings("blocked_merchant_countries")? {
        c.blocked_merchant_countries = some(v);
    }
    if let Some(items) = sc.list("spending_limits")? {
        let mut limits = Vec::with_capacity(items.len());
        for item in items {
            let mut m = Fields::item_map(item)?;
            let amount_name = m.name("amount");
            let amount = m.int("amount")?.ok_or_else(|| {
                invalid(
                    &amount_name,
                    format!("Missing required param: {amount_name}."),
                )
            })?;
            let categories = m.strings("categories")?.filter(|v| !v.is_empty());
            let interval = m.required("interval")?;
            m.finish()?;
            limits.push(SpendingLimit {
                amount,
                categories,
                interval,
            });
        }
        c.spending_limits = limits;
    }
    if let Some(cur) = sc.str("spending_limits_currency")? {
        c.spending_limits_currency = (!cur.is_empty()).then_some(cur);
    }
    sc.finish()?;
    if !c.spending_limits.is_empty() && c.spending_limits_currency.is_none() {
        c.spending_limits_currency = Some("eur".into());
    }
    c.validate("spending_controls")
        .map_err(|e| invalid(&e.field, format!("{}: {}.", e.field, e.message)))?;
    Ok(c)
}

fn check_expand(expand: &[String]) -> Result<(), ApiError> {
    for e in expand {
        if !matches!(e.as_str(), "cardholder" | "number" | "cvc") {
            return Err(invalid(
                "expand",
                format!(
                    "This property cannot be expanded ({e}). Expandable: cardholder, number, cvc."
                ),
            ));
        }
    }
    Ok(())
}

async fn create_card(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let cardholder_id = f.required("cardholder")?;
    let currency = f.required("currency")?;
    if !currency.eq_ignore_ascii_case("eur") {
        return Err(invalid("currency", "Cards of this issuer are in eur only."));
    }
    let kind = f.required("type")?;
    if kind != "virtual" {
        return Err(invalid(
            "type",
            "Only virtual cards are issued here (type=virtual).",
        ));
    }
    let status = f
        .one_of("status", &["active", "inactive"])?
        .unwrap_or_else(|| "inactive".into());
    let spending_controls =
        read_controls(f.map("spending_controls")?, SpendingControls::default())?;
    let metadata = to_map(f.metadata()?);
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let new = NewCard {
        cardholder_id,
        status,
        spending_controls,
        metadata,
    };
    let doc = state
        .db
        .transaction(move |tx| {
            let row = api::insert_card(tx, &ctx, new)?;
            model::card_json(tx, &row, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn get_card(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let row = card_row(conn, &id, "id")?;
            model::card_json(conn, &row, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn update_card(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let status = f.one_of("status", &["active", "inactive", "canceled"])?;
    let reason = f.one_of("cancellation_reason", &["lost", "stolen"])?;
    if reason.is_some() && status.as_deref() != Some("canceled") {
        return Err(invalid(
            "cancellation_reason",
            "cancellation_reason can only be set with status=canceled.",
        ));
    }
    let controls_fields = f.map("spending_controls")?;
    let metadata = f.metadata()?;
    let expand = f.expand()?;
    check_expand(&expand)?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let before = card_row(tx, &id, "id")?;
            if controls_fields.is_some() {
                let controls = read_controls(controls_fields, before.spending_controls.clone())?;
                if before.status == "canceled" {
                    return Err(ApiError::invalid(
                        "card_canceled",
                        "This card is canceled; it cannot be changed.",
                    ));
                }
                tx.execute(
                    "UPDATE psp_cards SET spending_controls = ?2 WHERE id = ?1",
                    rusqlite::params![
                        id,
                        serde_json::to_string(&controls)
                            .map_err(|e| ApiError::internal(&e.to_string()))?
                    ],
                )?;
            }
            if let Some(changes) = metadata {
                let mut meta = before.metadata.as_object().cloned().unwrap_or_default();
                form::merge_metadata(&mut meta, changes);
                tx.execute(
                    "UPDATE psp_cards SET metadata = ?2 WHERE id = ?1",
                    rusqlite::params![id, Value::Object(meta).to_string()],
                )?;
            }
            if let Some(status) = &status {
                api::change_card_status(tx, &ctx, &before, status, reason.as_deref())?;
            }
            let after = card_row(tx, &id, "id")?;
            model::emit_update(
                tx,
                &ctx,
                "issuing_card",
                &model::card_json(tx, &before, &[])?,
                &model::card_json(tx, &after, &[])?,
            )?;
            model::card_json(tx, &after, &expand)
        })
        .await?;
    Ok(Json(doc))
}

async fn list_cards(
    State(state): State<AppState>,
    _psp: Psp,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let cardholder = f.str("cardholder")?;
    let status = f.one_of("status", &["active", "inactive", "canceled"])?;
    let kind = f.one_of("type", &["virtual", "physical"])?;
    let last4 = f.str("last4")?;
    let exp_month = f.int("exp_month")?;
    let exp_year = f.int("exp_year")?;
    let expand = f.expand()?;
    let data_expand: Vec<String> = expand
        .iter()
        .filter_map(|e| e.strip_prefix("data.").map(str::to_owned))
        .collect();
    if data_expand.len() != expand.len() {
        return Err(invalid(
            "expand",
            "In a list, expand fields of its items as data.<field>.",
        ));
    }
    check_expand(&data_expand)?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_cards",
                "(?1 IS NULL OR cardholder_id = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR type = ?3)
                 AND (?4 IS NULL OR last4 = ?4) AND (?5 IS NULL OR exp_month = ?5) AND (?6 IS NULL OR exp_year = ?6)",
                &[&cardholder, &status, &kind, &last4, &exp_month, &exp_year],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| card_row(conn, id, "id").and_then(|row| model::card_json(conn, &row, &data_expand)))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/cards"))
        })
        .await?;
    Ok(Json(doc))
}

// ------------------------------------------------------------------- provisioning

fn decode_b64(text: &str, param: &str) -> Result<Vec<u8>, ApiError> {
    // A `+` left unescaped in a query string arrives as a space: put it back.
    let t = text.trim().replace(' ', "+");
    let t = t.as_str();
    base64::engine::general_purpose::STANDARD
        .decode(t)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t.trim_end_matches('='))
        })
        .map_err(|_| invalid(param, format!("{param} must be base64.")))
}

async fn push_provisioning_details(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let mut ios = f.map("ios")?.ok_or_else(|| {
        invalid(
            "ios",
            "Missing required param: ios (certificates, nonce, nonce_signature).",
        )
    })?;
    let certificates = ios
        .list("certificates")?
        .ok_or_else(|| {
            invalid(
                "ios[certificates]",
                "Missing required param: ios[certificates].",
            )
        })?
        .into_iter()
        .map(|(name, node)| match node {
            form::Node::Str(s) => decode_b64(&s, &name),
            _ => Err(invalid(
                &name,
                format!("{name} must be a base64 DER certificate."),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let hex = |ios: &mut Fields, key: &str| -> Result<Vec<u8>, ApiError> {
        let name = ios.name(key);
        let text = ios.required(key)?;
        hex_decode(&text).ok_or_else(|| invalid(&name, format!("{name} must be hexadecimal.")))
    };
    let nonce = hex(&mut ios, "nonce")?;
    let nonce_signature = hex(&mut ios, "nonce_signature")?;
    ios.finish()?;
    f.expand()?;
    f.finish()?;
    let ctx = psp.ctx;
    let payload = state
        .db
        .transaction(move |tx| api::apple(tx, &ctx, &id, &certificates, &nonce, &nonce_signature))
        .await?;
    Ok(Json(json!({
        "object": "issuing.push_provisioning_details",
        "contents": payload.contents,
        "activation_data": payload.activation_data,
        "ephemeral_public_key": payload.ephemeral_public_key,
        "token": payload.token_id,
    })))
}

async fn google_pay_provisioning(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let wallet_account_id = f.required("wallet_account_id")?;
    let device_id = f.required("device_id")?;
    f.finish()?;
    let ctx = psp.ctx;
    let p = state
        .db
        .transaction(move |tx| api::google(tx, &ctx, &id, &wallet_account_id, &device_id))
        .await?;
    Ok(Json(json!({
        "object": "issuing.google_pay_provisioning",
        "opaque_payment_card": p.opc,
        "network": p.network,
        "network_name": "VISA",
        "token_service_provider": p.tsp,
        "display_name": p.display_name,
        "last_digits": p.last_digits,
        "user_address": p.user_address,
        "token": p.token_id,
        "expires_in": api::OPC_TTL_SECS,
    })))
}

// ------------------------------------------------------------------- tokens

async fn list_tokens(
    State(state): State<AppState>,
    _psp: Psp,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    let card = f.required("card")?;
    let status = f.one_of("status", &["requested", "active", "suspended", "deleted"])?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            card_row(conn, &card, "card")?;
            let (ids, more) = model::page(
                conn,
                "psp_tokens",
                "card_id = ?1 AND (?2 IS NULL OR status = ?2)",
                &[&card, &status],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| model::token_row(conn, id).map(|t| model::token_json(&t)))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/issuing/tokens"))
        })
        .await?;
    Ok(Json(doc))
}

async fn get_token(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    f.expand()?;
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            model::token_row(conn, &id)
                .map(|t| model::token_json(&t))
                .map_err(|e| rename_param(e, "id"))
        })
        .await?;
    Ok(Json(doc))
}

async fn update_token(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let status = f
        .one_of("status", &["active", "suspended", "deleted"])?
        .ok_or_else(|| invalid("status", "Missing required param: status."))?;
    f.expand()?;
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let t =
                api::set_token_status(tx, &ctx, &id, &status).map_err(|e| rename_param(e, "id"))?;
            Ok(model::token_json(&t))
        })
        .await?;
    Ok(Json(doc))
}

// ------------------------------------------------------------------- events

async fn list_events(
    State(state): State<AppState>,
    _psp: Psp,
    uri: Uri,
) -> Result<Json<Value>, ApiError> {
    let mut f = query_fields(&uri)?;
    let paging = Paging::read(&mut f)?;
    // `type=issuing_card.*` matches every issuing_card event, as Stripe's filter does.
    let kind = f.str("type")?.map(|t| t.replace('*', "%"));
    f.finish()?;
    let doc = state
        .db
        .call(move |conn| {
            let (ids, more) = model::page(
                conn,
                "psp_events",
                "?1 IS NULL OR type LIKE ?1",
                &[&kind],
                &paging,
            )?;
            let data = ids
                .iter()
                .map(|id| model::event_json(conn, id))
                .collect::<Result<_, _>>()?;
            Ok(model::list_json(data, more, "/v1/events"))
        })
        .await?;
    Ok(Json(doc))
}

async fn get_event(
    State(state): State<AppState>,
    _psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let doc = state
        .db
        .call(move |conn| model::event_json(conn, &id))
        .await?;
    Ok(Json(doc))
}

// ------------------------------------------------------------------- test helpers

async fn set_apple_root(
    State(state): State<AppState>,
    psp: Psp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let certificate = f.required("certificate")?;
    f.finish()?;
    let bytes = if certificate.contains("-----BEGIN") {
        certificate.into_bytes()
    } else {
        decode_b64(&certificate, "certificate")?
    };
    let now = psp.ctx.now;
    let fingerprint = state
        .db
        .transaction(move |tx| api::set_apple_root(tx, &bytes, now))
        .await?;
    Ok(Json(
        json!({ "object": "apple_root", "fingerprint_sha256": fingerprint, "source": "api" }),
    ))
}

async fn activate_token(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut f = body_fields(&headers, &body)?;
    let activation_data = f.str("activation_data")?;
    let opc = f.str("opaque_payment_card")?;
    let proof = match (activation_data, opc) {
        (Some(activation_data), None) => ActivationProof::Apple { activation_data },
        (None, Some(opaque_payment_card)) => ActivationProof::Google {
            opaque_payment_card,
            wallet_account_id: f.required("wallet_account_id")?,
            device_id: f.required("device_id")?,
        },
        _ => {
            return Err(invalid(
                "activation_data",
                "Send activation_data (Apple Pay) or opaque_payment_card with wallet_account_id and device_id (Google Pay).",
            ))
        }
    };
    f.finish()?;
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let t = api::activate_token(tx, &ctx, &id, proof).map_err(|e| rename_param(e, "id"))?;
            Ok(model::token_json(&t))
        })
        .await?;
    Ok(Json(doc))
}

async fn require_identity_verification(
    State(state): State<AppState>,
    psp: Psp,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ctx = psp.ctx;
    let doc = state
        .db
        .transaction(move |tx| {
            let t = api::require_identity_verification(tx, &ctx, &id)
                .map_err(|e| rename_param(e, "id"))?;
            Ok(model::token_json(&t))
        })
        .await?;
    Ok(Json(doc))
}
