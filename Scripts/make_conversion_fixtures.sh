#!/usr/bin/env bash
# Conversion fixtures: SNNKit converts two fixture networks, onnxruntime runs the exported
# clip-ANN, and the Swift tests check that SNNKit's own clipped forward pass matches it.
# Needs a release build of snnkit and a Python with numpy + onnxruntime:
#   PYTHON=/path/to/venv/bin/python Scripts/make_conversion_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
SNNKIT="${SNNKIT:-.build/release/snnkit}"
OUT=Tests/Fixtures/conversion
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
for net in net_b_resnet_blocks net_c_vgg; do
  "$PY" - "$net" "$TMP" <<'PY'
import sys, numpy as np, onnx
net, tmp = sys.argv[1], sys.argv[2]
m = onnx.load(f"Tests/Fixtures/onnx/{net}/model.onnx")
dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim][1:]
rng = np.random.default_rng(1234)
np.save(f"{tmp}/{net}_calib.npy", rng.standard_normal((64, *dims)).astype(np.float32))
PY
  "$SNNKIT" convert "Tests/Fixtures/onnx/$net/model.onnx" --calib "$TMP/${net}_calib.npy" --preset none --layout nchw \
    --batch-size 16 --calib-batches 4 -o "$OUT/$net.snn.onnx" --export-clip-onnx "$OUT/$net.clip.onnx" --quiet > /dev/null
  "$PY" - "$net" "$OUT" <<'PY'
import sys, os, numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper as nh
net, out = sys.argv[1], sys.argv[2]
so = ort.SessionOptions(); so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
s = ort.InferenceSession(f"{out}/{net}.clip.onnx", so, providers=["CPUExecutionProvider"])
inp = s.get_inputs()[0]
m = onnx.load(f"Tests/Fixtures/onnx/{net}/model.onnx")
dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim][1:]
x = (np.random.default_rng(99).standard_normal((2, *dims)) * 1.5).astype(np.float32)
y = s.run(None, {inp.name: x})[0]
d = f"{out}/{net}"
os.makedirs(d, exist_ok=True)
open(f"{d}/input_0.pb", "wb").write(nh.from_array(x, inp.name).SerializeToString())
open(f"{d}/output_0.pb", "wb").write(nh.from_array(y, s.get_outputs()[0].name).SerializeToString())
print(net, "clip-ANN output", y.shape)
PY
done
