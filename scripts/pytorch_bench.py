#!/usr/bin/env python3
"""The workloads of examples/bench.rs in PyTorch, printing the same `NAME VALUE` lines, so that
both can be measured side by side on one machine in one sitting:

    python3 scripts/pytorch_bench.py --data ../shared/mnist --threads 2 [A|B|I|C1|C2|W|DA|DB|all]

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


def per_sample(train_x, train_y, test_x, test_y, name="A"):
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
    print(f"{name}.us_per_sample {(time.perf_counter() - start) * 1e6 / len(order):.3f}")
    print(f"{name}.test_acc {accuracy(model, test_x, test_y):.4f}")


def relu_model():
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))


def mini_batch(train_x, train_y, test_x, test_y, name="B", model=None, lr=0.1, batch=64, epochs=3):
    torch.manual_seed(42)
    model = model or relu_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        order = torch.randperm(len(train_x))
        start = time.perf_counter()
        for indices in order.split(batch):
            optimizer.zero_grad()
            loss_fn(model(train_x[indices]), train_y[indices]).backward()
            optimizer.step()
        print(f"{name}.epoch{epoch}_s {time.perf_counter() - start:.4f}")
    print(f"{name}.test_acc {accuracy(model, test_x, test_y):.4f}")
    return model


def inference(test_x, model=None, name="I"):
    torch.manual_seed(42)
    model = model or relu_model()
    with torch.no_grad():
        model(test_x)
        best = min(timed(lambda: model(test_x)) for _ in range(5))
        print(f"{name}.batch10k_ms {best * 1e3:.3f}")
        times = [timed(lambda i=i: model(test_x[i % len(test_x)].unsqueeze(0))) for i in range(10_000)]
        print(f"{name}.single_us_median {statistics.median(times) * 1e6:.3f}")


def standardised(images):
    """As PyTorch's MNIST example normalises: no pixel is zero afterwards."""
    return (images - 0.1307) / 0.3081


def wide(train_x, train_y, test_x, test_y):
    torch.manual_seed(42)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    mini_batch(train_x, train_y, test_x, test_y, name="W", model=model, lr=0.05, batch=128, epochs=2)
    inference(test_x, model=model, name="W")


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def mnist_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    )


def train_cnn(model, train_x, train_y):
    """Trains one shuffled epoch of batches of 64; returns its seconds, gathers included (as the
    Rust side's fit loop times them)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    order = torch.randperm(len(train_x))
    start = time.perf_counter()
    for batch in order.split(64):
        x, y = train_x[batch].view(-1, 1, 28, 28), train_y[batch]
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
    return time.perf_counter() - start


def cnn_inference_ms(model, test_x):
    model.eval()
    images = test_x.view(-1, 1, 28, 28)
    with torch.no_grad():
        model(images)
        return min(timed(lambda: model(images)) for _ in range(3)) * 1e3


def cnn_accuracy(model, test_x, test_y):
    model.eval()
    return accuracy(model, test_x.view(-1, 1, 28, 28), test_y)


def c1(train_x, train_y, test_x, test_y):
    torch.manual_seed(42)
    model = lenet()
    fastest = min(train_cnn(model, train_x, train_y) for _ in range(3))
    print(f"C1.epoch_s {fastest:.3f}")
    print(f"C1.test_acc {cnn_accuracy(model, test_x, test_y):.4f}")
    print(f"C1.batch10k_ms {cnn_inference_ms(model, test_x):.1f}")


def c2(train_x, train_y, test_x, test_y, batches, epochs):
    torch.manual_seed(42)
    model = mnist_cnn()
    if epochs:
        fastest = min(train_cnn(model, train_x, train_y) for _ in range(epochs))
        print(f"C2.epoch_s {fastest:.3f}")
        print(f"C2.test_acc {cnn_accuracy(model, test_x, test_y):.4f}")
    else:
        # One epoch of the first batches' worth of images, scaled to the whole set.
        samples = min(max(1, batches) * 64, len(train_x))
        seconds = train_cnn(model, train_x[:samples], train_y[:samples])
        print(f"C2.epoch_s {seconds * len(train_x) / samples:.3f}")
    print(f"C2.batch10k_ms {cnn_inference_ms(model, test_x):.1f}")


def timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--c2-batches", type=int, default=100)
    parser.add_argument("--c2-epochs", type=int, default=0)
    choices = ["A", "B", "I", "C1", "C2", "W", "DA", "DB", "all"]
    parser.add_argument("workload", nargs="?", default="all", choices=choices)
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
    if args.workload in ("C1", "all"):
        c1(train_x, train_y, test_x, test_y)
    if args.workload in ("C2", "all"):
        c2(train_x, train_y, test_x, test_y, args.c2_batches, args.c2_epochs)
    if args.workload in ("W", "DA", "DB", "all"):
        train_s, test_s = standardised(train_x), standardised(test_x)
        if args.workload in ("W", "all"):
            wide(train_s, train_y, test_s, test_y)
        if args.workload in ("DA", "all"):
            per_sample(train_s, train_y, test_s, test_y, name="DA")
        if args.workload in ("DB", "all"):
            mini_batch(train_s, train_y, test_s, test_y, name="DB")


if __name__ == "__main__":
    main()
