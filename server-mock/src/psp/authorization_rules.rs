//! The checks an authorization passes before anyone is asked (pure, no I/O, benchmarked with
//! callgrind): the card's status and expiry, then its spending controls (categories, merchant
//! countries, amount limits, the most restrictive winning), then the Issuing balance. A decline
//! here never reaches the real-time decision hook; its `reason` is Stripe's
//! (`card_inactive`, `card_canceled`, `card_expired`, `spending_controls`, `insufficient_funds`).
//!
//! Merchant categories are Stripe's names; [`MCCS`] maps the ones the mock knows to their
//! four-digit codes (`merchant_data.category_code`).

use tierspay_wallet::controls::{SpendingControls, HEALTHCARE_CATEGORIES, NOT_HEALTHCARE};

/// Merchant category codes of other common categories (the healthcare ones and their
/// look-alikes come from `tierspay_wallet::controls`).
const OTHER_MCCS: &[(&str, u16)] = &[
    ("ac_refrigeration_repair", 7623),
    ("bakeries", 5462),
    ("barber_and_beauty_shops", 7230),
    ("book_stores", 5942),
    ("car_rental_agencies", 7512),
    ("clothing_rental", 7296),
    ("cosmetic_stores", 5977),
    ("department_stores", 5311),
    ("drinking_places", 5813),
    ("eating_places_restaurants", 5812),
    ("fast_food_restaurants", 5814),
    ("grocery_stores_supermarkets", 5411),
    ("hotels_motels_and_resorts", 7011),
    ("miscellaneous_general_merchandise", 5399),
    ("miscellaneous_specialty_retail", 5999),
    ("service_stations", 5541),
    ("automated_fuel_dispensers", 5542),
    ("taxicabs_limousines", 4121),
    ("veterinary_services", 742),
];

/// Every category whose MCC the mock knows: (Stripe name, MCC).
pub fn mccs() -> impl Iterator<Item = (&'static str, u16)> {
    HEALTHCARE_CATEGORIES
        .iter()
        .chain(NOT_HEALTHCARE.iter())
        .chain(OTHER_MCCS.iter())
        .copied()
}

/// The MCC of a category name, if known.
pub fn category_code(name: &str) -> Option<u16> {
    mccs().find(|(n, _)| *n == name).map(|(_, c)| c)
}

/// The category name of an MCC, if known.
pub fn category_of_code(code: u16) -> Option<&'static str> {
    mccs().find(|(_, c)| *c == code).map(|(n, _)| n)
}

/// What the card is, for the checks.
#[derive(Debug, Clone, Copy)]
pub struct CardFacts<'a> {
    /// active | inactive | canceled.
    pub status: &'a str,
    /// The cardholder's: active | inactive | blocked.
    pub cardholder_status: &'a str,
    /// The status of the wallet token the tap came through, if any.
    pub token_status: Option<&'a str>,
    /// 1–12.
    pub exp_month: u8,
    /// Four digits.
    pub exp_year: i32,
    /// The card's controls.
    pub controls: &'a SpendingControls,
}

/// What the terminal asks.
#[derive(Debug, Clone, Copy)]
pub struct Tap<'a> {
    /// Minor units, positive.
    pub amount: i64,
    /// Stripe category name.
    pub category: &'a str,
    /// ISO alpha-2, if the merchant gave one.
    pub country: Option<&'a str>,
    /// The current year and month (for expiry).
    pub year_month: (i32, u8),
}

/// Why an authorization is declined before the hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    /// Stripe's `request_history[].reason`.
    pub reason: &'static str,
    /// `reason_message`.
    pub message: String,
}

fn decline(reason: &'static str, message: impl Into<String>) -> Result<(), Decline> {
    Err(Decline {
        reason,
        message: message.into(),
    })
}

