import SNNTensor

/// Folds an inference-mode BatchNormalization into the Conv, ConvTranspose or Gemm before it.
///
/// BN computes y = (x - mean) * s + beta with s = gamma / sqrt(var + eps), an affine map
/// per output channel, so it merges into the producer's weights (W' = W * s, per output
/// channel) and bias (b' = (b - mean) * s + beta). This is exact in real arithmetic; in
/// float32 the result differs from the unfolded graph by rounding only (relative 1e-6).
/// The conversion needs it because an IF neuron integrates the producer's output directly:
/// there is no separate BN layer in a spiking network.
public struct FoldBatchNormalization: GraphPass {
    /// The pass's name in messages.
    public let name = "fold-batchnorm"
    /// The pass; it has no settings.
    public init() {}

    /// The graph with every foldable BatchNormalization merged into its producer; the others are kept.
    public func apply(to graph: Graph) throws -> Graph {
        var g = graph
        let producers = graph.producers()
        let consumers = graph.consumers()
        let graphOutputs = Set(graph.outputs.map(\.name))
        var removed = Set<Int>()
        for (i, bn) in graph.nodes.enumerated() {
            guard case .batchNormalization(let epsilon) = bn.op, let x = bn.input(0), let p = producers[x],
                  consumers[x]?.count == 1, !graphOutputs.contains(x),
                  let gamma = graph.floatConstant(bn.inputs[1]), let beta = graph.floatConstant(bn.inputs[2]),
                  let mean = graph.floatConstant(bn.inputs[3]), let variance = graph.floatConstant(bn.inputs[4]) else { continue }
            let producer = g.nodes[p]
            let channels = gamma.count
            var scale = [Double](repeating: 0, count: channels), shift = scale
            for c in 0..<channels {
                scale[c] = Double(gamma.storage[c]) / (Double(variance.storage[c]) + Double(epsilon)).squareRoot()
                shift[c] = Double(beta.storage[c]) - Double(mean.storage[c]) * scale[c]
            }
            guard let folded = fold(producer, into: graph, scale: scale, shift: shift) else { continue }
            let weightName = producer.name + ".weight_bnfolded"
            let biasName = producer.name + ".bias_bnfolded"
            g.constants[weightName] = .float(folded.weight)
            g.constants[biasName] = .float(Tensor(shape: [channels], storage: folded.bias))
            var newProducer = producer
            newProducer.inputs = [producer.inputs[0], weightName, biasName]
            if case .gemm(var attributes) = producer.op {
                attributes.beta = 1
                newProducer.op = .gemm(attributes)
            }
            newProducer.outputs = [bn.outputs[0]]
            g.nodes[p] = newProducer
            removed.insert(i)
        }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        g.removeUnusedConstants()
        return g
    }

    /// New weights and bias for a producer whose output channels are scaled and shifted,
    /// or nil when the producer's form is not one this pass folds.
    private func fold(_ node: Node, into graph: Graph, scale: [Double], shift: [Double]) -> (weight: Tensor, bias: [Float])? {
        guard let wName = node.input(1), let w = graph.floatConstant(wName) else { return nil }
        let channels = scale.count
        var bias = [Double](repeating: 0, count: channels)
        var weight = w
        switch node.op {
        case .conv:
            guard w.rank >= 3, w.shape[0] == channels else { return nil }
            let inner = w.count / channels
            for c in 0..<channels { for j in 0..<inner { weight.storage[c * inner + j] = Float(Double(w.storage[c * inner + j]) * scale[c]) } }
        case .convTranspose(let a):
            // Weights [C_in, C_out / group, kH, kW]: output channel = group * (C_out/group) + axis-1 index.
            guard w.rank == 4 else { return nil }
            let perGroup = w.shape[1], kernel = w.shape[2] * w.shape[3]
            guard perGroup * a.group == channels else { return nil }
            let inPerGroup = w.shape[0] / a.group
            for ci in 0..<w.shape[0] {
                let group = ci / inPerGroup
                for co in 0..<perGroup {
                    let c = group * perGroup + co
                    for k in 0..<kernel {
                        let idx = (ci * perGroup + co) * kernel + k
                        weight.storage[idx] = Float(Double(w.storage[idx]) * scale[c])
                    }
                }
            }
        case .gemm(let a):
            guard w.rank == 2, !a.transA else { return nil }
            let (rows, cols) = (w.shape[0], w.shape[1])
            guard (a.transB ? rows : cols) == channels else { return nil }
            for r in 0..<rows {
                for c in 0..<cols {
                    let channel = a.transB ? r : c
                    weight.storage[r * cols + c] = Float(Double(w.storage[r * cols + c]) * scale[channel])
                }
            }
            if let cName = node.input(2) {
                guard let cTensor = graph.floatConstant(cName), cTensor.count == channels || cTensor.count == 1 else { return nil }
                for c in 0..<channels { bias[c] = Double(a.beta) * Double(cTensor.storage[cTensor.count == 1 ? 0 : c]) }
            }
        default:
            return nil
        }
        if case .gemm = node.op {} else if let bName = node.input(2) {
            guard let b = graph.floatConstant(bName), b.count == channels else { return nil }
            for c in 0..<channels { bias[c] = Double(b.storage[c]) }
        }
        return (weight, (0..<channels).map { Float(bias[$0] * scale[$0] + shift[$0]) })
    }
}
