//! Criterion benchmarks: `cargo bench -p nn-benches` (add `-- kernels` for one group).

mod kernels;
mod steps;

criterion::criterion_main!(kernels::benches, steps::benches);
