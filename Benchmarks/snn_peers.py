#!/usr/bin/env python3
"""Spiking simulation speed: SNNKit against the same converted network run in
PyTorch (a plain torch loop) and with SpikingJelly's own multi-step IF neuron,
at the same batch, number of steps and thread count.

For each model (snn_models.py: cifar_vgg11(width=0.5), cifar_resnet20,
cifar_mobilenetv2(width=0.5) as `mobilenetv2`; the
trained $SNNKIT_MODELS/<model>.pt when present (default folder ../models next
to the repository), else seeded random weights with randomized BatchNorm) this

  1. exports ONNX and runs ``snnkit convert --method ltb`` on the first
     --calib-batches x 100 normalized CIFAR-10 training images,
  2. loads the converted ``.snn.onnx`` into a small torch interpreter
     (``TorchSNN``): the BN-folded Conv/Gemm weights, the per-channel
     thresholds and the graph are SNNKit's, so both sides run exactly the
     same network. Every ``ai.snnkit.IFNeuron`` becomes a multi-step IF
     neuron: v(0) = theta * initial_potential (theta/2), v += I, spike where
     v > theta (strict), v -= theta * spike, output theta * spike, per-channel
     theta. A max pool on a spiking path pools the running sum of its input
     currents and emits the increment (docs/method.md, "What each operator
     becomes"). Like SNNKit's simulator, the part of the graph that does not
     depend on any neuron (the first convolution on the analog image) runs
     once, the spiking part
     runs layer by layer over chunks of --chunk steps (tensors
     [chunk * batch, C, H, W], so each convolution sees one large batch), and
     the readout tail after the last neuron runs once on the time average
     (readout = average of the final layer's output),
  3. checks the torch peer against SNNKit: the first --agree-images CIFAR-10
     test images, T = --agree-T (64): torch's argmax predictions are passed
     to ``snnkit simulate`` as the labels, so SNNKit's top-1 at T is the
     fraction of images on which the two argmaxes agree (no delay, readout
     averaged from t = 1). Must be >= 99%.
  4. times, for each T: the torch peer, the SpikingJelly peer and
     ``snnkit bench snn MODEL --batch B -T T --threads N --json``. The input
     is standard-normal noise of the model's input shape [B, 3, 32, 32]
     (fixed seed), which is what ``snnkit bench snn`` uses (same
     distribution; snnkit draws its own samples, so the two firing rates
     in the table differ slightly). To check the spike counts exactly, the
     torch noise batch is also simulated with ``snnkit simulate`` at the
     smallest T and the overall firing rate (per-layer rates weighted by
     neurons) is compared with the peers'. Throughput is
     images * steps per second: one short untimed warm-up run, then the
     median of --iterations runs (default: as many as fit in
     --target-seconds, 1 to 3). The peers count spikes in every run (for
     the firing rate), as SNNKit's simulator does. SNNKit gets the same
     time window: ``snnkit bench`` runs as many iterations as fill about
     --target-seconds (sized from its previous round; 10 for T < 128 and 3
     from T = 128 in the first), and its column is the mean over them
     (total work / total time), as a peer's single long run is. With 1-3
     short runs (50-400 ms) and their median, one transient slowdown of
     the host moved SNNKit's figure by up to 20%.
     All of that is repeated in --rounds alternating rounds (default 3:
     torch, SpikingJelly, SNNKit, torch, ...) and each column reports its
     median round, with the range of the rounds: on a shared host whose
     speed drifts by 10-20% within minutes, one round per column moved the
     ratio by more than the differences being measured. Torch's speed also
     differs from process to process while steady within one (ResNet-20,
     T = 32, 2 threads, one hour: 895, 941 and 1089 img*steps/s in three
     runs of this script); --fresh-processes times each peer round in a new
     Python process, where torch measured slower still (700-830), so the
     default keeps the rounds in this process, warmed up by the agreement
     and firing-rate runs: the peer's better case.

The SpikingJelly peer (``--peers torch,sj``) is the same interpreter with the
neuron replaced by SpikingJelly 2.0's ``neuron.ActivationAwareIFNode``
(step_mode="m", channel_dim=1): it is the only integrate-and-fire neuron of
SpikingJelly 2.0 with a
per-channel threshold (``BaseNode``/``IFNode``/``HalfThresholdIFNode``
require a scalar v_threshold; the LTB recipe works around that with
``ChannelVoltageScaler`` 1/theta before and theta after a unit-threshold
neuron). Its spikes are 0/1, so amplitude theta comes from SpikingJelly's
``ann2snn.ChannelVoltageScaler(theta)`` in multi-step mode, and its membrane
starts at 0, so v(0) = theta/2 is given as ``v_offset = theta/2`` (fire
where v + I + theta/2 >= theta: the same dynamics shifted by theta/2). It
fires on ``>=`` instead of ``>`` (only exact ties differ). Its CPU kernel
(``_ops/activation_aware_if/cpu.py``) is a torch loop over the steps.

Usage:
    python Benchmarks/snn_peers.py --snnkit .build/release/snnkit \\
        [--threads 2] [--models vgg11,resnet20] [-T 32,256] [--batch 32] [--json out.json]

Run it on an otherwise idle machine (``uptime`` load average below about
1.2 on 2 cores); a concurrent job skews every column.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Scripts"))

import snn_models  # noqa: E402
from compare_spikingjelly import CIFAR_DIR, CIFAR_MEAN, CIFAR_STD, build_model, calibration_file  # noqa: E402

MODEL_ALIASES = {"cifar_vgg11": "vgg11", "cifar_resnet20": "resnet20", "cifar_mobilenetv2": "mobilenetv2"}


# --------------------------------------------------------------------------
# The converted network in torch
# --------------------------------------------------------------------------


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class TorchIF:
    """Multi-step IF neuron of docs/method.md ("The neuron") in plain torch."""

    def __init__(self, theta: torch.Tensor, ratio: float):
        self.theta, self.ratio = theta, ratio
        self.v = None
        self.spikes = 0

    def reset(self, sample_shape, batch):
        th = self.theta.view([-1] + [1] * (len(sample_shape) - 1))
        self.th = th
        self.v = (th * self.ratio).expand(batch, *sample_shape).contiguous()
        self.mask = torch.empty(self.v.shape, dtype=torch.bool)
        self.spikes = 0

    def __call__(self, x: torch.Tensor, steps: int, static: bool, count: bool) -> torch.Tensor:
        batch = self.v.shape[0]
        out = torch.empty((steps,) + tuple(self.v.shape))
        x = x if static else x.view(steps, *self.v.shape)
        v, th, mask = self.v, self.th, self.mask
        for t in range(steps):
            v.add_(x if static else x[t])
            torch.gt(v, th, out=mask)
            torch.mul(mask, th, out=out[t])
            v.sub_(out[t])
        if count:
            self.spikes += int(torch.count_nonzero(out))
        return out.view(steps * batch, *self.v.shape[1:])


class SpikingJellyIF:
    """SpikingJelly 2.0's ActivationAwareIFNode (multi-step, per-channel
    threshold, v_offset = theta/2) followed by its ChannelVoltageScaler(theta)."""

    def __init__(self, theta: torch.Tensor, ratio: float):
        from spikingjelly.activation_based.ann2snn.modules import ChannelVoltageScaler
        from spikingjelly.activation_based.neuron import ActivationAwareIFNode

        self.node = ActivationAwareIFNode(v_threshold=theta.clone(), v_offset=theta * ratio, channel_dim=1,
                                          v_reset=None, step_mode="m")
        self.scale = ChannelVoltageScaler(theta.clone(), channel_dim=1, step_mode="m")
        self.spikes = 0

    def reset(self, sample_shape, batch):
        self.node.reset()
        self.shape = (batch,) + tuple(sample_shape)
        self.spikes = 0

    def __call__(self, x, steps, static, count):
        x_seq = x.unsqueeze(0).expand(steps, *self.shape) if static else x.view(steps, *self.shape)
        s = self.node(x_seq)
        if count:
            self.spikes += int(torch.count_nonzero(s))
        return self.scale(s).reshape(steps * self.shape[0], *self.shape[1:])


class TorchSNN:
    """Runs a SNNKit-converted ONNX graph (ai.snnkit.IFNeuron nodes) in torch.

    Values are constants (initializers), static ([N, ...], computed once from
    the analog input) or dynamic ([steps * N, ...], time-major, one chunk of
    steps at a time). Operators: Conv, Gemm, MatMul, Add/Sub/Mul/Div, MaxPool,
    AveragePool, GlobalAveragePool, Flatten, Reshape, Concat, Relu, Identity,
    Dropout and IFNeuron (enough for the CIFAR models; others raise).
    """

    def __init__(self, path: str, neuron: str = "torch"):
        import onnx
        from onnx import numpy_helper

        model = onnx.load(path)
        g = model.graph
        self.meta = {p.key: p.value for p in model.metadata_props}
        self.consts = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
        inits = set(self.consts)
        self.input = [i.name for i in g.input if i.name not in inits][0]
        self.output = g.output[0].name
        self.nodes = list(g.node)
        neuron_cls = {"torch": TorchIF, "sj": SpikingJellyIF}[neuron]
        self.neurons = {}
        for i, n in enumerate(self.nodes):
            if n.domain == "ai.snnkit" and n.op_type == "IFNeuron":
                ratio = float(_attrs(n).get("initial_potential", 0.5))
                self.neurons[i] = neuron_cls(self.consts[n.input[1]].float().reshape(-1), ratio)
        # static: does not depend on a neuron; tail: after the last neuron (no neuron downstream)
        dyn = set()
        for i, n in enumerate(self.nodes):
            if i in self.neurons or any(v in dyn for v in n.input):
                dyn.update(n.output)
        self.static_nodes = [i for i, n in enumerate(self.nodes) if not any(o in dyn for o in n.output)]
        feeds_neuron = set()
        for i in reversed(range(len(self.nodes))):
            n = self.nodes[i]
            if i in self.neurons or any(o in feeds_neuron for o in n.output):
                feeds_neuron.update(n.input)
        self.tail_nodes = [i for i, n in enumerate(self.nodes)
                           if any(o in dyn for o in n.output) and i not in self.neurons
                           and not any(o in feeds_neuron for o in n.output)]
        tail = set(self.tail_nodes)
        self.dynamic_nodes = [i for i, n in enumerate(self.nodes)
                              if any(o in dyn for o in n.output) and i not in tail]
        produced_in_dyn = {o for i in self.dynamic_nodes for o in self.nodes[i].output}
        self.readout = sorted({v for i in self.tail_nodes for v in self.nodes[i].input if v in produced_in_dyn})
        if self.output in produced_in_dyn:
            self.readout.append(self.output)
        self.neuron_sizes = {}

    # ---- operators -------------------------------------------------------

    def _op(self, node, args, kinds, steps, batch, state):
        """args: tensors; kinds: 'c' const, 's' static [N,..], 'd' dynamic [steps*N,..]."""
        op = node.op_type
        a = _attrs(node)
        if op in ("Identity", "Dropout"):
            return args[0]
        if op == "Relu":
            return torch.relu(args[0])
        if op == "Conv":
            x, w = args[0], args[1]
            b = args[2] if len(args) > 2 else None
            pads = list(a.get("pads", [0, 0, 0, 0]))
            if pads[0] == pads[2] and pads[1] == pads[3]:
                padding = (pads[0], pads[1])
            else:
                x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
                padding = 0
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise NotImplementedError("Conv auto_pad")
            return F.conv2d(x, w, b, stride=tuple(a.get("strides", [1, 1])), padding=padding,
                            dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1))
        if op == "Gemm":
            x, w = args[0], args[1]
            c = args[2] if len(args) > 2 else None
            if a.get("transA", 0):
                raise NotImplementedError("Gemm transA")
            alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
            y = F.linear(x, w) if a.get("transB", 0) else x @ w
            if alpha != 1.0:
                y = y * alpha
            if c is not None:
                y = y + (c * beta if beta != 1.0 else c)
            return y
        if op == "MatMul":
            return torch.matmul(args[0], args[1])
        if op in ("Add", "Sub", "Mul", "Div"):
            fn = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div}[op]
            x, y = args
            if "d" in kinds and "s" in kinds:  # broadcast the static [N, ...] value over time
                if kinds[0] == "s":
                    x = x.unsqueeze(0).expand(steps, *x.shape).reshape(steps * batch, *x.shape[1:])
                else:
                    y = y.unsqueeze(0).expand(steps, *y.shape).reshape(steps * batch, *y.shape[1:])
            return fn(x, y)
        if op == "MaxPool":
            kernel = tuple(a["kernel_shape"])
            stride = tuple(a.get("strides", kernel))
            pads = list(a.get("pads", [0, 0, 0, 0]))
            if pads[0] != pads[2] or pads[1] != pads[3] or a.get("dilations", [1, 1]) != [1, 1]:
                raise NotImplementedError("MaxPool with asymmetric pads or dilation")

            def pool(t):
                return F.max_pool2d(t, kernel, stride, (pads[0], pads[1]), ceil_mode=bool(a.get("ceil_mode", 0)))

            if kinds[0] != "d":
                return pool(args[0])
            # running-sum max pooling: pool C(t) = sum of the currents, emit P(t) - P(t-1)
            x = args[0].view(steps, batch, *args[0].shape[1:])
            cum = torch.cumsum(x, dim=0)
            if state.get("C") is not None:
                cum += state["C"]
            pooled = pool(cum.view(steps * batch, *x.shape[2:]))
            p = pooled.view(steps, batch, *pooled.shape[1:])
            prev = state.get("P")
            out = torch.empty_like(p)
            out[0] = p[0] - prev if prev is not None else p[0]
            out[1:] = p[1:] - p[:-1]
            state["C"], state["P"] = cum[-1].clone(), p[-1].clone()
            return out.view(steps * batch, *p.shape[2:])
        if op == "AveragePool":
            kernel = tuple(a["kernel_shape"])
            pads = list(a.get("pads", [0, 0, 0, 0]))
            return F.avg_pool2d(args[0], kernel, tuple(a.get("strides", kernel)), (pads[0], pads[1]),
                                ceil_mode=bool(a.get("ceil_mode", 0)), count_include_pad=bool(a.get("count_include_pad", 0)))
        if op == "GlobalAveragePool":
            return args[0].mean(dim=tuple(range(2, args[0].dim())), keepdim=True)
        if op == "Flatten":
            axis = a.get("axis", 1)
            if axis != 1:
                raise NotImplementedError("Flatten axis != 1")
            return args[0].flatten(1)
        if op == "Reshape":
            shape = [int(s) for s in args[1].tolist()]
            if shape[0] not in (0, -1, batch):
                raise NotImplementedError(f"Reshape to {shape}")
            return args[0].reshape(args[0].shape[0], *shape[1:])
        if op == "Concat":
            axis = a["axis"]
            if axis == 0:
                raise NotImplementedError("Concat on the batch axis")
            if "d" in kinds and "s" in kinds:
                args = [t.unsqueeze(0).expand(steps, *t.shape).reshape(steps * batch, *t.shape[1:]) if k == "s" else t
                        for t, k in zip(args, kinds)]
            return torch.cat(args, dim=axis)
        raise NotImplementedError(f"operator {node.domain}:{op}")

    # ---- simulation --------------------------------------------------------

    @torch.inference_mode()
    def run(self, x: torch.Tensor, steps: int, chunk: int = 16, count_spikes: bool = False) -> dict:
        """Simulate `steps` steps on the analog input x [N, ...]; returns the
        readout (time average of the output) and, with count_spikes, the
        spikes per neuron per step."""
        batch = x.shape[0]
        env = dict(self.consts)
        kind = {k: "c" for k in self.consts}
        env[self.input], kind[self.input] = x, "s"
        for i in self.static_nodes:
            n = self.nodes[i]
            args = [env[v] for v in n.input if v]
            env[n.output[0]] = self._op(n, args, [kind[v] for v in n.input if v], 1, batch, {})
            kind[n.output[0]] = "c" if all(kind[v] == "c" for v in n.input if v) else "s"
        states = {i: {} for i in self.dynamic_nodes}
        sums = {r: None for r in self.readout}
        done = 0
        while done < steps:
            tc = min(chunk, steps - done)
            for i in self.dynamic_nodes:
                n = self.nodes[i]
                ins = [v for v in n.input if v]
                if i in self.neurons:
                    neuron = self.neurons[i]
                    src = env[ins[0]]
                    static = kind[ins[0]] != "d"
                    if done == 0:
                        neuron.reset(tuple(src.shape[1:]), batch)
                        self.neuron_sizes[i] = src[0].numel() if static else src.shape[1:].numel()
                    out = neuron(src, tc, static, count_spikes)
                else:
                    out = self._op(n, [env[v] for v in ins], [kind[v] for v in ins], tc, batch, states[i])
                env[n.output[0]], kind[n.output[0]] = out, "d"
            for r in self.readout:
                s = env[r].view(tc, batch, *env[r].shape[1:]).sum(0)
                sums[r] = s if sums[r] is None else sums[r] + s
            done += tc
        for r in self.readout:
            env[r], kind[r] = sums[r] / steps, "s"
        for i in self.tail_nodes:
            n = self.nodes[i]
            ins = [v for v in n.input if v]
            env[n.output[0]] = self._op(n, [env[v] for v in ins], [kind[v] for v in ins], 1, batch, {})
            kind[n.output[0]] = "s"
        result = {"output": env[self.output]}
        if count_spikes:
            neurons = sum(self.neuron_sizes.values()) * batch
            spikes = sum(nr.spikes for nr in self.neurons.values())
            result["spikes_per_neuron_per_step"] = spikes / max(neurons * steps, 1)
        return result


# --------------------------------------------------------------------------
# Harness
# --------------------------------------------------------------------------


def snnkit_json(cmd: list[str]) -> dict:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> exit {res.returncode}: {res.stderr[-1500:]}")
    return json.loads(res.stdout)


def test_images(workdir: str, count: int) -> str:
    path = os.path.join(workdir, f"cifar10_test_first{count}.npy")
    if not os.path.exists(path):
        raw = np.load(os.path.join(CIFAR_DIR, "test_images.npy"), mmap_mode="r")[:count]
        x = (raw.astype(np.float32) / 255.0 - CIFAR_MEAN) / CIFAR_STD
        np.save(path, np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return path


def time_peer(sim: TorchSNN, x: torch.Tensor, steps: int, chunk: int, iterations: int | None,
              target: float) -> dict:
    """One short warm-up run (min(T, 2 chunks) steps), then the median of
    `iterations` runs (auto: 1 to 3 within `target` seconds). Spikes are
    counted in every run, as SNNKit's simulator does."""
    sim.run(x, min(steps, 2 * chunk), chunk, count_spikes=True)
    times, rates = [], []
    while True:
        t0 = time.perf_counter()
        r = sim.run(x, steps, chunk, count_spikes=True)
        times.append(time.perf_counter() - t0)
        rates.append(r["spikes_per_neuron_per_step"])
        want = iterations or max(1, min(3, int(target / times[0])))
        if len(times) >= want:
            break
    med = statistics.median(times)
    return dict(seconds=med, runs=len(times), image_steps_per_second=x.shape[0] * steps / med,
                spikes_per_neuron_per_step=rates[0])


