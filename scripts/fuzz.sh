#!/usr/bin/env bash
# Runs the cargo-fuzz targets under fuzz/ with nightly, each for SECONDS (default 600) or, with
# --runs N, for N inputs (what CI does), under a 1 GB memory limit. New inputs that reach new
# code are added to fuzz/corpus/<target>/; crashes land in fuzz/artifacts/<target>/ and become
# regression tests under tests/.
#   bash scripts/fuzz.sh                 # every target, 10 minutes each
#   bash scripts/fuzz.sh model_file 60   # one target, one minute
#   bash scripts/fuzz.sh --runs 2000     # every target, 2,000 inputs each
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
limit=(-rss_limit_mb=1024 -max_len=65536)
if [ "${1:-}" = "--runs" ]; then
    budget=(-runs="${2:?--runs needs a count}")
    targets=(model_file idx kaggle_csv table_csv safetensors)
else
    targets=(${1:-model_file idx kaggle_csv table_csv safetensors})
    budget=(-max_total_time="${2:-600}")
fi
for target in "${targets[@]}"; do
    echo "== fuzz $target ${budget[*]}"
    # A copy of the committed seeds: what the run discovers stays out of the repository.
    work="$(mktemp -d)"
    cp corpus/"$target"/* "$work"/
    log="$work.log"
    status=0
    cargo +nightly fuzz run -O "$target" "$work" -- "${limit[@]}" "${budget[@]}" -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Done)" "$log" || tail -20 "$log"
    rm -rf "$work" "$log"
    if [ "$status" -ne 0 ]; then
        echo "fuzz target $target failed (status $status): see fuzz/artifacts/$target/" >&2
        exit "$status"
    fi
done
