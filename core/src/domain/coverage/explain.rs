//! Member-facing explanations of a quote, in French and English: one short sentence per step
//! and per deduction, which the shells show as is. They state amounts, rates and rules, never
//! personal data (no name, birth date, age or yearly counters).

use rust_decimal::Decimal;

use super::amc::{Complementary, Line};
use super::amo::{Cap, Levy, RateBasis, Statutory};
use super::model::Explanation;
use super::money::{euros_en, euros_fr, percent_en, percent_fr};
use super::statutory::StatutoryAmounts;

fn say(fr: String, en: String) -> Explanation {
    Explanation { fr, en }
}

/// The explanations of a quote, in the order the rules apply.
pub(crate) fn explanations(
    price: Decimal,
    st: &Statutory,
    amc: &Complementary,
    member: Decimal,
    s: &StatutoryAmounts,
) -> Vec<Explanation> {
    let mut out = Vec::with_capacity(9);

    // The BR.
    if st.non_optam {
        out.push(say(
            format!(
                "Médecin hors OPTAM : la Sécurité sociale rembourse sur la base du tarif hors OPTAM, {}.",
                euros_fr(st.catalogue_base)
            ),
            format!(
                "Doctor outside OPTAM: social security refunds on the lower non-OPTAM tariff, {}.",
                euros_en(st.catalogue_base)
            ),
        ));
    } else {
        out.push(say(
            format!(
                "Base de remboursement de la Sécurité sociale : {}.",
                euros_fr(st.catalogue_base)
            ),
            format!(
                "Social security reimbursement base: {}.",
                euros_en(st.catalogue_base)
            ),
        ));
    }
    if st.base < st.catalogue_base {
        out.push(say(
            format!(
                "Le prix est inférieur à ce tarif : le remboursement est calculé sur le prix, {}.",
                euros_fr(st.base)
            ),
            format!(
                "The price is below this tariff: the refund is computed on the price, {}.",
                euros_en(st.base)
            ),
        ));
    }

    // The rate.
    match st.basis {
        RateBasis::Act => {}
        RateBasis::Ald => out.push(say(
            "Soins liés à une affection de longue durée : pris en charge à 100\u{a0}% par la Sécurité sociale.".to_owned(),
            "Care related to a long-term illness (ALD): covered at 100% by social security.".to_owned(),
        )),
        RateBasis::Pregnancy => out.push(say(
            "À partir du 6e mois de grossesse : soins pris en charge à 100\u{a0}% par la Sécurité sociale.".to_owned(),
            "From the 6th month of pregnancy: care covered at 100% by social security.".to_owned(),
        )),
    }
    if st.out_of_parcours {
        out.push(say(
            format!(
                "Hors parcours de soins coordonnés : remboursement à {} au lieu de {}, soit {} de moins, que la mutuelle ne prend pas en charge.",
                percent_fr(st.applied_rate),
                percent_fr(st.normal_rate),
                euros_fr(st.penalty)
            ),
            format!(
                "Outside the coordinated care pathway: refund at {} instead of {}, {} less, which your complementary insurer does not cover.",
                percent_en(st.applied_rate),
                percent_en(st.normal_rate),
                euros_en(st.penalty)
            ),
        ));
    }
    out.push(say(
        format!(
            "La Sécurité sociale rembourse {} de la base : {}.",
            percent_fr(st.applied_rate),
            euros_fr(st.gross)
        ),
        format!(
            "Social security refunds {} of the base: {}.",
            percent_en(st.applied_rate),
            euros_en(st.gross)
        ),
    ));

    // The PF and the franchise.
    levy(
        &mut out,
        st.pf,
        ("La participation forfaitaire", "Participation forfaitaire"),
        (
            "The flat contribution (participation forfaitaire)",
            "Flat contribution (participation forfaitaire)",
        ),
        s.pf_max_per_day_same_provider,
        s.pf_yearly_cap,
    );
    levy(
        &mut out,
        st.franchise,
        ("La franchise médicale", "Franchise médicale"),
        (
            "The medical deductible (franchise)",
            "Medical deductible (franchise)",
        ),
        s.pf_max_per_day_same_provider,
        s.franchise_yearly_cap,
    );
    if !st.pf.withheld().is_zero() || !st.franchise.withheld().is_zero() {
        out.push(say(
            format!(
                "Remboursement de la Sécurité sociale : {}.",
                euros_fr(st.paid)
            ),
            format!("Social security refund: {}.", euros_en(st.paid)),
        ));
    }

    // The complementary insurer.
    match &amc.line {
        Line::Percent {
            capped_to,
            covered_total,
            ..
        } => {
            if let Some(cap) = capped_to {
                out.push(say(
                    format!(
                        "Médecin hors OPTAM : un contrat responsable couvre au plus {} de la base, Sécurité sociale incluse.",
                        percent_fr(*cap)
                    ),
                    format!(
                        "Doctor outside OPTAM: a responsible contract covers at most {} of the base, social security included.",
                        percent_en(*cap)
                    ),
                ));
            }
            out.push(say(
                format!(
                    "Votre mutuelle rembourse {} au titre de la garantie {}.",
                    euros_fr(amc.amount),
                    amc.line.label_fr()
                ),
                format!(
                    "Your complementary insurer refunds {} under the line {}.",
                    euros_en(amc.amount),
                    amc.line.label_en()
                ),
            ));
            // What neither refund reaches (the PF, franchise and penalty are told above).
            let uncovered = price - (*covered_total).max(st.normal_share);
            if uncovered > Decimal::ZERO {
                out.push(say(
                    format!(
                        "Part du prix au-delà de votre garantie : {}.",
                        euros_fr(uncovered)
                    ),
                    format!(
                        "Part of the price beyond your guarantee: {}.",
                        euros_en(uncovered)
                    ),
                ));
            }
        }
        Line::Euro {
            ceiling_cut,
            euro_amount,
        } => {
            out.push(say(
                format!(
                    "Votre mutuelle rembourse {} au titre de son forfait de {}.",
                    euros_fr(amc.amount),
                    euros_fr(*euro_amount)
                ),
                format!(
                    "Your complementary insurer refunds {} from its {} lump sum.",
                    euros_en(amc.amount),
                    euros_en(*euro_amount)
                ),
            ));
            if *ceiling_cut > Decimal::ZERO {
                out.push(say(
                    format!(
                        "Plafond annuel de la garantie atteint : {} non pris en charge par la mutuelle.",
                        euros_fr(*ceiling_cut)
                    ),
                    format!(
                        "The guarantee's yearly ceiling is reached: {} not covered by your complementary insurer.",
                        euros_en(*ceiling_cut)
                    ),
                ));
            }
        }
    }

    out.push(say(
        format!("Reste à votre charge : {}.", euros_fr(member)),
        format!("Left for you to pay: {}.", euros_en(member)),
    ));
    out
}

