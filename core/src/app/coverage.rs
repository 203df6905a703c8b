//! Coverage: the contract data and tariffs synced for offline previews, providers (cache first,
//! server otherwise, or a scanned desk QR code), and previews priced on the phone and checked by
//! the server with the same code.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use reqwest::Method;
use rust_decimal::Decimal;
use time::Date;

use super::Core;
use crate::domain::coverage::Language;
use crate::domain::preview::{self, Preview, PreviewInput};
use crate::domain::{calendar, enrollment, links, money, provider_code, search};
use crate::error::{Error, Result};
use crate::net::http::query;
use crate::store::coverage::Section;
use crate::wire::{
    BeneficiaryTerms, ContractData, PreviewCheck, PreviewRequest, Provider, ProviderList,
    SyncResponse, Tariff, TariffCatalogue,
};

/// How many priced previews the core remembers for [`Core::check_preview`].
const REMEMBERED_PREVIEWS: usize = 16;

/// What a preview needs, in memory: the synced sections parsed once, the providers already
/// read, and the last previews priced (so a check needs only the id). A sync empties the
/// providers and replaces the sections it downloaded.
#[derive(Default)]
pub struct CoverageCache {
    contract: Option<Arc<ContractData>>,
    tariffs: Option<Arc<TariffCatalogue>>,
    providers: HashMap<String, Provider>,
    previews: VecDeque<Remembered>,
}

/// A preview priced on this phone: what the server's check sends, and what `explain` prices
/// again (with the sentences) when asked why.
struct Remembered {
    request: PreviewRequest,
    date: Date,
}

/// What a sync changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Contract data was replaced.
    pub contract_updated: bool,
    /// The tariff catalogue was replaced.
    pub tariffs_updated: bool,
    /// Bytes of the answer.
    pub bytes: usize,
}

/// Providers found, and whether the server could be asked.
pub struct ProviderResults {
    /// Recently used first, then the server's best matches.
    pub providers: Vec<Provider>,
    /// True when the server was unreachable and only the cache was searched.
    pub offline: bool,
}

/// A priced preview with what it was priced for.
pub struct PricedPreview {
    /// The preview; its quote's explanations are left with the core (see [`Core::explain`]).
    pub preview: Preview,
    /// Who.
    pub beneficiary_id: String,
    /// Where.
    pub provider: Provider,
    /// Which act.
    pub act_code: String,
    /// The price.
    pub price: Decimal,
    /// The care date.
    pub date: Date,
}

impl Core {
    /// Today in France.
    pub fn today(&self) -> Date {
        calendar::paris_date(crate::net::unix_now())
    }

