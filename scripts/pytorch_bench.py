#!/usr/bin/env python3
"""The workloads of examples/bench.rs in PyTorch, printing the same `NAME VALUE` lines, so that
both can be measured side by side on one machine in one sitting:

    python3 scripts/pytorch_bench.py --data ../shared/mnist --threads 2 [A|B|I|all]

Needs `pip install torch`. Same data (pixels / 255), networks, losses, learning rates and
batch size as the Rust benchmark; PyTorch's default initialisation.
"""
import argparse
import gzip
import statistics
import struct
import time
from pathlib import Path

import torch
from torch import nn


def read_idx(path: Path) -> torch.Tensor:
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = struct.unpack(">" + "I" * (magic & 0xFF), data[4 : 4 + 4 * (magic & 0xFF)])
    return torch.frombuffer(bytearray(data[4 + 4 * len(dims) :]), dtype=torch.uint8).reshape(dims)


def load(directory: Path):
    def images(name):
        return read_idx(directory / f"{name}-images-idx3-ubyte.gz").reshape(-1, 784).float() / 255.0

    def labels(name):
        return read_idx(directory / f"{name}-labels-idx1-ubyte.gz").long()

    return images("train"), labels("train"), images("t10k"), labels("t10k")


def accuracy(model, images, labels) -> float:
    with torch.no_grad():
        return (model(images).argmax(dim=1) == labels).float().mean().item()


def per_sample(train_x, train_y, test_x, test_y):
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(784, 100), nn.Sigmoid(), nn.Linear(100, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    targets = nn.functional.one_hot(train_y, 10).float()
    order = torch.randperm(len(train_x))
    start = time.perf_counter()
    for i in order.tolist():
        optimizer.zero_grad()
        loss_fn(model(train_x[i : i + 1]), targets[i : i + 1]).backward()
        optimizer.step()
    print(f"A.us_per_sample {(time.perf_counter() - start) * 1e6 / len(order):.3f}")
    print(f"A.test_acc {accuracy(model, test_x, test_y):.4f}")


def relu_model():
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))


def mini_batch(train_x, train_y, test_x, test_y):
    torch.manual_seed(42)
    model = relu_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(3):
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        for batch in order.split(64):
            optimizer.zero_grad()
            loss_fn(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
        print(f"B.epoch{epoch}_s {time.perf_counter() - start:.4f}")
    print(f"B.test_acc {accuracy(model, test_x, test_y):.4f}")


def inference(test_x):
    torch.manual_seed(42)
    model = relu_model()
    with torch.no_grad():
        model(test_x)
        best = min(timed(lambda: model(test_x)) for _ in range(5))
        print(f"I.batch10k_ms {best * 1e3:.3f}")
        times = [timed(lambda i=i: model(test_x[i % len(test_x)].unsqueeze(0))) for i in range(10_000)]
        print(f"I.single_us_median {statistics.median(times) * 1e6:.3f}")


def timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("workload", nargs="?", default="all", choices=["A", "B", "I", "all"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}")
    train_x, train_y, test_x, test_y = load(args.data)
    if args.workload in ("A", "all"):
        per_sample(train_x, train_y, test_x, test_y)
    if args.workload in ("B", "all"):
        mini_batch(train_x, train_y, test_x, test_y)
    if args.workload in ("I", "all"):
        inference(test_x)


if __name__ == "__main__":
    main()
