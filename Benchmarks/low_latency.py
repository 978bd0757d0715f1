#!/usr/bin/env python3
"""Accuracy at small T: the paper's method against each training-free option of SNNKit
and their combination, the task metric per T, one table (markdown) and one plot (SVG).

Starting from a converted float SNN made by the paper's method alone
(`snnkit convert MODEL --calib DATA --calibrate-potential 0 --readout-steps 0`), each
variant is made by
`snnkit convert SNN --calib CALIB ...` on the same calibration data (whose held-out
batches the options calibrate on), then simulated by `snnkit simulate ... --json`:

  paper        the analytic delay estimate (--delay estimated)
  readout      readout starts chosen on data (--calibrate-potential 0)
  potential    initial potentials calibrated for T* (--calibrate-potential T*), analytic delay
  both         potentials for T*, then readout starts (convert's default, T* = 16)
  burst        readout starts, simulated with --burst K

Usage:
    Benchmarks/low_latency.py --snnkit .build/release/snnkit --model resnet20.snn.onnx \\
        --calib calib_images_nchw.npy --data test_images_nchw.npy --labels test_labels.npy \\
        --limit 1000 -T 256 --potential-steps 16 --burst 2 --out DIR
"""
import argparse
import json
import os
import subprocess
import time


def run(cmd):
    started = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.time() - started


def svg_plot(series, steps, metric, path):
    """A line chart of metric (%) against log2 T, one line per variant."""
    width, height, left, bottom, top, right = 720, 400, 60, 50, 20, 200
    values = [v for _, vs in series for v in vs]
    lo, hi = max(0.0, min(values) - 2), min(100.0, max(values) + 2)
    xs = {t: left + (width - left - right) * i / max(1, len(steps) - 1) for i, t in enumerate(steps)}

    def y(v):
        return top + (height - top - bottom) * (hi - v) / max(hi - lo, 1e-9)

    colors = ["#444444", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for t in steps:
        parts.append(f'<line x1="{xs[t]:.1f}" y1="{top}" x2="{xs[t]:.1f}" y2="{height - bottom}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{xs[t]:.1f}" y="{height - bottom + 16}" text-anchor="middle">{t}</text>')
    for k in range(6):
        v = lo + (hi - lo) * k / 5
        parts.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    parts.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">T (time steps)</text>')
    parts.append(f'<text x="14" y="{(top + height - bottom) / 2}" transform="rotate(-90 14 {(top + height - bottom) / 2})" '
                 f'text-anchor="middle">{metric} (%)</text>')
    for i, (name, vs) in enumerate(series):
        color = colors[i % len(colors)]
        points = " ".join(f"{xs[t]:.1f},{y(v):.1f}" for t, v in zip(steps, vs))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<line x1="{width - right + 10}" y1="{top + 18 * i + 6}" x2="{width - right + 30}" y2="{top + 18 * i + 6}" '
                     f'stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{width - right + 36}" y="{top + 18 * i + 10}">{name}</text>')
    parts.append("</svg>")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(parts) + "\n")
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snnkit", required=True)
    p.add_argument("--model", required=True, help="a converted float SNN (.snn.onnx)")
    p.add_argument("--calib", required=True, help="the calibration data the model was converted with")
    p.add_argument("--data", required=True)
    p.add_argument("--labels")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("-T", type=int, default=256)
    p.add_argument("--checkpoints", default="4,8,16,32,64,128,256")
    p.add_argument("--potential-steps", type=int, default=16)
    p.add_argument("--potential-rounds", type=int, default=2)
    p.add_argument("--burst", type=int, default=2, help="burst size for the burst variant (0: leave it out)")
    p.add_argument("--extra", default="", help="data flags for convert and simulate, space separated (e.g. '--preset cifar10 --layout nhwc')")
    p.add_argument("--out", required=True, help="folder for the variants' models and JSON results")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.basename(a.model).replace(".snn.onnx", "")
    extra = a.extra.split()

    def convert(name, flags):
        path = os.path.join(a.out, f"{stem}.{name}.snn.onnx")
        _, seconds = run([a.snnkit, "convert", a.model, "--calib", a.calib, "-o", path, "--json"] + flags + extra)
        return path, seconds

    potential = ["--calibrate-potential", str(a.potential_steps), "--potential-rounds", str(a.potential_rounds)]
    readout, readout_s = convert("readout", ["--calibrate-potential", "0"])
    alone, alone_s = convert(f"potential{a.potential_steps}", potential + ["--readout-steps", "0"])
    both, both_s = convert(f"potential{a.potential_steps}-readout", potential)
    variants = [("paper (analytic delay)", a.model, ["--delay", "estimated"], 0.0),
                ("readout starts on data", readout, [], readout_s),
                (f"potentials for T={a.potential_steps}", alone, ["--delay", "estimated"], alone_s),
                (f"potentials T={a.potential_steps} + readout", both, [], both_s)]
    if a.burst > 1:
        variants.append((f"readout + burst {a.burst}", readout, ["--burst", str(a.burst)], readout_s))

    rows = []
    for name, path, flags, convert_s in variants:
        cmd = [a.snnkit, "simulate", path, "--data", a.data, "--limit", str(a.limit), "-T", str(a.T),
               "--checkpoints", a.checkpoints, "--json"] + flags + extra
        if a.labels:
            cmd += ["--labels", a.labels]
        result, seconds = run(cmd)
        e = result["evaluation"]
        with open(os.path.join(a.out, f"{stem}.{len(rows)}.json"), "w") as f:
            json.dump({"variant": name, "command": cmd, "result": result}, f, indent=1)
        rows.append({"name": name, "ann": e["ann"]["primary"], "metric": e["primary_metric"],
                     "steps": [s["steps"] for s in e["snn"]],
                     "values": [(s.get("delayed") or s["score"])["primary"] for s in e["snn"]],
                     "sops": [s["synaptic_ops_per_image"] for s in e["snn"]],
                     "calibration_seconds": convert_s, "simulate_seconds": seconds})
    steps = rows[0]["steps"]
    metric = rows[0]["metric"]
    lines = [f"{stem}, {metric} (%), ANN {100 * rows[0]['ann']:.2f}, first {a.limit} images",
             "", "| variant | " + " | ".join(f"T={t}" for t in steps) + " | convert (s) |",
             "|---|" + "---|" * (len(steps) + 1)]
    for r in rows:
        lines.append(f"| {r['name']} | " + " | ".join(f"{100 * v:.1f}" for v in r["values"]) + f" | {r['calibration_seconds']:.0f} |")
    lines += ["", "synaptic operations per image (millions):", "",
              "| variant | " + " | ".join(f"T={t}" for t in steps) + " |", "|---|" + "---|" * len(steps)]
    for r in rows:
        lines.append(f"| {r['name']} | " + " | ".join(f"{s / 1e6:.1f}" for s in r["sops"]) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    with open(os.path.join(a.out, f"{stem}.md"), "w") as f:
        f.write(table)
    with open(os.path.join(a.out, f"{stem}.json"), "w") as f:
        json.dump(rows, f, indent=1)
    svg_plot([(r["name"], [100 * v for v in r["values"]]) for r in rows], steps, metric, os.path.join(a.out, f"{stem}.svg"))


if __name__ == "__main__":
    main()
