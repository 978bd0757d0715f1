#!/usr/bin/env python3
"""Runs an NIR file written by `snnkit export` in NIR consumers and compares them with SNNKit.

Usage:
  compare_nir_consumers.py MODEL.nir --images X.npy --labels Y.npy [--count 100] [--steps 64]
                           [--snnkit-json SIM.json] [--out RESULT.json]

Every consumer gets the same preprocessed images as a constant input current at every
step (SNNKit's analog input) and its output is summed over the steps (the readout). Per
consumer: top-1 accuracy after T steps, agreement of its predicted class with the
reference's per image, and each IF layer's firing rate (spikes / neurons / steps / images).

  reference      this script's own plain simulation of the NIR graph with SNNKit's neuron
                 (v += I; spike where v > 1; v -= 1), v(0) = 0 as a consumer starts, for
                 checking it against `snnkit simulate --initial-potential 0 --json`
                 (--snnkit-json: accuracy and per-layer firing rates).
  snntorch       snntorch.import_nir.import_from_nir. Its IF import builds snn.Leaky with
                 beta = 0.9 (a leak) and init_hidden = False (the membrane does not persist
                 between calls, and the module returns (spike, membrane), which the next
                 layer cannot take), so the graph does not run as imported. Run here with
                 each of those modules wrapped so that snn.Leaky's membrane persists
                 (subtractive reset, threshold 1) and the two branches of a residual fan-in
                 are summed (nirtorch passes them as two arguments, so a plain Leaky would
                 take the second as its membrane), and its Flatten given NIR's start_dim
                 + 1 (snntorch counts the batch axis, NIR does not): with the importer's beta = 0.9
                 ("snntorch-beta0.9") and with beta = 1, a true IF ("snntorch-if"). Both keep
                 the importer's reset_delay = False, under which a neuron whose membrane is
                 still above threshold after a spike is reset again before the next compare,
                 so it needs v > 2 to fire on the following step (SNNKit fires at v > 1):
                 "snntorch-if-delayed" (reset_delay = True, the reset applied at the next
                 step) is SNNKit's neuron exactly.
  sinabs         sinabs.from_nir (IAFSqueeze: subtractive reset, MultiSpike = several spikes per
                 step when v >= 2, v >= threshold, membrane floor at -threshold). sinabs pins
                 nir <= 1.0.4, whose IF has no v_reset field: it runs in a subprocess with
                 that reader (--nir104 FOLDER, a `pip install --target FOLDER nir==1.0.4`),
                 the v_reset = 0 field dropped (1.0.4's IF resets to 0 by definition). sinabs
                 has no AvgPool2d: each is given to it as the equivalent Conv2d (weights
                 1 / window on the diagonal). Its graph executor (nirtorch's legacy one)
                 orders nodes depth-first and reads an input that has not run yet as absent,
                 so in a residual block the Add's reader runs before the shortcut branch and
                 the shortcut is lost: residual networks do not run correctly in sinabs.
                 "sinabs-single" also runs it with SingleSpike
                 and no membrane floor, which is SNNKit's neuron up to ">=" against ">".

Needs torch, nir 1.0.8, snntorch and sinabs (pip install snntorch sinabs; not part of CI).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np


def key(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name)


def order(graph):
    """Node names in an order where every node comes after its inputs."""
    incoming = {n: [a for a, b in graph.edges if b == n] for n in graph.nodes}
    done, result = set(), []
    pending = list(graph.nodes)
    while pending:
        progressed = False
        for n in list(pending):
            if all(a in done for a in incoming[n]):
                result.append(n)
                done.add(n)
                pending.remove(n)
                progressed = True
        if not progressed:
            raise ValueError("the graph has a cycle")
    return result, incoming


def run_reference(graph, images, steps, batch, reset="subtract"):
    import nir
    import torch
    import torch.nn.functional as F

    names, incoming = order(graph)
    outputs, spikes = [], {n: 0.0 for n, node in graph.nodes.items() if isinstance(node, nir.IF)}
    with torch.no_grad():
        for start in range(0, len(images), batch):
            x = torch.tensor(images[start:start + batch])
            v = {}
            total = None
            for _ in range(steps):
                values = {}
                for n in names:
                    node = graph.nodes[n]
                    inp = sum(values[a] for a in incoming[n]) if incoming[n] else None
                    if isinstance(node, nir.Input):
                        out = x
                    elif isinstance(node, nir.Conv2d):
                        out = F.conv2d(inp, torch.tensor(node.weight), torch.tensor(node.bias), tuple(int(s) for s in node.stride),
                                       tuple(int(p) for p in node.padding), tuple(int(d) for d in node.dilation), int(node.groups))
                    elif isinstance(node, nir.Affine):
                        out = F.linear(inp, torch.tensor(node.weight), torch.tensor(node.bias))
                    elif isinstance(node, nir.Linear):
                        out = F.linear(inp, torch.tensor(node.weight))
                    elif isinstance(node, nir.Flatten):
                        out = inp.flatten(1)
                    elif isinstance(node, nir.AvgPool2d):
                        out = F.avg_pool2d(inp, tuple(int(k) for k in node.kernel_size), tuple(int(s) for s in node.stride),
                                           tuple(int(p) for p in node.padding))
                    elif isinstance(node, nir.IF):
                        mem = v.get(n, torch.zeros_like(inp)) + inp
                        s = (mem > 1.0).float()
                        v[n] = mem * (1 - s) if reset == "zero" else mem - s
                        spikes[n] += float(s.sum())
                        out = s
                    elif isinstance(node, nir.Output):
                        out = inp
                        total = out if total is None else total + out
                    else:
                        raise ValueError(f"{n}: {type(node).__name__} is not handled")
                    values[n] = out
            outputs.append(total.numpy())
    return np.concatenate(outputs), spikes


def run_snntorch(graph, images, steps, batch, beta, reset_delay=False):
    import nir
    import snntorch as snn
    import torch
    from snntorch.import_nir import import_from_nir

    model = import_from_nir(graph)
    counts = {}
    leaky = [(n, m) for n, m in model.named_modules() if isinstance(m, snn.Leaky)]

    class Stateful(torch.nn.Module):
        """snn.Leaky whose membrane persists from call to call, returning the spikes."""
        def __init__(self, name):
            super().__init__()
            self.leaky = snn.Leaky(beta=beta, threshold=1.0, init_hidden=False, reset_mechanism="subtract", reset_delay=reset_delay)
            self.name, self.mem = name, None

        def forward(self, *inputs):
            # nirtorch passes the sources of a fan-in as separate arguments (its "TODO:
            # Multiple inputs should be added together"); NIR sums them.
            x = sum(inputs)
            spk, self.mem = self.leaky(x, torch.zeros_like(x) if self.mem is None else self.mem)
            counts[self.name] += float(spk.sum())
            return spk

    for name, _ in leaky:
        model.add_submodule(name, Stateful(name))
        counts[name] = 0.0
    # NIR's Flatten counts axes without the batch (nir's own shape inference and sinabs do);
    # snntorch's import passes start_dim on unchanged, which would flatten the batch too.
    for _, m in model.named_modules():
        if isinstance(m, torch.nn.Flatten) and m.start_dim >= 0:
            m.start_dim += 1
            m.end_dim = m.end_dim + 1 if m.end_dim >= 0 else m.end_dim
    model.recompile()
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch):
            x = torch.tensor(images[start:start + batch])
            for m in model.modules():
                if isinstance(m, Stateful):
                    m.mem = None
            total = None
            for _ in range(steps):
                out = model(x)
                out = out[0] if isinstance(out, tuple) else out
                total = out if total is None else total + out
            outputs.append(total.numpy())
    neurons = {n: node for n, node in graph.nodes.items() if isinstance(node, nir.IF)}
    spikes = {}
    for n in neurons:
        match = [c for m, c in counts.items() if key(m) == key(n)]
        spikes[n] = match[0] if match else float("nan")
    return np.concatenate(outputs), spikes


def sinabs_graph(graph):
    """The graph in nir 1.0.4's terms for sinabs: AvgPool2d as an equal Conv2d."""
    import nir
    nodes = dict(graph.nodes)
    shapes = {}
    for name, node in nodes.items():
        if isinstance(node, nir.AvgPool2d):
            source = [a for a, b in graph.edges if b == name][0]
            channels = int(np.asarray(graph.nodes[source].output_type["output"])[0])
            k = tuple(int(x) for x in node.kernel_size)
            w = np.zeros((channels, channels) + k, dtype=np.float32)
            for c in range(channels):
                w[c, c] = 1.0 / (k[0] * k[1])
            shapes[name] = nir.Conv2d(input_shape=None, weight=w, stride=tuple(int(s) for s in node.stride),
                                      padding=tuple(int(p) for p in node.padding), dilation=1, groups=1,
                                      bias=np.zeros(channels, dtype=np.float32))
    nodes.update(shapes)
    try:
        return nir.NIRGraph(nodes=nodes, edges=graph.edges, type_check=False)
    except TypeError:  # nir 1.0.4 has no type check to turn off
        return nir.NIRGraph(nodes=nodes, edges=graph.edges)


