#!/usr/bin/env python3
"""Checks an NIR file written by `snnkit export` with the reference reader (`nir.read`).

Usage: check_nir.py MODEL.nir [--onnx MODEL.snn.onnx]

Without --onnx: the file loads (with nir's type check), every IF node has r = 1,
v_threshold = 1 and v_reset = 0, every edge joins existing nodes, SNNKit's neuron
semantics are in the metadata, and nir.write, given the loaded graph, writes the same
groups and datasets (dtypes, shapes, compression).

With --onnx (the converted model the file came from): every IF node of the ONNX model
is in the file with its layer shape and thresholds, and every Conv2d / Affine / Linear
weight equals the ONNX weight with the thresholds folded in, recomputed here from the
ONNX thresholds: W_nir[o, i] = W_onnx[o, i] * theta_in[i] / theta_out[o], where theta_in
is the threshold of the IF layer feeding input i (1 for the image) and theta_out the
threshold of the IF layer the node feeds (1 for the readout).

Exit status 0 when every check passes; 1 with the failures listed otherwise.
Needs: pip install nir h5py numpy (and onnx for --onnx).
"""
import argparse
import re
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("nir_file")
    parser.add_argument("--onnx", help="the converted .snn.onnx the file was exported from")
    args = parser.parse_args()
    import nir

    failures = []
    graph = nir.read(args.nir_file)
    names = set(graph.nodes)
    for a, b in graph.edges:
        if a not in names or b not in names:
            failures.append(f"edge ({a}, {b}) joins a node that does not exist")
    neurons = {k: n for k, n in graph.nodes.items() if isinstance(n, nir.IF)}
    if not neurons:
        failures.append("no IF node")
    for name, node in neurons.items():
        for field, want in (("r", 1.0), ("v_threshold", 1.0), ("v_reset", 0.0)):
            values = np.asarray(getattr(node, field))
            if not np.all(values == want):
                failures.append(f"IF {name}: {field} is not {want} everywhere")
        if node.metadata.get("snnkit.reset") != "subtract":
            failures.append(f"IF {name}: metadata snnkit.reset missing")
    for key in ("snnkit.reset", "snnkit.initial_potential", "snnkit.thresholds"):
        if key not in graph.metadata:
            failures.append(f"graph metadata {key} missing")
    failures += compare_with_rewrite(args.nir_file, graph)
    if args.onnx:
        failures += compare_with_onnx(graph, args.onnx)
    print(f"{args.nir_file}: nir.read OK, {len(graph.nodes)} nodes, {len(neurons)} IF layers, {len(graph.edges)} edges")
    for f in failures:
        print("FAIL " + f)
    if not failures:
        print("all checks passed")
    return 1 if failures else 0


def compare_with_rewrite(path, graph):
    """The file holds the same groups and datasets (dtype, shape, compression) as nir.write
    writes for the graph it loads as."""
    import os
    import tempfile

    import h5py
    import nir

    def layout(file):
        items = {}
        with h5py.File(file, "r") as f:
            f.visititems(lambda name, o: items.__setitem__(name, (str(o.dtype), o.shape, o.compression)
                                                             if isinstance(o, h5py.Dataset) else "group"))
        return items

    with tempfile.TemporaryDirectory() as folder:
        again = os.path.join(folder, "rewritten.nir")
        nir.write(again, graph)
        ours, theirs = layout(path), layout(again)
    return [f"{name}: {ours.get(name)} here, {theirs.get(name)} from nir.write"
            for name in sorted(set(ours) | set(theirs)) if ours.get(name) != theirs.get(name)]


def compare_with_onnx(graph, onnx_path):
    import nir
    import onnx
    from onnx import numpy_helper

    model = onnx.load(onnx_path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    failures = []
    key = lambda s: re.sub(r"[^A-Za-z0-9]", "_", s.lstrip("/"))
    theta = {}
    for node in model.graph.node:
        if node.op_type == "IFNeuron":
            theta[key(node.name)] = inits[node.input[1]].astype(np.float64).reshape(-1)
            if key(node.name) not in graph.nodes or not isinstance(graph.nodes[key(node.name)], nir.IF):
                failures.append(f"IF layer {node.name} of the ONNX model is not an IF node of the file")
    incoming = {}
    outgoing = {}
    for a, b in graph.edges:
        incoming.setdefault(b, []).append(a)
        outgoing.setdefault(a, []).append(b)

    def input_scale(name):
        """Threshold per input feature of a node: through pools and flattens back to an IF."""
        sources = incoming.get(name, [])
        if not sources:
            return None
        scales = []
        for s in sources:
            node = graph.nodes[s]
            if isinstance(node, nir.IF):
                scales.append(theta.get(s))
            elif isinstance(node, nir.Input):
                scales.append(np.ones(1))
            elif isinstance(node, (nir.AvgPool2d, nir.SumPool2d)):
                scales.append(input_scale(s))
            elif isinstance(node, nir.Flatten):
                inner = int(np.prod(node.input_type["input"][1:]))
                scale = input_scale(s)
                scales.append(None if scale is None else np.repeat(scale, inner) if scale.size > 1 else scale)
            else:
                return None  # a rescale or linear node: its output is at the reader's scale
        first = scales[0]
        return first if all(s is not None and np.array_equal(s, first) for s in scales) else None

    def output_scale(name):
        readers = outgoing.get(name, [])
        scales = [theta.get(r) if isinstance(graph.nodes[r], nir.IF) else np.ones(1) if isinstance(graph.nodes[r], nir.Output) else None
                  for r in readers]
        return scales[0] if scales and all(s is not None and np.array_equal(s, scales[0]) for s in scales) else None

    checked = 0
    for node in model.graph.node:
        name = key(node.name)
        if node.op_type not in ("Conv", "Gemm", "MatMul") or name not in graph.nodes:
            continue
        w = inits[node.input[1]].astype(np.float64)
        if node.op_type == "Gemm":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            w = (w if attrs.get("transB", 0) else w.T) * attrs.get("alpha", 1.0)
        elif node.op_type == "MatMul":
            w = w.T
        s_in, s_out = input_scale(name), output_scale(name)
        if s_in is None or s_out is None:
            continue
        shape = [-1, 1] + [1] * (w.ndim - 2)
        groups = getattr(graph.nodes[name], "groups", 1)
        cin = w.shape[1]
        s_in_full = np.ones(cin * groups) * s_in if s_in.size == 1 else s_in
        per_group = w.shape[0] // groups
        s_in_rows = np.stack([s_in_full[(o // per_group) * cin:(o // per_group + 1) * cin] for o in range(w.shape[0])])
        expected = w * s_in_rows.reshape(w.shape[:2] + (1,) * (w.ndim - 2)) / s_out.reshape(shape)
        got = np.asarray(graph.nodes[name].weight, dtype=np.float64)
        if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-5, atol=1e-7):
            failures.append(f"{node.name}: weights differ from the ONNX weights with thresholds folded in")
        checked += 1
    if checked == 0:
        failures.append("no weight could be compared with the ONNX model")
    print(f"compared {checked} weight tensors and {len(theta)} IF layers with {onnx_path}")
    return failures


if __name__ == "__main__":
    sys.exit(main())
