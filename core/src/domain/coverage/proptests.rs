//! Property tests where the rules combine: any valid request, any guarantee.

use std::str::FromStr;

use proptest::prelude::*;
use rust_decimal::Decimal;
use time::{Date, Duration};

use super::money::round_cents;
use super::*;

fn cents(max: i64) -> impl Strategy<Value = Decimal> {
    (0..=max).prop_map(|c| Decimal::new(c, 2))
}

fn rate() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        prop::sample::select(vec![0i64, 15, 30, 55, 60, 65, 70, 80, 100])
            .prop_map(|p| Decimal::new(p, 2)),
        (0i64..=1000).prop_map(|p| Decimal::new(p, 3)),
    ]
}

fn percent() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        prop::sample::select(vec![0i64, 50, 100, 125, 150, 200, 300, 400]).prop_map(Decimal::from),
        (0i64..=50_000).prop_map(|p| Decimal::new(p, 2)),
    ]
}

fn category() -> impl Strategy<Value = CareCategory> {
    prop::sample::select(CareCategory::ALL.to_vec())
}

fn guarantee() -> impl Strategy<Value = GuaranteeLine> {
    prop_oneof![
        3 => (percent(), percent(), any::<bool>()).prop_map(|(p, n, i)| GuaranteeLine::PercentOfBase {
            percent_br: p,
            percent_br_non_optam: n,
            includes_amo: i,
        }),
        1 => (cents(50_000), cents(50_000)).prop_map(|(e, c)| GuaranteeLine::EuroAmount {
            euro_amount: e,
            ceiling_remaining: c,
        }),
    ]
}

prop_compose! {
    fn act()(
        category in category(),
        base in cents(50_000),
        base_non_optam in prop::option::of(cents(50_000)),
        amo_rate in rate(),
        pf in any::<bool>(),
        franchise in prop::sample::select(vec![0i64, 50, 100, 400, 1000]).prop_map(|c| Decimal::new(c, 2)),
    ) -> Act {
        Act { code: "X".to_owned(), category, base, base_non_optam, amo_rate, pf, franchise }
    }
}

prop_compose! {
    fn provider()(sector in 1u8..=3, optam in any::<bool>(), direct_access in any::<bool>()) -> ProviderTerms {
        ProviderTerms { sector, optam: optam && sector != 3, direct_access }
    }
}

prop_compose! {
    fn request()(
        day in 0i64..=3650,
        age_days in 0i64..=(100 * 366),
        price in prop_oneof![cents(100_000), cents(5_000)],
        act in act(),
        provider in provider(),
        flags in prop::collection::vec(any::<bool>(), 6),
        pf_paid in cents(5_500),
        franchise_paid in cents(5_500),
        pf_count in 0u32..=6,
        guarantee in guarantee(),
    ) -> QuoteRequest {
        let date = Date::from_calendar_date(2020, time::Month::January, 1).unwrap() + Duration::days(day);
        let birth_date = date - Duration::days(age_days);
        QuoteRequest {
            date,
            price,
            act,
            provider,
            beneficiary: BeneficiaryTerms {
                birth_date,
                in_parcours: flags[0],
                ald: flags[1],
                css: flags[2] && flags[5],
                ame: flags[3] && flags[5],
                pregnant_6m: flags[4] && !flags[5],
                pf_paid_this_year: pf_paid,
                franchise_paid_this_year: franchise_paid,
                pf_count_today_same_provider: pf_count,
            },
            guarantee,
        }
    }
}

/// The guarantee, converted to a total rate including the AMO, before the rule-6 cap.
fn total_rate(req: &QuoteRequest, normal_rate: Decimal) -> Option<Decimal> {
    match req.guarantee {
        GuaranteeLine::PercentOfBase {
            percent_br,
            percent_br_non_optam,
            includes_amo,
        } => {
            let non_optam = matches!(
                req.act.category,
                CareCategory::Consultation
                    | CareCategory::Specialist
                    | CareCategory::Radiology
                    | CareCategory::Hospital
            ) && req.provider.sector >= 2
                && !req.provider.optam;
            let p = if non_optam {
                percent_br_non_optam
            } else {
                percent_br
            } / Decimal::ONE_HUNDRED;
            Some(if includes_amo { p } else { p + normal_rate })
        }
        GuaranteeLine::EuroAmount { .. } => None,
    }
}

