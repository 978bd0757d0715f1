import SNNGraph
import SNNSupport

/// The settings a converted model was made with, stored in its ONNX metadata
/// (`snnkit.*` keys) so that a later `simulate` knows the readout delay and a reader knows
/// how the thresholds were calibrated.
///
/// `write(into:)` is the one place that writes these keys and `init?(reading:)` the one
/// place that reads them back.
public struct ConvertedModelInfo: Sendable, Equatable {
    /// The SNNKit version that converted the model.
    public var version: String
    /// The threshold rule, as `ThresholdMethod.description` spells it (ltb, ltb-layer, ...).
    public var method: String
    /// The LTB step size, for the LTB rules only.
    public var eta: Float?
    /// Calibration batches used (batches reused when the data held fewer).
    public var calibrationBatches: Int
    /// Images per calibration batch.
    public var batchSize: Int
    /// Estimated readout delay in steps (the start of the delayed-evaluation window).
    public var delay: Int
    /// Membrane potential of every neuron at t = 0, in units of its threshold.
    public var initialPotential: Float
    /// File name of the ReLU network it was converted from, when known.
    public var sourceModel: String?
    /// Readout window starts chosen on held-out calibration data, when chosen.
    public var readoutSchedule: ReadoutSchedule?
    /// The run length the initial potentials were calibrated for, when calibrated per channel.
    public var potentialSteps: Int?

    /// Creates the record of one conversion.
    public init(version: String = SNNKitVersion.current, method: String, eta: Float?, calibrationBatches: Int, batchSize: Int,
                delay: Int, initialPotential: Float, sourceModel: String? = nil) {
        self.version = version
        self.method = method
        self.eta = eta
        self.calibrationBatches = calibrationBatches
        self.batchSize = batchSize
        self.delay = delay
        self.initialPotential = initialPotential
        self.sourceModel = sourceModel
    }

    /// The metadata keys, in one place.
    enum Key {
        static let version = "snnkit.version"
        static let method = "snnkit.method"
        static let eta = "snnkit.eta"
        static let calibrationBatches = "snnkit.calibration_batches"
        static let batchSize = "snnkit.batch_size"
        static let delay = "snnkit.delay"
        static let initialPotential = "snnkit.initial_potential"
        static let sourceModel = "snnkit.source_model"
        static let readoutSchedule = "snnkit.readout_starts"
        static let potentialSteps = "snnkit.potential_steps"
    }

    /// Replaces the `snnkit.*` entries of `graph.metadata` with this record.
    public func write(into graph: inout Graph) {
        for key in graph.metadata.keys where key.hasPrefix("snnkit.") { graph.metadata[key] = nil }
        graph.metadata[Key.version] = version
        graph.metadata[Key.method] = method
        graph.metadata[Key.eta] = eta.map { String($0) }
        graph.metadata[Key.calibrationBatches] = String(calibrationBatches)
        graph.metadata[Key.batchSize] = String(batchSize)
        graph.metadata[Key.delay] = String(delay)
        graph.metadata[Key.initialPotential] = String(initialPotential)
        graph.metadata[Key.sourceModel] = sourceModel
        graph.metadata[Key.readoutSchedule] = readoutSchedule?.description
        graph.metadata[Key.potentialSteps] = potentialSteps.map { String($0) }
    }

    /// The record stored in `graph`, or nil when the graph carries none (a model not
    /// converted by SNNKit). A key that is missing or holds a value of the wrong form
    /// throws `ConversionError.badMetadata`, naming the file and the key.
    public init?(reading graph: Graph) throws {
        let m = graph.metadata
        guard let version = m[Key.version] else { return nil }
        func value<T>(_ key: String, _ expected: String, _ parse: (String) -> T?) throws -> T {
            guard let text = m[key] else {
                throw ConversionError.badMetadata(file: graph.source, key: key, value: nil, expected: expected)
            }
            guard let v = parse(text) else {
                throw ConversionError.badMetadata(file: graph.source, key: key, value: text, expected: expected)
            }
            return v
        }
        let count = "a non-negative whole number"
        self.version = version
        method = try value(Key.method, "a threshold rule name", { $0.isEmpty ? nil : $0 })
        eta = try m[Key.eta].map { _ in try value(Key.eta, "a positive number", { Float($0).flatMap { $0 > 0 && $0.isFinite ? $0 : nil } }) }
        calibrationBatches = try value(Key.calibrationBatches, count, { Int($0).flatMap { $0 >= 0 ? $0 : nil } })
        batchSize = try value(Key.batchSize, "a positive whole number", { Int($0).flatMap { $0 > 0 ? $0 : nil } })
        delay = try value(Key.delay, count, { Int($0).flatMap { $0 >= 0 ? $0 : nil } })
        initialPotential = try value(Key.initialPotential, "a finite number", { Float($0).flatMap { $0.isFinite ? $0 : nil } })
        sourceModel = m[Key.sourceModel]
        readoutSchedule = try m[Key.readoutSchedule].map { _ in
            try value(Key.readoutSchedule, "comma-separated T:start pairs with 0 <= start < T", { ReadoutSchedule(parsing: $0) })
        }
        potentialSteps = try m[Key.potentialSteps].map { _ in try value(Key.potentialSteps, "a positive whole number", { Int($0).flatMap { $0 > 0 ? $0 : nil } }) }
    }
}
