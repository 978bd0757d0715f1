import SNNTensor

/// A task's metric, accumulated batch by batch over an evaluation set.
///
/// One instance scores one network (the ANN, the clip-ANN, or the SNN at one checkpoint
/// and readout window); the evaluator feeds every instance the same batches in order, so
/// sample numbers in errors are positions in the evaluation set.
public protocol TaskMetric: Sendable {
    /// Adds one batch: the network's outputs by name and the batch's ground truth.
    mutating func add(_ outputs: [String: Tensor], targets: TaskTargets) throws
    /// The metrics so far, each a fraction in [0, 1], keyed by the task's metric names.
    var values: [String: Double] { get }
}

/// The metrics of one network on the evaluation set.
public struct TaskScore: Sendable, Codable, Equatable {
    /// Metric name -> value (a fraction), named as in `EvaluationTask.metricNames`
    /// (snake_case, so report.json keys read the same as the names).
    public var values: [String: Double]
    /// The task's headline metric (top-1, mIoU or mAP@0.5).
    public var primary: Double

    /// Scores `values` with `primary` naming the headline metric (0 when absent).
    public init(values: [String: Double], primary: String) {
        self.values = values
        self.primary = values[primary] ?? 0
    }

    /// The value of metric `name`, if scored.
    public subscript(_ name: String) -> Double? { values[name] }
}

/// A target form the task cannot score, e.g. masks handed to a classifier.
func wrongTargets(_ task: String, _ targets: TaskTargets) -> TaskError {
    let got: String
    switch targets {
    case .labels: got = "class labels"
    case .masks: got = "segmentation masks"
    case .boxes: got = "boxes"
    }
    return TaskError.invalidArgument("\(task) needs its own ground truth, but the data holds \(got); pick the task that matches the data (--task).")
}

/// The named output, or the only one.
func output(_ outputs: [String: Tensor], named name: String) throws -> Tensor {
    guard let t = outputs[name] else {
        throw TaskError.invalidArgument("the network has no output '\(name)' (it has \(outputs.keys.sorted().joined(separator: ", "))).")
    }
    return t
}