/// Runs the checks in order. `spent[i]` is what `controls.spending_limits[i]` already counts in
/// its current interval (0 for `per_authorization`); `available` is the Issuing balance.
pub fn check(
    card: &CardFacts<'_>,
    tap: &Tap<'_>,
    spent: &[i64],
    available: i64,
) -> Result<(), Decline> {
    match card.status {
        "active" => {}
        "inactive" => return decline("card_inactive", "The card is inactive (frozen)."),
        _ => return decline("card_canceled", "The card is canceled."),
    }
    match card.cardholder_status {
        "active" => {}
        "blocked" => return decline("cardholder_blocked", "The cardholder is blocked."),
        _ => return decline("cardholder_inactive", "The cardholder is inactive."),
    }
    if let Some(status) = card.token_status {
        if status != "active" {
            return decline(
                "card_inactive",
                format!("The wallet token is {status}, not active."),
            );
        }
    }
    if (card.exp_year, card.exp_month) < tap.year_month {
        return decline("card_expired", "The card has expired.");
    }
    let c = card.controls;
    if let Some(allowed) = &c.allowed_categories {
        if !allowed.iter().any(|a| a == tap.category) {
            return decline(
                "spending_controls",
                format!(
                    "Merchant category {} is not allowed on this card.",
                    tap.category
                ),
            );
        }
    }
    if let Some(blocked) = &c.blocked_categories {
        if blocked.iter().any(|b| b == tap.category) {
            return decline(
                "spending_controls",
                format!(
                    "Merchant category {} is blocked on this card.",
                    tap.category
                ),
            );
        }
    }
    if let Some(allowed) = &c.allowed_merchant_countries {
        if !tap.country.is_some_and(|t| allowed.iter().any(|a| a == t)) {
            return decline(
                "spending_controls",
                format!(
                    "Merchant country {} is not allowed on this card.",
                    tap.country.unwrap_or("(none)")
                ),
            );
        }
    }
    if let Some(blocked) = &c.blocked_merchant_countries {
        if tap.country.is_some_and(|t| blocked.iter().any(|b| b == t)) {
            return decline(
                "spending_controls",
                format!(
                    "Merchant country {} is blocked on this card.",
                    tap.country.unwrap_or_default()
                ),
            );
        }
    }
    for (i, limit) in c.spending_limits.iter().enumerate() {
        let applies = limit
            .categories
            .as_ref()
            .is_none_or(|cats| cats.iter().any(|k| k == tap.category));
        if !applies {
            continue;
        }
        let already = if limit.interval == "per_authorization" {
            0
        } else {
            spent.get(i).copied().unwrap_or(0)
        };
        if already.saturating_add(tap.amount) > limit.amount {
            return decline(
                "spending_controls",
                format!(
                    "The {} spending limit of {} is exceeded.",
                    limit.interval, limit.amount
                ),
            );
        }
    }
    if available < tap.amount {
        return decline(
            "insufficient_funds",
            "The Issuing balance cannot cover this amount.",
        );
    }
    Ok(())
}

