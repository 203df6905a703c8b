//! Arrears on the phone: the member's invoices synced for the list offline, and payment links
//! opened from a push, an email or an SMS. A link is verified offline against the pinned link
//! key before anything of it is shown (docs/arrears.md); a refused one is written to the store
//! with the idempotency key of its report, and reported to the server when it can be reached.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::Core;
use crate::auth::signature::hex;
use crate::auth::{b64url_decode, random, sha256};
use crate::domain::calendar;
use crate::domain::links::{self, Destination};
use crate::domain::payment_link::{self, Channel, LinkError};
use crate::error::{Error, Result};
use crate::store::{StoredInvoice, StoredInvoiceStatus};
use crate::wire::{MemberInvoice, MemberInvoiceList, MemberInvoiceStatus};

/// Where refused links are reported.
pub const REPORT_PATH: &str = "/v1/me/link_reports";
/// Where an SMS short code is exchanged for its signed token (docs/arrears.md).
pub const SHORT_LINK_PATH: &str = "/v1/platform/short_links";
/// Invoices asked per `GET /v1/me/invoices`.
const LIST_LIMIT: u32 = 100;
/// Longest text of the server's the phone keeps in a field (number, description, reference).
const MAX_FIELD_CHARS: usize = 200;

/// Why a link is refused. Each names what the member should understand, in French and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum LinkRefusal {
    /// Not a TiersPay link: another host (a look-alike domain), another scheme, another page.
    NotOurs,
    /// The token is not one (a character outside base64url, a field no server writes).
    Malformed,
    /// Part of the link is missing (an SMS cut short).
    Truncated,
    /// Altered, or signed by another key: never to be paid from.
    BadSignature,
    /// Signed, but its time is over.
    Expired,
    /// Signed for another member than the one enrolled here.
    OtherMember,
    /// A newer format than this app reads.
    UnsupportedVersion,
    /// An SMS short code the server does not know (or no longer: it expires with its token).
    UnknownShortLink,
}

impl LinkRefusal {
    fn of(e: LinkError) -> Self {
        match e {
            LinkError::Malformed => Self::Malformed,
            LinkError::Truncated => Self::Truncated,
            LinkError::BadSignature => Self::BadSignature,
            LinkError::Expired => Self::Expired,
            LinkError::OtherMember => Self::OtherMember,
            LinkError::UnsupportedVersion => Self::UnsupportedVersion,
        }
    }

    /// The code reported to the server.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotOurs => "not_ours",
            Self::Malformed => "malformed",
            Self::Truncated => "truncated",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::OtherMember => "other_member",
            Self::UnsupportedVersion => "unsupported_version",
            Self::UnknownShortLink => "unknown_short_link",
        }
    }

    /// What a French reader is told.
    pub fn message_fr(self) -> &'static str {
        match self {
            Self::NotOurs | Self::Malformed => {
                "Ce lien n'est pas un lien de paiement TiersPay. Ne payez pas depuis ce message."
            }
            Self::Truncated => {
                "Ce lien de paiement est incomplet. Ouvrez le lien en entier, ou l'application."
            }
            Self::BadSignature => {
                "Ce lien n'a pas été émis par TiersPay ou a été modifié. Ne payez pas depuis ce \
                 message."
            }
            Self::Expired => {
                "Ce lien de paiement a expiré. Ouvrez l'application pour voir ce qui est dû."
            }
            Self::OtherMember => "Ce lien de paiement est destiné à un autre adhérent.",
            Self::UnsupportedVersion => {
                "Ce lien de paiement demande une version plus récente de l'application."
            }
            Self::UnknownShortLink => {
                "Ce lien court est inconnu ou a expiré. Ouvrez l'application pour voir ce qui est \
                 dû."
            }
        }
    }

    /// What an English reader is told.
    pub fn message_en(self) -> &'static str {
        match self {
            Self::NotOurs | Self::Malformed => {
                "This is not a TiersPay payment link. Do not pay from this message."
            }
            Self::Truncated => "This payment link is incomplete. Open the whole link, or the app.",
            Self::BadSignature => {
                "This link was not issued by TiersPay or was altered. Do not pay from this \
                 message."
            }
            Self::Expired => "This payment link has expired. Open the app to see what is due.",
            Self::OtherMember => "This payment link is for another member.",
            Self::UnsupportedVersion => "This payment link needs a newer version of the app.",
            Self::UnknownShortLink => {
                "This short link is unknown or has expired. Open the app to see what is due."
            }
        }
    }
}

