#!/usr/bin/env python3
"""Generate the data for the end-to-end tests of the snnkit binary (Tests/Fixtures/e2e/).

Usage:
    /path/to/venv/bin/python Scripts/make_e2e_fixtures.py

Needs numpy and onnxruntime. The model is the committed fixture
Tests/Fixtures/onnx/net_c_vgg/model.onnx (input [N, 3, 16, 16], 10 logits). Writes:

    vgg_data.npz   'images' float32 NCHW [16, 3, 16, 16] and 'labels' int64 [16]: the labels
                   are onnxruntime's argmax of the model, so the ANN scores 100% top-1 on it.
                   With random weights nearly every random image lands in class 0, so each
                   image is grown by random search toward a target class (cycling through
                   the reachable classes 0, 5, 6, 7, 8) until its logit leads the others by
                   5% of the largest magnitude: float rounding cannot flip such a label
    vgg_nan.npz    'images' float32 NCHW [2, 3, 16, 16] with one NaN (image 1, channel 2, row 3,
                   column 4) and 'labels' [0, 0]

Deterministic: a seeded generator and np.savez's fixed entry timestamps give byte-identical
files on a re-run with the same numpy.
"""

from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "Tests" / "Fixtures" / "onnx" / "net_c_vgg" / "model.onnx"
OUT = ROOT / "Tests" / "Fixtures" / "e2e"
COUNT = 16


def main():
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(20240611)

    def margin(x, target):
        # The model's input is fixed at batch 2.
        logits = session.run(None, {name: np.stack([x, x])})[0][0]
        return (logits[target] - np.delete(logits, target).max()) / np.abs(logits).max()

    images, labels = [], []
    targets = [0, 5, 6, 7, 8]
    while len(images) < COUNT:
        target = targets[len(images) % len(targets)]
        x = rng.standard_normal((3, 16, 16)).astype(np.float32)
        m = margin(x, target)
        for _ in range(400):
            if m >= 0.05:
                break
            candidate = x + 0.3 * rng.standard_normal(x.shape).astype(np.float32)
            c = margin(candidate, target)
            if c > m:
                x, m = candidate, c
        if m >= 0.05:
            images.append(x)
            labels.append(target)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / "vgg_data.npz", images=np.stack(images), labels=np.array(labels, dtype=np.int64))
    bad = rng.standard_normal((2, 3, 16, 16)).astype(np.float32)
    bad[1, 2, 3, 4] = np.nan
    np.savez(OUT / "vgg_nan.npz", images=bad, labels=np.zeros(2, dtype=np.int64))
    print("labels", labels)


if __name__ == "__main__":
    main()
