#!/usr/bin/env python3
"""Generate the task-metric test fixtures for SNNKit (Tests/Fixtures/tasks/).

Usage:
    /path/to/venv/bin/python Scripts/make_task_fixtures.py

Needs numpy, torch + torchvision (NMS) and pycocotools (mAP); nothing is installed into
the repository. Rewrites three JSON files, each {"generator": ..., "cases": [...]}:

    segmentation.json  random scores [N, K, H, W] and masks [N, H, W] with ignore pixels;
                       expected confusion matrix, per-class IoU and accuracy, mIoU and
                       pixel accuracy from a plain numpy bincount (argmax over K).
    nms.json           model outputs boxes [N, A, 4] and scores [N, A, C]; the (anchor,
                       class) pairs torchvision.ops.batched_nms keeps (cross-checked with
                       a numpy greedy NMS written here), and for one case ground truth and
                       the COCO metrics of the kept detections (pycocotools COCOeval).
    map.json           detections and ground truth on a few images (overlaps, duplicates,
                       false positives, misses, tied scores, a class without ground truth,
                       more than 100 detections of one class on one image); expected AP,
                       AP50, AP75 and per-class AP per IoU threshold from pycocotools
                       COCOeval (iouType "bbox", area range "all", maxDets 100).

Every case seeds its own numpy generator from a CRC32 of its name, so the output is
deterministic and adding a case does not change the others. Box coordinates in map.json
are multiples of 0.25 (exact in float32 and float64), so IoUs that land exactly on a
threshold (0.5, 0.75) are computed identically by pycocotools and by SNNKit. Scores and
boxes that are model outputs (segmentation scores, nms.json boxes and scores) are stored
as short decimals and converted to float32 by both sides, as a model's output would be.
torchvision computes NMS IoUs in float32 and SNNKit in float64, so the script asserts that
no IoU that decides a suppression is within 1e-4 of the threshold (no decision can flip).
"""

import contextlib
import io
import json
import zlib
from pathlib import Path

import numpy as np
import torch
import torchvision
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
import importlib.metadata

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "tasks"


def rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def f32(values):
    """float32 values as exact Python floats (their float64 value), for JSON."""
    return [float(v) for v in np.asarray(values, dtype=np.float32).ravel()]


def none_if_nan(values):
    return [None if np.isnan(v) else float(v) for v in values]


# ---------------------------------------------------------------- segmentation

def segmentation_reference(scores, masks, classes, ignore):
    pred = scores.argmax(axis=1)  # first maximum on ties
    valid = masks != ignore
    cm = np.bincount(classes * masks[valid] + pred[valid], minlength=classes * classes).reshape(classes, classes)
    diag = np.diag(cm).astype(np.float64)
    union = cm.sum(0) + cm.sum(1) - diag
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = diag / union
        acc = diag / cm.sum(1)
    return {
        "confusion": cm.ravel().tolist(),
        "class_iou": none_if_nan(iou),
        "class_accuracy": none_if_nan(acc),
        "mean_iou": float(np.nanmean(iou)),
        "pixel_accuracy": float(diag.sum() / cm.sum()),
        "ignored_pixels": int((~valid).sum()),
    }


def segmentation_case(name, n, k, h, w, ignore, batches, note, make_scores, make_masks):
    g = rng(name)
    masks = make_masks(g, (n, h, w)).astype(np.int64)
    # Short decimals in the JSON; both sides round the same float64 values to float32.
    decimals = np.round(make_scores(g, (n, k, h, w), masks), 3)
    scores = decimals.astype(np.float32)
    return {
        "name": name,
        "note": note,
        "classes": k,
        "ignore_label": ignore,
        "shape": [n, k, h, w],
        "batches": batches,
        "scores": decimals.ravel().tolist(),
        "masks": masks.ravel().tolist(),
        "expected": segmentation_reference(scores, masks, k, ignore),
    }


def correlated(g, shape, masks, strength):
    """Noise plus `strength` on each pixel's true class, so IoUs are neither 0 nor 1."""
    x = g.normal(size=shape)
    labels = np.clip(masks, 0, shape[1] - 1)
    np.put_along_axis(x, labels[:, None], np.take_along_axis(x, labels[:, None], 1) + strength, axis=1)
    return x


def with_ignore(g, masks, ignore, fraction):
    masks = masks.copy()
    masks[g.random(masks.shape) < fraction] = ignore
    return masks