/// What a verified link says: only facts the server signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLink {
    /// The invoice's short number in the token (the server maps it to its invoice).
    pub invoice_number: u32,
    /// The amount due, minor units.
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: String,
    /// Unix seconds from which the link is refused.
    pub expires_at: i64,
    /// The channel it was sent through.
    pub channel: Channel,
    /// The id of the key that signed it.
    pub key_id: u8,
    /// The hosted page of this link, for paying in the browser: the canonical
    /// `https://app.tierspay.fr/l/{token}`, whichever form was opened.
    pub page_url: String,
}

/// What opening a link led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOpening {
    /// Verified: show it.
    Invoice(InvoiceLink),
    /// Refused before anything was shown: say why. The refusal is queued for the server.
    Refused(LinkRefusal),
}

/// The answer of `GET /v1/platform/short_links/{code}`.
#[derive(Debug, Deserialize)]
struct ShortLink {
    token: String,
}

/// A refused link as the server learns of it: no token (an expired or another member's link
/// is still a bearer for that invoice's page), a digest of it to match it with the one sent.
#[derive(Debug, Serialize)]
struct LinkReport<'a> {
    reason: &'a str,
    /// The first 16 bytes of SHA-256 of the token, hex; `None` for a link with no token.
    token_sha256: Option<String>,
    /// The host of a link that was not ours (the look-alike domain a phishing message used).
    foreign_host: Option<String>,
    /// Only once the signature held: the invoice number and channel it names.
    invoice_number: Option<u32>,
    channel: Option<&'a str>,
    seen_at: i64,
}

fn channel_code(c: Channel) -> &'static str {
    match c {
        Channel::Push => "push",
        Channel::Email => "email",
        Channel::Sms => "sms",
        Channel::App => "app",
    }
}

/// The host of a URL that was not ours, bounded and reduced to host characters, for the report.
fn foreign_host(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    ok.then(|| host.to_ascii_lowercase())
}

/// The invoice number and channel of a token whose signature `verify` already accepted (it
/// refused it for its expiry or member only), read at the offsets of the layout.
fn signed_facts(token: &str) -> Option<(u32, Channel)> {
    let bytes = b64url_decode(token).ok()?;
    if bytes.len() != payment_link::TOKEN_BYTES {
        return None;
    }
    let invoice = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]);
    let channel = match bytes[25] {
        1 => Channel::Push,
        2 => Channel::Email,
        3 => Channel::Sms,
        4 => Channel::App,
        _ => return None,
    };
    Some((invoice, channel))
}

fn digest(token: &str) -> String {
    hex(&sha256(token.as_bytes())[..16])
}

fn bounded(text: Option<String>) -> Option<String> {
    text.map(|t| t.chars().take(MAX_FIELD_CHARS).collect())
}

