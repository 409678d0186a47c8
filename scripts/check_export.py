#!/usr/bin/env python3
"""Loads a model exported by `examples/mnist.rs --export DIR` into PyTorch and compares its logits
with the ones the Rust side computed.

    cargo run --release --example mnist -- --model relu-ce --batch 64 --epochs 5 --export out/
    python3 scripts/check_export.py out/ --activation relu --data ../shared/mnist   # torch, safetensors

The model is `nn.Sequential(nn.Linear(784, 100), <activation>, nn.Linear(100, 10))`, loaded with
`load_state_dict(safetensors.torch.load_file(...))` (strict: every name and shape must match).
Prints the largest difference between the two sides' logits for the first 100 test digits and
exits with 1 if it exceeds 1e-5 (relative to the logit, or absolute below 1).
"""
import argparse
import gzip
import pathlib
import sys

import torch
from safetensors.torch import load_file
from torch import nn


def first_test_images(directory: pathlib.Path, count: int) -> torch.Tensor:
    path = next(directory.glob("t10k-images-idx3-ubyte*"))
    data = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    pixels = torch.frombuffer(bytearray(data[16 : 16 + count * 784]), dtype=torch.uint8)
    return pixels.view(count, 784).float() / 255


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("exported", type=pathlib.Path, help="the --export directory")
    parser.add_argument("--activation", choices=["relu", "sigmoid"], default="relu")
    parser.add_argument("--data", type=pathlib.Path, required=True, help="the MNIST IDX files")
    args = parser.parse_args()
    activation = nn.ReLU() if args.activation == "relu" else nn.Sigmoid()
    model = nn.Sequential(nn.Linear(784, 100), activation, nn.Linear(100, 10))
    model.load_state_dict(load_file(args.exported / "model.safetensors"))
    ours = torch.tensor(
        [[float(v) for v in line.split(",")] for line in (args.exported / "logits.csv").read_text().split()]
    )
    with torch.no_grad():
        theirs = model(first_test_images(args.data, len(ours)))
    worst = ((theirs - ours).abs() / ours.abs().clamp(min=1.0)).max().item()
    agree = (theirs.argmax(1) == ours.argmax(1)).sum().item()
    print(f"torch {torch.__version__}: {len(ours)} digits, largest relative difference {worst:.2e}, "
          f"same prediction for {agree}/{len(ours)}")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()