def segmentation_cases():
    cases = []
    # Scores on a coarse grid: many ties, which argmax breaks towards the lower class.
    cases.append(segmentation_case(
        "ties_and_ignore", 3, 5, 6, 7, 255, [2, 1],
        "scores in {0, .25, .5, .75}: ties go to the lower class; ~15% of pixels are 255",
        lambda g, s, m: g.integers(0, 4, s) / 4,
        lambda g, s: with_ignore(g, g.integers(0, 5, s), 255, 0.15)))

    # Class 5 is never predicted and never labelled (IoU undefined, skipped); class 4 is
    # predicted but never labelled (IoU 0, counted); class 3 is labelled, never predicted.
    def absent_scores(g, s, m):
        x = correlated(g, s, m, 1.0)
        x[:, 5] = -10
        x[:, 3] = -10
        return x

    def absent_masks(g, s):
        m = g.choice([0, 1, 2, 3], size=s, p=[0.4, 0.3, 0.2, 0.1])
        return with_ignore(g, m, 255, 0.1)

    cases.append(segmentation_case(
        "absent_classes", 2, 6, 5, 8, 255, [1, 1],
        "class 5 in neither prediction nor mask (skipped), 4 predicted only (IoU 0), 3 labelled only (IoU 0)",
        absent_scores, absent_masks))

    cases.append(segmentation_case(
        "ignore_minus_one", 4, 3, 4, 5, -1, [1, 2, 1],
        "ignore label -1 instead of 255; three batches",
        lambda g, s, m: correlated(g, s, m, 1.5),
        lambda g, s: with_ignore(g, g.integers(0, 3, s), -1, 0.2)))
    return cases


# ---------------------------------------------------------------- NMS

def iou_matrix(a, b):
    """Pairwise IoU in float64, pycocotools' arithmetic."""
    a = np.asarray(a, np.float64)[:, None, :]
    b = np.asarray(b, np.float64)[None, :, :]
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / (area_a + area_b - inter), 0.0)


def candidates(scores_i, score_thr, per_class, background):
    """(anchor, class) pairs above the threshold, per class topk first when asked."""
    out = []
    for c in range(scores_i.shape[1]):
        if c == background:
            continue
        anchors = np.nonzero(scores_i[:, c] > score_thr)[0]
        if per_class is not None:
            anchors = anchors[np.argsort(-scores_i[anchors, c], kind="stable")][:per_class]
        out += [(int(a), c) for a in anchors]
    return out


def torchvision_nms(boxes_i, scores_i, p):
    cand = candidates(scores_i, p["score_threshold"], p["candidates_per_class"], p["background_class"])
    if not cand:
        return []
    idx = torch.tensor([a for a, _ in cand])
    cls = torch.tensor([c for _, c in cand])
    b = torch.from_numpy(boxes_i)[idx]
    s = torch.from_numpy(scores_i)[idx, cls]
    keep = torchvision.ops.batched_nms(b, s, cls, p["iou_threshold"])[: p["max_detections"]]
    return [cand[int(j)] for j in keep]


def numpy_nms(boxes_i, scores_i, p):
    cand = candidates(scores_i, p["score_threshold"], p["candidates_per_class"], p["background_class"])
    kept, margin = [], np.inf
    for c in sorted({c for _, c in cand}):
        anchors = [a for a, cc in cand if cc == c]
        anchors.sort(key=lambda a: (-scores_i[a, c], a))
        ious = iou_matrix(boxes_i[anchors], boxes_i[anchors])
        suppressed = np.zeros(len(anchors), bool)
        for j in range(len(anchors)):
            if suppressed[j]:
                continue
            kept.append((anchors[j], c))
            for later in range(j + 1, len(anchors)):
                if not suppressed[later]:
                    margin = min(margin, abs(ious[j, later] - p["iou_threshold"]))
                    suppressed[later] = ious[j, later] > p["iou_threshold"]
    kept.sort(key=lambda ac: (-scores_i[ac[0], ac[1]], ac[1], ac[0]))
    return kept[: p["max_detections"]], margin


