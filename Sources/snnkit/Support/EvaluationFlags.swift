import ArgumentParser
import Foundation
import SNNKit

/// The evaluation data, its task and the report folder, shared by simulate and eval.
struct EvaluationFlags: ParsableArguments {
    @Option(name: .long, help: "Evaluation data (.npy/.npz, IDX, CIFAR binary).")
    var data: String

    @Option(name: .long, help: "Labels file when not inside the data file.")
    var labels: String?

    @Option(name: .long, help: "An .npz with segmentation masks ('masks') or detection boxes ('boxes', 'classes'; or flat 'boxes' (M, 4), 'classes' (M), 'image_index' (M)) when not inside the data file.")
    var targets: String?

    @Option(name: .long, help: "classification, segmentation or detection (default: segmentation when the data has masks, detection when it has boxes, else classification).")
    var task: String?

    @Option(name: .customLong("ignore-label"), help: "Segmentation: mask label left out of the metric, or none.")
    var ignoreLabel: String = "255"

    @Option(name: .customLong("nms-iou"), help: "Detection: IoU above which a lower-scoring box of the same class is suppressed.")
    var nmsIoU: Double = 0.5

    @Option(name: .customLong("score-threshold"), help: "Detection: boxes scoring below this are dropped before suppression.")
    var scoreThreshold: Double = 0.05

    @Option(name: .customLong("max-detections"), help: "Detection: boxes kept per image after suppression (COCO: 100).")
    var maxDetections: Int = 100

    @Option(name: .customLong("boxes-output"), help: "Detection: the model output holding boxes [N, A, 4] (default: 'boxes' or the only fitting output).")
    var boxesOutput: String?

    @Option(name: .customLong("scores-output"), help: "Detection: the model output holding class scores [N, A, C] (default: 'scores' or the only fitting output).")
    var scoresOutput: String?

    @Option(name: .long, help: "Evaluate only the first N images.")
    var limit: Int?

    @Option(name: .long, help: "Folder for report.json, curves.csv, plots and report.html.")
    var report: String?

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive") }
        if ignoreLabel != "none" && Int(ignoreLabel) == nil { throw ValidationError("--ignore-label is a number or none") }
        do { try settings().task.validate() } catch let error as PipelineError { throw ValidationError(error.description) }
    }

    /// The library's description of the evaluation data these flags name.
    func settings() -> EvaluationDataSettings {
        var s = EvaluationDataSettings(data: data, labels: labels, targets: targets)
        s.task.name = task
        s.task.ignoreLabel = ignoreLabel == "none" ? nil : Int(ignoreLabel)
        s.task.suppression = NonMaximumSuppression(iouThreshold: nmsIoU, scoreThreshold: scoreThreshold, maxDetections: maxDetections)
        s.task.boxesOutput = boxesOutput
        s.task.scoresOutput = scoresOutput
        s.limit = limit
        return s
    }

    /// What a part of a split run records about its data beyond the data itself, compared across parts.
    func identity() -> [String: String] {
        ["ground truth": labels ?? targets ?? "in the data file", "limit": limit.map(String.init) ?? "none"]
    }

    /// Opens the data and its ground truth, warning about implausible preprocessing.
    func open(_ dataOptions: DataOptions) throws -> LabeledBatches {
        try settings().open(try dataOptions.settings(), warn: Warning.print)
    }
}
