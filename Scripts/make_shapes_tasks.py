#!/usr/bin/env python3
"""Synthetic "shapes" segmentation and detection tasks for SNNKit: data + two small ReLU nets.

Usage:
    python Scripts/make_shapes_tasks.py --out DIR                # all: data, seg, det (~25 min)
    python Scripts/make_shapes_tasks.py data|seg|det --out DIR   # one stage (data is reused)
    python Scripts/make_shapes_tasks.py check --out DIR          # snnkit inspect/verify/convert
    options: --out DIR (required, outside the repository), --seed S, --train-images N,
             --seg-epochs N, --det-epochs N, --max-steps N (timing), --snnkit PATH

Why: snnkit evaluates segmentation (mIoU) and detection (COCO mAP) on converted
networks, and needs trained models of those kinds that are small enough to simulate
quickly on a CPU. A synthetic task gives them in minutes without downloads.

Data (deterministic from --seed; image i of a split has its own seed stream
SeedSequence(seed, spawn_key=(split, i)), split 0 train, 1 calib, 2 test, so the
splits are disjoint and a count change does not change earlier images):
64x64 RGB images on a textured background (a weighted mix of 1-3 of: linear colour
gradient, hard or sinusoidal stripes, possibly rotated checkerboard, bilinear
low-frequency colour noise) with 1-4 objects of 3 classes (0 disk, 1 rectangle rotated
by at most 15 degrees, 2 triangle with any rotation), 10-30 px, random position, a
random colour at least 0.35 (RGB distance in [0,1]) from the mean background it covers,
a gentle linear shading, later objects drawn on top. Rendering is 4x4 supersampled
(anti-aliased), then Gaussian sensor noise (sigma 0-0.03) is added.
  Segmentation masks [64,64] uint8: 0 background, class+1, 255 (ignore) where the
  pixel's 16 subsamples do not all belong to the same object or all to the background,
  i.e. a ~1-pixel band along every visible object boundary (VOC style); ~3% of pixels.
  Detection ground truth: the box of each object's visible subsamples, x1,y1,x2,y2 in
  pixels with x2/y2 exclusive (column c spans [c, c+1)), at 1/4-pixel precision, for
  objects with at least 30% of their area visible (more occluded ones are dropped).

Files in --out (np.savez, uncompressed; never commit them):
    shapes-seg-{calib,test}.npz   images [N,64,64,3] uint8 NHWC, masks [N,64,64] uint8
    shapes-det-{calib,test}.npz   images, boxes [N,4,4] float32, classes [N,4] int64
                                  (K = 4 = most objects per image; padding rows have
                                  class -1 and box 0)
    shapes-train.npz              16000 training images with all targets (cache)
    seg.onnx, seg.pt              segmentation net, input `input`, output `logits`
    det.onnx, det.pt              detector, outputs `boxes`, `scores`
    {seg,det}_test_data/          input_0.pb/output_N.pb for `snnkit verify`
    results.json                  metrics, timings, parameters, MACs, ops, history
calib = 1000 images, test = 500 (the same images in the seg and det files).

Preprocessing of both nets: x/255, then per channel (x - mean) / std with the CIFAR-10
constants mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616), input NCHW.
These are snnkit's `cifar10` preset (the same as `--mean 0.4914,0.4822,0.4465
--std 0.2470,0.2435,0.2616`); give snnkit the uint8 NHWC files with

    --preset cifar10 --layout nhwc

e.g. snnkit convert DIR/seg.onnx --calib DIR/shapes-seg-calib.npz --preset cifar10
--layout nhwc --calib-batches 10 --batch-size 50 -o DIR/seg.snn.onnx.

Segmentation net (SegNet, ~114K parameters, 89 MMACs): Conv3x3+BN+ReLU blocks at
64 (16 ch), MaxPool, 32 (32 ch), MaxPool, 16 (64 ch); nearest Upsample x2 + Concat
with the 32x32 features, two blocks; ConvTranspose2d(2, stride 2) + BN, Add with the
64x64 features, ReLU, one block; 1x1 conv to 4 logits [N,4,64,64] (no softmax). Loss
cross-entropy with ignore_index 255.

Detector (DetNet, ~210K parameters, 39 MMACs): Conv+BN+ReLU blocks with three
MaxPools down to an 8x8 grid (stride 8), then three 1x1 head convs: 3 class logits,
2 centre offsets, 2 log sizes per cell. Each object is assigned to the cell holding
its box centre (the larger one wins a shared cell). Loss: sigmoid focal loss (alpha
0.25, gamma 2) over all cells + at the positive cells L1 on sigmoid offsets, L1 on log
sizes and 2 x GIoU. The exported graph ends in the decoding, after the last ReLU:
    cx, cy = (col, row + sigmoid(t_xy)) * 8,  w, h = exp(t_wh) * 16
    boxes  [N,64,4] (x1,y1,x2,y2 input pixels), scores [N,64,3] = sigmoid(logits)
(anchor = row * 8 + col; only Sigmoid, Exp, Add, Sub, Mul, Concat, Transpose and a
constant-shape Reshape), so the SNN accumulates the raw head outputs and decodes their
time average. Evaluation: per image every (anchor, class) with score > 0.05, per-class
NMS at IoU 0.5 (torchvision batched_nms), the best 100, pycocotools COCOeval (bbox,
area all, maxDets 100): mAP@0.5 and mAP@[.5:.95].

Training (both): AdamW (lr 3e-3, weight decay 1e-4 on weights), batch 32, warm-up then
per-step cosine decay, random horizontal flip / vertical flip / transpose per image,
one CPU thread, channels_last, torch.use_deterministic_algorithms. Both nets are
exported with Scripts/snn_models.export_onnx (opset 13, TorchScript exporter, dynamic
batch, BatchNormalization kept) and checked with onnxruntime on the 500 test images
(max abs difference to torch < 1e-4, asserted; metrics recomputed from onnxruntime's
outputs).

Results, seed 0, one thread next to a Swift build on a 2-core machine (data: 2 min for
17 500 images, cached; results.json has the details):
    seg  6 epochs, 620 s: test mIoU 0.9738 (IoU bg 0.998, disk 0.985, rectangle 0.971,
         triangle 0.941), pixel accuracy 0.9972; onnxruntime identical (max logit
         difference 1.4e-5)
    det  16 epochs, 716 s: test mAP@0.5 0.9637, mAP@[.5:.95] 0.8155, mAP@0.75 0.8835;
         onnxruntime identical (max box difference 1.5e-5 px)
    snnkit inspect: no conversion blockers (10 and 7 ReLUs become neurons); verify
    passes; convert with the flags above writes seg.snn.onnx and det.snn.onnx.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

SIZE = 64  # image side in pixels
SS = 4  # supersampling factor per axis for rendering (anti-aliasing, exact coverage)
CLASSES = ("circle", "rectangle", "triangle")
MAX_OBJECTS = 4  # objects per image: 1..MAX_OBJECTS; also K of the padded detection arrays
MIN_VISIBLE = 0.3  # detection ground truth keeps objects with >= 30% of their area visible
IGNORE = 255

# Preprocessing of both networks: x/255, then per channel (x - MEAN) / STD. These are
# the constants of snnkit's `--preset cifar10`.
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32)
SNNKIT_FLAGS = "--preset cifar10 --layout nhwc"

SPLITS = {"train": 0, "calib": 1, "test": 2}  # seed stream per split
GENERATOR_VERSION = 1  # bump when render() changes, so cached files are regenerated
# Default epochs: about 10 (seg, ~100 s/epoch) and 12 (det, ~45 s/epoch) minutes on one
# thread of a 2-core machine that also runs a Swift build.
SEG_EPOCHS = 6
DET_EPOCHS = 16


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

R = SIZE * SS  # supersampled side
# Subsample centres in pixel units: subsample k of pixel c sits at c + (k + 0.5) / SS.
_COORD = (np.arange(R, dtype=np.float32) + 0.5) / SS


def _random_color(rng: np.random.Generator) -> np.ndarray:
    return rng.random(3, dtype=np.float32)


def _bilinear_up(grid: np.ndarray, out: int) -> np.ndarray:
    """Bilinear upsampling of a [g, g, C] grid spanning the image to [out, out, C]."""
    g = grid.shape[0]
    pos = np.linspace(0, g - 1, out, dtype=np.float32)
    i0 = np.clip(np.floor(pos).astype(int), 0, g - 2)
    f = (pos - i0)[:, None]
    rows = grid[i0] * (1 - f[:, :, None]) + grid[i0 + 1] * f[:, :, None]  # [out, g, C]
    cols = rows[:, i0] * (1 - f[None, :, :]) + rows[:, i0 + 1] * f[None, :, :]
    return cols


def _background(rng: np.random.Generator) -> np.ndarray:
    """A textured [R, R, 3] background in [0, 1]: a weighted mix of 1-3 components
    drawn from gradient, stripes, checkerboard and low-frequency noise."""
    y, x = np.meshgrid(_COORD, _COORD, indexing="ij")
    kinds = rng.choice(4, size=rng.integers(1, 4), replace=True)
    acc = np.zeros((R, R, 3), np.float32)
    wsum = 0.0
    for kind in kinds:
        c0, c1 = _random_color(rng), _random_color(rng)
        if rng.random() < 0.3:  # a low-contrast variant now and then
            c1 = np.clip(c0 + rng.normal(0, 0.12, 3), 0, 1).astype(np.float32)
        theta = rng.uniform(0, np.pi)
        u = x * np.cos(theta) + y * np.sin(theta)  # coordinate along a random direction
        if kind == 0:  # linear gradient
            t = (u - u.min()) / (u.max() - u.min())
        elif kind == 1:  # stripes, hard or sinusoidal
            period = rng.uniform(4, 16)
            s = np.sin(2 * np.pi * u / period + rng.uniform(0, 2 * np.pi))
            t = (s > rng.uniform(-0.5, 0.5)).astype(np.float32) if rng.random() < 0.5 else 0.5 + 0.5 * s
        elif kind == 2:  # checkerboard, possibly rotated
            cell = rng.uniform(4, 12)
            v = -x * np.sin(theta) + y * np.cos(theta)
            if rng.random() < 0.5:
                u, v = x, y
            t = ((np.floor(u / cell) + np.floor(v / cell)) % 2).astype(np.float32)
        else:  # low-frequency colour noise
            g = int(rng.integers(3, 9))
            comp = _bilinear_up(rng.random((g, g, 3), dtype=np.float32), R)
            w = rng.uniform(0.5, 1.5)
            acc += w * comp
            wsum += w
            continue
        comp = c0 + (c1 - c0) * t[:, :, None]
        w = rng.uniform(0.5, 1.5)
        acc += w * comp
        wsum += w
    return acc / wsum


def _shape_mask(cls: int, size: float, rng: np.random.Generator) -> tuple[callable, float]:
    """A membership test f(dx, dy) -> bool array (offsets from the centre, pixels) for a
    shape of class `cls` with extent ~`size` px, and the radius that bounds it."""
    if cls == 0:  # disk
        r = size / 2
        return (lambda dx, dy: dx * dx + dy * dy <= r * r), r
    if cls == 1:  # rectangle, rotated by at most 15 degrees
        a = rng.uniform(0.6, 1.0)
        w, h = (size, size * a) if rng.random() < 0.5 else (size * a, size)
        phi = np.deg2rad(rng.uniform(-15, 15))
        c, s = np.cos(phi), np.sin(phi)

        def rect(dx, dy):
            u = c * dx + s * dy
            v = -s * dx + c * dy
            return (np.abs(u) <= w / 2) & (np.abs(v) <= h / 2)

        return rect, math.hypot(w, h) / 2
    # triangle: three vertices on a circle at ~120 degree spacing (jittered), any rotation
    r = size * 0.58
    base = rng.uniform(0, 2 * np.pi)
    ang = base + np.arange(3) * (2 * np.pi / 3) + rng.uniform(-0.25, 0.25, 3)
    rad = r * rng.uniform(0.85, 1.0, 3)
    vx, vy = rad * np.cos(ang), rad * np.sin(ang)

    def tri(dx, dy):
        inside = np.ones(dx.shape, bool)
        for i in range(3):
            j = (i + 1) % 3
            # counter-clockwise vertices: the interior is on the left of every edge
            cross = (vx[j] - vx[i]) * (dy - vy[i]) - (vy[j] - vy[i]) * (dx - vx[i])
            inside &= cross >= 0
        return inside

    return tri, float(rad.max())


def render(rng: np.random.Generator) -> dict:
    """One image with its targets. Returns uint8 `image` [64,64,3], uint8 `mask`
    [64,64] (0 background, class+1, 255 on boundary pixels), and the detection
    ground truth `boxes` [M,4] float32 (x1,y1,x2,y2, pixels, x2/y2 exclusive) and
    `classes` [M] int64 of the objects that are at least MIN_VISIBLE visible."""
    img = _background(rng)
    inst = np.full((R, R), -1, np.int8)  # top-most object id per subsample
    n = int(rng.integers(1, MAX_OBJECTS + 1))
    classes, areas = [], []
    for k in range(n):
        cls = int(rng.integers(0, 3))
        size = rng.uniform(10, 30)
        test, radius = _shape_mask(cls, size, rng)
        m = radius + 0.5
        cx, cy = rng.uniform(m, SIZE - m), rng.uniform(m, SIZE - m)
        # Window of subsamples that can be inside, to keep the tests cheap.
        lo_x, hi_x = max(0, int((cx - m) * SS)), min(R, int(math.ceil((cx + m) * SS)))
        lo_y, hi_y = max(0, int((cy - m) * SS)), min(R, int(math.ceil((cy + m) * SS)))
        dy, dx = np.meshgrid(_COORD[lo_y:hi_y] - cy, _COORD[lo_x:hi_x] - cx, indexing="ij")
        inside = test(dx, dy)
        # Object colour: far enough from the background it covers (distance in RGB),
        # otherwise uniform, so the class cannot be read from the colour.
        bg_mean = img[lo_y:hi_y, lo_x:hi_x][inside].mean(0)
        for _ in range(50):
            color = _random_color(rng)
            if np.linalg.norm(color - bg_mean) > 0.35:
                break
        # Gentle linear shading across the object, so it is not one flat colour.
        g = rng.uniform(-0.25, 0.25, 2) / size
        shade = 1 + g[0] * dx + g[1] * dy
        fill = np.clip(color[None, None, :] * shade[:, :, None], 0, 1)
        win = img[lo_y:hi_y, lo_x:hi_x]
        win[inside] = fill[inside]
        inst[lo_y:hi_y, lo_x:hi_x][inside] = k
        classes.append(cls)
        areas.append(int(inside.sum()))

    # Pixel values: mean of the 4x4 subsamples plus a little sensor noise.
    image = img.reshape(SIZE, SS, SIZE, SS, 3).mean(axis=(1, 3))
    image = image + rng.normal(0, rng.uniform(0, 0.03), image.shape)
    image = np.clip(np.round(image * 255), 0, 255).astype(np.uint8)

    # Mask: a pixel whose subsamples all belong to one object (or all to the background)
    # gets that label; a pixel an edge passes through (mixed subsamples) is ignored.
    blocks = inst.reshape(SIZE, SS, SIZE, SS).transpose(0, 2, 1, 3).reshape(SIZE, SIZE, SS * SS)
    lo, hi = blocks.min(-1), blocks.max(-1)
    cls_lut = np.array([0] + [c + 1 for c in classes], np.uint8)  # index id+1
    mask = np.where(lo == hi, cls_lut[lo.astype(int) + 1], IGNORE).astype(np.uint8)

    # Detection ground truth: the box of each object's visible subsamples.
    boxes, kept = [], []
    for k in range(n):
        ys, xs = np.nonzero(inst == k)
        if len(xs) < MIN_VISIBLE * areas[k] or len(xs) == 0:
            continue
        boxes.append([xs.min() / SS, ys.min() / SS, (xs.max() + 1) / SS, (ys.max() + 1) / SS])
        kept.append(classes[k])
    return dict(
        image=image,
        mask=mask,
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        classes=np.array(kept, np.int64),
    )


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """Generator of image `index` of `split`: each image has its own seed stream, so
    image i is the same whatever the number of images asked for."""
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(SPLITS[split], index)))


def generate(seed: int, split: str, count: int, log_every: int = 0) -> dict:
    """`count` images of `split` as arrays: images [N,64,64,3] uint8, masks [N,64,64]
    uint8, boxes [N,K,4] float32 and classes [N,K] int64 (K = MAX_OBJECTS; padding
    rows have class -1 and box 0)."""
    images = np.empty((count, SIZE, SIZE, 3), np.uint8)
    masks = np.empty((count, SIZE, SIZE), np.uint8)
    boxes = np.zeros((count, MAX_OBJECTS, 4), np.float32)
    classes = np.full((count, MAX_OBJECTS), -1, np.int64)
    t0 = time.perf_counter()
    for i in range(count):
        s = render(image_rng(seed, split, i))
        images[i], masks[i] = s["image"], s["mask"]
        m = len(s["classes"])
        boxes[i, :m], classes[i, :m] = s["boxes"], s["classes"]
        if log_every and (i + 1) % log_every == 0:
            print(f"  {split}: {i + 1}/{count} images ({time.perf_counter() - t0:.0f}s)", flush=True)
    return dict(images=images, masks=masks, boxes=boxes, classes=classes)


# --------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------


def write_npz(path: Path, **arrays) -> None:
    """np.savez (uncompressed: snnkit maps stored entries in place), written to a
    temporary name first so an interrupted run leaves no half file."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def make_data(out: Path, seed: int, calib: int, test: int, train: int, force: bool = False) -> dict:
    """Writes shapes-{seg,det}-{calib,test}.npz and the training cache
    shapes-train.npz (all targets) unless they exist with the right sizes."""
    out.mkdir(parents=True, exist_ok=True)
    info = {}
    for split, count in (("calib", calib), ("test", test), ("train", train)):
        names = ["shapes-train.npz"] if split == "train" else [f"shapes-seg-{split}.npz", f"shapes-det-{split}.npz"]
        meta = out / f"shapes-{split}.meta.json"
        want = dict(seed=seed, count=count, generator_version=GENERATOR_VERSION)
        if not force and meta.exists() and json.loads(meta.read_text()) == want and all((out / n).exists() for n in names):
            print(f"{split}: {count} images already in {out} (seed {seed})", flush=True)
            info[split] = want
            continue
        t0 = time.perf_counter()
        d = generate(seed, split, count, log_every=2000)
        dt = time.perf_counter() - t0
        if split == "train":
            write_npz(out / names[0], **d)
        else:
            write_npz(out / names[0], images=d["images"], masks=d["masks"])
            write_npz(out / names[1], images=d["images"], boxes=d["boxes"], classes=d["classes"])
        meta.write_text(json.dumps(want))
        objs = int((d["classes"] >= 0).sum())
        print(f"{split}: {count} images, {objs} detection objects, {dt:.0f}s -> " + ", ".join(names), flush=True)
        info[split] = want
    return info


