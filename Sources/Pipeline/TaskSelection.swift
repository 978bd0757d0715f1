import SNNData
import SNNTasks

/// Which task evaluation data is scored for, and the settings of each task.
public struct TaskSelection: Sendable, Equatable {
    /// The task's name (classification, segmentation, detection), or nil to infer it from
    /// the ground truth: segmentation for masks, detection for boxes, else classification.
    public var name: String?
    /// Segmentation: the mask label left out of the metric.
    public var ignoreLabel: Int? = 255
    /// Detection: suppression of overlapping boxes.
    public var suppression = NonMaximumSuppression(iouThreshold: 0.5, scoreThreshold: 0.05, maxDetections: 100)
    /// Detection: the model output holding boxes (nil: found by name or shape).
    public var boxesOutput: String?
    /// Detection: the model output holding class scores (nil: found by name or shape).
    public var scoresOutput: String?

    /// Infers the task unless `name` is given.
    public init(name: String? = nil) { self.name = name }

    /// Checks the name and the detection settings.
    public func validate() throws {
        if let name, !["classification", "segmentation", "detection"].contains(name) {
            throw PipelineError.setting("the task is classification, segmentation or detection, not '\(name)'")
        }
        guard (0...1).contains(suppression.iouThreshold) else {
            throw PipelineError.setting("the NMS IoU threshold is in [0, 1], not \(suppression.iouThreshold)")
        }
        guard suppression.maxDetections > 0 else {
            throw PipelineError.setting("the detections kept per image must be positive, not \(suppression.maxDetections)")
        }
    }

    /// The task for data with `annotations`.
    public func resolve(_ annotations: Annotations?) throws -> EvaluationTask {
        try validate()
        let chosen = name ?? {
            switch annotations {
            case .masks?: return "segmentation"
            case .boxes?: return "detection"
            case nil: return "classification"
            }
        }()
        switch chosen {
        case "segmentation": return .segmentation(ignoreLabel: ignoreLabel)
        case "detection": return .detection(suppression: suppression, boxesOutput: boxesOutput, scoresOutput: scoresOutput)
        default: return .defaultClassification
        }
    }
}
