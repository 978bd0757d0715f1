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

/// The statistics of another form of the network on the same data (see `BaselineRun`),
/// kept by a part of a split evaluation so that parts merge exactly.
public struct BaselineTally: Sendable, Codable {
    /// The rule's command-line name, or the integer form's widths.
    public var method: String
    /// Calibration batches the rule saw.
    public var calibrationBatches: Int
    /// The form's readout delay in steps.
    public var delay: Int
    /// Its evaluation's sufficient statistics.
    public var tally: EvaluationTally

    /// The statistics of form `method`, made with `calibrationBatches` batches and readout delay `delay`.
    public init(method: String, calibrationBatches: Int, delay: Int, tally: EvaluationTally) {
        self.method = method
        self.calibrationBatches = calibrationBatches
        self.delay = delay
        self.tally = tally
    }

    /// The curve these statistics give.
    public var run: BaselineRun { BaselineRun(method: method, calibrationBatches: calibrationBatches, delay: delay, result: tally.result()) }

    /// Adds `later`, the same form's statistics on the batches that follow.
    public mutating func append(_ later: BaselineTally) throws {
        guard later.method == method, later.calibrationBatches == calibrationBatches, later.delay == delay else {
            throw EvaluationTallyError("the compared forms differ: \(method) (delay \(delay)) against \(later.method) (delay \(later.delay))")
        }
        try tally.append(later.tally)
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
        try tallies(methods, source: source, ann: ann, calibration: calibration, batches: batches, options: options, data: data,
                    progress: progress).map(\.run)
    }

    /// The statistics behind `run`, for a part of a split evaluation.
    public static func tallies(_ methods: [ThresholdMethod] = standard, source: Graph, ann: Graph, calibration: any CalibrationSource,
                               batches: Int, options: EvaluationOptions, data: any EvaluationData,
                               progress: ((String) -> Void)? = nil) throws -> [BaselineTally] {
        try methods.map { method in
            progress?(method.description)
            var conversion = ConversionOptions()
            conversion.method = method
            conversion.budget = .fixed(batches)
            let converted = try Converter(options: conversion).convert(source, calibration: calibration)
            var evaluation = options
            if case .estimated = options.delay { evaluation.delay = .estimated(converted.delay.steps) }
            let tally = try Evaluator(ann: ann, converted: converted.graph, options: evaluation).tally(data)
            return BaselineTally(method: method.description, calibrationBatches: converted.batchesUsed, delay: converted.delay.steps, tally: tally)
        }
    }
}
