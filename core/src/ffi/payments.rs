//! Paying at the doctor for the shells: the member's own card (public facts only), the visits
//! the virtual card paid or was armed for (offline history), and a visit authorized outside
//! the visit flow (the terminal's `visit authorize`). Conversion only: the rules are in
//! `app/payment_method.rs`, `app/visits.rs` and `domain/payment.rs`.

use std::sync::Arc;

use super::runtime::CoreRuntime;
use super::{Amount, CoreError, Explanation};
use crate::app::flows::visit::PricingRequest;
use crate::app::{AuthorizeRefusal, Core};
use crate::domain::{card_rules, payment};
use crate::wire;

/// Where the member's own card stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PaymentMethodStatus {
    /// Saved: the member's shares are taken from it.
    Active,
    /// The bank wants the member to authenticate: open `next_action_url`, then `refresh`.
    RequiresAction,
    /// The bank refused it: see `decline`; save another card.
    Failed,
}

impl PaymentMethodStatus {
    /// The wire's string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::RequiresAction => "requires_action",
            Self::Failed => "failed",
        }
    }
}

impl From<wire::PaymentMethodStatus> for PaymentMethodStatus {
    fn from(s: wire::PaymentMethodStatus) -> Self {
        match s {
            wire::PaymentMethodStatus::Active => Self::Active,
            wire::PaymentMethodStatus::RequiresAction => Self::RequiresAction,
            wire::PaymentMethodStatus::Failed => Self::Failed,
        }
    }
}

/// The member's own card, as the phone may know it: never its number or code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MemberCard {
    /// The PSP's `pm_…`.
    pub payment_method: String,
    /// Where it stands.
    pub status: PaymentMethodStatus,
    /// `visa`, `mastercard`…
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// Expiry, `MM/YY`.
    pub expiry: String,
    /// The bank's challenge page to open when `status` is `RequiresAction` (https, or the
    /// TiersPay server's own origin: the core checked).
    pub next_action_url: Option<String>,
    /// Stripe's decline code when `status` is `Failed`.
    pub decline_code: Option<String>,
    /// What the decline means, when `Failed`.
    pub decline: Option<Explanation>,
}

impl From<wire::MemberPaymentMethod> for MemberCard {
    fn from(pm: wire::MemberPaymentMethod) -> Self {
        Self {
            expiry: card_rules::expiry(pm.exp_month, pm.exp_year),
            decline: pm
                .decline_code
                .as_deref()
                .filter(|_| pm.status == wire::PaymentMethodStatus::Failed)
                .map(|c| {
                    let s = payment::decline_sentence(c);
                    Explanation { fr: s.fr, en: s.en }
                }),
            payment_method: pm.payment_method,
            status: pm.status.into(),
            brand: pm.brand,
            last4: pm.last4,
            next_action_url: pm.next_action_url,
            decline_code: pm.decline_code,
        }
    }
}

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VisitStatus {
    /// The card pays this visit only, until `expires_at`.
    Armed,
    /// The terminal's tap was approved; not captured yet.
    Authorized,
    /// Captured: the provider is paid, the shares settled (see `receipt`).
    Paid,
    /// Cancelled by the member before the tap.
    Canceled,
    /// No tap before `expires_at`.
    Expired,
    /// The terminal reversed the tap.
    Reversed,
}

impl VisitStatus {
    /// The wire's string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Armed => "armed",
            Self::Authorized => "authorized",
            Self::Paid => "paid",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
            Self::Reversed => "reversed",
        }
    }
}

impl From<wire::VisitStatus> for VisitStatus {
    fn from(s: wire::VisitStatus) -> Self {
        match s {
            wire::VisitStatus::Armed => Self::Armed,
            wire::VisitStatus::Authorized => Self::Authorized,
            wire::VisitStatus::Paid => Self::Paid,
            wire::VisitStatus::Canceled => Self::Canceled,
            wire::VisitStatus::Expired => Self::Expired,
            wire::VisitStatus::Reversed => Self::Reversed,
        }
    }
}

