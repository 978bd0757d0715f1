#!/usr/bin/env python3
"""Write normalised CIFAR-10 tensors for SNNKit calibration and evaluation.

Usage:
    python Scripts/cifar_to_npy.py --out DIR [--data DIR] [--calib N]

Reads the uint8 NHWC arrays in `--data` (default `../shared/datasets/cifar10`
next to the repository) and writes, to `--out` (required; must be outside
the repository):

    test_images_nchw.npy    float32 [10000, 3, 32, 32]  the test set
    test_labels.npy         int64   [10000]
    calib_images_nchw.npy   float32 [N, 3, 32, 32]      first N (5000) of train20k
    calib_labels.npy        int64   [N]
    README.txt              what the files are

Normalisation is the one `train_cifar.py` trains with:
(x / 255 - mean) / std per channel, mean (0.4914, 0.4822, 0.4465),
std (0.2470, 0.2435, 0.2616), so the arrays feed the exported ONNX models'
`input` directly. All 20 000 training images would be 245 MB, hence only
the first N for calibration (the training set is already shuffled).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "cifar10"

MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)


def normalize_nchw(x_uint8_nhwc: np.ndarray) -> np.ndarray:
    """uint8 NHWC [0,255] -> float32 NCHW, (x/255 - mean) / std."""
    x = x_uint8_nhwc.astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="output folder, outside the repository")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CIFAR-10 .npy folder (default %(default)s)")
    ap.add_argument("--calib", type=int, default=5000, help="number of training images for calibration (default %(default)s)")
    args = ap.parse_args(argv)

    out = args.out.resolve()
    if out == ROOT or ROOT in out.parents:
        ap.error(f"--out {out} is inside the repository {ROOT}; write the arrays elsewhere")
    out.mkdir(parents=True, exist_ok=True)

    xte = np.load(args.data / "test_images.npy")
    yte = np.load(args.data / "test_labels.npy").astype(np.int64)
    xtr = np.load(args.data / "train20k_images.npy", mmap_mode="r")[: args.calib]
    ytr = np.load(args.data / "train20k_labels.npy").astype(np.int64)[: args.calib]

    files = {
        "test_images_nchw.npy": normalize_nchw(xte),
        "test_labels.npy": yte,
        "calib_images_nchw.npy": normalize_nchw(np.asarray(xtr)),
        "calib_labels.npy": ytr,
    }
    for name, arr in files.items():
        np.save(out / name, arr)
        print(f"{out / name}: {arr.dtype} {list(arr.shape)}")

    (out / "README.txt").write_text(
        "CIFAR-10 written by SNNKit's Scripts/cifar_to_npy.py from "
        f"{args.data}.\n"
        "Images: float32 NCHW, (x/255 - mean)/std, mean (0.4914, 0.4822, 0.4465), "
        "std (0.2470, 0.2435, 0.2616).\n"
        f"test_images_nchw.npy / test_labels.npy: the {len(yte)} test images, int64 labels.\n"
        f"calib_images_nchw.npy / calib_labels.npy: the first {len(ytr)} images of train20k "
        "(for calibration; disjoint from the test set).\n"
        "Classes 0-9: airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck.\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
