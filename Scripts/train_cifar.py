#!/usr/bin/env python3
"""Train a small CIFAR-10 ReLU network and export it to ONNX for SNNKit.

Usage:
    python Scripts/train_cifar.py --model resnet20 --out DIR
    python Scripts/train_cifar.py --model vgg11 --out DIR --epochs 20 --seed 0

Trains `cifar_resnet20()`, `cifar_vgg11(width=0.5)` or `cifar_mobilenetv2(width=0.5)` from `snn_models.py`
on the 20 000 CIFAR-10 training images in `--data` (default
`../shared/datasets/cifar10` next to the repository, see its README.md):
random crop of a 4-pixel zero-padded image plus horizontal flip, SGD with
momentum 0.9 and weight decay 5e-4, batch 128, a linear warm-up followed by
a cosine decay of the learning rate (per step), cross-entropy loss. It then
evaluates top-1 on the 10 000 test images and exports

    DIR/<model>.onnx    opset 13, dynamic batch, input `input` [N,3,32,32]
                        (normalised, NCHW), output `logits` [N,10];
                        BatchNormalization nodes kept (export_onnx, PRESERVE)
    DIR/<model>.json    test top-1 of torch and of onnxruntime on the
                        exported file, epochs, training time, history, ...
    DIR/<model>.pt      the trained state_dict

The input is normalised with mean (0.4914, 0.4822, 0.4465) and std
(0.2470, 0.2435, 0.2616); `Scripts/cifar_to_npy.py` writes the test set and
calibration images in that form.

Everything runs on the CPU with one thread (torch.set_num_threads(1)) and is
deterministic for a given --seed: weights come from torch.manual_seed(seed),
the shuffling and augmentation from numpy.random.default_rng(seed).
Write the output outside the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from snn_models import count_macs, cifar_mobilenetv2, cifar_resnet20, cifar_vgg11, export_onnx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "cifar10"

MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)

# Default epochs: each model trains in about 21-22 minutes on one CPU thread
# (measured ~58 s/epoch for resnet20 and ~46 s/epoch for vgg11, channels_last,
# including the per-epoch check on 2000 test images).
MODELS = {
    "resnet20": dict(ctor=lambda: cifar_resnet20(), epochs=22),
    "vgg11": dict(ctor=lambda: cifar_vgg11(width=0.5), epochs=28),
    "mobilenetv2": dict(ctor=lambda: cifar_mobilenetv2(width=0.5), epochs=30),
}

INPUT_NAME = "input"
OUTPUT_NAME = "logits"


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load_split(data_dir: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (uint8 images NHWC, int64 labels) of `train20k` or `test`."""
    x = np.load(data_dir / f"{split}_images.npy")
    y = np.load(data_dir / f"{split}_labels.npy").astype(np.int64)
    assert x.dtype == np.uint8 and x.ndim == 4 and x.shape[1:] == (32, 32, 3), x.shape
    assert len(x) == len(y)
    return x, y


def normalize_nchw(x_uint8_nhwc: np.ndarray) -> np.ndarray:
    """uint8 NHWC [0,255] -> float32 NCHW, (x/255 - mean) / std."""
    x = x_uint8_nhwc.astype(np.float32) / 255.0
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


