/// What each operator becomes in a spiking network (see shared/method.md, section 3).
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
    /// Nodes with no neuron downstream: the analog readout tail that runs on time-averaged
    /// outputs, where non-linear operators such as Softmax are allowed.
    public func readoutTail() -> Set<Int> {
        let consumers = consumers()
        var feedsNeuron = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() {
            for out in nodes[i].outputs {
                for c in consumers[out] ?? [] where nodes[c].op.conversionRole == .neuron || feedsNeuron[c] {
                    feedsNeuron[i] = true
                }
            }
        }
        return Set(nodes.indices.filter { !feedsNeuron[$0] && nodes[$0].op.conversionRole != .neuron })
    }

    /// Nodes that stop the network from becoming an SNN: unsupported operators anywhere, and
    /// non-ReLU non-linearities before the last neuron.
    public func conversionBlockers() -> [(node: String, op: String, reason: String)] {
        let tail = readoutTail()
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
