import SNNGraph
import SNNTensor

/// A converted SNN with unit thresholds (`FoldThresholds`) turned into an integer SNN: every
/// neuron layer fed by spikes gets an integer threshold 2^k (per channel or per layer) and
/// the weights feeding it become integers of `weightBits` bits in units of 2^-k.
///
/// Why powers of two: the graph keeps each weight as the float integer x 2^-k and the
/// threshold at 1, so membrane, threshold and currents are the integer machine's values
/// times 2^-k, exactly (float32 holds integers up to 2^24; `stateBits` keeps membranes
/// below that). Every kernel of the float simulator then computes the integer machine
/// bit for bit, in any summation order, and a chip with integer thresholds (Speck) or with
/// power-of-two weight exponents (Loihi) runs the same numbers. The cost is at most one
/// bit of resolution against a free integer threshold, and it is halved by choosing, per
/// scale, the exponent of least squared rounding error among the two that bracket
/// `largestWeight / max|w|` (the lower leaves headroom, the upper clips the largest weights).
///
/// What stays float, as the simulator computes it today: the first neuron layer's input
/// current (an analog image times float weights) and the readout tail after the last
/// neuron layer. Biases become integers per step in the same units (32-bit); v(0) =
/// ratio x 2^k must be an integer, which sets the smallest exponent (1 for ratio 0.5).
public struct QuantizeWeights: GraphPass {
    /// The pass's name.
    public let name = "quantize-weights"
    /// Widths and scale granularity.
    public let options: QuantizationOptions

    /// A pass quantizing to `options`.
    public init(options: QuantizationOptions) {
        self.options = options
    }

    /// The integer SNN, with its `QuantizationRecord` in the metadata.
    public func apply(to graph: Graph) throws -> Graph {
        try options.validate()
        if graph.metadata[QuantizationRecord.key] != nil {
            throw ConversionError.badQuantization("\(graph.source.isEmpty ? "the model" : graph.source) is already quantized; " +
                                                  "quantize the float SNN it came from instead")
        }
        var q = Quantization(graph: graph, options: options)
        return try q.run()
    }
}

/// One quantization run over a unit-threshold graph (`QuantizeWeights`).
struct Quantization {
    let source: Graph
    let options: QuantizationOptions
    let producers: [String: Int]
    var graph: Graph
    var layers = [QuantizationRecord.Layer]()
    var claimed = [Int: String]()

    init(graph: Graph, options: QuantizationOptions) {
        source = graph
        self.graph = graph
        self.options = options
        producers = graph.producers()
    }

    /// What adds into a neuron layer's current.
    enum Contribution {
        /// A Conv, Gemm or MatMul node reading spikes.
        case weighted(Int)
        /// A Conv, Gemm or MatMul node reading analog values (the image).
        case analog(Int)
        /// A Mul of spikes by a constant: a residual connection's per-channel weight.
        case scaled(Int, constant: Int)
    }

    mutating func run() throws -> Graph {
        for (index, node) in source.nodes.enumerated() {
            guard case .ifNeuron(let ratio) = node.op else { continue }
            guard let theta = source.floatConstant(node.inputs[1]), theta.storage.allSatisfy({ $0 == 1 }) else {
                throw ConversionError.badQuantization("neuron '\(node.name)' has thresholds other than 1: fold the thresholds into the weights before quantizing")
            }
            let parts = try contributions(to: node.inputs[0], neuron: node.name)
            let analog = parts.filter { if case .analog = $0 { true } else { false } }
            if analog.count == parts.count { continue }
            guard analog.isEmpty else {
                throw ConversionError.badQuantization("neuron '\(node.name)' adds a current computed from the input image to one computed from spikes; such a layer has no integer form")
            }
            let calibrated = node.initialPotentialInput == nil ? nil : source.initialPotentialRatios(of: node)
            try quantizeLayer(index, ratio: ratio, calibrated: calibrated, parts: parts)
        }
        guard !layers.isEmpty else {
            throw ConversionError.badQuantization("no neuron layer of \(source.source.isEmpty ? "the model" : source.source) reads spikes, so nothing becomes integer")
        }
        QuantizationRecord(options: options, layers: layers).write(into: &graph)
        graph.removeUnusedConstants()
        return graph
    }