def time_peer_fresh(args, snn_path: str, peer: str, noise_path: str, steps: int) -> dict:
    """`time_peer` in a new Python process (`--fresh-processes`): torch's speed differs from
    process to process, so rounds in one process repeat one draw."""
    cmd = [sys.executable, os.path.abspath(__file__), "--time-one", peer, "--time-model", snn_path, "--time-input", noise_path,
           "-T", str(steps), "--chunk", str(args.chunk), "--threads", str(args.threads), "--target-seconds", str(args.target_seconds)]
    if args.iterations:
        cmd += ["--iterations", str(args.iterations)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> exit {res.returncode}: {res.stderr[-1500:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> int:
    default_snnkit = os.path.join(HERE, "..", ".build", "release", "snnkit")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snnkit", default=default_snnkit, help="snnkit binary")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--models", default="vgg11,resnet20")
    p.add_argument("-T", "--time-steps", default="32,256", help="comma list of T to time")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--chunk", type=int, default=16, help="steps per layer chunk (torch peers; snnkit uses its default 16)")
    p.add_argument("--peers", default="torch,sj", help="torch and/or sj (SpikingJelly ActivationAwareIFNode)")
    p.add_argument("--weights", default="auto", help="auto (trained $SNNKIT_MODELS/<model>.pt if present), random, or a path")
    p.add_argument("--calib-batches", type=int, default=100, help="LTB batches of 100 images for the conversion")
    p.add_argument("--agree-images", type=int, default=100, help="test images for the agreement check (0: skip)")
    p.add_argument("--agree-T", type=int, default=64)
    p.add_argument("--iterations", type=int, default=None, help="timed runs per configuration and round (default: auto, 1-3)")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds of every peer and SNNKit per configuration; "
                   "each column reports its median round")
    p.add_argument("--fresh-processes", action="store_true", help="time each round of a peer in a new Python process "
                   "(default: in this one, after the agreement and firing-rate runs have warmed it up)")
    p.add_argument("--time-one", help=argparse.SUPPRESS)
    p.add_argument("--time-model", help=argparse.SUPPRESS)
    p.add_argument("--time-input", help=argparse.SUPPRESS)
    p.add_argument("--target-seconds", type=float, default=4.0, help="time budget per configuration for --iterations auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default=None, help="keep exported/converted models here (default: a temp dir)")
    p.add_argument("--weight-bits", type=int, default=None,
                   help="also time the integer form (snnkit convert SNN --weight-bits B) with snnkit bench snn, same rounds")
    p.add_argument("--json", help="write the results to this file")
    args = p.parse_args()
    if args.time_one:
        # One round of one peer for `time_peer_fresh`: its result as the last line of stdout.
        torch.set_num_threads(args.threads)
        x = torch.from_numpy(np.load(args.time_input))
        steps = int(args.time_steps.split(",")[0])
        r = time_peer(TorchSNN(args.time_model, neuron=args.time_one), x, steps, args.chunk, args.iterations, args.target_seconds)
        print(json.dumps(r))
        return 0

    torch.set_num_threads(args.threads)
    workdir = args.workdir or tempfile.mkdtemp(prefix="snn_peers_")
    os.makedirs(workdir, exist_ok=True)
    steps_list = [int(t) for t in args.time_steps.split(",") if t.strip()]
    peers = [s.strip() for s in args.peers.split(",") if s.strip()]
    load = os.getloadavg()[0]
    print(f"threads {args.threads} (torch.set_num_threads and snnkit --threads), batch {args.batch}, "
          f"load average {load:.2f}; input for timing: standard-normal noise [B, 3, 32, 32], seed {args.seed}")
    if load > 1.2:
        print(f"warning: load average {load:.2f} > 1.2, the machine is busy and every column is skewed")

    calib = calibration_file(workdir, args.calib_batches * 100)
    rows, checks, rate_checks = [], [], []
    for name in [MODEL_ALIASES.get(m.strip(), m.strip()) for m in args.models.split(",") if m.strip()]:
        model, weights = build_model(name, args.weights, args.seed)
        onnx_path = os.path.join(workdir, f"{name}.onnx")
        snn_path = os.path.join(workdir, f"{name}.snn.onnx")
        snn_models.export_onnx(model, onnx_path, (1, 3, 32, 32))
        conv = snnkit_json([args.snnkit, "convert", onnx_path, "--calib", calib, "--preset", "none", "--batch-size", "100",
                            "--calib-batches", str(args.calib_batches), "--method", "ltb", "-o", snn_path,
                            "--threads", str(args.threads), "--json", "--quiet"])
        delay = conv["conversion"]["delay"]["steps"]
        print(f"\n{name}: {weights}; converted with {args.calib_batches} LTB batches, delay {delay}")
        int_path = None
        if args.weight_bits:
            int_path = os.path.join(workdir, f"{name}.w{args.weight_bits}.snn.onnx")
            snnkit_json([args.snnkit, "convert", snn_path, "--weight-bits", str(args.weight_bits), "-o", int_path, "--json", "--quiet"])
        sims = {peer: TorchSNN(snn_path, neuron=peer) for peer in peers}

        if args.agree_images > 0:
            xs_path = test_images(workdir, args.agree_images)
            xs = torch.from_numpy(np.load(xs_path))
            preds = {}
            for peer, sim in sims.items():
                outs = [sim.run(xs[i:i + 100], args.agree_T, args.chunk)["output"] for i in range(0, len(xs), 100)]
                preds[peer] = torch.cat(outs).argmax(1).numpy()
            ref = preds["torch"] if "torch" in preds else next(iter(preds.values()))
            labels_path = os.path.join(workdir, f"{name}.torch_pred.npy")
            np.save(labels_path, ref.astype(np.int64))
            sim_json = snnkit_json([args.snnkit, "simulate", snn_path, "--data", xs_path, "--labels", labels_path,
                                    "-T", str(args.agree_T), "--checkpoints", str(args.agree_T), "--delay", "none",
                                    "--batch-size", "100", "--threads", str(args.threads), "--json", "--quiet"])
            point = [s for s in sim_json["evaluation"]["snn"] if s["steps"] == args.agree_T][0]
            agree = point["score"]["values"]["top1"]
            check = dict(model=name, images=len(xs), T=args.agree_T, snnkit_vs_torch=agree)
            if "sj" in preds and "torch" in preds:
                check["sj_vs_torch"] = float((preds["sj"] == preds["torch"]).mean())
            labels = np.load(os.path.join(CIFAR_DIR, "test_labels.npy"))[:len(xs)]
            check["torch_top1"] = float((ref == labels).mean())
            check["classes_predicted"] = int(len(np.unique(ref)))
            checks.append(check)
            extra = f", SpikingJelly peer vs torch peer {check['sj_vs_torch']:.2%}" if "sj_vs_torch" in check else ""
            print(f"  agreement at T={args.agree_T} on {len(xs)} test images (argmax of the readout averaged from t=1): "
                  f"SNNKit vs torch peer {agree:.2%}{extra}; torch peer top-1 vs labels {check['torch_top1']:.2%}"
                  f", {check['classes_predicted']} distinct classes predicted{'' if agree >= 0.99 else '  (!) below 99%'}")

        gen = torch.Generator().manual_seed(args.seed)
        x = torch.randn(args.batch, 3, 32, 32, generator=gen)
        # snnkit bench draws its own noise (same distribution, other samples); for an exact
        # check of the spike counts, simulate the torch noise batch in SNNKit too.
        rate_T = min(steps_list)
        noise_path = os.path.join(workdir, f"noise_b{args.batch}_seed{args.seed}.npy")
        np.save(noise_path, x.numpy())
        np.save(noise_path[:-4] + "_labels.npy", np.zeros(args.batch, np.int64))
        try:
            sim_noise = snnkit_json([args.snnkit, "simulate", snn_path, "--data", noise_path, "--labels", noise_path[:-4] + "_labels.npy",
                                     "-T", str(rate_T), "--checkpoints", str(rate_T), "--delay", "none", "--batch-size", str(args.batch),
                                     "--threads", str(args.threads), "--json", "--quiet"])
            layers = sim_noise["evaluation"]["layers"]
            sk_rate = sum(l["firing_rate"] * l["neurons"] for l in layers) / sum(l["neurons"] for l in layers)
            peer_rates = {peer: sim.run(x, rate_T, args.chunk, count_spikes=True)["spikes_per_neuron_per_step"] for peer, sim in sims.items()}
            rate_check = dict(model=name, T=rate_T, snnkit=sk_rate, **peer_rates)
            rate_checks.append(rate_check)
            print(f"  firing rate on the same noise batch, T={rate_T}: SNNKit (simulate) {sk_rate:.6f}, "
                  + ", ".join(f"{peer} peer {r:.6f} (rel. diff {abs(r - sk_rate) / sk_rate:.1e})" for peer, r in peer_rates.items()))
        except Exception as e:  # noqa: BLE001
            print(f"  firing-rate check failed: {e}")
        for steps in steps_list:
            row = dict(model=name, T=steps, batch=args.batch, threads=args.threads)
            # Rounds alternate the peers and SNNKit, so a machine whose speed drifts (a shared
            # host) slows every column alike; each column reports its median round.
            rounds = {peer: [] for peer in sims}
            rounds["snnkit"] = []
            if int_path:
                rounds["snnkit_int"] = []
            run_seconds = None  # SNNKit's mean seconds per run in the previous round
            for _ in range(args.rounds):
                for peer, sim in sims.items():
                    rounds[peer].append(time_peer_fresh(args, snn_path, peer, noise_path, steps) if args.fresh_processes
                                        else time_peer(sim, x, steps, args.chunk, args.iterations, args.target_seconds))
                it = args.iterations or (max(3, min(200, math.ceil(args.target_seconds / run_seconds))) if run_seconds
                                         else (10 if steps < 128 else 3))
                try:
                    r = snnkit_json([args.snnkit, "bench", "snn", snn_path, "--batch", str(args.batch), "-T", str(steps),
                                     "--threads", str(args.threads), "--iterations", str(it), "--json", "--quiet"])
                    run_seconds = r["mean_seconds"]
                    rounds["snnkit"].append(dict(r, runs=it, image_steps_per_second=args.batch * steps / run_seconds))
                    if int_path:
                        r = snnkit_json([args.snnkit, "bench", "snn", int_path, "--batch", str(args.batch), "-T", str(steps),
                                         "--threads", str(args.threads), "--iterations", str(it), "--json", "--quiet"])
                        rounds["snnkit_int"].append(dict(r, runs=it, image_steps_per_second=args.batch * steps / r["mean_seconds"]))
                except Exception as e:  # noqa: BLE001
                    print(f"  snnkit bench failed: {e}")
            for column, results in rounds.items():
                if not results:
                    row[column] = None
                    continue
                ranked = sorted(results, key=lambda r: r["image_steps_per_second"])
                row[column] = dict(ranked[(len(ranked) - 1) // 2], rounds=[r["image_steps_per_second"] for r in results])
            row["load_average_after"] = os.getloadavg()[0]
            rows.append(row)
            sk_ips = row["snnkit"]["image_steps_per_second"] if row["snnkit"] else float("nan")
            def spread(column):
                values = row[column]["rounds"] if row[column] else []
                return f" [{min(values):.0f}-{max(values):.0f}]" if len(values) > 1 else ""
            parts = [f"  T={steps:<4}"]
            for peer in sims:
                parts.append(f"{peer} {row[peer]['image_steps_per_second']:.0f}{spread(peer)} img*steps/s "
                             f"(rate {row[peer]['spikes_per_neuron_per_step']:.4f})")
            parts.append(f"snnkit {sk_ips:.0f}{spread('snnkit')} img*steps/s")
            if row.get("snnkit_int"):
                parts.append(f"snnkit {args.weight_bits}-bit {row['snnkit_int']['image_steps_per_second']:.0f}{spread('snnkit_int')} img*steps/s")
            print(", ".join(parts), flush=True)

    print(f"\nSNN simulation throughput, images x steps per second, median of {args.rounds} alternating round"
          f"{'s' if args.rounds != 1 else ''} (input: standard-normal noise, "
          f"{args.threads} thread{'s' if args.threads != 1 else ''}; load average at start {load:.2f})")
    hdr = f"{'model':<9} {'T':>4} {'batch':>5} {'thr':>3}"
    for peer in peers:
        hdr += f" {peer + ' img*st/s':>15}"
    hdr += f" {'snnkit img*st/s':>15}"
    for peer in peers:
        hdr += f" {'SNNKit/' + peer:>12}"
    hdr += f" {'rate snnkit':>11} {'rate torch':>10} {'snnkit SOP/s':>12} {'of floor':>8} {'w/ dense':>8}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        sk = r["snnkit"] or {}
        line = f"{r['model']:<9} {r['T']:>4} {r['batch']:>5} {r['threads']:>3}"
        for peer in peers:
            line += f" {r[peer]['image_steps_per_second']:>15.0f}"
        line += f" {sk.get('image_steps_per_second', float('nan')):>15.0f}"
        for peer in peers:
            line += f" {sk.get('image_steps_per_second', float('nan')) / r[peer]['image_steps_per_second']:>11.2f}x"
        rate_t = r.get("torch", r[peers[0]])["spikes_per_neuron_per_step"]
        line += f" {sk.get('spikes_per_neuron_per_step', float('nan')):>11.4f} {rate_t:>10.4f} {sk.get('synaptic_ops_per_second', float('nan')):>12.3g}"
        # The arithmetic floor `bench snn` measures (its cores' add throughput / SOPs per image-step).
        floor = sk.get("floor_image_steps_per_second", 0)
        line += f" {sk.get('image_steps_per_second', float('nan')) / floor:>8.0%}" if floor else f" {'-':>8}"
        # ... and the floor that also counts the layers running dense at every step (depthwise
        # convolutions, convolutions fed by sums), where the network has any.
        dense_floor = sk.get("floor_with_dense_image_steps_per_second", 0) if sk.get("dense_multiply_adds_per_image_step") else 0
        line += f" {sk.get('image_steps_per_second', float('nan')) / dense_floor:>8.0%}" if dense_floor else f" {'-':>8}"
        print(line)
    if args.weight_bits:
        print(f"\nInteger form ({args.weight_bits}-bit weights, per-channel power-of-two scales, 24-bit state), same rounds:")
        print(f"{'model':<9} {'T':>4} {'float img*st/s':>15} {'int img*st/s':>13} {'int/float':>9}"
              + "".join(f" {'int/' + peer:>10}" for peer in peers) + f" {'int of floor':>12}")
        for r in rows:
            sk, si = r["snnkit"] or {}, r.get("snnkit_int") or {}
            f_ips, i_ips = sk.get("image_steps_per_second", float("nan")), si.get("image_steps_per_second", float("nan"))
            floor = si.get("floor_image_steps_per_second", 0)
            print(f"{r['model']:<9} {r['T']:>4} {f_ips:>15.0f} {i_ips:>13.0f} {i_ips / f_ips:>8.2f}x"
                  + "".join(f" {i_ips / r[peer]['image_steps_per_second']:>9.2f}x" for peer in peers)
                  + (f" {i_ips / floor:>12.0%}" if floor else f" {'-':>12}"))
    busy = [r for r in rows if r["load_average_after"] > args.threads + 0.8]
    if busy:
        print(f"warning: the 1-minute load average rose above {args.threads + 0.8:.1f} during "
              + ", ".join(f"{r['model']} T={r['T']} ({r['load_average_after']:.2f})" for r in busy)
              + ": another job was probably running; rerun those on an idle machine")
    for c in checks:
        print(f"agreement {c['model']}: SNNKit vs torch peer {c['snnkit_vs_torch']:.2%} of {c['images']} test images at T={c['T']}"
              + (f", SpikingJelly peer vs torch peer {c['sj_vs_torch']:.2%}" if "sj_vs_torch" in c else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(threads=args.threads, batch=args.batch, load_average=load, rows=rows, agreement=checks,
                           firing_rate_check=rate_checks,
                           torch=torch.__version__), f, indent=2)
    ok = all(c["snnkit_vs_torch"] >= 0.99 for c in checks)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
