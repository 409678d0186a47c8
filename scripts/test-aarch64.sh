#!/usr/bin/env bash
# Builds for AArch64 and runs the core and integration tests there under qemu user-mode
# emulation, so the NEON build of the kernels is checked against the scalar loops too.
# Needs: `rustup target add aarch64-unknown-linux-gnu` and, on Debian,
# `apt-get install gcc-aarch64-linux-gnu qemu-user`. Run from the repository root.
set -euo pipefail
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
cargo clippy --workspace --all-targets --target aarch64-unknown-linux-gnu -- -D warnings
# Two tests re-run their own binary as a child process (a fresh process resuming a checkpoint,
# and a child under `ulimit -v`); under qemu-user without binfmt_misc the child cannot be
# executed (and qemu itself needs more address space than the cap), so they are skipped here.
cargo test --release -p nn-core -p static-nn --target aarch64-unknown-linux-gnu --no-fail-fast -- \
    --skip in_a_fresh_process_is_bit_identical --skip hostile_files_stay_within_a_capped_address_space
