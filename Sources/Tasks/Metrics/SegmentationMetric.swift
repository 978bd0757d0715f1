import SNNTensor

/// mIoU and pixel accuracy of per-pixel class scores `[N, K, H, W]` against masks.
public struct SegmentationMetric: TaskMetric, Codable, Equatable {
    /// The model output holding the per-pixel class scores.
    public let output: String
    /// Pixel counts by (ground truth, prediction) so far.
    public private(set) var confusion: ConfusionMatrix

    /// A metric over `classes` classes, leaving out mask pixels equal to `ignoreLabel`.
    public init(output: String, classes: Int, ignoreLabel: Int?) {
        self.output = output
        confusion = ConfusionMatrix(classes: classes, ignoreLabel: ignoreLabel)
    }

    /// Adds the batch's argmax predictions against its masks to the confusion matrix.
    public mutating func add(_ outputs: [String: Tensor], targets: TaskTargets) throws {
        guard case .masks(let masks, let shape) = targets else { throw wrongTargets("segmentation", targets) }
        try confusion.add(scores: SNNTasks.output(outputs, named: output), masks: masks, maskShape: shape)
    }

    /// "miou" and "pixel_accuracy"; 0 while undefined.
    public var values: [String: Double] {
        ["miou": confusion.meanIoU ?? 0, "pixel_accuracy": confusion.pixelAccuracy ?? 0]
    }

    /// Adds the confusion counts of `later`, a metric of the same output and classes.
    public mutating func append(_ later: SegmentationMetric) throws {
        guard later.output == output else {
            throw TaskError.invalidArgument("cannot add the confusion counts of '\(later.output)' to those of '\(output)'")
        }
        try confusion.merge(later.confusion)
    }
}
