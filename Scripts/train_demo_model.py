#!/usr/bin/env python3
"""Trains and exports the model embedded in `snnkit demo`.

A small residual CNN on scikit-learn's bundled 8x8 digits (a copy of the UCI ML
hand-written digits test set; no download). The network has every structure the
conversion handles: convolutions with BatchNorm, a max pool after a spiking layer
(deep, so running-sum pooling matters), a residual Add, global average pooling and a
linear readout. Input: float32 [N, 1, 8, 8] = pixel / 16; the model upsamples x2 itself.

Writes Sources/Demo/Resources/{digits-cnn.onnx, digits-{train,test}-{images,labels}.pb,
README.md}. Deterministic: two runs give byte-identical files (CPU, one thread).
Run:  python Scripts/train_demo_model.py          (train + export, under a minute on one core)
      python Scripts/train_demo_model.py --check  (re-score the committed model on the committed
                                                   .pb data with onnxruntime; no training, no sklearn)
Needs numpy, torch, onnx, onnxruntime and scikit-learn (for the bundled digits; no network).
"""
import argparse
import collections
import os
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "Sources", "Demo", "Resources"))
MODEL = "digits-cnn.onnx"
DATA = {  # file -> (tensor name, dtype, shape)
    "digits-train-images.pb": ("images", np.uint8, (1437, 1, 8, 8)),
    "digits-train-labels.pb": ("labels", np.int64, (1437,)),
    "digits-test-images.pb": ("images", np.uint8, (360, 1, 8, 8)),
    "digits-test-labels.pb": ("labels", np.int64, (360,)),
}
# Every operator the demo graph must exercise (Constant holds Resize's scales).
REQUIRED_OPS = ["Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "Resize", "GlobalAveragePool", "Flatten",
                "Gemm"]
ALLOWED_OPS = set(REQUIRED_OPS) | {"Constant"}


def load_split(seed=0):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    images = d.images.astype(np.uint8).reshape(-1, 1, 8, 8)  # values 0..16
    labels = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(images, labels, test_size=360, random_state=seed, stratify=labels)
    assert len(d.target) == 1797 and xtr.shape == (1437, 1, 8, 8) and xte.shape == (360, 1, 8, 8)
    assert images.min() == 0 and images.max() == 16 and (d.images == images.reshape(-1, 8, 8)).all()
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


def load_tensor(file):
    """Reads one committed data file and checks its name, dtype and shape."""
    import onnx
    import onnx.numpy_helper as nh
    name, dtype, shape = DATA[file]
    t = onnx.load_tensor(os.path.join(OUT, file))
    a = nh.to_array(t)
    assert (t.name, a.dtype, a.shape) == (name, np.dtype(dtype), shape), (file, t.name, a.dtype, a.shape)
    return a


def ort_logits(model_path, images):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    return s.run(None, {"input": images.astype(np.float32) / 16})[0]


def accuracy(logits, labels):
    return float((logits.argmax(1) == labels).mean())


def op_counts(model):
    return collections.Counter(n.op_type for n in model.graph.node)


def format_ops(counts):
    return ", ".join(f"{op} x{k}" for op, k in sorted(counts.items()))


def remove_identities(graph):
    """Drops pure Identity nodes, rewiring their readers to the Identity's input. When the Identity
    feeds a graph output, the producer's output is renamed instead so the output keeps its name."""
    def rename(old, new, where):
        for node in graph.node:
            names = node.input if where == "input" else node.output
            for k, name in enumerate(names):
                if name == old:
                    names[k] = new

    outputs = {o.name for o in graph.output}
    for n in [n for n in graph.node if n.op_type == "Identity"]:
        src, dst = n.input[0], n.output[0]
        graph.node.remove(n)
        if dst in outputs:
            assert src not in outputs and src not in {i.name for i in graph.input}, "cannot drop this Identity"
            assert src not in {t.name for t in graph.initializer}, "cannot drop this Identity"
            rename(src, dst, "output")
            rename(src, dst, "input")
        else:
            rename(dst, src, "input")


def check_graph(model):
    counts = op_counts(model)
    missing = [op for op in REQUIRED_OPS if op not in counts]
    unexpected = sorted(set(counts) - ALLOWED_OPS)
    assert not missing and not unexpected, f"missing {missing}, unexpected {unexpected}"
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["logits"]
    assert model.opset_import[0].version == 13
    return counts


