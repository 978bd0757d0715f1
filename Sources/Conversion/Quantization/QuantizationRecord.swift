import Foundation
import SNNGraph

/// What a quantized SNN stores about its integers (ONNX metadata `snnkit.quantization`, as
/// JSON): the widths, and for each integer neuron layer the exponent k of its threshold
/// 2^k per channel, which is also its weights' scale 2^-k.
public struct QuantizationRecord: Sendable, Equatable, Codable {
    /// The widths it was quantized with.
    public var options: QuantizationOptions
    /// The integer neuron layers, in graph order (analog layers fed by the input are not listed).
    public var layers: [Layer]

    /// One integer neuron layer: membrane, threshold and incoming weights in units of 2^-k.
    public struct Layer: Sendable, Equatable, Codable {
        /// The IF node.
        public var neuron: String
        /// Threshold exponent per channel (one value when the layer shares a scale).
        public var exponents: [Int]
        /// Weights that were clipped to the largest integer.
        public var clippedWeights: Int
        /// Weights in all that feed the layer.
        public var weights: Int

        /// The record of one layer.
        public init(neuron: String, exponents: [Int], clippedWeights: Int, weights: Int) {
            self.neuron = neuron
            self.exponents = exponents
            self.clippedWeights = clippedWeights
            self.weights = weights
        }

        /// The integer threshold of channel `c`, 2^k.
        public func threshold(channel c: Int) -> Int { 1 << exponents[exponents.count == 1 ? 0 : c] }
    }

    /// The metadata key.
    static let key = "snnkit.quantization"

    /// The grid step of threshold exponent k, 2^-k: a weight, bias or membrane of that
    /// layer is an integer times it.
    public static func unit(exponent k: Int) -> Float { Float(sign: .plus, exponent: -k, significand: 1) }

    /// Whether v(0) = `ratio` x 2^k is a whole number of units, as the integer machine needs.
    public static func isWhole(ratio: Float, exponent k: Int) -> Bool {
        let v = Double(ratio) * Double(1 << k)
        return v == v.rounded()
    }

    /// A record of `layers` made with `options`.
    public init(options: QuantizationOptions, layers: [Layer]) {
        self.options = options
        self.layers = layers
    }

    /// Stores the record in `graph.metadata`.
    public func write(into graph: inout Graph) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        graph.metadata[Self.key] = String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The record of a quantized model, nil for a float one; throws `badMetadata` for an
    /// entry that does not parse.
    public init?(reading graph: Graph) throws {
        guard let text = graph.metadata[Self.key] else { return nil }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(text.utf8))
            try options.validate()
        } catch {
            throw ConversionError.badMetadata(file: graph.source, key: Self.key, value: String(text.prefix(80)),
                                              expected: "the JSON record of a quantized SNN (weight bits, granularity, state bits, layers)")
        }
    }

    /// Per IF node, the membrane's bounds per channel in the graph's float units (integer
    /// bound x 2^-k): what the simulator saturates at.
    public var membraneBounds: [String: (lower: [Float], upper: [Float])] {
        var bounds = [String: (lower: [Float], upper: [Float])]()
        let range = options.stateRange
        for layer in layers {
            let unit = layer.exponents.map { Self.unit(exponent: $0) }
            bounds[layer.neuron] = (unit.map { Float(range.lowerBound) * $0 }, unit.map { Float(range.upperBound) * $0 })
        }
        return bounds
    }
}

extension QuantizationRecord {
    /// One line: widths, granularity, integer layers and the threshold range.
    public var summary: String {
        let exponents = layers.flatMap(\.exponents)
        let thresholds = exponents.isEmpty ? "" : ", thresholds 2^\(exponents.min()!)...2^\(exponents.max()!)"
        return "\(options.weightBits)-bit weights, per-\(options.granularity.rawValue) scales, \(options.stateBits)-bit saturating state, " +
            "\(layers.count) integer neuron layers\(thresholds)"
    }

    /// Share of the integer layers' weights clipped to the largest integer.
    public var clippedShare: Double {
        Double(layers.map(\.clippedWeights).reduce(0, +)) / Double(max(1, layers.map(\.weights).reduce(0, +)))
    }
}
