/// What turns stored pixel values into network inputs: `(x * scale - mean[c]) / std[c]`
/// per channel `c`, the normalisation torchvision's `ToTensor` + `Normalize` apply.
///
/// The presets are the constants the usual training recipes use, so a network trained
/// on normalised CIFAR-10 sees the same input distribution during calibration and
/// evaluation. A single mean or std applies to every channel.
public struct Preprocessing: Sendable, Equatable, CustomStringConvertible {
    /// The preset's name, or "custom".
    public var name: String
    /// Factor on the stored values, applied first (1/255 turns bytes into [0, 1]).
    public var scale: Float
    /// Per-channel mean subtracted after scaling (one value: every channel).
    public var mean: [Float]
    /// Per-channel standard deviation divided by last (one value: every channel).
    public var std: [Float]
    /// When set, `scale` is replaced by the stored type's default (1/255 for bytes, 1 for
    /// floats): a mean/std given without a scale then means what torchvision's ToTensor +
    /// Normalize would do with that data.
    public var scaleFollowsDataType = false

    /// (x * scale - mean[c]) / std[c], named `name`.
    public init(name: String = "custom", scale: Float = 1, mean: [Float] = [0], std: [Float] = [1]) {
        self.name = name
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    /// Values as float, unchanged (data that is already preprocessed): the preset named
    /// "none". Not called `.none`, because where an optional `Preprocessing` is expected
    /// (as in `DataSources.open`) `.none` would mean nil, the per-type default.
    public static let identity = Preprocessing(name: "none")
    /// Bytes to [0, 1].
    public static let unit = Preprocessing(name: "unit", scale: 1 / 255)
    /// MNIST: bytes to [0, 1], then the training set's mean 0.1307 and std 0.3081.
    public static let mnist = Preprocessing(name: "mnist", scale: 1 / 255, mean: [0.1307], std: [0.3081])
    /// CIFAR-10: bytes to [0, 1], then the training set's per-channel mean and std.
    public static let cifar10 = Preprocessing(
        name: "cifar10", scale: 1 / 255, mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
    /// ImageNet: bytes to [0, 1], then torchvision's per-channel mean and std.
    public static let imagenet = Preprocessing(
        name: "imagenet", scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// Every preset, in the order the command line lists them.
    public static let presets: [Preprocessing] = [.identity, .unit, .mnist, .cifar10, .imagenet]

    /// The preset called `name` (as given on the command line).
    public static func named(_ name: String) throws -> Preprocessing {
        guard let preset = presets.first(where: { $0.name == name.lowercased() }) else {
            throw DataError.invalidArgument(
                "unknown preprocessing '\(name)'; presets: \(presets.map(\.name).joined(separator: ", "))")
        }
        return preset
    }

    /// What data gets when the caller names no preprocessing: bytes are scaled to [0, 1],
    /// floats are taken as already preprocessed (they were written by a pipeline that
    /// normalised them, and normalising twice would silently shift every input).
    public static func `default`(forFloatData isFloat: Bool) -> Preprocessing {
        isFloat ? .identity : .unit
    }

    /// The name and the constants, for messages.
    public var description: String {
        "\(name) (scale \(scale), mean \(mean), std \(std))"
    }

    /// Per-channel `a`, `b` with `y = x * a[c] + b[c]`: one multiply-add per pixel instead
    /// of a subtract and a divide. Checks that the constants fit `channels`.
    func affine(channels: Int, source: String) throws -> (a: [Float], b: [Float]) {
        for (label, values) in [("mean", mean), ("std", std)] where values.count != 1 && values.count != channels {
            throw DataError.badPreprocessing(
                source: source,
                detail: "'\(name)' has \(values.count) \(label) values, the images have \(channels) channel\(channels == 1 ? "" : "s")")
        }
        guard scale.isFinite, mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
            throw DataError.badPreprocessing(source: source, detail: "'\(name)' needs a finite scale and mean and a finite, non-zero std")
        }
        var a = [Float](), b = [Float]()
        for c in 0..<channels {
            let m = mean.count == 1 ? mean[0] : mean[c]
            let s = std.count == 1 ? std[0] : std[c]
            a.append(scale / s)
            b.append(-m / s)
        }
        return (a, b)
    }
}
