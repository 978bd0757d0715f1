import SNNData
import SNNEvaluation
import SNNTasks
import SNNTensor

/// A dataset and its ground truth as evaluation batches (the last batch may be partial):
/// labels from the data source, masks or boxes from the annotation arrays.
public struct LabeledBatches: EvaluationData, Sendable {
    /// The images (and labels, when the data holds them).
    public let source: any DataSource
    /// Masks or boxes, when the task needs them.
    public let annotations: Annotations?
    /// The task the ground truth is scored for.
    public let task: EvaluationTask
    /// Images per batch.
    public let batchSize: Int
    /// Only the first `limit` samples are served.
    public let limit: Int
    /// The labels or targets file when not the data file itself.
    public let groundTruthFile: String?

    /// Serves the first `limit` (default: all) samples of `source` in batches of `batchSize`.
    public init(source: any DataSource, annotations: Annotations? = nil, task: EvaluationTask = .defaultClassification,
                batchSize: Int, limit: Int? = nil, groundTruthFile: String? = nil) throws {
        guard batchSize > 0 else { throw PipelineError.setting("the batch size must be positive, not \(batchSize)") }
        if let limit, limit <= 0 { throw PipelineError.setting("the image limit must be positive, not \(limit)") }
        self.source = source
        self.annotations = annotations
        self.task = task
        self.batchSize = batchSize
        self.limit = limit ?? source.count
        self.groundTruthFile = groundTruthFile
    }

    /// The data file, and the ground-truth file when separate, for messages.
    public var name: String { groundTruthFile.map { "\(source.name) with ground truth from \($0)" } ?? source.name }
    /// Samples served (at most `limit`).
    public var sampleCount: Int { min(limit, source.count) }
    /// Batches served, the last one possibly partial.
    public var batchCount: Int { (sampleCount + batchSize - 1) / batchSize }

    /// Batch `index` with the ground truth the task scores.
    public func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets) {
        let lo = index * batchSize, hi = min(sampleCount, lo + batchSize)
        let b = try source.batch(lo..<hi)
        switch (task, annotations) {
        case (.segmentation, .masks(let masks)?):
            return (b.images, .masks(try masks.masks(lo..<hi), shape: [hi - lo] + masks.maskShape))
        case (.detection, .boxes(let boxes)?):
            let objects = try boxes.objects(lo..<hi).map { image in
                image.map { GroundTruthBox(x1: $0.x1, y1: $0.y1, x2: $0.x2, y2: $0.y2, classIndex: $0.classIndex) }
            }
            return (b.images, .boxes(objects))
        case (.classification, _):
            guard let labels = b.labels else { throw PipelineError("\(source.name) has no labels; pass --labels FILE (or an .npz with a labels array)") }
            return (b.images, .labels(labels))
        case (.segmentation, _):
            throw PipelineError("\(source.name): segmentation needs masks: an array 'masks' (N, H, W) in the .npz, or --targets FILE.npz")
        case (.detection, _):
            throw PipelineError("\(source.name): detection needs boxes: arrays 'boxes' (N, K, 4) and 'classes' (N, K), or flat 'boxes' (M, 4), " +
                                "'classes' (M) and 'image_index' (M), in the .npz or in --targets FILE.npz")
        }
    }
}
