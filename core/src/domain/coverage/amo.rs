//! The statutory refund (AMO, part Sécurité sociale): the BR used, the rate (ALD, pregnancy,
//! parcours de soins), the participation forfaitaire and the franchise (docs/coverage.md rules 1–4
//! and the BR part of rule 6).
//!
//! Figures are rounded to the cent at each position (the normal share, the gross refund), so
//! every difference between them is exact and the member's share adds up to the cent.

use rust_decimal::Decimal;
use time::Date;

use super::model::{CareCategory, QuoteRequest};
use super::money::round_cents;
use super::statutory::StatutoryAmounts;

/// Why the AMO rate is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RateBasis {
    /// The act's own rate from the catalogue.
    Act,
    /// 100 %: care related to a long-term illness.
    Ald,
    /// 100 %: pregnancy from the 6th month.
    Pregnancy,
}

/// A cap that limited a PF or a franchise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cap {
    /// The PF's daily maximum with the same professional.
    DailySameProvider,
    /// The franchise's daily cap, which a single act cannot exceed either.
    DailyPerAct,
    /// The yearly cap.
    Yearly,
}

/// The outcome of the PF or the franchise for one act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Levy {
    /// The act does not bear it.
    NotApplicable,
    /// The beneficiary is exempt (under 18 on 1 January, CSS, AME, pregnancy).
    Exempt,
    /// Nothing is due: this cap is already reached.
    CapReached(Cap),
    /// An amount is due.
    Due {
        /// The amount due for this act, after the caps.
        amount: Decimal,
        /// The cap that reduced it, if any.
        reduced_by: Option<Cap>,
        /// The part withheld from this refund; the rest (when the refund is smaller than the
        /// amount due) is withheld from a later refund, outside this quote.
        withheld: Decimal,
    },
}

impl Levy {
    /// What this refund loses to it.
    pub(crate) fn withheld(self) -> Decimal {
        match self {
            Levy::Due { withheld, .. } => withheld,
            _ => Decimal::ZERO,
        }
    }
}

/// The statutory side of a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statutory {
    /// The catalogue's BR for this provider (the non-OPTAM one when rule 6 applies).
    pub catalogue_base: Decimal,
    /// The BR used: the catalogue's, or the price when the provider charges less.
    pub base: Decimal,
    /// Sector 2 or 3 doctor outside OPTAM (rule 6).
    pub non_optam: bool,
    /// Why the normal rate is what it is.
    pub basis: RateBasis,
    /// The in-parcours rate: the one the complementary insurer counts from (rule 5).
    pub normal_rate: Decimal,
    /// The rate applied (the normal rate, reduced outside the parcours).
    pub applied_rate: Decimal,
    /// Rule 2 applies.
    pub out_of_parcours: bool,
    /// `normal_rate × BR`, to the cent.
    pub normal_share: Decimal,
    /// `applied_rate × BR`, to the cent.
    pub gross: Decimal,
    /// The out-of-parcours penalty: `normal_share − gross`.
    pub penalty: Decimal,
    /// The participation forfaitaire.
    pub pf: Levy,
    /// The franchise.
    pub franchise: Levy,
    /// AMO paid: `gross − PF − franchise`, never below zero (rule 4).
    pub paid: Decimal,
}

/// Age in whole years on the day `(year, month, day)`. A 29 February birthday comes on
/// 1 March in other years.
fn age_on(birth: Date, year: i32, month: u8, day: u8) -> i32 {
    let before_birthday = (month, day) < (u8::from(birth.month()), birth.day());
    year - birth.year() - i32::from(before_birthday)
}

/// Rule 3: the PF applies to doctors' consultations and acts, radiology and lab tests, never
/// to dentists, midwives, auxiliaries, hospital stays, nor to medicines, optical or transport
/// (which bear franchises instead). The act's `pf` flag must also say so.
fn bears_pf(category: CareCategory) -> bool {
    matches!(
        category,
        CareCategory::Consultation
            | CareCategory::Specialist
            | CareCategory::Radiology
            | CareCategory::Lab
            | CareCategory::Other
    )
}

