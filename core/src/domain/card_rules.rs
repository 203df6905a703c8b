//! What the card may do, in words the member reads; and what to do with Google Pay given the
//! tokens TapAndPay already holds (push, resume identity verification, or nothing).

use rust_decimal::Decimal;

use crate::wire::CardControls;

/// A sentence in French and in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

/// (Stripe category, French, English) for the healthcare categories of docs/wallets.md.
const CATEGORIES: &[(&str, &str, &str)] = &[
    ("doctors", "médecins", "doctors"),
    ("dentists_orthodontists", "dentistes", "dentists"),
    ("osteopaths", "ostéopathes", "osteopaths"),
    ("chiropractors", "chiropracteurs", "chiropractors"),
    (
        "optometrists_ophthalmologist",
        "ophtalmologues",
        "ophthalmologists",
    ),
    ("opticians_eyeglasses", "opticiens", "opticians"),
    ("chiropodists_podiatrists", "podologues", "podiatrists"),
    ("nursing_personal_care", "soins infirmiers", "nursing care"),
    ("hospitals", "hôpitaux", "hospitals"),
    ("medical_and_dental_labs", "laboratoires", "medical labs"),
    ("medical_services", "autres soins", "other medical services"),
    ("drug_stores_and_pharmacies", "pharmacies", "pharmacies"),
    (
        "hearing_aids_sales_and_supplies",
        "audioprothésistes",
        "hearing aids",
    ),
    (
        "orthopedic_goods_prosthetic_devices",
        "orthopédie",
        "orthopedic goods",
    ),
];

fn euros(amount: Decimal) -> String {
    let whole = amount.trunc();
    if whole == amount {
        whole.to_string()
    } else {
        format!("{:.2}", amount)
    }
}

/// A card's expiry as printed on cards and typed in forms: `MM/YY`.
pub fn expiry(exp_month: u32, exp_year: u32) -> String {
    format!("{:02}/{:02}", exp_month, exp_year % 100)
}

/// Whether the member froze the card: the issuer's `inactive` status.
pub fn is_frozen(status: &str) -> bool {
    status == "inactive"
}

/// The card's controls as the member reads them.
pub fn describe(controls: &CardControls) -> Vec<Sentence> {
    let mut out = Vec::new();
    let (fr, en): (Vec<&str>, Vec<&str>) = controls
        .allowed_categories
        .iter()
        .map(|c| {
            CATEGORIES
                .iter()
                .find(|(key, _, _)| key == c)
                .map_or((c.as_str(), c.as_str()), |(_, fr, en)| (*fr, *en))
        })
        .unzip();
    if !fr.is_empty() {
        out.push(Sentence {
            fr: format!("Uniquement chez : {}.", fr.join(", ")),
            en: format!("Only at: {}.", en.join(", ")),
        });
    }
    if controls.allowed_merchant_countries == ["FR"] {
        out.push(Sentence {
            fr: "En France uniquement.".into(),
            en: "In France only.".into(),
        });
    } else if !controls.allowed_merchant_countries.is_empty() {
        let list = controls.allowed_merchant_countries.join(", ");
        out.push(Sentence {
            fr: format!("Pays acceptés : {list}."),
            en: format!("Countries: {list}."),
        });
    }
    for limit in &controls.spending_limits {
        let amount = euros(limit.amount);
        let (fr, en) = match limit.interval.as_str() {
            "per_authorization" => ("par paiement", "per payment"),
            "daily" => ("par jour", "a day"),
            "weekly" => ("par semaine", "a week"),
            "monthly" => ("par mois", "a month"),
            "yearly" => ("par an", "a year"),
            _ => ("au total", "in all"),
        };
        out.push(Sentence {
            fr: format!("Jusqu'à {amount} € {fr}."),
            en: format!("Up to €{amount} {en}."),
        });
    }
    out
}

/// A token TapAndPay's `listTokens()` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletToken {
    /// TapAndPay's issuer token id.
    pub token_id: String,
    /// Last four digits of the card (FPAN) the token stands for.
    pub fpan_last4: String,
    /// TapAndPay token state (1 untokenized … 5 active).
    pub state: i32,
}

