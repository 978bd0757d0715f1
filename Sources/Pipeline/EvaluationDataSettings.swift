import SNNData

/// Where evaluation data and its ground truth come from, and what is scored.
public struct EvaluationDataSettings: Sendable, Equatable {
    /// The images (and, inside the same file, labels, masks or boxes).
    public var data: String
    /// A labels file, when not inside the data file.
    public var labels: String?
    /// An .npz with masks or boxes, when not inside the data file.
    public var targets: String?
    /// The task to score and its settings.
    public var task = TaskSelection()
    /// Evaluate only the first `limit` images.
    public var limit: Int?

    /// Evaluation data read from `data` alone.
    public init(data: String, labels: String? = nil, targets: String? = nil) {
        self.data = data
        self.labels = labels
        self.targets = targets
    }

    /// Opens the data and its ground truth and settles the task.
    public func open(_ settings: DataSettings, warn: (String) -> Void = { _ in }) throws -> LabeledBatches {
        try task.validate()
        let source = try settings.open(data, labels: labels, warn: warn)
        let annotations = try Annotations.open(path: targets ?? data, imageCount: source.count)
        if let targets, annotations.isNone {
            throw PipelineError("\(targets): no 'masks' or 'boxes'/'classes' arrays; --targets takes an .npz with segmentation masks or detection boxes")
        }
        return try LabeledBatches(source: source, annotations: annotations, task: try task.resolve(annotations), batchSize: settings.batchSize,
                                  limit: limit, groundTruthFile: labels ?? targets)
    }
}
