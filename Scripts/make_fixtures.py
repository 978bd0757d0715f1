#!/usr/bin/env python3
"""Generate the ONNX test fixtures for SNNKit.

Usage:
    /path/to/venv/bin/python Scripts/make_fixtures.py

Needs numpy, onnx and onnxruntime (torch is NOT needed: every model is built
with onnx.helper). Writes, relative to the repository root:

    Tests/Fixtures/onnx/<case>/model.onnx
    Tests/Fixtures/onnx/<case>/input_<i>.pb    (ONNX TensorProto, one per graph input)
    Tests/Fixtures/onnx/<case>/output_<i>.pb   (ONNX TensorProto, one per graph output)
    Tests/Fixtures/onnx/MANIFEST.json
    Tests/Fixtures/bad/...                     (malformed / unsupported models)
    Tests/Fixtures/bad/cases.json

The .pb files use the ONNX backend-test data format:
numpy_helper.from_array(arr, name=<graph input/output name>).SerializeToString().
Expected outputs are computed by onnxruntime on CPU with all graph
optimizations disabled and one thread.

The output is deterministic: every case draws its random numbers from a numpy
Generator seeded with a CRC32 of the case name, and the output directories are
wiped before they are written (onnx appends to existing external-data files).
"""

import json
import shutil
import sys
import zlib
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "Fixtures"
ONNX_DIR = FIXTURES / "onnx"
BAD_DIR = FIXTURES / "bad"

PRODUCER = "snnkit-make_fixtures"
INT64_MAX = int(np.iinfo(np.int64).max)
INT64_MIN = int(np.iinfo(np.int64).min)

MANIFEST = []
REFUSED = []  # (case, reason) for cases onnxruntime would not run


def ir_version_for(opset):
    # IR 7 is the release that came with opset 12/13; IR 8 with opset 14-18.
    # Newer opsets are stamped with IR 8 as well so older runtimes still load them.
    return 7 if opset <= 13 else 8


def seed_for(name):
    return zlib.crc32(name.encode("utf-8"))


