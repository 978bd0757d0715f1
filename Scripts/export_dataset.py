#!/usr/bin/env python3
"""Write a torchvision dataset or an image folder to .npz shards that snnkit reads.

snnkit's --calib/--data take one .npy/.npz file (images under `images`, labels under
`labels`, segmentation masks under `masks`; see Sources/Data/NPZArchive.swift and
Annotations.swift). This script applies a model's eval preprocessing (resize, centre
crop) once and stores the result in that form, so calibration and evaluation need no
Python at run time.

Sources (--source):
    imagefolder:/path               torchvision.datasets.ImageFolder (one subfolder per class)
    torchvision:CLASS:/root         any torchvision.datasets class, e.g. CIFAR100, MNIST,
                                    SVHN, ImageNet, Food101; --split goes to its `train=`
                                    (train -> True, anything else -> False), `split=` or
                                    `image_set=` argument, whichever it has
    voc-seg:/root[:YEAR]            torchvision.datasets.VOCSegmentation (default 2012,
                                    --split train|val|trainval): images + masks (class
                                    indices, 255 = ignore / object boundary)
    fake:N                          torchvision.datasets.FakeData, N random images of
                                    --fake-size (default 3x256x320), 10 classes (offline tests)

Nothing is downloaded unless --download is given (torchvision's own download=True).

Preprocessing (torchvision's eval pipeline): --resize S scales the shorter side to S
(bilinear with antialiasing, as transforms.Resize(S)), --resize HxW to exactly HxW,
--crop C (or HxW) takes the centre crop (transforms.CenterCrop; a crop larger than the
image pads it with 0, masks with 255). Masks are resized with nearest neighbour, so
class indices and 255 survive. Without --resize/--crop every image must have the same
size. Images are converted to RGB (--gray: 1 channel, as MNIST models expect).

Storage, one of:
    --uint8                  raw pixels, uint8 NHWC [N,H,W,C] (4x smaller; preferred).
                             snnkit then normalises itself: pass --preset P --layout nhwc,
                             where P is what the model expects (imagenet, cifar10, mnist,
                             unit = x/255, none). --normalize names that preset here (it is
                             recorded and printed, not applied); a custom mean:std
                             goes to snnkit as --mean m1,m2,m3 --std s1,s2,s3.
    --normalize imagenet     float32 NCHW [N,C,H,W], (x/255 - mean) / std with ImageNet's
        (default)            mean/std; also cifar10, mnist, none (= x/255 only, like
                             ToTensor) or custom `m1,m2,m3:s1,s2,s3` (one value = every
                             channel). snnkit takes float data as already preprocessed:
                             pass no --preset (or --preset none) and --layout nchw.

Output: OUT/NAME-00000.npz, NAME-00001.npz, ... of at most --shard-size (default 10000)
images each, np.savez (uncompressed, so snnkit maps them in place), with `images` and
`labels` (int64 [N]) or, for voc-seg, `masks` (uint8 [N,H,W]); and OUT/NAME.json
(source, split, shapes, preprocessing, class names, shard list, the snnkit flags).
snnkit reads a shard file or the whole OUT folder (its .npz shards in name order, as
one dataset) with --calib/--data; keep calibration and evaluation sets in separate
folders. --limit N keeps the first N
samples (after --shuffle SEED, a seeded permutation, if given: a random calibration
subset of a training set). NAME defaults to the source (e.g. cifar100-test).

Tested offline (no torchvision download) with these commands, each a few seconds; the
outputs were compared with numpy against torchvision's own
Resize/CenterCrop/ToTensor/Normalize pipeline on the same datasets (identical). $OUT is
any scratch folder outside the repository, $SNNKIT the snnkit binary, and $MODELS holds
a CIFAR-10 `resnet20.onnx` (Scripts/train_cifar.py) and the shapes `seg.onnx`
(Scripts/make_shapes_tasks.py):

    python Scripts/export_dataset.py --self-test $OUT      # ImageFolder + VOC trees
    # FakeData, uint8 NHWC, 3 shards (64 + 64 + 22), then snnkit reads the shards
    python Scripts/export_dataset.py --source fake:150 --resize 36 --crop 32 --uint8 \\
        --normalize cifar10 --shard-size 64 --out $OUT/fake-u8
    $SNNKIT convert $MODELS/resnet20.onnx --calib $OUT/fake-u8/fake-00000.npz \\
        --preset cifar10 --layout nhwc --calib-batches 2 --batch-size 32 --threads 1 -o $OUT/r20.snn.onnx
    $SNNKIT simulate $OUT/r20.snn.onnx --data $OUT/fake-u8/fake-00001.npz \\
        --preset cifar10 --layout nhwc -T 8 --batch-size 32 --threads 1   # labels read; top-1 ~ chance
    # FakeData, float32 NCHW normalised with the CIFAR-10 constants (no snnkit preset)
    python Scripts/export_dataset.py --source fake:100 --crop 32 --normalize cifar10 --out $OUT/fake-f32
    $SNNKIT convert $MODELS/resnet20.onnx --calib $OUT/fake-f32/fake-00000.npz \\
        --layout nchw --calib-batches 2 --batch-size 50 --threads 1 -o $OUT/r20b.snn.onnx
    # ImageFolder of generated PNGs of mixed sizes (3 classes x 4)
    python Scripts/export_dataset.py --source imagefolder:$OUT/folder --resize 72 --crop 64 \\
        --uint8 --out $OUT/folder-u8
    $SNNKIT convert $MODELS/seg.onnx --calib $OUT/folder-u8/folder-00000.npz \\
        --preset imagenet --layout nhwc --calib-batches 2 --batch-size 6 --threads 1 -o $OUT/seg2.snn.onnx
    # VOCSegmentation on the hand-made VOCdevkit/VOC2012 tree (palette PNG masks, 255 borders)
    python Scripts/export_dataset.py --source voc-seg:$OUT/voc --split val --resize 72 --crop 64 \\
        --uint8 --normalize cifar10 --out $OUT/voc-u8
    python Scripts/export_dataset.py --source voc-seg:$OUT/voc --split train --resize 200 --crop 224 \\
        --shuffle 1 --limit 5 --out $OUT/voc-f32   # crop > image: mask padding is 255
    $SNNKIT convert $MODELS/seg.onnx --calib $OUT/voc-u8/voc2012-val-00000.npz \\
        --preset cifar10 --layout nhwc --calib-batches 1 --batch-size 4 --threads 1 -o $OUT/seg.snn.onnx

(`--self-test DIR` builds the ImageFolder and VOC trees used above in DIR.)
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

PRESETS = {  # name -> (mean, std) after x/255; the names snnkit's --preset knows
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "mnist": ((0.1307,), (0.3081,)),
    "none": ((0.0,), (1.0,)),  # x/255 only (ToTensor); snnkit calls this `unit` for uint8 data
}


def parse_size(text: str | None):
    """'S' -> int (shorter side / square crop), 'HxW' -> (H, W)."""
    if text is None:
        return None
    if "x" in text.lower():
        h, w = text.lower().split("x")
        return (int(h), int(w))
    return int(text)


def parse_normalize(text: str) -> tuple[str, np.ndarray, np.ndarray]:
    if text in PRESETS:
        m, s = PRESETS[text]
        return text, np.array(m, np.float32), np.array(s, np.float32)
    try:
        m, s = text.split(":")
        mean = np.array([float(v) for v in m.split(",")], np.float32)
        std = np.array([float(v) for v in s.split(",")], np.float32)
    except ValueError:
        raise SystemExit(f"--normalize {text!r}: expected {'|'.join(PRESETS)} or m1,m2,m3:s1,s2,s3")
    if np.any(std == 0):
        raise SystemExit("--normalize: std must be non-zero")
    return "custom", mean, std


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------


def open_source(spec: str, split: str, download: bool, fake_size: tuple[int, int, int]):
    """Returns (dataset, kind, default name); kind is 'labels' or 'masks'."""
    import torchvision.datasets as tvd

    kind, _, rest = spec.partition(":")
    if kind == "imagefolder":
        ds = tvd.ImageFolder(rest)
        return ds, "labels", Path(rest.rstrip("/")).name or "images"
    if kind == "fake":
        n = int(rest)
        return tvd.FakeData(size=n, image_size=fake_size, num_classes=10), "labels", "fake"
    if kind == "voc-seg":
        root, _, year = rest.partition(":")
        year = year or "2012"
        ds = tvd.VOCSegmentation(root, year=year, image_set=split, download=download)
        return ds, "masks", f"voc{year}-{split}"
    if kind == "torchvision":
        cls_name, _, root = rest.partition(":")
        if not hasattr(tvd, cls_name):
            raise SystemExit(f"torchvision.datasets has no {cls_name!r}")
        cls = getattr(tvd, cls_name)
        params = inspect.signature(cls).parameters
        kw = {}
        if "train" in params:
            kw["train"] = split == "train"
        elif "split" in params:
            kw["split"] = split
        elif "image_set" in params:
            kw["image_set"] = split
        if "download" in params:
            kw["download"] = download
        ds = cls(root, **kw)
        return ds, "labels", f"{cls_name.lower()}-{split}"
    raise SystemExit(f"--source {spec!r}: expected imagefolder:PATH, torchvision:CLASS:ROOT, voc-seg:ROOT[:YEAR] or fake:N")


def resize_crop(img, resize, crop, nearest: bool, fill: int):
    """torchvision eval transforms on a PIL image: Resize(resize) then CenterCrop(crop);
    a crop larger than the image pads with `fill`."""
    import torchvision.transforms.functional as F
    from torchvision.transforms import InterpolationMode

    if resize is not None:
        mode = InterpolationMode.NEAREST if nearest else InterpolationMode.BILINEAR
        img = F.resize(img, resize if isinstance(resize, tuple) else [resize], interpolation=mode, antialias=True)
    if crop is not None:
        ch, cw = crop if isinstance(crop, tuple) else (crop, crop)
        w, h = img.size
        if ch > h or cw > w:
            pl, pt = max(0, (cw - w) // 2), max(0, (ch - h) // 2)
            pr, pb = max(0, (cw - w + 1) // 2), max(0, (ch - h + 1) // 2)
            img = F.pad(img, [pl, pt, pr, pb], fill=fill)
        img = F.center_crop(img, [ch, cw])
    return img


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


def export(args) -> dict:
    ds, kind, default_name = open_source(args.source, args.split, args.download, args.fake_size)
    name = args.name or default_name
    n_total = len(ds)
    order = np.arange(n_total)
    if args.shuffle is not None:
        order = np.random.default_rng(args.shuffle).permutation(n_total)
    if args.limit is not None:
        order = order[: args.limit]
    n = len(order)
    if n == 0:
        raise SystemExit("no samples")
    resize, crop = parse_size(args.resize), parse_size(args.crop)
    preset, mean, std = parse_normalize(args.normalize)
    if args.uint8 and preset == "custom":
        raise SystemExit("--uint8 with a custom --normalize: snnkit only has the presets "
                         f"{', '.join(PRESETS)}; store float32 (drop --uint8) instead")
    mode = "L" if args.gray else "RGB"
    out = args.out.resolve()
    if out == ROOT or ROOT in out.parents:
        raise SystemExit(f"--out {out} is inside the repository; write data elsewhere")
    out.mkdir(parents=True, exist_ok=True)

    shards, first_shape, t0 = [], None, time.perf_counter()
    for s0 in range(0, n, args.shard_size):
        idx = order[s0 : s0 + args.shard_size]
        images = targets = None
        for j, i in enumerate(idx):
            img, target = ds[int(i)]
            img = resize_crop(img.convert(mode), resize, crop, nearest=False, fill=0)
            x = np.asarray(img, np.uint8)
            if x.ndim == 2:
                x = x[:, :, None]
            if first_shape is None:
                first_shape = x.shape
            if x.shape != first_shape:
                raise SystemExit(f"sample {i}: size {x.shape[:2]} differs from the first sample's {first_shape[:2]}; "
                                 "give --resize and/or --crop")
            if images is None:
                h, w, c = x.shape
                images = (np.empty((len(idx), h, w, c), np.uint8) if args.uint8
                          else np.empty((len(idx), c, h, w), np.float32))
                targets = np.empty((len(idx), h, w), np.uint8) if kind == "masks" else np.empty(len(idx), np.int64)
            if args.uint8:
                images[j] = x
            else:
                f = x.astype(np.float32) / 255.0
                images[j] = ((f - mean) / std).transpose(2, 0, 1)
            if kind == "masks":
                m = np.asarray(resize_crop(target, resize, crop, nearest=True, fill=255))
                if m.shape != x.shape[:2]:
                    raise SystemExit(f"sample {i}: mask {m.shape} and image {x.shape[:2]} differ")
                targets[j] = m
            else:
                try:
                    targets[j] = int(target)
                except (TypeError, ValueError):
                    raise SystemExit(f"sample {i}: target {type(target).__name__} is not a class index; "
                                     "this script exports classification labels or VOC masks")
        path = out / f"{name}-{len(shards):05d}.npz"
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **{"images": images, kind: targets})
        os.replace(tmp, path)
        shards.append(path.name)
        print(f"{path}: images {images.dtype} {list(images.shape)}, {kind} {list(targets.shape)} "
              f"({s0 + len(idx)}/{n}, {time.perf_counter() - t0:.0f}s)", flush=True)

    if args.uint8:
        snn_preset = "unit" if preset == "none" else preset
        flags = f"--preset {snn_preset} --layout nhwc"
        layout = "uint8 NHWC, raw pixels"
    else:
        flags = "--layout nchw  (no --preset: float data is taken as preprocessed)"
        layout = f"float32 NCHW, (x/255 - mean) / std, {preset}"
    meta = dict(
        source=args.source, split=args.split, name=name, samples=n, dataset_size=n_total,
        shuffle_seed=args.shuffle, limit=args.limit, kind=kind, shards=shards, shard_size=args.shard_size,
        image_shape_hwc=list(first_shape), layout=layout, resize=args.resize, crop=args.crop,
        normalize=dict(name=preset, mean=mean.tolist(), std=std.tolist(), applied=not args.uint8),
        classes=list(getattr(ds, "classes", []) or []), snnkit_flags=flags,
    )
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2))
    print(f"{n} samples in {len(shards)} shard(s); snnkit flags: {flags}")
    return meta


# --------------------------------------------------------------------------
# Self-test trees (offline)
# --------------------------------------------------------------------------


def make_test_trees(root: Path) -> None:
    """A 3-class ImageFolder of PNGs with mixed sizes in ROOT/folder, and a VOC2012
    segmentation tree (JPEGImages, SegmentationClass palette PNGs with 255 borders,
    ImageSets/Segmentation/{train,val}.txt) in ROOT/voc."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    for c, cname in enumerate(["disk", "square", "noise"]):
        d = root / "folder" / cname
        d.mkdir(parents=True, exist_ok=True)
        for k in range(4):
            w, h = int(rng.integers(60, 120)), int(rng.integers(60, 120))
            im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            dr = ImageDraw.Draw(im)
            if c == 0:
                dr.ellipse([w // 4, h // 4, 3 * w // 4, 3 * h // 4], fill=(255, 0, 0))
            elif c == 1:
                dr.rectangle([w // 4, h // 4, 3 * w // 4, 3 * h // 4], fill=(0, 0, 255))
            im.save(d / f"{k}.png")
    voc = root / "voc" / "VOCdevkit" / "VOC2012"
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (voc / sub).mkdir(parents=True, exist_ok=True)
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0, 0, 0] * 252 + [224, 224, 192]
    names = []
    for k in range(12):
        w, h = int(rng.integers(80, 140)), int(rng.integers(80, 140))
        im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        m = Image.new("P", (w, h), 0)
        m.putpalette(palette)
        box = [w // 5, h // 5, 3 * w // 5, 3 * h // 5]
        ImageDraw.Draw(im).ellipse(box, fill=(200, 30, 30))
        ImageDraw.Draw(m).ellipse(box, fill=1 + k % 2, outline=255, width=2)
        name = f"2007_{k:06d}"
        im.save(voc / "JPEGImages" / f"{name}.jpg")
        m.save(voc / "SegmentationClass" / f"{name}.png")
        names.append(name)
    (voc / "ImageSets/Segmentation/train.txt").write_text("\n".join(names[:8]) + "\n")
    (voc / "ImageSets/Segmentation/val.txt").write_text("\n".join(names[8:]) + "\n")
    (voc / "ImageSets/Segmentation/trainval.txt").write_text("\n".join(names) + "\n")
    print(f"wrote {root / 'folder'} (3 classes x 4 PNGs) and {root / 'voc'} (VOC2012, 8 train + 4 val)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", help="imagefolder:PATH | torchvision:CLASS:ROOT | voc-seg:ROOT[:YEAR] | fake:N")
    ap.add_argument("--split", default="val", help="train, val, test, trainval, ... (default %(default)s)")
    ap.add_argument("--out", type=Path, help="output folder (outside the repository)")
    ap.add_argument("--name", help="shard name prefix (default: from the source)")
    ap.add_argument("--resize", help="shorter side S, or HxW (default: no resize)")
    ap.add_argument("--crop", help="centre crop C or HxW (default: none)")
    ap.add_argument("--normalize", default="imagenet",
                    help="imagenet (default), cifar10, mnist, none (x/255) or m1,m2,m3:s1,s2,s3; "
                         "with --uint8 only recorded (the snnkit preset)")
    ap.add_argument("--uint8", action="store_true", help="store raw uint8 NHWC; snnkit normalises (--preset)")
    ap.add_argument("--gray", action="store_true", help="1-channel images instead of RGB")
    ap.add_argument("--shard-size", type=int, default=10000)
    ap.add_argument("--limit", type=int, help="only the first N samples (after --shuffle)")
    ap.add_argument("--shuffle", type=int, metavar="SEED", help="seeded random order before --limit")
    ap.add_argument("--download", action="store_true", help="let torchvision download the dataset")
    ap.add_argument("--fake-size", default="3,256,320", help="C,H,W of fake:N images (default %(default)s)")
    ap.add_argument("--self-test", type=Path, metavar="DIR", help="only write the offline test trees into DIR")
    args = ap.parse_args(argv)
    if args.self_test:
        make_test_trees(args.self_test)
        return 0
    if not args.source or not args.out:
        ap.error("--source and --out are required")
    if args.shard_size < 1:
        ap.error("--shard-size must be positive")
    args.fake_size = tuple(int(v) for v in args.fake_size.split(","))
    export(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
