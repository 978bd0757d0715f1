#!/usr/bin/env python3
"""Generate the dataset-reader test fixtures for SNNKit (Tests/Fixtures/data/).

Usage:
    /path/to/venv/bin/python Scripts/make_data_fixtures.py

Needs numpy only. Wipes and rewrites Tests/Fixtures/data/ (README.md there is kept):

    *.npy, *.npz          image and label arrays in every dtype/layout/version the reader takes
    *-ubyte, *-ubyte.gz   MNIST-style IDX files, raw and gzip-compressed
    cifar10/, cifar100/   CIFAR binary batches (a few records each)
    bad/                  one file per error the readers must report
    expected.json         what the Swift tests compare against (see README.md)

Everything is deterministic: the arrays come from a seeded generator, gzip members are
written with mtime 0, and np.savez stamps entries 1980-01-01, so a re-run gives
byte-identical files (the current ones were made with numpy 2.4.6).

When the shared datasets are present (../shared/datasets next to the repository, or the
folder in $SNNKIT_DATASETS), the script also records in expected.json the count, first ten
labels and first-image pixel sum that numpy reads from the real MNIST and CIFAR-10 test
sets, for the test that opens those files.
"""

import gzip
import io
import json
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "data"
BAD = OUT / "bad"
SHARED_CANDIDATES = [Path(p) for p in [os.environ.get("SNNKIT_DATASETS")] if p] + [ROOT.parent / "shared" / "datasets"]

PRESETS = {
    "none": (1.0, [0.0], [1.0]),
    "unit": (1 / 255, [0.0], [1.0]),
    "mnist": (1 / 255, [0.1307], [0.3081]),
    "cifar10": (1 / 255, [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]),
    "imagenet": (1 / 255, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
}

EXPECTED = {}


def rng(seed):
    return np.random.default_rng(seed)


def save_npy(path, arr, version=None):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=False)


def npy_bytes(arr, version=None):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version, allow_pickle=False)
    return buf.getvalue()


