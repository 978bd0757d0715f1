import SNNTensor

/// Top-k accuracy of class scores `[N, K]` (logits or probabilities).
public struct ClassificationMetric: TaskMetric {
    /// The model output holding the class scores.
    public let output: String
    /// The k of each reported top-k, e.g. [1, 5].
    public let topK: [Int]
    /// Samples added so far.
    public private(set) var samples = 0
    private var hits: [Int]

    /// Top-k accuracy of `output` for each k in `topK`.
    public init(output: String, topK: [Int] = [1, 5]) {
        self.output = output
        self.topK = topK
        hits = topK.map { _ in 0 }
    }

    /// The metric name of top-k accuracy: "top1", "top5".
    public static func name(k: Int) -> String { "top\(k)" }

    /// Counts the samples whose label is among their k highest scores, for each k.
    public mutating func add(_ outputs: [String: Tensor], targets: TaskTargets) throws {
        guard case .labels(let labels) = targets else { throw wrongTargets("classification", targets) }
        let scores = try SNNTasks.output(outputs, named: output)
        guard scores.rank == 2 else { throw TaskError.badShape(what: "classification scores '\(output)'", shape: scores.shape, expected: "[N, K]") }
        guard scores.shape[0] == labels.count else {
            throw TaskError.countMismatch(what: "labels of the batch starting at sample \(samples)", expected: scores.shape[0], actual: labels.count)
        }
        let classes = scores.shape[1]
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw TaskError.invalidArgument("sample \(samples + bad): label \(labels[bad]) is out of range (the network scores classes 0..<\(classes)).")
        }
        for (i, k) in topK.enumerated() { hits[i] += Classification.correct(scores: scores, labels: labels, k: k) }
        samples += labels.count
    }

    /// Each top-k accuracy so far (0 before any sample).
    public var values: [String: Double] {
        var v = [String: Double]()
        for (i, k) in topK.enumerated() { v[Self.name(k: k)] = samples > 0 ? Double(hits[i]) / Double(samples) : 0 }
        return v
    }
}
