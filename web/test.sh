#!/usr/bin/env bash
# The browser test of the digit-drawing page: builds it (web/build.sh), serves web/dist on
# 127.0.0.1, draws real MNIST test digits on its pad with mouse strokes in headless Chromium
# (Debian's chromium, driven by playwright-core from npm), and checks that the page's predictions
# for both networks are the native networks' on the same 28x28 inputs. Screenshots (desktop and
# phone sizes) land in target/web-screenshots/.
#   bash web/test.sh [DIGITS]   # default 20 digits
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-20}"
chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [ -z "$chromium" ]; then
    echo "web/test.sh needs Chromium: apt-get install chromium (or set CHROMIUM)" >&2
    exit 1
fi
bash web/build.sh
(cd web/test && npm ci --silent --no-audit --no-fund)
cargo build --quiet -p nn-web --bin web-check
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
target/debug/web-check digits "$count" > "$work/digits.json"
CHROMIUM="$chromium" node web/test/browser.mjs web/dist "$work/digits.json" "$work/page.json" target/web-screenshots
target/debug/web-check compare "$work/page.json"
