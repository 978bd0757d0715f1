import ArgumentParser
import Foundation
import SNNKit

/// Flags that describe a dataset file, shared by convert, simulate and eval.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Preprocessing preset: cifar10, imagenet, mnist, unit (x/255), none. Default: none for float data, unit for uint8.")
    var preset: String?

    @Option(name: .long, help: "Per-channel mean subtracted after scaling, e.g. 0.485,0.456,0.406 (overrides the preset's).")
    var mean: String?

    @Option(name: .long, help: "Per-channel std divided by after the mean, e.g. 0.229,0.224,0.225 (overrides the preset's).")
    var std: String?

    @Option(name: .long, help: "Factor applied to stored values first: 1/255 = 0.00392156862745098 for bytes to [0, 1] (overrides the preset's).")
    var scale: Float?

    @Option(name: .long, help: "Image layout of the data file: nchw or nhwc (default: inferred).")
    var layout: String?

    @Option(name: .customLong("batch-size"), help: "Images per batch.")
    var batchSize: Int = 100

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        for (flag, text) in [("--mean", mean), ("--std", std)] {
            guard let text else { continue }
            let values = Self.numbers(text)
            guard let values, !values.isEmpty else { throw ValidationError("\(flag) takes numbers separated by commas, e.g. 0.5,0.5,0.5") }
            if flag == "--std", values.contains(where: { !($0 > 0) }) { throw ValidationError("--std values must be positive") }
        }
        if let scale, !(scale.isFinite && scale != 0) { throw ValidationError("--scale must be a finite non-zero number") }
    }

    static func numbers(_ text: String) -> [Float]? {
        let parts = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        return parts.contains(where: { $0 == nil }) ? nil : parts.map { $0! }
    }

    /// The preset (or nil, the per-type default) with any explicit scale, mean and std on
    /// top; torchvision's ToTensor + Normalize(mean, std) is `--scale 1/255 --mean .. --std ..`,
    /// which is what uint8 data gets by default when only --mean/--std are given.
    func preprocessing() throws -> Preprocessing? {
        var p = try preset.map { try Preprocessing.named($0) }
        guard mean != nil || std != nil || scale != nil else { return p }
        if p == nil {
            p = Preprocessing(name: "custom")
            p!.scaleFollowsDataType = scale == nil
        }
        p!.name = "custom"
        if let mean { p!.mean = Self.numbers(mean) ?? [0] }
        if let std { p!.std = Self.numbers(std) ?? [1] }
        if let scale { p!.scale = scale }
        return p
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
    /// The labels or targets file when not the data file itself.
    var groundTruthFile: String? = nil
    var name: String { groundTruthFile.map { "\(source.name) with ground truth from \($0)" } ?? source.name }
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