/// What the settlement of a paid visit moved.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VisitReceipt {
    /// Paid to the provider.
    pub provider_paid: Amount,
    /// From statutory insurance.
    pub amo: Amount,
    /// From the complementary insurer.
    pub amc: Amount,
    /// Taken from the member's own card.
    pub member_captured: Amount,
    /// What could not be taken and is owed (zero normally).
    pub arrears: Amount,
    /// When it settled, Unix seconds.
    pub settled_at: i64,
}

/// One visit the virtual card was armed for.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Visit {
    /// `vis_…`
    pub id: String,
    /// Where it stands.
    pub status: VisitStatus,
    /// The card still pays it (armed, or tapped and not captured): show the countdown.
    pub active: bool,
    /// Who was treated.
    pub beneficiary_id: String,
    /// By whom.
    pub provider_id: String,
    /// The provider's name.
    pub provider_name: String,
    /// Which act.
    pub act_code: String,
    /// Care date, `YYYY-MM-DD`.
    pub date: String,
    /// The price.
    pub price: Amount,
    /// Statutory share.
    pub amo: Amount,
    /// Complementary share.
    pub amc: Amount,
    /// The member's share (held on the member's card until capture).
    pub member: Amount,
    /// The preview authorized.
    pub preview_id: String,
    /// Created, Unix seconds.
    pub created: i64,
    /// The card is armed until then, Unix seconds (server time): the countdown's end, after
    /// which the shell calls `refresh`.
    pub expires_at: i64,
    /// Why the last tap for it was declined, if one was.
    pub last_decline: Option<String>,
    /// "Paid 30,00 € to Dr …: your insurers 28,00 €, you 2,00 €", once paid.
    pub summary: Option<Explanation>,
    /// The settlement figures, once paid.
    pub receipt: Option<VisitReceipt>,
}

impl From<wire::Visit> for Visit {
    fn from(v: wire::Visit) -> Self {
        let money = |cents: i64| Amount::minor(cents, &v.currency);
        let summary = v
            .settlement
            .as_ref()
            .filter(|_| v.status == wire::VisitStatus::Paid)
            .map(|s| {
                let sentence = payment::paid_sentence(
                    &v.provider_name,
                    payment::PaidFigures {
                        provider_paid: s.provider_paid,
                        amo: s.amo,
                        amc: s.amc,
                        member: s.member_captured.saturating_add(s.arrears),
                    },
                );
                Explanation {
                    fr: sentence.fr,
                    en: sentence.en,
                }
            });
        let receipt = v.settlement.as_ref().map(|s| VisitReceipt {
            provider_paid: money(s.provider_paid),
            amo: money(s.amo),
            amc: money(s.amc),
            member_captured: money(s.member_captured),
            arrears: money(s.arrears),
            settled_at: s.settled_at,
        });
        Self {
            active: crate::app::flows::visit::is_active(v.status),
            status: v.status.into(),
            price: money(v.price),
            amo: money(v.amo),
            amc: money(v.amc),
            member: money(v.member),
            summary,
            receipt,
            id: v.id,
            beneficiary_id: v.beneficiary_id,
            provider_id: v.provider_id,
            provider_name: v.provider_name,
            act_code: v.act_code,
            date: v.date,
            preview_id: v.preview_id,
            created: v.created,
            expires_at: v.expires_at,
            last_decline: v.last_decline,
        }
    }
}

/// The server's figures when the phone's preview no longer held.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StaleFigures {
    /// The server's preview id.
    pub preview_id: String,
    /// Statutory share now.
    pub amo: Amount,
    /// Complementary share now.
    pub amc: Amount,
    /// The member's share now.
    pub member: Amount,
}

impl From<wire::StalePreview> for StaleFigures {
    fn from(q: wire::StalePreview) -> Self {
        Self {
            amo: Amount::minor(q.amo, "eur"),
            amc: Amount::minor(q.amc, "eur"),
            member: Amount::minor(q.member, "eur"),
            preview_id: q.preview_id,
        }
    }
}

impl StaleFigures {
    fn to_wire(&self) -> wire::StalePreview {
        wire::StalePreview {
            preview_id: self.preview_id.clone(),
            amo: self.amo.minor_units,
            amc: self.amc.minor_units,
            member: self.member.minor_units,
        }
    }
}

