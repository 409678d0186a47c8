//! Compile-time errors of `network!`, checked against the snapshots in `tests/ui/*.stderr`.
//!
//! The snapshots hold rustc's exact output, which changes between compiler releases; the
//! toolchain is pinned in `rust-toolchain.toml` (1.95.0). After changing an error message,
//! regenerate with `TRYBUILD=overwrite cargo test --test compiletest` and read every diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass-*.rs");
    cases.compile_fail("tests/ui/[!p]*.rs");
}