def write_readme(model_bytes, counts, accuracies):
    sizes = {f: os.path.getsize(os.path.join(OUT, f)) for f in [MODEL] + list(DATA)}
    text = f"""# Demo assets

Generated by `python Scripts/train_demo_model.py` (deterministic: rerunning it reproduces
these files byte for byte; under a minute on one core). Not hand-edited.
`python Scripts/train_demo_model.py --check` re-scores the committed model on the committed
test data with onnxruntime.

- `{MODEL}` ({model_bytes} bytes): a residual CNN, opset 13, dynamic batch, input `input`
  float32 [N,1,8,8] = pixel/16, output `logits` [N,10]. Nearest x2 upsample (Resize),
  conv+BN+ReLU (1->16), conv+BN+ReLU (16->32), max pool 2x2, residual block
  [conv+BN+ReLU, conv+BN, + identity] then ReLU, max pool 2x2 (after a spiking layer),
  conv+BN+ReLU (32->64), global average pool, flatten, linear (64->10). All convolutions
  3x3, padding 1, no bias; BatchNormalization nodes are kept (not folded into Conv).
  Operators: {format_ops(counts)}.
- ANN accuracy: test {accuracies["torch_test"] * 100:.2f}% (torch) / {accuracies["ort_test"] * 100:.2f}% (onnxruntime),
  train {accuracies["torch_train"] * 100:.2f}% (torch) / {accuracies["ort_train"] * 100:.2f}% (onnxruntime).
- `digits-train-images.pb` ({sizes["digits-train-images.pb"]} bytes), `digits-test-images.pb` ({sizes["digits-test-images.pb"]} bytes):
  UINT8 [1437,1,8,8] and [360,1,8,8], raw pixel values 0..16 (tensor name `images`).
- `digits-train-labels.pb` ({sizes["digits-train-labels.pb"]} bytes), `digits-test-labels.pb` ({sizes["digits-test-labels.pb"]} bytes):
  INT64 [1437] and [360], classes 0..9 (tensor name `labels`).
  All four are serialized ONNX TensorProtos. The split is scikit-learn's
  `train_test_split(test_size=360, random_state=0, stratify=labels)` of the 1797 images.

The images are scikit-learn's bundled copy (`sklearn.datasets.load_digits`) of the test set
of the UCI ML hand-written digits data set (Optical Recognition of Handwritten Digits,
Alpaydin and Kaynak, 1998). scikit-learn is BSD-3-licensed.
"""
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(text)


def check():
    """Re-scores the committed model on the committed data; needs only onnx, onnxruntime, numpy."""
    import onnx
    model_path = os.path.join(OUT, MODEL)
    m = onnx.load(model_path)
    onnx.checker.check_model(m)
    counts = check_graph(m)
    print(f"{model_path}: {os.path.getsize(model_path)} bytes; ops: {format_ops(counts)}")
    for split in ["train", "test"]:
        x, y = load_tensor(f"digits-{split}-images.pb"), load_tensor(f"digits-{split}-labels.pb")
        print(f"onnxruntime {split} accuracy: {accuracy(ort_logits(model_path, x), y) * 100:.2f}% ({len(y)} images)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()
    if args.check:
        check()
        return
    xtr, ytr, xte, yte = load_split()
    model_path = os.path.join(OUT, MODEL)

    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
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
    train_time = time.time() - start
    model.eval()
    with torch.no_grad():
        torch_train = model(x).numpy()
        torch_test = model(torch.tensor(xte, dtype=torch.float32) / 16).numpy()
    acc = {"torch_train": accuracy(torch_train, ytr), "torch_test": accuracy(torch_test, yte)}
    print(f"trained {args.epochs} epochs in {train_time:.1f} s")
    print(f"torch:       train {acc['torch_train'] * 100:.2f}%, test {acc['torch_test'] * 100:.2f}%")

    import onnx
    os.makedirs(OUT, exist_ok=True)
    # PRESERVE on an eval-mode model keeps the BatchNormalization nodes (EVAL would fold them into
    # Conv). The exporter's warnings about the legacy exporter and constant folding in training
    # mode do not apply here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        warnings.filterwarnings("ignore", message=".*constant folding be turned off.*")
        torch.onnx.export(model, torch.zeros(1, 1, 8, 8), model_path, dynamo=False, opset_version=13,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    m = onnx.load(model_path)
    remove_identities(m.graph)
    onnx.checker.check_model(m)
    counts = check_graph(m)
    onnx.save(m, model_path)
    print(f"ops: {format_ops(counts)}")
    for file, arr in zip(DATA, [xtr, ytr, xte, yte]):
        save_tensor(arr, DATA[file][0], os.path.join(OUT, file))
        assert (load_tensor(file) == arr).all(), file

    ort_train, ort_test = ort_logits(model_path, xtr), ort_logits(model_path, xte)
    acc["ort_train"], acc["ort_test"] = accuracy(ort_train, ytr), accuracy(ort_test, yte)
    diff = max(np.abs(ort_train - torch_train).max(), np.abs(ort_test - torch_test).max())
    print(f"onnxruntime: train {acc['ort_train'] * 100:.2f}%, test {acc['ort_test'] * 100:.2f}% "
          f"(max |logit difference| vs torch {diff:.2e})")
    assert acc["ort_test"] == acc["torch_test"] and acc["ort_train"] == acc["torch_train"], acc
    assert (ort_test.argmax(1) == torch_test.argmax(1)).all()
    assert acc["torch_test"] >= 0.97, "the demo model should be a good classifier"
    size = os.path.getsize(model_path)
    assert size < 1 << 20
    write_readme(size, counts, acc)
    for file in [MODEL] + list(DATA) + ["README.md"]:
        print(f"{os.path.join(OUT, file)}: {os.path.getsize(os.path.join(OUT, file))} bytes")


if __name__ == "__main__":
    main()
