//! The real-time decision on a tap of the virtual card: approve only the visit the member armed,
//! at that provider, for that amount, once, and only when the fraud rules pass. Pure: no I/O and
//! no clock read (time is a parameter), so every rule is unit-tested here and one decision is
//! benchmarked (`tests/benches/decision.rs`).
//!
//! The rules, in the order they are checked (the first that fails names the decline):
//! 1. a replayed authorization id is never approved (`replayed_authorization`);
//! 2. a frozen or canceled card (`card_inactive`);
//! 3. the merchant's country is allowed (`merchant_country`), its category is care
//!    (`merchant_category`: a spa, a bar);
//! 4. the card has a visit armed and still in time (`no_armed_visit`, `visit_expired`,
//!    `visit_used`);
//! 5. the merchant is that visit's provider, by network id (`provider_mismatch`), in its currency
//!    (`currency_mismatch`);
//! 6. velocity: taps and paid or authorized visits per card over the last day (`velocity`);
//! 7. a provider this contract never used, far from its usual city
//!    (`unfamiliar_provider_far_away`);
//! 8. the amount: the armed price, or within the tolerance once re-quoted with the engine
//!    (`amount_mismatch`), and never more for the member than the hold (`amount_over_hold`).

use tierspay_core::domain::search;
use tierspay_wallet::controls::HEALTHCARE_CATEGORIES;

/// Whether a merchant category code is care the card may pay: the healthcare categories the
/// card's spending controls allow (doctors, dentists, opticians, nursing, laboratories,
/// hospitals, pharmacies…), never their look-alikes (spas).
pub fn is_care(mcc: &str) -> bool {
    mcc.parse::<u16>()
        .is_ok_and(|code| HEALTHCARE_CATEGORIES.iter().any(|(_, c)| *c == code))
}

/// The configurable thresholds (from the server's `Limits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How far the tapped amount may be from the armed price, minor units either way; within
    /// it the visit is re-quoted at the tapped amount.
    pub amount_tolerance: i64,
    /// Taps per card over 24 hours, approved or not, before the next is declined.
    pub max_taps_per_day: u32,
    /// Authorized or paid visits per card over 24 hours before the next is declined.
    pub max_visits_per_day: u32,
    /// ISO 3166 alpha-2 countries where the card pays (`FR`).
    pub merchant_countries: Vec<String>,
    /// Distance from the contract's usual city beyond which a provider it never used is
    /// declined, in kilometres.
    pub far_km: u32,
}

/// What the card network says about the tap (`issuing_authorization.request`).
#[derive(Debug, Clone, Copy)]
pub struct Tap<'a> {
    /// `iauth_…`
    pub authorization: &'a str,
    /// What the terminal asks, minor units.
    pub amount: i64,
    /// `eur`.
    pub currency: &'a str,
    /// The merchant's network id.
    pub network_id: &'a str,
    /// Its category code.
    pub mcc: &'a str,
    /// Its country, ISO alpha-2.
    pub country: &'a str,
    /// Its city, as the network spells it.
    pub city: &'a str,
    /// The card is active (not frozen, not canceled).
    pub card_active: bool,
}

/// Where the card's latest visit stands, as the decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitState {
    /// Armed (maybe past its deadline: the decision checks).
    Armed,
    /// A tap was already approved, or it was paid.
    Used,
    /// Expired before any tap (swept already).
    Expired,
    /// Canceled or reversed: nothing armed.
    Closed,
}

/// The card's latest visit.
#[derive(Debug, Clone, Copy)]
pub struct VisitTerms<'a> {
    /// `vis_…`
    pub id: &'a str,
    /// Where it stands.
    pub state: VisitState,
    /// Armed until then, Unix seconds.
    pub expires_at: i64,
    /// The provider's network id.
    pub network_id: &'a str,
    /// `eur`.
    pub currency: &'a str,
    /// The armed price, minor units.
    pub price: i64,
    /// What the hold on the member's card covers, minor units.
    pub hold: i64,
}

