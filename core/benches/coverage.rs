//! Criterion benchmarks of the coverage engine: one `quote()` and one `quote_document()`.
//! Run with `cargo bench -p tierspay-core --bench coverage`. Target: under 20 µs at p99.

// criterion_main! generates an undocumented `main`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::str::FromStr;

use criterion::{criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use tierspay_core::domain::coverage::{
    quote, quote_document, Act, BeneficiaryTerms, CareCategory, GuaranteeLine, ProviderTerms,
    QuoteRequest,
};
use time::macros::date;

/// The example document of docs/coverage.md.
const EXAMPLE: &str = r#"{
  "date": "2026-03-02",
  "price": "30.00",
  "act": {"code": "G", "category": "consultation", "base": "30.00",
          "base_non_optam": "23.00", "amo_rate": "0.70", "pf": true, "franchise": "0.00"},
  "provider": {"sector": 1, "optam": false, "direct_access": false},
  "beneficiary": {"birth_date": "1985-04-12", "in_parcours": true, "ald": false, "css": false,
                  "pregnant_6m": false, "pf_paid_this_year": "0.00",
                  "franchise_paid_this_year": "0.00", "pf_count_today_same_provider": 0},
  "guarantee": {"percent_br": "100", "percent_br_non_optam": "100", "includes_amo": true}
}"#;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).expect("a decimal")
}

/// A busy path: a sector 2 specialist outside OPTAM, outside the parcours, with the PF near
/// its yearly cap and a contract capped by rule 6.
fn specialist_visit() -> QuoteRequest {
    QuoteRequest {
        date: date!(2026 - 03 - 02),
        price: d("80.00"),
        act: Act {
            code: "CS".to_owned(),
            category: CareCategory::Specialist,
            base: d("30.00"),
            base_non_optam: Some(d("23.00")),
            amo_rate: d("0.70"),
            pf: true,
            franchise: d("0.00"),
        },
        provider: ProviderTerms {
            sector: 2,
            optam: false,
            direct_access: false,
        },
        beneficiary: BeneficiaryTerms {
            birth_date: date!(1985 - 04 - 12),
            in_parcours: false,
            ald: false,
            css: false,
            ame: false,
            pregnant_6m: false,
            pf_paid_this_year: d("49.00"),
            franchise_paid_this_year: d("0.00"),
            pf_count_today_same_provider: 0,
        },
        guarantee: GuaranteeLine::PercentOfBase {
            percent_br: d("200"),
            percent_br_non_optam: d("200"),
            includes_amo: true,
        },
    }
}

fn coverage(c: &mut Criterion) {
    let request = specialist_visit();
    c.bench_function(
        "coverage: quote (sector 2 non-OPTAM, out of parcours)",
        |b| b.iter(|| quote(black_box(&request)).expect("a quote")),
    );
    c.bench_function("coverage: quote_document (docs/coverage.md example)", |b| {
        b.iter(|| quote_document(black_box(EXAMPLE)).expect("an answer"))
    });
}

criterion_group!(benches, coverage);
criterion_main!(benches);
