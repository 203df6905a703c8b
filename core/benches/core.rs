//! Criterion benchmarks of the core's pure hot paths. `make bench` runs them.

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

criterion_group!(benches, dpop_proofs);
criterion_main!(benches);
