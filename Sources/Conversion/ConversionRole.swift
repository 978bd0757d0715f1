import SNNGraph

/// What each operator becomes in a spiking network (docs/method.md, "What each operator becomes").
public enum ConversionRole: String, Sendable, Codable {
    /// ReLU, or Clip(0, a): becomes an integrate-and-fire neuron layer.
    case neuron
    /// Acts on spike trains unchanged because it is linear (conv, add, pooling by average...).
    case linear
    /// Max pooling: moved before the neuron and applied to accumulated currents.
    case maxPool
    /// Non-linear and not a ReLU: allowed only after the last neuron, on averaged outputs.
    case analogOnly
    /// Folded away before simulation (BatchNorm) or evaluated at load time (shape arithmetic).
    case folded
    /// SNNKit has no implementation.
    case unsupported
}

extension Operator {
    /// What the operator becomes when the network is converted.
    public var conversionRole: ConversionRole {
        switch self {
        case .relu, .ifNeuron: return .neuron
        case .clip(let low, _): return (low ?? -1) == 0 ? .neuron : .analogOnly
        case .conv, .convTranspose, .gemm, .matMul, .concat, .flatten, .reshape, .transpose, .squeeze, .unsqueeze,
             .slice, .pad, .resize, .upsample, .identity, .dropout, .averagePool, .globalAveragePool, .gather:
            return .linear
        case .binary(let op): return op == .add || op == .sub ? .linear : .analogOnly
        case .maxPool, .globalMaxPool: return .maxPool
        case .batchNormalization, .shape, .cast, .constantOfShape: return .folded
        case .leakyRelu, .sigmoid, .softmax, .exp: return .analogOnly
        case .unsupported: return .unsupported
        }
    }
}

extension Graph {
    /// Nodes that stop the network from becoming an SNN: unsupported operators anywhere, and
    /// non-ReLU non-linearities before the last neuron.
    public func conversionBlockers() -> [(node: String, op: String, reason: String)] {
        let tail = readoutTail { $0.conversionRole == .neuron }
        var result = [(node: String, op: String, reason: String)]()
        for (i, node) in nodes.enumerated() {
            switch node.op.conversionRole {
            case .unsupported:
                result.append((node.name, node.op.onnxType, "operator not supported by SNNKit"))
            case .analogOnly where !tail.contains(i):
                result.append((node.name, node.op.onnxType, "non-linear, not a ReLU, and a spiking layer follows it: cannot become an IF neuron"))
            default:
                break
            }
        }
        return result
    }
}