/// Rule 2: the parcours de soins concerns doctors' consultations and specialist acts.
fn follows_parcours(category: CareCategory) -> bool {
    matches!(
        category,
        CareCategory::Consultation | CareCategory::Specialist
    )
}

/// Rule 6: the categories billed by doctors, whose convention sector and OPTAM membership
/// set the BR and the guarantee column.
pub(crate) fn billed_by_doctor(category: CareCategory) -> bool {
    matches!(
        category,
        CareCategory::Consultation
            | CareCategory::Specialist
            | CareCategory::Radiology
            | CareCategory::Hospital
    )
}

/// Rule 3: the franchise's daily cap for the category, which a single act cannot exceed.
fn franchise_daily_cap(category: CareCategory, s: &StatutoryAmounts) -> Option<Decimal> {
    match category {
        CareCategory::Auxiliary => Some(s.franchise_daily_cap_auxiliary),
        CareCategory::Transport => Some(s.franchise_daily_cap_transport),
        _ => None,
    }
}

/// Computes the statutory side of `req`, already validated.
pub(crate) fn statutory(req: &QuoteRequest, s: &StatutoryAmounts) -> Statutory {
    let act = &req.act;
    let beneficiary = &req.beneficiary;
    let category = act.category;

    // Rule 6: a sector 2 or 3 doctor outside OPTAM is refunded on the lower non-OPTAM tariff.
    let non_optam = billed_by_doctor(category) && req.provider.sector >= 2 && !req.provider.optam;
    let catalogue_base = if non_optam {
        act.base_non_optam.unwrap_or(act.base)
    } else {
        act.base
    };
    // No refund ever exceeds what the care costs: a price below the tariff is the base.
    let base = catalogue_base.min(req.price);

    // Rule 1: the act's rate, or 100 % for ALD-related care and from the 6th month of
    // pregnancy (an act the catalogue does not refund stays at 0).
    let basis = if act.amo_rate.is_zero() {
        RateBasis::Act
    } else if beneficiary.ald {
        RateBasis::Ald
    } else if beneficiary.pregnant_6m {
        RateBasis::Pregnancy
    } else {
        RateBasis::Act
    };
    let normal_rate = match basis {
        RateBasis::Act => act.amo_rate,
        RateBasis::Ald | RateBasis::Pregnancy => Decimal::ONE,
    };

    // Rule 2: outside the parcours, a doctor's rate loses 40 points (70 % → 30 %), unless
    // the specialty is in direct access or the beneficiary is under 16 on the care date.
    let age_on_care_date = age_on(
        beneficiary.birth_date,
        req.date.year(),
        u8::from(req.date.month()),
        req.date.day(),
    );
    let out_of_parcours = follows_parcours(category)
        && !beneficiary.in_parcours
        && !req.provider.direct_access
        && age_on_care_date >= s.out_of_parcours_min_age;
    let applied_rate = if out_of_parcours {
        (normal_rate - s.out_of_parcours_reduction).max(Decimal::ZERO)
    } else {
        normal_rate
    };

    let normal_share = round_cents(normal_rate * base);
    let gross = round_cents(applied_rate * base);
    let penalty = normal_share - gross;

    // Rule 3: exemptions from the PF and the franchise. Age is taken on 1 January of the care
    // year; ALD does not exempt.
    let age_on_january_first = age_on(beneficiary.birth_date, req.date.year(), 1, 1);
    let exempt = age_on_january_first < s.levy_exemption_age
        || beneficiary.css
        || beneficiary.ame
        || beneficiary.pregnant_6m;

    let pf = if !(act.pf && bears_pf(category)) {
        Levy::NotApplicable
    } else if exempt {
        Levy::Exempt
    } else if beneficiary.pf_count_today_same_provider >= s.pf_max_per_day_same_provider {
        Levy::CapReached(Cap::DailySameProvider)
    } else {
        due(
            s.participation_forfaitaire,
            None,
            s.pf_yearly_cap,
            beneficiary.pf_paid_this_year,
            gross,
        )
    };

    let franchise = if act.franchise.is_zero() {
        Levy::NotApplicable
    } else if exempt {
        Levy::Exempt
    } else {
        due(
            act.franchise,
            franchise_daily_cap(category, s),
            s.franchise_yearly_cap,
            beneficiary.franchise_paid_this_year,
            gross - pf.withheld(),
        )
    };

    // Rule 4: the PF and the franchise come off the gross refund, never below zero.
    let paid = gross - pf.withheld() - franchise.withheld();

    Statutory {
        catalogue_base,
        base,
        non_optam,
        basis,
        normal_rate,
        applied_rate,
        out_of_parcours,
        normal_share,
        gross,
        penalty,
        pf,
        franchise,
        paid,
    }
}

