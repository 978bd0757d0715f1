import SNNTensor

/// What the network's output means and how it is scored.
public enum EvaluationTask: Sendable, Equatable, Codable {
    /// Class scores `[N, K]` against labels: top-k for each k.
    case classification(topK: [Int])
    /// Per-pixel class scores `[N, K, H, W]` against masks, pixels labelled `ignoreLabel`
    /// left out.
    case segmentation(ignoreLabel: Int?)
    /// Decoded boxes `[N, A, 4]` and class scores `[N, A, C]` (outputs named by the
    /// arguments, or found by shape), suppressed per class, against ground-truth boxes.
    case detection(suppression: NonMaximumSuppression, boxesOutput: String?, scoresOutput: String?)

    /// Top-1 and top-5 classification.
    public static let defaultClassification = EvaluationTask.classification(topK: [1, 5])

    /// "classification", "segmentation" or "detection".
    public var name: String {
        switch self {
        case .classification: return "classification"
        case .segmentation: return "segmentation"
        case .detection: return "detection"
        }
    }

    /// Metric names in report order; the first is the headline.
    public var metricNames: [String] {
        switch self {
        case .classification(let k): return k.map { ClassificationMetric.name(k: $0) }
        case .segmentation: return ["miou", "pixel_accuracy"]
        case .detection: return ["map50", "map"]
        }
    }

    /// The headline metric: the first of `metricNames`.
    public var primaryMetric: String { metricNames.first ?? "top1" }

    /// How a metric is called in tables and plots.
    public static func label(_ metric: String) -> String {
        switch metric {
        case "miou": return "mIoU"
        case "pixel_accuracy": return "pixel acc."
        case "map50": return "mAP@0.5"
        case "map": return "mAP@[.5:.95]"
        default:
            if metric.hasPrefix("top") { return "top-" + metric.dropFirst(3) }
            return metric
        }
    }

    /// A fresh metric for a network whose outputs, in graph order, have these batch shapes.
    /// Checks that the outputs fit the task.
    public func makeMetric(outputs: [(name: String, shape: [Int])]) throws -> any TaskMetric {
        guard let first = outputs.first else { throw TaskError.invalidArgument("the network has no outputs") }
        switch self {
        case .classification(let k):
            guard first.shape.count == 2 else {
                throw TaskError.badShape(what: "output '\(first.name)' (classification scores)", shape: first.shape,
                                         expected: "[N, K]; for a dense output use --task segmentation or detection")
            }
            return ClassificationMetric(output: first.name, topK: k)
        case .segmentation(let ignore):
            guard first.shape.count == 4 else {
                throw TaskError.badShape(what: "output '\(first.name)' (segmentation scores)", shape: first.shape,
                                         expected: "[N, K, H, W]; if the model is a classifier or a detector, say so with --task")
            }
            return SegmentationMetric(output: first.name, classes: first.shape[1], ignoreLabel: ignore)
        case .detection(let suppression, let boxesName, let scoresName):
            let boxes = try Self.pick(outputs, named: boxesName ?? "boxes", role: "boxes") { $0.count == 3 && $0[2] == 4 }
            let scores = try Self.pick(outputs, named: scoresName ?? "scores", role: "scores") { $0.count == 3 && $0[2] != 4 }
            guard boxes.shape.count == 3, boxes.shape[2] == 4 else {
                throw TaskError.badShape(what: "output '\(boxes.name)' (detection boxes)", shape: boxes.shape, expected: "[N, A, 4] (x1, y1, x2, y2)")
            }
            guard scores.shape.count == 3, scores.shape[1] == boxes.shape[1] else {
                throw TaskError.badShape(what: "output '\(scores.name)' (detection scores)", shape: scores.shape,
                                         expected: "[N, \(boxes.shape[1]), C], one row of class scores per box")
            }
            return DetectionMetric(boxesOutput: boxes.name, scoresOutput: scores.name, classes: scores.shape[2], suppression: suppression)
        }
    }

    /// The output called `name`, else the only one whose shape fits.
    private static func pick(_ outputs: [(name: String, shape: [Int])], named name: String, role: String,
                             fits: ([Int]) -> Bool) throws -> (name: String, shape: [Int]) {
        if let o = outputs.first(where: { $0.name == name }) { return o }
        let candidates = outputs.filter { fits($0.shape) }
        guard candidates.count == 1 else {
            let list = outputs.map { "\($0.name) \(TaskError.format($0.shape))" }.joined(separator: ", ")
            throw TaskError.invalidArgument("cannot tell which output holds the detection \(role) (outputs: \(list)); name it with --\(role)-output.")
        }
        return candidates[0]
    }
}
