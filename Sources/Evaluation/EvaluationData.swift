import SNNTasks
import SNNTensor

/// Evaluation data with its ground truth, batch by batch, in a fixed order.
public protocol EvaluationData {
    /// The file(s) the data comes from, for error messages.
    var name: String { get }
    /// Number of batches; the last may be partial.
    var batchCount: Int { get }
    /// Samples per batch: every batch but the last holds this many.
    var batchSize: Int { get }
    /// Number of samples over all batches.
    var sampleCount: Int { get }
    /// Batch `index` in 0..<batchCount: images [N, C, H, W], preprocessed, and their ground truth.
    func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets)
}

/// Labeled images held in memory, served in batches (the demo, tests).
public struct InMemoryLabeledBatches: EvaluationData {
    /// All images, batch-first.
    public let images: Tensor
    /// One class label per image.
    public let targets: [Int]
    /// Images per batch (at least 1).
    public let batchSize: Int
    /// "in-memory images", for messages.
    public var name: String { "in-memory images" }

    /// Serves `images` with `labels` in batches of `batchSize` (raised to 1 if smaller).
    public init(images: Tensor, labels: [Int], batchSize: Int) {
        self.images = images
        self.targets = labels
        self.batchSize = max(1, batchSize)
    }

    /// The number of labels.
    public var sampleCount: Int { targets.count }
    /// ceil(samples / batchSize).
    public var batchCount: Int { (targets.count + batchSize - 1) / batchSize }

    /// Images and labels of batch `index`.
    public func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets) {
        let lo = index * batchSize, hi = min(targets.count, lo + batchSize)
        let per = images.count / max(images.shape[0], 1)
        return (Tensor(shape: [hi - lo] + images.shape.dropFirst(), storage: Array(images.storage[(lo * per)..<(hi * per)])),
                .labels(Array(targets[lo..<hi])))
    }
}
