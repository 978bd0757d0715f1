import Foundation
import SNNConversion
import SNNEvaluation
import SNNGraph
import SNNONNX
import SNNTasks

/// Progress callbacks of a pipeline run (all optional).
public struct PipelineProgress {
    /// After every calibration batch.
    public var calibration: ((CalibrationProgress) -> Void)?
    /// After every evaluation batch: (images done, images in all).
    public var simulation: ((Int, Int) -> Void)?
    /// Before each baseline threshold rule, with its name.
    public var baseline: ((String) -> Void)?

    /// Callbacks for the steps that report progress.
    public init(calibration: ((CalibrationProgress) -> Void)? = nil, simulation: ((Int, Int) -> Void)? = nil,
                baseline: ((String) -> Void)? = nil) {
        self.calibration = calibration
        self.simulation = simulation
        self.baseline = baseline
    }
}

/// What one `evaluate` run measured: the conversion (when it converted), the evaluation and
/// any baselines. `RunReport(command:model:run:)` turns it into a report.
public struct PipelineRun: Sendable {
    /// The conversion, when the model was converted in this run.
    public var conversion: ConversionResult?
    /// The low-latency calibrations after the conversion, when any ran.
    public var tuning: LatencyTuningReport? = nil
    /// ANN, clip-ANN and SNN scores, activity and energy.
    public var evaluation: EvaluationResult
    /// The baseline threshold rules, when asked for.
    public var baselines: [BaselineRun]?
    /// The integers of the simulated SNN, when it is an integer SNN.
    public var quantization: QuantizationRecord? = nil
}

/// The steps `snnkit convert`, `simulate` and `eval` run, for Swift callers: load, convert
/// with calibration data, simulate and score against the ANN.
public enum Pipeline {
    /// Loads an ONNX model.
    public static func loadModel(_ path: String) throws -> Graph {
        try ONNXImporter.load(contentsOf: URL(fileURLWithPath: path))
    }

    /// Converts `model` (a ReLU network) with thresholds calibrated on `calibration`; the
    /// converted graph records the settings and `sourceModel` (default: the model's file
    /// name) in its `ConvertedModelInfo`.
    public static func convert(_ model: Graph, calibration: any CalibrationSource, options: ConversionOptions = ConversionOptions(),
                               sourceModel: String? = nil, progress: ((CalibrationProgress) -> Void)? = nil) throws -> ConversionResult {
        try checkMemory(model, calibrating: calibration)
        var result = try Converter(options: options).convert(model, calibration: calibration, progress: progress)
        if var info = try ConvertedModelInfo(reading: result.graph) {
            let name = sourceModel ?? (model.source.isEmpty ? nil : URL(fileURLWithPath: model.source).lastPathComponent)
            info.sourceModel = name
            info.write(into: &result.graph)
        }
        return result
    }

    /// Simulates `model` on `data` and scores ANN, clip-ANN and SNN (at every checkpoint)
    /// for `task`. The ANN is recovered from the converted model; `.auto` delay uses the
    /// model's stored estimate.
    public static func simulate(_ model: ConvertedModel, on data: any EvaluationData, task: EvaluationTask = .defaultClassification,
                                settings: SimulationSettings, progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        let evaluator = try model.evaluator(settings, task: task)
        try checkMemory(model.graph, evaluating: data, budget: settings.memoryBudget)
        return try evaluator.evaluate(data, progress: progress)
    }

    /// `snnkit eval`: converts `model` on `calibration` when it is a ReLU network (a
    /// converted model is used as it is), quantizes it when `quantization` is given (the
    /// integer SNN is then scored against the float ANN), then simulates and scores it on
    /// `data`; with `baselines`, also converts with the standard baseline rules on the same
    /// batches. A model converted here is tuned for short runs by `tuning` (`tune`; readout
    /// starts chosen on data by default) before it is quantized. Every setting is checked
    /// before the conversion starts.
    public static func evaluate(_ model: Graph, calibration: (any CalibrationSource)?, conversion: ConversionOptions = ConversionOptions(),
                                tuning: LatencyTuning = .standard, quantization: QuantizationOptions? = nil, data: any EvaluationData,
                                task: EvaluationTask = .defaultClassification, settings: SimulationSettings,
                                baselines: Bool = false, progress: PipelineProgress = PipelineProgress()) throws -> PipelineRun {
        let t = try evaluationTallies(model, calibration: calibration, conversion: conversion, tuning: tuning, quantization: quantization,
                                      data: data, task: task, settings: settings, baselines: baselines, progress: progress)
        return PipelineRun(conversion: t.conversion, tuning: t.tuning, evaluation: t.main.result(), baselines: t.baselines?.map(\.run),
                           quantization: t.quantization)
    }

    /// The statistics behind `evaluate`, before they become scores.
    static func evaluationTallies(_ model: Graph, calibration: (any CalibrationSource)?, conversion: ConversionOptions,
                                  tuning: LatencyTuning = .standard, quantization: QuantizationOptions?, data: any EvaluationData, task: EvaluationTask,
                                  settings: SimulationSettings, baselines: Bool, progress: PipelineProgress) throws -> RunTallies {
        try settings.validate()
        try quantization?.validate()
        try tuning.validate()
        let alreadyConverted = !model.neuronLayers().isEmpty
        if baselines && (alreadyConverted || calibration == nil) {
            throw PipelineError("baselines need calibration data and an unconverted model: the baseline rules convert the ReLU network again")
        }
        try checkMemory(model, evaluating: data, budget: settings.memoryBudget)
        var result: ConversionResult? = nil
        var tuned: LatencyTuningReport? = nil
        var converted: ConvertedModel
        let ann: Graph
        if alreadyConverted {
            converted = try ConvertedModel(model)
            ann = converted.ann
        } else {
            guard let calibration else {
                let name = model.source.isEmpty ? "the model" : model.source
                throw PipelineError("\(name) is not converted yet: pass calibration data (--calib DATA) to convert it")
            }
            let r = try convert(model, calibration: calibration, options: conversion, progress: progress.calibration)
            result = r
            converted = try ConvertedModel(r)
            ann = try Converter.prepare(model)
            if !tuning.isEmpty { (converted, tuned) = try tune(converted, calibration: calibration, tuning: tuning, options: conversion) }
        }
        if let quantization { converted = try quantize(converted, options: quantization) }
        let evaluator = try converted.evaluator(settings, task: task, ann: ann)
        let options = evaluator.options
        let main = try evaluator.tally(data, progress: progress.simulation)
        var baselineTallies: [BaselineTally]? = nil
        if baselines, let calibration, let result {
            baselineTallies = try Baselines.tallies(source: model, ann: ann, calibration: calibration, batches: result.batchesUsed,
                                                    options: options, data: data, progress: progress.baseline)
        }
        return RunTallies(conversion: result, tuning: tuned, main: main, baselines: baselineTallies, quantization: converted.quantization)
    }
}

/// The statistics of one `evaluate` or `simulate` run: what `PipelineRun` is computed from,
/// and what a part of a split run writes.
struct RunTallies {
    var conversion: ConversionResult?
    var tuning: LatencyTuningReport? = nil
    var main: EvaluationTally
    var baselines: [BaselineTally]?
    var quantization: QuantizationRecord?
}
