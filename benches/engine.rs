//! The rules engine alone: learner evaluations per second on one core, for a learner with a
//! realistic history (3 certificates, 2 enrollments, 3 employment spells).
//!   cargo bench --bench engine
//! Instructions per evaluation, which do not depend on what else the machine is doing:
//!   cargo build --release --example engine_instructions
//!   valgrind --tool=callgrind target/release/examples/engine_instructions 20000

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use skillpath::rules::{evaluate, Parameters};

#[path = "support/realistic_learner.rs"]
mod realistic_learner;
use realistic_learner::{d, realistic_learner};

// The same allocator as the service binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn engine(c: &mut Criterion) {
    let facts = realistic_learner();
    let params = Parameters::seed();
    let as_of = d("2026-11-29");
    let milestones = evaluate(&facts, &params, as_of);
    assert!(milestones.len() >= 8, "the learner exercises most rules");
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    group.bench_function("evaluate_realistic_learner", |b| {
        b.iter(|| evaluate(black_box(&facts), black_box(&params), black_box(as_of)))
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
