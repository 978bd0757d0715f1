#!/usr/bin/env python3
"""Compare SNNKit's local threshold balancing (LTB) and delay estimate with
SpikingJelly 2.0's implementation, on the same network and the same
calibration batches in the same order.

What is compared (SpikingJelly 2.0.0, ``spikingjelly/activation_based/ann2snn``):

- ``recipes/local_threshold_balancing.py``: ``LocalThresholdBalancingRecipe``
  (run through ``converter.py: Converter`` = ``FXConverter``) and its
  ``LocalThresholdBalancingHook.forward``, which does the LTB step.
- ``delay.py``: ``estimate_delay_start`` and its per-layer
  ``_compute_delay_ratio``.

against ``snnkit convert --method ltb --calib-batches N --batch-size B``
(``Sources/Conversion/Thresholds/ThresholdBalancing.swift``,
``Sources/Conversion/DelayEstimate.swift``, ``Converter.swift``), whose
thresholds are read back from the ``<Relu name>.threshold`` initializers of
the ``ai.snnkit.IFNeuron`` nodes of the converted file. Layers are matched by
the order of the ReLUs (the order of the IFNeuron nodes in the converted ONNX
graph and of the ``ltb_spiking_k.scaler1`` modules in SpikingJelly's
converted FX graph); the channel counts are checked.

A third, independent column is a float64 re-implementation of
docs/method.md ("Threshold balancing", "Readout and delay") written here
(``ltb_reference_f64``: the
torch model in double precision, BatchNorm evaluated exactly, one LTB step
per batch at every ReLU output or at the max pool that follows it, then the
clip), so each float32 implementation can be measured against the exact
value of the same recipe.

How the two implementations relate (read from SpikingJelly's source):

  step                   SpikingJelly 2.0.0                     SNNKit (docs/method.md)
  ---------------------  -------------------------------------  ---------------------------------
  BatchNorm              ``_fuse_conv_bn`` (rate_coding.py)     folded into Conv/Gemm
                         folds Conv-BN when fuse_flag=True
                         (the default, used here)
  where theta lives      hook after each ``nn.ReLU`` module, or after the MaxPool2d that is the
                         ReLU's only user: same as SNNKit's pre-neuron max pool (theta on the
                         pooled tensor, mean over the pooled positions)
  initial theta          0 (empty buffer -> zeros)              0
  update                 theta += 2*mean(clamp(relu(z)-theta,0)) theta += eta*2*mean(max(z-theta,0))
                         (eta fixed at 1)                       (identical for theta >= 0)
  mean over              every axis but channel_dim=1           batch and spatial positions;
                         (batch only for a Linear output)       batch only for a Linear output
  eps                    theta = max(theta, 1e-6) after update  same (minimumThreshold = 1e-6)
  order                  update with the batch, then clip that  same
                         batch with the new theta, pass it on
  accumulation           float32 ``Tensor.mean``                float32 excess, summed in Double
  delay per layer        0.5*max_c theta_c / max_c mean_c ReLU(z), on the clipped network
                         with the final thetas; SJ averages it over ``num_batches`` (default 1 =
                         the first batch), SNNKit uses the first calibration batch; both sum
                         the layers and round up
  delay clamp (short T)  T < raw+4: T-5 (5 readout steps,    T < t0+4: t0 = T-4 (4 readout
                         although the message says 4);        steps, "Readout and delay")
                         else min(raw, T-1)

With fuse_flag=True, the same batches in the same order and the default
num_batches=1 for the delay, the two implementations compute the same
numbers up to float32 rounding: every layer agrees to a few 1e-6 relative
or better and the delay estimates are equal (measured results in
Scripts/README.md). Two extra runs pin this down:

- SpikingJelly's recipe run in float64 (model and batches in double; its
  hook keeps the dtype) equals the independent float64 reference to about
  1e-15 in every layer, and so does its delay: SpikingJelly implements
  docs/method.md's LTB and delay exactly, and so does the reference.
- SNNKit (float32) is within about 2e-6 of that exact value, and closer to
  it than SpikingJelly in float32 in most layers: the residual comes from
  (a) the currents themselves (torch's and SNNKit's convolutions sum in
  different orders, and the BN folds round differently) and (b) the
  reduction: SpikingJelly takes a float32 ``Tensor.mean`` of the overflow,
  SNNKit sums the float32 overflow of each plane in Double.

Keeping BN unfolded in SpikingJelly (fuse_flag=False, column "SJ BN kept":
difference to the fused run) is mathematically identical and moves the
thresholds by the same order of rounding, so folding is a setup choice that
does not matter here; both sides fold by default.

Differences that do not show in the thresholds but matter elsewhere (all
read from SpikingJelly's source):

- Spike condition: SpikingJelly's neurons fire on ``h >= v_threshold``
  (``surrogate.heaviside`` / ``_ops/if_/cpu.py``), docs/method.md ("The
  neuron") and
  SNNKit on ``v > theta`` (strict). Only exact ties differ.
- SpikingJelly's LTB SNN keeps the max pool before ``scaler0`` inside each
  time step, i.e. it pools each step's current (the paper's choice).
  docs/method.md ("What each operator becomes") and SNNKit pool the running
  sum of the currents
  (``--maxpool per-step`` in ``snnkit simulate`` is SpikingJelly's
  behaviour). Thresholds are unaffected: calibration is on the ANN.
- SpikingJelly's per-channel threshold is a pair of ``ChannelVoltageScaler``
  (1/theta before, theta after) around a ``HalfThresholdIFNode`` with a
  scalar threshold of 1, v(0) = 0.5: the same dynamics, one extra rounding.
- SpikingJelly only converts ``nn.ReLU`` modules (``_matches_relu``:
  ``type(m) is nn.ReLU``); ``F.relu``, ``nn.ReLU6`` and ``nn.Hardtanh`` stay
  analog. SNNKit converts every ONNX Relu and Clip(0, a), capping theta at a.
- SpikingJelly fuses only Conv-BN pairs whose conv output has a single user;
  a BatchNorm1d after a Linear stays a BN module (no numerical effect on
  LTB). SNNKit folds BN into Conv and Gemm.
- The delay clamp for short runs (table above); SNNKit follows docs/method.md.

Setup of this script: the calibration data are the first N*B images of
$SNNKIT_CIFAR10/train20k_images.npy (uint8 NHWC; default folder
../shared/datasets/cifar10 next to the repository), normalized
with mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616), written
as float32 NCHW to --workdir (never into the repository) and fed to both
sides in the same order in batches of B. Models come from snn_models.py:
cifar_resnet20 and cifar_vgg11(width=0.5) with seeded random weights and
randomized BatchNorm (``randomize_batchnorm_``), or the trained state dicts
$SNNKIT_MODELS/{resnet20,vgg11}.pt when they exist (``--weights auto``;
default folder ../models next to the repository, where
``train_cifar.py --out ../models`` writes them).
``cnn_fc`` (defined here) adds a ReLU after a Linear+BatchNorm1d layer to
cover the per-neuron case and an unfused BN in SpikingJelly.

Usage:
    python Scripts/compare_spikingjelly.py \\
        --snnkit .build/release/snnkit [--models resnet20,vgg11,cnn_fc] \\
        [--calib-batches 20] [--batch-size 100] [--weights auto|random] \\
        [--workdir DIR] [--json out.json] [--quick]

Exit status 0 when every layer agrees to --tolerance (default 1e-4 max
relative difference) and the delays are equal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # SpikingJelly's calibration loops use tqdm

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import snn_models  # noqa: E402

# Data and trained weights live next to the repository, never in it.
CIFAR_DIR = os.environ.get("SNNKIT_CIFAR10", os.path.join(REPO, "..", "shared", "datasets", "cifar10"))
CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32)
CIFAR_STD = np.array([0.2470, 0.2435, 0.2616], np.float32)
TRAINED_DIR = os.environ.get("SNNKIT_MODELS", os.path.join(REPO, "..", "models"))


# --------------------------------------------------------------------------
# Models and data
# --------------------------------------------------------------------------


class CnnFc(nn.Module):
    """Two conv-BN-ReLU-maxpool stages, then Linear-BN1d-ReLU and a Linear
    readout: a ReLU on a fully connected output (one theta per neuron) and a
    BatchNorm that SpikingJelly does not fuse."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.fc1 = nn.Linear(32 * 8 * 8, 64)
        self.bn_fc = nn.BatchNorm1d(64)
        self.relu_fc = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return self.fc2(self.relu_fc(self.bn_fc(self.fc1(x))))


