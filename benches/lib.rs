//! Nothing but the benchmarks: see `bench_main.rs` (`cargo bench -p nn-benches`).