/// The server's invoice as the phone keeps it, or a protocol error for one it cannot trust.
pub(crate) fn stored(i: MemberInvoice) -> Result<StoredInvoice> {
    let id_ok = i.id.starts_with("in_")
        && i.id.len() <= 64
        // `in_` and base64url: letters, digits, `_` and `-`; never a path's `/`, `.` or `%`.
        && i.id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !id_ok {
        return Err(Error::Protocol("the server's invoice has a bad id".into()));
    }
    if i.amount_due < 0 || i.amount_paid < 0 || i.amount_remaining < 0 {
        return Err(Error::Protocol(
            "the server's invoice has a negative amount".into(),
        ));
    }
    let currency = i.currency.to_ascii_uppercase();
    if payment_link::Currency::parse(&currency).is_none() {
        return Err(Error::Protocol(
            "the server's invoice has a bad currency".into(),
        ));
    }
    // A reference the phone shows for a transfer must be one a bank accepts.
    let rf_reference = match i.rf_reference {
        Some(r) => Some(
            crate::domain::rf_reference::RfReference::parse(&r)
                .map_err(|_| Error::Protocol("the server's invoice has a bad reference".into()))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    Ok(StoredInvoice {
        id: i.id,
        number: bounded(i.number),
        status: match i.status {
            MemberInvoiceStatus::Open => StoredInvoiceStatus::Open,
            MemberInvoiceStatus::Paid => StoredInvoiceStatus::Paid,
            MemberInvoiceStatus::Void => StoredInvoiceStatus::Void,
            MemberInvoiceStatus::Uncollectible => StoredInvoiceStatus::Uncollectible,
        },
        source: serde_json::to_value(i.source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        description: bounded(i.description),
        contract_ref: i.contract_ref.chars().take(MAX_FIELD_CHARS).collect(),
        currency,
        amount_due: i.amount_due,
        amount_paid: i.amount_paid,
        amount_remaining: i.amount_remaining,
        due_date: i.due_date,
        rf_reference,
        created: i.created,
        extra: crate::store::StoredInvoiceExtra {
            paid_at: i.paid_at,
            paid_via: i.extra.paid_via,
            // The newest lines only: the wire promises at most MAX_HISTORY, the phone holds to it.
            history: {
                let skip = i
                    .extra
                    .history
                    .len()
                    .saturating_sub(crate::wire::MAX_HISTORY);
                i.extra.history.into_iter().skip(skip).collect()
            },
            updated: i.extra.updated,
            outbox_seq: None,
        },
    })
}

/// How an invoice's status reads, and whether it can be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusText {
    /// For a French reader.
    pub fr: &'static str,
    /// For an English reader.
    pub en: &'static str,
    /// Something is owed and the invoice takes payment (uncollectible ones still do).
    pub payable: bool,
}

/// The words of `invoice`'s status.
pub fn status_text(invoice: &StoredInvoice) -> StatusText {
    let owed = invoice.amount_remaining > 0;
    let (fr, en, payable) = match invoice.status {
        StoredInvoiceStatus::Open => ("À payer", "Due", owed),
        StoredInvoiceStatus::Uncollectible => ("Impayée", "Unpaid", owed),
        StoredInvoiceStatus::Paid => ("Payée", "Paid", false),
        StoredInvoiceStatus::Void => ("Annulée", "Cancelled", false),
    };
    StatusText { fr, en, payable }
}

/// A Paris calendar day for both readers: `31/12/2026`, `31 Dec 2026`, and ISO `2026-12-31`.
pub fn day_text(unix_seconds: i64) -> (String, String, String) {
    let d = calendar::paris_date(unix_seconds);
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][usize::from(u8::from(d.month())) - 1];
    (
        format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year()),
        format!("{} {month} {}", d.day(), d.year()),
        format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
    )
}

impl Core {
    /// Verifies a link offline: `https://app.tierspay.fr/l/{token}` or `tierspay://l/{token}`
    /// against the pinned link key, the clock and the enrolled member; an SMS short link
    /// (`/s/{code}`) is first exchanged online for its token, then verified the same way. A
    /// refusal is queued for the server before this returns (see
    /// [`Core::report_link_refusals`]). Needs an enrolled phone: the member check has no
    /// meaning without one.
    pub async fn open_link(&self, url: &str) -> Result<LinkOpening> {
        let session = self.session()?.ok_or(Error::NotEnrolled)?;
        let token = match links::parse(url) {
            Ok(Destination::PaymentLink { token }) => token,
            Ok(Destination::ShortLink { code }) => match self.resolve_short_link(&code).await? {
                Some(token) => token,
                None => {
                    return self.refuse(LinkRefusal::UnknownShortLink, None, None, None);
                }
            },
            // Ours but not a payment link: the caller routes it as any other link.
            Ok(_) => {
                return Err(Error::invalid(
                    "url",
                    "is a TiersPay link but not a payment link",
                ))
            }
            Err(_) => {
                // Our host or scheme with a path no token has is a malformed link; anything
                // else (a look-alike domain) is not ours, and its host is worth reporting.
                let host = foreign_host(url);
                let ours = url.trim().starts_with(&format!("{}://", links::SCHEME))
                    || host.as_deref() == Some(links::LINK_HOST);
                return if ours {
                    self.refuse(LinkRefusal::Malformed, None, None, None)
                } else {
                    self.refuse(LinkRefusal::NotOurs, None, host, None)
                };
            }
        };
        let now = crate::net::unix_now().max(0) as u64;
        match payment_link::verify(&token, &self.settings.link_key, now, &session.member.id) {
            Ok(claims) => {
                // Its signed facts show in the list until a sync brings the invoice itself.
                let never_synced = self.store()?.invoices()?.is_none();
                if never_synced {
                    self.store()?.save_link_invoice(
                        &crate::store::LinkInvoice {
                            invoice_number: claims.invoice,
                            amount: i64::from(claims.amount_minor),
                            currency: claims.currency.as_str().to_owned(),
                            channel: channel_code(claims.channel).to_owned(),
                            expires_at: i64::from(claims.expires_at),
                        },
                        now as i64,
                    )?;
                }
                Ok(LinkOpening::Invoice(InvoiceLink {
                    invoice_number: claims.invoice,
                    amount_minor: i64::from(claims.amount_minor),
                    currency: claims.currency.as_str().to_owned(),
                    expires_at: i64::from(claims.expires_at),
                    channel: claims.channel,
                    key_id: claims.key_id,
                    page_url: payment_link::url(&format!("https://{}", links::LINK_HOST), &token),
                }))
            }
            Err(e) => {
                // Only a signed token's fields are worth reporting: a forged one's are noise.
                let signed = matches!(e, LinkError::Expired | LinkError::OtherMember);
                let facts = if signed { signed_facts(&token) } else { None };
                self.refuse(LinkRefusal::of(e), Some(&token), None, facts)
            }
        }
    }

