import SNNConversion
import SNNGraph

/// Another form of the same network evaluated on the same data as the main run, as one
/// more curve: a baseline threshold rule converted on the same calibration batches, or an
/// integer form of the converted SNN.
public struct BaselineRun: Sendable, Codable {
    /// The rule's command-line name, or the integer form's widths.
    public var method: String
    /// Calibration batches the rule saw (the main run's count).
    public var calibrationBatches: Int
    /// The rule's own estimated delay in steps.
    public var delay: Int
    /// The clip-ANN's headline metric (top-1, mIoU or mAP@0.5).
    public var clipANN: Double
    /// Per checkpoint: (T, headline metric with the run's delay rule applied).
    public var steps: [Int]
    /// The headline metric at each of `steps`, a fraction in [0, 1].
    public var values: [Double]

    /// The curve of `result`, a form named `method` made with `calibrationBatches` batches
    /// and readout delay `delay`.
    public init(method: String, calibrationBatches: Int, delay: Int, result: EvaluationResult) {
        self.method = method
        self.calibrationBatches = calibrationBatches
        self.delay = delay
        clipANN = result.clipANN.primary
        steps = result.snn.map(\.steps)
        values = result.snn.map { $0.effective.primary }
    }
}

/// Runs other threshold rules beside the main conversion, for comparison.
public enum Baselines {
    /// The ablation (layer-wise LTB) and the data-normalisation baselines (max-norm,
    /// robust-norm at the 99.9th percentile).
    public static let standard: [ThresholdMethod] = [.layerLTB(eta: 1), .maxNorm, .robustNorm(percentile: 99.9)]

    /// Converts `source` with each rule on exactly `batches` calibration batches and
    /// evaluates it like the main run (delayed evaluation uses each baseline's own delay
    /// estimate when the main run uses the estimate).
    public static func run(_ methods: [ThresholdMethod] = standard, source: Graph, ann: Graph, calibration: any CalibrationSource,
                           batches: Int, options: EvaluationOptions, data: any EvaluationData,
                           progress: ((String) -> Void)? = nil) throws -> [BaselineRun] {
        try methods.map { method in
            progress?(method.description)
            var conversion = ConversionOptions()
            conversion.method = method
            conversion.budget = .fixed(batches)
            let converted = try Converter(options: conversion).convert(source, calibration: calibration)
            var evaluation = options
            if case .estimated = options.delay { evaluation.delay = .estimated(converted.delay.steps) }
            let result = try Evaluator(ann: ann, converted: converted.graph, options: evaluation).evaluate(data)
            return BaselineRun(method: method.description, calibrationBatches: converted.batchesUsed, delay: converted.delay.steps, result: result)
        }
    }
}
