#!/usr/bin/env bash
# Builds the digit-drawing page into web/dist/: index.html, style.css, app.js and nn.wasm (the
# networks of web/models/ and their preprocessing, compiled from web/src/ to WebAssembly with the
# pinned toolchain's wasm32-unknown-unknown target). Serve the folder with any static server:
#   bash web/build.sh && python3 -m http.server -d web/dist 8000   # then open http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p nn-web --profile wasm --target wasm32-unknown-unknown
rm -rf web/dist
mkdir -p web/dist
cp web/page/index.html web/page/style.css web/page/app.js web/dist/
cp target/wasm32-unknown-unknown/wasm/nn_web.wasm web/dist/nn.wasm
echo "web/dist/nn.wasm: $(wc -c < web/dist/nn.wasm) bytes"
