//! Table tests: the worked figures of docs/coverage.md, and more derived by hand from its rules.

use std::str::FromStr;

use rust_decimal::Decimal;
use time::macros::date;

use super::*;

pub(crate) fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// The example of docs/coverage.md: a GP, sector 1, adult in parcours, 30 €, a 100 % incl. SS
/// responsible contract. Each case edits it.
pub(crate) fn gp_visit() -> QuoteRequest {
    QuoteRequest {
        date: date!(2026 - 03 - 02),
        price: d("30.00"),
        act: Act {
            code: "G".to_owned(),
            category: CareCategory::Consultation,
            base: d("30.00"),
            base_non_optam: Some(d("23.00")),
            amo_rate: d("0.70"),
            pf: true,
            franchise: d("0.00"),
        },
        provider: ProviderTerms {
            sector: 1,
            optam: false,
            direct_access: false,
        },
        beneficiary: BeneficiaryTerms {
            birth_date: date!(1985 - 04 - 12),
            in_parcours: true,
            ald: false,
            css: false,
            ame: false,
            pregnant_6m: false,
            pf_paid_this_year: d("0.00"),
            franchise_paid_this_year: d("0.00"),
            pf_count_today_same_provider: 0,
        },
        guarantee: percent_line("100", "100", true),
    }
}

pub(crate) fn percent_line(optam: &str, non_optam: &str, includes_amo: bool) -> GuaranteeLine {
    GuaranteeLine::PercentOfBase {
        percent_br: d(optam),
        percent_br_non_optam: d(non_optam),
        includes_amo,
    }
}

/// A specialist (CS-like act, 30 € OPTAM tariff, 23 € non-OPTAM) charging `price`.
fn specialist(price: &str, sector: u8, optam: bool) -> QuoteRequest {
    let mut r = gp_visit();
    r.price = d(price);
    r.act.code = "CS".to_owned();
    r.act.category = CareCategory::Specialist;
    r.provider = ProviderTerms {
        sector,
        optam,
        direct_access: false,
    };
    r
}

struct Case {
    name: &'static str,
    req: QuoteRequest,
    amo: &'static str,
    amc: &'static str,
    member: &'static str,
    base: &'static str,
    rate: &'static str,
    deductions: &'static [(DeductionKind, &'static str)],
}

fn case(
    name: &'static str,
    edit: impl FnOnce(&mut QuoteRequest),
    (amo, amc, member): (&'static str, &'static str, &'static str),
    (base, rate): (&'static str, &'static str),
    deductions: &'static [(DeductionKind, &'static str)],
) -> Case {
    let mut req = gp_visit();
    edit(&mut req);
    Case {
        name,
        req,
        amo,
        amc,
        member,
        base,
        rate,
        deductions,
    }
}

use DeductionKind::{Ceiling, Franchise, OutOfParcours, ParticipationForfaitaire as Pf};