/// A PF or franchise of `nominal`, limited by a per-act cap and by what is left of the yearly
/// cap, withheld from the `available` refund as far as it goes.
fn due(
    nominal: Decimal,
    per_act_cap: Option<Decimal>,
    yearly_cap: Decimal,
    paid_this_year: Decimal,
    available: Decimal,
) -> Levy {
    let mut amount = nominal;
    let mut reduced_by = None;
    if let Some(cap) = per_act_cap {
        if cap < amount {
            amount = cap;
            reduced_by = Some(Cap::DailyPerAct);
        }
    }
    let left_this_year = (yearly_cap - paid_this_year).max(Decimal::ZERO);
    if left_this_year.is_zero() {
        return Levy::CapReached(Cap::Yearly);
    }
    if left_this_year < amount {
        amount = left_this_year;
        reduced_by = Some(Cap::Yearly);
    }
    Levy::Due {
        amount,
        reduced_by,
        withheld: amount.min(available.max(Decimal::ZERO)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn ages_count_whole_years() {
        let birth = date!(2010 - 03 - 02);
        assert_eq!(age_on(birth, 2026, 3, 1), 15);
        assert_eq!(age_on(birth, 2026, 3, 2), 16);
        assert_eq!(age_on(birth, 2026, 1, 1), 15);
        let leap = date!(2008 - 02 - 29);
        assert_eq!(age_on(leap, 2026, 2, 28), 17);
        assert_eq!(age_on(leap, 2026, 3, 1), 18);
        assert_eq!(age_on(date!(2008 - 01 - 01), 2026, 1, 1), 18);
        assert_eq!(age_on(date!(2008 - 01 - 02), 2026, 1, 1), 17);
    }

    #[test]
    fn category_rules() {
        use CareCategory::*;
        for c in [
            Dental, Midwife, Auxiliary, Hospital, Pharmacy, Optical, Transport,
        ] {
            assert!(!bears_pf(c), "{c}");
        }
        for c in [Consultation, Specialist, Radiology, Lab] {
            assert!(bears_pf(c), "{c}");
        }
        assert!(follows_parcours(Consultation) && follows_parcours(Specialist));
        assert!(!follows_parcours(Radiology) && !follows_parcours(Dental));
        assert!(billed_by_doctor(Specialist) && !billed_by_doctor(Dental));
    }

    #[test]
    fn levies_respect_caps_and_the_available_refund() {
        let two = Decimal::TWO;
        let fifty = Decimal::from(50);
        let plenty = Decimal::from(100);
        assert_eq!(
            due(two, None, fifty, Decimal::ZERO, plenty),
            Levy::Due {
                amount: two,
                reduced_by: None,
                withheld: two
            }
        );
        assert_eq!(
            due(two, None, fifty, Decimal::from(49), plenty),
            Levy::Due {
                amount: Decimal::ONE,
                reduced_by: Some(Cap::Yearly),
                withheld: Decimal::ONE
            }
        );
        assert_eq!(
            due(two, None, fifty, fifty, plenty),
            Levy::CapReached(Cap::Yearly)
        );
        assert_eq!(
            due(
                Decimal::from(5),
                Some(Decimal::from(4)),
                fifty,
                Decimal::ZERO,
                plenty
            ),
            Levy::Due {
                amount: Decimal::from(4),
                reduced_by: Some(Cap::DailyPerAct),
                withheld: Decimal::from(4)
            }
        );
        assert_eq!(
            due(two, None, fifty, Decimal::ZERO, Decimal::new(120, 2)),
            Levy::Due {
                amount: two,
                reduced_by: None,
                withheld: Decimal::new(120, 2)
            }
        );
    }
}
