#!/usr/bin/env python3
"""Trains and exports the model embedded in `snnkit demo`.

A small residual CNN on scikit-learn's bundled 8x8 digits (a copy of the UCI ML
hand-written digits test set; no download). The network has every structure the
conversion handles: convolutions with BatchNorm, a max pool after a spiking layer
(deep, so running-sum pooling matters), a residual Add, global average pooling and a
linear readout. Input: float32 [N, 1, 8, 8] = pixel / 16; the model upsamples x2 itself.

Writes Sources/Demo/Resources/{digits-cnn.onnx, digits-{train,test}-{images,labels}.pb}.
Run:  python Scripts/train_demo_model.py          (train + export, ~1 minute on one core)
      python Scripts/train_demo_model.py --check  (re-score the committed files with onnxruntime)
"""
import argparse
import os
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Sources", "Demo", "Resources")


def load_split(seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    images = d.images.astype(np.uint8).reshape(-1, 1, 8, 8)  # values 0..16
    labels = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(images, labels, test_size=360, random_state=seed, stratify=labels)
    return xtr, ytr, xte, yte


def build():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(c)
            self.c2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.b2 = nn.BatchNorm2d(c)

        def forward(self, x):
            y = F.relu(self.b1(self.c1(x)))
            return F.relu(self.b2(self.c2(y)) + x)

    class DigitsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(32)
            self.block = Block(32)
            self.conv3 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
            self.bn3 = nn.BatchNorm2d(64)
            self.fc = nn.Linear(64, 10)

        def forward(self, x):
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.relu(self.bn2(self.conv2(x)))
            x = F.max_pool2d(x, 2)            # 16 -> 8
            x = self.block(x)
            x = F.max_pool2d(x, 2)            # 8 -> 4, after a spiking layer
            x = F.relu(self.bn3(self.conv3(x)))
            x = F.adaptive_avg_pool2d(x, 1).flatten(1)
            return self.fc(x)

    return DigitsNet()


def save_tensor(arr, name, path):
    import onnx.numpy_helper as nh
    with open(path, "wb") as f:
        f.write(nh.from_array(arr, name=name).SerializeToString())


def ort_accuracy(model_path, images, labels):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    logits = s.run(None, {"input": images.astype(np.float32) / 16})[0]
    return float((logits.argmax(1) == labels).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()
    xtr, ytr, xte, yte = load_split()
    model_path = os.path.join(OUT, "digits-cnn.onnx")
    if args.check:
        print(f"onnxruntime test accuracy of {model_path}: {ort_accuracy(model_path, xte, yte) * 100:.2f}%")
        return

    import torch
    import torch.nn.functional as F
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = build()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    x = torch.tensor(xtr, dtype=torch.float32) / 16
    y = torch.tensor(ytr)
    rng = np.random.default_rng(0)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            idx = order[i:i + 64]
            xb = x[idx]
            # Random shifts by one pixel: cheap augmentation for 8x8 digits.
            dx, dy = rng.integers(-1, 2, size=2)
            xb = torch.roll(xb, shifts=(int(dy), int(dx)), dims=(2, 3))
            loss = F.cross_entropy(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        train_acc = (model(x).argmax(1) == y).float().mean().item()
        test_acc = (model(torch.tensor(xte, dtype=torch.float32) / 16).argmax(1).numpy() == yte).mean()
    print(f"trained {args.epochs} epochs in {time.time() - start:.1f} s: train {train_acc * 100:.2f}%, test {test_acc * 100:.2f}%")

    import onnx
    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), model_path, dynamo=False, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    m = onnx.load(model_path)
    # Drop pure Identity nodes the exporter may add, rewiring their readers.
    ids = [n for n in m.graph.node if n.op_type == "Identity"]
    for n in ids:
        for other in m.graph.node:
            for k, name in enumerate(other.input):
                if name == n.output[0]:
                    other.input[k] = n.input[0]
        m.graph.node.remove(n)
    onnx.checker.check_model(m)
    onnx.save(m, model_path)
    ops = sorted({n.op_type for n in m.graph.node})
    print("ops:", ", ".join(ops))
    for required in ["BatchNormalization", "MaxPool", "Add", "Conv", "Relu"]:
        assert required in ops, required
    save_tensor(xtr, "images", os.path.join(OUT, "digits-train-images.pb"))
    save_tensor(ytr, "labels", os.path.join(OUT, "digits-train-labels.pb"))
    save_tensor(xte, "images", os.path.join(OUT, "digits-test-images.pb"))
    save_tensor(yte, "labels", os.path.join(OUT, "digits-test-labels.pb"))
    print(f"onnxruntime test accuracy: {ort_accuracy(model_path, xte, yte) * 100:.2f}%")
    print(f"model size: {os.path.getsize(model_path)} bytes")


if __name__ == "__main__":
    main()