/// What the platform knows of the card's and the contract's past.
#[derive(Debug, Clone, Copy, Default)]
pub struct History<'a> {
    /// This authorization id was decided before (under another event).
    pub authorization_seen: bool,
    /// Taps of this card over the last 24 hours.
    pub taps_last_day: u32,
    /// Visits of this card authorized or paid over the last 24 hours.
    pub visits_last_day: u32,
    /// The contract has paid a visit at this provider before.
    pub provider_used_before: bool,
    /// The city of most of the contract's paid visits, if it has any.
    pub usual_city: Option<&'a str>,
}

/// The engine's figures at the tapped amount, when it differs from the armed price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requote {
    /// The tapped amount.
    pub price: i64,
    /// Statutory share.
    pub amo: i64,
    /// Complementary share.
    pub amc: i64,
    /// The member's share.
    pub member: i64,
}

/// Why a tap is declined: recorded on the visit (`last_decline`) and sent in the answer's
/// metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The authorization id was already decided.
    ReplayedAuthorization,
    /// The card is frozen or canceled.
    CardInactive,
    /// The merchant is outside the allowed countries.
    MerchantCountry,
    /// The merchant is not a care provider.
    MerchantCategory,
    /// No visit is armed on the card.
    NoArmedVisit,
    /// The armed visit is past its deadline.
    VisitExpired,
    /// The visit was already used by an approved tap.
    VisitUsed,
    /// The merchant is not the armed visit's provider.
    ProviderMismatch,
    /// Another currency than the visit's.
    CurrencyMismatch,
    /// Too many taps or visits on the card today.
    Velocity,
    /// A provider the contract never used, far from its usual city.
    UnfamiliarProviderFarAway,
    /// The amount is outside the tolerance, or the engine cannot price it.
    AmountMismatch,
    /// Re-quoted, the member's share exceeds the hold on their card.
    AmountOverHold,
}

impl Reason {
    /// The name on the wire and in the visit's `last_decline`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::ReplayedAuthorization => "replayed_authorization",
            Reason::CardInactive => "card_inactive",
            Reason::MerchantCountry => "merchant_country",
            Reason::MerchantCategory => "merchant_category",
            Reason::NoArmedVisit => "no_armed_visit",
            Reason::VisitExpired => "visit_expired",
            Reason::VisitUsed => "visit_used",
            Reason::ProviderMismatch => "provider_mismatch",
            Reason::CurrencyMismatch => "currency_mismatch",
            Reason::Velocity => "velocity",
            Reason::UnfamiliarProviderFarAway => "unfamiliar_provider_far_away",
            Reason::AmountMismatch => "amount_mismatch",
            Reason::AmountOverHold => "amount_over_hold",
        }
    }
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Approve; with the new figures when the amount was re-quoted.
    Approve(Option<Requote>),
    /// The amount differs within the tolerance: price it at `amount` with the engine and decide
    /// again with the figures (`None` if the engine refuses it).
    NeedsRequote {
        /// The tapped amount to price.
        amount: i64,
    },
    /// Decline, for this reason.
    Decline(Reason),
}

/// Everything one decision reads.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The thresholds.
    pub policy: &'a Policy,
    /// The tap.
    pub tap: Tap<'a>,
    /// The card's latest visit, if any.
    pub visit: Option<VisitTerms<'a>>,
    /// The past.
    pub history: History<'a>,
    /// Business time, Unix seconds.
    pub now: i64,
}

