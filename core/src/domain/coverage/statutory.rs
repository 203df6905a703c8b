//! The statutory amounts and thresholds the rules use. They change over time (the PF went
//! from 1 € to 2 € in 2024), so they are data: [`StatutoryAmounts::FRANCE_2025`] holds the
//! figures in force in 2025–2026, and [`super::quote_with`] takes any other set.

use rust_decimal::Decimal;

use super::model::QuoteError;

/// Amounts, caps and thresholds of the statutory rules (docs/coverage.md rules 2, 3 and 6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatutoryAmounts {
    /// The participation forfaitaire per consultation or act (2 €).
    pub participation_forfaitaire: Decimal,
    /// At most this many PF a day with the same professional (4).
    pub pf_max_per_day_same_provider: u32,
    /// Yearly cap of the PF (50 €).
    pub pf_yearly_cap: Decimal,
    /// Yearly cap of the franchises (50 €).
    pub franchise_yearly_cap: Decimal,
    /// Daily cap of the franchises on paramedical acts (4 €); one act never bears more.
    pub franchise_daily_cap_auxiliary: Decimal,
    /// Daily cap of the franchises on transport (8 €); one transport never bears more.
    pub franchise_daily_cap_transport: Decimal,
    /// Points of AMO rate lost outside the parcours de soins (0.40: 70 % becomes 30 %).
    pub out_of_parcours_reduction: Decimal,
    /// From this age on the care date, the out-of-parcours reduction applies (16).
    pub out_of_parcours_min_age: i32,
    /// Under this age on 1 January of the care year, no PF nor franchise (18).
    pub levy_exemption_age: i32,
    /// A responsible contract covers the excess fees of a doctor outside OPTAM up to this
    /// fraction of BR (1.00: 100 % BR).
    pub non_optam_excess_max: Decimal,
    /// … and at least this fraction of BR below its cover of an OPTAM doctor (0.20).
    pub non_optam_gap: Decimal,
}

impl StatutoryAmounts {
    /// The amounts in force in metropolitan France in 2025–2026.
    pub const FRANCE_2025: StatutoryAmounts = StatutoryAmounts {
        participation_forfaitaire: Decimal::from_parts(2, 0, 0, false, 0),
        pf_max_per_day_same_provider: 4,
        pf_yearly_cap: Decimal::from_parts(50, 0, 0, false, 0),
        franchise_yearly_cap: Decimal::from_parts(50, 0, 0, false, 0),
        franchise_daily_cap_auxiliary: Decimal::from_parts(4, 0, 0, false, 0),
        franchise_daily_cap_transport: Decimal::from_parts(8, 0, 0, false, 0),
        out_of_parcours_reduction: Decimal::from_parts(40, 0, 0, false, 2),
        out_of_parcours_min_age: 16,
        levy_exemption_age: 18,
        non_optam_excess_max: Decimal::ONE,
        non_optam_gap: Decimal::from_parts(20, 0, 0, false, 2),
    };

    /// Checks the amounts are usable: whole cents, not negative, fractions within 0..=1.
    /// Errors name the field as `statutory.<name>`.
    pub fn validate(&self) -> Result<(), QuoteError> {
        let cents = [
            ("participation_forfaitaire", self.participation_forfaitaire),
            ("pf_yearly_cap", self.pf_yearly_cap),
            ("franchise_yearly_cap", self.franchise_yearly_cap),
            (
                "franchise_daily_cap_auxiliary",
                self.franchise_daily_cap_auxiliary,
            ),
            (
                "franchise_daily_cap_transport",
                self.franchise_daily_cap_transport,
            ),
        ];
        for (name, amount) in cents {
            super::validate::money(amount)
                .map_err(|message| QuoteError::new(format!("statutory.{name}"), message))?;
        }
        let fractions = [
            ("out_of_parcours_reduction", self.out_of_parcours_reduction),
            ("non_optam_excess_max", self.non_optam_excess_max),
            ("non_optam_gap", self.non_optam_gap),
        ];
        for (name, fraction) in fractions {
            super::validate::rate(fraction)
                .map_err(|message| QuoteError::new(format!("statutory.{name}"), message))?;
        }
        for (name, age) in [
            ("out_of_parcours_min_age", self.out_of_parcours_min_age),
            ("levy_exemption_age", self.levy_exemption_age),
        ] {
            if !(0..=150).contains(&age) {
                return Err(QuoteError::new(
                    format!("statutory.{name}"),
                    "must be an age from 0 to 150",
                ));
            }
        }
        Ok(())
    }
}

impl Default for StatutoryAmounts {
    fn default() -> Self {
        StatutoryAmounts::FRANCE_2025
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2025_amounts_read_as_the_rules_state_them() {
        let s = StatutoryAmounts::default();
        assert_eq!(s.participation_forfaitaire.to_string(), "2");
        assert_eq!(s.pf_yearly_cap.to_string(), "50");
        assert_eq!(s.franchise_daily_cap_auxiliary.to_string(), "4");
        assert_eq!(s.franchise_daily_cap_transport.to_string(), "8");
        assert_eq!(s.out_of_parcours_reduction.to_string(), "0.40");
        assert_eq!(s.non_optam_gap.to_string(), "0.20");
        assert_eq!(s.validate(), Ok(()));
    }

    #[test]
    fn unusable_amounts_are_refused_by_name() {
        let s = StatutoryAmounts {
            participation_forfaitaire: -Decimal::ONE,
            ..StatutoryAmounts::FRANCE_2025
        };
        assert_eq!(
            s.validate().unwrap_err().field,
            "statutory.participation_forfaitaire"
        );
        let s = StatutoryAmounts {
            out_of_parcours_reduction: Decimal::TWO,
            ..StatutoryAmounts::FRANCE_2025
        };
        assert_eq!(
            s.validate().unwrap_err().field,
            "statutory.out_of_parcours_reduction"
        );
    }
}