fn cases() -> Vec<Case> {
    vec![
        // --- The worked figures of docs/coverage.md ---
        case(
            "GP sector 1, adult, in parcours, 30 €",
            |_| {},
            ("19.00", "9.00", "2.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "the same visit outside the parcours",
            |r| r.beneficiary.in_parcours = false,
            ("7.00", "9.00", "14.00"),
            ("30.00", "0.30"),
            &[(OutOfParcours, "12.00"), (Pf, "2.00")],
        ),
        case(
            "GP, child under 6, 35 €: no PF",
            |r| {
                r.price = d("35.00");
                r.act.base = d("35.00");
                r.beneficiary.birth_date = date!(2022 - 05 - 10);
            },
            ("24.50", "10.50", "0.00"),
            ("35.00", "0.70"),
            &[],
        ),
        case(
            "dentist consultation 23 €, 60 %, no PF",
            |r| {
                r.price = d("23.00");
                r.act.code = "BDC".to_owned();
                r.act.category = CareCategory::Dental;
                r.act.base = d("23.00");
                r.act.base_non_optam = None;
                r.act.amo_rate = d("0.60");
                r.act.pf = false;
            },
            ("13.80", "9.20", "0.00"),
            ("23.00", "0.60"),
            &[],
        ),
        // --- Derived by hand from the rules ---
        case(
            // Rule 6: BR 23; OPTAM cover 200 % → excess cover ≤ min(100, 100 − 20) = 80 points,
            // so G = 180 %: 41.40 in all, AMO share 16.10, AMC 25.30.
            "specialist sector 2 non-OPTAM, 80 €, 200 %/200 % contract capped at 180 %",
            |r| {
                *r = specialist("80.00", 2, false);
                r.guarantee = percent_line("200", "200", true);
            },
            ("14.10", "25.30", "40.60"),
            ("23.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "specialist sector 2 OPTAM, 80 €, 200 % contract",
            |r| {
                *r = specialist("80.00", 2, true);
                r.guarantee = percent_line("200", "200", true);
            },
            ("19.00", "39.00", "22.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            // OPTAM 300 % → excess cap min(100, 200 − 20) = 100 points: G ≤ 200 %.
            "specialist sector 2 non-OPTAM, 80 €, 300 %/250 % contract capped at 200 %",
            |r| {
                *r = specialist("80.00", 2, false);
                r.guarantee = percent_line("300", "250", true);
            },
            ("14.10", "29.90", "36.00"),
            ("23.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            // Below the cap (OPTAM 200 % allows 180 %): the 150 % column applies as is.
            "specialist sector 2 non-OPTAM, 80 €, 200 %/150 % contract",
            |r| {
                *r = specialist("80.00", 2, false);
                r.guarantee = percent_line("200", "150", true);
            },
            ("14.10", "18.40", "47.50"),
            ("23.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            // OPTAM cover 100 %: no excess covered at all outside OPTAM.
            "specialist sector 3, 50 €, 100 % contract: no excess covered",
            |r| {
                *r = specialist("50.00", 3, false);
                r.guarantee = percent_line("100", "150", true);
            },
            ("14.10", "6.90", "29.00"),
            ("23.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            // Rule 6 without a lower tariff in the catalogue: the act's base, same cap.
            "specialist sector 2 non-OPTAM without a non-OPTAM tariff",
            |r| {
                *r = specialist("80.00", 2, false);
                r.act.base_non_optam = None;
                r.guarantee = percent_line("200", "200", true);
            },
            ("19.00", "33.00", "28.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "an act the catalogue does not refund stays at 0 %, even in ALD",
            |r| {
                r.act.amo_rate = d("0");
                r.act.pf = false;
                r.beneficiary.ald = true;
            },
            ("0.00", "30.00", "0.00"),
            ("30.00", "0.00"),
            &[],
        ),
        case(
            "ALD-related GP visit: 100 %, PF still due",
            |r| r.beneficiary.ald = true,
            ("28.00", "0.00", "2.00"),
            ("30.00", "1.00"),
            &[(Pf, "2.00")],
        ),
        case(
            "ALD specialist sector 2 OPTAM, 50 €: the contract covers the excess",
            |r| {
                *r = specialist("50.00", 2, true);
                r.beneficiary.ald = true;
                r.guarantee = percent_line("150", "130", true);
            },
            ("28.00", "15.00", "7.00"),
            ("30.00", "1.00"),
            &[(Pf, "2.00")],
        ),
        case(
            // 40 points off 100 %: 60 %; the contract still counts from 100 %.
            "ALD-related visit outside the parcours",
            |r| {
                r.beneficiary.ald = true;
                r.beneficiary.in_parcours = false;
            },
            ("16.00", "0.00", "14.00"),
            ("30.00", "0.60"),
            &[(OutOfParcours, "12.00"), (Pf, "2.00")],
        ),
        case(
            "CSS: no PF",
            |r| r.beneficiary.css = true,
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            "AME: no PF",
            |r| r.beneficiary.ame = true,
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            "PF yearly cap reached",
            |r| r.beneficiary.pf_paid_this_year = d("50.00"),
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            "PF yearly cap nearly reached: 1 € left",
            |r| r.beneficiary.pf_paid_this_year = d("49.00"),
            ("20.00", "9.00", "1.00"),
            ("30.00", "0.70"),
            &[(Pf, "1.00")],
        ),
        case(
            "3 PF today with this doctor: a 4th is due",
            |r| r.beneficiary.pf_count_today_same_provider = 3,
            ("19.00", "9.00", "2.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "4 PF today with this doctor: no 5th",
            |r| r.beneficiary.pf_count_today_same_provider = 4,
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            // 18 on the care date, but 17 on 1 January: exempt all year.
            "17 on 1 January, 18 on the care date: no PF",
            |r| {
                r.date = date!(2026 - 09 - 01);
                r.beneficiary.birth_date = date!(2008 - 06 - 15);
            },
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            "born 1 January 2008: 18 on 1 January 2026, PF due",
            |r| r.beneficiary.birth_date = date!(2008 - 01 - 01),
            ("19.00", "9.00", "2.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "born 2 January 2008: 17 on 1 January 2026, no PF",
            |r| r.beneficiary.birth_date = date!(2008 - 01 - 02),
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            "15 outside the parcours: keeps 70 %",
            |r| {
                r.beneficiary.birth_date = date!(2010 - 03 - 03);
                r.beneficiary.in_parcours = false;
            },
            ("21.00", "9.00", "0.00"),
            ("30.00", "0.70"),
            &[],
        ),
        case(
            "16 on the care date outside the parcours: 30 %, still no PF (15 on 1 January)",
            |r| {
                r.beneficiary.birth_date = date!(2010 - 03 - 02);
                r.beneficiary.in_parcours = false;
            },
            ("9.00", "9.00", "12.00"),
            ("30.00", "0.30"),
            &[(OutOfParcours, "12.00")],
        ),
        case(
            "direct-access specialist without referral: in the parcours",
            |r| {
                *r = specialist("30.00", 1, false);
                r.beneficiary.in_parcours = false;
                r.provider.direct_access = true;
            },
            ("19.00", "9.00", "2.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "pregnancy from the 6th month: 100 %, no PF",
            |r| r.beneficiary.pregnant_6m = true,
            ("30.00", "0.00", "0.00"),
            ("30.00", "1.00"),
            &[],
        ),
        case(
            // 100 % on top of SS = 170 % incl. SS: 51 ≥ 50, so the whole excess is covered.
            "guarantee on top of the AMO: specialist OPTAM 50 €, 100 % on top",
            |r| {
                *r = specialist("50.00", 2, true);
                r.guarantee = percent_line("100", "80", false);
            },
            ("19.00", "29.00", "2.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            // On top, out of parcours: G = 100 + normal 70 = 170 %, still counted from 70 %.
            "guarantee on top of the AMO outside the parcours",
            |r| {
                *r = specialist("50.00", 2, true);
                r.beneficiary.in_parcours = false;
                r.guarantee = percent_line("100", "80", false);
            },
            ("7.00", "29.00", "14.00"),
            ("30.00", "0.30"),
            &[(OutOfParcours, "12.00"), (Pf, "2.00")],
        ),
        case(
            // Frames: BR 0.05 €, 60 % → 0.03; the line pays min(299.97, 150, 100) = 100.
            "optical euro line, ceiling reached",
            |r| {
                r.price = d("300.00");
                r.act = Act {
                    code: "MONTURE".to_owned(),
                    category: CareCategory::Optical,
                    base: d("0.05"),
                    base_non_optam: None,
                    amo_rate: d("0.60"),
                    pf: false,
                    franchise: d("0"),
                };
                r.guarantee = GuaranteeLine::EuroAmount {
                    euro_amount: d("150.00"),
                    ceiling_remaining: d("100.00"),
                };
            },
            ("0.03", "100.00", "199.97"),
            ("0.05", "0.60"),
            &[(Ceiling, "50.00")],
        ),
        case(
            "optical euro line within the ceiling",
            |r| {
                r.price = d("120.00");
                r.act = Act {
                    code: "VERRE".to_owned(),
                    category: CareCategory::Optical,
                    base: d("0.05"),
                    base_non_optam: None,
                    amo_rate: d("0.60"),
                    pf: false,
                    franchise: d("0"),
                };
                r.guarantee = GuaranteeLine::EuroAmount {
                    euro_amount: d("150.00"),
                    ceiling_remaining: d("400.00"),
                };
            },
            ("0.03", "119.97", "0.00"),
            ("0.05", "0.60"),
            &[],
        ),
        case(
            "nurse act 10 €, 60 %, 1 € franchise",
            |r| {
                r.price = d("10.00");
                r.act = Act {
                    code: "AMI".to_owned(),
                    category: CareCategory::Auxiliary,
                    base: d("10.00"),
                    base_non_optam: None,
                    amo_rate: d("0.60"),
                    pf: true, // the flag alone does not bring a PF to an auxiliary
                    franchise: d("1.00"),
                };
            },
            ("5.00", "4.00", "1.00"),
            ("10.00", "0.60"),
            &[(Franchise, "1.00")],
        ),
        case(
            "franchise yearly cap nearly reached: 0.50 € left",
            |r| {
                r.price = d("10.00");
                r.act = Act {
                    code: "AMI".to_owned(),
                    category: CareCategory::Auxiliary,
                    base: d("10.00"),
                    base_non_optam: None,
                    amo_rate: d("0.60"),
                    pf: false,
                    franchise: d("1.00"),
                };
                r.beneficiary.franchise_paid_this_year = d("49.50");
            },
            ("5.50", "4.00", "0.50"),
            ("10.00", "0.60"),
            &[(Franchise, "0.50")],
        ),
        case(
            "a transport's franchise is bounded by its 8 € daily cap",
            |r| {
                r.price = d("100.00");
                r.act = Act {
                    code: "TAXI".to_owned(),
                    category: CareCategory::Transport,
                    base: d("100.00"),
                    base_non_optam: None,
                    amo_rate: d("0.55"),
                    pf: false,
                    franchise: d("10.00"),
                };
            },
            ("47.00", "45.00", "8.00"),
            ("100.00", "0.55"),
            &[(Franchise, "8.00")],
        ),
        case(
            "medicine box 15 % with franchise, CSS exempt",
            |r| {
                r.price = d("10.00");
                r.act = Act {
                    code: "CIP".to_owned(),
                    category: CareCategory::Pharmacy,
                    base: d("10.00"),
                    base_non_optam: None,
                    amo_rate: d("0.15"),
                    pf: false,
                    franchise: d("1.00"),
                };
                r.beneficiary.css = true;
            },
            ("1.50", "8.50", "0.00"),
            ("10.00", "0.15"),
            &[],
        ),
        case(
            // 70 % × 23.45 = 16.415 → 16.42; the contract's total 23.45 − 16.42 = 7.03, so the
            // member pays the PF exactly.
            "half-cent statutory share rounds up, and the member still pays the PF exactly",
            |r| {
                r.price = d("23.45");
                r.act.base = d("23.45");
            },
            ("14.42", "7.03", "2.00"),
            ("23.45", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "price below the tariff: refunded on the price",
            |r| r.price = d("20.00"),
            ("12.00", "6.00", "2.00"),
            ("20.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            // Lab act BR 2 €, 60 % → 1.20: the 2 € PF takes all of it.
            "a PF larger than the refund takes only what there is",
            |r| {
                r.price = d("2.00");
                r.act.code = "B".to_owned();
                r.act.category = CareCategory::Lab;
                r.act.base = d("2.00");
                r.act.amo_rate = d("0.60");
            },
            ("0.00", "0.80", "1.20"),
            ("2.00", "0.60"),
            &[(Pf, "1.20")],
        ),
        case(
            "no complementary cover at all (0 % line)",
            |r| r.guarantee = percent_line("0", "0", true),
            ("19.00", "0.00", "11.00"),
            ("30.00", "0.70"),
            &[(Pf, "2.00")],
        ),
        case(
            "free care: nothing to pay",
            |r| r.price = d("0"),
            ("0.00", "0.00", "0.00"),
            ("0.00", "0.70"),
            &[],
        ),
    ]
}

#[test]
fn worked_and_derived_figures() {
    for c in cases() {
        let q = quote(&c.req).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let got = (q.amo.to_string(), q.amc.to_string(), q.member.to_string());
        assert_eq!(
            got,
            (c.amo.to_owned(), c.amc.to_owned(), c.member.to_owned()),
            "{}",
            c.name
        );
        assert_eq!(q.base.to_string(), c.base, "{}: base", c.name);
        assert_eq!(money::rate_string(q.amo_rate), c.rate, "{}: rate", c.name);
        let deductions: Vec<(DeductionKind, String)> = q
            .deductions
            .iter()
            .map(|x| (x.kind, x.amount.to_string()))
            .collect();
        let expected: Vec<(DeductionKind, String)> = c
            .deductions
            .iter()
            .map(|(kind, amount)| (*kind, (*amount).to_owned()))
            .collect();
        assert_eq!(deductions, expected, "{}: deductions", c.name);
        assert_eq!(q.amo + q.amc + q.member, c.req.price, "{}: sum", c.name);
        assert!(!q.explanations.is_empty());
    }
}

#[test]
fn labels_name_the_line_and_column() {
    let mut r = specialist("80.00", 2, true);
    r.guarantee = percent_line("200", "150", true);
    assert_eq!(
        quote(&r).unwrap().guarantee_applied,
        "200 % BR incl. SS (OPTAM)"
    );
    r.provider.optam = false;
    assert_eq!(
        quote(&r).unwrap().guarantee_applied,
        "150 % BR incl. SS (non-OPTAM)"
    );
    r.guarantee = percent_line("200", "200", true);
    assert_eq!(
        quote(&r).unwrap().guarantee_applied,
        "200 % BR incl. SS (non-OPTAM, capped at 180 % BR incl. SS)"
    );
    r.guarantee = percent_line("87.5", "50", false);
    r.provider.optam = true;
    assert_eq!(
        quote(&r).unwrap().guarantee_applied,
        "87.5 % BR on top of SS (OPTAM)"
    );
    let mut r = gp_visit();
    r.guarantee = GuaranteeLine::EuroAmount {
        euro_amount: d("150"),
        ceiling_remaining: d("150"),
    };
    assert_eq!(quote(&r).unwrap().guarantee_applied, "150.00 € lump sum");
}

#[test]
fn explanations_tell_each_step_in_both_languages() {
    let mut r = gp_visit();
    r.beneficiary.in_parcours = false;
    let q = quote(&r).unwrap();
    let fr: Vec<&str> = q.explanations.iter().map(|e| e.fr.as_str()).collect();
    let en: Vec<&str> = q.explanations.iter().map(|e| e.en.as_str()).collect();
    assert!(fr
        .iter()
        .any(|s| s.contains("Hors parcours") && s.contains("12,00\u{a0}€")));
    assert!(en.iter().any(|s| s.contains("30% instead of 70%")));
    assert!(fr
        .iter()
        .any(|s| s.starts_with("Participation forfaitaire de 2,00\u{a0}€")));
    assert!(en.iter().any(|s| s.contains("€9.00")));
    assert_eq!(fr.last(), Some(&"Reste à votre charge : 14,00\u{a0}€."));
    assert_eq!(en.last(), Some(&"Left for you to pay: €14.00."));
    // No personal data: neither the birth date nor the year's counters.
    for e in &q.explanations {
        assert!(!e.fr.contains("1985") && !e.en.contains("1985"));
    }

    let mut r = gp_visit();
    r.beneficiary.pf_count_today_same_provider = 4;
    let q = quote(&r).unwrap();
    assert!(q
        .explanations
        .iter()
        .any(|e| e.en.contains("4 a day with this professional")));

    let mut r = gp_visit();
    r.guarantee = GuaranteeLine::EuroAmount {
        euro_amount: d("5"),
        ceiling_remaining: d("1"),
    };
    let q = quote(&r).unwrap();
    assert!(q
        .explanations
        .iter()
        .any(|e| e.fr.contains("Plafond annuel") && e.fr.contains("4,00\u{a0}€")));
}

#[test]
fn out_of_range_requests_are_refused_by_field() {
    let refused = |edit: &dyn Fn(&mut QuoteRequest)| {
        let mut r = gp_visit();
        edit(&mut r);
        quote(&r).unwrap_err().field
    };
    assert_eq!(refused(&|r| r.price = d("-1")), "price");
    assert_eq!(refused(&|r| r.act.amo_rate = d("1.5")), "act.amo_rate");
    assert_eq!(refused(&|r| r.provider.sector = 4), "provider.sector");
    assert_eq!(refused(&|r| r.provider.sector = 0), "provider.sector");
    assert_eq!(refused(&|r| r.act.base = d("-30")), "act.base");
    assert_eq!(
        refused(&|r| r.act.base_non_optam = Some(d("0.001"))),
        "act.base_non_optam"
    );
    assert_eq!(refused(&|r| r.act.franchise = d("-1")), "act.franchise");
    assert_eq!(refused(&|r| r.act.code = " ".to_owned()), "act.code");
    assert_eq!(
        refused(&|r| r.beneficiary.birth_date = date!(2030 - 01 - 01)),
        "beneficiary.birth_date"
    );
    assert_eq!(
        refused(&|r| r.beneficiary.pf_paid_this_year = d("-2")),
        "beneficiary.pf_paid_this_year"
    );
    assert_eq!(
        refused(&|r| r.guarantee = percent_line("100", "-1", true)),
        "guarantee.percent_br_non_optam"
    );
    assert_eq!(
        refused(&|r| {
            r.guarantee = GuaranteeLine::EuroAmount {
                euro_amount: d("1e9"),
                ceiling_remaining: d("0"),
            }
        }),
        "guarantee.euro_amount"
    );
    assert_eq!(refused(&|r| r.price = Decimal::MAX), "price");
}

#[test]
fn other_statutory_amounts_apply() {
    let one_euro_pf = StatutoryAmounts {
        participation_forfaitaire: d("1"),
        ..StatutoryAmounts::default()
    };
    let q = quote_with(&gp_visit(), &one_euro_pf).unwrap();
    assert_eq!(
        (q.amo.to_string(), q.member.to_string()),
        ("20.00".to_owned(), "1.00".to_owned())
    );
}
