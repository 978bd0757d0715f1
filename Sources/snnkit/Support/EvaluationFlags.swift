import ArgumentParser
import Foundation
import SNNKit

/// The evaluation data, its task and the report folder, shared by simulate and eval.
struct EvaluationFlags: ParsableArguments {
    @Option(name: .long, help: "Evaluation data (.npy/.npz, IDX, CIFAR binary).")
    var data: String

    @Option(name: .long, help: "Labels file when not inside the data file.")
    var labels: String?

    @Option(name: .long, help: "An .npz with segmentation masks ('masks') or detection boxes ('boxes', 'classes') when not inside the data file.")
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
        guard (0...1).contains(nmsIoU) else { throw ValidationError("--nms-iou is in [0, 1]") }
        guard maxDetections > 0 else { throw ValidationError("--max-detections must be positive") }
        if ignoreLabel != "none" && Int(ignoreLabel) == nil { throw ValidationError("--ignore-label is a number or none") }
    }

    /// Opens the data and its ground truth and settles the task.
    func open(_ dataOptions: DataOptions) throws -> LabeledAdapter {
        let source = try DataOpening.open(data, labels: labels, options: dataOptions)
        let annotations = try Annotations.open(path: targets ?? data, imageCount: source.count)
        if let targets, annotations.isNone {
            throw InputError("\(targets): no 'masks' or 'boxes'/'classes' arrays; --targets takes an .npz with segmentation masks or detection boxes")
        }
        // Errors about the ground truth then name the file it came from too.
        let groundTruth = labels ?? targets
        return LabeledAdapter(source: source, annotations: annotations, task: try resolveTask(annotations), batchSize: dataOptions.batchSize,
                              limit: limit ?? source.count, groundTruthFile: groundTruth)
    }

    private func resolveTask(_ annotations: Annotations?) throws -> EvaluationTask {
        let name = task ?? {
            switch annotations {
            case .masks?: return "segmentation"
            case .boxes?: return "detection"
            case nil: return "classification"
            }
        }()
        switch name {
        case "classification": return .defaultClassification
        case "segmentation": return .segmentation(ignoreLabel: ignoreLabel == "none" ? nil : Int(ignoreLabel))
        case "detection":
            let nms = NonMaximumSuppression(iouThreshold: nmsIoU, scoreThreshold: scoreThreshold, maxDetections: maxDetections)
            return .detection(suppression: nms, boxesOutput: boxesOutput, scoresOutput: scoresOutput)
        default: throw ValidationError("--task is classification, segmentation or detection, not '\(name)'")
        }
    }
}