/// What authorizing a visit gave.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
#[allow(clippy::large_enum_variant)] // a record across the FFI: uniffi has no boxes
pub enum AuthorizeResult {
    /// The card is armed for this visit.
    Armed {
        /// The visit.
        visit: Visit,
    },
    /// The figures no longer hold: show these; authorize again with them to accept them.
    Stale {
        /// The server's figures.
        figures: StaleFigures,
    },
    /// The member's own card was declined for the member's share.
    Declined {
        /// Stripe's decline code.
        decline_code: String,
        /// What it means.
        explanation: Explanation,
    },
}

/// Paying at the doctor: the member's own card and the visits.
#[derive(uniffi::Object)]
pub struct Payments {
    pub(crate) core: Arc<Core>,
    pub(crate) runtime: Arc<CoreRuntime>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Payments {
    /// The member's own card as last known (offline); `None` before one was saved.
    pub fn member_card(&self) -> Result<Option<MemberCard>, CoreError> {
        Ok(self.core.payment_method()?.map(Into::into))
    }

    /// Saves the member's own card: checked here (`number`, `expiry` `MM/YY`, `cvc` name their
    /// field), sent to the PSP only, its public facts kept. `RequiresAction`: open
    /// `next_action_url`, then `refresh_member_card`.
    pub async fn save_member_card(
        &self,
        number: String,
        expiry: String,
        cvc: String,
    ) -> Result<MemberCard, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                core.save_payment_method(&number, &expiry, &cvc)
                    .await
                    .map(Into::into)
            })
            .await
    }

    /// Reads the member's own card from the server again (after the bank's challenge).
    pub async fn refresh_member_card(&self) -> Result<Option<MemberCard>, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { Ok(core.refresh_payment_method().await?.map(Into::into)) })
            .await
    }

    /// Visits known on this phone, newest first (offline).
    pub fn visits(&self) -> Result<Vec<Visit>, CoreError> {
        Ok(self.core.visits()?.into_iter().map(Into::into).collect())
    }

    /// One visit known on this phone (offline).
    pub fn visit(&self, id: String) -> Result<Option<Visit>, CoreError> {
        Ok(self.core.visit(&id)?.map(Into::into))
    }

    /// Downloads the newest visits; returns the history, newest first.
    pub async fn refresh_visits(&self) -> Result<Vec<Visit>, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                Ok(core
                    .refresh_visits()
                    .await?
                    .into_iter()
                    .map(Into::into)
                    .collect())
            })
            .await
    }

    /// One visit from the server now.
    pub async fn refresh_visit(&self, id: String) -> Result<Visit, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.refresh_visit(&id).await.map(Into::into) })
            .await
    }

    /// Cancels an armed visit.
    pub async fn cancel_visit(&self, id: String) -> Result<Visit, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move { core.cancel_visit(&id).await.map(Into::into) })
            .await
    }

    /// Prices the visit on the phone and arms the card for it (the visit flow does the same
    /// step by step). With `accepted`, the server's figures of a `Stale` answer are
    /// authorized instead. Provider selected first (search or scan).
    pub async fn authorize_visit(
        &self,
        beneficiary_id: String,
        provider_id: String,
        act_code: String,
        price: String,
        date: Option<String>,
        accepted: Option<StaleFigures>,
    ) -> Result<AuthorizeResult, CoreError> {
        let core = self.core.clone();
        self.runtime
            .run(async move {
                let request = PricingRequest {
                    beneficiary_id,
                    provider_id,
                    act_code,
                    price,
                    date,
                };
                let quote = accepted.as_ref().map(StaleFigures::to_wire);
                match core.authorize_visit(&request, None, quote.as_ref()).await {
                    Ok(visit) => Ok(AuthorizeResult::Armed {
                        visit: visit.into(),
                    }),
                    Err(AuthorizeRefusal::Stale(q)) => {
                        Ok(AuthorizeResult::Stale { figures: q.into() })
                    }
                    Err(AuthorizeRefusal::Declined { decline_code, .. }) => {
                        let s = payment::decline_sentence(&decline_code);
                        Ok(AuthorizeResult::Declined {
                            decline_code,
                            explanation: Explanation { fr: s.fr, en: s.en },
                        })
                    }
                    Err(AuthorizeRefusal::Failed(e)) => Err(e),
                }
            })
            .await
    }
}
