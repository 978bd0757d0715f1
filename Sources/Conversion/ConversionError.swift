import SNNGraph

/// Why a network cannot be converted, naming what is wrong and what to do.
public enum ConversionError: Error, Equatable, CustomStringConvertible {
    case notConvertible(blockers: [String])
    case noNeurons
    case noCalibrationData
    case badCalibrationBatch(index: Int, message: String)
    case nonFinite(layer: String, batch: Int)
    /// A threshold cannot move into the weights around node `node`, for `reason`.
    case cannotFoldThresholds(node: String, reason: String)

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
        case .nonFinite(let layer, let batch):
            return "layer '\(layer)' produced NaN or infinite activations on calibration batch \(batch). Check the weights and the " +
                "input preprocessing (e.g. --preset)."
        case .cannotFoldThresholds(let node, let reason):
            return "node '\(node)': the neuron thresholds cannot be folded into the weights: \(reason). Export the model as " +
                "converted ONNX instead, or re-export the network without this construct."
        }
    }
}
