//! The complementary refund (AMC, mutuelle) under a responsible contract (docs/coverage.md rules 5
//! and 6).
//!
//! The AMC counts from the *normal* statutory share (in-parcours rate × BR), never from what
//! the AMO actually paid: so it never covers the participation forfaitaire, the franchise nor
//! the out-of-parcours penalty, which stay with the member.

use rust_decimal::Decimal;

use super::amo::Statutory;
use super::model::{GuaranteeLine, QuoteRequest};
use super::money::{euros_fr, round_cents, two_places};
use super::statutory::StatutoryAmounts;

/// Which column of a percentage line applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// A sector 1 doctor, or a category not billed by doctors.
    Common,
    /// A doctor member of OPTAM / OPTAM-CO.
    Optam,
    /// A sector 2 or 3 doctor outside OPTAM (rule 6).
    NonOptam,
}

/// How the guarantee line applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// A percentage of BR.
    Percent {
        /// The percentage as the contract writes it.
        percent: Decimal,
        /// Whether it includes the statutory refund.
        includes_amo: bool,
        /// The column used.
        column: Column,
        /// The responsible-contract cap that lowered the line (rule 6), as a total rate
        /// including the statutory refund.
        capped_to: Option<Decimal>,
        /// `min(price, G × BR)`, to the cent: statutory and complementary refunds together.
        covered_total: Decimal,
    },
    /// A euro amount on top of the statutory refund.
    Euro {
        /// The line's amount.
        euro_amount: Decimal,
        /// What the annual ceiling kept from the member: the ceiling deduction.
        ceiling_cut: Decimal,
    },
}

/// The complementary side of a quote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Complementary {
    /// AMC paid, to the cent.
    pub amount: Decimal,
    /// How the line applied.
    pub line: Line,
}

/// Computes the AMC of `req`, already validated, given its statutory side.
pub(crate) fn complementary(
    req: &QuoteRequest,
    st: &Statutory,
    s: &StatutoryAmounts,
) -> Complementary {
    // Whatever the line says, the AMC never exceeds what the AMO leaves of the price.
    let left_after_amo = req.price - st.paid;
    match &req.guarantee {
        GuaranteeLine::PercentOfBase {
            percent_br,
            percent_br_non_optam,
            includes_amo,
        } => {
            let column = if st.non_optam {
                Column::NonOptam
            } else if req.provider.optam && super::amo::billed_by_doctor(req.act.category) {
                Column::Optam
            } else {
                Column::Common
            };
            // Rule 5: G includes the statutory refund; a line "on top" is converted first.
            let total_rate = |percent: Decimal| {
                let fraction = percent / Decimal::ONE_HUNDRED;
                if *includes_amo {
                    fraction
                } else {
                    fraction + st.normal_rate
                }
            };
            let percent = if st.non_optam {
                *percent_br_non_optam
            } else {
                *percent_br
            };
            let mut rate = total_rate(percent);
            let mut capped_to = None;
            if st.non_optam {
                // Rule 6: the cover of the excess over BR is at most 100 % BR, and at least
                // 20 points below the OPTAM cover.
                let optam_excess = total_rate(*percent_br) - Decimal::ONE;
                let excess_cap = (optam_excess - s.non_optam_gap)
                    .max(Decimal::ZERO)
                    .min(s.non_optam_excess_max);
                let cap = Decimal::ONE + excess_cap;
                if rate > cap {
                    rate = cap;
                    capped_to = Some(cap);
                }
            }
            let covered_total = round_cents(rate * st.base).min(req.price);
            let amount = (covered_total - st.normal_share)
                .max(Decimal::ZERO)
                .min(left_after_amo);
            Complementary {
                amount,
                line: Line::Percent {
                    percent: percent.normalize(),
                    includes_amo: *includes_amo,
                    column,
                    capped_to,
                    covered_total,
                },
            }
        }
        GuaranteeLine::EuroAmount {
            euro_amount,
            ceiling_remaining,
        } => {
            // Rule 5: min(remaining amount, the line's amount, remaining annual ceiling).
            let remaining = (req.price - st.normal_share).max(Decimal::ZERO);
            let payable = remaining.min(*euro_amount);
            let paid = payable.min(*ceiling_remaining);
            Complementary {
                amount: round_cents(paid.min(left_after_amo)),
                line: Line::Euro {
                    euro_amount: *euro_amount,
                    ceiling_cut: round_cents(payable - paid),
                },
            }
        }
    }
}

impl Line {
    /// The label of the line, as [`super::Quote::guarantee_applied`] shows it:
    /// `"200 % BR incl. SS (OPTAM)"`, `"150.00 € lump sum"`.
    pub(crate) fn label_en(&self) -> String {
        match self {
            Line::Percent {
                percent,
                includes_amo,
                column,
                capped_to,
                ..
            } => {
                let form = if *includes_amo {
                    "incl. SS"
                } else {
                    "on top of SS"
                };
                let column = match (column, capped_to) {
                    (Column::Common, _) => String::new(),
                    (Column::Optam, _) => " (OPTAM)".to_owned(),
                    (Column::NonOptam, None) => " (non-OPTAM)".to_owned(),
                    (Column::NonOptam, Some(cap)) => format!(
                        " (non-OPTAM, capped at {} % BR incl. SS)",
                        super::money::percent_number(*cap)
                    ),
                };
                format!("{percent} % BR {form}{column}")
            }
            Line::Euro { euro_amount, .. } => format!("{} € lump sum", two_places(*euro_amount)),
        }
    }

    /// The same label in French, for the explanations.
    pub(crate) fn label_fr(&self) -> String {
        match self {
            Line::Percent {
                percent,
                includes_amo,
                column,
                capped_to,
                ..
            } => {
                let form = if *includes_amo {
                    "SS incluse"
                } else {
                    "en plus de la SS"
                };
                let column = match (column, capped_to) {
                    (Column::Common, _) => String::new(),
                    (Column::Optam, _) => " (OPTAM)".to_owned(),
                    (Column::NonOptam, None) => " (hors OPTAM)".to_owned(),
                    (Column::NonOptam, Some(cap)) => format!(
                        " (hors OPTAM, plafonnée à {} % BR SS incluse)",
                        french_number(super::money::percent_number(*cap))
                    ),
                };
                format!("{} % BR {form}{column}", french_number(*percent))
            }
            Line::Euro { euro_amount, .. } => format!("forfait de {}", euros_fr(*euro_amount)),
        }
    }
}

fn french_number(number: Decimal) -> String {
    number.to_string().replace('.', ",")
}