def run_sinabs_subprocess(args, variant):
    env = dict(os.environ)
    env["PYTHONPATH"] = args.nir104 + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, __file__, args.nir_file, "--images", args.images, "--labels", args.labels, "--count", str(args.count),
               "--steps", str(args.steps), "--batch", str(args.batch), "--sinabs-worker", variant]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return np.array(result["outputs"]), result["spikes"]


def sinabs_worker(args, images):
    """Inside the nir 1.0.4 subprocess: read the 1.0.8 file without v_reset, run sinabs."""
    import h5py
    import nir
    import sinabs
    import sinabs.layers as sl
    import torch
    from sinabs import from_nir
    from nir.serialization import hdf2dict

    with h5py.File(args.nir_file, "r") as f:
        data = hdf2dict(f["node"])
    for node in data["nodes"].values():
        node.pop("v_reset", None)
        node.pop("metadata", None)
    data.pop("metadata", None)
    graph = nir.dict2NIRNode(data)
    graph = sinabs_graph(graph)
    b = args.batch
    model = from_nir(graph, batch_size=b, num_timesteps=args.steps)
    counts = {}
    for name, module in model.named_modules():
        if isinstance(module, sl.IAFSqueeze):
            if args.sinabs_worker == "single":
                module.spike_fn = sinabs.activation.SingleSpike
                module.min_v_mem = None
            counts[name] = 0.0
            module.register_forward_hook(lambda m, a, out, name=name: counts.__setitem__(name, counts[name] + float(out.sum())))
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), b):
            x = torch.tensor(images[start:start + b])
            n = len(x)
            for m in model.modules():
                if hasattr(m, "reset_states"):
                    m.reset_states()
            if n != b:
                x = torch.cat([x, torch.zeros((b - n,) + x.shape[1:])])
            repeated = x.unsqueeze(1).expand(-1, args.steps, *x.shape[1:]).reshape(b * args.steps, *x.shape[1:])
            out = model(repeated)
            out = out[0] if isinstance(out, tuple) else out
            outputs.append(out.reshape(b, args.steps, -1).sum(1)[:n].numpy())
    spikes = {n: next((c for m, c in counts.items() if key(m).endswith(key(n))), float("nan"))
              for n, node in graph.nodes.items() if isinstance(node, nir.IF)}
    print(json.dumps({"outputs": np.concatenate(outputs).tolist(), "spikes": spikes}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("nir_file")
    parser.add_argument("--images", required=True)
    parser.add_argument("--labels", required=True)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--snnkit-json", help="snnkit simulate --json output under v(0) = 0, for the same images and T")
    parser.add_argument("--nir104", default=os.environ.get("NIR104", ""), help="folder holding nir 1.0.4 for sinabs")
    parser.add_argument("--consumers", default="reference,snntorch-if,snntorch-if-delayed,snntorch-beta0.9,sinabs,sinabs-single")
    parser.add_argument("--out", help="write the comparison as JSON")
    parser.add_argument("--sinabs-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    images = np.load(args.images, mmap_mode="r")[:args.count].astype(np.float32)
    labels = np.load(args.labels)[:args.count]
    if args.sinabs_worker:
        return sinabs_worker(args, images)
    import nir
    graph = nir.read(args.nir_file)
    neurons = {n: int(np.prod(node.v_threshold.shape)) for n, node in graph.nodes.items() if isinstance(node, nir.IF)}
    results = {}
    for consumer in args.consumers.split(","):
        try:
            if consumer == "reference":
                outputs, spikes = run_reference(graph, images, args.steps, args.batch)
            elif consumer in ("snntorch-if", "snntorch-if-delayed", "snntorch-beta0.9"):
                outputs, spikes = run_snntorch(graph, images, args.steps, args.batch, beta=0.9 if consumer == "snntorch-beta0.9" else 1.0,
                                               reset_delay=consumer == "snntorch-if-delayed")
            elif consumer in ("sinabs", "sinabs-single"):
                if not args.nir104:
                    raise RuntimeError("--nir104 (or NIR104) must name a folder with nir 1.0.4 for sinabs")
                outputs, spikes = run_sinabs_subprocess(args, "single" if consumer == "sinabs-single" else "multi")
            else:
                raise ValueError(f"unknown consumer {consumer}")
        except Exception as error:  # a consumer that fails is reported, not hidden
            results[consumer] = {"error": str(error).strip().splitlines()[-1][:300]}
            continue
        rates = {n: spikes[n] / (neurons[n] * args.steps * len(images)) for n in neurons}
        results[consumer] = {"top1": float((outputs.argmax(1) == labels).mean()), "predictions": outputs.argmax(1).tolist(),
                             "firing_rates": rates}
    reference = results.get("reference", {}).get("predictions")
    snnkit = None
    if args.snnkit_json:
        with open(args.snnkit_json) as f:
            evaluation = json.load(f)["evaluation"]
        at_t = [s for s in evaluation["snn"] if s["steps"] == args.steps][0]
        snnkit = {"top1": at_t["score"]["values"]["top1"],
                  "firing_rates": {key(layer["node"].lstrip("/")): layer["firing_rate"] for layer in evaluation["layers"]}}
    print(f"{args.nir_file}: {len(images)} images, T = {args.steps}")
    if snnkit:
        print(f"  snnkit simulate (v(0) = 0, subtract): top-1 {snnkit['top1']:.4f}")
    print(f"  {'consumer':<18} {'top-1':>7} {'agree':>7} {'max |rate diff|':>16} {'mean |rate diff|':>17}  (rates against snnkit, else the reference)")
    for consumer, r in results.items():
        if "error" in r:
            print(f"  {consumer:<18} failed: {r['error']}")
            continue
        agree = np.mean(np.array(r["predictions"]) == np.array(reference)) if reference else float("nan")
        base = snnkit["firing_rates"] if snnkit else results.get("reference", {}).get("firing_rates", {})
        diffs = [abs(r["firing_rates"][n] - base[key(n)] if key(n) in base else r["firing_rates"][n] - base.get(n, float("nan")))
                 for n in neurons]
        r["agreement_with_reference"] = float(agree)
        r["max_rate_difference"] = float(np.nanmax(diffs)) if diffs else float("nan")
        r["mean_rate_difference"] = float(np.nanmean(diffs)) if diffs else float("nan")
        print(f"  {consumer:<18} {r['top1']:>7.4f} {agree:>7.4f} {r['max_rate_difference']:>16.5f} {r['mean_rate_difference']:>17.5f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"file": args.nir_file, "images": len(images), "steps": args.steps, "snnkit": snnkit, "consumers": results}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
