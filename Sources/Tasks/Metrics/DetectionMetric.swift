import SNNTensor

/// mAP@0.5 and COCO mAP@[.5:.95] of decoded detections (`boxes` `[N, A, 4]`, `scores`
/// `[N, A, C]`) after per-class non-maximum suppression.
public struct DetectionMetric: TaskMetric {
    public let boxesOutput: String
    public let scoresOutput: String
    public private(set) var accumulator: DetectionAccumulator

    public init(boxesOutput: String, scoresOutput: String, classes: Int, suppression: NonMaximumSuppression) {
        self.boxesOutput = boxesOutput
        self.scoresOutput = scoresOutput
        accumulator = DetectionAccumulator(classes: classes, suppression: suppression)
    }

    public mutating func add(_ outputs: [String: Tensor], targets: TaskTargets) throws {
        guard case .boxes(let truth) = targets else { throw wrongTargets("detection", targets) }
        try accumulator.add(boxes: SNNTasks.output(outputs, named: boxesOutput), scores: SNNTasks.output(outputs, named: scoresOutput),
                            groundTruth: truth)
    }

    public var values: [String: Double] {
        ["map50": accumulator.meanAP(iou: 0.5) ?? 0, "map": accumulator.cocoMAP() ?? 0]
    }
}