class AugmentedLoader:
    """Shuffled minibatches of the training set with random crop (4-pixel
    zero padding, i.e. black pixels as in torchvision's RandomCrop) and
    random horizontal flip, normalised to float32 NCHW. All randomness from
    one numpy Generator."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch: int, rng: np.random.Generator, pad: int = 4):
        self.n = len(images)
        self.batch = batch
        self.rng = rng
        self.pad = pad
        # Zero pad once in uint8 (N, 3, 32+2p, 32+2p); crop per batch.
        x = images.transpose(0, 3, 1, 2)
        self.padded = torch.from_numpy(np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))))
        self.labels = torch.from_numpy(labels)
        self.mean = torch.from_numpy(MEAN).view(1, 3, 1, 1)
        self.std = torch.from_numpy(STD).view(1, 3, 1, 1)
        self.ar = torch.arange(32)

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch)

    def __iter__(self):
        perm = self.rng.permutation(self.n)
        for s in range(0, self.n, self.batch):
            idx = torch.from_numpy(perm[s : s + self.batch])
            b = len(idx)
            oy = torch.from_numpy(self.rng.integers(0, 2 * self.pad + 1, size=b))
            ox = torch.from_numpy(self.rng.integers(0, 2 * self.pad + 1, size=b))
            flip = torch.from_numpy(self.rng.random(b) < 0.5)
            rows = (oy[:, None] + self.ar[None, :])  # (b, 32)
            cols = (ox[:, None] + self.ar[None, :])  # (b, 32)
            cols = torch.where(flip[:, None], cols.flip(1), cols)  # flip = reversed columns
            x = self.padded[
                idx[:, None, None, None],
                torch.arange(3)[None, :, None, None],
                rows[:, None, :, None],
                cols[:, None, None, :],
            ]
            x = (x.float().div_(255.0) - self.mean) / self.std
            yield x.contiguous(), self.labels[idx]


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 500) -> tuple[float, float]:
    """Return (top-1 accuracy, mean cross-entropy) in eval mode."""
    model.eval()
    correct, loss = 0, 0.0
    for s in range(0, len(x), batch):
        logits = model(x[s : s + batch])
        loss += F.cross_entropy(logits, y[s : s + batch], reduction="sum").item()
        correct += (logits.argmax(1) == y[s : s + batch]).sum().item()
    return correct / len(x), loss / len(x)


def ort_top1(path: Path, x: np.ndarray, y: np.ndarray, ref_logits: np.ndarray, batch: int = 500) -> tuple[float, float]:
    """Top-1 of onnxruntime (CPU, one thread) on the exported file, and the
    largest absolute difference to the torch logits."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    outs = []
    for s in range(0, len(x), batch):
        outs.append(sess.run([OUTPUT_NAME], {INPUT_NAME: x[s : s + batch]})[0])
    logits = np.concatenate(outs)
    acc = float((logits.argmax(1) == y).mean())
    return acc, float(np.abs(logits - ref_logits).max())


def rename_output(path: Path, old: str, new: str) -> None:
    """Rename graph output `old` to `new` (export_onnx always calls it
    `output`)."""
    import onnx

    proto = onnx.load(str(path))
    g = proto.graph
    for node in g.node:
        for i, n in enumerate(node.output):
            if n == old:
                node.output[i] = new
        for i, n in enumerate(node.input):
            if n == old:
                node.input[i] = new
    for o in g.output:
        if o.name == old:
            o.name = new
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