fn amount_of(q: &Quote, kind: DeductionKind) -> Decimal {
    q.deductions
        .iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.amount)
        .sum()
}

proptest! {
    // No regression files: this module writes nothing outside its folder.
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_three_add_up_to_the_price_to_the_cent_and_none_is_negative(req in request()) {
        let q = quote(&req).unwrap();
        prop_assert_eq!(q.amo + q.amc + q.member, req.price);
        for amount in [q.amo, q.amc, q.member, q.base] {
            prop_assert!(amount >= Decimal::ZERO);
            prop_assert_eq!(amount.scale(), 2);
            prop_assert_eq!(round_cents(amount), amount);
        }
        prop_assert!(q.base <= req.price);
        for deduction in &q.deductions {
            prop_assert!(deduction.amount > Decimal::ZERO);
            prop_assert_eq!(deduction.amount.scale(), 2);
        }
        prop_assert!(!q.explanations.is_empty());
    }

    #[test]
    fn the_figures_alone_are_the_full_quote_without_its_sentences(req in request()) {
        let full = quote(&req).unwrap();
        let figures = quote_figures(&req).unwrap();
        prop_assert!(figures.explanations.is_empty());
        prop_assert_eq!(figures, Quote { explanations: Vec::new(), ..full });
    }

    #[test]
    fn the_amc_never_covers_pf_franchise_nor_the_penalty(req in request()) {
        let q = quote(&req).unwrap();
        // The member always pays at least what the statutory deductions withheld.
        let withheld = amount_of(&q, DeductionKind::ParticipationForfaitaire)
            + amount_of(&q, DeductionKind::Franchise)
            + amount_of(&q, DeductionKind::OutOfParcours);
        prop_assert!(q.member >= withheld, "member {} < {}", q.member, withheld);

        // AMC ≤ min(price, G × BR) − normal rate × BR, each position to the cent.
        let normal_rate = if req.act.amo_rate.is_zero() {
            Decimal::ZERO
        } else if req.beneficiary.ald || req.beneficiary.pregnant_6m {
            Decimal::ONE
        } else {
            req.act.amo_rate
        };
        let normal_share = round_cents(normal_rate * q.base);
        if let Some(g) = total_rate(&req, normal_rate) {
            let bound = (round_cents(g * q.base).min(req.price) - normal_share).max(Decimal::ZERO);
            prop_assert!(q.amc <= bound, "amc {} > {}", q.amc, bound);
        } else {
            prop_assert!(q.amc <= (req.price - normal_share).max(Decimal::ZERO));
        }
    }

    #[test]
    fn the_parcours_changes_the_amo_never_the_amc(req in request()) {
        let mut inside = req.clone();
        inside.beneficiary.in_parcours = true;
        let mut outside = req;
        outside.beneficiary.in_parcours = false;
        let (qi, qo) = (quote(&inside).unwrap(), quote(&outside).unwrap());
        prop_assert_eq!(qi.amc, qo.amc);
        prop_assert!(qo.amo <= qi.amo);
        prop_assert_eq!(qo.member - qi.member, qi.amo - qo.amo);
        prop_assert!(qi.amo - qo.amo <= amount_of(&qo, DeductionKind::OutOfParcours));
    }

    #[test]
    fn a_higher_guarantee_never_lowers_the_cover(req in request(), raise in percent(), which in 0..2usize) {
        let before = quote(&req).unwrap();
        let mut higher = req.clone();
        match &mut higher.guarantee {
            GuaranteeLine::PercentOfBase { percent_br, percent_br_non_optam, .. } => {
                let p = if which == 0 { percent_br } else { percent_br_non_optam };
                *p = (*p + raise).min(Decimal::from(10_000));
            }
            GuaranteeLine::EuroAmount { euro_amount, ceiling_remaining } => {
                let e = if which == 0 { euro_amount } else { ceiling_remaining };
                *e = (*e + raise).min(Decimal::from(1_000_000));
            }
        }
        let after = quote(&higher).unwrap();
        prop_assert_eq!(after.amo, before.amo);
        prop_assert!(after.amc >= before.amc, "{} < {}", after.amc, before.amc);
    }

    #[test]
    fn including_the_amo_or_not_is_the_same_line_once_converted(req in request()) {
        // "P % on top" is "(P + normal rate) % incl. SS".
        if let GuaranteeLine::PercentOfBase { percent_br, percent_br_non_optam, includes_amo: false } = req.guarantee {
            let normal_rate = if req.act.amo_rate.is_zero() {
                Decimal::ZERO
            } else if req.beneficiary.ald || req.beneficiary.pregnant_6m {
                Decimal::ONE
            } else {
                req.act.amo_rate
            };
            let mut converted = req.clone();
            converted.guarantee = GuaranteeLine::PercentOfBase {
                percent_br: percent_br + normal_rate * Decimal::ONE_HUNDRED,
                percent_br_non_optam: percent_br_non_optam + normal_rate * Decimal::ONE_HUNDRED,
                includes_amo: true,
            };
            prop_assert_eq!(quote(&req).unwrap().amc, quote(&converted).unwrap().amc);
        }
    }

    #[test]
    fn documents_round_trip(req in request()) {
        let text = request_document(&req).to_string();
        prop_assert_eq!(parse_document(&text), Ok(req.clone()));
        // The answer read back as its reader would, and held to facts of the input it came
        // from, never compared with the functions that wrote it.
        let answer = quote_document(&text).unwrap();
        let figure = |name: &str| -> Result<Decimal, TestCaseError> {
            let text = answer[name].as_str().unwrap_or_default();
            let (_, cents) = text.split_once('.').unwrap_or((text, ""));
            prop_assert_eq!(cents.len(), 2, "{} is {:?}: two places", name, text);
            Ok(Decimal::from_str(text).unwrap())
        };
        let (amo, amc, member, base) = (figure("amo")?, figure("amc")?, figure("member")?, figure("base")?);
        prop_assert_eq!(amo + amc + member, req.price, "the three add up to the price");
        for amount in [amo, amc, member, base] {
            prop_assert!(amount >= Decimal::ZERO);
        }
        prop_assert!(base <= req.price);
        // The statutory share never exceeds its base: no rate is above 100 %.
        prop_assert!(amo <= base, "amo {} > base {}", amo, base);
        let amo_rate = Decimal::from_str(answer["amo_rate"].as_str().unwrap()).unwrap();
        prop_assert!((Decimal::ZERO..=Decimal::ONE).contains(&amo_rate));
        let mut withheld = Decimal::ZERO;
        for deduction in answer["deductions"].as_array().unwrap() {
            let kind = deduction["kind"].as_str().unwrap();
            prop_assert!(
                ["participation_forfaitaire", "franchise", "out_of_parcours", "ceiling"].contains(&kind),
                "{}", kind
            );
            let amount = Decimal::from_str(deduction["amount"].as_str().unwrap()).unwrap();
            prop_assert!(amount > Decimal::ZERO);
            if kind != "ceiling" {
                withheld += amount;
            }
        }
        // What the statutory side withheld is the member's to pay: the insurer never covers it.
        prop_assert!(member >= withheld, "member {} < withheld {}", member, withheld);
        // PF exemptions of the input (rule 3): none is withheld.
        let b = &req.beneficiary;
        if !req.act.pf || b.css || b.ame || b.pregnant_6m {
            prop_assert!(answer["deductions"].as_array().unwrap().iter()
                .all(|d| d["kind"] != "participation_forfaitaire"));
        }
    }

    #[test]
    fn plain_visits_match_the_rules_worked_by_hand(
        base_euros in 5i64..=200,
        excess_cents in 0i64..=30_000,
        rate_points in prop::sample::select(vec![60i64, 70]),
        pf in any::<bool>(),
        g in prop::sample::select(vec![100i64, 125, 150, 200, 300]),
    ) {
        // An adult in the parcours, a sector 1 doctor, no exemption, nothing used this year,
        // a percentage guarantee incl. SS: rules 1, 3, 4, 5 and 7 of docs/coverage.md reduce to
        // arithmetic, done here without the engine. Whole-euro bases keep every product exact.
        let base = Decimal::from(base_euros);
        let price = base + Decimal::new(excess_cents, 2);
        let rate = Decimal::new(rate_points, 2);
        let req = QuoteRequest {
            date: Date::from_calendar_date(2026, time::Month::March, 2).unwrap(),
            price,
            act: Act {
                code: "G".into(),
                category: CareCategory::Consultation,
                base,
                base_non_optam: None,
                amo_rate: rate,
                pf,
                franchise: Decimal::ZERO,
            },
            provider: ProviderTerms { sector: 1, optam: false, direct_access: false },
            beneficiary: BeneficiaryTerms {
                birth_date: Date::from_calendar_date(1980, time::Month::June, 15).unwrap(),
                in_parcours: true,
                ald: false,
                css: false,
                ame: false,
                pregnant_6m: false,
                pf_paid_this_year: Decimal::ZERO,
                franchise_paid_this_year: Decimal::ZERO,
                pf_count_today_same_provider: 0,
            },
            guarantee: GuaranteeLine::PercentOfBase {
                percent_br: Decimal::from(g),
                percent_br_non_optam: Decimal::from(g),
                includes_amo: true,
            },
        };
        let gross = rate * base;
        let pf_amount = if pf { Decimal::TWO } else { Decimal::ZERO };
        let amo = gross - pf_amount;
        let amc = (price.min(Decimal::from(g) * base / Decimal::ONE_HUNDRED) - gross).max(Decimal::ZERO);
        let member = price - amo - amc;
        let q = quote(&req).unwrap();
        prop_assert_eq!((q.amo, q.amc, q.member), (amo, amc, member));
        prop_assert_eq!(q.base, base);
        prop_assert_eq!(amount_of(&q, DeductionKind::ParticipationForfaitaire), pf_amount);
    }

    #[test]
    fn rounding_is_to_the_nearest_cent_half_up(units in -10_000_000i64..=10_000_000, scale in 0u32..=6) {
        let x = Decimal::new(units, scale);
        let r = round_cents(x);
        prop_assert_eq!(r.scale(), 2);
        prop_assert!((x - r).abs() <= Decimal::new(5, 3));
        // A half cent goes away from zero.
        if (x - r).abs() == Decimal::new(5, 3) {
            prop_assert!(r.abs() > x.abs());
        }
        prop_assert_eq!(round_cents(r), r);
    }

    #[test]
    fn no_text_makes_the_parser_panic(text in ".{0,200}") {
        let _ = quote_document(&text);
    }

    #[test]
    fn no_edited_document_makes_the_engine_panic(
        req in request(),
        path in prop::sample::select(vec![
            "price", "date", "act.base", "act.amo_rate", "act.franchise", "act.category",
            "provider.sector", "beneficiary.birth_date", "beneficiary.pf_count_today_same_provider",
            "guarantee.percent_br",
        ]),
        value in prop_oneof![
            Just(serde_json::json!(null)),
            Just(serde_json::json!(-1)),
            Just(serde_json::json!("-1")),
            Just(serde_json::json!("99999999999999.99")),
            Just(serde_json::json!("0.0000001")),
            Just(serde_json::json!(1e300)),
            Just(serde_json::json!("")),
            Just(serde_json::json!([])),
            Just(serde_json::json!({})),
            "[0-9.-]{1,40}".prop_map(serde_json::Value::from),
        ],
    ) {
        let mut doc = request_document(&req);
        let mut target = &mut doc;
        let parts: Vec<&str> = path.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            target = &mut target[*part];
        }
        target[parts[parts.len() - 1]] = value;
        match quote_document(&doc.to_string()) {
            Ok(answer) => prop_assert!(answer["amo"].is_string()),
            // The edited field, or the guarantee as a whole when a line mixes both forms.
            Err(error) => prop_assert!(path.starts_with(&error.field), "{} for {}", error, path),
        }
    }
}