def cluster_boxes(g, n, a, size, clusters):
    """Boxes jittered around a few centres per image, so many overlap."""
    boxes = np.zeros((n, a, 4))
    for i in range(n):
        centres = g.uniform(20, size - 20, (clusters, 2))
        dims = g.uniform(10, 40, (clusters, 2))
        which = g.integers(0, clusters, a)
        c = centres[which] + g.normal(0, 4, (a, 2))
        d = dims[which] * g.uniform(0.7, 1.3, (a, 2))
        boxes[i] = np.concatenate([c - d / 2, c + d / 2], axis=1)
    return np.clip(boxes, 0, size)


def nms_case(name, n, a, c, params, note, clusters=5, with_truth=False):
    g = rng(name)
    # Short decimals in the JSON; both sides round the same float64 values to float32.
    boxes64 = np.round(cluster_boxes(g, n, a, 128.0, clusters), 2)
    scores64 = np.round(g.uniform(0, 1, (n, a, c)) ** 2, 5)
    boxes, scores = boxes64.astype(np.float32), scores64.astype(np.float32)
    p = {"iou_threshold": 0.5, "score_threshold": 0.05, "max_detections": 100,
         "candidates_per_class": None, "background_class": None}
    p.update(params)
    kept = []
    for i in range(n):
        tv = torchvision_nms(boxes[i], scores[i], p)
        ours, margin = numpy_nms(boxes[i], scores[i], p)
        assert tv == ours, f"{name}: torchvision and numpy NMS disagree on image {i}"
        assert margin > 1e-4, f"{name}: an IoU is within {margin} of the threshold; change the case"
        kept.append([[aa, cc, float(scores[i, aa, cc])] for aa, cc in tv])
    case = {"name": name, "note": note, "params": p, "shape": [n, a, c],
            "boxes": boxes64.ravel().tolist(), "scores": scores64.ravel().tolist(), "expected": kept}
    if with_truth:
        # Ground truth: one object per cluster-ish region, a class each, plus objects
        # nothing detects; scored on torchvision's kept detections by pycocotools.
        truth = []
        for i in range(n):
            objects = []
            for _ in range(6):
                anchor = int(g.integers(0, a))
                x1, y1, x2, y2 = boxes[i, anchor].astype(np.float64) + g.normal(0, 2, 4)
                x1, x2 = sorted((x1, x2))
                y1, y2 = sorted((y1, y2))
                objects.append([int(g.integers(0, c)), *np.round([x1, y1, x2, y2], 2).tolist()])
            objects.append([int(g.integers(0, c)), 1.0, 100.0, 9.0, 120.0])  # never detected (probably)
            truth.append(objects)
        dets = [[i, cc, s, *f32(boxes[i, aa])] for i in range(n) for aa, cc, s in kept[i]]
        case["truth"] = truth
        case["expected_map"] = coco_metrics(n, c, truth, dets)
    return case


def nms_cases():
    return [
        nms_case("clusters", 2, 40, 3, {"iou_threshold": 0.5, "score_threshold": 0.3},
                 "5 overlapping clusters per image, 3 classes; also scored with COCOeval", with_truth=True),
        nms_case("low_iou_truncated", 2, 30, 2, {"iou_threshold": 0.3, "score_threshold": 0.1, "max_detections": 6},
                 "IoU threshold 0.3, at most 6 detections per image"),
        nms_case("topk_candidates", 1, 50, 3, {"iou_threshold": 0.6, "score_threshold": 0.05, "candidates_per_class": 7},
                 "only the 7 best candidates per class enter the suppression (torchvision topk_candidates)"),
        nms_case("background_column", 2, 25, 4, {"iou_threshold": 0.45, "score_threshold": 0.2, "background_class": 0},
                 "class 0 is background (SSD-style) and never reported", clusters=3),
    ]


# ---------------------------------------------------------------- mAP (pycocotools)