def lr_at(step: int, total: int, warmup: int, peak: float, final: float = 0.0) -> float:
    """Linear warm-up from peak/10 to peak over `warmup` steps, then cosine
    decay to `final`."""
    if step < warmup:
        return peak * (0.1 + 0.9 * step / max(1, warmup))
    t = (step - warmup) / max(1, total - warmup)
    return final + 0.5 * (peak - final) * (1.0 + math.cos(math.pi * t))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=sorted(MODELS))
    ap.add_argument("--out", required=True, type=Path, help="output directory (outside the repository)")
    ap.add_argument("--epochs", type=int, default=None, help="default: %s" % {k: v["epochs"] for k, v in MODELS.items()})
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CIFAR-10 .npy folder (default %(default)s)")
    ap.add_argument("--lr", type=float, default=0.1, help="peak learning rate (default %(default)s)")
    ap.add_argument("--warmup-epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                    help="train in NCHW memory format (channels_last is ~20%% faster on CPU)")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (timing runs only)")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)

    spec = MODELS[args.model]
    epochs = args.epochs if args.epochs is not None else spec["epochs"]
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    xtr, ytr = load_split(args.data, "train20k")
    xte_u8, yte = load_split(args.data, "test")
    xte = normalize_nchw(xte_u8)
    xte_t, yte_t = torch.from_numpy(xte), torch.from_numpy(yte)

    model = spec["ctor"]()
    n_params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model, (1, 3, 32, 32))["total"]
    print(f"{args.model}: {n_params} parameters, {macs / 1e6:.1f} MMACs/image, "
          f"{len(xtr)} train / {len(xte)} test images, {epochs} epochs, seed {args.seed}", flush=True)

    mf = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=mf)
    loader = AugmentedLoader(xtr, ytr, args.batch, rng)
    steps_per_epoch = len(loader)
    total_steps = epochs * steps_per_epoch
    warmup = int(round(args.warmup_epochs * steps_per_epoch))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.weight_decay, nesterov=True)

    history = []
    step = 0
    t0 = time.perf_counter()
    stop = False
    for epoch in range(1, epochs + 1):
        model.train()
        te = time.perf_counter()
        tot_loss, tot_correct, seen = 0.0, 0, 0
        for x, y in loader:
            lr = lr_at(step, total_steps, warmup, args.lr)
            for g in opt.param_groups:
                g["lr"] = lr
            logits = model(x.contiguous(memory_format=mf))
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            tot_loss += loss.item() * len(y)
            tot_correct += (logits.argmax(1) == y).sum().item()
            seen += len(y)
            if args.max_steps is not None and step >= args.max_steps:
                stop = True
                break
        train_s = time.perf_counter() - te
        # Cheap progress check on 2000 test images; the full test set at the end.
        acc, tl = evaluate(model, xte_t[:2000], yte_t[:2000])
        rec = dict(epoch=epoch, lr=lr, train_loss=tot_loss / seen, train_acc=tot_correct / seen,
                   test2k_acc=acc, test2k_loss=tl, epoch_s=round(train_s, 1),
                   elapsed_s=round(time.perf_counter() - t0, 1))
        history.append(rec)
        print(f"epoch {epoch:3d}/{epochs}  lr {lr:.4f}  loss {rec['train_loss']:.4f}  train {rec['train_acc']:.4f}  "
              f"test[:2000] {acc:.4f}  {train_s:.1f}s  (total {rec['elapsed_s']:.0f}s, {seen} imgs)", flush=True)
        if stop:
            print(f"stopped after --max-steps {args.max_steps}: {train_s / seen * 1000:.2f} ms/img, "
                  f"~{train_s / seen * len(xtr):.0f} s/epoch", flush=True)
            break
    train_time = time.perf_counter() - t0

    model = model.to(memory_format=torch.contiguous_format).eval()
    torch_acc, torch_loss = evaluate(model, xte_t, yte_t)
    with torch.no_grad():
        ref_logits = torch.cat([model(xte_t[s : s + 500]) for s in range(0, len(xte_t), 500)]).numpy()
    print(f"torch test top-1 {torch_acc:.4f} (loss {torch_loss:.4f}), training {train_time:.0f}s", flush=True)

    torch.save(model.state_dict(), out / f"{args.model}.pt")
    onnx_path = out / f"{args.model}.onnx"
    export_onnx(model, onnx_path, (1, 3, 32, 32), opset=args.opset, dynamic_batch=True)
    rename_output(onnx_path, "output", OUTPUT_NAME)

    import onnx

    proto = onnx.load(str(onnx_path))
    op_counts: dict[str, int] = {}
    for n in proto.graph.node:
        op_counts[n.op_type] = op_counts.get(n.op_type, 0) + 1
    ort_acc, max_diff = ort_top1(onnx_path, xte, yte, ref_logits)
    print(f"onnxruntime test top-1 {ort_acc:.4f}, max |logit diff| vs torch {max_diff:.2e}", flush=True)
    print(f"ONNX ops: {op_counts}", flush=True)

    import onnxruntime

    info = dict(
        model=args.model,
        constructor={"resnet20": "cifar_resnet20()", "vgg11": "cifar_vgg11(width=0.5)", "mobilenetv2": "cifar_mobilenetv2(width=0.5)"}[args.model],
        onnx=str(onnx_path.resolve()),
        state_dict=str((out / f"{args.model}.pt").resolve()),
        test_top1_torch=torch_acc,
        test_top1_onnxruntime=ort_acc,
        test_loss_torch=torch_loss,
        max_abs_logit_diff_ort_vs_torch=max_diff,
        test_images=len(xte),
        train_images=len(xtr),
        epochs=len(history),
        epochs_requested=epochs,
        steps=step,
        training_time_s=round(train_time, 1),
        seconds_per_epoch=round(train_time / max(1, len(history)), 1),
        seed=args.seed,
        batch=args.batch,
        optimizer=dict(type="SGD", momentum=0.9, nesterov=True, weight_decay=args.weight_decay),
        lr_schedule=dict(type="linear warm-up then cosine (per step)", peak=args.lr,
                         warmup_epochs=args.warmup_epochs, start=args.lr * 0.1, final=0.0),
        augmentation="random crop 32 of 4-pixel zero-padded image, horizontal flip p=0.5",
        normalization=dict(mean=MEAN.tolist(), std=STD.tolist(), layout="NCHW", scale="x/255"),
        parameters=n_params,
        macs_per_image=macs,
        opset=args.opset,
        input_name=INPUT_NAME,
        output_name=OUTPUT_NAME,
        onnx_ops=op_counts,
        threads=1,
        channels_last=args.channels_last,
        versions=dict(python=platform.python_version(), torch=torch.__version__,
                      onnx=onnx.__version__, onnxruntime=onnxruntime.__version__, numpy=np.__version__),
        history=history,
    )
    with open(out / f"{args.model}.json", "w") as f:
        json.dump(info, f, indent=2)
    print(f"wrote {onnx_path} and {out / (args.model + '.json')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
