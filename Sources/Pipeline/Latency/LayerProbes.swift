import SNNGraph
import SNNTensor

/// Every neuron layer's output averaged per channel, as extra graph outputs: simulated,
/// they give each channel's mean output over a window of steps; planned as an ANN, the
/// clip-ANN's mean activation of the same channel. Both from one graph, so they line up.
struct LayerProbes {
    /// The graph with the probes among its outputs.
    let graph: Graph
    /// Per probed neuron layer: its IF node's index and the probe output ([N, C] or [N, C, 1, 1]).
    let layers: [(node: Int, probe: String)]

    /// Probes on the neuron layers of `graph` whose outputs are [N, C] or [N, C, H, W]
    /// under `shapes` (a global average pool on maps; the value itself on vectors). With
    /// `only`, the graph computes nothing but that probe (the `only`-th probed layer), so a
    /// simulation of it stops at that layer.
    init(_ graph: Graph, shapes: [String: [Int]], only: Int? = nil) {
        var g = graph
        var layers = [(node: Int, probe: String)]()
        for (i, node) in graph.nodes.enumerated() {
            guard case .ifNeuron = node.op, let out = node.outputs.first, let rank = shapes[out]?.count else { continue }
            switch rank {
            case 2:
                layers.append((i, out))
            case 4:
                let probe = out + ".channel_mean"
                g.nodes.append(Node(name: node.name + ".channel_mean", op: .globalAveragePool, inputs: [out], outputs: [probe]))
                layers.append((i, probe))
            default:
                continue
            }
        }
        if let only {
            layers = [layers[only]]
            g.outputs = [ValueInfo(name: layers[0].probe, dimensions: nil)]
            g.removeUnusedNodes()
        } else {
            let declared = Set(g.outputs.map(\.name))
            g.outputs += layers.map(\.probe).filter { !declared.contains($0) }.map { ValueInfo(name: $0, dimensions: nil) }
        }
        self.graph = g
        self.layers = layers
    }

    /// Per probed layer, per channel: the sum over the batch of the probe's values.
    func channelSums(_ outputs: [String: Tensor]) -> [[Double]] {
        layers.map { layer in
            guard let t = outputs[layer.probe], t.rank >= 2 else { return [] }
            let (n, c) = (t.shape[0], t.shape[1])
            var sums = [Double](repeating: 0, count: c)
            for i in 0..<n { for k in 0..<c { sums[k] += Double(t.storage[i * c + k]) } }
            return sums
        }
    }
}