    fn refuse(
        &self,
        refusal: LinkRefusal,
        token: Option<&str>,
        foreign_host: Option<String>,
        facts: Option<(u32, Channel)>,
    ) -> Result<LinkOpening> {
        let now = crate::net::unix_now();
        let report = LinkReport {
            reason: refusal.code(),
            token_sha256: token.filter(|t| !t.is_empty()).map(digest),
            foreign_host,
            invoice_number: facts.map(|f| f.0),
            channel: facts.map(|f| channel_code(f.1)),
            seen_at: now,
        };
        let body = serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?;
        // The key is written with the body, before any send: a retry after a crash or a
        // restart sends the same key, and the server records the report once.
        self.store()?
            .queue_link_report(&random::id("idk"), &body, now)?;
        Ok(LinkOpening::Refused(refusal))
    }

    /// Exchanges an SMS short code for its signed token; `None` when the server knows no such
    /// code (or no longer). The token is then verified offline like any other: the server is
    /// trusted for the mapping only, never for what the link says.
    pub async fn resolve_short_link(&self, code: &str) -> Result<Option<String>> {
        let path = format!("{SHORT_LINK_PATH}/{code}");
        // `code` passed `links::parse`: letters and digits only, bounded, nothing for a path.
        match self
            .api
            .send(crate::net::http::Request::new(Method::GET, path))
            .await
        {
            Ok(answer) => {
                let link: ShortLink = answer.json()?;
                if link.token.len() > links::MAX_TOKEN_CHARS {
                    return Err(Error::Protocol(
                        "the server's short link is too long".into(),
                    ));
                }
                Ok(Some(link.token))
            }
            Err(Error::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends the queued refusal reports, oldest first, each with the key written with it; a
    /// report the server accepted or refused for good is dropped, one that met the network or
    /// a server error stays for the next time. Returns how many were sent.
    pub async fn report_link_refusals(&self) -> Result<u32> {
        let pending = self.store()?.pending_link_reports()?;
        let mut sent = 0;
        for report in pending {
            let answer = self
                .authed_keyed(
                    Method::POST,
                    REPORT_PATH,
                    Some(report.body.clone().into_bytes()),
                    Some(report.idempotency_key.clone()),
                )
                .await;
            match answer {
                Ok(_) => sent += 1,
                Err(Error::Network(_) | Error::Api { status: 500.., .. }) => break,
                Err(Error::Api { status: 429, .. }) => break,
                Err(e @ (Error::NotEnrolled | Error::SessionRevoked)) => return Err(e),
                Err(e) => tracing::warn!("a link report was refused for good: {e}"),
            }
            self.store()?.finish_link_report(&report.idempotency_key)?;
        }
        Ok(sent)
    }

    /// Reports not yet accepted by the server.
    pub fn pending_link_reports(&self) -> Result<u32> {
        Ok(self.store()?.pending_link_reports()?.len() as u32)
    }

    /// Brings the phone up to date: queued link reports and outbox rows are sent (best
    /// effort: offline they wait), then the invoices changed since the stored cursor are
    /// fetched (a platform without `invoice_changes` gives its full list instead). Returns the
    /// invoices as [`Core::invoices`] does.
    pub async fn sync_invoices(&self) -> Result<(Vec<StoredInvoice>, i64)> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        if let Err(e) = self.report_link_refusals().await {
            if matches!(e, Error::SessionRevoked) {
                return Err(e);
            }
            tracing::debug!("link reports wait: {e}");
        }
        match self.send_outbox().await {
            Ok(_) => {}
            Err(e @ (Error::SessionRevoked | Error::NotEnrolled)) => return Err(e),
            Err(e) => tracing::debug!("the outbox waits: {e}"),
        }
        match self.sync_invoice_changes().await {
            Ok(_) => {}
            Err(Error::Api { status: 404, .. }) => self.sync_full_list().await?,
            Err(e) => return Err(e),
        }
        self.invoices()?
            .ok_or(Error::Internal("invoices just synced".into()))
    }

    /// `GET /v1/me/invoices`: replaces the list (a platform older than issue 12).
    async fn sync_full_list(&self) -> Result<()> {
        let path = format!("/v1/me/invoices?limit={LIST_LIMIT}");
        let list: MemberInvoiceList = self.authed(Method::GET, &path, None).await?.json()?;
        let invoices = list
            .data
            .into_iter()
            .map(stored)
            .collect::<Result<Vec<_>>>()?;
        let now = crate::net::unix_now();
        self.store()?.replace_invoices(&invoices, now)
    }

    /// What verified links said, for invoices a sync has not brought yet (before the first
    /// one), newest first.
    pub fn link_invoices(&self) -> Result<Vec<crate::store::LinkInvoice>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        self.store()?.link_invoices()
    }

    /// The invoices as last synced, offline, with the sync time; `None` if never synced.
    pub fn invoices(&self) -> Result<Option<(Vec<StoredInvoice>, i64)>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        self.store()?.invoices()
    }

