// The umbrella module: one import for the whole pipeline
// (import -> graph passes -> calibration -> simulation -> evaluation -> report).
@_exported import SNNSupport
@_exported import SNNTensor
@_exported import SNNGraph
@_exported import SNNONNX
@_exported import SNNData
@_exported import SNNTasks
@_exported import SNNConversion
@_exported import SNNSpikeKernels
@_exported import SNNSimulation
@_exported import SNNEvaluation
@_exported import SNNReport
@_exported import SNNPipeline
@_exported import SNNNIR