MODELS = {
    "resnet20": snn_models.cifar_resnet20,
    "vgg11": lambda: snn_models.cifar_vgg11(width=0.5),
    "mobilenetv2": lambda: snn_models.cifar_mobilenetv2(width=0.5),
    "cnn_fc": CnnFc,
}
ALIASES = {"cifar_resnet20": "resnet20", "cifar_vgg11": "vgg11", "cifar_mobilenetv2": "mobilenetv2"}


def build_model(name: str, weights: str, seed: int) -> tuple[nn.Module, str]:
    """The torch model in eval mode and a description of its weights."""
    torch.manual_seed(seed)
    model = MODELS[name]()
    trained = os.path.join(TRAINED_DIR, f"{name}.pt")
    if weights == "auto" and os.path.exists(trained):
        model.load_state_dict(torch.load(trained, map_location="cpu"))
        return model.eval(), f"trained ({trained})"
    if weights not in ("auto", "random"):
        model.load_state_dict(torch.load(weights, map_location="cpu"))
        return model.eval(), f"state dict {weights}"
    snn_models.randomize_batchnorm_(model, (8, 3, 32, 32), seed=seed)
    return model.eval(), f"random (seed {seed}, randomize_batchnorm_)"


def calibration_file(workdir: str, count: int) -> str:
    """First `count` CIFAR-10 training images, normalized, float32 NCHW."""
    path = os.path.join(workdir, f"cifar10_calib_first{count}.npy")
    if not os.path.exists(path):
        raw = np.load(os.path.join(CIFAR_DIR, "train20k_images.npy"), mmap_mode="r")
        if count > raw.shape[0]:
            raise SystemExit(f"only {raw.shape[0]} calibration images, {count} asked")
        x = (raw[:count].astype(np.float32) / 255.0 - CIFAR_MEAN) / CIFAR_STD
        np.save(path, np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return path


# --------------------------------------------------------------------------
# SNNKit side
# --------------------------------------------------------------------------


def run_snnkit_convert(snnkit: str, onnx_path: str, calib: str, batches: int, batch_size: int,
                       out: str, threads: int) -> dict:
    cmd = [snnkit, "convert", onnx_path, "--calib", calib, "--preset", "none",
           "--batch-size", str(batch_size), "--calib-batches", str(batches), "--method", "ltb",
           "--eta", "1", "-o", out, "--threads", str(threads), "--json", "--quiet"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}): {res.stderr[-2000:]}")
    report = json.loads(res.stdout)
    report["_seconds"] = time.perf_counter() - t0
    return report


