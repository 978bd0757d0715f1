#!/usr/bin/env python3
"""Export torchvision (and SNNKit's CIFAR) models to ONNX test fixtures and,
optionally, check them with `snnkit verify`.

For every model this writes

    DIR/<name>/model.onnx     batch-1 export (dynamic batch axis)
    DIR/<name>/input_0.pb     fixed random input (onnx TensorProto)
    DIR/<name>/output_0.pb    onnxruntime's output(s), output_1.pb, ...
    DIR/<name>/info.json      ops, parameter count, torch-vs-ORT difference

The tensors carry the model's real graph input/output names. Models use
random weights (no downloads) from a fixed seed; BatchNorm layers get random
affine parameters and running statistics calibrated on random data, so BN is
not the identity (see snn_models.randomize_batchnorm_).

With --snnkit PATH it then runs

    PATH verify DIR/<name>/model.onnx --data DIR/<name> --json

for each model and expects one JSON object with at least `max_rel_error`
and `passed`.

Usage:
    python Scripts/check_torchvision.py --out DIR
    python Scripts/check_torchvision.py --out DIR --models resnet18,cifar_resnet20
    python Scripts/check_torchvision.py --out DIR --snnkit .build/release/snnkit
    python Scripts/check_torchvision.py --out DIR --skip-export --snnkit ...
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import traceback
import zlib
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TORCHVISION_MODELS = [
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg11",
    "vgg11_bn",
    "vgg16",
    "vgg16_bn",
    "mobilenet_v2",
    "densenet121",
    "alexnet",
    "squeezenet1_0",
    "fcn_resnet50",
    "deeplabv3_resnet50",
]
CIFAR = ["cifar_resnet20", "cifar_vgg11", "cifar_mobilenetv2"]
ALL_MODELS = TORCHVISION_MODELS + CIFAR
SEGMENTATION = {"fcn_resnet50", "deeplabv3_resnet50"}


def model_seed(name: str, base: int) -> int:
    """Per-model seed that does not depend on which models are selected."""
    return (base + zlib.crc32(name.encode())) % (2**31)


def input_size(name: str) -> int:
    return 32 if name in CIFAR else 224


def build_model(name: str, seed: int):
    import torch
    import torchvision
    import snn_models

    torch.manual_seed(seed)
    if name in snn_models.CIFAR_MODELS:
        model = snn_models.CIFAR_MODELS[name]()
    elif name in SEGMENTATION:
        ctor = getattr(torchvision.models.segmentation, name)
        model = ctor(weights=None, weights_backbone=None, aux_loss=False)
    else:
        model = getattr(torchvision.models, name)(weights=None)
    size = input_size(name)
    snn_models.randomize_batchnorm_(model, (4, 3, size, size), seed=seed)
    return model.eval()


def to_numpy_outputs(out) -> list:
    if isinstance(out, dict):
        return [v.detach().cpu().numpy() for v in out.values()]
    if isinstance(out, (tuple, list)):
        return [v.detach().cpu().numpy() for v in out]
    return [out.detach().cpu().numpy()]


def export_one(name: str, out_dir: str, seed: int, opset: int, dynamic_batch: bool) -> dict:
    import onnx
    import onnxruntime as ort
    import torch
    from onnx import numpy_helper

    import snn_models

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    for f in os.listdir(d):  # stale tensors from an earlier run
        if f.endswith(".pb"):
            os.remove(os.path.join(d, f))

    s = model_seed(name, seed)
    size = input_size(name)
    shape = (1, 3, size, size)
    t0 = time.perf_counter()
    model = build_model(name, s)
    params = sum(p.numel() for p in model.parameters())
    macs = snn_models.count_macs(model, shape)["total"]

    x = np.random.default_rng(s).standard_normal(shape).astype(np.float32)
    with torch.inference_mode():
        torch_out = to_numpy_outputs(model(torch.from_numpy(x)))

    snn_models.export_onnx(model, path, shape, opset=opset, dynamic_batch=dynamic_batch)
    export_s = time.perf_counter() - t0
    del model
    gc.collect()

    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    ops = Counter(n.op_type for n in proto.graph.node)
    init_names = {t.name for t in proto.graph.initializer}
    graph_inputs = [i.name for i in proto.graph.input if i.name not in init_names]
    graph_outputs = [o.name for o in proto.graph.output]
    onnx_params = int(sum(np.prod(t.dims, dtype=np.int64) for t in proto.graph.initializer))
    del proto

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    if len(graph_inputs) != 1:
        raise RuntimeError(f"expected one graph input, got {graph_inputs}")
    ort_out = sess.run(graph_outputs, {graph_inputs[0]: x})
    del sess

    with open(os.path.join(d, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, name=graph_inputs[0]).SerializeToString())
    for i, (oname, arr) in enumerate(zip(graph_outputs, ort_out)):
        with open(os.path.join(d, f"output_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name=oname).SerializeToString())

    if len(torch_out) != len(ort_out):
        raise RuntimeError(f"torch gave {len(torch_out)} outputs, ORT {len(ort_out)}")
    abs_diff, rel_diff = 0.0, 0.0
    for t, o in zip(torch_out, ort_out):
        if t.shape != o.shape:
            raise RuntimeError(f"shape mismatch torch {t.shape} vs ORT {o.shape}")
        diff = float(np.max(np.abs(t.astype(np.float64) - o)))
        scale = float(np.max(np.abs(t))) or 1.0
        abs_diff = max(abs_diff, diff)
        rel_diff = max(rel_diff, diff / scale)

    info = {
        "model": name,
        "status": "ok",
        "input_shape": list(shape),
        "inputs": graph_inputs,
        "outputs": graph_outputs,
        "output_shapes": [list(o.shape) for o in ort_out],
        "output_max_abs": max(float(np.max(np.abs(o))) for o in ort_out),
        "ops": dict(sorted(ops.items())),
        "nodes": int(sum(ops.values())),
        "params": int(params),
        "onnx_initializer_elements": onnx_params,
        "macs_per_image": int(macs),
        "ort_vs_torch_max_abs": abs_diff,
        "ort_vs_torch_max_rel": rel_diff,
        "opset": opset,
        "seed": s,
        "model_bytes": os.path.getsize(path),
        "export_seconds": round(export_s, 2),
    }
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=2)
    return info


def parse_json_object(text: str):
    """The last top-level JSON object in `text` (tolerates log lines)."""
    text = text.strip()
    try:
        obj = json.loads(text)
        if isinstance(obj, dict):
            return obj
    except ValueError:
        pass
    dec = json.JSONDecoder()
    found = None
    i = text.find("{")
    while i != -1:
        try:
            obj, end = dec.raw_decode(text, i)
            if isinstance(obj, dict):
                found = obj
            i = text.find("{", end)
        except ValueError:
            i = text.find("{", i + 1)
    return found


def run_verify(snnkit: str, out_dir: str, name: str, timeout: float) -> dict:
    d = os.path.join(out_dir, name)
    cmd = [snnkit, "verify", os.path.join(d, "model.onnx"), "--data", d, "--json"]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as e:
        return {"passed": False, "error": f"cannot run {snnkit}: {e}"}
    except PermissionError as e:
        return {"passed": False, "error": f"cannot run {snnkit}: {e}"}
    except subprocess.TimeoutExpired:
        return {"passed": False, "error": f"timed out after {timeout:.0f} s"}
    secs = time.perf_counter() - t0
    obj = parse_json_object(p.stdout)
    if obj is None:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        return {"passed": False, "error": f"exit {p.returncode}, no JSON: " + " | ".join(tail)}
    obj.setdefault("passed", False)
    if p.returncode != 0:
        obj["exit_code"] = p.returncode
        if obj.get("passed"):
            obj["passed"] = False
            obj.setdefault("error", f"exit {p.returncode}")
    obj["seconds"] = round(secs, 2)
    return obj


def fmt_count(n) -> str:
    if n is None:
        return "-"
    if n >= 1e6:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}K"
    return str(n)


def fmt_float(v) -> str:
    if v is None:
        return "-"
    try:
        return f"{float(v):.2e}"
    except (TypeError, ValueError):
        return str(v)


def print_table(rows: list, header: list) -> None:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    # The last column (ops) is left unpadded; it can be long.
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r[:-1], widths[:-1])) + "  " + str(r[-1])
    print(line(header))
    print("  ".join("-" * w for w in widths[:-1]) + "  " + "-" * len(header[-1]))
    for r in rows:
        print(line(r))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (one subdirectory per model)")
    ap.add_argument("--models", nargs="+", default=None,
                    help="models to use (space or comma separated); default: all. "
                         f"Known: {', '.join(ALL_MODELS)}")
    ap.add_argument("--snnkit", default=None, help="path to the snnkit binary; runs `snnkit verify` per model")
    ap.add_argument("--skip-export", action="store_true",
                    help="reuse fixtures already in --out (only with --snnkit)")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--static-batch", action="store_true", help="export with a fixed batch of 1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per `snnkit verify` run")
    args = ap.parse_args(argv)

    models = ALL_MODELS
    if args.models:
        models = [m for part in args.models for m in part.split(",") if m]
        unknown = [m for m in models if m not in ALL_MODELS]
        if unknown:
            ap.error(f"unknown model(s): {', '.join(unknown)}")
    os.makedirs(args.out, exist_ok=True)

    infos = {}
    for name in models:
        if args.skip_export:
            try:
                with open(os.path.join(args.out, name, "info.json")) as f:
                    infos[name] = json.load(f)
            except OSError as e:
                infos[name] = {"model": name, "status": "missing", "error": str(e)}
            continue
        print(f"[export] {name} ...", end=" ", flush=True)
        try:
            info = export_one(name, args.out, args.seed, args.opset, not args.static_batch)
            print(f"{info['nodes']} nodes, {info['model_bytes'] / 1e6:.1f} MB, "
                  f"ORT vs torch {info['ort_vs_torch_max_abs']:.2e} ({info['export_seconds']} s)", flush=True)
        except Exception as e:  # keep going with the other models
            print("FAILED", flush=True)
            traceback.print_exc()
            info = {"model": name, "status": "export failed", "error": f"{type(e).__name__}: {e}"}
        infos[name] = info
        gc.collect()

    if args.snnkit:
        for name in models:
            if infos[name].get("status") != "ok":
                continue
            print(f"[verify] {name} ...", end=" ", flush=True)
            res = run_verify(args.snnkit, args.out, name, args.timeout)
            infos[name]["snnkit"] = res
            print("passed" if res.get("passed") else f"FAILED {res.get('error', '')}", flush=True)

    # ---- table ----
    print()
    header = ["model", "params", "MACs/img", "nodes", "ORT-torch abs", "ORT-torch rel"]
    if args.snnkit:
        header += ["snnkit rel err", "result"]
    header += ["ops"]
    rows = []
    for name in models:
        info = infos[name]
        if info.get("status") != "ok":
            r = [name, "-", "-", "-", "-", "-"]
            if args.snnkit:
                r += ["-", "-"]
            r.append(f"{info.get('status')}: {info.get('error', '')}")
            rows.append(r)
            continue
        r = [name, fmt_count(info["params"]), fmt_count(info["macs_per_image"]), info["nodes"],
             fmt_float(info["ort_vs_torch_max_abs"]), fmt_float(info["ort_vs_torch_max_rel"])]
        if args.snnkit:
            res = info.get("snnkit", {})
            r += [fmt_float(res.get("max_rel_error")),
                  "pass" if res.get("passed") else ("FAIL: " + str(res.get("error", "")))[:60]]
        r.append(",".join(f"{k}x{v}" if v > 1 else k for k, v in info["ops"].items()))
        rows.append(r)
    print_table(rows, header)

    all_ops = sorted({op for i in infos.values() if i.get("status") == "ok" for op in i["ops"]})
    print(f"\nONNX operator types across these models ({len(all_ops)}): {', '.join(all_ops)}")

    failed_export = [n for n in models if infos[n].get("status") != "ok"]
    failed_verify = [n for n in models if args.snnkit and infos[n].get("status") == "ok"
                     and not infos[n].get("snnkit", {}).get("passed")]
    summary = {"models": infos, "operator_types": all_ops,
               "failed_export": failed_export, "failed_verify": failed_verify}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    if args.snnkit:
        n_ok = len(models) - len(failed_export) - len(failed_verify)
        print(f"snnkit verify: {n_ok}/{len(models)} passed")
    return 1 if failed_export or failed_verify else 0


if __name__ == "__main__":
    sys.exit(main())
