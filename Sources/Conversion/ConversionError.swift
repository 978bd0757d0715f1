import SNNGraph

/// Why a network cannot be converted, naming what is wrong and what to do.
public enum ConversionError: Error, Equatable, CustomStringConvertible {
    /// Nodes that cannot become part of a spiking network, each described with its reason.
    case notConvertible(blockers: [String])
    /// The network has no ReLU to turn into a neuron.
    case noNeurons
    /// The calibration source holds no batch.
    case noCalibrationData
    /// Calibration batch `index` does not fit the network (shape, or an error running it).
    case badCalibrationBatch(index: Int, message: String)
    /// Image `image` of the calibration data `origin` (in calibration batch `batch`) holds
    /// a NaN or infinity at `position` (its [channel, row, column] or other axes).
    case nonFiniteCalibrationImage(origin: String, image: Int, batch: Int, value: Float, position: [Int])
    /// A layer's current became NaN or infinite on calibration batch `batch`.
    case nonFinite(layer: String, batch: Int)
    /// A `snnkit.*` metadata entry of a converted model is missing or malformed.
    case badMetadata(file: String, key: String, value: String?, expected: String)
    /// A threshold cannot move into the weights around node `node`, for `reason`.
    case cannotFoldThresholds(node: String, reason: String)
    /// The model or the widths asked for cannot make an integer SNN, for the reason given.
    case badQuantization(String)

    /// What is wrong and what to do about it.
    public var description: String {
        switch self {
        case .notConvertible(let blockers):
            return "the network cannot become a spiking network:\n" + blockers.map { "  - " + $0 }.joined(separator: "\n") +
                "\nOnly ReLU (and ReLU6/Clip(0, a)) activations can become integrate-and-fire neurons; other non-linearities " +
                "are allowed only after the last ReLU. Re-train or re-export with ReLU."
        case .noNeurons:
            return "the network has no ReLU layers, so there is nothing to convert into spiking neurons."
        case .noCalibrationData:
            return "no calibration batches: pass --calib with at least one batch of data (--calib-batches must be positive)."
        case .badCalibrationBatch(let index, let message):
            return "calibration batch \(index): \(message)"
        case .nonFiniteCalibrationImage(let origin, let image, let batch, let value, let position):
            return "\(origin): image \(image) (calibration batch \(batch)) holds \(value) at \(position); calibration data must be " +
                "finite. Remove or repair that image."
        case .nonFinite(let layer, let batch):
            return "layer '\(layer)' produced NaN or infinite activations on calibration batch \(batch). Check the weights and the " +
                "input preprocessing (e.g. --preset)."
        case .badMetadata(let file, let key, let value, let expected):
            let found = value.map { "holds '\($0)'" } ?? "is missing"
            return "\(file.isEmpty ? "the converted model" : file): metadata entry '\(key)' \(found); expected \(expected). " +
                "Convert the model again with snnkit convert, or fix the entry."
        case .cannotFoldThresholds(let node, let reason):
            return "node '\(node)': the neuron thresholds cannot be folded into the weights: \(reason). Export the model as " +
                "converted ONNX instead, or re-export the network without this construct."
        case .badQuantization(let reason):
            return "cannot quantize: \(reason)."
        }
    }
}
