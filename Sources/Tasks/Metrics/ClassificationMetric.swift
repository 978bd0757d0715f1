import SNNTensor

/// Top-k accuracy of class scores `[N, K]` (logits or probabilities).
public struct ClassificationMetric: TaskMetric, Codable, Equatable {
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

    /// Adds the hits and samples of `later`, a metric of the same output and k values.
    public mutating func append(_ later: ClassificationMetric) throws {
        guard later.output == output, later.topK == topK else {
            throw TaskError.invalidArgument("cannot add top-\(later.topK) counts of '\(later.output)' to top-\(topK) counts of '\(output)'")
        }
        for i in hits.indices { hits[i] += later.hits[i] }
        samples += later.samples
    }

    /// Throws unless there is one hit count per k, each between 0 and the sample count.
    func validate() throws {
        guard hits.count == topK.count, samples >= 0, hits.allSatisfy({ (0...samples).contains($0) }), topK.allSatisfy({ $0 > 0 }) else {
            throw TaskError.invalidArgument("top-k counts \(hits) of \(samples) samples for k = \(topK) do not fit together")
        }
    }
}
