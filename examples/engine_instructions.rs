//! Evaluates the benchmark's learner N times (default 20,000), for counting the instructions of
//! one evaluation with a tool that counts them, whatever else the machine is doing:
//!
//!   cargo build --release --example engine_instructions
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!       target/release/examples/engine_instructions 20000
//!
//! Run it with N and with 0: the difference of the two totals, divided by N, is one evaluation.

use std::hint::black_box;

use skillpath::rules::{evaluate, Parameters};

#[path = "../benches/support/realistic_learner.rs"]
mod realistic_learner;
use realistic_learner::{d, realistic_learner};

// The same allocator as the service binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let facts = realistic_learner();
    let params = Parameters::seed();
    let as_of = d("2026-11-29");
    let mut milestones = 0;
    for _ in 0..n {
        milestones += evaluate(black_box(&facts), black_box(&params), black_box(as_of)).len();
    }
    println!("{n} evaluations, {milestones} milestones");
}
