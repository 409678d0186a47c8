#!/usr/bin/env bash
# The reference for the build-time figures in the README: a clean release build of a small
# dfdx 0.13 program (a 784-100-10 MLP and one SGD step), in a scratch project under
# ${TMPDIR:-/tmp}. Needs the crates.io registry. Run it interleaved with
# scripts/compile-times.sh: the VM's speed drifts.
set -euo pipefail
project=${TMPDIR:-/tmp}/nn-dfdx-build-time
mkdir -p "$project/src"
cat > "$project/Cargo.toml" <<'TOML'
[package]
name = "dfdx-build-time"
version = "0.1.0"
edition = "2021"

[dependencies]
dfdx = "0.13"
TOML
cat > "$project/src/main.rs" <<'RUST'
use dfdx::optim::{Sgd, SgdConfig};
use dfdx::prelude::*;

type Mlp = (Linear<784, 100>, Sigmoid, Linear<100, 10>);

fn main() {
    let dev = AutoDevice::default();
    let mut model = dev.build_module::<Mlp, f32>();
    let mut grads = model.alloc_grads();
    let mut opt = Sgd::new(&model, SgdConfig { lr: 0.1, momentum: None, weight_decay: None });
    let x: Tensor<Rank1<784>, f32, _> = dev.sample_normal();
    let y: Tensor<Rank1<10>, f32, _> = dev.sample_normal();
    let loss = mse_loss(model.forward_mut(x.traced(grads)), y);
    grads = loss.backward();
    opt.update(&mut model, &grads).unwrap();
    model.zero_grads(&mut grads);
}
RUST
cd "$project"
cargo fetch >/dev/null 2>&1
cargo clean >/dev/null 2>&1
start=$(date +%s%N)
cargo build --release >/dev/null 2>&1
awk -v ns=$(($(date +%s%N) - start)) 'BEGIN { printf "clean release build, dfdx 0.13 MLP program: %.1f s\n", ns / 1e9 }'