/// Decides a tap. `requote` is the engine's answer to a previous [`Decision::NeedsRequote`]:
/// `Some(Some(figures))`, or `Some(None)` when the engine refused that amount.
pub fn decide(input: &Input<'_>, requote: Option<Option<Requote>>) -> Decision {
    use Decision::Decline;
    let Input {
        policy,
        tap,
        visit,
        history,
        now,
    } = *input;
    if history.authorization_seen {
        return Decline(Reason::ReplayedAuthorization);
    }
    if !tap.card_active {
        return Decline(Reason::CardInactive);
    }
    if !policy
        .merchant_countries
        .iter()
        .any(|c| c.eq_ignore_ascii_case(tap.country))
    {
        return Decline(Reason::MerchantCountry);
    }
    if !is_care(tap.mcc) {
        return Decline(Reason::MerchantCategory);
    }
    let visit = match visit {
        None => return Decline(Reason::NoArmedVisit),
        Some(v) => match v.state {
            VisitState::Closed => return Decline(Reason::NoArmedVisit),
            VisitState::Used => return Decline(Reason::VisitUsed),
            VisitState::Expired => return Decline(Reason::VisitExpired),
            VisitState::Armed if now >= v.expires_at => return Decline(Reason::VisitExpired),
            VisitState::Armed => v,
        },
    };
    if tap.network_id != visit.network_id {
        return Decline(Reason::ProviderMismatch);
    }
    if !tap.currency.eq_ignore_ascii_case(visit.currency) {
        return Decline(Reason::CurrencyMismatch);
    }
    if history.taps_last_day >= policy.max_taps_per_day
        || history.visits_last_day >= policy.max_visits_per_day
    {
        return Decline(Reason::Velocity);
    }
    if !history.provider_used_before {
        if let Some(usual) = history.usual_city {
            if distance_km(usual, tap.city).is_some_and(|km| km > f64::from(policy.far_km)) {
                return Decline(Reason::UnfamiliarProviderFarAway);
            }
        }
    }
    if tap.amount == visit.price {
        return Decision::Approve(None);
    }
    if tap.amount <= 0 || (tap.amount - visit.price).abs() > policy.amount_tolerance {
        return Decline(Reason::AmountMismatch);
    }
    match requote {
        None => Decision::NeedsRequote { amount: tap.amount },
        Some(None) => Decline(Reason::AmountMismatch),
        Some(Some(q)) if q.price != tap.amount => Decline(Reason::AmountMismatch),
        Some(Some(q)) if q.member > visit.hold => Decline(Reason::AmountOverHold),
        Some(Some(q)) => Decision::Approve(Some(q)),
    }
}

/// Where the directory's cities are (degrees): enough to tell a trip from a neighbourhood.
const CITY_COORDINATES: &[(&str, f64, f64)] = &[
    ("paris", 48.8566, 2.3522),
    ("lyon", 45.7640, 4.8357),
    ("marseille", 43.2965, 5.3698),
    ("toulouse", 43.6047, 1.4442),
    ("nice", 43.7102, 7.2620),
    ("nantes", 47.2184, -1.5536),
    ("strasbourg", 48.5734, 7.7521),
    ("montpellier", 43.6108, 3.8767),
    ("bordeaux", 44.8378, -0.5792),
    ("lille", 50.6292, 3.0573),
    ("rennes", 48.1173, -1.6778),
    ("reims", 49.2583, 4.0317),
    ("saint-etienne", 45.4397, 4.3872),
    ("le havre", 49.4944, 0.1079),
    ("toulon", 43.1242, 5.9280),
    ("grenoble", 45.1885, 5.7245),
    ("dijon", 47.3220, 5.0415),
    ("angers", 47.4784, -0.5632),
    ("nimes", 43.8367, 4.3601),
    ("clermont-ferrand", 45.7772, 3.0870),
];

fn coordinates(city: &str) -> Option<(f64, f64)> {
    let key = search::normalize(city);
    let key = key.trim();
    CITY_COORDINATES
        .iter()
        .find(|(name, _, _)| *name == key)
        .map(|&(_, lat, lon)| (lat, lon))
}

