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
        if let layout, ImageLayout(rawValue: layout.lowercased()) == nil { throw ValidationError("--layout is nchw or nhwc, not '\(layout)'") }
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

    /// The library's data settings these flags describe.
    func settings() throws -> DataSettings {
        DataSettings(layout: layout.flatMap { ImageLayout(rawValue: $0.lowercased()) }, preprocessing: try preprocessing(), batchSize: batchSize)
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
