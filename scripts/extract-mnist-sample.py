#!/usr/bin/env python3
"""Extracts the MNIST sample embedded in nn-core (nn-core/data/mnist-sample/).

Takes the first 5,000 training and the first 1,000 test digits of the standard IDX files and
writes them as gzip IDX files with corrected counts. Run from the repository root:

    python3 scripts/extract-mnist-sample.py ../shared/mnist nn-core/data/mnist-sample
"""
import gzip
import struct
import sys
from pathlib import Path

SAMPLES = {"train": 5_000, "t10k": 1_000}


def extract(source: Path, target: Path, name: str, count: int, image: bool) -> None:
    with gzip.open(source / f"{name}.gz", "rb") as f:
        data = f.read()
    header_len = 16 if image else 8
    magic, total = struct.unpack(">II", data[:8])
    assert magic == (0x803 if image else 0x801), f"{name}: unexpected magic {magic:#x}"
    assert total >= count, f"{name}: only {total} samples"
    item = 28 * 28 if image else 1
    header = struct.pack(">II", magic, count) + data[8:header_len]
    body = data[header_len : header_len + count * item]
    # mtime=0 keeps the output byte-identical across runs.
    with open(target / f"{name}.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as f:
        f.write(header + body)


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    for split, count in SAMPLES.items():
        extract(source, target, f"{split}-images-idx3-ubyte", count, image=True)
        extract(source, target, f"{split}-labels-idx1-ubyte", count, image=False)


if __name__ == "__main__":
    main()
