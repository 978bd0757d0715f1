"""Small CIFAR-10 models shared by SNNKit's fixture and benchmark scripts.

Python and PyTorch are only used to produce ONNX fixtures and peer
benchmarks; nothing here is a runtime dependency of snnkit.

    cifar_resnet20(num_classes=10)   He et al. (2016) CIFAR ResNet-20
    cifar_vgg11(width=0.5)           VGG-11 with BatchNorm for 32x32 inputs
    cifar_mobilenetv2(width=0.5)     MobileNetV2 (depthwise 3x3, ReLU6, inverted residuals) for 32x32 inputs
    export_onnx(model, path, input_shape, opset=17)
"""

from __future__ import annotations

import os
import warnings
from typing import Sequence

import torch
import torch.nn as nn

__all__ = [
    "BasicBlock",
    "CifarResNet",
    "cifar_resnet20",
    "CifarVGG",
    "cifar_vgg11",
    "InvertedResidual",
    "CifarMobileNetV2",
    "cifar_mobilenetv2",
    "export_onnx",
    "inline_initializer_identities",
    "randomize_batchnorm_",
    "count_macs",
    "CIFAR_MODELS",
]


# --------------------------------------------------------------------------
# ResNet-20 (He et al., "Deep Residual Learning", section 4.2)
# --------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """3x3 conv-BN-ReLU, 3x3 conv-BN, plus identity or 1x1-conv+BN shortcut
    (option B), followed by ReLU."""

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )
        else:
            self.shortcut = nn.Sequential()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return self.relu(out)


class CifarResNet(nn.Module):
    """CIFAR ResNet with 6n+2 layers: conv3x3(16) then three stages of n
    BasicBlocks with 16/32/64 channels (stride 1/2/2), global average pool
    and a linear classifier."""

    def __init__(self, num_blocks: Sequence[int] = (3, 3, 3), num_classes: int = 10):
        super().__init__()
        self.in_planes = 16
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(64, num_blocks[2], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, num_classes)
        self._init_weights()

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def cifar_resnet20(num_classes: int = 10) -> CifarResNet:
    """ResNet-20 for 32x32 inputs (272,474 parameters with the option-B
    shortcuts)."""
    return CifarResNet((3, 3, 3), num_classes=num_classes)


# --------------------------------------------------------------------------
# VGG-11 with BatchNorm for CIFAR
# --------------------------------------------------------------------------

VGG11_CFG = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


class CifarVGG(nn.Module):
    """VGG feature stack (conv3x3-BN-ReLU, 2x2 max pools) on a 32x32 input,
    which leaves a 1x1 spatial map; flatten and one Linear layer."""

    def __init__(self, cfg: Sequence = VGG11_CFG, width: float = 1.0, num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                out_ch = max(1, int(round(v * width)))
                layers += [
                    nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
                    nn.BatchNorm2d(out_ch),
                    nn.ReLU(inplace=True),
                ]
                in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(in_ch, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


def cifar_vgg11(width: float = 0.5, num_classes: int = 10) -> CifarVGG:
    """VGG-11-BN for 32x32 inputs; channel counts scaled by `width`
    (width=0.5 gives 32,64,128,128,256,256,256,256)."""
    return CifarVGG(VGG11_CFG, width=width, num_classes=num_classes)


# --------------------------------------------------------------------------
# MobileNetV2 for CIFAR (Sandler et al., "MobileNetV2: Inverted Residuals and
# Linear Bottlenecks", 2018), with the strides of the CIFAR adaptations: the
# stem and the first two stages keep 32x32, so the map is 4x4 at the end.
# --------------------------------------------------------------------------

# (expansion t, output channels c at width 1, repeats n, first stride s)
MOBILENETV2_CFG = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class InvertedResidual(nn.Module):
    """1x1 expansion (ReLU6), depthwise 3x3 (ReLU6), linear 1x1 projection;
    an identity shortcut when the stride is 1 and the channels match."""

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int):
        super().__init__()
        hidden = in_ch * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [nn.Conv2d(in_ch, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        self.block = nn.Sequential(*layers)
        self.shortcut = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.shortcut else y


class CifarMobileNetV2(nn.Module):
    """Stem conv3x3 (stride 1), the seven inverted-residual stages, a 1x1
    conv to `last` channels, global average pool and one Linear layer."""

    def __init__(self, width: float = 0.5, num_classes: int = 10, last: int = 1280):
        super().__init__()
        ch = lambda c: max(8, int(round(c * width / 4)) * 4)  # noqa: E731
        in_ch = ch(32)
        layers: list[nn.Module] = [nn.Conv2d(3, in_ch, 3, padding=1, bias=False), nn.BatchNorm2d(in_ch), nn.ReLU6(inplace=True)]
        for t, c, n, s in MOBILENETV2_CFG:
            for i in range(n):
                layers.append(InvertedResidual(in_ch, ch(c), s if i == 0 else 1, t))
                in_ch = ch(c)
        last_ch = ch(last)
        layers += [nn.Conv2d(in_ch, last_ch, 1, bias=False), nn.BatchNorm2d(last_ch), nn.ReLU6(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(last_ch, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def cifar_mobilenetv2(width: float = 0.5, num_classes: int = 10) -> CifarMobileNetV2:
    """MobileNetV2 for 32x32 inputs; channels scaled by `width` (0.5: stem 16,
    stages 8, 12, 16, 32, 48, 80, 160, last 1x1 conv 640)."""
    return CifarMobileNetV2(width=width, num_classes=num_classes)


CIFAR_MODELS = {
    "cifar_resnet20": cifar_resnet20,
    "cifar_vgg11": cifar_vgg11,
    "cifar_mobilenetv2": cifar_mobilenetv2,
}


# --------------------------------------------------------------------------
# Random but non-trivial BatchNorm parameters
# --------------------------------------------------------------------------


@torch.no_grad()
def randomize_batchnorm_(
    model: nn.Module,
    input_shape: Sequence[int],
    seed: int = 0,
    calibration_batches: int = 2,
) -> nn.Module:
    """Give every BatchNorm layer random affine parameters and running
    statistics measured on random inputs, then return the model in eval mode.

    Freshly built models have BN weight 1, bias 0, mean 0 and var 1, so BN
    is the identity at inference and an importer bug in BN would go
    unnoticed by a numerical check. Calibrating the running statistics on
    random data also keeps activations of deep random networks at a sane
    scale. `input_shape` should have a batch of at least 2 (BN in training
    mode needs more than one value per channel).
    """
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return model.eval()
    saved_momentum = []
    for bn in bns:
        bn.reset_running_stats()
        saved_momentum.append(bn.momentum)
        bn.momentum = None  # cumulative average over the calibration batches
        if bn.affine:
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=gen) + 0.5)  # U(0.5, 1.5)
            bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen) * 0.1)
    model.train()
    for _ in range(calibration_batches):
        model(torch.randn(*input_shape, generator=gen))
    for bn, mom in zip(bns, saved_momentum):
        bn.momentum = mom
    return model.eval()


# --------------------------------------------------------------------------
# MAC counting
# --------------------------------------------------------------------------


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: Sequence[int]) -> dict:
    """Multiply-accumulates per image of every Conv2d, ConvTranspose2d and Linear
    layer, counted with forward hooks on one forward pass of `input_shape`.

    Conv2d: output elements x (in_channels / groups) x kernel area.
    ConvTranspose2d (counted under ``conv``): input elements x (out_channels /
    groups) x kernel area, each input scattered over the kernel.
    Linear: output elements x in_features. Everything else (BN, pooling,
    additions, activations) is not counted. Returns a dict with ``total``,
    ``conv``, ``linear`` (all per image) and ``layers`` (count of hooked
    modules that ran).
    """
    counts = {"conv": 0, "linear": 0, "layers": 0}
    batch = int(input_shape[0])

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        counts["conv"] += out.numel() // batch * (m.in_channels // m.groups) * k
        counts["layers"] += 1

    def transposed_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        counts["conv"] += inp[0].numel() // batch * (m.out_channels // m.groups) * k
        counts["layers"] += 1

    def linear_hook(m, inp, out):
        counts["linear"] += out.numel() // batch * m.in_features
        counts["layers"] += 1

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.ConvTranspose2d):
            handles.append(m.register_forward_hook(transposed_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(*input_shape))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    counts["total"] = counts["conv"] + counts["linear"]
    return counts


# --------------------------------------------------------------------------
# ONNX export
# --------------------------------------------------------------------------


def inline_initializer_identities(model_proto):
    """Remove ``Identity`` nodes whose input is an initializer.

    The TorchScript exporter deduplicates initializers with equal contents
    (for example the all-ones weights of freshly built BatchNorm layers) and
    re-creates the other names with Identity nodes. This pass copies the
    initializer under the Identity's output name instead, so the graph only
    holds the operators the network really uses. Returns the number of
    nodes removed; `model_proto` is changed in place.
    """
    graph = model_proto.graph
    inits = {t.name: t for t in graph.initializer}
    graph_outputs = {o.name for o in graph.output}
    keep, removed = [], 0
    for node in graph.node:
        if (
            node.op_type == "Identity"
            and node.input[0] in inits
            and node.output[0] not in graph_outputs
        ):
            t = graph.initializer.add()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            removed += 1
        else:
            keep.append(node)
    if removed:
        del graph.node[:]
        graph.node.extend(keep)
    return removed



def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    input_shape: Sequence[int],
    opset: int = 17,
    dynamic_batch: bool = True,
    example: torch.Tensor | None = None,
    fold_bn: bool = False,
    strip_identities: bool = True,
) -> str:
    """Export `model` (put into eval mode) to ONNX with the classic
    TorchScript exporter.

    The graph has one input named ``input`` and one output named ``output``
    (a model returning a dict, such as torchvision segmentation models,
    gets ``output`` for its first entry and ``output_<key>`` for the
    rest). The batch axis is dynamic unless ``dynamic_batch=False``.

    BatchNormalization nodes stay in the graph by default. With
    ``training=TrainingMode.EVAL`` and constant folding on, the TorchScript
    exporter runs its eval peephole pass, which folds every BN that follows
    a Conv into the Conv weights. So the model is put into eval mode here
    and exported with ``TrainingMode.PRESERVE``: that exports inference
    behaviour (BN uses running statistics, no Dropout) and still constant
    folds, but skips the Conv+BN fusion. ``fold_bn=True`` uses
    ``TrainingMode.EVAL`` and gives the fused graph instead.

    With ``strip_identities`` (default) the Identity nodes the exporter adds
    for deduplicated initializers are removed again
    (see `inline_initializer_identities`).
    """
    model.eval()
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if example is None:
        example = torch.zeros(*input_shape, dtype=torch.float32)

    with torch.no_grad():
        sample_out = model(example)
    if isinstance(sample_out, dict):
        keys = list(sample_out.keys())
        output_names = ["output"] + [f"output_{k}" for k in keys[1:]]
    elif isinstance(sample_out, (tuple, list)):
        output_names = ["output"] + [f"output_{i}" for i in range(1, len(sample_out))]
    else:
        output_names = ["output"]

    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {"input": {0: "batch"}}
        for n in output_names:
            dynamic_axes[n] = {0: "batch"}

    kwargs = dict(
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=["input"],
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        # The model is in eval mode, so PRESERVE exports inference
        # behaviour; see the docstring for why not EVAL.
        training=torch.onnx.TrainingMode.EVAL if fold_bn else torch.onnx.TrainingMode.PRESERVE,
    )
    # torch >= 2.9 defaults to the dynamo exporter; ask for the TorchScript
    # one, which emits plain Conv/BatchNormalization/Relu/Gemm nodes.
    import inspect

    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), path, **kwargs)

    if strip_identities:
        import onnx

        proto = onnx.load(path)
        if inline_initializer_identities(proto):
            onnx.save(proto, path)
    return path


if __name__ == "__main__":  # quick self-check
    torch.manual_seed(0)
    for name, ctor in CIFAR_MODELS.items():
        m = ctor().eval()
        n = sum(p.numel() for p in m.parameters())
        y = m(torch.randn(2, 3, 32, 32))
        macs = count_macs(m, (1, 3, 32, 32))["total"]
        print(f"{name}: {n} parameters, {macs} MACs/image, output {tuple(y.shape)}")
