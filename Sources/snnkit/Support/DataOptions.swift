import ArgumentParser
import Foundation
import SNNKit

/// Flags that describe a dataset file, shared by convert, simulate and eval.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Preprocessing preset: cifar10, imagenet, mnist, unit (x/255), none. Default: none for float data, unit for uint8.")
    var preset: String?

    @Option(name: .long, help: "Image layout of the data file: nchw or nhwc (default: inferred).")
    var layout: String?

    @Option(name: .customLong("batch-size"), help: "Images per batch.")
    var batchSize: Int = 100

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
    }
}

/// A dataset as calibration batches for the converter: `count / batchSize` whole batches.
struct CalibrationAdapter: CalibrationSource {
    let source: any DataSource
    let batchSize: Int
    var distinctBatches: Int { source.count / batchSize }
    func batch(_ index: Int) throws -> Tensor {
        try source.batch((index * batchSize)..<((index + 1) * batchSize)).images
    }
}

/// A dataset and its ground truth as evaluation batches (the last batch may be partial):
/// labels from the data source, masks or boxes from the annotation arrays.
struct LabeledAdapter: EvaluationData {
    let source: any DataSource
    let annotations: Annotations?
    let task: EvaluationTask
    let batchSize: Int
    let limit: Int
    var name: String { source.name }
    var sampleCount: Int { min(limit, source.count) }
    var batchCount: Int { (sampleCount + batchSize - 1) / batchSize }

    func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets) {
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
            guard let labels = b.labels else { throw InputError("\(source.name) has no labels; pass --labels FILE (or an .npz with a labels array)") }
            return (b.images, .labels(labels))
        case (.segmentation, _):
            throw InputError("\(source.name): segmentation needs masks: an array 'masks' (N, H, W) in the .npz, or --targets FILE.npz")
        case (.detection, _):
            throw InputError("\(source.name): detection needs boxes: arrays 'boxes' (N, K, 4) and 'classes' (N, K) in the .npz, or --targets FILE.npz")
        }
    }
}

/// Parses --calib-batches: a positive number, or "auto" (stop when more batches no longer
/// bring the clip-ANN closer to the ANN, at most `maximum`).
enum CalibrationBudgetArgument {
    static func parse(_ text: String, maximum: Int) throws -> CalibrationBudget {
        if text == "auto" {
            guard maximum > 0 else { throw ValidationError("--max-calib-batches must be positive") }
            return .auto(maximum: maximum, minimumGain: 0.001)
        }
        guard let n = Int(text), n > 0 else { throw ValidationError("--calib-batches takes a positive number or auto") }
        return .fixed(n)
    }
}