def coco_metrics(images, classes, truth, dets):
    """COCOeval on truth[i] = [[class, x1, y1, x2, y2], ...] and dets = [[image, class, score, x1, y1, x2, y2], ...]."""
    gt = {"images": [{"id": i + 1} for i in range(images)],
          "categories": [{"id": c + 1} for c in range(classes)],
          "annotations": []}
    for i, objects in enumerate(truth):
        for cls, x1, y1, x2, y2 in objects:
            gt["annotations"].append({"id": len(gt["annotations"]) + 1, "image_id": i + 1, "category_id": cls + 1,
                                      "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    results = [{"image_id": i + 1, "category_id": cls + 1, "score": s, "bbox": [x1, y1, x2 - x1, y2 - y1]}
               for i, cls, s, x1, y1, x2, y2 in dets]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        ev = COCOeval(coco, coco.loadRes(results), iouType="bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval["precision"][:, :, :, 0, 2]  # [T, R, K] for area "all", maxDets 100
    per_class = []
    for k in range(classes):
        p = precision[:, :, k]
        per_class.append(None if (p == -1).all() else [float(v) for v in p.mean(axis=1)])
    return {"ap": float(ev.stats[0]), "ap50": float(ev.stats[1]), "ap75": float(ev.stats[2]),
            "class_ap_per_threshold": per_class,
            "recall_100": [None if v == -1 else float(v) for v in ev.eval["recall"][:, :, 0, 2].mean(axis=0)]}


def q(x):
    """Round to a multiple of 0.25 (exact in float32 and float64)."""
    return float(np.round(np.asarray(x) * 4) / 4)


def map_case(name, note, images, classes, truth, dets, batches):
    return {"name": name, "note": note, "images": images, "classes": classes, "batches": batches,
            "truth": truth, "detections": dets, "expected": coco_metrics(images, classes, truth, dets)}


def handmade_case():
    # Class 0, 1, 2 have ground truth, class 3 only false positives (skipped by COCO).
    truth = [
        [[0, 10, 10, 30, 30], [0, 40, 10, 60, 30], [1, 0, 50, 20, 90]],   # image 0
        [[0, 5, 5, 25, 25], [2, 50, 50, 90, 70]],                        # image 1
        [],                                                               # image 2: nothing
        [[1, 10, 10, 30, 30], [1, 20, 10, 40, 30], [2, 0, 50, 10, 60]],   # image 3: overlapping objects
    ]
    dets = [
        # image 0
        [0, 0, 0.9, 10, 10, 30, 30],        # exact
        [0, 0, 0.8, 40, 10, 60, 30],        # exact
        [0, 0, 0.7, 10, 10, 30, 30],        # duplicate of the first: false positive
        [0, 1, 0.6, 0, 50, 20, 70],         # upper half of the class-1 box: IoU exactly 0.5
        [0, 3, 0.95, 0, 0, 5, 5],           # class without ground truth
        # image 1
        [1, 0, 0.8, 5, 5, 25, 20],          # 20x15 inside the 20x20 object: IoU exactly 0.75
        [1, 1, 0.85, 50, 50, 90, 70],       # wrong class over the class-2 object
        [1, 2, 0.3, 55, 50, 95, 70],        # shifted class-2 box, IoU 7/9
        # image 2: false positives on an empty image, one tied with the 0.8s of images 0 and 1
        [2, 0, 0.8, 0, 0, 20, 20],
        [2, 2, 0.5, 10, 10, 40, 40],
        # image 3: a box with IoU 0.6 with both class-1 objects (COCO gives it the later
        # one), then each object exactly, with tied scores; the class-2 object is missed
        [3, 1, 0.9, 15, 10, 35, 30],
        [3, 1, 0.6, 20, 10, 40, 30],
        [3, 1, 0.6, 10, 10, 30, 30],
    ]
    truth = [[[c, float(x1), float(y1), float(x2), float(y2)] for c, x1, y1, x2, y2 in objs] for objs in truth]
    dets = [[i, c, float(s), float(x1), float(y1), float(x2), float(y2)] for i, c, s, x1, y1, x2, y2 in dets]
    return map_case("handmade", "IoUs exactly 0.5 and 0.75, duplicates, wrong class, empty image, tied scores, a miss, "
                    "a class with detections only", 4, 4, truth, dets, [2, 2])


def random_case(name, note, images, classes, max_objects, extra_fp, tie_decimals, batches):
    g = rng(name)
    truth, dets = [], []
    for i in range(images):
        objects = []
        for _ in range(int(g.integers(0, max_objects + 1))):
            x1, y1 = q(g.uniform(0, 100)), q(g.uniform(0, 100))
            w, h = q(g.uniform(5, 50)), q(g.uniform(5, 50))
            cls = int(g.integers(0, classes))
            objects.append([cls, x1, y1, x1 + w, y1 + h])
            # Detections of this object: none (miss), one, or two (duplicate), jittered so
            # IoUs spread over 0.3..1; sometimes the wrong class.
            for _ in range(int(g.choice([0, 1, 1, 1, 2]))):
                jitter = g.normal(0, 0.08, 4) * [w, h, w, h]
                dx1, dy1 = q(x1 + jitter[0]), q(y1 + jitter[1])
                dx2, dy2 = max(dx1 + 0.25, q(x1 + w + jitter[2])), max(dy1 + 0.25, q(y1 + h + jitter[3]))
                dcls = cls if g.random() < 0.85 else int(g.integers(0, classes))
                dets.append([i, dcls, round(float(g.uniform(0.05, 1)), tie_decimals), dx1, dy1, dx2, dy2])
        for _ in range(int(g.integers(0, extra_fp + 1))):
            x1, y1 = q(g.uniform(0, 100)), q(g.uniform(0, 100))
            dets.append([i, int(g.integers(0, classes)), round(float(g.uniform(0.05, 1)), tie_decimals),
                         x1, y1, x1 + q(g.uniform(5, 40)), y1 + q(g.uniform(5, 40))])
        truth.append(objects)
    return map_case(name, note, images, classes, truth, dets, batches)


def crowded_case():
    # 105 detections of class 0 on image 0: COCO evaluates only the 100 best per image and class,
    # and the true positives among the last five must not count.
    g = rng("crowded")
    truth = [[[0, 10.0, 10.0, 30.0, 30.0], [0, 50.0, 50.0, 80.0, 70.0], [0, 0.0, 60.0, 20.0, 100.0], [1, 60.0, 0.0, 90.0, 30.0]],
             [[0, 20.0, 20.0, 60.0, 60.0]]]
    dets = []
    for j in range(100):
        x1, y1 = q(g.uniform(0, 90)), q(g.uniform(0, 90))
        dets.append([0, 0, round(float(g.uniform(0.3, 1)), 4), x1, y1, x1 + q(g.uniform(2, 10)), y1 + q(g.uniform(2, 10))])
    dets += [[0, 0, 0.1, 10.0, 10.0, 30.0, 30.0], [0, 0, 0.11, 50.0, 50.0, 80.0, 70.0], [0, 0, 0.12, 0.0, 60.0, 20.0, 100.0],
             [0, 0, 0.05, 10.0, 10.0, 30.0, 30.0], [0, 0, 0.2, 50.0, 50.0, 80.0, 70.0]]
    dets += [[0, 1, 0.9, 60.0, 0.0, 90.0, 30.0], [1, 0, 0.5, 20.0, 20.0, 60.0, 60.0], [1, 0, 0.15, 20.0, 20.0, 55.0, 60.0]]
    return map_case("crowded", "105 class-0 detections on image 0: only the best 100 per image and class count", 2, 2,
                    truth, dets, [1, 1])


def map_cases():
    return [
        handmade_case(),
        random_case("random_12_images", "12 images, 4 classes, misses, duplicates, wrong classes, random false positives; "
                    "scores to 2 decimals (ties)", 12, 4, 5, 3, 2, [5, 4, 3]),
        random_case("random_sparse", "8 images, 6 classes, few objects: some classes have no ground truth", 8, 6, 2, 2, 3,
                    [8]),
        crowded_case(),
    ]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    generator = (f"Scripts/make_task_fixtures.py with numpy {np.__version__}, torch {torch.__version__}, "
                 f"torchvision {torchvision.__version__}, pycocotools {importlib.metadata.version('pycocotools')}")
    thresholds = {"iou_thresholds": [float(v) for v in np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1)],
                  "recall_points": [float(v) for v in np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1)]}
    files = {
        "segmentation.json": {"generator": generator, "reference": "numpy argmax + bincount confusion matrix",
                              "cases": segmentation_cases()},
        "nms.json": {"generator": generator, "reference": "torchvision.ops.batched_nms (checked against a numpy greedy NMS); "
                     "mAP of case 'clusters' by pycocotools COCOeval", "cases": nms_cases()},
        "map.json": {"generator": generator, "reference": "pycocotools COCOeval, iouType bbox, area all, maxDets 100",
                     "coco": thresholds, "cases": map_cases()},
    }
    for name, content in files.items():
        text = json.dumps(content, separators=(",", ":"))
        (OUT / name).write_text(text + "\n")
        print(f"{name}: {len(text) / 1024:.1f} KB, {len(content['cases'])} cases")


if __name__ == "__main__":
    main()