/// Great-circle distance between two known cities, in kilometres; `None` when either is not
/// known (the rule then cannot tell, and does not decline). Geometry, not money: floats are
/// fine here.
pub fn distance_km(a: &str, b: &str) -> Option<f64> {
    let (lat1, lon1) = coordinates(a)?;
    let (lat2, lon2) = coordinates(b)?;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    Some(2.0 * 6371.0 * h.sqrt().asin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            amount_tolerance: 500,
            max_taps_per_day: 10,
            max_visits_per_day: 4,
            merchant_countries: vec!["FR".into()],
            far_km: 150,
        }
    }

    fn tap() -> Tap<'static> {
        Tap {
            authorization: "iauth_1",
            amount: 3000,
            currency: "eur",
            network_id: "NETGP1",
            mcc: "8011",
            country: "FR",
            city: "PARIS",
            card_active: true,
        }
    }

    fn visit() -> VisitTerms<'static> {
        VisitTerms {
            id: "vis_1",
            state: VisitState::Armed,
            expires_at: 2_000,
            network_id: "NETGP1",
            currency: "eur",
            price: 3000,
            hold: 200,
        }
    }

    fn run(
        f: impl FnOnce(&mut Tap<'static>, &mut Option<VisitTerms<'static>>, &mut History<'static>),
    ) -> Decision {
        let policy = policy();
        let (mut t, mut v, mut h) = (tap(), Some(visit()), History::default());
        f(&mut t, &mut v, &mut h);
        decide(
            &Input {
                policy: &policy,
                tap: t,
                visit: v,
                history: h,
                now: 1_000,
            },
            None,
        )
    }

    fn declined(reason: Reason) -> Decision {
        Decision::Decline(reason)
    }

    #[test]
    fn the_armed_visit_at_its_provider_for_its_price_is_approved() {
        assert_eq!(run(|_, _, _| {}), Decision::Approve(None));
    }

    #[test]
    fn a_replayed_authorization_is_declined_first() {
        assert_eq!(
            run(|t, _, h| {
                h.authorization_seen = true;
                t.mcc = "5813";
            }),
            declined(Reason::ReplayedAuthorization)
        );
    }

    #[test]
    fn a_frozen_card_is_declined() {
        assert_eq!(
            run(|t, _, _| t.card_active = false),
            declined(Reason::CardInactive)
        );
    }

    #[test]
    fn abroad_is_declined_whatever_the_case_of_the_country() {
        assert_eq!(
            run(|t, _, _| t.country = "ES"),
            declined(Reason::MerchantCountry)
        );
        assert_eq!(run(|t, _, _| t.country = "fr"), Decision::Approve(None));
    }

    #[test]
    fn a_spa_or_a_bar_is_declined() {
        for mcc in ["7298", "5813", "5812", "", "80110", "x"] {
            assert_eq!(
                run(|t, _, _| t.mcc = mcc),
                declined(Reason::MerchantCategory),
                "{mcc}"
            );
        }
    }

    #[test]
    fn no_visit_or_a_closed_one_is_no_armed_visit() {
        assert_eq!(run(|_, v, _| *v = None), declined(Reason::NoArmedVisit));
        assert_eq!(
            run(|_, v, _| v.as_mut().unwrap().state = VisitState::Closed),
            declined(Reason::NoArmedVisit)
        );
    }

    #[test]
    fn a_visit_past_its_deadline_is_expired_to_the_second() {
        assert_eq!(
            run(|_, v, _| v.as_mut().unwrap().expires_at = 1_000),
            declined(Reason::VisitExpired)
        );
        assert_eq!(
            run(|_, v, _| v.as_mut().unwrap().expires_at = 1_001),
            Decision::Approve(None)
        );
    }

    #[test]
    fn a_visit_already_swept_as_expired_is_expired() {
        assert_eq!(
            run(|_, v, _| v.as_mut().unwrap().state = VisitState::Expired),
            declined(Reason::VisitExpired)
        );
    }

    #[test]
    fn a_used_visit_is_declined() {
        assert_eq!(
            run(|_, v, _| v.as_mut().unwrap().state = VisitState::Used),
            declined(Reason::VisitUsed)
        );
    }

    #[test]
    fn another_provider_is_declined() {
        assert_eq!(
            run(|t, _, _| t.network_id = "NETOTHER"),
            declined(Reason::ProviderMismatch)
        );
    }

    #[test]
    fn another_currency_is_declined() {
        assert_eq!(
            run(|t, _, _| t.currency = "usd"),
            declined(Reason::CurrencyMismatch)
        );
    }

    #[test]
    fn velocity_counts_taps_and_visits_up_to_their_limits() {
        assert_eq!(run(|_, _, h| h.taps_last_day = 9), Decision::Approve(None));
        assert_eq!(
            run(|_, _, h| h.taps_last_day = 10),
            declined(Reason::Velocity)
        );
        assert_eq!(
            run(|_, _, h| h.visits_last_day = 3),
            Decision::Approve(None)
        );
        assert_eq!(
            run(|_, _, h| h.visits_last_day = 4),
            declined(Reason::Velocity)
        );
    }

    #[test]
    fn an_unfamiliar_provider_far_from_the_usual_city_is_declined() {
        assert_eq!(
            run(|t, _, h| {
                h.usual_city = Some("Lyon");
                t.city = "PARIS";
            }),
            declined(Reason::UnfamiliarProviderFarAway)
        );
        // A provider used before, the usual city itself, a city nearby, a city the table does
        // not know, or no history at all: not declined.
        assert_eq!(
            run(|_, _, h| {
                h.usual_city = Some("Lyon");
                h.provider_used_before = true;
            }),
            Decision::Approve(None)
        );
        assert_eq!(
            run(|t, _, h| {
                h.usual_city = Some("Paris");
                t.city = "paris ";
            }),
            Decision::Approve(None)
        );
        assert_eq!(
            run(|t, _, h| {
                h.usual_city = Some("Lyon");
                t.city = "SAINT-ÉTIENNE";
            }),
            Decision::Approve(None)
        );
        assert_eq!(
            run(|t, _, h| {
                h.usual_city = Some("Lyon");
                t.city = "VILLEURBANNE";
            }),
            Decision::Approve(None)
        );
        assert_eq!(run(|t, _, _| t.city = "NICE"), Decision::Approve(None));
    }

    #[test]
    fn more_than_the_tolerance_is_declined_and_within_it_asks_for_a_requote() {
        assert_eq!(
            run(|t, _, _| t.amount = 3501),
            declined(Reason::AmountMismatch)
        );
        assert_eq!(
            run(|t, _, _| t.amount = 2499),
            declined(Reason::AmountMismatch)
        );
        assert_eq!(
            run(|t, _, _| t.amount = 0),
            declined(Reason::AmountMismatch)
        );
        assert_eq!(
            run(|t, _, _| t.amount = 3500),
            Decision::NeedsRequote { amount: 3500 }
        );
    }

    #[test]
    fn a_requote_is_approved_only_within_the_hold() {
        let policy = policy();
        let mut t = tap();
        t.amount = 2800;
        let input = Input {
            policy: &policy,
            tap: t,
            visit: Some(visit()),
            history: History::default(),
            now: 1_000,
        };
        let q = Requote {
            price: 2800,
            amo: 1760,
            amc: 840,
            member: 200,
        };
        assert_eq!(decide(&input, Some(Some(q))), Decision::Approve(Some(q)));
        let over = Requote { member: 201, ..q };
        assert_eq!(
            decide(&input, Some(Some(over))),
            declined(Reason::AmountOverHold)
        );
        assert_eq!(decide(&input, Some(None)), declined(Reason::AmountMismatch));
        let other = Requote { price: 2900, ..q };
        assert_eq!(
            decide(&input, Some(Some(other))),
            declined(Reason::AmountMismatch)
        );
    }

    #[test]
    fn distances_are_those_of_the_map() {
        let km = distance_km("Paris", "Lyon").unwrap();
        assert!((380.0..400.0).contains(&km), "{km}");
        assert_eq!(distance_km("Paris", "Paris"), Some(0.0));
        assert_eq!(distance_km("Paris", "Atlantis"), None);
    }

    #[test]
    fn every_reason_has_a_distinct_wire_name() {
        let all = [
            Reason::ReplayedAuthorization,
            Reason::CardInactive,
            Reason::MerchantCountry,
            Reason::MerchantCategory,
            Reason::NoArmedVisit,
            Reason::VisitExpired,
            Reason::VisitUsed,
            Reason::ProviderMismatch,
            Reason::CurrencyMismatch,
            Reason::Velocity,
            Reason::UnfamiliarProviderFarAway,
            Reason::AmountMismatch,
            Reason::AmountOverHold,
        ];
        let names: std::collections::HashSet<_> = all.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), all.len());
    }
}
