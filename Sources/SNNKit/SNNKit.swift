@_exported import SNNTensor
@_exported import SNNGraph
@_exported import SNNONNX
