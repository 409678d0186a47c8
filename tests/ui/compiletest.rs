//! Compile-time errors of `network!`, checked against the snapshots `tests/ui/*.stderr`
//! (`cargo test -p nn-ui-tests`).
//!
//! The snapshots hold rustc's exact output, which changes between compiler releases; the
//! toolchain is pinned in `rust-toolchain.toml` (1.95.0). After changing an error message,
//! regenerate with `TRYBUILD=overwrite cargo test -p nn-ui-tests` and read every diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("pass-*.rs");
    cases.compile_fail("[!cp]*.rs");
}