class Unseekable(io.RawIOBase):
    """A write-only stream without seek/tell: zipfile then writes data descriptors (flag bit 3)."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


def save_streamed_npz(path, **arrays):
    """Like np.savez, but written to an unseekable stream, so every entry has a data descriptor."""
    method = zipfile.ZIP_STORED
    with open(path, "wb") as raw:
        with zipfile.ZipFile(Unseekable(raw), "w", compression=method, allowZip64=True) as zf:
            for name, arr in arrays.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                with zf.open(info, "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asanyarray(arr), allow_pickle=False)


def idx_bytes(arr, type_code=0x08):
    header = bytes([0, 0, type_code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.tobytes()


def gzip_bytes(data, name):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=0) as g:
        g.write(data)
    return buf.getvalue()


def gzip_all_flags(data):
    """A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC set (Python's gzip writes only FNAME)."""
    flags = 0x02 | 0x04 | 0x08 | 0x10
    header = bytes([0x1F, 0x8B, 8, flags]) + struct.pack("<I", 0) + bytes([0, 255])
    extra = b"SN\x04\x00abcd"
    header += struct.pack("<H", len(extra)) + extra
    header += b"images-idx3-ubyte\x00" + b"a comment\x00"
    header += struct.pack("<H", zlib.crc32(header) & 0xFFFF)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + body + trailer


def preprocess(nchw, preset):
    scale, mean, std = PRESETS[preset]
    c = nchw.shape[1]
    mean = np.array(mean if len(mean) == c else mean * c, dtype=np.float64).reshape(1, c, 1, 1)
    std = np.array(std if len(std) == c else std * c, dtype=np.float64).reshape(1, c, 1, 1)
    return (nchw.astype(np.float64) * scale - mean) / std


def floats(a):
    """Exact values (float32 data round-trips through repr)."""
    return [float(x) for x in np.asarray(a).ravel()]


def rounded(a):
    """Preprocessed float64 values to 7 significant digits: float32 precision, half the JSON."""
    return [float(f"{x:.7g}") for x in np.asarray(a).ravel()]


def ints(a):
    return [int(x) for x in np.asarray(a).ravel()]


def weighted_checksum(values):
    """sum((i % 251 + 1) * v_i) over the flat CHW values: exact for bytes, and sensitive to order."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(np.sum((np.arange(v.size) % 251 + 1) * v))


def write_bytes(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def main():
    if OUT.exists():
        for child in OUT.iterdir():
            if child.name == "README.md":
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    OUT.mkdir(parents=True, exist_ok=True)
    BAD.mkdir()

    # --- .npy images: one uint8 NCHW set, the same pixels NHWC, grayscale, float32, float64.
    u8 = rng(1).integers(0, 256, size=(4, 3, 5, 6), dtype=np.uint8)
    labels = np.array([3, 0, 9, 1], dtype=np.uint8)
    save_npy(OUT / "u8_nchw.npy", u8)
    save_npy(OUT / "u8_nhwc.npy", np.ascontiguousarray(u8.transpose(0, 2, 3, 1)))
    save_npy(OUT / "labels_u1.npy", labels)
    save_npy(OUT / "labels_i4.npy", labels.astype("<i4"))
    save_npy(OUT / "labels_i8.npy", labels.astype("<i8"), version=(2, 0))
    save_npy(OUT / "labels_b1.npy", np.array([True, False, True, True]))
    EXPECTED["u8"] = {
        "shape": list(u8.shape), "pixels": ints(u8), "labels": ints(labels), "bool_labels": [1, 0, 1, 1],
        "cifar10": rounded(preprocess(u8, "cifar10")),
        "imagenet_first": rounded(preprocess(u8[:1], "imagenet")),
    }

    gray = rng(2).integers(0, 256, size=(3, 7, 5), dtype=np.uint8)
    save_npy(OUT / "gray_nhw_v2.npy", gray, version=(2, 0))
    EXPECTED["gray"] = {"shape": [3, 1, 7, 5], "pixels": ints(gray), "mnist": rounded(preprocess(gray[:, None], "mnist"))}

    f32 = rng(3).standard_normal(size=(2, 2, 3, 4)).astype("<f4")
    save_npy(OUT / "f32_nchw_v3.npy", f32, version=(3, 0))
    EXPECTED["f32"] = {"shape": list(f32.shape), "values": floats(f32)}

    f64 = rng(4).uniform(0, 1, size=(2, 6, 5, 1)).astype("<f8")
    save_npy(OUT / "f64_nhwc.npy", f64)
    EXPECTED["f64"] = {"shape": [2, 1, 6, 5], "values": floats(f64.transpose(0, 3, 1, 2).astype(np.float32))}

    # --- .npz: stored (np.savez), deflated (np.savez_compressed), positional, custom names,
    # and stored with data descriptors (written to an unseekable stream).
    np.savez(OUT / "stored.npz", images=u8, labels=labels)
    np.savez_compressed(OUT / "deflated.npz", x=np.ascontiguousarray(u8.transpose(0, 2, 3, 1)), y=labels.astype("<i8"))
    np.savez(OUT / "positional.npz", u8, labels)
    np.savez(OUT / "named.npz", meta=np.arange(3, dtype="<i8"), pix=u8, cls=labels.astype("<i4"))
    save_streamed_npz(OUT / "streamed.npz", pad=np.zeros(5, dtype=np.uint8), data=u8)

    # --- IDX (MNIST layout): raw and gzip, plus a gzip header with every optional field.
    digits = rng(5).integers(0, 256, size=(5, 7, 6), dtype=np.uint8)
    digit_labels = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
    write_bytes(OUT / "digits-images-idx3-ubyte", idx_bytes(digits))
    write_bytes(OUT / "digits-labels-idx1-ubyte", idx_bytes(digit_labels))
    write_bytes(OUT / "digits-images-idx3-ubyte.gz", gzip_bytes(idx_bytes(digits), "digits-images-idx3-ubyte"))
    write_bytes(OUT / "digits-labels-idx1-ubyte.gz", gzip_bytes(idx_bytes(digit_labels), "digits-labels-idx1-ubyte"))
    write_bytes(OUT / "flags-images-idx3-ubyte.gz", gzip_all_flags(idx_bytes(digits)))
    EXPECTED["idx"] = {"shape": [5, 1, 7, 6], "pixels": ints(digits), "labels": ints(digit_labels),
                       "unit": rounded(preprocess(digits[:, None], "unit"))}

    # --- CIFAR binary batches: 1 label byte (CIFAR-100: coarse, fine) + 3072 CHW pixel bytes.
    def cifar_records(seed, n, label_bytes):
        g = rng(seed)
        pixels = g.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labs = g.integers(0, 10 if label_bytes == 1 else 100, size=(n, label_bytes), dtype=np.uint8)
        if label_bytes == 2:
            labs[:, 0] = labs[:, 1] // 5  # coarse label, as in the release
        return np.concatenate([labs, pixels.reshape(n, -1)], axis=1), pixels, labs[:, -1]

    cifar = {"train": [], "test": []}
    for name, seed, n, split in [("data_batch_1.bin", 10, 2, "train"), ("data_batch_2.bin", 11, 1, "train"),
                                 ("test_batch.bin", 12, 1, "test")]:
        records, pixels, labs = cifar_records(seed, n, 1)
        write_bytes(OUT / "cifar10" / name, records.tobytes())
        for p, l in zip(pixels, labs):
            cifar[split].append({"label": int(l), "checksum": weighted_checksum(p)})
    records100, pixels100, labs100 = cifar_records(13, 2, 2)
    write_bytes(OUT / "cifar100" / "train.bin", records100.tobytes())
    EXPECTED["cifar10"] = cifar
    EXPECTED["cifar100"] = {"train": [{"label": int(l), "checksum": weighted_checksum(p)} for p, l in zip(pixels100, labs100)]}

    # --- Bad inputs, one per error.
    good = npy_bytes(u8)
    write_bytes(BAD / "truncated.npy", good[:-7])
    write_bytes(BAD / "header_cut.npy", good[:40])
    write_bytes(BAD / "bad_magic.npy", b"\x93NUMPX" + good[6:])
    write_bytes(BAD / "version9.npy", good[:6] + b"\x09\x00" + good[8:])
    save_npy(BAD / "fortran.npy", np.asfortranarray(u8))
    save_npy(BAD / "big_endian.npy", f32.astype(">f4"))
    save_npy(BAD / "int16.npy", u8.astype("<i2"))
    save_npy(BAD / "structured.npy", np.zeros(4, dtype=[("a", "<f4"), ("b", "<i4")]))
    save_npy(BAD / "empty.npy", np.zeros((0, 3, 4, 4), dtype=np.uint8))
    save_npy(BAD / "zero_width.npy", np.zeros((2, 3, 4, 0), dtype=np.uint8))
    save_npy(BAD / "rank2.npy", np.zeros((4, 12), dtype=np.uint8))
    save_npy(BAD / "labels_2d.npy", labels.reshape(4, 1))
    save_npy(BAD / "labels_short.npy", labels[:3])
    save_npy(BAD / "labels_negative.npy", np.array([0, 1, -1, 2], dtype="<i8"))
    save_npy(BAD / "labels_big.npy", np.array([0, 1, 7, 2], dtype="<i4"))
    save_npy(BAD / "labels_f4.npy", labels.astype("<f4"))
    np.savez(BAD / "no_images.npz", foo=np.zeros(3), bar=labels)
    np.savez(BAD / "labels_only_named.npz", images=u8)
    write_bytes(BAD / "truncated-images-idx3-ubyte", idx_bytes(digits)[:-10])
    write_bytes(BAD / "badmagic-images-idx3-ubyte", b"\x01\x02" + idx_bytes(digits)[2:])
    write_bytes(BAD / "float-images-idx3-ubyte", idx_bytes(digits.astype(">f4"), type_code=0x0D))
    write_bytes(BAD / "labels-as-images-idx1-ubyte", idx_bytes(digit_labels))
    gz = gzip_bytes(idx_bytes(digits), "digits-images-idx3-ubyte")
    write_bytes(BAD / "truncated-images-idx3-ubyte.gz", gz[: len(gz) // 2])
    write_bytes(BAD / "badcrc-images-idx3-ubyte.gz", gz[:-8] + bytes([gz[-8] ^ 0xFF]) + gz[-7:])
    header_end = gz.index(b"\x00", 10) + 1  # after the FNAME field
    write_bytes(BAD / "garbage-images-idx3-ubyte.gz", gz[:header_end] + bytes([0xFF] * 40) + gz[-8:])
    records, _, _ = cifar_records(14, 1, 1)
    write_bytes(BAD / "cifar_truncated" / "data_batch_1.bin", records.tobytes() + records.tobytes()[:100])
    bad_labels = records.copy()
    bad_labels[0, 0] = 12
    write_bytes(BAD / "cifar_badlabel" / "data_batch_1.bin", bad_labels.tobytes())
    write_bytes(BAD / "unknown.dat", b"hello, world\n")

    # --- Task annotations: segmentation masks and padded detection boxes (class -1 = padding).
    seg_images = rng(15).integers(0, 256, size=(3, 4, 5, 1), dtype=np.uint8)
    masks = np.array([[[0, 1, 2, 255, 0]] * 4, [[1] * 5] * 4, [[2, 2, 0, 0, 255]] * 4], dtype=np.uint8)
    np.savez(OUT / "seg_masks.npz", images=seg_images, masks=masks)
    det_images = rng(16).integers(0, 256, size=(3, 8, 8, 3), dtype=np.uint8)
    boxes = np.array([[[0, 0, 4, 4], [1, 2, 7, 8]], [[2, 2, 3, 3], [0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 0, 0]]], dtype="<f4")
    classes = np.array([[0, 2], [1, -1], [-1, -1]], dtype="<i8")
    np.savez(OUT / "det_boxes.npz", images=det_images, boxes=boxes, classes=classes)
    flipped = boxes.copy()
    flipped[1, 0] = [3, 2, 2, 3]
    np.savez(BAD / "boxes_x2_lt_x1.npz", images=det_images, boxes=flipped, classes=classes)
    negative = classes.copy()
    negative[0, 1] = -3
    np.savez(BAD / "boxes_negative_class.npz", images=det_images, boxes=boxes, classes=negative)
    np.savez(BAD / "boxes_without_classes.npz", images=det_images, boxes=boxes)
    np.savez(BAD / "boxes_short.npz", images=det_images, boxes=boxes[:2], classes=classes[:2])
    # The same boxes as the flat list COCO-style tools write: one row per object, with the
    # index of its image (image 2 has none).
    flat_boxes = np.array([[0, 0, 4, 4], [1, 2, 7, 8], [2, 2, 3, 3]], dtype="<f4")
    flat_classes = np.array([0, 2, 1], dtype="<i8")
    np.savez(OUT / "det_boxes_flat.npz", images=det_images, boxes=flat_boxes, classes=flat_classes,
             image_index=np.array([0, 0, 1], dtype="<i8"))
    np.savez(BAD / "boxes_flat_bad_image.npz", images=det_images, boxes=flat_boxes, classes=flat_classes,
             image_index=np.array([0, 3, 1], dtype="<i8"))
    np.savez(BAD / "boxes_flat_without_index.npz", images=det_images, boxes=flat_boxes, classes=flat_classes)
    np.savez(BAD / "masks_rank2.npz", images=seg_images, masks=masks.reshape(3, 20))
    np.savez(BAD / "masks_short.npz", images=seg_images, masks=masks[:2])
    np.savez(BAD / "masks_float.npz", images=seg_images, masks=masks.astype("<f4"))

    # --- Folders of .npz shards (as Scripts/export_dataset.py writes them), read in name order.
    shard_images = rng(17).integers(0, 256, size=(5, 4, 5, 3), dtype=np.uint8)
    shard_labels = np.array([3, 1, 4, 1, 5], dtype="<i8")
    shard_masks = rng(18).integers(0, 3, size=(5, 4, 5), dtype=np.uint8)
    for folder, cut in (("shards", 3),):
        (OUT / folder).mkdir(exist_ok=True)
        np.savez(OUT / folder / "part-00000.npz", images=shard_images[:cut], labels=shard_labels[:cut], masks=shard_masks[:cut])
        np.savez(OUT / folder / "part-00001.npz", images=shard_images[cut:], labels=shard_labels[cut:], masks=shard_masks[cut:])
    np.savez(OUT / "shards_all.npz", images=shard_images, labels=shard_labels, masks=shard_masks)
    (OUT / "shards_det").mkdir(exist_ok=True)
    np.savez(OUT / "shards_det" / "a.npz", images=det_images[:2], boxes=boxes[:2], classes=classes[:2])
    np.savez(OUT / "shards_det" / "b.npz", images=det_images[2:], boxes=np.array([[[1, 1, 2, 2]]], dtype="<f4"),
             classes=np.array([[1]], dtype="<i8"))
    (BAD / "shards_mixed_layout").mkdir(exist_ok=True)
    np.savez(BAD / "shards_mixed_layout" / "a.npz", images=shard_images[:3], labels=shard_labels[:3])
    np.savez(BAD / "shards_mixed_layout" / "b.npz", images=np.ascontiguousarray(shard_images[3:, :, :4, :]), labels=shard_labels[3:])
    (BAD / "shards_missing_labels").mkdir(exist_ok=True)
    np.savez(BAD / "shards_missing_labels" / "a.npz", images=shard_images[:3], labels=shard_labels[:3])
    np.savez(BAD / "shards_missing_labels" / "b.npz", images=shard_images[3:])

    # --- The real test sets, when this machine has them.
    real = {}
    shared = next((p for p in SHARED_CANDIDATES if p.is_dir()), None)
    if shared is not None:
        mnist = shared / "mnist"
        if (mnist / "t10k-labels-idx1-ubyte.gz").exists():
            mnist_labels = np.frombuffer(gzip.decompress((mnist / "t10k-labels-idx1-ubyte.gz").read_bytes()), np.uint8, offset=8)
            mnist_images = np.frombuffer(gzip.decompress((mnist / "t10k-images-idx3-ubyte.gz").read_bytes()), np.uint8, offset=16)
            real["mnist"] = {"count": int(mnist_labels.size), "first_labels": ints(mnist_labels[:10]),
                             "first_image_sum": int(mnist_images[:784].astype(np.int64).sum())}
        cifar_dir = shared / "cifar10"
        if (cifar_dir / "test_images.npy").exists():
            images = np.load(cifar_dir / "test_images.npy", mmap_mode="r")
            cifar_labels = np.load(cifar_dir / "test_labels.npy")
            real["cifar10"] = {"count": int(images.shape[0]), "first_labels": ints(cifar_labels[:10]),
                               "first_image_sum": int(np.asarray(images[0]).astype(np.int64).sum()),
                               "first_image_red_0_1": int(images[0, 0, 1, 0])}
    EXPECTED["real"] = real

    with open(OUT / "expected.json", "w") as f:
        f.write("{\n")
        keys = sorted(EXPECTED)
        for i, key in enumerate(keys):
            f.write(f"  {json.dumps(key)}: {json.dumps(EXPECTED[key], sort_keys=True)}{',' if i + 1 < len(keys) else ''}\n")
        f.write("}\n")

    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    files = sum(1 for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {files} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
