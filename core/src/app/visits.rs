//! Visits paid with the virtual card: authorize one from the preview the member saw (the card
//! is then armed for this visit only), follow it (armed → authorized → paid, or canceled,
//! expired, reversed), cancel it, and keep every visit the phone learned of for the history
//! offline. The authorize POST is written to the store with its idempotency key before it is
//! sent, so a retry, even after a restart, arms no second visit.

use reqwest::Method;

use super::flows::visit::PricingRequest;
use super::Core;
use crate::auth::random;
use crate::domain::money;
use crate::error::{Error, Result};
use crate::wire::{AuthorizeVisitRequest, ErrorCode, StalePreview, Visit, VisitList};

/// The pending-request purpose of `POST /v1/visits`.
pub const AUTHORIZE_PURPOSE: &str = "visit.authorize";
/// Visits asked per `GET /v1/visits`.
const LIST_LIMIT: u32 = 100;

/// Why the server did not arm the visit.
#[derive(Debug)]
pub enum AuthorizeRefusal {
    /// The figures no longer hold: the server's, to show and authorize instead.
    Stale(StalePreview),
    /// The member's own card was declined for the member's share.
    Declined {
        /// Stripe's decline code (`insufficient_funds`, …).
        decline_code: String,
    },
    /// Anything else (network, another visit armed, input): as an error.
    Failed(Error),
}

impl From<Error> for AuthorizeRefusal {
    fn from(e: Error) -> Self {
        Self::Failed(e)
    }
}

/// A visit id the phone puts in a path: `vis_` and base64url (letters, digits, `_`, `-`),
/// bounded; never `/`, `.`, `?` or `%`.
fn check_visit_id(id: &str) -> Result<&str> {
    let ok = id.starts_with("vis_")
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid("visit_id", "is not a visit id (vis_…)"))
    }
}

/// Refuses a visit document the phone cannot trust to draw (a bad id would reach paths).
fn check_visit(v: Visit) -> Result<Visit> {
    check_visit_id(&v.id).map_err(|_| Error::Protocol("the server's visit has a bad id".into()))?;
    if v.price < 0 || v.amo < 0 || v.amc < 0 || v.member < 0 {
        return Err(Error::Protocol(
            "the server's visit has a negative amount".into(),
        ));
    }
    Ok(v)
}

