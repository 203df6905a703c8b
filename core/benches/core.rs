//! Criterion benchmarks of the core's pure hot paths. `make bench` runs them.

// criterion_main! generates an undocumented `main`.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use tierspay_core::auth::{dpop, ecdsa};

fn dpop_proofs(c: &mut Criterion) {
    let key = ecdsa::generate_signing_key();
    let public = ecdsa::public_key_sec1(&key);
    let url = "https://api.tierspay.fr/v1/me";
    c.bench_function("dpop: build and sign a proof", |b| {
        b.iter(|| {
            let claims = dpop::Claims::new("GET", url, 1_800_000_000, Some("at_token"));
            let input = dpop::signing_input(&public, &claims).unwrap();
            dpop::assemble(&input, &ecdsa::sign(&key, input.as_bytes())).unwrap()
        })
    });
    let claims = dpop::Claims::new("GET", url, 1_800_000_000, Some("at_token"));
    let input = dpop::signing_input(&public, &claims).unwrap();
    let proof = dpop::assemble(&input, &ecdsa::sign(&key, input.as_bytes())).unwrap();
    c.bench_function("dpop: verify a proof (server side)", |b| {
        b.iter(|| dpop::verify(&proof, "GET", url, 1_800_000_000, Some("at_token")).unwrap())
    });
}

fn provider_search(c: &mut Criterion) {
    use tierspay_core::domain::search::{Index, Query};
    // 50,000 provider-like documents from small word lists, as a directory would be.
    let first = [
        "Camille", "Hélène", "Julien", "Sophie", "Thomas", "Karim", "Inès", "Louis", "Anne", "Yann",
    ];
    let last = [
        "Martin", "Bernard", "Dubois", "Lefèvre", "Garcia", "Nguyen", "Haddad", "Roux", "Blanc",
        "Girard", "Moreau", "Simon", "Laurent", "Michel", "David", "Bertrand", "Vincent",
        "Fournier", "Morel", "André",
    ];
    let specialty = [
        "Médecin généraliste",
        "Pédiatre",
        "Ophtalmologue",
        "Chirurgien-dentiste",
        "Pharmacie",
        "Cardiologue",
    ];
    let city = [
        "Paris",
        "Lyon",
        "Marseille",
        "Toulouse",
        "Bordeaux",
        "Lille",
        "Nantes",
        "Saint-Étienne",
    ];
    let mut index = Index::default();
    for i in 0..50_000usize {
        let name = format!(
            "Dr {} {}",
            first[i % first.len()],
            last[(i / 7) % last.len()]
        );
        index.add(
            &[
                &name,
                specialty[(i / 3) % specialty.len()],
                city[(i / 11) % city.len()],
            ],
            i,
        );
    }
    for text in ["martin", "ophtalmologe paris", "dr lefevre saint etienne"] {
        let query = Query::parse(text);
        c.bench_function(&format!("search 50,000 providers: {text:?}"), |b| {
            b.iter(|| index.search(&query, |_| true, 10))
        });
    }
}

criterion_group!(benches, dpop_proofs, provider_search);
criterion_main!(benches);
