//! Criterion benchmarks: `cargo bench` (or `cargo bench -- kernels` for one group).

mod kernels;
mod steps;

criterion::criterion_main!(kernels::benches, steps::benches);
