import SNNTensor

/// mIoU and pixel accuracy of per-pixel class scores `[N, K, H, W]` against masks.
public struct SegmentationMetric: TaskMetric {
    public let output: String
    public private(set) var confusion: ConfusionMatrix

    public init(output: String, classes: Int, ignoreLabel: Int?) {
        self.output = output
        confusion = ConfusionMatrix(classes: classes, ignoreLabel: ignoreLabel)
    }

    public mutating func add(_ outputs: [String: Tensor], targets: TaskTargets) throws {
        guard case .masks(let masks, let shape) = targets else { throw wrongTargets("segmentation", targets) }
        try confusion.add(scores: SNNTasks.output(outputs, named: output), masks: masks, maskShape: shape)
    }

    public var values: [String: Double] {
        ["miou": confusion.meanIoU ?? 0, "pixel_accuracy": confusion.pixelAccuracy ?? 0]
    }
}