def make_session(model_or_path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    src = model_or_path.SerializeToString() if isinstance(model_or_path, onnx.ModelProto) else str(model_or_path)
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def write_tensor(path, arr, name):
    path.write_bytes(numpy_helper.from_array(arr, name=name).SerializeToString())


class Case:
    """Collects nodes, initializers and inputs for one fixture."""

    def __init__(self, name, opset, note=""):
        self.name = name
        self.opset = opset
        self.note = note
        self.rng = np.random.default_rng(seed_for(name))
        self.nodes = []
        self.inits = []
        self.inputs = []  # (name, array, declared dims)
        self.outputs = []  # (name, declared dims or None)
        self._counter = {}

    # -- data ---------------------------------------------------------------
    def normal(self, shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def uniform(self, shape, low, high):
        return self.rng.uniform(low, high, size=shape).astype(np.float32)

    def nonzero(self, shape, low=0.5, high=2.0):
        """Values with |v| in [low, high) and random sign (safe divisors)."""
        mag = self.rng.uniform(low, high, size=shape)
        sign = np.where(self.rng.random(shape) < 0.5, -1.0, 1.0)
        return (mag * sign).astype(np.float32)

    # -- graph --------------------------------------------------------------
    def input(self, name, arr, dims=None):
        arr = np.asarray(arr)
        self.inputs.append((name, arr, list(arr.shape) if dims is None else dims))
        return name

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name=name))
        return name

    def weight(self, name, shape, scale=None):
        if scale is None:  # He-style init keeps activations O(1) through the networks
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
            scale = float(np.sqrt(2.0 / max(fan_in, 1)))
        return self.init(name, self.normal(shape, scale))

    def i64(self, name, values):
        return self.init(name, np.array(values, dtype=np.int64))

    def f32(self, name, values):
        return self.init(name, np.array(values, dtype=np.float32))

    def node(self, op, inputs, outputs=None, name=None, **attrs):
        if name is None:
            k = self._counter.get(op, 0)
            self._counter[op] = k + 1
            name = f"{op.lower()}_{k}"
        if outputs is None:
            outputs = [name + "_out"]
        elif isinstance(outputs, str):
            outputs = [outputs]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def output(self, name, dims=None):
        self.outputs.append((name, dims))

    # -- building blocks for the networks ------------------------------------
    def conv(self, x, cin, cout, k, name, stride=1, pad=None, group=1, bias=True, dilation=1):
        if pad is None:
            pad = (k // 2) * dilation
        w = self.weight(f"{name}.weight", [cout, cin // group, k, k])
        ins = [x, w]
        if bias:
            ins.append(self.init(f"{name}.bias", self.normal([cout], 0.1)))
        attrs = dict(kernel_shape=[k, k], pads=[pad] * 4, strides=[stride, stride])
        if group != 1:
            attrs["group"] = group
        if dilation != 1:
            attrs["dilations"] = [dilation, dilation]
        return self.node("Conv", ins, name=name, **attrs)

    def bn(self, x, c, name, epsilon=1e-5):
        ins = [
            x,
            self.init(f"{name}.weight", self.uniform([c], 0.5, 1.5)),
            self.init(f"{name}.bias", self.normal([c], 0.1)),
            self.init(f"{name}.running_mean", self.normal([c], 0.1)),
            self.init(f"{name}.running_var", self.uniform([c], 0.5, 1.5)),
        ]
        return self.node("BatchNormalization", ins, name=name, epsilon=epsilon)

    def relu(self, x, name=None):
        return self.node("Relu", [x], name=name)

    def gemm(self, x, k, n, name):
        w = self.weight(f"{name}.weight", [n, k])
        b = self.init(f"{name}.bias", self.normal([n], 0.1))
        return self.node("Gemm", [x, w, b], name=name, transB=1)

    # -- output -------------------------------------------------------------
    def _model(self, out_types):
        g_inputs = [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(a.dtype), d)
            for n, a, d in self.inputs
        ]
        g_outputs = [helper.make_tensor_value_info(n, t, d) for (n, _), (t, d) in zip(self.outputs, out_types)]
        graph = helper.make_graph(self.nodes, self.name, g_inputs, g_outputs, initializer=self.inits)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", self.opset)],
            ir_version=ir_version_for(self.opset),
            producer_name=PRODUCER,
        )
        model.producer_version = "1"
        if self.note:
            model.doc_string = self.note
        return model

    def save(self):
        # First pass: element types only, so onnxruntime tells us the result shapes.
        # (The checker wants output shapes, so it runs on the final model below.)
        probe = self._model([(TensorProto.FLOAT, None)] * len(self.outputs))
        try:
            sess = make_session(probe)
            results = sess.run([n for n, _ in self.outputs], {n: a for n, a, _ in self.inputs})
        except Exception as exc:  # noqa: BLE001 - report and skip this case
            REFUSED.append((self.name, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"))
            print(f"  !! onnxruntime refused {self.name}: {exc}", file=sys.stderr)
            return
        out_types = []
        for (_, dims), r in zip(self.outputs, results):
            out_types.append((helper.np_dtype_to_tensor_dtype(r.dtype), list(r.shape) if dims is None else dims))
        model = self._model(out_types)
        onnx.checker.check_model(model, full_check=True)

        # Re-run the final model to be sure it is the one that produced the outputs.
        final = make_session(model).run(None, {n: a for n, a, _ in self.inputs})
        for a, b in zip(results, final):
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), self.name

        d = ONNX_DIR / self.name
        d.mkdir(parents=True)
        (d / "model.onnx").write_bytes(model.SerializeToString())
        for i, (n, a, _) in enumerate(self.inputs):
            write_tensor(d / f"input_{i}.pb", a, n)
        for i, ((n, _), r) in enumerate(zip(self.outputs, results)):
            write_tensor(d / f"output_{i}.pb", r, n)

        ops = []
        for nd in self.nodes:
            if nd.op_type not in ops:
                ops.append(nd.op_type)
        MANIFEST.append({
            "case": self.name,
            "opset": self.opset,
            "ir_version": model.ir_version,
            "ops": ops,
            "inputs": [list(a.shape) for _, a, _ in self.inputs],
            "outputs": [list(r.shape) for r in results],
            "input_names": [n for n, _, _ in self.inputs],
            "output_names": [n for n, _ in self.outputs],
            "note": self.note,
        })


# ---------------------------------------------------------------------------
# Single-operator cases
# ---------------------------------------------------------------------------

def conv_cases():
    def simple(name, opset, xshape, wshape, note, bias=True, **attrs):
        c = Case(name, opset, note)
        x = c.input("X", c.normal(xshape))
        w = c.weight("W", wshape)
        ins = [x, w]
        if bias:
            ins.append(c.init("B", c.normal([wshape[0]], 0.1)))
        c.node("Conv", ins, "Y", name="conv", **attrs)
        c.output("Y")
        c.save()

    simple("conv_3x3_pad1", 11, [2, 3, 7, 7], [4, 3, 3, 3], "3x3, pads 1, stride 1, with bias",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    simple("conv_stride2", 13, [2, 3, 9, 9], [5, 3, 3, 3], "3x3, stride 2, pads 1",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    simple("conv_dilation2", 17, [2, 3, 9, 8], [4, 3, 3, 3], "3x3, dilations 2, pads 2",
           kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2])
    simple("conv_asym_pads", 11, [2, 3, 6, 7], [4, 3, 3, 3],
           "asymmetric pads [top=0, left=1, bottom=2, right=1]",
           kernel_shape=[3, 3], pads=[0, 1, 2, 1])
    simple("conv_autopad_same_upper", 11, [2, 3, 8, 7], [4, 3, 3, 3],
           "auto_pad SAME_UPPER with stride 2 on even H (odd total padding: extra pad at the end)",
           kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    simple("conv_autopad_same_lower", 12, [2, 3, 8, 7], [4, 3, 3, 3],
           "auto_pad SAME_LOWER with stride 2 on even H (odd total padding: extra pad at the start)",
           kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER")
    simple("conv_autopad_valid", 13, [2, 3, 8, 7], [4, 3, 3, 3], "auto_pad VALID (no padding)",
           kernel_shape=[3, 3], auto_pad="VALID")
    simple("conv_groups2", 14, [2, 4, 6, 6], [6, 2, 3, 3], "group=2: 4 in channels, 6 out channels",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=2)
    simple("conv_depthwise", 15, [2, 6, 7, 7], [6, 1, 3, 3], "depthwise: group = C = 6",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=6)
    simple("conv_1x1", 18, [2, 5, 6, 6], [7, 5, 1, 1], "1x1 pointwise convolution",
           kernel_shape=[1, 1])
    simple("conv_no_bias", 19, [2, 3, 6, 6], [4, 3, 3, 3], "no bias input (only X and W)", bias=False,
           kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    simple("conv_5x5_nonsquare", 21, [2, 3, 6, 9], [4, 3, 5, 5], "5x5 kernel, pads 2, non-square input",
           kernel_shape=[5, 5], pads=[2, 2, 2, 2])
    simple("conv_7x7_stride2_pad3", 11, [2, 3, 12, 12], [4, 3, 7, 7],
           "7x7 stride 2 pads 3 (ResNet stem)", kernel_shape=[7, 7], pads=[3, 3, 3, 3], strides=[2, 2])
    # kernel_shape omitted: it must be inferred from W.
    simple("conv_no_kernel_shape_attr", 13, [2, 3, 6, 6], [4, 3, 3, 3],
           "kernel_shape attribute omitted (inferred from W), pads 1", pads=[1, 1, 1, 1])


def quantized_cases():
    """Weights stored as integers behind DequantizeLinear (QDQ models, SNNKit's integer SNNs)."""
    c = Case("dequantize_conv_per_channel", 13, "int8 conv weights, one scale per output channel (axis 0), zero points 0")
    x = c.input("X", c.normal([2, 3, 6, 6]))
    w = c.init("W_q", c.rng.integers(-127, 128, size=[4, 3, 3, 3]).astype(np.int8))
    scale = c.init("W_scale", np.array([2.0 ** -7, 2.0 ** -8, 0.01, 0.003], dtype=np.float32))
    zero = c.init("W_zero", np.zeros([4], dtype=np.int8))
    c.node("DequantizeLinear", [w, scale, zero], "W", name="dequantize", axis=0)
    c.node("Conv", [x, "W", c.init("B", c.normal([4], 0.1))], "Y", name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    c.output("Y")
    c.save()

    c = Case("dequantize_gemm_per_tensor", 13, "int8 Gemm weights, one scale, a nonzero zero point")
    x = c.input("X", c.normal([3, 6]))
    w = c.init("W_q", c.rng.integers(-100, 100, size=[5, 6]).astype(np.int8))
    c.node("DequantizeLinear", [w, c.init("W_scale", np.array(0.01, dtype=np.float32)),
                                c.init("W_zero", np.array(7, dtype=np.int8))], "W", name="dequantize")
    c.node("Gemm", [x, "W"], "Y", name="gemm", transB=1)
    c.output("Y")
    c.save()


def conv_transpose_cases():
    def simple(name, opset, xshape, wshape, note, bias=False, **attrs):
        c = Case(name, opset, note)
        x = c.input("X", c.normal(xshape))
        w = c.weight("W", wshape, 0.3)
        ins = [x, w]
        if bias:
            ins.append(c.init("B", c.normal([wshape[1] * attrs.get("group", 1)], 0.1)))
        c.node("ConvTranspose", ins, "Y", name="deconv", **attrs)
        c.output("Y")
        c.save()

    simple("convtranspose_s2_k2", 11, [2, 4, 5, 5], [4, 3, 2, 2],
           "ConvTranspose stride 2 kernel 2, no bias; W is [C_in, C_out/group, kH, kW]",
           kernel_shape=[2, 2], strides=[2, 2])
    simple("convtranspose_s2_k3_p1_outpad1", 13, [2, 4, 5, 6], [4, 3, 3, 3],
           "stride 2, kernel 3, pads 1, output_padding 1 (exact 2x upsampling)",
           kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
    simple("convtranspose_groups2", 17, [2, 4, 5, 5], [4, 3, 3, 3],
           "group=2: 4 in channels, 6 out channels, stride 2 pads 1",
           kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], group=2)
    simple("convtranspose_bias", 21, [2, 4, 5, 5], [4, 3, 3, 3], "stride 1 kernel 3 with bias", bias=True,
           kernel_shape=[3, 3])


def norm_and_activation_cases():
    for name, opset, eps in [("batchnorm_op11", 11, 1e-5), ("batchnorm_op15", 15, 1e-3)]:
        c = Case(name, opset, f"inference BatchNormalization, epsilon {eps}")
        x = c.input("X", c.normal([2, 4, 5, 5]))
        ins = [x,
               c.init("scale", c.uniform([4], 0.5, 1.5)),
               c.init("B", c.normal([4], 0.5)),
               c.init("mean", c.normal([4], 0.5)),
               c.init("var", c.uniform([4], 0.2, 2.0))]
        c.node("BatchNormalization", ins, "Y", name="bn", epsilon=eps)
        c.output("Y")
        c.save()

    def unary(name, opset, op, note, scale=1.0, **attrs):
        c = Case(name, opset, note)
        x = c.input("X", c.normal([2, 3, 5, 6], scale))
        c.node(op, [x], "Y", name=op.lower(), **attrs)
        c.output("Y")
        c.save()

    unary("relu", 14, "Relu", "Relu")
    unary("leakyrelu_alpha0.1", 16, "LeakyRelu", "LeakyRelu alpha 0.1", alpha=0.1)
    unary("sigmoid", 13, "Sigmoid", "Sigmoid", scale=3.0)
    unary("exp", 13, "Exp", "Exp")

    c = Case("clip_min_max_op11", 11, "Clip with min=-0.5 and max=0.8 as scalar initializer inputs")
    x = c.input("X", c.normal([2, 3, 5, 6]))
    c.node("Clip", [x, c.f32("min", -0.5), c.f32("max", 0.8)], "Y", name="clip")
    c.output("Y")
    c.save()

    c = Case("clip_max_only_op11", 11, "Clip with only max (min input given as empty name '')")
    x = c.input("X", c.normal([2, 3, 5, 6]))
    c.node("Clip", [x, "", c.f32("max", 0.3)], "Y", name="clip")
    c.output("Y")
    c.save()

    c = Case("clip_relu6_op13", 13, "ReLU6 = Clip(0, 6); input scaled by 4 so both bounds are hit")
    x = c.input("X", c.normal([2, 3, 5, 6], 4.0))
    c.node("Clip", [x, c.f32("min", 0.0), c.f32("max", 6.0)], "Y", name="relu6")
    c.output("Y")
    c.save()

    # MobileNet's pattern: a convolution whose only reader is ReLU6 runs it in its store.
    c = Case("conv_depthwise_stride2_relu6", 13, "depthwise 3x3 stride 2 pads 1 then Clip(0, 6), input scaled by 3")
    x = c.input("X", c.normal([3, 8, 9, 9], 3.0))
    c.node("Conv", [x, c.weight("W", [8, 1, 3, 3]), c.init("B", c.normal([8], 0.1))], "Z", name="dw",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], group=8)
    c.node("Clip", ["Z", c.f32("min", 0.0), c.f32("max", 6.0)], "Y", name="relu6")
    c.output("Y")
    c.save()

    c = Case("conv_1x1_relu6_4x4", 13, "1x1 convolution on 4x4 maps of 5 images (columns over the batch) then Clip(0, 6)")
    x = c.input("X", c.normal([5, 24, 4, 4], 3.0))
    c.node("Conv", [x, c.weight("W", [40, 24, 1, 1]), c.init("B", c.normal([40], 0.1))], "Z", name="pw", kernel_shape=[1, 1])
    c.node("Clip", ["Z", c.f32("min", 0.0), c.f32("max", 6.0)], "Y", name="relu6")
    c.output("Y")
    c.save()

    for opset in (11, 13):
        for axis, tag in ((1, "axis1"), (-1, "axis_neg1")):
            if opset < 13:
                sem = ("opset<13: input coerced to 2-D [N, C*H*W]; softmax over C*H*W jointly"
                       if axis == 1 else "opset<13: coerced to 2-D [N*C*H, W]; same as softmax over W")
            else:
                sem = "opset>=13: softmax along the single axis " + ("C" if axis == 1 else "W")
            c = Case(f"softmax_{tag}_op{opset}", opset, f"Softmax axis {axis} on 4-D input; {sem}")
            x = c.input("X", c.normal([2, 3, 4, 5], 2.0))
            c.node("Softmax", [x], "Y", name="softmax", axis=axis)
            c.output("Y")
            c.save()


def pool_cases():
    def pool(name, opset, op, xshape, note, **attrs):
        c = Case(name, opset, note)
        x = c.input("X", c.normal(xshape))
        c.node(op, [x], "Y", name=op.lower(), **attrs)
        c.output("Y")
        c.save()

    pool("maxpool_2x2_s2", 11, "MaxPool", [2, 3, 8, 8], "MaxPool 2x2 stride 2",
         kernel_shape=[2, 2], strides=[2, 2])
    pool("maxpool_3x3_s2_p1", 12, "MaxPool", [2, 3, 9, 8], "MaxPool 3x3 stride 2 pads 1 (ResNet stem)",
         kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pool("maxpool_ceil_mode", 13, "MaxPool", [2, 3, 7, 8], "MaxPool 2x2 stride 2 ceil_mode=1 on odd H",
         kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    pool("maxpool_dilations", 18, "MaxPool", [2, 3, 9, 9], "MaxPool 2x2 dilations 2 stride 1",
         kernel_shape=[2, 2], dilations=[2, 2])
    pool("maxpool_autopad_same_upper", 21, "MaxPool", [2, 3, 7, 6],
         "MaxPool 3x3 stride 2 auto_pad SAME_UPPER (pads with -inf, not 0)",
         kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")
    pool("avgpool_2x2", 11, "AveragePool", [2, 3, 8, 8], "AveragePool 2x2 stride 2",
         kernel_shape=[2, 2], strides=[2, 2])
    pool("avgpool_3x3_p1_exclude_pad", 13, "AveragePool", [2, 3, 6, 7],
         "AveragePool 3x3 stride 1 pads 1 count_include_pad=0 (divide by #valid elements)",
         kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0)
    pool("avgpool_3x3_p1_include_pad", 19, "AveragePool", [2, 3, 6, 7],
         "AveragePool 3x3 stride 1 pads 1 count_include_pad=1 (always divide by 9)",
         kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)
    pool("avgpool_ceil_mode", 19, "AveragePool", [2, 3, 7, 6],
         "AveragePool 3x3 stride 2 ceil_mode=1: the last window hangs over the edge and is averaged "
         "over its in-bounds elements only",
         kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    pool("globalavgpool", 13, "GlobalAveragePool", [2, 5, 6, 7], "GlobalAveragePool -> [N, C, 1, 1]")


def gemm_matmul_cases():
    c = Case("gemm_transB_bias1d", 11, "Gemm transB=1 with 1-D bias C [N] (torch Linear)")
    a = c.input("A", c.normal([4, 6]))
    c.node("Gemm", [a, c.weight("B", [5, 6]), c.init("C", c.normal([5], 0.5))], "Y", name="gemm", transB=1)
    c.output("Y")
    c.save()

    c = Case("gemm_transA", 13, "Gemm transA=1: A given as [K, M]")
    a = c.input("A", c.normal([6, 4]))
    c.node("Gemm", [a, c.weight("B", [6, 5]), c.init("C", c.normal([5], 0.5))], "Y", name="gemm", transA=1)
    c.output("Y")
    c.save()

    c = Case("gemm_alpha_beta", 11, "Gemm alpha=0.5 beta=2.0 transB=1, 1-D C")
    a = c.input("A", c.normal([4, 6]))
    c.node("Gemm", [a, c.weight("B", [5, 6]), c.init("C", c.normal([5], 0.5))], "Y", name="gemm",
           alpha=0.5, beta=2.0, transB=1)
    c.output("Y")
    c.save()

    c = Case("gemm_bias2d", 13, "Gemm with 2-D C [M, N], no transposes")
    a = c.input("A", c.normal([4, 6]))
    c.node("Gemm", [a, c.weight("B", [6, 5]), c.init("C", c.normal([4, 5], 0.5))], "Y", name="gemm")
    c.output("Y")
    c.save()

    c = Case("gemm_no_bias", 13, "Gemm without C (optional since opset 11), transB=1")
    a = c.input("A", c.normal([4, 6]))
    c.node("Gemm", [a, c.weight("B", [5, 6])], "Y", name="gemm", transB=1)
    c.output("Y")
    c.save()

    c = Case("matmul_2d", 13, "MatMul [4,6] x [6,5] (B is an initializer)")
    a = c.input("A", c.normal([4, 6]))
    c.node("MatMul", [a, c.weight("B", [6, 5])], "Y", name="matmul")
    c.output("Y")
    c.save()

    c = Case("matmul_batched_3d", 13, "MatMul [2,4,6] x [2,6,5], both runtime inputs")
    a = c.input("A", c.normal([2, 4, 6]))
    b = c.input("B", c.normal([2, 6, 5]))
    c.node("MatMul", [a, b], "Y", name="matmul")
    c.output("Y")
    c.save()

    c = Case("matmul_2d_1d", 13, "MatMul [4,6] x [6] -> [4] (1-D second operand, numpy semantics)")
    a = c.input("A", c.normal([4, 6]))
    c.node("MatMul", [a, c.weight("B", [6], 0.5)], "Y", name="matmul")
    c.output("Y")
    c.save()

    c = Case("matmul_3d_2d_broadcast", 13, "MatMul [2,4,6] x [6,5] (2-D weight broadcast over batch)")
    a = c.input("A", c.normal([2, 4, 6]))
    c.node("MatMul", [a, c.weight("B", [6, 5])], "Y", name="matmul")
    c.output("Y")
    c.save()


def elementwise_cases():
    N, C, H, W = 2, 4, 5, 6
    patterns = [
        # tag, opset, description, second-operand shape, second operand is runtime input?, X shape
        ("same_shape", 11, "same shape, two runtime inputs", [N, C, H, W], True, [N, C, H, W]),
        ("bcast_1c11", 13, "[N,C,H,W] op [1,C,1,1] initializer", [1, C, 1, 1], False, [N, C, H, W]),
        ("bcast_c11", 14, "[N,C,H,W] op [C,1,1] initializer (rank-extended)", [C, 1, 1], False, [N, C, H, W]),
        ("bcast_scalar", 11, "[N,C,H,W] op scalar (0-D) initializer", [], False, [N, C, H, W]),
        ("bcast_w", 13, "[N,C,H,W] op [W] initializer (last axis)", [W], False, [N, C, H, W]),
        ("bcast_both", 14, "[N,1,H,W] op [1,C,1,1], both runtime inputs, broadcast both ways",
         [1, C, 1, 1], True, [N, 1, H, W]),
    ]
    for op in ("Add", "Sub", "Mul", "Div"):
        for tag, opset, desc, bshape, runtime, xshape in patterns:
            c = Case(f"{op.lower()}_{tag}", opset, f"{op}: {desc}")
            x = c.input("A", c.normal(xshape))
            bval = c.nonzero(bshape) if op == "Div" else c.normal(bshape)
            b = c.input("B", bval) if runtime else c.init("B", bval)
            c.node(op, [x, b], "Y", name=op.lower())
            c.output("Y")
            c.save()

    # Non-commutative ops with the constant on the left.
    c = Case("sub_scalar_lhs", 13, "Sub: scalar initializer - [N,C,H,W] (constant is the first operand)")
    x = c.input("A", c.normal([N, C, H, W]))
    c.node("Sub", [c.f32("K", 1.5), x], "Y", name="sub")
    c.output("Y")
    c.save()

    c = Case("div_c11_lhs", 14, "Div: [C,1,1] initializer / [N,C,H,W] (constant is the first operand)")
    x = c.input("A", c.nonzero([N, C, H, W]))
    c.node("Div", [c.init("K", c.normal([C, 1, 1])), x], "Y", name="div")
    c.output("Y")
    c.save()


def shape_op_cases():
    # Concat
    c = Case("concat_axis1", 11, "Concat axis 1 of [2,3,4,4] and [2,5,4,4]")
    a = c.input("A", c.normal([2, 3, 4, 4]))
    b = c.input("B", c.normal([2, 5, 4, 4]))
    c.node("Concat", [a, b], "Y", name="concat", axis=1)
    c.output("Y")
    c.save()

    c = Case("concat_axis_neg1", 13, "Concat axis -1 of [2,3,4,5] and [2,3,4,2]")
    a = c.input("A", c.normal([2, 3, 4, 5]))
    b = c.input("B", c.normal([2, 3, 4, 2]))
    c.node("Concat", [a, b], "Y", name="concat", axis=-1)
    c.output("Y")
    c.save()

    c = Case("concat_three_inputs", 13, "Concat axis 1 of three tensors; the middle one is an initializer")
    a = c.input("A", c.normal([2, 2, 3, 4]))
    b = c.init("B", c.normal([2, 3, 3, 4]))
    d = c.input("D", c.normal([2, 1, 3, 4]))
    c.node("Concat", [a, b, d], "Y", name="concat", axis=1)
    c.output("Y")
    c.save()

    # Flatten
    for axis, opset in ((1, 11), (0, 13), (2, 21)):
        c = Case(f"flatten_axis{axis}", opset, f"Flatten axis {axis} of [2,3,4,5]")
        x = c.input("X", c.normal([2, 3, 4, 5]))
        c.node("Flatten", [x], "Y", name="flatten", axis=axis)
        c.output("Y")
        c.save()

    # Reshape
    c = Case("reshape_0_neg1", 13, "Reshape [2,3,4,5] with shape [0,-1] (0 copies the input dim) -> [2,60]")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Reshape", [x, c.i64("shape", [0, -1])], "Y", name="reshape")
    c.output("Y")
    c.save()

    c = Case("reshape_neg1_0_mixed", 14, "Reshape [2,3,4,5] with shape [-1,0,2,10] -> [2,3,2,10]")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Reshape", [x, c.i64("shape", [-1, 0, 2, 10])], "Y", name="reshape")
    c.output("Y")
    c.save()

    # Transpose
    c = Case("transpose_nchw_to_nhwc", 13, "Transpose perm [0,2,3,1]")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Transpose", [x], "Y", name="transpose", perm=[0, 2, 3, 1])
    c.output("Y")
    c.save()

    c = Case("transpose_default_perm", 21, "Transpose without perm (reverses the axes)")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Transpose", [x], "Y", name="transpose")
    c.output("Y")
    c.save()

    # Squeeze / Unsqueeze
    c = Case("squeeze_op11_attr", 11, "Squeeze with axes attribute [0,3] (opset<13): [1,3,4,1] -> [3,4]")
    x = c.input("X", c.normal([1, 3, 4, 1]))
    c.node("Squeeze", [x], "Y", name="squeeze", axes=[0, 3])
    c.output("Y")
    c.save()

    c = Case("squeeze_op13_input", 13, "Squeeze with axes as input [2] (opset>=13): [2,3,1,5] -> [2,3,5]")
    x = c.input("X", c.normal([2, 3, 1, 5]))
    c.node("Squeeze", [x, c.i64("axes", [2])], "Y", name="squeeze")
    c.output("Y")
    c.save()

    c = Case("squeeze_op13_no_axes", 13, "Squeeze without axes removes every size-1 dim: [1,3,1,5] -> [3,5]")
    x = c.input("X", c.normal([1, 3, 1, 5]))
    c.node("Squeeze", [x], "Y", name="squeeze")
    c.output("Y")
    c.save()

    c = Case("unsqueeze_op11_attr", 11, "Unsqueeze with axes attribute [0,3] (opset<13): [3,4] -> [1,3,4,1]")
    x = c.input("X", c.normal([3, 4]))
    c.node("Unsqueeze", [x], "Y", name="unsqueeze", axes=[0, 3])
    c.output("Y")
    c.save()

    c = Case("unsqueeze_op13_input", 13,
             "Unsqueeze with axes as input [1,-1] (opset>=13): [2,3,4] -> [2,1,3,4,1]")
    x = c.input("X", c.normal([2, 3, 4]))
    c.node("Unsqueeze", [x, c.i64("axes", [1, -1])], "Y", name="unsqueeze")
    c.output("Y")
    c.save()

    # Slice
    c = Case("slice_axes_steps", 11, "Slice [2,6,7,8]: axes [1,3], starts [1,0], ends [5,7], steps [1,2]")
    x = c.input("X", c.normal([2, 6, 7, 8]))
    c.node("Slice", [x, c.i64("starts", [1, 0]), c.i64("ends", [5, 7]), c.i64("axes", [1, 3]),
                     c.i64("steps", [1, 2])], "Y", name="slice")
    c.output("Y")
    c.save()

    c = Case("slice_negative_indices", 13,
             "Slice [2,6,7,8]: axes [2,-1], starts [-4,-3], ends [-1,INT64_MAX], steps [1,1]")
    x = c.input("X", c.normal([2, 6, 7, 8]))
    c.node("Slice", [x, c.i64("starts", [-4, -3]), c.i64("ends", [-1, INT64_MAX]), c.i64("axes", [2, -1]),
                     c.i64("steps", [1, 1])], "Y", name="slice")
    c.output("Y")
    c.save()

    c = Case("slice_step2", 13, "Slice [2,6,7,8]: axes [2,3], starts [0,1], ends [7,8], steps [2,2]")
    x = c.input("X", c.normal([2, 6, 7, 8]))
    c.node("Slice", [x, c.i64("starts", [0, 1]), c.i64("ends", [7, 8]), c.i64("axes", [2, 3]),
                     c.i64("steps", [2, 2])], "Y", name="slice")
    c.output("Y")
    c.save()

    c = Case("slice_negative_step", 13,
             "Slice [2,6,7,8]: axis 3 reversed with step -2 from -1 to INT64_MIN (flip + subsample)")
    x = c.input("X", c.normal([2, 6, 7, 8]))
    c.node("Slice", [x, c.i64("starts", [-1]), c.i64("ends", [INT64_MIN]), c.i64("axes", [3]),
                     c.i64("steps", [-2])], "Y", name="slice")
    c.output("Y")
    c.save()

    c = Case("slice_no_axes_no_steps", 11, "Slice with only starts/ends (axes default to 0..r-1, steps 1)")
    x = c.input("X", c.normal([2, 6, 7, 8]))
    c.node("Slice", [x, c.i64("starts", [0, 1, 1, 0]), c.i64("ends", [2, 4, 6, 5])], "Y", name="slice")
    c.output("Y")
    c.save()

    # Pad
    pads_4d = [0, 0, 1, 2, 0, 0, 2, 1]  # [x1_begin.., x1_end..] for N,C,H,W
    for opset in (11, 18):
        c = Case(f"pad_constant_op{opset}", opset,
                 f"Pad constant, value 1.5, pads {pads_4d} (begins for N,C,H,W then ends)")
        x = c.input("X", c.normal([2, 3, 4, 5]))
        c.node("Pad", [x, c.i64("pads", pads_4d), c.f32("value", 1.5)], "Y", name="pad", mode="constant")
        c.output("Y")
        c.save()
        for mode in ("reflect", "edge"):
            c = Case(f"pad_{mode}_op{opset}", opset, f"Pad mode {mode}, pads {pads_4d}")
            x = c.input("X", c.normal([2, 3, 4, 5]))
            c.node("Pad", [x, c.i64("pads", pads_4d)], "Y", name="pad", mode=mode)
            c.output("Y")
            c.save()

    c = Case("pad_constant_axes_op18", 18,
             "Pad constant -0.5 with axes input [3,2] (opset 18): pads [W_begin=1, H_begin=2, W_end=0, H_end=1]")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Pad", [x, c.i64("pads", [1, 2, 0, 1]), c.f32("value", -0.5), c.i64("axes", [3, 2])], "Y",
           name="pad", mode="constant")
    c.output("Y")
    c.save()

    c = Case("pad_constant_default_value", 13, "Pad constant without constant_value input (pads with 0)")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Pad", [x, c.i64("pads", [0, 0, 1, 1, 0, 0, 1, 1])], "Y", name="pad")
    c.output("Y")
    c.save()

    # Identity, Dropout, Constant
    c = Case("identity", 16, "Identity")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Identity", [x], "Y", name="identity")
    c.output("Y")
    c.save()

    c = Case("dropout_op11", 11, "Dropout ratio attribute 0.5 (opset<12) - identity at inference")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Dropout", [x], "Y", name="dropout", ratio=0.5)
    c.output("Y")
    c.save()

    c = Case("dropout_op13", 13, "Dropout with ratio input 0.3, no training_mode (inference) - identity")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Dropout", [x, c.f32("ratio", 0.3)], "Y", name="dropout")
    c.output("Y")
    c.save()

    c = Case("constant_add", 11, "Constant node (value tensor [1,3,1,1]) feeding an Add")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    k = c.node("Constant", [], "K", name="const",
               value=numpy_helper.from_array(c.normal([1, 3, 1, 1]), name="K_value"))
    c.node("Add", [x, k], "Y", name="add")
    c.output("Y")
    c.save()

    c = Case("constant_value_float_add", 13, "Constant node with value_float attribute (scalar) feeding an Add")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    k = c.node("Constant", [], "K", name="const", value_float=0.75)
    c.node("Add", [x, k], "Y", name="add")
    c.output("Y")
    c.save()


def resize_cases():
    def resize(name, opset, xshape, note, scales=None, sizes=None, **attrs):
        c = Case(name, opset, note)
        x = c.input("X", c.normal(xshape))
        if opset == 11:
            # roi and scales are required inputs in opset 11: pass empty tensors.
            roi = c.init("roi", np.zeros([0], np.float32))
            if sizes is not None:
                ins = [x, roi, c.init("scales", np.zeros([0], np.float32)), c.i64("sizes", sizes)]
            else:
                ins = [x, roi, c.f32("scales", scales)]
        else:
            if sizes is not None:
                ins = [x, "", "", c.i64("sizes", sizes)]
            else:
                ins = [x, "", c.f32("scales", scales)]
        c.node("Resize", ins, "Y", name="resize", **attrs)
        c.output("Y")
        c.save()

    resize("resize_nearest_asym_floor_op11", 11, [2, 3, 4, 5],
           "nearest, asymmetric, nearest_mode floor, scales [1,1,2,2]; opset 11 with empty roi input "
           "(torch nn.Upsample(mode='nearest') export)",
           scales=[1, 1, 2, 2], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    resize("resize_nearest_asym_floor_scale1.5_op13", 13, [2, 3, 4, 6],
           "nearest, asymmetric, floor, non-integer scales [1,1,1.5,1.5] -> 6x9",
           scales=[1, 1, 1.5, 1.5], mode="nearest", coordinate_transformation_mode="asymmetric",
           nearest_mode="floor")
    resize("resize_nearest_halfpixel_rpf_sizes_op13", 13, [2, 3, 4, 5],
           "nearest, half_pixel, round_prefer_floor, sizes [2,3,7,8] (non-integer ratios)",
           sizes=[2, 3, 7, 8], mode="nearest", coordinate_transformation_mode="half_pixel",
           nearest_mode="round_prefer_floor")
    resize("resize_linear_halfpixel_scales_op13", 13, [2, 3, 4, 5],
           "linear (bilinear), half_pixel, scales [1,1,2,2] (torch align_corners=False)",
           scales=[1, 1, 2, 2], mode="linear", coordinate_transformation_mode="half_pixel")
    resize("resize_linear_halfpixel_sizes_op11", 11, [2, 3, 4, 5],
           "linear, half_pixel, sizes [2,3,6,9]; opset 11 with empty roi and empty scales inputs",
           sizes=[2, 3, 6, 9], mode="linear", coordinate_transformation_mode="half_pixel")
    resize("resize_linear_align_corners_sizes_op18", 18, [2, 3, 4, 5],
           "linear, align_corners, sizes [2,3,7,9]",
           sizes=[2, 3, 7, 9], mode="linear", coordinate_transformation_mode="align_corners")
    resize("resize_linear_align_corners_scales_op11", 11, [2, 3, 4, 5],
           "linear, align_corners, scales [1,1,2,2]; opset 11 with empty roi",
           scales=[1, 1, 2, 2], mode="linear", coordinate_transformation_mode="align_corners")
    resize("resize_linear_pytorch_half_pixel_sizes_op19", 19, [2, 3, 4, 5],
           "linear, pytorch_half_pixel, sizes [2,3,7,11]",
           sizes=[2, 3, 7, 11], mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
    resize("resize_linear_pytorch_half_pixel_out1_op19", 19, [2, 3, 4, 5],
           "linear, pytorch_half_pixel, sizes [2,3,1,8]: output dim 1 samples coordinate 0 "
           "(the case where it differs from half_pixel)",
           sizes=[2, 3, 1, 8], mode="linear", coordinate_transformation_mode="pytorch_half_pixel")
    resize("resize_linear_halfpixel_downscale_op18", 18, [2, 3, 8, 9],
           "linear, half_pixel, scales [1,1,0.5,0.5] (downsampling, antialias 0)",
           scales=[1, 1, 0.5, 0.5], mode="linear", coordinate_transformation_mode="half_pixel")
    resize("resize_nearest_asym_floor_op19", 19, [2, 3, 4, 5],
           "nearest, asymmetric, floor, scales [1,1,2,3]",
           scales=[1, 1, 2, 3], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    c = Case("upsample_nearest_op9", 9,
             "Upsample (opset 9; deprecated in 10) mode nearest with scales input [1,1,2,2]. "
             "Outside the 11-21 range on purpose")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Upsample", [x, c.f32("scales", [1, 1, 2, 2])], "Y", name="upsample", mode="nearest")
    c.output("Y")
    c.save()


def shape_pattern_cases():
    for opset, dyn in ((11, False), (13, False), (13, True)):
        name = f"shape_gather_reshape_op{opset}" + ("_dynbatch" if dyn else "")
        note = ("torch.onnx flatten pattern: Shape -> Gather(0) -> Unsqueeze -> Concat([n, -1]) -> Reshape"
                + ("; Unsqueeze axes as attribute" if opset < 13 else "; Unsqueeze axes as input"))
        if dyn:
            note += "; batch dim is symbolic 'N' in the model (2 in the data)"
        c = Case(name, opset, note)
        x = c.input("X", c.normal([2, 3, 4, 4]), dims=["N", 3, 4, 4] if dyn else None)
        shp = c.node("Shape", [x], "shape", name="shape")
        n = c.node("Gather", [shp, c.init("idx0", np.array(0, np.int64))], "batch", name="gather", axis=0)
        if opset < 13:
            n1 = c.node("Unsqueeze", [n], "batch_1d", name="unsqueeze", axes=[0])
        else:
            n1 = c.node("Unsqueeze", [n, c.i64("axes0", [0])], "batch_1d", name="unsqueeze")
        tgt = c.node("Concat", [n1, c.i64("minus1", [-1])], "target_shape", name="concat", axis=0)
        c.node("Reshape", [x, tgt], "Y", name="reshape")
        c.output("Y", dims=["N", 48] if dyn else None)
        c.save()

    c = Case("cast_float_to_float", 13, "Cast float -> float (no-op cast, as emitted by torch.onnx)")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    c.node("Cast", [x], "Y", name="cast", to=TensorProto.FLOAT)
    c.output("Y")
    c.save()

    c = Case("cast_shape_int64_to_float", 15, "Shape (int64) -> Cast to float; the output is the input shape")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    s = c.node("Shape", [x], "shape", name="shape")
    c.node("Cast", [s], "Y", name="cast", to=TensorProto.FLOAT)
    c.output("Y")
    c.save()

    c = Case("shape_cast_mul", 14,
             "Shape -> Cast float -> Mul with a runtime float tensor (mixes a shape-derived value into math)")
    x = c.input("X", c.normal([2, 3, 4, 5]))
    v = c.input("V", c.normal([4]))
    s = c.node("Shape", [x], "shape", name="shape")
    sf = c.node("Cast", [s], "shape_f", name="cast", to=TensorProto.FLOAT)
    c.node("Mul", [sf, v], "Y", name="mul")
    c.output("Y")
    c.save()


# ---------------------------------------------------------------------------
# Whole networks
# ---------------------------------------------------------------------------

def network_cases():
    # (a) classifier
    c = Case("net_a_classifier", 11,
             "conv-BN-ReLU-maxpool-conv-BN-ReLU-GAP-flatten-Gemm classifier, 10 classes")
    x = c.input("input", c.normal([2, 3, 12, 12]))
    h = c.relu(c.bn(c.conv(x, 3, 8, 3, "conv1"), 8, "bn1"), "relu1")
    h = c.node("MaxPool", [h], name="pool1", kernel_shape=[2, 2], strides=[2, 2])
    h = c.relu(c.bn(c.conv(h, 8, 16, 3, "conv2"), 16, "bn2"), "relu2")
    h = c.node("GlobalAveragePool", [h], name="gap")
    h = c.node("Flatten", [h], name="flatten", axis=1)
    h = c.node("Gemm", [h, c.weight("fc.weight", [10, 16]), c.init("fc.bias", c.normal([10], 0.1))],
               "logits", name="fc", transB=1)
    c.output("logits")
    c.save()

    # (b) residual blocks
    c = Case("net_b_resnet_blocks", 13,
             "basic residual block (conv-BN-ReLU-conv-BN + identity, ReLU) then a stride-2 block "
             "with a 1x1 conv+BN downsample branch")
    x = c.input("input", c.normal([2, 8, 8, 8]))
    h = c.relu(c.bn(c.conv(x, 8, 8, 3, "l1.conv1", bias=False), 8, "l1.bn1"), "l1.relu1")
    h = c.bn(c.conv(h, 8, 8, 3, "l1.conv2", bias=False), 8, "l1.bn2")
    h = c.node("Add", [h, x], name="l1.add")
    b1 = c.relu(h, "l1.relu2")
    h = c.relu(c.bn(c.conv(b1, 8, 16, 3, "l2.conv1", stride=2, bias=False), 16, "l2.bn1"), "l2.relu1")
    h = c.bn(c.conv(h, 16, 16, 3, "l2.conv2", bias=False), 16, "l2.bn2")
    d = c.bn(c.conv(b1, 8, 16, 1, "l2.downsample.conv", stride=2, pad=0, bias=False), 16, "l2.downsample.bn")
    h = c.node("Add", [h, d], name="l2.add")
    c.node("Relu", [h], "output", name="l2.relu2")
    c.output("output")
    c.save()

    # (c) VGG-like
    c = Case("net_c_vgg", 15,
             "VGG-like: conv-ReLU-conv-ReLU-maxpool-conv-ReLU-maxpool-flatten-Gemm-ReLU-Dropout-Gemm")
    x = c.input("input", c.normal([2, 3, 16, 16]))
    h = c.relu(c.conv(x, 3, 8, 3, "features.0"), "features.1")
    h = c.relu(c.conv(h, 8, 8, 3, "features.2"), "features.3")
    h = c.node("MaxPool", [h], name="features.4", kernel_shape=[2, 2], strides=[2, 2])
    h = c.relu(c.conv(h, 8, 16, 3, "features.5"), "features.6")
    h = c.node("MaxPool", [h], name="features.7", kernel_shape=[2, 2], strides=[2, 2])
    h = c.node("Flatten", [h], name="flatten", axis=1)
    h = c.relu(c.gemm(h, 16 * 4 * 4, 32, "classifier.0"), "classifier.1")
    h = c.node("Dropout", [h, c.f32("classifier.2.ratio", 0.5)], name="classifier.2")
    h = c.node("Gemm", [h, c.weight("classifier.3.weight", [10, 32]),
                        c.init("classifier.3.bias", c.normal([10], 0.1))], "logits", name="classifier.3", transB=1)
    c.output("logits")
    c.save()

    # (d) segmentation
    c = Case("net_d_segmentation", 18,
             "tiny segmentation net: conv s2-ReLU-conv-ReLU at H/2, then two upsampling paths back to HxW "
             "(ConvTranspose k2 s2, and bilinear Resize half_pixel x2) summed, then 1x1 conv to 3 classes")
    x = c.input("input", c.normal([2, 3, 16, 16]))
    h = c.relu(c.conv(x, 3, 8, 3, "enc.conv1", stride=2), "enc.relu1")
    h = c.relu(c.conv(h, 8, 8, 3, "enc.conv2"), "enc.relu2")
    up1 = c.node("ConvTranspose", [h, c.weight("dec.up.weight", [8, 8, 2, 2], 0.3),
                                   c.init("dec.up.bias", c.normal([8], 0.1))],
                 name="dec.up", kernel_shape=[2, 2], strides=[2, 2])
    up2 = c.node("Resize", [h, "", c.f32("dec.resize.scales", [1, 1, 2, 2])], name="dec.resize",
                 mode="linear", coordinate_transformation_mode="half_pixel")
    h = c.node("Add", [up1, up2], name="dec.add")
    h = c.relu(h, "dec.relu")
    h = c.node("Conv", [h, c.weight("head.weight", [3, 8, 1, 1]), c.init("head.bias", c.normal([3], 0.1))],
               "output", name="head", kernel_shape=[1, 1])
    c.output("output")
    c.save()

    # (e) dense block
    c = Case("net_e_dense_block", 21,
             "DenseNet-like block: two BN-ReLU-conv3x3 layers (growth 4) whose outputs are concatenated "
             "onto the running feature map, then a transition BN-ReLU-conv1x1-avgpool2x2")
    x = c.input("input", c.normal([2, 8, 6, 6]))
    feats, ch = x, 8
    for i in range(2):
        h = c.relu(c.bn(feats, ch, f"dense.{i}.bn"), f"dense.{i}.relu")
        h = c.conv(h, ch, 4, 3, f"dense.{i}.conv", bias=False)
        feats = c.node("Concat", [feats, h], name=f"dense.{i}.concat", axis=1)
        ch += 4
    h = c.relu(c.bn(feats, ch, "trans.bn"), "trans.relu")
    h = c.conv(h, ch, 8, 1, "trans.conv", pad=0, bias=False)
    c.node("AveragePool", [h], "output", name="trans.pool", kernel_shape=[2, 2], strides=[2, 2])
    c.output("output")
    c.save()

    def classifier_head(c, h, channels):
        """Global average pool, flatten and a 10-class Gemm named `logits`; saves the case."""
        h = c.node("GlobalAveragePool", [h], name="pool")
        h = c.node("Flatten", [h], name="flatten", axis=1)
        c.node("Gemm", [h, c.weight("classifier.weight", [10, channels]), c.init("classifier.bias", c.normal([10], 0.1))],
               "logits", name="classifier", transB=1)
        c.output("logits")
        c.save()

    # (f) a CIFAR-10-shaped classifier (random weights), for runs on real 32x32 images
    # (the Slurm split-and-merge test)
    c = Case("net_f_cifar", 13,
             "CIFAR-10-shaped classifier: conv-ReLU-maxpool-conv-ReLU-maxpool-conv-ReLU-GAP-flatten-Gemm, "
             "input [N, 3, 32, 32], 10 classes")
    x = c.input("input", c.normal([2, 3, 32, 32]))
    h = c.relu(c.conv(x, 3, 8, 3, "features.0"), "features.1")
    h = c.node("MaxPool", [h], name="features.2", kernel_shape=[2, 2], strides=[2, 2])
    h = c.relu(c.conv(h, 8, 16, 3, "features.3"), "features.4")
    h = c.node("MaxPool", [h], name="features.5", kernel_shape=[2, 2], strides=[2, 2])
    h = c.relu(c.conv(h, 16, 16, 3, "features.6"), "features.7")
    classifier_head(c, h, 16)

    # (g) MobileNetV2's inverted residual: 1x1 expansion, depthwise 3x3, linear 1x1
    # projection plus the identity, all with ReLU6 (Clip 0..6)
    c = Case("net_g_inverted_residual", 13,
             "stem conv3x3-ReLU6, then an inverted residual: 1x1 expand (x4)-ReLU6, depthwise 3x3-ReLU6, "
             "linear 1x1 project + identity; a strided depthwise block; GAP-flatten-Gemm")
    x = c.input("input", c.normal([2, 3, 8, 8]))

    def relu6(h, name):
        return c.node("Clip", [h, c.f32(f"{name}.min", 0.0), c.f32(f"{name}.max", 6.0)], name=name)

    h = relu6(c.conv(x, 3, 8, 3, "stem"), "stem.relu6")
    e = relu6(c.conv(h, 8, 32, 1, "block1.expand", pad=0), "block1.relu6a")
    e = relu6(c.conv(e, 32, 32, 3, "block1.depthwise", group=32), "block1.relu6b")
    p = c.conv(e, 32, 8, 1, "block1.project", pad=0)
    h = c.node("Add", [h, p], name="block1.add")
    e = relu6(c.conv(h, 8, 32, 1, "block2.expand", pad=0), "block2.relu6a")
    e = relu6(c.conv(e, 32, 32, 3, "block2.depthwise", stride=2, group=32), "block2.relu6b")
    h = c.conv(e, 32, 16, 1, "block2.project", pad=0)
    classifier_head(c, h, 16)


# ---------------------------------------------------------------------------
# Bad inputs
# ---------------------------------------------------------------------------

def bad_cases():
    BAD_DIR.mkdir(parents=True)
    cases = []
    rng = np.random.default_rng(seed_for("bad"))

    def graph_model(nodes, inputs, outputs, inits=(), opset=13):
        g = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=7,
                              producer_name=PRODUCER)
        m.producer_version = "1"
        return m

    def vi(name, shape, t=TensorProto.FLOAT):
        return helper.make_tensor_value_info(name, t, shape)

    def add(file, problem, target, description, expect="error"):
        cases.append({"file": file, "problem": problem, "node_or_tensor": target, "expect": expect,
                      "description": description})

    # truncated: the first half of a valid model (net_a_classifier)
    good = (ONNX_DIR / "net_a_classifier" / "model.onnx").read_bytes()
    cut = len(good) // 2
    while True:  # make sure the cut really is unparseable
        try:
            onnx.load_model_from_string(good[:cut])
            cut += 1
        except Exception:  # noqa: BLE001
            break
    (BAD_DIR / "truncated.onnx").write_bytes(good[:cut])
    add("truncated.onnx", "truncated", None,
        f"first {cut} of {len(good)} bytes of onnx/net_a_classifier/model.onnx; protobuf decoding must fail")

    # garbage: random bytes
    while True:
        junk = rng.integers(0, 256, size=1024, dtype=np.uint8).tobytes()
        try:
            onnx.load_model_from_string(junk)
        except Exception:  # noqa: BLE001
            break
    (BAD_DIR / "garbage.onnx").write_bytes(junk)
    add("garbage.onnx", "garbage", None, "1024 random bytes; not a protobuf ModelProto")

    # missing initializer
    w_name = "conv_missing.weight"
    m = graph_model(
        [helper.make_node("Conv", ["X", w_name, "conv_missing.bias"], ["Y"], name="conv_missing",
                          kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
        [vi("X", [1, 3, 8, 8])], [vi("Y", [1, 4, 8, 8])],
        [numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "conv_missing.bias")])
    (BAD_DIR / "missing_initializer.onnx").write_bytes(m.SerializeToString())
    add("missing_initializer.onnx", "missing_tensor", w_name,
        "Conv node 'conv_missing' reads weight 'conv_missing.weight', which is neither an initializer, "
        "a graph input nor a node output")

    # unknown op
    m = graph_model([helper.make_node("FancyOp", ["X"], ["Y"], name="fancy_1")],
                    [vi("X", [1, 3, 4, 4])], [vi("Y", [1, 3, 4, 4])])
    (BAD_DIR / "unknown_op.onnx").write_bytes(m.SerializeToString())
    add("unknown_op.onnx", "unsupported_op", "fancy_1",
        "node 'fancy_1' has op_type 'FancyOp' (default domain), which does not exist; "
        "the error should name both the node and 'FancyOp'")

    # int32 weight
    w = numpy_helper.from_array(rng.integers(-3, 4, size=[4, 3, 3, 3]).astype(np.int32), "conv_int.weight")
    m = graph_model([helper.make_node("Conv", ["X", "conv_int.weight"], ["Y"], name="conv_int",
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                    [vi("X", [1, 3, 8, 8])], [vi("Y", [1, 4, 8, 8])], [w])
    (BAD_DIR / "int_tensor.onnx").write_bytes(m.SerializeToString())
    add("int_tensor.onnx", "unsupported_dtype", "conv_int.weight",
        "Conv 'conv_int' uses an INT32 initializer 'conv_int.weight' [4,3,3,3] as its weight "
        "(float32 input); only float weights are valid")

    # shape mismatch
    w = numpy_helper.from_array(rng.standard_normal([4, 5, 3, 3]).astype(np.float32), "conv_bad.weight")
    m = graph_model([helper.make_node("Conv", ["X", "conv_bad.weight"], ["Y"], name="conv_bad",
                                      kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                    [vi("X", [1, 3, 8, 8])], [vi("Y", [1, 4, 8, 8])], [w])
    (BAD_DIR / "shape_mismatch.onnx").write_bytes(m.SerializeToString())
    add("shape_mismatch.onnx", "shape_mismatch", "conv_bad",
        "Conv 'conv_bad' has weight [4,5,3,3] (5 input channels) but its input X is [1,3,8,8]")

    # absurd dims
    m = graph_model([helper.make_node("Relu", ["huge_input"], ["Y"], name="relu")],
                    [vi("huge_input", [1, 3, 100000000, 100000000])],
                    [vi("Y", [1, 3, 100000000, 100000000])])
    (BAD_DIR / "absurd_dims.onnx").write_bytes(m.SerializeToString())
    add("absurd_dims.onnx", "absurd_size", "huge_input",
        "graph input 'huge_input' declares shape [1,3,100000000,100000000] (3e16 elements, 1.2e17 bytes); "
        "must be rejected before allocating, without crashing or overflowing Int")

    # mismatched add
    m = graph_model([helper.make_node("Add", ["A", "B"], ["Y"], name="add_bad")],
                    [vi("A", [1, 3, 4, 4]), vi("B", [1, 5, 4, 4])], [vi("Y", [1, 5, 4, 4])])
    (BAD_DIR / "mismatched_add.onnx").write_bytes(m.SerializeToString())
    add("mismatched_add.onnx", "broadcast_mismatch", "add_bad",
        "Add 'add_bad' of [1,3,4,4] and [1,5,4,4]: channel dims 3 and 5 cannot broadcast")

    # external data (valid) + external data with the weights file missing
    c = Case("external", 13, "")
    x = c.input("X", c.normal([2, 3, 6, 6]))
    h = c.relu(c.conv(x, 3, 4, 3, "conv1"), "relu1")
    c.node("Conv", [h, c.weight("conv2.weight", [2, 4, 1, 1]), c.init("conv2.bias", c.normal([2], 0.1))], "Y",
           name="conv2", kernel_shape=[1, 1])
    c.output("Y", dims=[2, 2, 6, 6])
    model = c._model([(TensorProto.FLOAT, [2, 2, 6, 6])])
    onnx.checker.check_model(model, full_check=True)
    ext_dir = BAD_DIR / "external"
    ext_dir.mkdir()
    onnx.save_model(model, str(ext_dir / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
    onnx.checker.check_model(str(ext_dir / "model.onnx"), full_check=True)
    y = make_session(ext_dir / "model.onnx").run(None, {"X": x_val(c)})[0]
    write_tensor(ext_dir / "input_0.pb", x_val(c), "X")
    write_tensor(ext_dir / "output_0.pb", y, "Y")
    add("external/model.onnx", "external_data", None,
        "VALID model: every initializer (conv1.weight, conv1.bias, conv2.weight, conv2.bias) is stored in "
        "external/weights.bin (data_location EXTERNAL, location 'weights.bin', offset/length keys). "
        "Must load and reproduce external/output_0.pb from external/input_0.pb", expect="ok")

    miss_dir = BAD_DIR / "external_missing"
    miss_dir.mkdir()
    shutil.copyfile(ext_dir / "model.onnx", miss_dir / "model.onnx")
    add("external_missing/model.onnx", "missing_external_file", "weights.bin",
        "same model as external/model.onnx, but weights.bin is absent next to it; the error should name the "
        "missing file (and ideally the tensor, e.g. conv1.weight)")

    (BAD_DIR / "cases.json").write_text(dump_list(cases))
    return cases


def dump_list(entries):
    """JSON list with one entry per line (readable diffs)."""
    return "[\n" + ",\n".join("  " + json.dumps(e) for e in entries) + "\n]\n"


def x_val(case):
    return case.inputs[0][1]


def main():
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}")
    for d in (ONNX_DIR, BAD_DIR):
        if d.exists():
            shutil.rmtree(d)
    ONNX_DIR.mkdir(parents=True)

    conv_cases()
    quantized_cases()
    conv_transpose_cases()
    norm_and_activation_cases()
    pool_cases()
    gemm_matmul_cases()
    elementwise_cases()
    shape_op_cases()
    resize_cases()
    shape_pattern_cases()
    network_cases()

    (ONNX_DIR / "MANIFEST.json").write_text(dump_list(MANIFEST))
    bad = bad_cases()

    print(f"wrote {len(MANIFEST)} cases to {ONNX_DIR.relative_to(ROOT)}, {len(bad)} bad-input entries")
    if REFUSED:
        print("onnxruntime refused:")
        for name, why in REFUSED:
            print(f"  {name}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
