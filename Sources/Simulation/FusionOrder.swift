import SNNGraph

extension Simulator {
    /// The dynamic nodes in an order that lets the costlier of two convolutions summed by a
    /// folded Add run fused with the neuron layer.
    ///
    /// A fused layer takes the Add's other current finished, so of the two convolutions only
    /// the one that runs second can fuse. In a residual block's downsampling unit the
    /// exporter's order puts the cheap 1x1 shortcut second, so the 3x3 convolution stored
    /// its rows and the shortcut fused. Moving the cheaper one before the costlier (when its
    /// inputs already exist there) fuses the 3x3 instead; the sum is the same float either
    /// way (a + b = b + a).
    static func fusionOrder(_ graph: Graph, dynamicNodes: [Int], foldedAdds: [String: String], convolutions: [String: SpikingConvolution],
                            shapes: [String: [Int]]) -> [Int] {
        let producers = graph.producers(), consumers = graph.consumers()
        /// Multiply-accumulates per sample of a convolution with spike kernels that only the Add reads.
        func cost(_ value: String, _ add: Int) -> Int? {
            guard let p = producers[value], convolutions[graph.nodes[p].name] != nil, consumers[value] == [add],
                  let w = graph.nodes[p].input(1).flatMap({ graph.floatConstant($0) }), let out = shapes[value], out.count == 4 else { return nil }
            return w.count * out[2] * out[3]
        }
        var order = dynamicNodes
        for (i, node) in graph.nodes.enumerated() where foldedAdds[node.name] != nil && node.inputs.count == 2 {
            guard let a = cost(node.inputs[0], i), let b = cost(node.inputs[1], i) else { continue }
            let (costly, cheap) = a >= b ? (producers[node.inputs[0]]!, producers[node.inputs[1]]!) : (producers[node.inputs[1]]!, producers[node.inputs[0]]!)
            guard let at = order.firstIndex(of: costly), let from = order.firstIndex(of: cheap), from > at else { continue }
            // Every value the cheap one reads must exist before the costly one runs.
            let before = Set(order[..<at].flatMap { graph.nodes[$0].outputs })
            let produced = Set(order.flatMap { graph.nodes[$0].outputs })
            guard graph.nodes[cheap].inputs.allSatisfy({ $0.isEmpty || !produced.contains($0) || before.contains($0) }) else { continue }
            order.remove(at: from)
            order.insert(cheap, at: at)
        }
        return order
    }
}