    func isConstant(_ name: String) -> Bool { source.constants[name] != nil }

    /// What a weighted layer reads.
    enum Origin: Equatable {
        /// Spikes of neuron layers, possibly pooled by max, flattened, reshaped, repeated by
        /// nearest-neighbour upsampling or concatenated: 0/1 events.
        case spikes
        /// Values computed from the graph input alone, before any neuron.
        case image
        /// Anything else (an average of spikes, spikes mixed with the image), named by the node that made it so.
        case other(String)
    }

    func origin(of value: String) -> Origin {
        guard let p = producers[value] else { return isConstant(value) ? .other(value) : .image }
        let node = source.nodes[p]
        let inputs = node.inputs.filter { !$0.isEmpty && !isConstant($0) }
        switch node.op {
        case .ifNeuron:
            return .spikes
        case .maxPool, .globalMaxPool, .flatten, .reshape, .identity, .dropout, .concat, .transpose, .squeeze, .unsqueeze:
            let origins = Set(inputs.map { "\(origin(of: $0))" })
            if origins.count == 1, let first = inputs.first { return origin(of: first) }
            return .other(node.name)
        case .resize(let o) where o.mode == .nearest:
            return inputs.first.map { origin(of: $0) == .spikes ? .spikes : .other(node.name) } ?? .other(node.name)
        case .upsample(let o) where o.mode == .nearest:
            return inputs.first.map { origin(of: $0) == .spikes ? .spikes : .other(node.name) } ?? .other(node.name)
        default:
            return inputs.allSatisfy({ origin(of: $0) == .image }) ? .image : .other(node.name)
        }
    }

    func carriesSpikes(_ value: String) -> Bool { origin(of: value) == .spikes }

    /// The nodes whose outputs sum into `value`, the current of neuron `neuron`.
    func contributions(to value: String, neuron: String) throws -> [Contribution] {
        guard let p = producers[value] else {
            throw ConversionError.badQuantization("the current of neuron '\(neuron)' is the graph input '\(value)'; it needs a weighted layer in between")
        }
        let node = source.nodes[p]
        switch node.op {
        case .conv, .convTranspose, .gemm, .matMul:
            switch origin(of: node.inputs[0]) {
            case .spikes: return [.weighted(p)]
            case .image: return [.analog(p)]
            case .other(let maker):
                throw ConversionError.badQuantization("node '\(node.name)' feeds neuron '\(neuron)' from '\(maker)', which is neither spikes nor the " +
                                                      "input image (an average of spikes, say); such a layer has no integer form")
            }
        case .binary(.add) where node.inputs.allSatisfy({ !isConstant($0) }):
            return try node.inputs.flatMap { try contributions(to: $0, neuron: neuron) }
        case .binary(.mul) where node.inputs.count == 2 && isConstant(node.inputs[1]) && carriesSpikes(node.inputs[0]):
            return [.scaled(p, constant: 1)]
        case .binary(.mul) where node.inputs.count == 2 && isConstant(node.inputs[0]) && carriesSpikes(node.inputs[1]):
            return [.scaled(p, constant: 0)]
        case .maxPool, .globalMaxPool, .identity, .dropout:
            return try contributions(to: node.inputs[0], neuron: neuron)
        default:
            throw ConversionError.badQuantization("node '\(node.name)' (\(node.op.onnxType)) computes part of the current of neuron '\(neuron)' " +
                                                  "and has no integer form (only Conv, ConvTranspose, Gemm, MatMul, Add, max pooling and a Mul of spikes by a constant do)")
        }
    }
}
