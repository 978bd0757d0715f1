import SNNTasks
import SNNTensor

/// Evaluation data with its ground truth, batch by batch, in a fixed order.
public protocol EvaluationData {
    /// The file(s) the data comes from, for error messages.
    var name: String { get }
    var batchCount: Int { get }
    var sampleCount: Int { get }
    func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets)
}

/// Labeled images held in memory, served in batches (the demo, tests).
public struct InMemoryLabeledBatches: EvaluationData {
    public let images: Tensor
    public let targets: [Int]
    public let batchSize: Int
    public var name: String { "in-memory images" }

    public init(images: Tensor, labels: [Int], batchSize: Int) {
        self.images = images
        self.targets = labels
        self.batchSize = max(1, batchSize)
    }

    public var sampleCount: Int { targets.count }
    public var batchCount: Int { (targets.count + batchSize - 1) / batchSize }

    public func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets) {
        let lo = index * batchSize, hi = min(targets.count, lo + batchSize)
        let per = images.count / max(images.shape[0], 1)
        return (Tensor(shape: [hi - lo] + images.shape.dropFirst(), storage: Array(images.storage[(lo * per)..<(hi * per)])),
                .labels(Array(targets[lo..<hi])))
    }
}