impl Core {
    /// Arms the card for the visit priced from `request`: the phone's figures when `quote` is
    /// `None` (they must still be `expected_preview_id`'s, the ones the member saw), or the
    /// server's figures of a stale answer the member accepted.
    pub async fn authorize_visit(
        &self,
        request: &PricingRequest,
        expected_preview_id: Option<&str>,
        quote: Option<&StalePreview>,
    ) -> std::result::Result<Visit, AuthorizeRefusal> {
        let priced = self.preview(
            &request.beneficiary_id,
            &request.provider_id,
            &request.act_code,
            &request.price,
            request.date.as_deref(),
        )?;
        let (preview_id, amo, amc, member) = match quote {
            Some(q) => (q.preview_id.clone(), q.amo, q.amc, q.member),
            None => {
                if expected_preview_id.is_some_and(|id| id != priced.preview.id) {
                    return Err(Error::invalid(
                        "preview_id",
                        "the figures changed since they were shown; price the visit again",
                    )
                    .into());
                }
                let q = &priced.preview.quote;
                (
                    priced.preview.id.clone(),
                    money::to_cents(q.amo),
                    money::to_cents(q.amc),
                    money::to_cents(q.member),
                )
            }
        };
        let body = AuthorizeVisitRequest {
            beneficiary_id: priced.beneficiary_id.clone(),
            provider_id: priced.provider.id.clone(),
            act_code: priced.act_code.clone(),
            price: money::to_cents(priced.price),
            currency: "eur".into(),
            date: priced.date.to_string(),
            preview_id,
            amo,
            amc,
            member,
        };
        let json = serde_json::to_string(&body).map_err(|e| Error::Internal(e.to_string()))?;
        // Written before sending: a crash after the server armed the visit but before the
        // answer leaves the key here, and the member's retry replays that visit.
        let key = self.store()?.pending_key(
            AUTHORIZE_PURPOSE,
            &json,
            || random::id("idk"),
            crate::net::unix_now(),
        )?;
        let answer = self
            .authed_keyed(
                Method::POST,
                "/v1/visits",
                Some(json.into_bytes()),
                Some(key.clone()),
            )
            .await;
        let settled = !matches!(
            &answer,
            Err(Error::Network(_) | Error::Api { status: 500.., .. })
        ) && answer.as_ref().err().and_then(Error::api_code)
            != Some(ErrorCode::IdempotencyKeyInUse.as_str());
        if settled {
            self.store()?.finish_pending(AUTHORIZE_PURPOSE, &key)?;
        }
        match answer {
            Ok(response) => {
                let visit = check_visit(response.json()?)?;
                self.remember_visits(std::slice::from_ref(&visit))?;
                Ok(visit)
            }
            Err(Error::Api {
                status: 409,
                detail,
                extra,
                ..
            }) if ErrorCode::parse(&detail.code) == ErrorCode::PreviewStale => {
                let quote = extra
                    .and_then(|mut m| m.remove("quote"))
                    .and_then(|q| serde_json::from_value::<StalePreview>(q).ok())
                    .ok_or_else(|| {
                        Error::Protocol("preview_stale without the server's quote".into())
                    })?;
                if quote.amo < 0 || quote.amc < 0 || quote.member < 0 {
                    return Err(Error::Protocol("a negative share in the quote".into()).into());
                }
                Err(AuthorizeRefusal::Stale(quote))
            }
            Err(Error::Api { status, detail, .. })
                if status == 402 || detail.kind == "card_error" =>
            {
                Err(AuthorizeRefusal::Declined {
                    decline_code: detail.decline_code.unwrap_or(detail.code),
                })
            }
            Err(e) => Err(AuthorizeRefusal::Failed(e)),
        }
    }

    /// One visit as the server sees it now; kept for the history.
    pub async fn refresh_visit(&self, id: &str) -> Result<Visit> {
        let path = format!("/v1/visits/{}", check_visit_id(id)?);
        let visit = check_visit(self.authed(Method::GET, &path, None).await?.json()?)?;
        self.remember_visits(std::slice::from_ref(&visit))?;
        Ok(visit)
    }

    /// Cancels an armed visit: the card no longer pays it, the hold on the member's card goes.
    pub async fn cancel_visit(&self, id: &str) -> Result<Visit> {
        let path = format!("/v1/visits/{}/cancel", check_visit_id(id)?);
        let visit = check_visit(self.authed(Method::POST, &path, None).await?.json()?)?;
        self.remember_visits(std::slice::from_ref(&visit))?;
        Ok(visit)
    }

    /// Downloads the newest visits and keeps them; returns the history, newest first.
    pub async fn refresh_visits(&self) -> Result<Vec<Visit>> {
        let path = format!("/v1/visits?limit={LIST_LIMIT}");
        let list: VisitList = self.authed(Method::GET, &path, None).await?.json()?;
        let visits = list
            .data
            .into_iter()
            .map(check_visit)
            .collect::<Result<Vec<_>>>()?;
        self.remember_visits(&visits)?;
        self.visits()
    }

    /// The visits known on this phone, newest first. No network.
    pub fn visits(&self) -> Result<Vec<Visit>> {
        self.store()?.load_visits()
    }

    /// One visit known on this phone. No network.
    pub fn visit(&self, id: &str) -> Result<Option<Visit>> {
        self.store()?.load_visit(id)
    }

    fn remember_visits(&self, visits: &[Visit]) -> Result<()> {
        self.store()?.save_visits(visits, crate::net::unix_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_visit_ids_reach_a_path() {
        assert!(check_visit_id("vis_1a2B").is_ok());
        assert!(check_visit_id("vis_Zq-3_x").is_ok(), "base64url ids");
        for bad in [
            "vis_../../me",
            "pm_1",
            "vis_a/b",
            "vis_a?x=1",
            "",
            &"vis_a".repeat(20),
        ] {
            assert!(check_visit_id(bad).is_err(), "{bad}");
        }
    }
}