def snnkit_thresholds(snn_onnx: str) -> list[tuple[str, np.ndarray]]:
    """(neuron name, per-channel theta) of every ai.snnkit.IFNeuron, in graph order."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(snn_onnx).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = []
    for node in graph.node:
        if node.domain == "ai.snnkit" and node.op_type == "IFNeuron":
            name = node.input[1]
            if name != f"{node.name}.threshold":
                print(f"  note: threshold of {node.name} is named {name}")
            out.append((node.name, np.asarray(inits[name], dtype=np.float32).reshape(-1)))
    return out


# --------------------------------------------------------------------------
# SpikingJelly side
# --------------------------------------------------------------------------


def spikingjelly_ltb(model: nn.Module, batches: list, fuse: bool = True,
                     delay: bool = True, double: bool = False) -> dict:
    """Run SpikingJelly's LocalThresholdBalancingRecipe (channel_dim=1, eps
    1e-6; eta is fixed at 1 in its hook) and estimate_delay_start on its
    converted model with the first batch (num_batches=1, the default).
    time_steps is set huge so the returned delay is the raw rounded sum."""
    from spikingjelly.activation_based import ann2snn
    from spikingjelly.activation_based.ann2snn import delay as sj_delay

    if double:  # the same recipe in float64 (its hook keeps the input dtype)
        model = copy.deepcopy(model).double()
        batches = [b.double() for b in batches]
    recipe = ann2snn.LocalThresholdBalancingRecipe(dataloader=batches, channel_dim=1,
                                                   fuse_flag=fuse, eps=1e-6)
    t0 = time.perf_counter()
    snn = ann2snn.Converter(recipe, device="cpu").convert(copy.deepcopy(model))
    seconds = time.perf_counter() - t0
    modules = dict(snn.named_modules())
    layers = []
    for node in snn.graph.nodes:
        if node.op == "call_module" and isinstance(node.target, str) and node.target.endswith(".scaler1"):
            scale = modules[node.target].scale.detach()
            layers.append((node.target[: -len(".scaler1")], scale.numpy().reshape(-1)))
    result = {"layers": layers, "seconds": seconds, "model": snn}
    if delay:
        terms = []
        original = sj_delay._compute_delay_ratio

        def recording(module, post_scaler, x):
            r = original(module, post_scaler, x)
            terms.append(float(r))
            return r

        sj_delay._compute_delay_ratio = recording
        try:
            steps = ann2snn.estimate_delay_start(snn, batches, "cpu", time_steps=10**9, num_batches=1)
        finally:
            sj_delay._compute_delay_ratio = original
        result["delay"] = {"steps": int(steps), "per_layer": terms}
    return result


# --------------------------------------------------------------------------
# Independent float64 reference (docs/method.md, "Threshold balancing" and
# "Readout and delay")
# --------------------------------------------------------------------------


class _LTBObserver(nn.Module):
    def __init__(self, state: dict, index: int):
        super().__init__()
        self.state, self.index = state, index

    def forward(self, a):  # a = ReLU(z) (or the max pool of it), float64
        st, i = self.state, self.index
        dims = tuple(d for d in range(a.dim()) if d != 1)
        shape = [1] * a.dim()
        shape[1] = a.shape[1]
        theta = st["theta"].get(i)
        if st["mode"] == "calibrate":
            if theta is None:
                theta = torch.zeros(a.shape[1], dtype=a.dtype)
            theta = theta + st["eta"] * 2.0 * torch.clamp(a - theta.view(shape), min=0).mean(dim=dims)
            theta = torch.clamp(theta, min=st["eps"])
            st["theta"][i] = theta
        else:  # statistics for the delay with the final thresholds
            st["means"][i] = a.mean(dim=dims)
        return torch.minimum(a, theta.view(shape))


def ltb_reference_f64(model: nn.Module, batches: list, eta: float = 1.0, eps: float = 1e-6) -> dict:
    """docs/method.md in float64: the model in double precision with BatchNorm
    evaluated exactly; an LTB observer after every nn.ReLU call (after the
    max pool when that is the ReLU's only user, i.e. the pre-neuron pool);
    theta from 0, one step per batch before clipping it, theta >= eps; then
    the delay terms 0.5 * max theta / max_c mean_c ReLU(z) on the first
    batch with the final thetas."""
    m = copy.deepcopy(model).double().eval()
    gm = torch.fx.symbolic_trace(m)
    modules = dict(gm.named_modules())
    state = {"theta": {}, "means": {}, "mode": "calibrate", "eta": eta, "eps": eps}
    count = 0
    for node in list(gm.graph.nodes):
        if not (node.op == "call_module" and type(modules.get(node.target)) is nn.ReLU):
            continue
        point = node
        users = list(node.users)
        if len(users) == 1 and users[0].op == "call_module" and isinstance(modules.get(users[0].target), nn.MaxPool2d):
            point = users[0]
        name = f"_ltb_ref_{count}"
        gm.add_submodule(name, _LTBObserver(state, count))
        with gm.graph.inserting_after(point):
            obs = gm.graph.call_module(name, args=(point,))
        for user in list(point.users):
            if user is not obs:
                user.replace_input_with(point, obs)
        count += 1
    gm.graph.lint()
    gm.recompile()
    with torch.no_grad():
        for b in batches:
            gm(b.double())
        state["mode"] = "statistics"
        gm(batches[0].double())
    thetas = [state["theta"][i] for i in range(count)]
    terms = []
    for i in range(count):
        peak_mean = float(state["means"][i].max())
        terms.append(0.5 * float(thetas[i].max()) / peak_mean if peak_mean > 0 else 0.0)
    return {"layers": [t.numpy() for t in thetas], "delay": {"steps": int(math.ceil(sum(terms))), "per_layer": terms}}


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------


def max_rel(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-30)))


def compare_model(name: str, args, calib_path: str) -> dict:
    print(f"\n=== {name} ===")
    model, weights = build_model(name, args.weights, args.seed)
    onnx_path = os.path.join(args.workdir, f"{name}.onnx")
    snn_path = os.path.join(args.workdir, f"{name}.ltb{args.calib_batches}x{args.batch_size}.snn.onnx")
    snn_models.export_onnx(model, onnx_path, (1, 3, 32, 32))
    print(f"weights: {weights}; exported {onnx_path}")

    data = torch.from_numpy(np.load(calib_path))
    batches = [data[i * args.batch_size:(i + 1) * args.batch_size] for i in range(args.calib_batches)]

    sk_report = run_snnkit_convert(args.snnkit, onnx_path, calib_path, args.calib_batches, args.batch_size,
                                   snn_path, args.threads)
    conv = sk_report["conversion"]
    assert conv["calibration_batches"] == args.calib_batches and conv["batch_size"] == args.batch_size, conv
    sk_layers = snnkit_thresholds(snn_path)
    sk_delay = conv["delay"]

    sj = spikingjelly_ltb(model, batches, fuse=True)
    sj_unfused = None if args.quick else spikingjelly_ltb(model, batches, fuse=False, delay=False)
    sj64 = None if args.quick else spikingjelly_ltb(model, batches, fuse=True, double=True)
    ref = ltb_reference_f64(model, batches)

    n = len(sk_layers)
    if len(sj["layers"]) != n or len(ref["layers"]) != n:
        raise RuntimeError(f"layer counts differ: snnkit {n}, spikingjelly {len(sj['layers'])}, reference {len(ref['layers'])}")

    rows = []
    for i, ((sk_name, sk_t), (sj_name, sj_t), ref_t) in enumerate(zip(sk_layers, sj["layers"], ref["layers"])):
        if sk_t.shape != sj_t.shape or sk_t.shape != ref_t.shape:
            raise RuntimeError(f"layer {i}: channel counts differ {sk_t.shape} {sj_t.shape} {ref_t.shape}")
        row = dict(index=i, snnkit=sk_name, spikingjelly=sj_name, channels=int(sk_t.size),
                   theta_max=float(sk_t.max()), theta_median=float(np.median(sk_t)),
                   rel_sk_sj=max_rel(sk_t, sj_t), rel_sk_ref=max_rel(sk_t, ref_t), rel_sj_ref=max_rel(sj_t, ref_t),
                   delay_sk=sk_delay["per_layer"][i], delay_sj=sj["delay"]["per_layer"][i],
                   delay_ref=ref["delay"]["per_layer"][i])
        if sj_unfused is not None:
            row["rel_sjbn_sj"] = max_rel(sj_unfused["layers"][i][1], sj_t)
        if sj64 is not None:
            row["rel_sj64_ref"] = max_rel(sj64["layers"][i][1], ref_t)
            row["delay_sj64"] = sj64["delay"]["per_layer"][i]
        rows.append(row)

    hdr = f"{'#':>2}  {'SNNKit neuron':<34} {'SpikingJelly module':<26} {'ch':>3} {'θ max':>8}  {'SK vs SJ':>8}  {'SK vs f64':>9}  {'SJ vs f64':>9}"
    if sj_unfused is not None:
        hdr += f"  {'SJ BN kept':>10}  {'SJ64 vs f64':>11}"
    hdr += f"  {'delay SK':>8} {'delay SJ':>8}"
    print("max relative difference of the per-channel thresholds, per layer (f64 = float64 reference):")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        line = (f"{r['index']:>2}  {r['snnkit'][:34]:<34} {r['spikingjelly'][:26]:<26} {r['channels']:>3} {r['theta_max']:>8.4g}  "
                f"{r['rel_sk_sj']:>8.1e}  {r['rel_sk_ref']:>9.1e}  {r['rel_sj_ref']:>9.1e}")
        if sj_unfused is not None:
            line += f"  {r['rel_sjbn_sj']:>10.1e}  {r['rel_sj64_ref']:>11.1e}"
        line += f"  {r['delay_sk']:>8.4f} {r['delay_sj']:>8.4f}"
        print(line)
    worst = max(r["rel_sk_sj"] for r in rows)
    term_diff = max(abs(r["delay_sk"] - r["delay_sj"]) for r in rows)
    print(f"delay estimate: SNNKit {sk_delay['steps']} steps (sum {sum(sk_delay['per_layer']):.4f}), "
          f"SpikingJelly {sj['delay']['steps']} steps (sum {sum(sj['delay']['per_layer']):.4f}), "
          f"float64 reference {ref['delay']['steps']} steps (sum {sum(ref['delay']['per_layer']):.4f}); "
          f"max per-layer term difference {term_diff:.1e}")
    if sj64 is not None:
        print(f"SpikingJelly's recipe in float64: delay {sj64['delay']['steps']} steps (sum {sum(sj64['delay']['per_layer']):.6f}, "
              f"f64 reference sum {sum(ref['delay']['per_layer']):.6f}); worst threshold vs the float64 reference "
              f"{max(r['rel_sj64_ref'] for r in rows):.1e}")
    closer = sum(r["rel_sk_ref"] < r["rel_sj_ref"] for r in rows)
    print(f"SNNKit is closer to the float64 reference than SpikingJelly (float32) in {closer} of {len(rows)} layers")
    print(f"worst layer SNNKit vs SpikingJelly: {worst:.2e} max relative difference"
          f" (SNNKit convert {sk_report['_seconds']:.1f} s, SpikingJelly convert {sj['seconds']:.1f} s)")
    delays = dict(snnkit=sk_delay, spikingjelly=sj["delay"], reference_f64=ref["delay"])
    if sj64 is not None:
        delays["spikingjelly_f64"] = sj64["delay"]
    return dict(model=name, weights=weights, layers=rows, max_rel_sk_sj=worst, delay=delays,
                seconds=dict(snnkit=sk_report["_seconds"], spikingjelly=sj["seconds"]))


def main() -> int:
    default_snnkit = os.path.join(REPO, ".build", "release", "snnkit")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snnkit", default=default_snnkit, help="snnkit binary (default: %(default)s)")
    p.add_argument("--models", default="resnet20,vgg11,cnn_fc", help="comma list of resnet20, vgg11, cnn_fc")
    p.add_argument("--calib-batches", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--weights", default="auto", help="auto (trained $SNNKIT_MODELS/<model>.pt if present, else random), random, or a state-dict path")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch and snnkit threads (default 1)")
    p.add_argument("--workdir", default=None, help="exported models and calibration .npy, outside the repository (default: a temporary folder)")
    p.add_argument("--quick", action="store_true",
                   help="skip the two extra SpikingJelly runs (fuse_flag=False, i.e. BN kept; and the recipe in float64)")
    p.add_argument("--tolerance", type=float, default=1e-4, help="max relative threshold difference counted as agreement")
    p.add_argument("--json", help="write all results to this file")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="snnkit_sj_")
    os.makedirs(args.workdir, exist_ok=True)
    import spikingjelly
    from importlib.metadata import version

    sj_version = getattr(spikingjelly, "__version__", None) or version("spikingjelly")
    print(f"SpikingJelly {sj_version} (ann2snn.LocalThresholdBalancingRecipe, ann2snn.estimate_delay_start), "
          f"torch {torch.__version__}, snnkit {args.snnkit}")
    calib = calibration_file(args.workdir, args.calib_batches * args.batch_size)
    print(f"calibration: first {args.calib_batches}x{args.batch_size} CIFAR-10 training images, normalized, {calib}")

    results = []
    for name in [ALIASES.get(m.strip(), m.strip()) for m in args.models.split(",") if m.strip()]:
        if name not in MODELS:
            raise SystemExit(f"unknown model {name}; choose from {', '.join(MODELS)}")
        results.append(compare_model(name, args, calib))

    ok = all(r["max_rel_sk_sj"] <= args.tolerance and r["delay"]["snnkit"]["steps"] == r["delay"]["spikingjelly"]["steps"]
             for r in results)
    print("\nsummary:")
    for r in results:
        print(f"  {r['model']:<9} {len(r['layers']):>2} layers  max rel diff SNNKit/SpikingJelly {r['max_rel_sk_sj']:.1e}  "
              f"delay SNNKit {r['delay']['snnkit']['steps']} / SpikingJelly {r['delay']['spikingjelly']['steps']} / "
              f"f64 {r['delay']['reference_f64']['steps']}  [{r['weights']}]")
    print("agreement:", "yes" if ok else "NO", f"(tolerance {args.tolerance:g})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(spikingjelly=sj_version, torch=torch.__version__, calib_batches=args.calib_batches,
                           batch_size=args.batch_size, results=results), f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