/// TapAndPay token states (`TapAndPay.TOKEN_STATE_*`).
pub mod token_state {
    /// Not tokenized.
    pub const UNTOKENIZED: i32 = 1;
    /// Being tokenized.
    pub const PENDING: i32 = 2;
    /// Waiting for the member to verify their identity.
    pub const NEEDS_IDENTITY_VERIFICATION: i32 = 3;
    /// Suspended by the issuer.
    pub const SUSPENDED: i32 = 4;
    /// Ready to pay.
    pub const ACTIVE: i32 = 5;
}

/// What the Android shell should do to put the card in Google Pay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GooglePayStep {
    /// The card is already in the wallet and usable.
    AlreadyAdded,
    /// Already added but suspended (the card is frozen): unfreeze instead.
    Suspended,
    /// Tokenization is under way; nothing to do.
    InProgress,
    /// Resume with `tokenize(tokenId)`: identity verification is pending.
    Resume {
        /// The token to resume.
        token_id: String,
    },
    /// Push the card: ask the issuer for an OPC and call `pushTokenize`.
    Push,
}

/// Decides from `listTokens()` (matched on the card's last four digits).
pub fn google_pay_step(card_last4: &str, tokens: &[WalletToken]) -> GooglePayStep {
    let mine: Vec<&WalletToken> = tokens
        .iter()
        .filter(|t| t.fpan_last4 == card_last4)
        .collect();
    let has = |state| mine.iter().find(|t| t.state == state);
    if has(token_state::ACTIVE).is_some() {
        GooglePayStep::AlreadyAdded
    } else if let Some(t) = has(token_state::NEEDS_IDENTITY_VERIFICATION) {
        GooglePayStep::Resume {
            token_id: t.token_id.clone(),
        }
    } else if has(token_state::SUSPENDED).is_some() {
        GooglePayStep::Suspended
    } else if has(token_state::PENDING).is_some() {
        GooglePayStep::InProgress
    } else {
        GooglePayStep::Push
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::SpendingLimit;

    #[test]
    fn controls_read_as_sentences() {
        let controls = CardControls {
            allowed_categories: vec!["doctors".into(), "drug_stores_and_pharmacies".into()],
            allowed_merchant_countries: vec!["FR".into()],
            spending_limits: vec![SpendingLimit {
                amount: Decimal::new(1500, 0),
                interval: "per_authorization".into(),
            }],
        };
        let s = describe(&controls);
        assert_eq!(s[0].en, "Only at: doctors, pharmacies.");
        assert_eq!(s[1].fr, "En France uniquement.");
        assert_eq!(s[2].en, "Up to €1500 per payment.");
    }

    #[test]
    fn google_pay_push_only_when_nothing_usable_exists() {
        let t = |id: &str, last4: &str, state| WalletToken {
            token_id: id.into(),
            fpan_last4: last4.into(),
            state,
        };
        assert_eq!(google_pay_step("4242", &[]), GooglePayStep::Push);
        assert_eq!(
            google_pay_step("4242", &[t("a", "1111", token_state::ACTIVE)]),
            GooglePayStep::Push,
            "another card"
        );
        assert_eq!(
            google_pay_step("4242", &[t("a", "4242", token_state::ACTIVE)]),
            GooglePayStep::AlreadyAdded
        );
        assert_eq!(
            google_pay_step(
                "4242",
                &[
                    t("a", "4242", token_state::UNTOKENIZED),
                    t("b", "4242", token_state::NEEDS_IDENTITY_VERIFICATION)
                ]
            ),
            GooglePayStep::Resume {
                token_id: "b".into()
            }
        );
        assert_eq!(
            google_pay_step("4242", &[t("a", "4242", token_state::PENDING)]),
            GooglePayStep::InProgress
        );
        assert_eq!(
            google_pay_step("4242", &[t("a", "4242", token_state::SUSPENDED)]),
            GooglePayStep::Suspended
        );
    }
}