def load_split(out: Path, split: str) -> dict:
    if split == "train":
        with np.load(out / "shapes-train.npz") as z:
            return {k: z[k] for k in z.files}
    d = {}
    for task in ("seg", "det"):
        with np.load(out / f"shapes-{task}-{split}.npz") as z:
            d.update({k: z[k] for k in z.files})
    return d



# --------------------------------------------------------------------------
# Models (torch is imported lazily so `data` runs without it)
# --------------------------------------------------------------------------


def build_models():
    import torch
    import torch.nn as nn

    def cbr(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    class SegNet(nn.Module):
        """Encoder-decoder: 64x64 -> 32 -> 16 -> 32 -> 64. The 16->32 step is a
        nearest Upsample + Concat skip, the 32->64 step a ConvTranspose2d + Add skip
        (both forms, so both are exercised on the snnkit side). ReLU only; the
        final 1x1 conv gives 4 class logits (background + 3 shapes)."""

        def __init__(self, w=(16, 32, 64)):
            super().__init__()
            a, b, c = w
            self.enc1 = nn.Sequential(cbr(3, a), cbr(a, a))
            self.enc2 = nn.Sequential(cbr(a, b), cbr(b, b))
            self.enc3 = nn.Sequential(cbr(b, c), cbr(c, c))
            self.pool = nn.MaxPool2d(2)
            self.up2 = nn.Upsample(scale_factor=2, mode="nearest")
            self.dec2 = nn.Sequential(cbr(c + b, b), cbr(b, b))
            self.up1 = nn.ConvTranspose2d(b, a, 2, stride=2, bias=False)
            self.up1_bn = nn.BatchNorm2d(a)
            self.dec1 = cbr(a, a)
            self.head = nn.Conv2d(a, len(CLASSES) + 1, 1)

        def forward(self, x):
            e1 = self.enc1(x)  # a @ 64
            e2 = self.enc2(self.pool(e1))  # b @ 32
            e3 = self.enc3(self.pool(e2))  # c @ 16
            d2 = self.dec2(torch.cat([self.up2(e3), e2], 1))  # b @ 32
            d1 = torch.relu(self.up1_bn(self.up1(d2)) + e1)  # a @ 64
            return self.head(self.dec1(d1))

    class DetNet(nn.Module):
        """Backbone to an 8x8 grid (stride 8) and three 1x1 head convs per cell:
        3 class logits, 2 centre offsets, 2 log sizes. `forward` returns the raw
        heads (training); `Decoded(model)` appends the box decoding for export."""

        STRIDE = 8
        SIZE_UNIT = 16.0  # w = exp(tw) * 16 px

        def __init__(self, w=(16, 32, 64, 96)):
            super().__init__()
            a, b, c, d = w
            self.features = nn.Sequential(
                cbr(3, a), nn.MaxPool2d(2),  # 32
                cbr(a, b), cbr(b, b), nn.MaxPool2d(2),  # 16
                cbr(b, c), cbr(c, c), nn.MaxPool2d(2),  # 8
                cbr(c, d), cbr(d, d),
            )
            self.cls = nn.Conv2d(d, len(CLASSES), 1)
            self.off = nn.Conv2d(d, 2, 1)
            self.size = nn.Conv2d(d, 2, 1)
            g = SIZE // self.STRIDE
            gy, gx = torch.meshgrid(torch.arange(g, dtype=torch.float32), torch.arange(g, dtype=torch.float32), indexing="ij")
            self.register_buffer("grid", torch.stack([gx, gy])[None], persistent=False)  # [1,2,g,g]
            # Prior for rare positives (focal loss practice): start scores at ~0.01.
            nn.init.constant_(self.cls.bias, -4.6)

        def forward(self, x):
            f = self.features(x)
            return self.cls(f), self.off(f), self.size(f)

        def decode(self, cls, off, size):
            """Raw heads -> boxes [N,A,4] (x1,y1,x2,y2 pixels) and scores [N,A,3],
            anchor A = row * 8 + column. Only Sigmoid, Exp, Add, Sub, Mul, Concat,
            Transpose and a constant-shape Reshape."""
            centre = (torch.sigmoid(off) + self.grid) * self.STRIDE
            half = torch.exp(size) * (self.SIZE_UNIT / 2)
            boxes = torch.cat([centre - half, centre + half], 1)  # [N,4,g,g]
            a = (SIZE // self.STRIDE) ** 2
            boxes = boxes.permute(0, 2, 3, 1).reshape(-1, a, 4)
            scores = torch.sigmoid(cls).permute(0, 2, 3, 1).reshape(-1, a, len(CLASSES))
            return boxes, scores

    class Decoded(nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net.decode(*self.net(x))

    return SegNet, DetNet, Decoded


def count_macs_all(model, input_shape) -> int:
    """MACs per image of Conv2d, ConvTranspose2d and Linear layers (snn_models.count_macs)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import snn_models

    return snn_models.count_macs(model, input_shape)["total"]


# --------------------------------------------------------------------------
# Training helpers
# --------------------------------------------------------------------------


def setup_torch(seed: int):
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    return torch


def normalize(x_u8_nhwc):
    """uint8 NHWC tensor -> float32 NCHW, (x/255 - MEAN) / STD (snnkit --preset cifar10)."""
    import torch

    mean = torch.from_numpy(MEAN).view(1, 3, 1, 1)
    std = torch.from_numpy(STD).view(1, 3, 1, 1)
    return ((x_u8_nhwc.permute(0, 3, 1, 2).float() / 255.0) - mean) / std


def dihedral(rng: np.random.Generator, b: int):
    """Per-sample random horizontal flip, vertical flip and transpose (the 8
    symmetries of the square; every shape class is closed under them)."""
    import torch

    return [torch.from_numpy(rng.random(b) < 0.5) for _ in range(3)]


def augment_images(x, flips):
    """x [B,C,H,W] or [B,H,W]; flips from `dihedral`, applied as h-flip, v-flip, transpose."""
    import torch

    hf, vf, tr = flips
    shape = (-1,) + (1,) * (x.dim() - 1)
    x = torch.where(hf.view(shape), x.flip(-1), x)
    x = torch.where(vf.view(shape), x.flip(-2), x)
    x = torch.where(tr.view(shape), x.transpose(-1, -2), x)
    return x


def augment_boxes(boxes, flips):
    """boxes [B,K,4] (x1,y1,x2,y2) transformed like `augment_images`."""
    import torch

    hf, vf, tr = (f.view(-1, 1) for f in flips)
    x1, y1, x2, y2 = boxes.unbind(-1)
    x1, x2 = torch.where(hf, SIZE - x2, x1), torch.where(hf, SIZE - x1, x2)
    y1, y2 = torch.where(vf, SIZE - y2, y1), torch.where(vf, SIZE - y1, y2)
    x1, y1 = torch.where(tr, y1, x1), torch.where(tr, x1, y1)
    x2, y2 = torch.where(tr, y2, x2), torch.where(tr, x2, y2)
    return torch.stack([x1, y1, x2, y2], -1)


def lr_at(step: int, total: int, warmup: int, peak: float) -> float:
    if step < warmup:
        return peak * (0.1 + 0.9 * step / max(1, warmup))
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * peak * (1.0 + math.cos(math.pi * t))


def make_optimizer(model, lr: float, wd: float):
    import torch

    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return torch.optim.AdamW([dict(params=decay, weight_decay=wd), dict(params=no_decay, weight_decay=0.0)], lr=lr)


def train_loop(model, loss_fn, n_train: int, epochs: int, batch: int, lr: float, wd: float,
               rng: np.random.Generator, max_steps: int | None, log_name: str, progress=None):
    """Shared loop: per-epoch permutation from `rng`, AdamW with warm-up + cosine
    (per step). `loss_fn(idx, flips)` returns (loss, stats dict)."""
    import torch

    opt = make_optimizer(model, lr, wd)
    steps_per_epoch = math.ceil(n_train / batch)
    total = epochs * steps_per_epoch
    warmup = min(300, total // 10)
    step, history = 0, []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        te = time.perf_counter()
        perm = rng.permutation(n_train)
        sums, seen = {}, 0
        for s in range(0, n_train, batch):
            idx = perm[s : s + batch]
            flips = dihedral(rng, len(idx))
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, warmup, lr)
            loss, stats = loss_fn(idx, flips)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v * len(idx)
            seen += len(idx)
            if max_steps is not None and step >= max_steps:
                break
        rec = dict(epoch=epoch, **{k: round(v / seen, 5) for k, v in sums.items()},
                   epoch_s=round(time.perf_counter() - te, 1), elapsed_s=round(time.perf_counter() - t0, 1))
        if progress is not None:
            rec.update(progress(model))
        history.append(rec)
        print(f"{log_name} epoch {epoch}/{epochs} " + "  ".join(f"{k} {v}" for k, v in rec.items() if k != "epoch"), flush=True)
        if max_steps is not None and step >= max_steps:
            print(f"stopped after --max-steps {max_steps}: {rec['epoch_s'] / seen * 1000:.2f} ms/img, "
                  f"~{rec['epoch_s'] / seen * n_train:.0f} s/epoch", flush=True)
            break
    return time.perf_counter() - t0, history, step


def ort_session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def rename_outputs(path: Path, names: dict) -> dict:
    """Rename graph outputs (export_onnx calls them output, output_1, ...); returns op counts."""
    import onnx

    proto = onnx.load(str(path))
    g = proto.graph
    for node in g.node:
        for i, n in enumerate(node.output):
            node.output[i] = names.get(n, n)
        for i, n in enumerate(node.input):
            node.input[i] = names.get(n, n)
    for o in g.output:
        o.name = names.get(o.name, o.name)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    ops: dict[str, int] = {}
    for n in g.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return ops


def write_verify_data(path: Path, folder: Path, x: np.ndarray, outputs: dict) -> None:
    """ONNX backend-test folder (input_0.pb, output_N.pb) for `snnkit verify`."""
    import onnx
    from onnx import numpy_helper

    folder.mkdir(parents=True, exist_ok=True)
    proto = onnx.load(str(path))
    (folder / "input_0.pb").write_bytes(numpy_helper.from_array(x, proto.graph.input[0].name).SerializeToString())
    for i, o in enumerate(proto.graph.output):
        (folder / f"output_{i}.pb").write_bytes(numpy_helper.from_array(outputs[o.name], o.name).SerializeToString())


def update_results(out: Path, key: str, value: dict) -> None:
    path = out / "results.json"
    res = json.loads(path.read_text()) if path.exists() else {}
    res[key] = value
    res["preprocessing"] = dict(scale="1/255", mean=[round(float(v), 4) for v in MEAN],
                                std=[round(float(v), 4) for v in STD], layout="NCHW model input",
                                snnkit_flags=SNNKIT_FLAGS, data_layout="uint8 NHWC `images`")
    path.write_text(json.dumps(res, indent=2))


def versions() -> dict:
    import onnx
    import onnxruntime
    import torch

    return dict(python=platform.python_version(), torch=torch.__version__, onnx=onnx.__version__,
                onnxruntime=onnxruntime.__version__, numpy=np.__version__)


# --------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------


def confusion(pred: np.ndarray, mask: np.ndarray, k: int = len(CLASSES) + 1) -> np.ndarray:
    """k x k counts (rows ground truth, columns prediction), ignore pixels left out."""
    keep = mask != IGNORE
    return np.bincount(mask[keep].astype(np.int64) * k + pred[keep], minlength=k * k).reshape(k, k)


def seg_metrics(conf: np.ndarray) -> dict:
    tp = np.diag(conf).astype(np.float64)
    denom = conf.sum(0) + conf.sum(1) - tp
    iou = np.where(denom > 0, tp / np.maximum(denom, 1), np.nan)
    return dict(miou=float(np.nanmean(iou)), pixel_acc=float(tp.sum() / conf.sum()),
                iou=dict(zip(("background",) + CLASSES, [round(float(v), 5) for v in iou])))


def seg_logits(model, images_u8: np.ndarray, batch: int = 100) -> np.ndarray:
    import torch

    model.eval()
    with torch.no_grad():
        return torch.cat([model(normalize(torch.from_numpy(images_u8[s : s + batch])))
                          for s in range(0, len(images_u8), batch)]).numpy()


def run_seg(args) -> dict:
    torch = setup_torch(args.seed)
    import torch.nn.functional as F

    SegNet, _, _ = build_models()
    out = args.out
    tr, te = load_split(out, "train"), load_split(out, "test")
    xtr = torch.from_numpy(tr["images"])
    ytr = torch.from_numpy(tr["masks"]).long()
    model = SegNet()
    n_params = sum(p.numel() for p in model.parameters())
    macs = count_macs_all(model, (1, 3, SIZE, SIZE))
    print(f"seg: {n_params} parameters, {macs / 1e6:.1f} MMACs/image, {len(xtr)} train images, "
          f"{args.seg_epochs} epochs", flush=True)
    mf = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=mf)

    def loss_fn(idx, flips):
        t = torch.from_numpy(idx)
        x = augment_images(normalize(xtr[t]), flips).contiguous(memory_format=mf)
        y = augment_images(ytr[t], flips)
        logits = model(x)
        loss = F.cross_entropy(logits, y, ignore_index=IGNORE)
        return loss, dict(loss=loss.item())

    def progress(m):
        conf = confusion(seg_logits(m, te["images"][:200]).argmax(1), te["masks"][:200])
        return dict(test200_miou=round(seg_metrics(conf)["miou"], 4))

    rng = np.random.default_rng(np.random.SeedSequence(entropy=args.seed, spawn_key=(10,)))
    train_s, history, steps = train_loop(model, loss_fn, len(xtr), args.seg_epochs, args.batch, args.seg_lr,
                                         1e-4, rng, args.max_steps, "seg", progress)
    model = model.to(memory_format=torch.contiguous_format).eval()
    logits = seg_logits(model, te["images"])
    m_torch = seg_metrics(confusion(logits.argmax(1), te["masks"]))
    print(f"seg torch test: mIoU {m_torch['miou']:.4f}, pixel acc {m_torch['pixel_acc']:.4f}, IoU {m_torch['iou']}, "
          f"training {train_s:.0f}s", flush=True)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from snn_models import export_onnx

    torch.save(model.state_dict(), out / "seg.pt")
    path = out / "seg.onnx"
    export_onnx(model, path, (1, 3, SIZE, SIZE), opset=args.opset, dynamic_batch=True)
    ops = rename_outputs(path, {"output": "logits"})
    x_te = normalize(torch.from_numpy(te["images"])).numpy()
    sess = ort_session(path)
    ort_logits = np.concatenate([sess.run(["logits"], {"input": x_te[s : s + 100]})[0] for s in range(0, len(x_te), 100)])
    diff = float(np.abs(ort_logits - logits).max())
    m_ort = seg_metrics(confusion(ort_logits.argmax(1), te["masks"]))
    print(f"seg onnxruntime: mIoU {m_ort['miou']:.4f}, max |logit diff| vs torch {diff:.2e}; ops {ops}", flush=True)
    assert diff < 1e-4, diff
    write_verify_data(path, out / "seg_test_data", x_te[:4], {"logits": ort_logits[:4]})

    res = dict(onnx=str(path), state_dict=str(out / "seg.pt"), input="input [N,3,64,64] normalised NCHW",
               output="logits [N,4,64,64] (0 background, 1 circle, 2 rectangle, 3 triangle), no softmax",
               test_images=len(x_te), train_images=len(xtr),
               torch=m_torch, onnxruntime=m_ort, max_abs_logit_diff_ort_vs_torch=diff,
               training_time_s=round(train_s, 1), epochs=len(history), steps=steps, batch=args.batch,
               optimizer=dict(type="AdamW", lr=args.seg_lr, weight_decay=1e-4, schedule="warm-up + cosine per step"),
               loss="cross-entropy, ignore_index 255", augmentation="random h-flip, v-flip, transpose",
               parameters=n_params, macs_per_image=macs, opset=args.opset, onnx_ops=ops, seed=args.seed,
               threads=1, channels_last=args.channels_last, versions=versions(), history=history)
    update_results(out, "seg", res)
    return res


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------


def det_targets(boxes, classes, g: int, stride: int):
    """Assign each object to the cell holding its box centre (a larger object wins a
    shared cell). Returns class index per cell [B,g,g] (-1 = none) and the target box
    per cell [B,g,g,4] in pixels."""
    import torch

    b = boxes.shape[0]
    cls_idx = torch.full((b, g, g), -1, dtype=torch.long)
    tbox = torch.zeros((b, g, g, 4))
    area = (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    area = torch.where(classes >= 0, area, torch.full_like(area, -1.0))
    order = torch.argsort(area, dim=1)  # ascending: padding first, larger objects last
    ar = torch.arange(b)
    for k in range(boxes.shape[1]):
        j = order[:, k]
        c = classes[ar, j]
        bx = boxes[ar, j]
        valid = c >= 0
        gx = ((bx[:, 0] + bx[:, 2]) / 2 / stride).floor().long().clamp(0, g - 1)
        gy = ((bx[:, 1] + bx[:, 3]) / 2 / stride).floor().long().clamp(0, g - 1)
        sel = ar[valid]
        cls_idx[sel, gy[valid], gx[valid]] = c[valid]
        tbox[sel, gy[valid], gx[valid]] = bx[valid]
    return cls_idx, tbox


def nms_detections(boxes: np.ndarray, scores: np.ndarray, score_thr=0.05, iou_thr=0.5, max_det=100) -> list:
    """Per image: every (anchor, class) with score > score_thr is a candidate,
    per-class NMS (IoU > iou_thr suppresses), the best max_det kept. Returns a list of
    (image, class, score, x1, y1, x2, y2)."""
    import torch
    from torchvision.ops import batched_nms

    dets = []
    for i in range(len(boxes)):
        a, c = np.nonzero(scores[i] > score_thr)
        if len(a) == 0:
            continue
        b = torch.from_numpy(boxes[i][a])
        s = torch.from_numpy(scores[i][a, c])
        keep = batched_nms(b, s, torch.from_numpy(c), iou_thr)[:max_det].numpy()
        for k in keep:
            dets.append((i, int(c[k]), float(s[k]), *map(float, boxes[i][a[k]])))
    return dets


def coco_map(dets: list, gt_boxes: np.ndarray, gt_classes: np.ndarray) -> dict:
    """pycocotools COCOeval (bbox, area 'all', maxDets 100) of `dets` against the padded
    ground truth. Returns AP@[.5:.95], AP50, AP75 and AP50 per class."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns = [], []
    for i in range(len(gt_boxes)):
        images.append(dict(id=i + 1, width=SIZE, height=SIZE))
        for b, c in zip(gt_boxes[i], gt_classes[i]):
            if c < 0:
                continue
            w, h = float(b[2] - b[0]), float(b[3] - b[1])
            anns.append(dict(id=len(anns) + 1, image_id=i + 1, category_id=int(c) + 1,
                             bbox=[float(b[0]), float(b[1]), w, h], area=w * h, iscrowd=0))
    gt = COCO()
    gt.dataset = dict(images=images, annotations=anns, categories=[dict(id=k + 1, name=n) for k, n in enumerate(CLASSES)])
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        if not dets:
            return dict(map50=0.0, map=0.0, map75=0.0, ap50_per_class={n: 0.0 for n in CLASSES}, detections=0)
        res = gt.loadRes([dict(image_id=i + 1, category_id=c + 1, score=s, bbox=[x1, y1, x2 - x1, y2 - y1])
                          for i, c, s, x1, y1, x2, y2 in dets])
        ev = COCOeval(gt, res, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    prec = ev.eval["precision"]  # [T, R, K, A, M]
    per_class = {}
    for k, n in enumerate(CLASSES):
        p = prec[0, :, k, 0, -1]
        per_class[n] = round(float(p[p > -1].mean()) if (p > -1).any() else float("nan"), 5)
    return dict(map=float(ev.stats[0]), map50=float(ev.stats[1]), map75=float(ev.stats[2]),
                ap50_per_class=per_class, detections=len(dets))


def det_outputs(model, images_u8: np.ndarray, batch: int = 100) -> tuple[np.ndarray, np.ndarray]:
    import torch

    model.eval()
    bs, ss = [], []
    with torch.no_grad():
        for s in range(0, len(images_u8), batch):
            b, sc = model.decode(*model(normalize(torch.from_numpy(images_u8[s : s + batch]))))
            bs.append(b.numpy())
            ss.append(sc.numpy())
    return np.concatenate(bs), np.concatenate(ss)


def run_det(args) -> dict:
    torch = setup_torch(args.seed)
    from torchvision.ops import generalized_box_iou_loss, sigmoid_focal_loss

    _, DetNet, Decoded = build_models()
    out = args.out
    tr, te = load_split(out, "train"), load_split(out, "test")
    xtr = torch.from_numpy(tr["images"])
    btr = torch.from_numpy(tr["boxes"])
    ctr = torch.from_numpy(tr["classes"])
    model = DetNet()
    g, stride = SIZE // DetNet.STRIDE, DetNet.STRIDE
    n_params = sum(p.numel() for p in model.parameters())
    macs = count_macs_all(model, (1, 3, SIZE, SIZE))
    print(f"det: {n_params} parameters, {macs / 1e6:.1f} MMACs/image, {len(xtr)} train images, "
          f"{int((ctr >= 0).sum())} objects, {args.det_epochs} epochs", flush=True)
    mf = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=mf)

    def loss_fn(idx, flips):
        t = torch.from_numpy(idx)
        x = augment_images(normalize(xtr[t]), flips).contiguous(memory_format=mf)
        boxes = augment_boxes(btr[t], flips)
        cls_idx, tbox = det_targets(boxes, ctr[t], g, stride)
        cls, off, size = model(x)
        pos = cls_idx >= 0
        npos = max(1, int(pos.sum()))
        onehot = torch.zeros_like(cls)
        b_, y_, x_ = pos.nonzero(as_tuple=True)
        onehot[b_, cls_idx[pos], y_, x_] = 1.0
        l_cls = sigmoid_focal_loss(cls, onehot, alpha=0.25, gamma=2.0, reduction="sum") / npos
        # Box terms at the positive cells only.
        tb = tbox[pos]  # [P,4]
        centre_t = torch.stack([(tb[:, 0] + tb[:, 2]) / 2, (tb[:, 1] + tb[:, 3]) / 2], 1) / stride
        grid_xy = torch.stack([x_, y_], 1).float()
        off_p = torch.sigmoid(off.permute(0, 2, 3, 1)[pos])
        size_p = size.permute(0, 2, 3, 1)[pos]
        wh_t = (tb[:, 2:] - tb[:, :2]).clamp(min=1.0)
        l_off = (off_p - (centre_t - grid_xy)).abs().sum() / npos
        l_size = (size_p - torch.log(wh_t / DetNet.SIZE_UNIT)).abs().sum() / npos
        centre_p = (off_p + grid_xy) * stride
        half_p = torch.exp(size_p) * (DetNet.SIZE_UNIT / 2)
        pb = torch.cat([centre_p - half_p, centre_p + half_p], 1)
        l_giou = generalized_box_iou_loss(pb, tb, reduction="sum") / npos
        loss = l_cls + l_off + l_size + 2.0 * l_giou
        return loss, dict(loss=loss.item(), cls=l_cls.item(), off=l_off.item(), size=l_size.item(), giou=l_giou.item())

    def progress(m):
        b, s = det_outputs(m, te["images"][:200])
        r = coco_map(nms_detections(b, s), te["boxes"][:200], te["classes"][:200])
        return dict(test200_map50=round(r["map50"], 4), test200_map=round(r["map"], 4))

    rng = np.random.default_rng(np.random.SeedSequence(entropy=args.seed, spawn_key=(11,)))
    train_s, history, steps = train_loop(model, loss_fn, len(xtr), args.det_epochs, args.batch, args.det_lr,
                                         1e-4, rng, args.max_steps, "det", progress)
    model = model.to(memory_format=torch.contiguous_format).eval()
    boxes, scores = det_outputs(model, te["images"])
    r_torch = coco_map(nms_detections(boxes, scores), te["boxes"], te["classes"])
    print(f"det torch test: mAP@0.5 {r_torch['map50']:.4f}, mAP@[.5:.95] {r_torch['map']:.4f}, "
          f"AP50 per class {r_torch['ap50_per_class']}, training {train_s:.0f}s", flush=True)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from snn_models import export_onnx

    torch.save(model.state_dict(), out / "det.pt")
    path = out / "det.onnx"
    export_onnx(Decoded(model), path, (1, 3, SIZE, SIZE), opset=args.opset, dynamic_batch=True)
    ops = rename_outputs(path, {"output": "boxes", "output_1": "scores"})
    x_te = normalize(torch.from_numpy(te["images"])).numpy()
    sess = ort_session(path)
    ob, os_ = [], []
    for s in range(0, len(x_te), 100):
        b, sc = sess.run(["boxes", "scores"], {"input": x_te[s : s + 100]})
        ob.append(b)
        os_.append(sc)
    ob, os_ = np.concatenate(ob), np.concatenate(os_)
    diff_b, diff_s = float(np.abs(ob - boxes).max()), float(np.abs(os_ - scores).max())
    r_ort = coco_map(nms_detections(ob, os_), te["boxes"], te["classes"])
    print(f"det onnxruntime: mAP@0.5 {r_ort['map50']:.4f}, mAP@[.5:.95] {r_ort['map']:.4f}, max |diff| vs torch "
          f"boxes {diff_b:.2e} scores {diff_s:.2e}; ops {ops}", flush=True)
    assert diff_b < 1e-4 and diff_s < 1e-4, (diff_b, diff_s)
    write_verify_data(path, out / "det_test_data", x_te[:4], {"boxes": ob[:4], "scores": os_[:4]})

    res = dict(onnx=str(path), state_dict=str(out / "det.pt"), input="input [N,3,64,64] normalised NCHW",
               outputs="boxes [N,64,4] (x1,y1,x2,y2 input pixels), scores [N,64,3] sigmoid; anchor = row*8+col",
               decode="cx,cy = (col,row + sigmoid(t_xy)) * 8; w,h = exp(t_wh) * 16",
               evaluation="per-class NMS IoU 0.5, score > 0.05, max 100 per image; pycocotools COCOeval bbox",
               test_images=len(x_te), train_images=len(xtr), torch=r_torch, onnxruntime=r_ort,
               max_abs_diff_ort_vs_torch=dict(boxes=diff_b, scores=diff_s),
               training_time_s=round(train_s, 1), epochs=len(history), steps=steps, batch=args.batch,
               optimizer=dict(type="AdamW", lr=args.det_lr, weight_decay=1e-4, schedule="warm-up + cosine per step"),
               loss="sigmoid focal (alpha 0.25, gamma 2) + L1 offsets + L1 log sizes + 2 GIoU, per positive cell",
               augmentation="random h-flip, v-flip, transpose", parameters=n_params, macs_per_image=macs,
               opset=args.opset, onnx_ops=ops, seed=args.seed, threads=1, channels_last=args.channels_last,
               versions=versions(), history=history)
    update_results(out, "det", res)
    return res


# --------------------------------------------------------------------------
# snnkit check
# --------------------------------------------------------------------------


def snnkit_commands(out: Path, snnkit: str) -> list[list[str]]:
    cmds = []
    for task in ("seg", "det"):
        m = str(out / f"{task}.onnx")
        cmds.append([snnkit, "inspect", m])
        cmds.append([snnkit, "verify", m, "--data", str(out / f"{task}_test_data")])
        cmds.append([snnkit, "convert", m, "--calib", str(out / f"shapes-{task}-calib.npz"), *SNNKIT_FLAGS.split(),
                     "--calib-batches", "10", "--batch-size", "50", "-o", str(out / f"{task}.snn.onnx")])
    return cmds


def run_check(args) -> dict:
    import subprocess

    results = []
    for cmd in snnkit_commands(args.out, args.snnkit):
        print("$ " + " ".join(cmd), flush=True)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        tail = (p.stdout + p.stderr).strip().splitlines()[-15:]
        print("\n".join(tail), flush=True)
        results.append(dict(command=" ".join(cmd), exit=p.returncode, seconds=round(time.perf_counter() - t0, 1),
                            output_tail=tail))
    update_results(args.out, "snnkit", dict(results=results))
    return dict(results=results)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", nargs="?", default="all", choices=["all", "data", "seg", "det", "check"],
                    help="all = data + seg + det (default); check runs snnkit inspect/verify/convert")
    ap.add_argument("--out", type=Path, required=True, help="output directory, outside the repository")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-images", type=int, default=16000)
    ap.add_argument("--calib-images", type=int, default=1000)
    ap.add_argument("--test-images", type=int, default=500)
    ap.add_argument("--force-data", action="store_true", help="regenerate the data even if cached")
    ap.add_argument("--seg-epochs", type=int, default=SEG_EPOCHS)
    ap.add_argument("--det-epochs", type=int, default=DET_EPOCHS)
    ap.add_argument("--seg-lr", type=float, default=3e-3)
    ap.add_argument("--det-lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--no-channels-last", dest="channels_last", action="store_false",
                    help="train in NCHW memory format (channels_last is ~30%% faster on one CPU thread)")
    ap.add_argument("--max-steps", type=int, default=None, help="stop training after N steps (timing runs)")
    ap.add_argument("--snnkit", default=str(ROOT / ".build" / "release" / "snnkit"), help="snnkit binary for `check` (default %(default)s)")
    args = ap.parse_args(argv)
    out = args.out.resolve()
    if out == ROOT or ROOT in out.parents:
        ap.error(f"--out {out} is inside the repository; write the models and data elsewhere")
    args.out = out

    if args.command in ("all", "data", "seg", "det"):
        make_data(out, args.seed, args.calib_images, args.test_images, args.train_images, args.force_data)
    if args.command in ("all", "seg"):
        run_seg(args)
    if args.command in ("all", "det"):
        run_det(args)
    if args.command == "check":
        run_check(args)
    print("\nsnnkit preprocessing for these models and npz files: " + SNNKIT_FLAGS)
    for cmd in snnkit_commands(out, args.snnkit):
        print("  " + " ".join(cmd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