/// The sentence of a PF or a franchise. `fr`/`en` hold the name as a sentence subject and as
/// a title.
fn levy(
    out: &mut Vec<Explanation>,
    levy: Levy,
    (fr_subject, fr_title): (&str, &str),
    (en_subject, en_title): (&str, &str),
    daily_max: u32,
    yearly_cap: Decimal,
) {
    match levy {
        Levy::NotApplicable => {}
        Levy::Exempt => out.push(say(
            format!("{fr_subject} ne s'applique pas : ce bénéficiaire en est exonéré."),
            format!("{en_subject} does not apply: this beneficiary is exempt."),
        )),
        Levy::CapReached(Cap::Yearly) => out.push(say(
            format!(
                "{fr_subject} ne s'applique plus : son plafond annuel de {} est atteint.",
                euros_fr(yearly_cap)
            ),
            format!(
                "{en_subject} no longer applies: its yearly cap of {} is reached.",
                euros_en(yearly_cap)
            ),
        )),
        Levy::CapReached(_) => out.push(say(
            format!(
                "{fr_subject} ne s'applique plus aujourd'hui : le maximum de {daily_max} par jour chez ce professionnel est atteint."
            ),
            format!(
                "{en_subject} no longer applies today: the maximum of {daily_max} a day with this professional is reached."
            ),
        )),
        Levy::Due {
            amount,
            reduced_by,
            withheld,
        } => {
            let (fr_why, en_why) = match reduced_by {
                None => (String::new(), String::new()),
                Some(Cap::Yearly) => (
                    format!(" (limitée par son plafond annuel de {})", euros_fr(yearly_cap)),
                    format!(" (limited by its yearly cap of {})", euros_en(yearly_cap)),
                ),
                Some(_) => (
                    " (limitée par son plafond journalier)".to_owned(),
                    " (limited by its daily cap)".to_owned(),
                ),
            };
            let later = amount - withheld;
            if later > Decimal::ZERO {
                out.push(say(
                    format!(
                        "{fr_title} de {}{fr_why} : déduction de {} sur le remboursement de la Sécurité sociale, trop faible, et de {} sur un prochain remboursement ; la mutuelle ne la rembourse pas.",
                        euros_fr(amount),
                        euros_fr(withheld),
                        euros_fr(later)
                    ),
                    format!(
                        "{en_title} of {}{en_why}: {} taken off the social security refund, which is too small, and {} off a later refund; your complementary insurer does not refund it.",
                        euros_en(amount),
                        euros_en(withheld),
                        euros_en(later)
                    ),
                ));
            } else {
                out.push(say(
                    format!(
                        "{fr_title} de {}{fr_why} déduite du remboursement de la Sécurité sociale ; la mutuelle ne la rembourse pas.",
                        euros_fr(amount)
                    ),
                    format!(
                        "{en_title} of {}{en_why} taken off the social security refund; your complementary insurer does not refund it.",
                        euros_en(amount)
                    ),
                ));
            }
        }
    }
}
