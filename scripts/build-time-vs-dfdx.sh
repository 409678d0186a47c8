#!/usr/bin/env bash
# The README's side-by-side build figures: ROUNDS (default 3) rounds of a clean release build of
# dfdx's MLP program (scripts/dfdx-build-time.sh) followed right away by a clean release build of
# examples/mnist.rs, then the median of each and of the differences. Alternating the two is what
# makes them comparable on a machine whose speed drifts. Run from the repository root.
set -euo pipefail
rounds=${1:-3}
target=${CARGO_TARGET_DIR:-target}/build-time-vs-dfdx
seconds() {
  local start=$(date +%s%N)
  "$@" >/dev/null 2>&1
  awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "%.1f", ns / 1e9 }'
}
median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

ours=() dfdx=() differences=()
for round in $(seq "$rounds"); do
  theirs=$(bash scripts/dfdx-build-time.sh | grep -o '[0-9.]* s$' | tr -d ' s')
  rm -rf "$target"
  mine=$(seconds cargo build --release --example mnist --target-dir "$target")
  difference=$(awk -v a="$mine" -v b="$theirs" 'BEGIN { printf "%+.1f", a - b }')
  echo "round $round: dfdx $theirs s, examples/mnist.rs $mine s ($difference s)"
  dfdx+=("$theirs") ours+=("$mine") differences+=("$difference")
done
echo "median: dfdx $(printf '%s\n' "${dfdx[@]}" | median) s, examples/mnist.rs $(printf '%s\n' "${ours[@]}" | median) s," \
  "difference $(printf '%s\n' "${differences[@]}" | median) s"
