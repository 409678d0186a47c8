//! Criterion benchmarks: `cargo bench -p nn-benches` (add `-- kernels` for one group).

mod kernels;
mod products;
mod steps;

criterion::criterion_main!(kernels::benches, products::benches, steps::benches);
