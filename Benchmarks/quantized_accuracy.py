#!/usr/bin/env python3
"""The cost of integer SNNs: the task metric per T of a converted (float) SNN and of its
integer forms at several weight widths and scale granularities, one table.

Each integer form is made by `snnkit convert SNN --weight-bits B --scale-granularity G`
(no calibration: the float SNN's thresholds are folded and rounded), then every model is
simulated by `snnkit simulate ... --json` on the same images.

Usage:
    Benchmarks/quantized_accuracy.py --snnkit .build/release/snnkit --model vgg11.snn.onnx \
        --data test_images_nchw.npy --labels test_labels.npy --limit 1000 -T 256 --out DIR
"""
import argparse
import json
import os
import subprocess
import sys
import time


def run(cmd):
    started = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out), time.time() - started


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--snnkit", required=True)
    p.add_argument("--model", required=True, help="a converted float SNN (.snn.onnx)")
    p.add_argument("--data", required=True)
    p.add_argument("--labels")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("-T", type=int, default=256)
    p.add_argument("--bits", default="8,6,4")
    p.add_argument("--granularities", default="channel,layer")
    p.add_argument("--state-bits", type=int)
    p.add_argument("--extra", default="", help="more simulate flags, space separated (e.g. '--preset cifar10 --layout nhwc')")
    p.add_argument("--out", required=True, help="folder for the integer models and the JSON results")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    stem = os.path.basename(a.model).replace(".snn.onnx", "")
    variants = [("float32", a.model)]
    for bits in a.bits.split(","):
        for g in a.granularities.split(","):
            path = os.path.join(a.out, f"{stem}.w{bits}-{g}.snn.onnx")
            cmd = [a.snnkit, "convert", a.model, "--weight-bits", bits, "--scale-granularity", g, "-o", path, "--json"]
            if a.state_bits:
                cmd += ["--state-bits", str(a.state_bits)]
            run(cmd)
            variants.append((f"{bits}-bit, per {g}", path))
    rows = []
    for name, path in variants:
        cmd = [a.snnkit, "simulate", path, "--data", a.data, "--limit", str(a.limit), "-T", str(a.T), "--json"] + a.extra.split()
        if a.labels:
            cmd += ["--labels", a.labels]
        result, seconds = run(cmd)
        e = result["evaluation"]
        with open(os.path.join(a.out, f"{stem}.{name.replace(', ', '-').replace(' ', '')}.json"), "w") as f:
            json.dump(result, f, indent=1)
        rows.append((name, e, seconds))
        print(f"{name}: {seconds:.1f} s", file=sys.stderr)
    steps = [point["steps"] for point in rows[0][1]["snn"]]
    metric = rows[0][1]["primary_metric"]
    print(f"{stem}, {rows[0][1]['images']} images, {metric} (%), readout from t = 1")
    print("| weights | ANN | clip-ANN | " + " | ".join(f"T={t}" for t in steps) + " | simulate (s) |")
    print("|---" * (len(steps) + 4) + "|")
    for name, e, seconds in rows:
        cells = [f"{100 * point['score']['primary']:.2f}" for point in e["snn"]]
        print(f"| {name} | {100 * e['ann']['primary']:.2f} | {100 * e['clip_ann']['primary']:.2f} | " + " | ".join(cells) + f" | {seconds:.0f} |")


if __name__ == "__main__":
    main()
