import SNNTensor

/// mAP@0.5 and COCO mAP@[.5:.95] of decoded detections (`boxes` `[N, A, 4]`, `scores`
/// `[N, A, C]`) after per-class non-maximum suppression.
public struct DetectionMetric: TaskMetric, Codable, Equatable {
    /// The model output holding the boxes [N, A, 4].
    public let boxesOutput: String
    /// The model output holding the class scores [N, A, C].
    public let scoresOutput: String
    /// Detections and ground truth so far.
    public private(set) var accumulator: DetectionAccumulator

    /// A metric over `classes` score columns, suppressing with `suppression`.
    public init(boxesOutput: String, scoresOutput: String, classes: Int, suppression: NonMaximumSuppression) {
        self.boxesOutput = boxesOutput
        self.scoresOutput = scoresOutput
        accumulator = DetectionAccumulator(classes: classes, suppression: suppression)
    }

    /// Suppresses the batch's candidates and records them with the batch's ground-truth boxes.
    public mutating func add(_ outputs: [String: Tensor], targets: TaskTargets) throws {
        guard case .boxes(let truth) = targets else { throw wrongTargets("detection", targets) }
        try accumulator.add(boxes: SNNTasks.output(outputs, named: boxesOutput), scores: SNNTasks.output(outputs, named: scoresOutput),
                            groundTruth: truth)
    }

    /// "map50" (mAP@0.5) and "map" (COCO mAP@[.5:.95]); 0 while undefined.
    public var values: [String: Double] {
        ["map50": accumulator.meanAP(iou: 0.5) ?? 0, "map": accumulator.cocoMAP() ?? 0]
    }

    /// Appends the detections and ground truth of `later`, the images after this metric's,
    /// from the same outputs and suppression.
    public mutating func append(_ later: DetectionMetric) throws {
        guard later.boxesOutput == boxesOutput, later.scoresOutput == scoresOutput, later.accumulator.suppression == accumulator.suppression,
              later.accumulator.maxDetectionsPerClass == accumulator.maxDetectionsPerClass else {
            throw TaskError.invalidArgument("cannot add detections of '\(later.boxesOutput)'/'\(later.scoresOutput)' to those of "
                                            + "'\(boxesOutput)'/'\(scoresOutput)' made with other suppression settings")
        }
        try accumulator.merge(later.accumulator)
    }
}
