#!/usr/bin/env python3
"""Compare SNNKit's ANN (plain ONNX inference) speed with PyTorch eager and
onnxruntime on the CPU, in one run, with the same thread count.

For each model and batch size this

  1. builds the model with random weights (fixed seed; BatchNorm statistics
     calibrated on random data so activations stay at a normal scale) and
     exports it to ONNX with a dynamic batch axis,
  2. times PyTorch eager: torch.set_num_threads(T), torch.inference_mode(),
     warm-up, median of N forward passes,
  3. times onnxruntime: CPU provider, intra_op_num_threads=T,
     inter_op_num_threads=1, sequential execution, default graph
     optimizations, warm-up, median of N runs,
  4. runs `SNNKIT bench ann MODEL.onnx --batch B --threads T --iterations N
     --json`, which prints one JSON object with at least images_per_second,
     gflops_per_second and macs_per_image.

MACs per image are counted here from the torch model (forward hooks on
Conv2d and Linear) as a cross-check of SNNKit's own count. If the snnkit
binary is missing or fails, the error is printed and the torch/onnxruntime
numbers are reported anyway.

Without --iterations, N is chosen per (model, batch) so that one framework
takes about --target-seconds (N between 5 and 50), from the time of a torch
warm-up pass; the same N is used for all three. The default run (resnet18
and cifar_resnet20 at batch 8 and 64, 2 threads) takes about 1-2 minutes
for torch and onnxruntime; SNNKit adds its own time.

Usage:
    python Benchmarks/ann_peers.py --snnkit .build/release/snnkit
    python Benchmarks/ann_peers.py --snnkit PATH --threads 2 \\
        --models resnet18,cifar_resnet20 --batches 8,64 --iterations 10 --json out.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Scripts"))

import snn_models  # noqa: E402
from check_torchvision import build_model, input_size, model_seed, parse_json_object  # noqa: E402


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_time(fn, iterations: int, warmup: int) -> tuple[float, list]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def bench_torch(model, x: np.ndarray, threads: int, iterations: int, warmup: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    xt = torch.from_numpy(x.copy())
    with torch.inference_mode():
        med, times = median_time(lambda: model(xt), iterations, warmup)
    return {"seconds_median": med, "seconds_min": min(times), "iterations": iterations,
            "images_per_second": x.shape[0] / med}


def bench_ort(path: str, x: np.ndarray, threads: int, iterations: int, warmup: int) -> dict:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # graph_optimization_level left at its default (ORT_ENABLE_ALL)
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    feed = {name: x}
    med, times = median_time(lambda: sess.run(None, feed), iterations, warmup)
    del sess
    return {"seconds_median": med, "seconds_min": min(times), "iterations": iterations,
            "images_per_second": x.shape[0] / med}


def bench_snnkit(snnkit: str, path: str, batch: int, threads: int, iterations: int,
                 timeout: float) -> dict:
    cmd = [snnkit, "bench", "ann", path, "--batch", str(batch), "--threads", str(threads),
           "--iterations", str(iterations), "--json"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (FileNotFoundError, PermissionError, OSError) as e:
        return {"error": f"cannot run {snnkit}: {e}"}
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    obj = parse_json_object(p.stdout)
    if p.returncode != 0 or obj is None or "images_per_second" not in obj:
        tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-3:]
        return {"error": f"exit {p.returncode}: " + (" | ".join(tail) or "no output"),
                **({"output": obj} if obj else {})}
    return obj


def fmt(v, spec=".1f") -> str:
    if v is None:
        return "-"
    return format(v, spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snnkit", required=True, help="path to the snnkit binary")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="resnet18,cifar_resnet20",
                    help="comma separated; CIFAR models (cifar_resnet20, cifar_vgg11) use 32x32 "
                         "inputs, torchvision classification models 224x224")
    ap.add_argument("--batches", default="8,64", help="comma separated batch sizes")
    ap.add_argument("--iterations", type=int, default=None,
                    help="timed runs per framework (default: automatic, see --target-seconds)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs before timing (torch, ORT)")
    ap.add_argument("--target-seconds", type=float, default=3.0,
                    help="with automatic iterations: about this long per framework and config")
    ap.add_argument("--workdir", default=None, help="keep exported ONNX files here (default: temp dir)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per snnkit run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", dest="json_out", default=None, help="write results to this file")
    args = ap.parse_args(argv)

    import onnxruntime as ort
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    batches = [int(b) for b in args.batches.split(",") if b.strip()]

    snnkit_ok = os.path.isfile(args.snnkit) and os.access(args.snnkit, os.X_OK)
    if not snnkit_ok:
        print(f"warning: snnkit binary {args.snnkit!r} not found or not executable; "
              "reporting torch and onnxruntime only", file=sys.stderr)

    tmp = None
    workdir = args.workdir
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="ann_peers_")
        workdir = tmp.name
    os.makedirs(workdir, exist_ok=True)

    env = {
        "cpu": cpu_name(), "logical_cpus": os.cpu_count(), "threads": args.threads,
        "python": platform.python_version(), "torch": torch.__version__,
        "onnxruntime": ort.__version__, "numpy": np.__version__,
        "snnkit": os.path.abspath(args.snnkit),
    }
    print(f"CPU: {env['cpu']} ({env['logical_cpus']} logical), threads {args.threads}; "
          f"torch {torch.__version__}, onnxruntime {ort.__version__}")

    results = []
    try:
        for name in models:
            seed = model_seed(name, args.seed)
            size = input_size(name)
            print(f"[{name}] building and exporting ...", flush=True)
            model = build_model(name, seed)
            macs = snn_models.count_macs(model, (1, 3, size, size))["total"]
            onnx_path = os.path.join(workdir, f"{name}.onnx")
            snn_models.export_onnx(model, onnx_path, (1, 3, size, size))

            for batch in batches:
                x = np.random.default_rng(seed + batch).standard_normal(
                    (batch, 3, size, size)).astype(np.float32)
                row = {"model": name, "batch": batch, "input_size": size, "threads": args.threads,
                       "macs_per_image": macs}
                iters = args.iterations
                if iters is None:
                    # one untimed pass to size the run (the torch warm-up follows anyway)
                    with torch.inference_mode():
                        xt = torch.from_numpy(x)
                        model(xt)
                        t0 = time.perf_counter()
                        model(xt)
                        t_pass = time.perf_counter() - t0
                    iters = int(min(50, max(5, round(args.target_seconds / max(t_pass, 1e-6)))))
                row["iterations"] = iters
                warmup = args.warmup

                print(f"  batch {batch}: {iters} iterations; torch ...", end=" ", flush=True)
                row["torch"] = bench_torch(model, x, args.threads, iters, warmup)
                print(f"{row['torch']['images_per_second']:.1f} img/s; onnxruntime ...", end=" ", flush=True)
                try:
                    row["onnxruntime"] = bench_ort(onnx_path, x, args.threads, iters, warmup)
                    print(f"{row['onnxruntime']['images_per_second']:.1f} img/s", end="", flush=True)
                except Exception as e:  # report and keep going
                    row["onnxruntime"] = {"error": f"{type(e).__name__}: {e}"}
                    print(f"FAILED ({e})", end="", flush=True)
                gc.collect()

                if snnkit_ok:
                    print("; snnkit ...", end=" ", flush=True)
                    row["snnkit"] = bench_snnkit(args.snnkit, onnx_path, batch, args.threads, iters,
                                                 args.timeout)
                    if "error" in row["snnkit"]:
                        print(f"FAILED: {row['snnkit']['error']}", flush=True)
                    else:
                        print(f"{row['snnkit']['images_per_second']:.1f} img/s", flush=True)
                else:
                    row["snnkit"] = {"error": f"binary not found: {args.snnkit}"}
                    print(flush=True)
                results.append(row)
            del model
            gc.collect()
    finally:
        if tmp is not None:
            tmp.cleanup()

    # ---- table ----
    header = ["model", "batch", "MACs/img", "snnkit MACs", "torch img/s", "ORT img/s",
              "snnkit img/s", "snnkit/torch", "snnkit/ORT", "torch GF/s", "ORT GF/s", "snnkit GF/s"]
    rows = []
    for r in results:
        t = r["torch"].get("images_per_second")
        o = r["onnxruntime"].get("images_per_second")
        s = r["snnkit"].get("images_per_second")
        smacs = r["snnkit"].get("macs_per_image")
        gf = lambda ips: None if ips is None else 2 * r["macs_per_image"] * ips / 1e9
        r["ratio_snnkit_torch"] = s / t if s and t else None
        r["ratio_snnkit_ort"] = s / o if s and o else None
        mac_note = "-"
        if smacs is not None:
            mac_note = f"{smacs / 1e6:.2f}M"
            if abs(smacs - r["macs_per_image"]) > 0.01 * r["macs_per_image"]:
                mac_note += " (!)"
        rows.append([r["model"], r["batch"], f"{r['macs_per_image'] / 1e6:.2f}M", mac_note,
                     fmt(t), fmt(o), fmt(s), fmt(r["ratio_snnkit_torch"], ".2f"),
                     fmt(r["ratio_snnkit_ort"], ".2f"), fmt(gf(t)), fmt(gf(o)),
                     fmt(r["snnkit"].get("gflops_per_second"))])
    widths = [max(len(h), *(len(str(row[i])) for row in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    print()
    print("  ".join(h.rjust(w) if i > 0 else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths))))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).rjust(w) if i > 0 else str(c).ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
    print("\nGF/s = 2 x MACs/img x img/s / 1e9 (Conv2d and Linear MACs counted from the torch model; "
          "snnkit GF/s as it reports). (!) = snnkit's MAC count differs by more than 1%.")
    errors = [(r["model"], r["batch"], r["snnkit"]["error"]) for r in results if "error" in r["snnkit"]]
    if errors:
        print("\nsnnkit errors:")
        for m, b, e in errors:
            print(f"  {m} batch {b}: {e}")

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"environment": env, "results": results}, f, indent=2)
        print(f"\nwrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
