//! Paying at the doctor: the member's own card for remainders, and the visit authorization that
//! arms the virtual card for one visit at one provider. Amounts are integer minor units (cents)
//! with an ISO currency in lower case, as on Stripe's wire.
//!
//! The phone never sends its own card number to the platform: it creates a PaymentMethod at the
//! PSP with the publishable key of [`PaymentSetup`], then hands the platform only its `pm_…` id.

use serde::{Deserialize, Serialize};

/// `GET /v1/me/payment_setup`: where and with which publishable key the phone registers the
/// member's own card at the PSP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSetup {
    /// Always `"payment_setup"`.
    pub object: String,
    /// The PSP's base URL (`POST {psp_url}/v1/payment_methods`).
    pub psp_url: String,
    /// `pk_test_…`: allowed to create payment methods only.
    pub publishable_key: String,
}

/// `POST /v1/me/payment_method`: save (or replace) the member's own card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavePaymentMethodRequest {
    /// The `pm_…` the phone created at the PSP.
    pub payment_method: String,
}

/// Where the member's own card stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethodStatus {
    /// Saved and usable off-session for remainders.
    Active,
    /// The bank wants the member to authenticate: open `next_action_url`.
    RequiresAction,
    /// The bank refused it (see `decline_code`).
    Failed,
}

/// `GET`/`POST /v1/me/payment_method`: the member's own card, as the app may know it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPaymentMethod {
    /// Always `"member_payment_method"`.
    pub object: String,
    /// The `pm_…`.
    pub payment_method: String,
    /// Where the setup stands.
    pub status: PaymentMethodStatus,
    /// `visa`, `mastercard`…
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// Expiry month, 1–12.
    pub exp_month: u32,
    /// Expiry year, four digits.
    pub exp_year: u32,
    /// The PSP's `seti_…` behind it.
    pub setup_intent: String,
    /// The challenge page to open when `status` is `requires_action`.
    pub next_action_url: Option<String>,
    /// Stripe's decline code when `status` is `failed` (`card_declined`, `insufficient_funds`…).
    pub decline_code: Option<String>,
}

/// `POST /v1/visits`: authorize one visit from the phone's offline preview. The platform prices it
/// again with the same engine; a preview whose figures no longer hold is refused with 409
/// `preview_stale` and the server's figures in [`StalePreview`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeVisitRequest {
    /// Who is treated.
    pub beneficiary_id: String,
    /// By whom.
    pub provider_id: String,
    /// Which act.
    pub act_code: String,
    /// What the provider charges, in minor units.
    pub price: i64,
    /// `eur`.
    pub currency: String,
    /// Care date, `YYYY-MM-DD`.
    pub date: String,
    /// The phone's preview id (commits to the inputs and the figures).
    pub preview_id: String,
    /// The three shares the phone showed, in minor units.
    pub amo: i64,
    /// See `amo`.
    pub amc: i64,
    /// See `amo`.
    pub member: i64,
}

/// The body of a 409 `preview_stale`: the usual Stripe-shaped `error`, plus the figures that hold
/// now, so the app can show them without another round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StalePreview {
    /// The server's preview id.
    pub preview_id: String,
    /// Statutory share now, minor units.
    pub amo: i64,
    /// Complementary share now, minor units.
    pub amc: i64,
    /// Member's share now, minor units.
    pub member: i64,
}

/// Where a visit stands. `armed` → `authorized` (the tap was approved) → `paid` (captured and
/// settled); or `canceled` (by the member), `expired` (no tap in time), `reversed` (the terminal
/// reversed the tap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// The card pays this visit only, until `expires_at`.
    Armed,
    /// The tap was approved; the terminal has not captured yet.
    Authorized,
    /// Captured: the provider is paid, the shares are settled.
    Paid,
    /// Cancelled by the member before the tap; the hold on the member's card is released.
    Canceled,
    /// No tap before `expires_at`; the hold is released.
    Expired,
    /// The terminal reversed or let the authorization expire.
    Reversed,
}

/// What the settlement of a paid visit moved, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSettlement {
    /// Paid to the provider (the whole price).
    pub provider_paid: i64,
    /// Collected from statutory insurance.
    pub amo: i64,
    /// Collected from the complementary insurer.
    pub amc: i64,
    /// Captured on the member's own card.
    pub member_captured: i64,
    /// What could not be captured from the member and became arrears (0 normally).
    pub arrears: i64,
    /// When it settled, Unix seconds.
    pub settled_at: i64,
}

/// One visit authorization, as the app lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// Always `"visit"`.
    pub object: String,
    /// `vis_…`
    pub id: String,
    /// Where it stands.
    pub status: VisitStatus,
    /// Who was treated.
    pub beneficiary_id: String,
    /// By whom.
    pub provider_id: String,
    /// The provider's name as the member knows it.
    pub provider_name: String,
    /// Which act.
    pub act_code: String,
    /// Care date, `YYYY-MM-DD`.
    pub date: String,
    /// `eur`.
    pub currency: String,
    /// The price, minor units.
    pub price: i64,
    /// Statutory share, minor units.
    pub amo: i64,
    /// Complementary share, minor units.
    pub amc: i64,
    /// Member's share, minor units (held on the member's card until capture).
    pub member: i64,
    /// The preview the member authorized.
    pub preview_id: String,
    /// The hold on the member's card (`pi_…`), none when the member pays nothing.
    pub payment_intent: Option<String>,
    /// The tap (`iauth_…`) once there was one.
    pub authorization: Option<String>,
    /// Created, Unix seconds.
    pub created: i64,
    /// The card is armed until then, Unix seconds.
    pub expires_at: i64,
    /// Why a tap for this visit was last declined, in Stripe's reason vocabulary plus the
    /// platform's own cause (`amount_mismatch`, `velocity`…).
    pub last_decline: Option<String>,
    /// Once paid.
    pub settlement: Option<VisitSettlement>,
}

/// `GET /v1/visits`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitList {
    /// Always `"list"`.
    pub object: String,
    /// The visits.
    pub data: Vec<Visit>,
    /// More exist past the last one (`starting_after`).
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_use_the_wire_names() {
        assert_eq!(
            serde_json::to_string(&VisitStatus::Authorized).unwrap(),
            "\"authorized\""
        );
        assert_eq!(
            serde_json::from_str::<PaymentMethodStatus>("\"requires_action\"").unwrap(),
            PaymentMethodStatus::RequiresAction
        );
    }

    #[test]
    fn authorize_request_refuses_unknown_fields() {
        let body = r#"{"beneficiary_id":"b","provider_id":"p","act_code":"G","price":3000,
            "currency":"eur","date":"2026-03-02","preview_id":"pv","amo":1900,"amc":900,
            "member":200,"approve_everything":true}"#;
        assert!(serde_json::from_str::<AuthorizeVisitRequest>(body).is_err());
    }
}