    /// A further page of the list, offline: `limit` (at most 100) after the first `offset`.
    pub fn invoices_page(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Option<(Vec<StoredInvoice>, i64)>> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        self.store()?.invoices_page(offset, limit)
    }

    /// How many invoices the phone holds, offline.
    pub fn invoice_count(&self) -> Result<u32> {
        self.store()?.invoice_count()
    }

    /// One invoice as last synced, offline.
    pub fn invoice(&self, id: &str) -> Result<StoredInvoice> {
        self.session()?.ok_or(Error::NotEnrolled)?;
        if id.len() > 64 {
            return Err(Error::invalid("invoice_id", "is not an invoice id (in_…)"));
        }
        self.store()?
            .invoice(id)?
            .ok_or_else(|| Error::invalid("invoice_id", "no such invoice on this phone; sync"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_has_its_own_code_and_both_languages() {
        let all = [
            LinkRefusal::NotOurs,
            LinkRefusal::Malformed,
            LinkRefusal::Truncated,
            LinkRefusal::BadSignature,
            LinkRefusal::Expired,
            LinkRefusal::OtherMember,
            LinkRefusal::UnsupportedVersion,
            LinkRefusal::UnknownShortLink,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len());
        for r in all {
            assert!(!r.message_fr().is_empty() && !r.message_en().is_empty());
            assert_ne!(r.message_fr(), r.message_en());
        }
        // A forged link never reads as a mere glitch: it says not to pay.
        assert!(LinkRefusal::BadSignature
            .message_en()
            .contains("Do not pay"));
        assert!(LinkRefusal::BadSignature
            .message_fr()
            .contains("Ne payez pas"));
    }

    #[test]
    fn a_foreign_host_is_kept_bounded_and_without_userinfo() {
        assert_eq!(
            foreign_host("https://app-tierspay.fr/l/AAAA").as_deref(),
            Some("app-tierspay.fr")
        );
        assert_eq!(
            foreign_host("https://user@Evil.example:8443/x").as_deref(),
            Some("evil.example:8443")
        );
        assert_eq!(foreign_host("javascript:alert(1)"), None);
        assert_eq!(foreign_host("https://<script>/"), None);
        assert_eq!(foreign_host(&format!("https://{}/", "a".repeat(300))), None);
    }

    #[test]
    fn status_words_and_payability_follow_what_is_left() {
        let mut i = StoredInvoice {
            id: "in_1".into(),
            number: None,
            status: StoredInvoiceStatus::Open,
            source: "visit".into(),
            description: None,
            contract_ref: "TP1000001".into(),
            currency: "EUR".into(),
            amount_due: 900,
            amount_paid: 0,
            amount_remaining: 900,
            due_date: None,
            rf_reference: None,
            created: 0,
            extra: Default::default(),
        };
        assert!(status_text(&i).payable);
        i.status = StoredInvoiceStatus::Uncollectible;
        assert_eq!(status_text(&i).en, "Unpaid");
        assert!(status_text(&i).payable, "written off, still payable");
        i.status = StoredInvoiceStatus::Paid;
        assert!(!status_text(&i).payable);
        i.status = StoredInvoiceStatus::Open;
        i.amount_remaining = 0;
        assert!(!status_text(&i).payable);
    }

    fn wire_invoice(id: &str) -> MemberInvoice {
        serde_json::from_value(serde_json::json!({
            "object": "member_invoice", "id": id, "number": "TP-0001", "status": "open",
            "source": "premium", "insurer": "ins_1", "contract_ref": "TP1000001",
            "visit_id": null, "description": "x".repeat(500), "currency": "eur",
            "amount_due": 4250, "amount_paid": 0, "amount_remaining": 4250,
            "due_date": 1_798_675_200, "rf_reference": "rf18 5390 0754 7034",
            "created": 1, "paid_at": null
        }))
        .unwrap()
    }

    #[test]
    fn a_server_invoice_is_kept_bounded_and_only_with_a_safe_id_and_a_valid_reference() {
        let kept = stored(wire_invoice("in_a-B_9")).unwrap();
        assert_eq!(kept.currency, "EUR");
        assert_eq!(kept.rf_reference.as_deref(), Some("RF18539007547034"));
        assert_eq!(kept.description.unwrap().chars().count(), MAX_FIELD_CHARS);
        for bad in [
            "in_../x",
            "in_a%2F",
            "vis_1",
            &format!("in_{}", "a".repeat(80)),
        ] {
            assert!(stored(wire_invoice(bad)).is_err(), "{bad}");
        }
        let mut i = wire_invoice("in_1");
        i.rf_reference = Some("RF19539007547034".into());
        assert!(
            stored(i).is_err(),
            "a reference failing its checksum is not shown for a transfer"
        );
        let mut i = wire_invoice("in_1");
        i.amount_remaining = -1;
        assert!(stored(i).is_err());
    }

    #[test]
    fn the_link_key_is_the_pinned_server_key_unless_the_shell_pins_its_own() {
        use crate::app::Settings;
        use crate::auth::ecdsa;
        let server = ecdsa::generate_signing_key();
        let server_hex = hex(&ecdsa::public_key_sec1(&server));
        let own = ecdsa::generate_signing_key();
        let own_hex = hex(&ecdsa::public_key_sec1(&own));
        let claims = payment_link::LinkClaims {
            key_id: 1,
            invoice: 7,
            member: payment_link::MemberTag::of("mbr_1"),
            amount_minor: 100,
            currency: payment_link::Currency::EUR,
            expires_at: u32::MAX,
            channel: Channel::Email,
        };
        let by_server = payment_link::sign(&claims, &server);
        let settings =
            |id, key| Settings::from_config("https://x".into(), "d", &server_hex, id, key, None);
        let default = settings(None, None).unwrap();
        assert!(payment_link::verify(&by_server, &default.link_key, 0, "mbr_1").is_ok());
        // The shell's own key under its own id: the server key's links no longer pass.
        let pinned = settings(Some(5), Some(own_hex.as_str())).unwrap();
        let by_own = payment_link::sign(
            &payment_link::LinkClaims {
                key_id: 5,
                ..claims
            },
            &own,
        );
        assert!(payment_link::verify(&by_own, &pinned.link_key, 0, "mbr_1").is_ok());
        assert_eq!(
            payment_link::verify(&by_server, &pinned.link_key, 0, "mbr_1"),
            Err(LinkError::BadSignature)
        );
        let Err(Error::InvalidInput { field, .. }) = settings(None, Some("04abc")) else {
            panic!("a malformed link key is refused");
        };
        assert_eq!(field, "link_public_key");
    }

    #[test]
    fn a_due_date_reads_as_the_paris_day() {
        // 2026-12-31T23:30:00Z is already 1 January in Paris.
        let (fr, en, iso) = day_text(1_798_759_800);
        assert_eq!(
            (fr.as_str(), en.as_str(), iso.as_str()),
            ("01/01/2027", "1 Jan 2027", "2027-01-01")
        );
    }
}