/// The start (Unix seconds, UTC) of the interval containing `now` that a limit counts over, as
/// Stripe resets them: daily at midnight, weekly on Sunday, monthly on the 1st, yearly on
/// 1 January; `all_time` from the beginning; `None` for `per_authorization`.
pub fn interval_start(interval: &str, now: i64) -> Option<i64> {
    let day = now.div_euclid(86_400) * 86_400;
    let date = time::OffsetDateTime::from_unix_timestamp(day).ok()?;
    match interval {
        "daily" => Some(day),
        // 1970-01-01 was a Thursday: days since the last Sunday.
        "weekly" => Some(day - ((now.div_euclid(86_400) + 4).rem_euclid(7)) * 86_400),
        "monthly" => Some(day - (i64::from(date.day()) - 1) * 86_400),
        "yearly" => Some(day - (i64::from(date.ordinal()) - 1) * 86_400),
        "all_time" => Some(i64::MIN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(controls: &SpendingControls) -> CardFacts<'_> {
        CardFacts {
            status: "active",
            cardholder_status: "active",
            token_status: None,
            exp_month: 12,
            exp_year: 2029,
            controls,
        }
    }

    fn tap(category: &str, amount: i64) -> Tap<'_> {
        Tap {
            amount,
            category,
            country: Some("FR"),
            year_month: (2026, 12),
        }
    }

    #[test]
    fn healthcare_card_allows_doctors_and_refuses_spas_and_bars() {
        let c = SpendingControls::healthcare();
        let spent = vec![0; c.spending_limits.len()];
        assert_eq!(
            check(&facts(&c), &tap("doctors", 2500), &spent, 10_000),
            Ok(())
        );
        for category in ["health_and_beauty_spas", "drinking_places"] {
            let e = check(&facts(&c), &tap(category, 2500), &spent, 10_000).unwrap_err();
            assert_eq!(e.reason, "spending_controls", "{category}");
        }
        assert_eq!(category_of_code(7298), Some("health_and_beauty_spas"));
        assert_eq!(category_of_code(5813), Some("drinking_places"));
        assert_eq!(category_code("doctors"), Some(8011));
    }

    #[test]
    fn order_is_status_expiry_controls_then_funds() {
        let c = SpendingControls::healthcare();
        let spent = vec![0; c.spending_limits.len()];
        let mut f = facts(&c);
        f.status = "inactive";
        let spa = tap("health_and_beauty_spas", 1);
        assert_eq!(
            check(&f, &spa, &spent, 0).unwrap_err().reason,
            "card_inactive"
        );
        f.status = "canceled";
        assert_eq!(
            check(&f, &spa, &spent, 0).unwrap_err().reason,
            "card_canceled"
        );
        f.status = "active";
        f.exp_year = 2026;
        f.exp_month = 11;
        assert_eq!(
            check(&f, &spa, &spent, 0).unwrap_err().reason,
            "card_expired"
        );
        f.exp_month = 12;
        assert_eq!(
            check(&f, &spa, &spent, 0).unwrap_err().reason,
            "spending_controls"
        );
        assert_eq!(
            check(&f, &tap("doctors", 1), &spent, 0).unwrap_err().reason,
            "insufficient_funds"
        );
        f.cardholder_status = "blocked";
        assert_eq!(
            check(&f, &tap("doctors", 1), &spent, 10)
                .unwrap_err()
                .reason,
            "cardholder_blocked"
        );
        f.cardholder_status = "active";
        f.token_status = Some("suspended");
        assert_eq!(
            check(&f, &tap("doctors", 1), &spent, 10)
                .unwrap_err()
                .reason,
            "card_inactive"
        );
    }

    #[test]
    fn the_most_restrictive_limit_wins_and_countries_count() {
        let c = SpendingControls::healthcare();
        let n = c.spending_limits.len();
        let f = facts(&c);
        // 1,500 € per authorization.
        assert_eq!(
            check(&f, &tap("doctors", 150_001), &vec![0; n], i64::MAX)
                .unwrap_err()
                .reason,
            "spending_controls"
        );
        assert_eq!(
            check(&f, &tap("doctors", 150_000), &vec![0; n], i64::MAX),
            Ok(())
        );
        // 3,000 € a day, 2,900 € already spent today.
        let daily: Vec<i64> = c
            .spending_limits
            .iter()
            .map(|l| if l.interval == "daily" { 290_000 } else { 0 })
            .collect();
        assert_eq!(
            check(&f, &tap("doctors", 20_000), &daily, i64::MAX)
                .unwrap_err()
                .reason,
            "spending_controls"
        );
        let mut abroad = tap("doctors", 100);
        abroad.country = Some("DE");
        assert_eq!(
            check(&f, &abroad, &vec![0; n], i64::MAX)
                .unwrap_err()
                .reason,
            "spending_controls"
        );
        abroad.country = None;
        assert_eq!(
            check(&f, &abroad, &vec![0; n], i64::MAX)
                .unwrap_err()
                .reason,
            "spending_controls"
        );
    }

    #[test]
    fn intervals_start_where_stripe_resets_them() {
        // 2026-12-01 (a Tuesday) 13:00 UTC.
        let now = 1_796_130_000;
        let midnight = 1_796_083_200;
        assert_eq!(interval_start("daily", now), Some(midnight));
        assert_eq!(interval_start("weekly", now), Some(midnight - 2 * 86_400));
        assert_eq!(interval_start("monthly", now), Some(midnight));
        assert_eq!(interval_start("yearly", now), Some(midnight - 334 * 86_400));
        assert_eq!(interval_start("per_authorization", now), None);
        assert_eq!(interval_start("all_time", now), Some(i64::MIN));
    }
}
