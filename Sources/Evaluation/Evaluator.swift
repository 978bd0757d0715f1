import Foundation
import SNNConversion
import SNNGraph
import SNNSimulation
import SNNTasks
import SNNTensor

/// Settings of an evaluation: the simulation, the readout delay and the task.
public struct EvaluationOptions: Sendable {
    /// Steps, checkpoints and kernel settings of the simulation.
    public var simulation: SimulationOptions
    /// The readout delay rule; none by default.
    public var delay: DelayMode = .none
    /// How the output is scored; top-1 and top-5 classification by default.
    public var task: EvaluationTask = .defaultClassification
    /// Options for `timeSteps` steps, scored at `checkpoints` (nil: powers of two up to T, and T).
    public init(timeSteps: Int, checkpoints: [Int]? = nil) {
        simulation = SimulationOptions(timeSteps: timeSteps, checkpoints: checkpoints)
    }
}

/// Ground truth that does not fit the network or the task, named with its data file.
public struct EvaluationError: Error, CustomStringConvertible, Equatable {
    /// The data file, and what is wrong with its ground truth or values.
    public var description: String
    init(data: String, _ error: TaskError) { description = "\(data): \(error)" }

    /// A NaN or infinity in the input: every output it reaches would be NaN, scored as a
    /// wrong answer with no word said.
    init(data: String, nonFiniteSample sample: Int, position: [Int], value: Float) {
        description = "\(data): image \(sample) holds \(value) at \(position) of its \(position.count == 3 ? "[channel, row, column]" : "axes"); " +
            "inputs must be finite numbers. Fix the file, or the preprocessing that produced it."
    }
}

/// Runs the ANN, the clip-ANN and the SNN on the same data and scores them with the task's
/// metric at every checkpoint of one simulation.
public struct Evaluator {
    /// The ANN the SNN is compared with.
    public let ann: Graph
    /// The converted network, simulated and run as the clip-ANN.
    public let converted: Graph
    /// Steps, checkpoints, delay and task.
    public var options: EvaluationOptions

    /// An evaluator of `converted` against `ann`.
    public init(ann: Graph, converted: Graph, options: EvaluationOptions) {
        self.ann = ann
        self.converted = converted
        self.options = options
    }

    /// Runs the ANN, the clip-ANN and the SNN on every batch of `data` and scores them; `progress` gets
    /// (samples done, samples in all).
    /// Throws `EvaluationError` for non-finite inputs or ground truth that does not fit the outputs.
    public func evaluate(_ data: any EvaluationData, progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        try tally(data, progress: progress).result()
    }

    /// The sufficient statistics of `evaluate`: what a part of a larger evaluation keeps so
    /// that parts merge into the whole run's result exactly (see `EvaluationTally`).
    public func tally(_ data: any EvaluationData, progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationTally {
        let start = Date()
        guard data.batchCount > 0, data.sampleCount > 0 else {
            throw SimulationError.invalidOptions("\(data.name): the evaluation data is empty")
        }
        var run = EvaluationRun(self, data: data)
        for b in 0..<data.batchCount {
            let (x, targets) = try data.batch(b)
            try run.add(x, targets: targets)
            progress?(run.images, data.sampleCount)
        }
        return try run.tally(seconds: Date().timeIntervalSince(start))
    }

    static func relativeGap(_ a: [Tensor], _ b: [Tensor]) -> Double {
        var d = 0.0, m = 0.0
        for (ta, tb) in zip(a, b) {
            for (x, y) in zip(ta.storage, tb.storage) { d += abs(Double(x - y)); m += abs(Double(y)) }
        }
        return m > 0 ? d / m : d
    }
}

/// One metric instance per scored network: the ANN, the clip-ANN, the SNN at each
/// checkpoint (plain and delayed readout) and each scored readout window.
struct ScoreBoard {
    var ann: any TaskMetric
    var clipANN: any TaskMetric
    var plain: [any TaskMetric]
    var delayed: [any TaskMetric]
    /// "start-end" -> metric.
    var windows: [String: any TaskMetric]

    init(task: EvaluationTask, outputs: [(name: String, shape: [Int])], annOutputs: [String], checkpoints: [Int], windowStarts: [Int]) throws {
        guard annOutputs.count == outputs.count else {
            throw TaskError.invalidArgument("the ANN has \(annOutputs.count) outputs but the converted model \(outputs.count); they must correspond")
        }
        let make = { try task.makeMetric(outputs: outputs) }
        ann = try make()
        clipANN = try make()
        plain = try checkpoints.map { _ in try make() }
        delayed = try checkpoints.map { _ in try make() }
        windows = [:]
        for t in checkpoints { for s in windowStarts where s < t { windows["\(s)-\(t)"] = try make() } }
    }

    /// The ANN's outputs under the converted model's output names (same order).
    static func renamed(_ outputs: [String: Tensor], from: [String], to: [String]) -> [String: Tensor] {
        var r = [String: Tensor]()
        for (a, b) in zip(from, to) { r[b] = outputs[a] }
        return r
    }
}
