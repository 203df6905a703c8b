//! The phone's invoice cache: listing 10,000 invoices offline (the list's first page, as the
//! screen reads it, and every page), and applying an incremental sync
//! of 1,000 changes (ten pages of `GET /v1/me/invoice_changes`, bytes and time). `make bench`
//! runs it; `cargo bench -p tierspay-core --bench invoices` alone. The list's median and p99
//! are also printed from 500 timed reads, since criterion reports no percentile.

// criterion_main! generates an undocumented `main`.
#![allow(missing_docs)]

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use tierspay_core::bench_support::InvoiceCache;

/// One page of changes: invoices `first..first + n`, each with a few history lines.
fn page(first: usize, n: usize, cursor: usize, status: &str) -> Vec<u8> {
    let invoice = |i: usize| {
        serde_json::json!({
            "object": "member_invoice", "id": format!("in_{i:08}"),
            "number": format!("TP1A2B3C-{i:04}"), "status": status, "source": "premium",
            "insurer": "ins_demo", "contract_ref": "TP1000001", "visit_id": null,
            "description": "Cotisation mensuelle", "currency": "eur",
            "amount_due": 4250, "amount_paid": if status == "paid" { 4250 } else { 0 },
            "amount_remaining": if status == "paid" { 0 } else { 4250 },
            "due_date": 1_798_675_200, "rf_reference": "RF18539007547034",
            "created": 1_796_000_000 + i as i64, "paid_at": null, "updated": 1_796_000_000,
            "history": [
                {"kind": "created", "channel": null, "via": null, "amount": null, "at": 1_796_000_000},
                {"kind": "reminder_sent", "channel": "email", "via": null, "amount": null, "at": 1_796_100_000},
                {"kind": "link_opened", "channel": "email", "via": null, "amount": null, "at": 1_796_200_000}
            ]
        })
    };
    serde_json::to_vec(&serde_json::json!({
        "object": "member_invoice_changes",
        "data": (first..first + n).map(invoice).collect::<Vec<_>>(),
        "cursor": cursor.to_string(), "has_more": true
    }))
    .unwrap()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn invoice_cache(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut cache = InvoiceCache::open(dir.path()).unwrap();
    for p in 0..100 {
        cache
            .apply_page(&page(p * 100, 100, p * 100 + 100, "open"), 1)
            .unwrap();
    }
    assert_eq!(cache.count().unwrap(), 10_000);
    assert_eq!(cache.list().unwrap(), 100);
    assert_eq!(cache.list_all().unwrap(), 10_000);

    let timed = |what: &str, reads: usize, read: &dyn Fn() -> usize| {
        let mut times: Vec<f64> = (0..reads)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(read());
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        eprintln!(
            "{what}: median {:.3} ms, p99 {:.3} ms, min {:.3} ms, max {:.3} ms ({reads} reads)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[0],
            times[times.len() - 1]
        );
    };
    timed(
        "list of 10,000 invoices, first page (100, open first, with the count)",
        500,
        &|| cache.list().unwrap(),
    );
    timed(
        "list of 10,000 invoices, every page (100 pages of 100)",
        50,
        &|| cache.list_all().unwrap(),
    );
    c.bench_function(
        "invoices: first page of 10,000 from the phone's cache",
        |b| b.iter(|| cache.list().unwrap()),
    );

    // 1,000 changes: the first 1,000 invoices paid, ten pages of 100, as the sync asks them.
    let pages: Vec<Vec<u8>> = (0..10)
        .map(|p| page(p * 100, 100, 10_000 + p * 100 + 100, "paid"))
        .collect();
    let bytes: usize = pages.iter().map(Vec::len).sum();
    eprintln!("incremental sync of 1,000 changes: {bytes} bytes on the wire (10 pages, uncompressed JSON)");
    c.bench_function("invoices: apply 1,000 changes (10 pages) to 10,000", |b| {
        b.iter(|| {
            for body in &pages {
                cache.apply_page(body, 2).unwrap();
            }
        })
    });
}

criterion_group!(benches, invoice_cache);
criterion_main!(benches);
