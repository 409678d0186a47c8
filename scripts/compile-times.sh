#!/usr/bin/env bash
# Measures build times: a clean release build of examples/mnist.rs, the incremental rebuild
# after touching its network declaration, and the same two for the ten-layer examples/deep.rs.
# Uses a separate target directory so the normal one is left alone. Run from the repository root.
set -euo pipefail
target=${CARGO_TARGET_DIR:-target}/compile-times
seconds() {
  local start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }'
}

rm -rf "$target"
echo "clean release build, examples/mnist.rs: $(seconds cargo build --release --example mnist --target-dir "$target") s"
touch examples/mnist.rs
echo "rebuild after touching examples/mnist.rs: $(seconds cargo build --release --example mnist --target-dir "$target") s"
echo "release build of examples/deep.rs (dependencies built): $(seconds cargo build --release --example deep --target-dir "$target") s"
touch examples/deep.rs
echo "rebuild after touching examples/deep.rs: $(seconds cargo build --release --example deep --target-dir "$target") s"
echo "debug build of examples/mnist.rs (release dependencies built): $(seconds cargo build --example mnist --target-dir "$target") s"
touch examples/mnist.rs
echo "debug rebuild after touching examples/mnist.rs: $(seconds cargo build --example mnist --target-dir "$target") s"