    fn coverage_cache(&self) -> Result<std::sync::MutexGuard<'_, CoverageCache>> {
        self.coverage
            .lock()
            .map_err(|_| Error::Internal("coverage cache lock poisoned".into()))
    }

    fn coverage_data(&self) -> Result<(Arc<ContractData>, Arc<TariffCatalogue>)> {
        let mut cache = self.coverage_cache()?;
        if cache.contract.is_none() || cache.tariffs.is_none() {
            let store = self.store()?;
            if let Some((_, body)) = store.load_section(Section::Contract)? {
                cache.contract = Some(Arc::new(from_json(&body)?));
            }
            if let Some((_, body)) = store.load_section(Section::Tariffs)? {
                cache.tariffs = Some(Arc::new(from_json(&body)?));
            }
        }
        match (&cache.contract, &cache.tariffs) {
            (Some(c), Some(t)) => Ok((c.clone(), t.clone())),
            _ => Err(Error::NotSynced),
        }
    }

    /// Downloads the sections whose etag changed (one round trip; nothing when unchanged), or
    /// everything when `full`.
    pub async fn sync_coverage(&self, full: bool) -> Result<SyncOutcome> {
        let (contract_etag, tariffs_etag) = if full {
            (String::new(), String::new())
        } else {
            let store = self.store()?;
            (
                store
                    .load_section(Section::Contract)?
                    .map(|s| s.0)
                    .unwrap_or_default(),
                store
                    .load_section(Section::Tariffs)?
                    .map(|s| s.0)
                    .unwrap_or_default(),
            )
        };
        let path = format!(
            "/v1/sync{}",
            query(&[
                ("contract_etag", &contract_etag),
                ("tariffs_etag", &tariffs_etag)
            ])
        );
        let response = self.authed(Method::GET, &path, None).await?;
        let sync: SyncResponse = response.json()?;
        let now = crate::net::unix_now();
        let mut cache = self.coverage_cache()?;
        cache.providers.clear();
        let store = self.store()?;
        if let Some(contract) = &sync.contract {
            store.save_section(Section::Contract, &contract.etag, &to_json(contract)?, now)?;
            cache.contract = Some(Arc::new(contract.clone()));
        }
        if let Some(tariffs) = &sync.tariffs {
            store.save_section(Section::Tariffs, &tariffs.etag, &to_json(tariffs)?, now)?;
            cache.tariffs = Some(Arc::new(tariffs.clone()));
        }
        Ok(SyncOutcome {
            contract_updated: sync.contract.is_some(),
            tariffs_updated: sync.tariffs.is_some(),
            bytes: response.body.len(),
        })
    }

    /// Beneficiaries with the facts the rules use, from the cache.
    pub fn coverage_beneficiaries(&self) -> Result<Vec<BeneficiaryTerms>> {
        Ok(self.coverage_data()?.0.beneficiaries.clone())
    }

    /// Acts of the catalogue in force on `date` (`YYYY-MM-DD`), today in France when absent.
    pub fn acts_on(&self, date: Option<&str>) -> Result<Vec<Tariff>> {
        let date = match date {
            Some(d) => enrollment::parse_date(d, "date")?,
            None => self.today(),
        };
        self.acts(date)
    }

    /// Acts of the catalogue in force on `date`.
    pub fn acts(&self, date: Date) -> Result<Vec<Tariff>> {
        let (_, tariffs) = self.coverage_data()?;
        let mut codes: Vec<&str> = tariffs.acts.iter().map(|t| t.code.as_str()).collect();
        codes.dedup();
        Ok(codes
            .into_iter()
            .filter_map(|code| preview::tariff_for(&tariffs, code, date).cloned())
            .collect())
    }

    /// Searches recently used providers on the phone, then the directory on the server.
    pub async fn search_providers(
        &self,
        text: &str,
        specialty: Option<&str>,
        city: Option<&str>,
        limit: usize,
    ) -> Result<ProviderResults> {
        if text.chars().count() > 100 {
            return Err(Error::invalid("query", "is longer than 100 characters"));
        }
        let limit = limit.clamp(1, 50);
        let q = search::Query::parse(text);
        let wanted = |p: &Provider| {
            specialty.is_none_or(|s| {
                search::normalize(&p.specialty).starts_with(search::normalize(s).trim())
            }) && city.is_none_or(|c| search::normalize(&p.city) == search::normalize(c).trim())
        };
        let mut found: Vec<Provider> = self
            .store()?
            .cached_providers()?
            .into_iter()
            .filter(|p| wanted(p))
            .filter(|p| {
                q.is_empty()
                    || q.score(&search::tokens(&[&p.name, &p.specialty, &p.city]))
                        .is_some()
            })
            .take(limit)
            .collect();
        if q.is_empty() && specialty.is_none() && city.is_none() {
            return Ok(ProviderResults {
                providers: found,
                offline: false,
            });
        }
        let path = format!(
            "/v1/providers{}",
            query(&[
                ("q", text),
                ("specialty", specialty.unwrap_or("")),
                ("city", city.unwrap_or("")),
                ("limit", &limit.to_string()),
            ])
        );
        match self.authed(Method::GET, &path, None).await {
            Ok(response) => {
                let list: ProviderList = response.json()?;
                for p in list.data {
                    if found.len() >= limit {
                        break;
                    }
                    if !found.iter().any(|f| f.id == p.id) {
                        found.push(p);
                    }
                }
                Ok(ProviderResults {
                    providers: found,
                    offline: false,
                })
            }
            Err(Error::Network(_)) => Ok(ProviderResults {
                providers: found,
                offline: true,
            }),
            Err(e) => Err(e),
        }
    }

    /// A provider by id, by code, or from the text of a scanned desk QR code; from the cache
    /// when known, from the server otherwise. Remembered as recently used.
    pub async fn select_provider(&self, id_code_or_scan: &str) -> Result<Provider> {
        let text = id_code_or_scan.trim();
        let key = if text.contains("://") {
            match links::parse(text) {
                Ok(links::Destination::Provider { code }) => code,
                _ => {
                    return Err(Error::invalid(
                        "scan",
                        "this QR code is not a TiersPay provider code",
                    ))
                }
            }
        } else if let Some(code) = provider_code::normalize(text) {
            code
        } else if text.starts_with("prv_")
            && text.len() <= 40
            && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            text.to_owned()
        } else {
            return Err(Error::invalid(
                "provider",
                "is neither a provider id nor a provider code",
            ));
        };
        let cached = self.store()?.cached_provider(&key)?;
        let provider = match cached {
            Some(p) => p,
            None => self
                .authed(Method::GET, &format!("/v1/providers/{key}"), None)
                .await?
                .json()?,
        };
        self.store()?
            .remember_provider(&provider, crate::net::unix_now())?;
        self.coverage_cache()?
            .providers
            .insert(provider.id.clone(), provider.clone());
        Ok(provider)
    }

    /// Prices a visit on the phone, offline. The provider must have been selected before.
    pub fn preview(
        &self,
        beneficiary_id: &str,
        provider_id: &str,
        act_code: &str,
        price: &str,
        date: Option<&str>,
    ) -> Result<PricedPreview> {
        let price = money::parse_price(price)?;
        let date = match date {
            Some(d) => enrollment::parse_date(d, "date")?,
            None => self.today(),
        };
        let provider = self.provider_for_preview(provider_id)?;
        let (contract, tariffs) = self.coverage_data()?;
        let input = PreviewInput {
            contract: &contract,
            tariffs: &tariffs,
            provider: &provider,
            beneficiary_id,
            act_code,
            price,
            date,
        };
        let preview = preview::preview(&input).map_err(|e| Error::invalid(e.field, e.message))?;
        let mut cache = self.coverage_cache()?;
        if cache.previews.len() >= REMEMBERED_PREVIEWS {
            cache.previews.pop_front();
        }
        cache.previews.push_back(Remembered {
            request: PreviewRequest {
                beneficiary_id: beneficiary_id.to_owned(),
                provider_id: provider.id.clone(),
                act_code: act_code.to_ascii_uppercase(),
                price,
                date: date.to_string(),
                preview_id: preview.id.clone(),
            },
            date,
        });
        drop(cache);
        Ok(PricedPreview {
            preview,
            beneficiary_id: beneficiary_id.to_owned(),
            provider,
            act_code: act_code.to_ascii_uppercase(),
            price,
            date,
        })
    }

    /// Why a preview priced on this phone comes to its figures, sentence by sentence, for a
    /// `language` reader. (An id the core did not price, or forgot, names `preview_id`.) The
    /// sentences cost five times the figures, so the preview is priced again with them here,
    /// from the same inputs; a sync since then that changed the figures refuses, as the id
    /// no longer matches: the member prices the visit again rather than read another visit's
    /// reasons.
    pub fn explain(&self, preview_id: &str, language: Language) -> Result<Vec<String>> {
        let again = || Error::invalid("preview_id", "price the visit again, then explain it");
        let (request, date) = self
            .coverage_cache()?
            .previews
            .iter()
            .rev()
            .find(|r| r.request.preview_id == preview_id)
            .map(|r| (r.request.clone(), r.date))
            .ok_or_else(again)?;
        let provider = self.provider_for_preview(&request.provider_id)?;
        let (contract, tariffs) = self.coverage_data()?;
        let input = PreviewInput {
            contract: &contract,
            tariffs: &tariffs,
            provider: &provider,
            beneficiary_id: &request.beneficiary_id,
            act_code: &request.act_code,
            price: request.price,
            date,
        };
        let preview = preview::explained(&input).map_err(|_| again())?;
        if preview.id != preview_id {
            return Err(again());
        }
        Ok(preview
            .quote
            .explanations
            .iter()
            .map(|e| language.pick(e).to_owned())
            .collect())
    }

    /// A selected provider, from memory when a preview already read it.
    fn provider_for_preview(&self, provider_id: &str) -> Result<Provider> {
        if let Some(p) = self.coverage_cache()?.providers.get(provider_id) {
            return Ok(p.clone());
        }
        let provider = self.store()?.cached_provider(provider_id)?.ok_or_else(|| {
            Error::invalid("provider_id", "select the provider first (search or scan)")
        })?;
        self.coverage_cache()?
            .providers
            .insert(provider_id.to_owned(), provider.clone());
        Ok(provider)
    }

    /// Asks the server to recompute a preview priced on this phone (by its id): does it still
    /// hold? The core sends what it priced, so a shell never rebuilds the request.
    pub async fn check_preview(&self, preview_id: &str) -> Result<PreviewCheck> {
        let request = self
            .coverage_cache()?
            .previews
            .iter()
            .rev()
            .find(|r| r.request.preview_id == preview_id)
            .map(|r| r.request.clone())
            .ok_or_else(|| Error::invalid("preview_id", "price the visit again, then check it"))?;
        self.send_preview_check(request).await
    }

    /// Sends a check request as it is (tests use it to send a forged one).
    pub async fn send_preview_check(&self, request: PreviewRequest) -> Result<PreviewCheck> {
        let body = request;
        let bytes = serde_json::to_vec(&body).map_err(|e| Error::Internal(e.to_string()))?;
        self.authed(Method::POST, "/v1/previews", Some(bytes))
            .await?
            .json()
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body)
        .map_err(|e| Error::Internal(format!("cached data is unreadable: {e}")))
}
